#include "libs/common/json_log.h"

#include <cstdio>

#include "absl/strings/str_cat.h"

namespace lotledger {

std::string JsonString(std::string_view value) {
  std::string out = "\"";
  for (const char c : value) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppend(
              &out, "\\u00",
              absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

std::string JsonLine(std::string_view level, std::string_view msg,
                     JsonFields fields) {
  std::string line = absl::StrCat("{\"level\":", JsonString(level),
                                  ",\"msg\":", JsonString(msg));
  for (const auto& [key, value] : fields) {
    absl::StrAppend(&line, ",", JsonString(key), ":", JsonString(value));
  }
  line += "}";
  return line;
}

void LogJson(std::string_view level, std::string_view msg, JsonFields fields) {
  const std::string line = JsonLine(level, msg, fields) + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace lotledger
