#include "libs/domain/lots/dates.h"

#include <string>

#include "gtest/gtest.h"

namespace lotledger::lots {
namespace {

v1::Date D(int y, int m, int d) {
  v1::Date date;
  date.set_year(y);
  date.set_month(m);
  date.set_day(d);
  return date;
}

TEST(Dates, ValidOnlyForRealCalendarDays) {
  EXPECT_TRUE(IsValidDate(D(2028, 2, 29)));  // leap year
  EXPECT_FALSE(IsValidDate(D(2027, 2, 29)));
  EXPECT_FALSE(IsValidDate(D(2026, 4, 31)));
  EXPECT_FALSE(IsValidDate(D(2026, 13, 1)));
  EXPECT_FALSE(IsValidDate(D(0, 1, 1)));
  EXPECT_FALSE(IsValidDate(D(10000, 1, 1)));
  EXPECT_FALSE(IsValidDate(v1::Date()));  // unset
  EXPECT_TRUE(IsValidDate(D(9999, 12, 31)));
}

TEST(Dates, AddDaysCrossesMonthsYearsAndLeapDays) {
  EXPECT_EQ(FormatDate(AddDays(D(2026, 1, 10), 730)), "2028-01-10");
  EXPECT_EQ(FormatDate(AddDays(D(2028, 2, 28), 1)), "2028-02-29");
  EXPECT_EQ(FormatDate(AddDays(D(2026, 3, 1), 1095)), "2029-02-28");
  EXPECT_EQ(FormatDate(AddDays(D(2026, 1, 1), -1)), "2025-12-31");
  EXPECT_FALSE(IsValidDate(AddDays(D(9999, 12, 31), 1)));
}

TEST(Dates, Compare) {
  EXPECT_LT(CompareDates(D(2026, 1, 1), D(2026, 1, 2)), 0);
  EXPECT_EQ(CompareDates(D(2026, 1, 1), D(2026, 1, 1)), 0);
  EXPECT_GT(CompareDates(D(2027, 1, 1), D(2026, 12, 31)), 0);
}

TEST(Dates, ParseAcceptsOnlyYyyyMmDd) {
  absl::StatusOr<v1::Date> ok = ParseDate("2027-06-30");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(FormatDate(*ok), "2027-06-30");
  for (const char* bad : {"2027-6-30", "27-06-30", "2027/06/30", "2027-02-30",
                          "2027-06-30 ", "", "abcd-ef-gh", "2027-00-10"}) {
    const absl::Status status = ParseDate(bad).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    // The message names the text and what it is not.
    const std::string text = bad;
    const bool written_right = text == "2027-02-30" || text == "2027-00-10";
    EXPECT_EQ(status.message(),
              written_right
                  ? text + " is not a calendar date"
                  : "\"" + text + "\" is not a date written YYYY-MM-DD");
  }
}

TEST(Dates, FormatPadsToFourDigitYears) {
  EXPECT_EQ(FormatDate(D(796, 1, 2)), "0796-01-02");
}

}  // namespace
}  // namespace lotledger::lots
