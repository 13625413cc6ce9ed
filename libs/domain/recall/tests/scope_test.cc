// Recall scope and impact over tests/world.h: a forward walk through three
// genealogy levels with how each lot got there, date-range scope, and the
// customers and quantities an impact lists.
#include "libs/domain/recall/scope.h"

#include "gtest/gtest.h"
#include "libs/domain/recall/impact.h"
#include "libs/domain/recall/tests/world.h"

namespace lotledger::recall {
namespace {

using testing::Hospitals;
using testing::World;

v1::RecallCriteria Listed(std::vector<std::string> lots, bool derived) {
  v1::RecallCriteria c;
  for (const std::string& l : lots) c.add_lot_ids(l);
  c.set_include_derived(derived);
  return c;
}

TEST(ScopeTest, DerivedThroughThreeLevelsWithHowEachGotThere) {
  World w = Hospitals();
  NodeMap fetched;
  absl::StatusOr<ScopeList> scope =
      ComputeScope(Listed({"RM:R1"}, true), {}, w.Fetch(), &fetched);
  ASSERT_TRUE(scope.ok()) << scope.status();
  std::vector<std::string> got;
  for (const v1::ScopedLot& s : *scope) {
    got.push_back(absl::StrCat(s.lot_id(), " d", s.depth(), " via ",
                               s.via_lot_id(), " ", s.reason()));
  }
  // Level by level; F1 is reached from C2 first at depth 2 (C2 sorts
  // after C1 but C1 -> V1 -> F1 is three levels).
  EXPECT_EQ(got, (std::vector<std::string>{
                     "RM:R1 d0 via  1",
                     "CMP:C1 d1 via RM:R1 3",
                     "CMP:C2 d1 via RM:R1 3",
                     "SUB:V1 d2 via CMP:C1 3",
                     "DEV:F1 d2 via CMP:C2 3",
                     "DEV:F2 d3 via SUB:V1 3",
                 }));
  EXPECT_EQ(ScopePath(*scope, "DEV:F2"),
            (std::vector<std::string>{"RM:R1", "CMP:C1", "SUB:V1", "DEV:F2"}));
  // The unrelated lot is not in scope; every node walked was kept.
  for (const v1::ScopedLot& s : *scope) EXPECT_NE(s.lot_id(), "DEV:F3");
  EXPECT_TRUE(fetched.contains("DEV:F2"));
}

TEST(ScopeTest, ListedLotsOnlyWithoutDerived) {
  World w = Hospitals();
  NodeMap fetched;
  absl::StatusOr<ScopeList> scope = ComputeScope(
      Listed({"DEV:F1", "DEV:F1", "DEV:F3"}, false), {}, w.Fetch(), &fetched);
  ASSERT_TRUE(scope.ok()) << scope.status();
  ASSERT_EQ(scope->size(), 2);
  EXPECT_EQ(scope->Get(0).lot_id(), "DEV:F1");
  EXPECT_EQ(scope->Get(1).lot_id(), "DEV:F3");
  EXPECT_EQ(scope->Get(1).reason(), v1::SCOPE_REASON_LISTED);
}

TEST(ScopeTest, UnknownListedLotIsRefused) {
  World w = Hospitals();
  NodeMap fetched;
  absl::StatusOr<ScopeList> scope =
      ComputeScope(Listed({"RM:NOPE"}, true), {}, w.Fetch(), &fetched);
  EXPECT_EQ(scope.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(scope.status().message().find("RM:NOPE"), std::string::npos);
}

TEST(ScopeTest, DateRangeSelectsLotsMadeInsideInclusive) {
  std::vector<MadeLot> lots;
  for (int day : {5, 6, 7, 8}) {
    MadeLot l;
    l.lot_id = absl::StrCat("DEV:D", day);
    l.manufactured_on.set_year(2026);
    l.manufactured_on.set_month(3);
    l.manufactured_on.set_day(day);
    lots.push_back(l);
  }
  v1::Date from, to;
  from.set_year(2026), from.set_month(3), from.set_day(6);
  to.set_year(2026), to.set_month(3), to.set_day(7);
  EXPECT_EQ(MadeInRange(lots, from, to),
            (std::vector<std::string>{"DEV:D6", "DEV:D7"}));

  // In range lots join the scope as MADE_IN_RANGE, and derive further.
  World w = Hospitals();
  v1::RecallCriteria c;
  c.set_item("CMP");
  *c.mutable_made_from() = from;
  *c.mutable_made_to() = to;
  c.set_include_derived(true);
  ASSERT_TRUE(ValidateCriteria(c, "criteria").ok());
  NodeMap fetched;
  absl::StatusOr<ScopeList> scope =
      ComputeScope(c, {"CMP:C2"}, w.Fetch(), &fetched);
  ASSERT_TRUE(scope.ok()) << scope.status();
  ASSERT_EQ(scope->size(), 2);
  EXPECT_EQ(scope->Get(0).reason(), v1::SCOPE_REASON_MADE_IN_RANGE);
  EXPECT_EQ(scope->Get(1).lot_id(), "DEV:F1");
}

TEST(ScopeTest, CriteriaShapeIsChecked) {
  v1::RecallCriteria none;
  const absl::Status empty = ValidateCriteria(none, "criteria");
  EXPECT_EQ(empty.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(empty.message(),
            "criteria: give lot_ids, or item with made_from and made_to");
  v1::RecallCriteria backwards;
  backwards.set_item("DEV");
  backwards.mutable_made_from()->set_year(2026);
  backwards.mutable_made_from()->set_month(4);
  backwards.mutable_made_from()->set_day(1);
  backwards.mutable_made_to()->set_year(2026);
  backwards.mutable_made_to()->set_month(3);
  backwards.mutable_made_to()->set_day(1);
  absl::Status s = ValidateCriteria(backwards, "criteria");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("criteria.made_to"), std::string::npos);
}

TEST(ImpactTest, ListsExactlyTheCustomersWithTheirQuantities) {
  World w = Hospitals();
  NodeMap fetched;
  absl::StatusOr<ScopeList> scope =
      ComputeScope(Listed({"RM:R1"}, true), {}, w.Fetch(), &fetched);
  ASSERT_TRUE(scope.ok());
  v1::RecallImpact impact = ComputeImpact(*scope, fetched, w.customers);
  ASSERT_EQ(impact.customers_size(), 2);
  EXPECT_EQ(impact.customers(0).customer().customer_id(), "H-1");
  EXPECT_EQ(impact.customers(0).customer().name(), "Hospital H-1");
  EXPECT_EQ(impact.customers(0).held(), 10);
  EXPECT_EQ(impact.customers(1).customer().customer_id(), "H-2");
  ASSERT_EQ(impact.customers(1).lots_size(), 2);
  EXPECT_EQ(impact.customers(1).lots(0).lot_id(), "DEV:F1");
  EXPECT_EQ(impact.customers(1).lots(0).shipped(), 5);
  EXPECT_EQ(impact.customers(1).lots(1).shipped(), 7);
  EXPECT_EQ(impact.distributed(), 22);
  EXPECT_EQ(impact.lots_distributed(), 2);
  // F1: 30 received, 15 shipped; F2: 30 received, 7 shipped.
  EXPECT_EQ(impact.on_hand(), 15 + 23);
  ASSERT_EQ(impact.on_hand_by_location_size(), 1);
  EXPECT_EQ(impact.on_hand_by_location(0).location_id(), "WH1");
}

}  // namespace
}  // namespace lotledger::recall
