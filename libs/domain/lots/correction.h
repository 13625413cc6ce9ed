// The values of a lot correction, typed, in one place. A CorrectLot request
// and the LotCorrected it becomes carry a field name and its values as
// text ("expires_on" "2027-12-31", "quantity" "600", "site" "Cork"); every
// reader of a correction (the lots Decide and Evolve, the inventory and
// recall views) turns that text into a typed value here, so the rules for
// what a value may be are written once.
//
// Parsing never crashes: a value in the log that Decide would not have
// written (a bad producer, a hand-edited topic) is an InvalidArgument that
// names the lot, the field and what is wrong. The Evolve functions stay
// total: they skip a value that does not parse, leaving the view as it was,
// and keep the correction in the lot's history.
//
// Thread-safety: pure functions; safe to call from any thread.
#ifndef LOTLEDGER_LIBS_DOMAIN_LOTS_CORRECTION_H_
#define LOTLEDGER_LIBS_DOMAIN_LOTS_CORRECTION_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lotledger/v1/common.pb.h"
#include "lotledger/v1/events.pb.h"
#include "lotledger/v1/lots.pb.h"

namespace lotledger::lots {

// The LotCreated fields a correction may change, in the order refusals
// list them.
inline constexpr absl::string_view kCorrectableFields[] = {
    "expires_on",       "manufactured_on", "quantity",    "site",
    "production_order", "supplier",        "supplier_lot"};

bool IsCorrectable(absl::string_view field);

// One value of a correctable field. Which member holds it follows `field`:
// `date` for expires_on and manufactured_on, `amount` for quantity (in the
// lot's unit), `text` for the others.
struct CorrectionValue {
  std::string field;
  v1::Date date;
  int64_t amount = 0;
  std::string text;
};

// Parses `text` as a value of `field`: a date is exactly "YYYY-MM-DD" and a
// real day, a quantity a whole number (its sign is the caller's rule), any
// other correctable field any text. InvalidArgument without a field prefix
// (callers add theirs): "\"12.5\" is not a whole number", "\"31.12.2027\" is
// not a date written YYYY-MM-DD", "\"item\" cannot be corrected; one of
// expires_on, ...".
absl::StatusOr<CorrectionValue> ParseCorrectionValue(absl::string_view field,
                                                     absl::string_view text);

// The canonical text of a value, as a LotCorrected records it and
// CurrentText reads it ("2027-12-31", "600", "Cork").
std::string FormatCorrectionValue(const CorrectionValue& value);

// The canonical text of `field` of `lot` now ("" for a field that cannot
// be corrected).
std::string CurrentText(const v1::Lot& lot, absl::string_view field);

// Sets the value's field of `lot`. A corrected expiry becomes
// EXPIRY_SOURCE_GIVEN (a person entered it) and no longer names the
// component lot that set it.
void ApplyCorrectionValue(v1::Lot& lot, const CorrectionValue& value);

// The typed new and old values of a correction read from the log;
// InvalidArgument naming the event, e.g. "LotCorrected of lot C-100:L5:
// new_value of quantity: \"x\" is not a whole number".
absl::StatusOr<CorrectionValue> CorrectedNewValue(
    const v1::LotCorrected& corrected);
absl::StatusOr<CorrectionValue> CorrectedOldValue(
    const v1::LotCorrected& corrected);

// Folds a correction of a date into a view that keeps only the lot's
// dates (inventory, recall): sets *expires_on or *manufactured_on to the
// corrected value. A correction of another field, or a value that does not
// parse (never written by the lots Decide), changes nothing: the views'
// Evolve is total.
void ApplyCorrectedDate(const v1::LotCorrected& corrected, v1::Date* expires_on,
                        v1::Date* manufactured_on);

}  // namespace lotledger::lots

#endif  // LOTLEDGER_LIBS_DOMAIN_LOTS_CORRECTION_H_
