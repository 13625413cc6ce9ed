#include "libs/gs1/element_string.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "libs/common/check.h"
#include "libs/common/status_macros.h"
#include "libs/gs1/ai_table.h"

namespace lotledger::gs1 {
namespace {

// AIM identifiers of the symbologies that carry GS1 element strings.
constexpr std::array<std::string_view, 5> kGs1SymbologyIds = {
    "]C1", "]e0", "]d2", "]Q3", "]J1"};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool AllDigits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), IsDigit);
}

// Callers have checked that `s` is all digits and short.
int ToInt(std::string_view s) {
  int n = 0;
  for (char c : s) n = n * 10 + (c - '0');
  return n;
}

bool IsCset39(char c) {
  return c == '#' || c == '-' || c == '/' || IsDigit(c) ||
         (c >= 'A' && c <= 'Z');
}

bool IsCset64(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' ||
         c == '_';
}

std::string_view CharsetName(Charset charset) {
  switch (charset) {
    case Charset::kNumeric:
      return "digits";
    case Charset::kCset82:
      return "CSET 82";
    case Charset::kCset39:
      return "CSET 39";
    case Charset::kCset64:
      return "CSET 64";
  }
  return "?";
}

// 'A', or '\x1D' for what would not print.
std::string Quoted(char c) {
  if (absl::ascii_isprint(static_cast<unsigned char>(c))) {
    return std::string{'\'', c, '\''};
  }
  return absl::StrFormat("'\\x%02X'", static_cast<unsigned char>(c));
}

absl::Status AiError(std::string_view ai, absl::string_view rule) {
  return absl::InvalidArgumentError(absl::StrCat("AI (", Sv(ai), "): ", rule));
}

// `part` starts at `offset_in_value` within the data field; messages count
// characters from 1 ("character 3 of the value"), as people do.
absl::Status CheckCharset(Charset charset, std::string_view part,
                          size_t offset_in_value) {
  for (size_t i = 0; i < part.size(); ++i) {
    const char c = part[i];
    bool ok = false;
    switch (charset) {
      case Charset::kNumeric:
        ok = IsDigit(c);
        break;
      case Charset::kCset82:
        ok = IsCset82(c);
        break;
      case Charset::kCset39:
        ok = IsCset39(c);
        break;
      case Charset::kCset64:
        // '=' pads base64 at the end only.
        ok = IsCset64(c) ||
             (c == '=' && part.find_first_not_of('=', i) == part.npos);
        break;
    }
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat(Quoted(c), " (character ", offset_in_value + i + 1,
                       " of the value) is not in ", Sv(CharsetName(charset))));
    }
  }
  return absl::OkStatus();
}

bool IsLeapYear(int year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int DaysInMonth(int year, int month) {
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30,
                                                31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

// GS1 General Specifications 7.12: the year ending in `yy` within
// [reference_year - 49, reference_year + 50].
int ResolveCentury(int yy, int reference_year) {
  const int century = reference_year - reference_year % 100;
  const int diff = yy - reference_year % 100;
  if (diff >= 51) return century - 100 + yy;
  if (diff <= -50) return century + 100 + yy;
  return century + yy;
}

absl::Status CheckReferenceYear(const ParseOptions& options) {
  if (options.reference_year < 1900 || options.reference_year > 9949) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ParseOptions.reference_year is ", options.reference_year,
        ", expected the current year (1900-9949): the library reads no "
        "clock, so two-digit years need it"));
  }
  return absl::OkStatus();
}

// `digits` is 6 (YYMMDD) or 8 (YYYYMMDD) digits; `yymmd0` says whether the
// field's format admits DD=00 ("end of month"), which options may still
// refuse.
absl::StatusOr<Date> ToDate(std::string_view digits, bool yymmd0,
                            const ParseOptions& options) {
  CHECK(AllDigits(digits) && (digits.size() == 6 || digits.size() == 8));
  const size_t year_len = digits.size() - 4;
  Date date;
  date.year = ToInt(digits.substr(0, year_len));
  if (year_len == 2)
    date.year = ResolveCentury(date.year, options.reference_year);
  date.month = ToInt(digits.substr(year_len, 2));
  date.day = ToInt(digits.substr(year_len + 2, 2));
  if (date.month < 1 || date.month > 12) {
    return absl::InvalidArgumentError(
        absl::StrFormat("month %02d is not 01-12", date.month));
  }
  if (date.day == 0) {
    if (!yymmd0) {
      return absl::InvalidArgumentError("day 00 is not a valid day here");
    }
    if (!options.allow_day_zero) {
      return absl::InvalidArgumentError(
          "day 00 (end of month) is refused by "
          "ParseOptions.allow_day_zero=false");
    }
    date.day = DaysInMonth(date.year, date.month);
    return date;
  }
  if (date.day > DaysInMonth(date.year, date.month)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("day %02d does not exist in month %02d of %d", date.day,
                        date.month, date.year));
  }
  return date;
}

absl::Status CheckRange(std::string_view what, std::string_view digits,
                        int max) {
  if (ToInt(digits) > max) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s %s is not 00-%02d", Sv(what), Sv(digits), max));
  }
  return absl::OkStatus();
}

// Runs the content checks of one component; `part` already passed the
// charset check, so numeric components are all digits.
absl::Status RunChecks(CheckMask checks, std::string_view part,
                       const ParseOptions& options) {
  if (checks & kCheckDigit) {
    const int expected = CheckDigit(part.substr(0, part.size() - 1));
    const int actual = part.back() - '0';
    if (actual != expected) {
      return absl::InvalidArgumentError(
          absl::StrCat("check digit is ", actual, ", expected ", expected));
    }
  }
  if (checks & (kDateYymmd0 | kDateYymmdd | kDateYyyymmdd)) {
    RETURN_IF_ERROR(
        ToDate(part, (checks & kDateYymmd0) != 0, options).status());
  }
  if (checks & kHourMinute) {
    RETURN_IF_ERROR(CheckRange("hour", part.substr(0, 2), 23));
    RETURN_IF_ERROR(CheckRange("minute", part.substr(2, 2), 59));
  }
  if (checks & kHour) RETURN_IF_ERROR(CheckRange("hour", part, 23));
  if (checks & kMinute) RETURN_IF_ERROR(CheckRange("minute", part, 59));
  if (checks & kSecond) RETURN_IF_ERROR(CheckRange("second", part, 59));
  if ((checks & kNonZero) && part.find_first_not_of('0') == part.npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(Sv(part), " must not be zero"));
  }
  if ((checks & kZero) && part != "0") {
    return absl::InvalidArgumentError(absl::StrCat(Sv(part), " must be 0"));
  }
  if ((checks & kYesNo) && part != "0" && part != "1") {
    return absl::InvalidArgumentError(
        absl::StrCat(Sv(part), " is not 0 (no) or 1 (yes)"));
  }
  if ((checks & kHyphen) && part != "-") {
    return absl::InvalidArgumentError(
        absl::StrCat("'", Sv(part), "' must be '-'"));
  }
  if (checks & kPieceOfTotal) {
    const int piece = ToInt(part.substr(0, 2));
    const int total = ToInt(part.substr(2, 2));
    if (piece == 0 || total == 0 || piece > total) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "piece %02d of total %02d is not 01 <= piece <= total", piece,
          total));
    }
  }
  if ((checks & kNoZeroPrefix) && part.size() > 1 && part[0] == '0') {
    return absl::InvalidArgumentError(
        absl::StrCat(Sv(part), " must not start with 0"));
  }
  if ((checks & kHasNonDigit) && AllDigits(part)) {
    return absl::InvalidArgumentError(
        absl::StrCat(Sv(part), " must contain a non-digit"));
  }
  return absl::OkStatus();
}

// Checks `value` against the length, components and checks of `spec`.
absl::Status Validate(const AiSpec& spec, std::string_view value,
                      const ParseOptions& options) {
  const size_t size = value.size();
  if (size == 0) return AiError(spec.ai, "empty value");
  if (spec.min_length == spec.max_length && size != spec.max_length) {
    return AiError(
        spec.ai, absl::StrCat(size, " characters, expected ", spec.max_length));
  }
  if (size > spec.max_length) {
    return AiError(
        spec.ai, absl::StrCat(size, " characters, at most ", spec.max_length));
  }
  if (size < spec.min_length) {
    return AiError(
        spec.ai, absl::StrCat(size, " characters, at least ", spec.min_length));
  }
  size_t offset = 0;
  for (int i = 0; i < spec.num_components; ++i) {
    const Component& component = spec.components[i];
    const size_t remaining = size - offset;
    if (remaining == 0 && component.optional) break;
    size_t len = remaining;
    if (component.min_length == component.max_length) {
      if (remaining < component.max_length) {
        return AiError(spec.ai, absl::StrCat(size, " characters: part ", i + 1,
                                             " needs ", component.max_length,
                                             " more, has ", remaining));
      }
      len = component.max_length;
    }
    // Only the last component varies, and the total fits max_length, so a
    // variable component cannot overrun.
    CHECK(len <= component.max_length);
    const std::string_view part = value.substr(offset, len);
    absl::Status status = CheckCharset(component.charset, part, offset);
    if (status.ok()) status = RunChecks(component.checks, part, options);
    if (!status.ok()) return AiError(spec.ai, status.message());
    offset += len;
  }
  // size <= max_length, the sum of the component maxima, so nothing is left.
  CHECK_EQ(offset, size);
  return absl::OkStatus();
}

// Appends after checking that an AI repeated in one scan repeats its value:
// two different expiry dates on one item must not silently pick one.
absl::Status Append(const AiSpec& spec, std::string value,
                    std::vector<Element>& elements) {
  for (const Element& e : elements) {
    if (e.ai == spec.ai && e.value != value) {
      return AiError(spec.ai,
                     absl::StrCat("occurs twice with different values \"",
                                  e.value, "\" and \"", value, "\""));
    }
  }
  elements.push_back(
      Element{std::string(spec.ai), std::string(spec.title), std::move(value)});
  return absl::OkStatus();
}

// The position of the first character at or after `pos` that is not a GS.
size_t SkipSeparators(std::string_view scan, size_t pos) {
  while (pos < scan.size() && scan[pos] == kGroupSeparator) ++pos;
  return pos;
}

// Element strings as scanners send them; `scan` starts at `start` of the
// original input (for positions in messages).
absl::StatusOr<std::vector<Element>> ParseUnbracketed(
    std::string_view scan, size_t start, const ParseOptions& options) {
  std::vector<Element> elements;
  // Some readers transmit the leading FNC1 that marks GS1 data, some more
  // than one.
  size_t pos = SkipSeparators(scan, start);
  if (pos == scan.size()) {
    return absl::InvalidArgumentError("no element strings in the scan");
  }
  while (pos < scan.size()) {
    const AiSpec* spec = nullptr;
    for (size_t len = 2; len <= 4 && spec == nullptr; ++len) {
      const std::string_view candidate = scan.substr(pos, len);
      if (candidate.size() == len && AllDigits(candidate)) {
        spec = FindAi(candidate);
      }
    }
    if (spec == nullptr) {
      // Not a GS: runs of them are skipped before every AI.
      const char c = scan[pos];
      if (c == '(') {
        return absl::InvalidArgumentError(absl::StrCat(
            "'(' at position ", pos,
            " where an AI was expected: the bracketed form must start with "
            "'(' and cannot be mixed with unbracketed data"));
      }
      if (!IsDigit(c)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "expected an AI at position ", pos, ", found ", Quoted(c)));
      }
      return absl::InvalidArgumentError(
          absl::StrCat("unknown AI at position ", pos, ": data starts \"",
                       Sv(scan.substr(pos, 6)), "\""));
    }
    pos += spec->ai.size();
    std::string_view value;
    if (spec->predefined_length) {
      value = scan.substr(pos, spec->max_length);
      if (const size_t gs = value.find(kGroupSeparator); gs != value.npos) {
        return AiError(
            spec->ai,
            absl::StrCat("separator (GS) at position ", pos + gs,
                         " inside its ", spec->max_length, "-character field"));
      }
      if (value.size() < spec->max_length) {
        return AiError(
            spec->ai, absl::StrCat("data ends after ", value.size(),
                                   " characters, expected ", spec->max_length));
      }
      pos += value.size();
    } else {
      const size_t end = std::min(scan.find(kGroupSeparator, pos), scan.size());
      value = scan.substr(pos, end - pos);
      pos = end;
    }
    // The GS that ends a variable-length field and any more: readers send
    // runs of them, and some send one after a predefined-length field or at
    // the very end. All unambiguous.
    pos = SkipSeparators(scan, pos);
    RETURN_IF_ERROR(Validate(*spec, value, options));
    RETURN_IF_ERROR(Append(*spec, std::string(value), elements));
  }
  return elements;
}

// "(01)09506000134352(10)A\(1": `scan` starts with '('.
absl::StatusOr<std::vector<Element>> ParseBracketed(
    std::string_view scan, size_t start, const ParseOptions& options) {
  std::vector<Element> elements;
  size_t pos = start;
  while (pos < scan.size()) {
    CHECK_EQ(scan[pos], '(');  // The loop below stops only at '(' or end.
    const size_t close = scan.find(')', pos);
    if (close == scan.npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("'(' at position ", pos, " is not closed"));
    }
    const std::string_view ai = scan.substr(pos + 1, close - pos - 1);
    const AiSpec* spec = AllDigits(ai) ? FindAi(ai) : nullptr;
    if (spec == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown AI \"", Sv(ai), "\" at position ", pos + 1));
    }
    std::string value;
    pos = close + 1;
    for (; pos < scan.size() && scan[pos] != '('; ++pos) {
      if (scan[pos] == kGroupSeparator) {
        return AiError(ai, absl::StrCat("separator (GS) at position ", pos,
                                        ": the bracketed form has none"));
      }
      if (scan[pos] == '\\' && pos + 1 < scan.size() && scan[pos + 1] == '(') {
        ++pos;  // "\(" is a literal '(' in the data.
      }
      value.push_back(scan[pos]);
    }
    RETURN_IF_ERROR(Validate(*spec, value, options));
    RETURN_IF_ERROR(Append(*spec, std::move(value), elements));
  }
  return elements;
}

// The parts of `s` between `separator`s; none for an empty `s`. (Debian's
// absl::StrSplit does not take std::string_view.)
std::vector<std::string_view> Split(std::string_view s, char separator) {
  std::vector<std::string_view> parts;
  if (s.empty()) return parts;
  for (size_t begin = 0;;) {
    const size_t end = s.find(separator, begin);
    parts.push_back(s.substr(begin, end - begin));
    if (end == s.npos) return parts;
    begin = end + 1;
  }
}

// True if `ai` matches `pattern`, an AI whose digits may be 'n' (any digit).
bool MatchesPattern(std::string_view pattern, std::string_view ai) {
  if (pattern.size() != ai.size()) return false;
  for (size_t i = 0; i < ai.size(); ++i) {
    if (pattern[i] != ai[i] && !(pattern[i] == 'n' && IsDigit(ai[i]))) {
      return false;
    }
  }
  return true;
}

bool AnyMatches(std::string_view pattern,
                const std::vector<Element>& elements) {
  return std::any_of(elements.begin(), elements.end(), [&](const Element& e) {
    return MatchesPattern(pattern, e.ai);
  });
}

// "GTIN (01)" for an AI, "AI (31nn)" for a pattern (whose AIs' titles
// differ: NET WEIGHT, LENGTH, ...).
std::string Describe(std::string_view ai_or_pattern) {
  const AiSpec* spec = FindAi(ai_or_pattern);
  return absl::StrCat(spec != nullptr ? Sv(spec->title) : "AI", " (",
                      Sv(ai_or_pattern), ")");
}

// "GTIN (01) together with BATCH/LOT (10)" for "01+10".
std::string DescribeCombination(std::string_view combination) {
  const std::vector<std::string_view> members = Split(combination, '+');
  std::string out = Describe(members[0]);
  for (size_t i = 1; i < members.size(); ++i) {
    absl::StrAppend(&out,
                    i == 1                   ? " together with "
                    : i + 1 < members.size() ? ", "
                                             : " and ",
                    Describe(members[i]));
  }
  return out;
}

// "GTIN (01)", "GTIN (01) or ITIP (8006)", "one of A, B or C".
std::string DescribeClause(std::string_view clause) {
  const std::vector<std::string_view> alternatives = Split(clause, ',');
  std::string out = alternatives.size() > 2 ? "one of " : "";
  for (size_t i = 0; i < alternatives.size(); ++i) {
    if (i > 0) {
      absl::StrAppend(&out, i + 1 < alternatives.size() ? ", " : " or ");
    }
    absl::StrAppend(&out, DescribeCombination(alternatives[i]));
  }
  return out;
}

// True if every AI of some alternative of `clause` is present.
bool Holds(std::string_view clause, const std::vector<Element>& elements) {
  for (std::string_view alternative : Split(clause, ',')) {
    bool all = true;
    for (std::string_view member : Split(alternative, '+')) {
      all = all && AnyMatches(member, elements);
    }
    if (all) return true;
  }
  return false;
}

}  // namespace

absl::Status CheckAssociations(const std::vector<Element>& elements) {
  std::vector<const AiSpec*> specs;
  specs.reserve(elements.size());
  for (const Element& e : elements) {
    const AiSpec* spec = FindAi(e.ai);
    if (spec == nullptr) return AiError(e.ai, "not a known AI");
    specs.push_back(spec);
  }
  // A pair that must never meet is the more basic fault, and naming the
  // missing partner of one of them would send the operator the wrong way.
  for (const AiSpec* spec : specs) {
    for (std::string_view pattern : Split(spec->exclusions, ',')) {
      for (const Element& other : elements) {
        if (other.ai != spec->ai && MatchesPattern(pattern, other.ai)) {
          return AiError(
              spec->ai,
              absl::StrCat(Sv(spec->title), " cannot appear with ",
                           Describe(other.ai), " in the same element string"));
        }
      }
    }
  }
  for (const AiSpec* spec : specs) {
    for (std::string_view clause : spec->requisites) {
      if (!clause.empty() && !Holds(clause, elements)) {
        return AiError(spec->ai, absl::StrCat(Sv(spec->title), " needs ",
                                              DescribeClause(clause),
                                              " in the same element string"));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Element>> Parse(std::string_view scan,
                                           const ParseOptions& options) {
  RETURN_IF_ERROR(CheckReferenceYear(options));
  if (scan.empty()) return absl::InvalidArgumentError("empty scan");
  size_t start = 0;
  if (scan[0] == ']') {
    const std::string_view id = scan.substr(0, 3);
    if (std::find(kGs1SymbologyIds.begin(), kGs1SymbologyIds.end(), id) ==
        kGs1SymbologyIds.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "symbology identifier \"", Sv(id),
          "\" does not announce GS1 data (expected one of ",
          absl::StrJoin(
              kGs1SymbologyIds, ", ",
              [](std::string* out, std::string_view id) { out->append(id); }),
          ")"));
    }
    start = id.size();
  }
  std::vector<Element> elements;
  if (start < scan.size() && scan[start] == '(') {
    ASSIGN_OR_RETURN(elements, ParseBracketed(scan, start, options));
  } else {
    ASSIGN_OR_RETURN(elements, ParseUnbracketed(scan, start, options));
  }
  if (!options.fragment) RETURN_IF_ERROR(CheckAssociations(elements));
  return elements;
}

absl::StatusOr<Udi> ParseUdi(std::string_view scan,
                             const ParseOptions& options) {
  Udi udi;
  // The rules are checked below, once a missing (01) has been named as such.
  ParseOptions without_rules = options;
  without_rules.fragment = true;
  ASSIGN_OR_RETURN(udi.elements, Parse(scan, without_rules));
  // Parse() validated every date, so resolving one cannot fail.
  auto date = [&options](const Element& e) {
    absl::StatusOr<Date> date = ParseYymmdd(e.value, options);
    CHECK_OK(date);
    return *date;
  };
  for (const Element& e : udi.elements) {
    if (e.ai == "01") {
      udi.gtin = e.value;
    } else if (e.ai == "10") {
      udi.lot = e.value;
    } else if (e.ai == "21") {
      udi.serial = e.value;
    } else if (e.ai == "17") {
      udi.expiry = date(e);
    } else if (e.ai == "11") {
      udi.produced = date(e);
    }
  }
  if (udi.gtin.empty()) {
    return absl::InvalidArgumentError(
        "AI (01): missing; a UDI needs the GTIN as its device identifier");
  }
  if (!options.fragment) RETURN_IF_ERROR(CheckAssociations(udi.elements));
  return udi;
}

absl::StatusOr<Date> ParseYymmdd(std::string_view yymmdd,
                                 const ParseOptions& options) {
  RETURN_IF_ERROR(CheckReferenceYear(options));
  if (yymmdd.size() != 6 || !AllDigits(yymmdd)) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", Sv(yymmdd), "\" is not a YYMMDD date"));
  }
  return ToDate(yymmdd, /*yymmd0=*/true, options);
}

int CheckDigit(std::string_view digits_without_check) {
  CHECK(!digits_without_check.empty() && AllDigits(digits_without_check));
  // Weights 3, 1, 3, ... from the rightmost digit.
  int sum = 0;
  int weight = 3;
  for (auto it = digits_without_check.rbegin();
       it != digits_without_check.rend(); ++it) {
    sum += (*it - '0') * weight;
    weight = 4 - weight;
  }
  return (10 - sum % 10) % 10;
}

bool IsValidGtin14(std::string_view gtin) {
  return gtin.size() == 14 && AllDigits(gtin) &&
         CheckDigit(gtin.substr(0, 13)) == gtin[13] - '0';
}

std::string ToBracketed(const std::vector<Element>& elements) {
  std::string out;
  for (const Element& e : elements) {
    absl::StrAppend(&out, "(", e.ai, ")");
    for (char c : e.value) {
      if (c == '(') out.push_back('\\');
      out.push_back(c);
    }
  }
  return out;
}

std::string ToElementString(const std::vector<Element>& elements) {
  std::string out;
  for (size_t i = 0; i < elements.size(); ++i) {
    const Element& e = elements[i];
    absl::StrAppend(&out, e.ai, e.value);
    const AiSpec* spec = FindAi(e.ai);
    const bool predefined = spec != nullptr && spec->predefined_length;
    if (!predefined && i + 1 < elements.size()) out.push_back(kGroupSeparator);
  }
  return out;
}

bool IsCset82(char c) {
  // '!', '"', then '%' through '?' (% & ' ( ) * + , - . / 0-9 : ; < = > ?),
  // A-Z, '_', a-z: GS1 General Specifications figure 7.11-1.
  return c == '!' || c == '"' || (c >= '%' && c <= '?') ||
         (c >= 'A' && c <= 'Z') || c == '_' || (c >= 'a' && c <= 'z');
}

}  // namespace lotledger::gs1
