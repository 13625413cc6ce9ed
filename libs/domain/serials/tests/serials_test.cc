#include "libs/domain/serials/serials.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lotledger::domain {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

SerialRanges Ranges(std::vector<std::pair<std::string, std::string>> rs) {
  SerialRanges out;
  for (auto& [first, last] : rs) {
    v1::SerialRange* r = out.Add();
    r->set_first(first);
    r->set_last(last);
  }
  return out;
}

TEST(SerialsTest, ExpandsRangesAndSinglesSorted) {
  auto serials =
      ExpandSerials(Ranges({{"SN0010", ""}, {"SN0001", "SN0003"}}), "serials");
  ASSERT_TRUE(serials.ok()) << serials.status();
  EXPECT_THAT(*serials, ElementsAre("SN0001", "SN0002", "SN0003", "SN0010"));
}

TEST(SerialsTest, RangeCarriesAcrossDigitsOfTheSameWidth) {
  auto serials = ExpandSerials(Ranges({{"A09", "A11"}}), "serials");
  ASSERT_TRUE(serials.ok()) << serials.status();
  EXPECT_THAT(*serials, ElementsAre("A09", "A10", "A11"));
  EXPECT_EQ(CountSerials(Ranges({{"A09", "A11"}, {"B", ""}})), 4);
}

TEST(SerialsTest, RefusesMalformedRangesNamingTheField) {
  auto differ = ExpandSerials(Ranges({{"A1", "B1"}}), "ship.lines[0].serials");
  EXPECT_EQ(differ.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(differ.status().message(),
              HasSubstr("ship.lines[0].serials[0].last: 'A1'..'B1' is not a "
                        "range; first and last must differ only in trailing "
                        "digits"));
  auto backwards = ExpandSerials(Ranges({{"SN09", "SN02"}}), "serials");
  EXPECT_THAT(backwards.status().message(),
              HasSubstr("serials[0].last: 'SN02' comes before first 'SN09'"));
  auto width = ExpandSerials(Ranges({{"SN9", "SN10"}}), "serials");
  EXPECT_THAT(width.status().message(), HasSubstr("differ in length"));
  auto charset = ExpandSerials(Ranges({{"SN 1", ""}}), "serials");
  EXPECT_THAT(charset.status().message(),
              HasSubstr("serials[0].first: character ' ' at position 3"));
  auto too_long = ExpandSerials(Ranges({{std::string(21, '7'), ""}}), "s");
  EXPECT_THAT(too_long.status().message(),
              HasSubstr("s[0].first: 21 characters, at most 20"));
  auto none = ExpandSerials(SerialRanges(), "receive.serials");
  EXPECT_THAT(none.status().message(),
              HasSubstr("receive.serials: at least one serial is required"));
}

TEST(SerialsTest, RefusesASerialNamedTwice) {
  auto twice = ExpandSerials(Ranges({{"SN01", "SN05"}, {"SN04", ""}}), "s");
  EXPECT_EQ(twice.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(twice.status().message(),
              HasSubstr("serial SN04 is named twice"));
}

TEST(SerialsTest, RefusesMoreThanTheLimitWithoutExpandingThem) {
  auto many = ExpandSerials(
      Ranges({{"00000000000000000000", "99999999999999999999"}}), "s", 1000);
  EXPECT_THAT(many.status().message(),
              HasSubstr("s: more than 1000 serials in one request"));
  auto just = ExpandSerials(Ranges({{"0001", "1000"}}), "s", 1000);
  ASSERT_TRUE(just.ok());
  EXPECT_EQ(just->size(), 1000u);
}

TEST(SerialsTest, CompressIsTheInverseOfExpand) {
  const std::vector<std::string> sorted = {"A08", "A09", "A10", "A12",
                                           "B",   "X98", "X99"};
  SerialRanges ranges = CompressSerials(sorted);
  EXPECT_EQ(FormatSerials(ranges), "A08..A10, A12, B, X98..X99");
  auto back = ExpandSerials(ranges, "s");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, sorted);
  EXPECT_EQ(CountSerials(ranges), 7);
  EXPECT_EQ(FormatSerials(ranges, 2), "A08..A10, A12 and 2 more");
}

TEST(SerialsTest, ParsesRangeText) {
  auto r = ParseSerialRangeText("SN0001..SN0100", "--serials");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->first(), "SN0001");
  EXPECT_EQ(r->last(), "SN0100");
  auto one = ParseSerialRangeText("4711", "--serials");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->first(), "4711");
  EXPECT_TRUE(one->last().empty());
  EXPECT_FALSE(ParseSerialRangeText("a..b..c", "--serials").ok());
  EXPECT_EQ(SerialKey("09506000134352", "4711"), "09506000134352 4711");
}

}  // namespace
}  // namespace lotledger::domain
