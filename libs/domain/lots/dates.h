// Calendar arithmetic on v1::Date, the label date of manufacture and expiry
// (no time zone). Backed by absl::CivilDay so month lengths and leap years
// are never hand-written.
//
// Thread-safety: pure functions; safe to call from any thread.
#ifndef LOTLEDGER_LIBS_DOMAIN_LOTS_DATES_H_
#define LOTLEDGER_LIBS_DOMAIN_LOTS_DATES_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "lotledger/v1/common.pb.h"

namespace lotledger::lots {

// True for a real calendar day with year 1..9999 (the range "YYYY-MM-DD"
// can write).
bool IsValidDate(const v1::Date& date);

// <0, 0, >0 as `a` is before, on, after `b`. Both must be valid.
int CompareDates(const v1::Date& a, const v1::Date& b);

// Conversions; ToCivilDay requires a valid date.
absl::CivilDay ToCivilDay(const v1::Date& date);
v1::Date FromCivilDay(absl::CivilDay day);

// `date` plus `days` (may be negative). The result can fall outside
// 1..9999: check it with IsValidDate before storing it.
v1::Date AddDays(const v1::Date& date, int64_t days);

// "YYYY-MM-DD" (ISO 8601 calendar date), as people and auditors read it.
std::string FormatDate(const v1::Date& date);

// Parses exactly "YYYY-MM-DD" (ten characters, a real day); anything else
// is InvalidArgument saying what is wrong, without a field name (callers
// add it).
absl::StatusOr<v1::Date> ParseDate(absl::string_view text);

}  // namespace lotledger::lots

#endif  // LOTLEDGER_LIBS_DOMAIN_LOTS_DATES_H_
