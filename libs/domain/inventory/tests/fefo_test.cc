// FEFO allocation tables: given the fixtures' world (today 2026-04-01),
// when AllocateFefo with a request, then these picks and this shortfall.
//
// Shippable catheter stock, in FEFO order: B01 (2026-06-30) 100 at
// FRA-WH1; A18 (2026-09-30) 30 at FRA-WH1-B07; A17 (2027-03-31) 100 at
// FRA-WH1-B07 and 50 at NJ-WH1; A19 (2027-03-31, after A17 by lot number)
// 40 at FRA-WH1. Never picked: X01/T01 expired, C01 below the product's
// 60 days, H01 held, R01 rejected, U01 unreleased, Q01 in quarantine.
#include "libs/domain/inventory/fefo.h"

#include <algorithm>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "libs/domain/inventory/tests/fixtures.h"
#include "libs/domain/lots/dates.h"

namespace lotledger::inventory {
namespace {

using testing::Fold;
using testing::Parse;

const v1::Date kApril1 = Parse<v1::Date>("year: 2026 month: 4 day: 1");

struct Pick {
  std::string lot_number;
  std::string location_id;
  int64_t amount;
};

struct FefoCase {
  std::string name;
  std::string request;  // AllocateFefoRequest
  std::vector<Pick> then;
  int64_t shortfall = 0;
  std::vector<std::string> skipped_lot_numbers = {};  // in order, if given
  std::string required_by = "";
};

void PrintTo(const FefoCase& c, std::ostream* os) { *os << c.name; }

class Fefo : public ::testing::TestWithParam<FefoCase> {};

TEST_P(Fefo, GivenWhenThen) {
  const FefoCase& c = GetParam();
  const auto got =
      AllocateFefo(Fold(testing::World()),
                   Parse<v1::AllocateFefoRequest>(c.request), kApril1);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->lines_size(), static_cast<int>(c.then.size()))
      << got->DebugString();
  int64_t total = 0;
  for (size_t i = 0; i < c.then.size(); ++i) {
    const v1::ShipmentLine& line = got->lines(i);
    EXPECT_EQ(line.lot_id(), testing::LotId(c.then[i].lot_number)) << i;
    EXPECT_EQ(line.location_id(), c.then[i].location_id) << i;
    EXPECT_EQ(line.quantity().amount(), c.then[i].amount) << i;
    EXPECT_EQ(line.quantity().uom(), "EA");
    total += c.then[i].amount;
  }
  EXPECT_EQ(got->allocated().amount(), total);
  EXPECT_EQ(got->shortfall().amount(), c.shortfall);
  EXPECT_EQ(got->requested().amount(), total + c.shortfall);
  EXPECT_EQ(got->expires_on_size(), got->lines_size());
  EXPECT_EQ(got->days_left_size(), got->lines_size());
  if (!c.skipped_lot_numbers.empty()) {
    std::vector<std::string> skipped;
    for (const v1::FefoSkip& s : got->skipped()) skipped.push_back(s.lot_id());
    std::vector<std::string> want;
    for (const std::string& n : c.skipped_lot_numbers) {
      want.push_back(testing::LotId(n));
    }
    EXPECT_EQ(skipped, want) << got->DebugString();
  }
  if (!c.required_by.empty()) {
    EXPECT_EQ(got->required_by(), c.required_by);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Tables, Fefo,
    ::testing::Values(
        FefoCase{"EarliestExpiryFirstAcrossLots",
                 R"pb(item: "09506000134352"
                      quantity { amount: 200 })pb",
                 {{"B01", "FRA-WH1", 100},
                  {"A18", "FRA-WH1-B07", 30},
                  {"A17", "FRA-WH1-B07", 70}},
                 0,
                 {},
                 "product 09506000134352"},
        FefoCase{"SameExpiryTiesByLotNumberWithinScope",
                 R"pb(item: "09506000134352"
                      quantity { amount: 250 }
                      from_location_id: "EU")pb",
                 {{"B01", "FRA-WH1", 100},
                  {"A18", "FRA-WH1-B07", 30},
                  {"A17", "FRA-WH1-B07", 100},
                  {"A19", "FRA-WH1", 20}}},
        FefoCase{"WithinALotByLocation",
                 R"pb(item: "09506000134352"
                      quantity { amount: 260 }
                      from_location_id: "ACME")pb",
                 {{"B01", "FRA-WH1", 100},
                  {"A18", "FRA-WH1-B07", 30},
                  {"A17", "FRA-WH1-B07", 100},
                  {"A17", "NJ-WH1", 30}}},
        FefoCase{"ShortfallWhenNotEnoughShippable",
                 R"pb(item: "09506000134352"
                      quantity { amount: 1000 }
                      from_location_id: "EU")pb",
                 {{"B01", "FRA-WH1", 100},
                  {"A18", "FRA-WH1-B07", 30},
                  {"A17", "FRA-WH1-B07", 100},
                  {"A19", "FRA-WH1", 40}},
                 730,
                 // Every kept-out lot, in FEFO order, with its reason.
                 {"X01", "T01", "C01", "H01", "Q01", "R01", "U01"}},
        FefoCase{"OnlyUnderTheRequestedLocation",
                 R"pb(item: "09506000134352"
                      quantity { amount: 80 }
                      from_location_id: "US")pb",
                 {{"A17", "NJ-WH1", 50}},
                 30},
        FefoCase{"CustomerMinimumSkipsShortLots",
                 R"pb(item: "09506000134352"
                      quantity { amount: 50 }
                      customer {
                        customer_id: "H-12"
                        min_remaining_shelf_life_days: 120
                      })pb",
                 {{"A18", "FRA-WH1-B07", 30}, {"A17", "FRA-WH1-B07", 20}},
                 0,
                 {"X01", "T01", "C01", "B01"},
                 "customer H-12"},
        FefoCase{"StricterCustomerMinimum",
                 R"pb(item: "09506000134352"
                      quantity { amount: 50 }
                      customer {
                        customer_id: "H-12"
                        min_remaining_shelf_life_days: 200
                      })pb",
                 {{"A17", "FRA-WH1-B07", 50}},
                 0,
                 {"X01", "T01", "C01", "B01", "A18"}},
        FefoCase{"LaterShipDateCountsFromThatDay",
                 // On 2026-05-15 B01 has 46 days left: below 60.
                 R"pb(item: "09506000134352"
                      quantity { amount: 10 }
                      ship_date { year: 2026 month: 5 day: 15 })pb",
                 {{"A18", "FRA-WH1-B07", 10}}},
        FefoCase{"EarlierShipDateCountsFromToday",
                 // B01 had 102 days left on 2026-03-20, but has 90 today:
                 // a pick list never counts from a day before today.
                 R"pb(item: "09506000134352"
                      quantity { amount: 10 }
                      customer {
                        customer_id: "H-12"
                        min_remaining_shelf_life_days: 100
                      }
                      ship_date { year: 2026 month: 3 day: 20 })pb",
                 {{"A18", "FRA-WH1-B07", 10}}},
        FefoCase{"OtherItemsNeverPicked",
                 R"pb(item: "09506000999999"
                      quantity { amount: 5 })pb",
                 {},
                 5}),
    [](const auto& info) { return info.param.name; });

TEST(FefoShipDate, DayBeforeTodayIsToday) {
  const auto got =
      AllocateFefo(Fold(testing::World()), Parse<v1::AllocateFefoRequest>(R"pb(
                     item: "09506000134352"
                     quantity { amount: 5 }
                     ship_date { year: 2026 month: 3 day: 20 })pb"),
                   kApril1);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(lots::FormatDate(got->ship_date()), "2026-04-01");
}

TEST(FefoErrors, UnknownFromLocationRefused) {
  const auto got =
      AllocateFefo(Fold(testing::World()), Parse<v1::AllocateFefoRequest>(R"pb(
                     item: "09506000134352"
                     quantity { amount: 5 }
                     from_location_id: "MARS")pb"),
                   kApril1);
  ASSERT_EQ(got.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(got.status().message().find("location MARS does not exist"),
            std::string::npos);
}

TEST(FefoErrors, QuantityMustBePositive) {
  const auto got = AllocateFefo(
      Fold(testing::World()),
      Parse<v1::AllocateFefoRequest>(R"pb(item: "09506000134352")pb"), kApril1);
  ASSERT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(got.status().message().find("allocate_fefo.quantity.amount"),
            std::string::npos);
}

TEST(FefoErrors, OtherUnitRefused) {
  const auto got =
      AllocateFefo(Fold(testing::World()), Parse<v1::AllocateFefoRequest>(R"pb(
                     item: "09506000134352"
                     quantity { amount: 5 uom: "BOX" })pb"),
                   kApril1);
  domain::testing::ExpectRefused(
      got.status(), domain::testing::kRefused,
      "item 09506000134352 is counted in EA, not BOX");
}

// The streaming allocator reads only what it needs and agrees with
// AllocateFefo.
TEST(FefoAllocatorTest, StopsOnceFilledAndAgrees) {
  const v1::InventoryDecisionState state = Fold(testing::World());
  const auto request =
      Parse<v1::AllocateFefoRequest>(R"pb(item: "09506000134352"
                                          quantity { amount: 120 })pb");
  std::vector<const v1::LotInventory*> lots;
  for (const auto& [id, lot] : state.lots()) lots.push_back(&lot);
  std::sort(lots.begin(), lots.end(),
            [](const auto* a, const auto* b) { return FefoLess(*a, *b); });
  auto allocator =
      FefoAllocator::Create(request, state.locations(),
                            &state.products().at(testing::kItem), kApril1);
  ASSERT_TRUE(allocator.ok()) << allocator.status();
  size_t offered = 0;
  for (const v1::LotInventory* lot : lots) {
    ++offered;
    if (!allocator->Offer(*lot)) break;
  }
  // X01, T01, C01, B01 (100), A18 (20 of 30): five of eleven lots.
  EXPECT_EQ(offered, 5u);
  const v1::AllocateFefoResponse streamed = std::move(*allocator).Finish();
  const auto whole = AllocateFefo(state, request, kApril1);
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(streamed.SerializeAsString(), whole->SerializeAsString());
  EXPECT_EQ(streamed.shortfall().amount(), 0);
}

// Once the skip list is full, a reader of an expiry-ordered index may
// jump to EarliestPickableExpiry: the answer stays AllocateFefo's.
TEST(FefoAllocatorTest, JumpAfterFullSkipsAgrees) {
  std::vector<std::string> given = {testing::kProduct};
  for (const std::string& l : testing::Locations()) given.push_back(l);
  // 60 released lots with 60-119 days left on April 1, one with 600.
  for (int i = 0; i < 60; ++i) {
    const std::string number = absl::StrFormat("S%02d", i);
    given.push_back(testing::Lot(number, 2026, 5 + i / 28, 1 + i % 28));
    given.push_back(testing::Released(number));
    given.push_back(testing::Received(number, "FRA-WH1-B07", 10));
  }
  given.push_back(testing::Lot("L01", 2027, 11, 22));
  given.push_back(testing::Released("L01"));
  given.push_back(testing::Received("L01", "FRA-WH1-B07", 50));
  const v1::InventoryDecisionState state = Fold(given);
  const auto request = Parse<v1::AllocateFefoRequest>(R"pb(
    item: "09506000134352"
    quantity { amount: 20 }
    customer { customer_id: "H-12" min_remaining_shelf_life_days: 365 })pb");
  std::vector<const v1::LotInventory*> lots;
  for (const auto& [id, lot] : state.lots()) lots.push_back(&lot);
  std::sort(lots.begin(), lots.end(),
            [](const auto* a, const auto* b) { return FefoLess(*a, *b); });
  auto allocator =
      FefoAllocator::Create(request, state.locations(),
                            &state.products().at(testing::kItem), kApril1);
  ASSERT_TRUE(allocator.ok()) << allocator.status();
  const v1::Date earliest = allocator->EarliestPickableExpiry();
  EXPECT_EQ(earliest.year(), 2027);
  EXPECT_EQ(earliest.month(), 4);
  EXPECT_EQ(earliest.day(), 1);
  size_t offered = 0;
  for (const v1::LotInventory* lot : lots) {
    if (allocator->SkipsFull() && HasExpiry(*lot) &&
        lots::CompareDates(lot->expires_on(), earliest) < 0) {
      continue;  // the index jump
    }
    ++offered;
    if (!allocator->Offer(*lot)) break;
  }
  EXPECT_LT(offered, 60u);
  const v1::AllocateFefoResponse streamed = std::move(*allocator).Finish();
  const auto whole = AllocateFefo(state, request, kApril1);
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(streamed.SerializeAsString(), whole->SerializeAsString());
  ASSERT_EQ(streamed.lines_size(), 1);
  EXPECT_EQ(streamed.lines(0).lot_id(), testing::LotId("L01"));
  EXPECT_TRUE(streamed.skipped_truncated());
}

TEST(FefoOrder, NoExpiryLast) {
  v1::LotInventory dated = Parse<v1::LotInventory>(
      R"pb(lot_id: "I:B"
           lot_number: "B"
           expires_on { year: 2030 month: 1 day: 1 })pb");
  v1::LotInventory undated = Parse<v1::LotInventory>(R"pb(lot_id: "I:A"
                                                          lot_number: "A")pb");
  EXPECT_TRUE(FefoLess(dated, undated));
  EXPECT_FALSE(FefoLess(undated, dated));
  EXPECT_FALSE(FefoLess(dated, dated));
}

}  // namespace
}  // namespace lotledger::inventory
