#include "libs/domain/serials/serials.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/domain/common/refusals.h"
#include "libs/gs1/element_string.h"

namespace lotledger::domain {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Where first and last start to differ (their length when equal).
size_t FirstDifference(absl::string_view a, absl::string_view b) {
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  return i;
}

// The numbers after the common prefix; both all digits and at most 18
// long (checked by the caller), so they fit an int64.
int64_t ToNumber(absl::string_view digits) {
  int64_t n = 0;
  for (char c : digits) n = n * 10 + (c - '0');
  return n;
}

std::string Padded(int64_t n, size_t width) {
  std::string s = absl::StrCat(n);
  if (s.size() < width) s.insert(0, width - s.size(), '0');
  return s;
}

// The serial after `s` in a range: its trailing digits plus one, same
// width; empty when `s` has no trailing digit or they are all 9.
std::string Next(absl::string_view s) {
  std::string next(s);
  size_t i = next.size();
  while (i > 0 && IsDigit(next[i - 1])) {
    --i;
    if (next[i] != '9') {
      ++next[i];
      return next;
    }
    next[i] = '0';
  }
  return "";
}

}  // namespace

absl::Status ValidateSerial(absl::string_view serial, absl::string_view field) {
  if (serial.empty()) return Invalid(field, ": required");
  if (serial.size() > kMaxSerialLength) {
    return Invalid(field, ": ", serial.size(), " characters, at most ",
                   kMaxSerialLength, " (GS1 AI 21)");
  }
  for (size_t i = 0; i < serial.size(); ++i) {
    if (!gs1::IsCset82(serial[i])) {
      return Invalid(field, ": character '", serial.substr(i, 1),
                     "' at position ", i + 1,
                     " is not allowed; a GS1 serial (AI 21) uses only "
                     "letters, digits and !\"%&'()*+,-./:;<=>?_");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> ExpandSerials(
    const SerialRanges& ranges, absl::string_view field, int64_t max_count,
    bool required) {
  if (ranges.empty()) {
    if (required) return Invalid(field, ": at least one serial is required");
    return std::vector<std::string>{};
  }
  std::vector<std::string> serials;
  int64_t total = 0;
  for (int i = 0; i < ranges.size(); ++i) {
    const v1::SerialRange& r = ranges[i];
    const std::string at = absl::StrCat(field, "[", i, "]");
    if (absl::Status s = ValidateSerial(r.first(), absl::StrCat(at, ".first"));
        !s.ok()) {
      return s;
    }
    if (r.last().empty() || r.last() == r.first()) {
      if (++total > max_count) {
        return Invalid(field, ": more than ", max_count,
                       " serials in one request");
      }
      serials.push_back(r.first());
      continue;
    }
    const std::string last_field = absl::StrCat(at, ".last");
    if (absl::Status s = ValidateSerial(r.last(), last_field); !s.ok()) {
      return s;
    }
    if (r.last().size() != r.first().size()) {
      return Invalid(last_field, ": '", r.last(), "' and first '", r.first(),
                     "' differ in length; a range counts up trailing digits "
                     "of one width");
    }
    const size_t split = FirstDifference(r.first(), r.last());
    const absl::string_view a = absl::string_view(r.first()).substr(split);
    const absl::string_view b = absl::string_view(r.last()).substr(split);
    if (!std::all_of(a.begin(), a.end(), IsDigit) ||
        !std::all_of(b.begin(), b.end(), IsDigit)) {
      return Invalid(last_field, ": '", r.first(), "'..'", r.last(),
                     "' is not a range; first and last must differ only in "
                     "trailing digits");
    }
    if (a > b) {
      return Invalid(last_field, ": '", r.last(), "' comes before first '",
                     r.first(), "'");
    }
    // More than 18 differing digits is at least 10^18 serials.
    const int64_t count =
        a.size() > 18 ? max_count + 1 : ToNumber(b) - ToNumber(a) + 1;
    if (count > max_count - total) {
      return Invalid(field, ": more than ", max_count,
                     " serials in one request");
    }
    total += count;
    const std::string prefix = r.first().substr(0, split);
    const int64_t from = ToNumber(a);
    for (int64_t n = 0; n < count; ++n) {
      serials.push_back(absl::StrCat(prefix, Padded(from + n, a.size())));
    }
  }
  std::sort(serials.begin(), serials.end());
  const auto twice = std::adjacent_find(serials.begin(), serials.end());
  if (twice != serials.end()) {
    return Invalid(field, ": serial ", *twice, " is named twice");
  }
  return serials;
}

std::vector<std::string> SerialsOf(const SerialRanges& ranges,
                                   int64_t max_count) {
  if (ranges.empty()) return {};
  absl::StatusOr<std::vector<std::string>> serials =
      ExpandSerials(ranges, "serials", max_count, /*required=*/false);
  return serials.ok() ? *std::move(serials) : std::vector<std::string>();
}

SerialRanges CompressSerials(const std::vector<std::string>& sorted) {
  SerialRanges out;
  size_t i = 0;
  while (i < sorted.size()) {
    size_t j = i;
    while (j + 1 < sorted.size() && Next(sorted[j]) == sorted[j + 1]) ++j;
    v1::SerialRange* r = out.Add();
    r->set_first(sorted[i]);
    if (j > i) r->set_last(sorted[j]);
    i = j + 1;
  }
  return out;
}

int64_t CountSerials(const SerialRanges& ranges) {
  int64_t total = 0;
  for (const v1::SerialRange& r : ranges) {
    if (r.last().empty() || r.last() == r.first()) {
      ++total;
      continue;
    }
    const size_t split = FirstDifference(r.first(), r.last());
    total += ToNumber(absl::string_view(r.last()).substr(split)) -
             ToNumber(absl::string_view(r.first()).substr(split)) + 1;
  }
  return total;
}

std::string FormatSerials(const SerialRanges& ranges, int max_ranges) {
  std::string out;
  for (int i = 0; i < ranges.size(); ++i) {
    if (i == max_ranges) {
      absl::StrAppend(&out, " and ", ranges.size() - i, " more");
      break;
    }
    if (i > 0) out += ", ";
    out += ranges[i].first();
    if (!ranges[i].last().empty() && ranges[i].last() != ranges[i].first()) {
      absl::StrAppend(&out, "..", ranges[i].last());
    }
  }
  return out;
}

absl::StatusOr<v1::SerialRange> ParseSerialRangeText(absl::string_view text,
                                                     absl::string_view field) {
  std::vector<std::string> parts = absl::StrSplit(text, "..");
  v1::SerialRange r;
  if (parts.size() > 2) {
    return Invalid(field, ": '", text,
                   "' is not a serial or a range FIRST..LAST");
  }
  r.set_first(parts[0]);
  if (parts.size() == 2) r.set_last(parts[1]);
  return r;
}

std::string SerialKey(absl::string_view item, absl::string_view serial) {
  return absl::StrCat(item, " ", serial);
}

}  // namespace lotledger::domain
