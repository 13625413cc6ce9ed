// Rolling expiry alerts: given a lot's events, when the sweep runs on a
// day (DueExpiryAlerts directly, and through Decide's evaluate_expiry),
// then exactly these alerts - each once per lot and threshold.
#include "libs/domain/inventory/expiry.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libs/domain/inventory/decider.h"
#include "libs/domain/inventory/gate.h"
#include "libs/domain/inventory/tests/fixtures.h"

namespace lotledger::inventory {
namespace {

using testing::Ev;
using testing::Parse;

v1::Date Day(int y, int m, int d) {
  v1::Date date;
  date.set_year(y);
  date.set_month(m);
  date.set_day(d);
  return date;
}

const v1::ShelfLifePolicy kPolicy = Parse<v1::ShelfLifePolicy>(
    "alert_thresholds_days: [ 90, 180, 30 ]");  // order does not matter

// B01 expires 2026-06-30, 100 at FRA-WH1.
v1::LotInventory B01() {
  v1::LotInventory lot;
  Evolve(lot, Ev(testing::Lot("B01", 2026, 6, 30)));
  Evolve(lot, Ev(testing::Received("B01", "FRA-WH1", 100)));
  return lot;
}

// "T180", "T90", "T30", "EXPIRED" for each due alert, checking its facts.
std::vector<std::string> Kinds(const std::vector<v1::Event>& events,
                               const v1::LotInventory& lot,
                               const v1::Date& today) {
  std::vector<std::string> kinds;
  for (const v1::Event& e : events) {
    EXPECT_EQ(e.aggregate_id(), lot.lot_id());
    EXPECT_EQ(e.lot_ids_size(), 1);
    if (e.has_expiry_threshold_crossed()) {
      const auto& c = e.expiry_threshold_crossed();
      EXPECT_EQ(c.lot_id(), lot.lot_id());
      EXPECT_EQ(c.item(), testing::kItem);
      EXPECT_EQ(c.on_hand().amount(), OnHand(lot));
      EXPECT_EQ(c.on_hand().uom(), "EA");
      EXPECT_EQ(c.days_left(), DaysLeft(lot.expires_on(), today));
      EXPECT_EQ(c.evaluated_on().SerializeAsString(),
                today.SerializeAsString());
      kinds.push_back(absl::StrCat("T", c.threshold_days()));
    } else if (e.has_lot_expired()) {
      EXPECT_EQ(e.lot_expired().stock_size(), lot.stock_size());
      kinds.push_back("EXPIRED");
    } else {
      ADD_FAILURE() << e.DebugString();
    }
  }
  return kinds;
}

using Kindlist = std::vector<std::string>;

// Runs the sweep on `today`, folds what it raised, returns the kinds.
Kindlist Sweep(v1::LotInventory& lot, const v1::Date& today) {
  const std::vector<v1::Event> due = DueExpiryAlerts(lot, kPolicy, today);
  Kindlist kinds = Kinds(due, lot, today);
  for (const v1::Event& e : due) Evolve(lot, e);
  return kinds;
}

TEST(ExpiryAlerts, NothingBeforeTheFirstThreshold) {
  v1::LotInventory lot = B01();
  EXPECT_EQ(Sweep(lot, Day(2025, 12, 31)), Kindlist{});      // 181 days left
  EXPECT_EQ(Sweep(lot, Day(2026, 1, 1)), Kindlist{"T180"});  // 180: due
}

TEST(ExpiryAlerts, EachThresholdOnceAsTimeRolls) {
  v1::LotInventory lot = B01();
  EXPECT_EQ(Sweep(lot, Day(2026, 1, 1)), Kindlist{"T180"});
  EXPECT_EQ(Sweep(lot, Day(2026, 1, 1)), Kindlist{});   // evaluated twice
  EXPECT_EQ(Sweep(lot, Day(2026, 3, 31)), Kindlist{});  // 91 days
  EXPECT_EQ(Sweep(lot, Day(2026, 4, 1)), Kindlist{"T90"});
  EXPECT_EQ(Sweep(lot, Day(2026, 5, 31)), Kindlist{"T30"});
  EXPECT_EQ(Sweep(lot, Day(2026, 6, 29)), Kindlist{});
  EXPECT_EQ(Sweep(lot, Day(2026, 6, 30)), Kindlist{"EXPIRED"});
  EXPECT_EQ(Sweep(lot, Day(2026, 7, 30)), Kindlist{});
  ASSERT_EQ(lot.alerts_size(), 4);
  EXPECT_EQ(lot.alerts(3).threshold_days(), 0);
}

TEST(ExpiryAlerts, SeveralCrossedAtOnceAfterALongGap) {
  v1::LotInventory lot = B01();
  EXPECT_EQ(Sweep(lot, Day(2026, 6, 10)), (Kindlist{"T180", "T90", "T30"}));
  EXPECT_EQ(Sweep(lot, Day(2026, 6, 10)), Kindlist{});
  v1::LotInventory late = B01();
  EXPECT_EQ(Sweep(late, Day(2026, 8, 1)),
            (Kindlist{"T180", "T90", "T30", "EXPIRED"}));
  EXPECT_EQ(Sweep(late, Day(2026, 8, 2)), Kindlist{});
}

TEST(ExpiryAlerts, OnlyForStockOnHand) {
  v1::LotInventory lot = B01();
  Evolve(lot, Ev(testing::Shipped("B01", "FRA-WH1", "H-12", 100)));
  EXPECT_EQ(Sweep(lot, Day(2026, 6, 10)), Kindlist{});
  // Stock comes back: the thresholds it is within are due then.
  Evolve(lot, Ev(R"pb(
           lot_ids: "09506000134352:B01"
           stock_returned {
             lot_id: "09506000134352:B01"
             customer_id: "H-12"
             to_location_id: "FRA-WH1"
             quantity { amount: 5 uom: "EA" }
             condition: RETURN_CONDITION_RESALEABLE
           })pb"));
  EXPECT_EQ(Sweep(lot, Day(2026, 6, 10)), (Kindlist{"T180", "T90", "T30"}));
}

TEST(ExpiryAlerts, NothingForUnknownOrUndatedLots) {
  v1::LotInventory unknown;
  Evolve(unknown, Ev(testing::Received("B01", "FRA-WH1", 100)));
  EXPECT_EQ(Sweep(unknown, Day(2027, 1, 1)), Kindlist{});
  v1::LotInventory undated = B01();
  undated.clear_expires_on();
  EXPECT_EQ(Sweep(undated, Day(2027, 1, 1)), Kindlist{});
}

TEST(ExpiryAlerts, CorrectedExpiryRearmsThresholds) {
  v1::LotInventory lot = B01();
  EXPECT_EQ(Sweep(lot, Day(2026, 4, 1)), (Kindlist{"T180", "T90"}));
  Evolve(lot, Ev(R"pb(
           lot_ids: "09506000134352:B01"
           lot_corrected {
             lot_id: "09506000134352:B01"
             field: "expires_on"
             old_value: "2026-06-30"
             new_value: "2026-12-31"
           })pb"));
  EXPECT_EQ(Sweep(lot, Day(2026, 4, 1)), Kindlist{});  // 274 days left
  EXPECT_EQ(Sweep(lot, Day(2026, 7, 4)), Kindlist{"T180"});
}

// The sweep as the service runs it: a command per lot; what it appended
// is folded into the projection, so the same sweep again - or after a
// restart, which reloads that projection - raises nothing.
TEST(ExpiryAlerts, EvaluateExpiryCommandRaisesOnce) {
  v1::InventoryDecisionState state = testing::Fold(testing::World());
  v1::InventoryCommand cmd = Parse<v1::InventoryCommand>(
      R"pb(evaluate_expiry { lot_id: "09506000134352:B01" })pb");
  cmd.mutable_now()->set_seconds(testing::kToday);  // 90 days left
  auto first = Decide(state, cmd);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[0].expiry_threshold_crossed().threshold_days(), 180);
  EXPECT_EQ((*first)[1].expiry_threshold_crossed().threshold_days(), 90);
  for (const v1::Event& e : *first) Evolve(state, e);
  auto again = Decide(state, cmd);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->empty());

  // A rebuild from the log (the same events from scratch) agrees.
  std::vector<std::string> log = testing::World();
  for (const v1::Event& e : *first) log.push_back(e.ShortDebugString());
  auto rebuilt = Decide(testing::Fold(log), cmd);
  ASSERT_TRUE(rebuilt.ok());
  EXPECT_TRUE(rebuilt->empty());

  cmd.mutable_evaluate_expiry()->set_lot_id("09506000134352:NOPE");
  auto unknown = Decide(state, cmd);
  ASSERT_TRUE(unknown.ok());
  EXPECT_TRUE(unknown->empty());
}

}  // namespace
}  // namespace lotledger::inventory
