// Parsing and printing of the values people type into lotctl flags and
// import files, and read back from its output: dates, quantities, item
// kinds, lot inputs. Shared by the commands and `lotctl import` so a value
// means the same on the command line and in a CSV file.
//
// Errors are InvalidArgument with a message that quotes the text and names
// the expected form but no field: callers prefix the flag or column.
//
// Thread-safety: pure functions; safe to call concurrently.
#ifndef LOTLEDGER_TOOLS_LOTCTL_VALUES_H_
#define LOTLEDGER_TOOLS_LOTCTL_VALUES_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lotledger/v1/common.pb.h"
#include "lotledger/v1/events.pb.h"

namespace lotledger::lotctl {

// Exactly "YYYY-MM-DD", a real calendar day.
absl::StatusOr<v1::Date> ParseDateText(std::string_view text);
// "YYYY-MM-DD"; "-" for an unset date (all zero).
std::string DateText(const v1::Date& date);

// "500 EA".
std::string QuantityText(const v1::Quantity& q);

// finished | component | raw (also the long forms finished-device and
// raw-material, any case).
absl::StatusOr<v1::ItemKind> ParseKind(std::string_view text);
// "finished device", "component", "raw material".
std::string KindText(v1::ItemKind kind);

// true/false, yes/no, 1/0, any case; empty is false (an unset CSV cell).
absl::StatusOr<bool> ParseBool(std::string_view text);

// "LOT_ID:QTY" or "LOT_ID:QTY:UOM". A lot id is "<item>:<lot number>" and
// so holds a colon itself: the quantity is found from the right (the last
// all-digit part, optionally followed by a unit). Without a unit the
// returned quantity's uom is empty, to be filled from the input lot.
absl::StatusOr<v1::LotInput> ParseLotInput(std::string_view text);

// "180,90,30" (commas, semicolons or spaces): positive day counts.
absl::StatusOr<std::vector<int32_t>> ParseDayList(std::string_view text);

// The --at and --axis flags of as-of queries: an RFC 3339 time
// ("2026-03-02T10:00:00Z"), and "business" or "record" (true for record).
// Errors name the flag.
absl::StatusOr<absl::Time> ParseAtFlag(std::string_view text);
absl::StatusOr<bool> ParseRecordAxisFlag(std::string_view text);

}  // namespace lotledger::lotctl

#endif  // LOTLEDGER_TOOLS_LOTCTL_VALUES_H_
