#include "libs/gs1/format.h"

#include <algorithm>
#include <cstddef>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace lotledger::gs1 {
namespace {

// Display width of UTF-8 text: continuation bytes (10xxxxxx) add nothing.
size_t Width(std::string_view s) {
  return std::count_if(s.begin(), s.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  });
}

void AppendPadded(std::string& out, std::string_view s, size_t width) {
  out.append(s);
  out.append(width - Width(s) + 2, ' ');  // Two spaces between columns.
}

void AppendJsonString(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char c : s) {
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == '\x7F') {
          absl::StrAppendFormat(&out, "\\u%04x", static_cast<unsigned char>(c));
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

}  // namespace

std::string FormatText(const std::vector<Element>& elements) {
  constexpr std::string_view kAi = "AI", kTitle = "TITLE", kValue = "VALUE";
  size_t ai_width = Width(kAi);
  size_t title_width = Width(kTitle);
  for (const Element& e : elements) {
    ai_width = std::max(ai_width, Width(e.ai) + 2);  // With parentheses.
    title_width = std::max(title_width, Width(e.title));
  }
  std::string out;
  AppendPadded(out, kAi, ai_width);
  AppendPadded(out, kTitle, title_width);
  out.append(kValue).append("\n");
  for (const Element& e : elements) {
    AppendPadded(out, absl::StrCat("(", e.ai, ")"), ai_width);
    AppendPadded(out, e.title, title_width);
    absl::StrAppend(&out, e.value, "\n");
  }
  return out;
}

std::string FormatJson(const std::vector<Element>& elements) {
  std::string out = "[";
  for (size_t i = 0; i < elements.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.append("{\"ai\":");
    AppendJsonString(out, elements[i].ai);
    out.append(",\"title\":");
    AppendJsonString(out, elements[i].title);
    out.append(",\"value\":");
    AppendJsonString(out, elements[i].value);
    out.push_back('}');
  }
  out.push_back(']');
  return out;
}

}  // namespace lotledger::gs1
