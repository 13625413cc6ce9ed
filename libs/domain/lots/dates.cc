#include "libs/domain/lots/dates.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace lotledger::lots {

bool IsValidDate(const v1::Date& date) {
  if (date.year() < 1 || date.year() > 9999) return false;
  if (date.month() < 1 || date.month() > 12) return false;
  if (date.day() < 1 || date.day() > 31) return false;
  // CivilDay normalizes out-of-range days (Feb 30 -> Mar 2): a date is real
  // exactly when normalization leaves it unchanged.
  const absl::CivilDay day(date.year(), date.month(), date.day());
  return day.month() == date.month() && day.day() == date.day();
}

int CompareDates(const v1::Date& a, const v1::Date& b) {
  const absl::CivilDay da = ToCivilDay(a);
  const absl::CivilDay db = ToCivilDay(b);
  return da < db ? -1 : (da > db ? 1 : 0);
}

absl::CivilDay ToCivilDay(const v1::Date& date) {
  return absl::CivilDay(date.year(), date.month(), date.day());
}

v1::Date FromCivilDay(absl::CivilDay day) {
  v1::Date out;
  // civil_year_t is 64-bit; clamp so an absurd result stays invalid rather
  // than wrapping into a plausible year.
  const absl::civil_year_t year = day.year();
  out.set_year(
      year > 99999 ? 99999 : (year < -99999 ? -99999 : static_cast<int>(year)));
  out.set_month(day.month());
  out.set_day(day.day());
  return out;
}

v1::Date AddDays(const v1::Date& date, int64_t days) {
  return FromCivilDay(ToCivilDay(date) + days);
}

std::string FormatDate(const v1::Date& date) {
  return absl::StrFormat("%04d-%02d-%02d", date.year(), date.month(),
                         date.day());
}

absl::StatusOr<v1::Date> ParseDate(absl::string_view text) {
  auto digits = [&](size_t from, size_t n, int& out) {
    out = 0;
    for (size_t i = from; i < from + n; ++i) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) {
        return false;
      }
      out = out * 10 + (text[i] - '0');
    }
    return true;
  };
  int y = 0, m = 0, d = 0;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-' ||
      !digits(0, 4, y) || !digits(5, 2, m) || !digits(8, 2, d)) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\" is not a date written YYYY-MM-DD"));
  }
  v1::Date date;
  date.set_year(y);
  date.set_month(m);
  date.set_day(d);
  if (!IsValidDate(date)) {
    return absl::InvalidArgumentError(
        absl::StrCat(text, " is not a calendar date"));
  }
  return date;
}

}  // namespace lotledger::lots
