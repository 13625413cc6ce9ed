#include "tools/lotctl/values.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "libs/common/status_macros.h"
#include "libs/domain/lots/dates.h"

namespace lotledger::lotctl {
namespace {

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(),
                                   [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

absl::StatusOr<v1::Date> ParseDateText(std::string_view text) {
  absl::StatusOr<v1::Date> date = lots::ParseDate(Sv(text));
  if (!date.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", Sv(text), "\" is not a valid date (YYYY-MM-DD)"));
  }
  return date;
}

std::string DateText(const v1::Date& date) {
  if (date.year() == 0 && date.month() == 0 && date.day() == 0) return "-";
  return absl::StrFormat("%04d-%02d-%02d", date.year(), date.month(),
                         date.day());
}

std::string QuantityText(const v1::Quantity& q) {
  return q.uom().empty() ? absl::StrCat(q.amount())
                         : absl::StrCat(q.amount(), " ", q.uom());
}

absl::StatusOr<v1::ItemKind> ParseKind(std::string_view text) {
  const std::string k = absl::AsciiStrToLower(Sv(text));
  if (k == "finished" || k == "finished-device" || k == "finished_device") {
    return v1::ITEM_KIND_FINISHED_DEVICE;
  }
  if (k == "component") return v1::ITEM_KIND_COMPONENT;
  if (k == "raw" || k == "raw-material" || k == "raw_material") {
    return v1::ITEM_KIND_RAW_MATERIAL;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "\"", Sv(text), "\" is not a kind (finished, component or raw)"));
}

std::string KindText(v1::ItemKind kind) {
  switch (kind) {
    case v1::ITEM_KIND_FINISHED_DEVICE:
      return "finished device";
    case v1::ITEM_KIND_COMPONENT:
      return "component";
    case v1::ITEM_KIND_RAW_MATERIAL:
      return "raw material";
    default:
      return "unspecified";
  }
}

absl::StatusOr<bool> ParseBool(std::string_view text) {
  const std::string b = absl::AsciiStrToLower(Sv(text));
  if (b.empty() || b == "false" || b == "no" || b == "0") return false;
  if (b == "true" || b == "yes" || b == "1") return true;
  return absl::InvalidArgumentError(
      absl::StrCat("\"", Sv(text), "\" is not true or false"));
}

absl::StatusOr<v1::LotInput> ParseLotInput(std::string_view text) {
  const auto bad = [&] {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", Sv(text), "\" is not LOT_ID:QTY[:UOM] (e.g. RM-100:L7:40:G)"));
  };
  std::vector<std::string> parts = absl::StrSplit(Sv(text), ':');
  std::string uom;
  if (parts.size() >= 2 && !AllDigits(parts.back())) {
    uom = parts.back();
    parts.pop_back();
  }
  // What is left: item, lot number (itself possibly holding colons), qty.
  if (parts.size() < 3 || !AllDigits(parts.back())) return bad();
  int64_t amount = 0;
  if (!absl::SimpleAtoi(parts.back(), &amount) || amount <= 0) return bad();
  parts.pop_back();
  if (parts.front().empty() || parts.back().empty()) return bad();
  v1::LotInput input;
  input.set_lot_id(absl::StrJoin(parts, ":"));
  input.mutable_quantity()->set_amount(amount);
  input.mutable_quantity()->set_uom(uom);
  return input;
}

absl::StatusOr<std::vector<int32_t>> ParseDayList(std::string_view text) {
  std::vector<int32_t> days;
  for (absl::string_view part :
       absl::StrSplit(Sv(text), absl::ByAnyChar(",; "), absl::SkipEmpty())) {
    int32_t d = 0;
    if (!AllDigits(std::string_view(part.data(), part.size())) ||
        !absl::SimpleAtoi(part, &d) || d <= 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "\"", Sv(text), "\" is not a list of day counts (e.g. 180,90,30)"));
    }
    days.push_back(d);
  }
  return days;
}

absl::StatusOr<absl::Time> ParseAtFlag(std::string_view text) {
  absl::Time at;
  std::string parse_error;
  if (!absl::ParseTime(absl::RFC3339_full, Sv(text), &at, &parse_error)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--at: \"", Sv(text),
                     "\" is not an RFC 3339 time (2026-03-02T10:00:00Z)"));
  }
  return at;
}

absl::StatusOr<bool> ParseRecordAxisFlag(std::string_view text) {
  if (text == "business") return false;
  if (text == "record") return true;
  return absl::InvalidArgumentError(
      absl::StrCat("--axis: \"", Sv(text), "\" is not business or record"));
}

}  // namespace lotledger::lotctl
