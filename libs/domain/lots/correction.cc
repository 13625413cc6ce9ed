#include "libs/domain/lots/correction.h"

#include <algorithm>
#include <iterator>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/domain/lots/dates.h"

namespace lotledger::lots {
namespace {

bool IsDateField(absl::string_view field) {
  return field == "expires_on" || field == "manufactured_on";
}

absl::StatusOr<CorrectionValue> FromLog(const v1::LotCorrected& corrected,
                                        absl::string_view which,
                                        const std::string& text) {
  absl::StatusOr<CorrectionValue> value =
      ParseCorrectionValue(corrected.field(), text);
  if (!value.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "LotCorrected of lot ", corrected.lot_id(), ": ", which, " of ",
        corrected.field(), ": ", value.status().message()));
  }
  return value;
}

}  // namespace

bool IsCorrectable(absl::string_view field) {
  return std::find(std::begin(kCorrectableFields), std::end(kCorrectableFields),
                   field) != std::end(kCorrectableFields);
}

absl::StatusOr<CorrectionValue> ParseCorrectionValue(absl::string_view field,
                                                     absl::string_view text) {
  if (!IsCorrectable(field)) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", field, "\" cannot be corrected; one of ",
                     absl::StrJoin(kCorrectableFields, ", ")));
  }
  CorrectionValue value;
  value.field = std::string(field);
  if (IsDateField(field)) {
    absl::StatusOr<v1::Date> date = ParseDate(text);
    if (!date.ok()) return date.status();
    value.date = *date;
  } else if (field == "quantity") {
    if (!absl::SimpleAtoi(text, &value.amount)) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", text, "\" is not a whole number"));
    }
  } else {
    value.text = std::string(text);
  }
  return value;
}

std::string FormatCorrectionValue(const CorrectionValue& value) {
  if (IsDateField(value.field)) return FormatDate(value.date);
  if (value.field == "quantity") return absl::StrCat(value.amount);
  return value.text;
}

std::string CurrentText(const v1::Lot& lot, absl::string_view field) {
  if (field == "expires_on") return FormatDate(lot.expires_on());
  if (field == "manufactured_on") return FormatDate(lot.manufactured_on());
  if (field == "quantity") return absl::StrCat(lot.quantity().amount());
  if (field == "site") return lot.site();
  if (field == "production_order") return lot.production_order();
  if (field == "supplier") return lot.supplier();
  if (field == "supplier_lot") return lot.supplier_lot();
  return "";
}

void ApplyCorrectionValue(v1::Lot& lot, const CorrectionValue& value) {
  const std::string& field = value.field;
  if (field == "expires_on") {
    *lot.mutable_expires_on() = value.date;
    lot.set_expiry_source(v1::EXPIRY_SOURCE_GIVEN);
    lot.clear_expiry_set_by_lot_id();
  } else if (field == "manufactured_on") {
    *lot.mutable_manufactured_on() = value.date;
  } else if (field == "quantity") {
    lot.mutable_quantity()->set_amount(value.amount);
  } else if (field == "site") {
    lot.set_site(value.text);
  } else if (field == "production_order") {
    lot.set_production_order(value.text);
  } else if (field == "supplier") {
    lot.set_supplier(value.text);
  } else if (field == "supplier_lot") {
    lot.set_supplier_lot(value.text);
  }
}

absl::StatusOr<CorrectionValue> CorrectedNewValue(
    const v1::LotCorrected& corrected) {
  return FromLog(corrected, "new_value", corrected.new_value());
}

absl::StatusOr<CorrectionValue> CorrectedOldValue(
    const v1::LotCorrected& corrected) {
  return FromLog(corrected, "old_value", corrected.old_value());
}

void ApplyCorrectedDate(const v1::LotCorrected& corrected, v1::Date* expires_on,
                        v1::Date* manufactured_on) {
  if (!IsDateField(corrected.field())) return;
  absl::StatusOr<CorrectionValue> value = CorrectedNewValue(corrected);
  if (!value.ok()) return;
  *(corrected.field() == "expires_on" ? expires_on : manufactured_on) =
      value->date;
}

}  // namespace lotledger::lots
