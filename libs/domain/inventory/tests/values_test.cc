// SetUnitCost's rules (refusals by their text) and the cost-of-a-day rule
// (values.h).
#include "libs/domain/inventory/values.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/domain/inventory/decider.h"

namespace lotledger::inventory {
namespace {

using ::testing::HasSubstr;

v1::Date Day(int y, int m, int d) {
  v1::Date date;
  date.set_year(y);
  date.set_month(m);
  date.set_day(d);
  return date;
}

v1::UnitCostSet Cost(const std::string& currency, int64_t micros,
                     const v1::Date& from) {
  v1::UnitCostSet c;
  c.set_item("ITEM-1");
  c.mutable_unit_cost()->set_currency(currency);
  c.mutable_unit_cost()->set_micros(micros);
  *c.mutable_effective_from() = from;
  c.set_reason("standard cost");
  return c;
}

class SetUnitCostTest : public ::testing::Test {
 protected:
  SetUnitCostTest() {
    (*state_.mutable_products())["ITEM-1"].set_item("ITEM-1");
    v1::SetUnitCostRequest& r = *cmd_.mutable_set_unit_cost();
    r.set_item("ITEM-1");
    r.mutable_unit_cost()->set_currency("EUR");
    r.mutable_unit_cost()->set_micros(12'500'000);
    *r.mutable_effective_from() = Day(2026, 1, 1);
    r.set_reason("standard cost 2026");
  }
  v1::SetUnitCostRequest& req() { return *cmd_.mutable_set_unit_cost(); }
  absl::StatusOr<std::vector<v1::Event>> Run() { return Decide(state_, cmd_); }
  std::string Refusal() {
    absl::StatusOr<std::vector<v1::Event>> r = Run();
    return r.ok() ? "accepted" : std::string(r.status().message());
  }

  v1::InventoryDecisionState state_;
  v1::InventoryCommand cmd_;
};

TEST_F(SetUnitCostTest, WritesOneEventKeyedByTheItem) {
  absl::StatusOr<std::vector<v1::Event>> events = Run();
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 1u);
  const v1::Event& e = (*events)[0];
  EXPECT_EQ(e.aggregate_id(), "cost/ITEM-1");
  EXPECT_TRUE(e.lot_ids().empty());
  EXPECT_EQ(e.unit_cost_set().item(), "ITEM-1");
  EXPECT_EQ(e.unit_cost_set().unit_cost().currency(), "EUR");
  EXPECT_EQ(e.unit_cost_set().unit_cost().micros(), 12'500'000);
  EXPECT_EQ(e.unit_cost_set().effective_from().month(), 1);
  EXPECT_EQ(e.unit_cost_set().reason(), "standard cost 2026");
}

TEST_F(SetUnitCostTest, RefusesMalformedRequestsNamingTheField) {
  req().mutable_unit_cost()->set_currency("eur");
  EXPECT_EQ(Refusal(),
            "set_unit_cost.unit_cost.currency: three upper-case letters (ISO "
            "4217, e.g. EUR), got \"eur\"");
  req().mutable_unit_cost()->set_currency("EURO");
  EXPECT_THAT(Refusal(), HasSubstr("got \"EURO\""));
  req().mutable_unit_cost()->set_currency("EUR");
  req().mutable_unit_cost()->set_micros(-1);
  EXPECT_EQ(Refusal(),
            "set_unit_cost.unit_cost.micros: must not be negative, got -1");
  req().mutable_unit_cost()->set_micros(0);  // a free sample costs 0
  EXPECT_EQ(Refusal(), "accepted");
  *req().mutable_effective_from() = Day(2026, 2, 30);
  EXPECT_EQ(Refusal(),
            "set_unit_cost.effective_from: not a calendar day (2026-2-30)");
  req().clear_effective_from();
  EXPECT_EQ(Refusal(), "set_unit_cost.effective_from: required");
  *req().mutable_effective_from() = Day(2026, 1, 1);
  req().set_reason("  ");
  EXPECT_EQ(Refusal(),
            "set_unit_cost.reason: required, e.g. \"standard cost 2027\"");
  req().set_reason("r");
  req().set_item("");
  EXPECT_EQ(Refusal(), "set_unit_cost.item: required");
}

TEST_F(SetUnitCostTest, RefusesAnUnknownProduct) {
  req().set_item("NOPE");
  absl::StatusOr<std::vector<v1::Event>> r = Run();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Refusal(),
            "product NOPE is not defined; define it in the lots service "
            "before setting its unit cost");
}

TEST_F(SetUnitCostTest, RefusesASecondCurrency) {
  *state_.add_unit_costs() = Cost("EUR", 10'000'000, Day(2025, 1, 1));
  req().mutable_unit_cost()->set_currency("USD");
  EXPECT_EQ(Refusal(),
            "product ITEM-1 is costed in EUR; a cost in USD cannot be set: a "
            "product's costs share one currency");
}

TEST_F(SetUnitCostTest, TheSameCostForTheSameDayIsANoOp) {
  *state_.add_unit_costs() = Cost("EUR", 12'500'000, Day(2026, 1, 1));
  absl::StatusOr<std::vector<v1::Event>> r = Run();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->empty());
  // Another cost for that day, or the same cost from another day, is news.
  req().mutable_unit_cost()->set_micros(13'000'000);
  ASSERT_TRUE(Run().ok());
  EXPECT_EQ(Run()->size(), 1u);
  req().mutable_unit_cost()->set_micros(12'500'000);
  *req().mutable_effective_from() = Day(2026, 7, 1);
  EXPECT_EQ(Run()->size(), 1u);
}

TEST(UnitCostHistoryTest, TheCostOfADayIsTheLatestEffectiveOnOrBeforeIt) {
  UnitCostHistory h;
  EXPECT_EQ(CostOn(h, Day(2026, 1, 1)), nullptr);
  FoldUnitCost(h, Cost("EUR", 30, Day(2026, 7, 1)));
  FoldUnitCost(h, Cost("EUR", 10, Day(2026, 1, 1)));
  FoldUnitCost(h, Cost("EUR", 20, Day(2026, 3, 15)));
  ASSERT_EQ(h.size(), 3);
  EXPECT_EQ(h[0].unit_cost().micros(), 10);  // sorted by effective day
  EXPECT_EQ(h[1].unit_cost().micros(), 20);
  EXPECT_EQ(h[2].unit_cost().micros(), 30);
  EXPECT_EQ(CostOn(h, Day(2025, 12, 31)), nullptr);  // before the first
  EXPECT_EQ(CostOn(h, Day(2026, 1, 1))->unit_cost().micros(), 10);
  EXPECT_EQ(CostOn(h, Day(2026, 3, 14))->unit_cost().micros(), 10);
  EXPECT_EQ(CostOn(h, Day(2026, 3, 15))->unit_cost().micros(), 20);
  EXPECT_EQ(CostOn(h, Day(2026, 6, 30))->unit_cost().micros(), 20);
  EXPECT_EQ(CostOn(h, Day(2027, 1, 1))->unit_cost().micros(), 30);
  // A later event for a day replaces that day's cost.
  FoldUnitCost(h, Cost("EUR", 25, Day(2026, 3, 15)));
  ASSERT_EQ(h.size(), 3);
  EXPECT_EQ(CostOn(h, Day(2026, 4, 1))->unit_cost().micros(), 25);
}

}  // namespace
}  // namespace lotledger::inventory
