// As-of folding on both time axes: a lot created, shipped, and its expiry
// corrected late; the two axes answer differently between the creation and
// the correction's recording.
#include "libs/audit/as_of.h"

#include "gtest/gtest.h"
#include "libs/audit/describe.h"
#include "libs/common/proto_time.h"

namespace lotledger::audit {
namespace {

constexpr char kLot[] = "09506000134352:A17";

absl::Time Day(int d) {
  return absl::FromCivil(absl::CivilDay(2026, 3, d), absl::UTCTimeZone());
}

v1::Event Envelope(const std::string& id, absl::Time occurred,
                   absl::Time recorded) {
  v1::Event e;
  e.set_event_id(id);
  e.set_aggregate_id(kLot);
  e.add_lot_ids(kLot);
  e.set_actor("operator");
  ToTimestamp(occurred, e.mutable_occurred_at());
  ToTimestamp(recorded, e.mutable_recorded_at());
  return e;
}

v1::Date Date(int y, int m, int d) {
  v1::Date date;
  date.set_year(y);
  date.set_month(m);
  date.set_day(d);
  return date;
}

std::vector<v1::Event> History() {
  std::vector<v1::Event> events;
  v1::Event created = Envelope("e1", Day(2), Day(2));
  v1::LotCreated* c = created.mutable_lot_created();
  c->set_lot_id(kLot);
  c->set_item("09506000134352");
  c->set_lot_number("A17");
  *c->mutable_manufactured_on() = Date(2026, 3, 2);
  *c->mutable_expires_on() = Date(2028, 3, 2);
  c->mutable_quantity()->set_amount(100);
  c->mutable_quantity()->set_uom("EA");
  events.push_back(created);
  v1::Event received = Envelope("e2", Day(3), Day(3));
  v1::StockReceived* r = received.mutable_stock_received();
  r->set_lot_id(kLot);
  r->set_location_id("FRA-WH1");
  r->mutable_quantity()->set_amount(100);
  r->mutable_quantity()->set_uom("EA");
  events.push_back(received);
  // Entered on day 10: the label said 2027, the lot was always 2027.
  v1::Event corrected = Envelope("e3", Day(10), Day(10));
  v1::LotCorrected* k = corrected.mutable_lot_corrected();
  k->set_lot_id(kLot);
  k->set_field("expires_on");
  k->set_old_value("2028-03-02");
  k->set_new_value("2027-03-02");
  k->set_reason("typo at entry");
  events.push_back(corrected);
  return events;
}

TEST(AsOfTest, LateCorrectionDiffersBetweenTheAxes) {
  const std::vector<v1::Event> events = History();
  const v1::LotAsOf known =
      FoldAsOf(kLot, events, Day(5), v1::TIME_AXIS_RECORD);
  const v1::LotAsOf world =
      FoldAsOf(kLot, events, Day(5), v1::TIME_AXIS_BUSINESS);
  EXPECT_TRUE(known.exists());
  EXPECT_EQ(known.lot().expires_on().year(), 2028);  // as the system knew it
  EXPECT_EQ(world.lot().expires_on().year(), 2027);  // as it was in the world
  EXPECT_EQ(known.events_folded(), 2);
  EXPECT_EQ(world.events_folded(), 3);
  EXPECT_EQ(known.on_hand(), 100);
  ASSERT_EQ(known.stock_size(), 1);
  EXPECT_EQ(known.stock(0).location_id(), "FRA-WH1");

  // After the correction was recorded both axes agree.
  const v1::LotAsOf later =
      FoldAsOf(kLot, events, Day(11), v1::TIME_AXIS_RECORD);
  EXPECT_EQ(later.lot().expires_on().year(), 2027);
  // Before the lot was made nothing existed on either axis.
  EXPECT_FALSE(FoldAsOf(kLot, events, Day(1), v1::TIME_AXIS_BUSINESS).exists());
}

TEST(DescribeTest, SaysWhatAndWhy) {
  const std::vector<v1::Event> events = History();
  EXPECT_EQ(Describe(events[1]),
            "received 100 EA of 09506000134352:A17 at FRA-WH1");
  EXPECT_EQ(Describe(events[2]),
            "lot 09506000134352:A17 corrected: expires_on from 2028-03-02 to "
            "2027-03-02");
  EXPECT_EQ(Reason(events[2]), "typo at entry");
}

}  // namespace
}  // namespace lotledger::audit
