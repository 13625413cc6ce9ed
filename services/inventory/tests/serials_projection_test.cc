// The inventory projection's serial families (inventory_serials.h) over a
// real RocksDB store: a serialised lot's history (register, receipt,
// shipment, usage, return, transfer, scrap, a count with found and missing
// serials, a recall by serial) applied one event per batch, all in one
// batch, and with the lots and recall topics' events interleaved
// differently with the inventory topic's, gives byte-identical stores
// (Digest); each serial's stored status is what the domain's Evolve folds;
// the lot's row is not recalled by the recall by serial, which the
// decision state of a shipment carries; GetSerialStatus answers a used
// serial with the movements naming it.
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "libs/domain/inventory/decider.h"
#include "libs/domain/serials/serials.h"
#include "libs/projection/projection_store.h"
#include "lotledger/v1/events.pb.h"
#include "lotledger/v1/inventory_domain.pb.h"
#include "services/inventory/inventory_projection.h"
#include "services/inventory/inventory_serials.h"

namespace lotledger::inventory {
namespace {

using google::protobuf::util::MessageDifferencer;

constexpr char kItem[] = "09506000200001";
constexpr char kLot[] = "09506000200001:L1";

struct Logged {
  std::string topic;
  int64_t offset;
  v1::Event event;
};

v1::SerialRange Range(const std::string& first, const std::string& last = "") {
  v1::SerialRange r;
  r.set_first(first);
  r.set_last(last);
  return r;
}

v1::Event LotEvent(int t) {
  v1::Event e;
  e.set_event_id(absl::StrCat("ev-", t));
  e.set_aggregate_id(kLot);
  e.add_lot_ids(kLot);
  e.mutable_recorded_at()->set_seconds(1780000000 + t);
  return e;
}

// The history, by topic, each topic's events in its log order.
std::vector<Logged> History() {
  std::vector<Logged> out;
  int64_t lots = 0, inv = 0;
  auto lots_event = [&](v1::Event e) {
    out.push_back({"lotledger.lots.v1", lots++, std::move(e)});
  };
  auto inv_event = [&](v1::Event e) {
    out.push_back({"lotledger.inventory.v1", inv++, std::move(e)});
  };
  for (const char* id : {"WH1", "WH2"}) {
    v1::Event e;
    e.set_event_id(absl::StrCat("loc-", id));
    v1::Location* l = e.mutable_location_created()->mutable_location();
    l->set_location_id(id);
    l->set_region_id("EU");
    l->set_kind(v1::LOCATION_KIND_WAREHOUSE);
    inv_event(e);
  }
  v1::Event product;
  product.set_event_id("product");
  v1::Product* p = product.mutable_product_defined()->mutable_product();
  p->set_item(kItem);
  p->set_uom("EA");
  p->set_tracking(v1::TRACKING_SERIAL);
  lots_event(product);
  v1::Event created = LotEvent(1);
  created.mutable_lot_created()->set_lot_id(kLot);
  created.mutable_lot_created()->set_item(kItem);
  created.mutable_lot_created()->mutable_quantity()->set_uom("EA");
  lots_event(created);
  v1::Event assigned = LotEvent(2);
  assigned.mutable_serials_assigned()->set_lot_id(kLot);
  assigned.mutable_serials_assigned()->set_item(kItem);
  *assigned.mutable_serials_assigned()->add_serials() =
      Range("SN0001", "SN0010");
  lots_event(assigned);

  v1::Event received = LotEvent(3);
  v1::StockReceived* r = received.mutable_stock_received();
  r->set_lot_id(kLot);
  r->set_location_id("WH1");
  r->mutable_quantity()->set_amount(5);
  *r->add_serials() = Range("SN0001", "SN0005");
  inv_event(received);
  v1::Event shipped = LotEvent(4);
  v1::StockShipped* s = shipped.mutable_stock_shipped();
  s->set_lot_id(kLot);
  s->set_shipment_id("SHP-1");
  s->set_from_location_id("WH1");
  s->mutable_customer()->set_customer_id("H-12");
  s->mutable_quantity()->set_amount(2);
  *s->add_serials() = Range("SN0001", "SN0002");
  inv_event(shipped);
  v1::Event used = LotEvent(5);
  v1::DeviceUsageReported* u = used.mutable_device_usage_reported();
  u->set_lot_id(kLot);
  u->set_customer_id("H-12");
  *u->add_serials() = Range("SN0002");
  u->set_count(1);
  u->mutable_used_on()->set_year(2026);
  u->mutable_used_on()->set_month(5);
  u->mutable_used_on()->set_day(4);
  u->set_site("OR 3");
  inv_event(used);
  v1::Event returned = LotEvent(6);
  v1::StockReturned* back = returned.mutable_stock_returned();
  back->set_lot_id(kLot);
  back->set_customer_id("H-12");
  back->set_to_location_id("WH1");
  back->mutable_quantity()->set_amount(1);
  *back->add_serials() = Range("SN0001");
  inv_event(returned);
  v1::Event moved = LotEvent(7);
  v1::StockTransferred* m = moved.mutable_stock_transferred();
  m->set_lot_id(kLot);
  m->set_from_location_id("WH1");
  m->set_to_location_id("WH2");
  m->mutable_quantity()->set_amount(1);
  *m->add_serials() = Range("SN0003");
  inv_event(moved);
  v1::Event scrapped = LotEvent(8);
  v1::StockScrapped* x = scrapped.mutable_stock_scrapped();
  x->set_lot_id(kLot);
  x->set_location_id("WH1");
  x->mutable_quantity()->set_amount(1);
  *x->add_serials() = Range("SN0004");
  inv_event(scrapped);
  v1::Event counted = LotEvent(9);
  v1::StockAdjusted* a = counted.mutable_stock_adjusted();
  a->set_lot_id(kLot);
  a->set_location_id("WH1");
  a->mutable_previous()->set_amount(2);
  a->mutable_counted()->set_amount(2);
  *a->add_serials_found() = Range("SN0006");
  *a->add_serials_missing() = Range("SN0005");
  inv_event(counted);

  v1::Event recall;
  recall.set_event_id("recall");
  recall.add_lot_ids(kLot);
  recall.mutable_occurred_at()->set_seconds(1780000100);
  v1::RecallInitiated* ri = recall.mutable_recall_initiated();
  ri->set_recall_id("R-SN-1");
  ri->set_reason("liner wear");
  v1::ScopedLot* scoped = ri->add_lots();
  scoped->set_lot_id(kLot);
  scoped->set_reason(v1::SCOPE_REASON_SERIAL_LISTED);
  *scoped->add_serials() = Range("SN0003");
  *scoped->add_serials() = Range("SN0006");
  out.push_back({"lotledger.recall.v1", 0, recall});
  return out;
}

class SerialsProjectionTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (const std::string& dir : dirs_) std::filesystem::remove_all(dir);
  }

  // A store with `events` applied in that order, `per_batch` per batch.
  std::unique_ptr<projection::ProjectionStore> Apply(
      const std::vector<Logged>& events, size_t per_batch) {
    const std::string dir =
        absl::StrCat(::testing::TempDir(), "/inventory_serials_", getpid(), "_",
                     dirs_.size());
    std::filesystem::remove_all(dir);
    dirs_.push_back(dir);
    auto store = projection::ProjectionStore::Open(
        {.path = dir, .column_families = InventoryColumnFamilies()});
    EXPECT_TRUE(store.ok()) << store.status();
    if (!store.ok()) return nullptr;
    for (size_t i = 0; i < events.size();) {
      projection::ProjectionStore::Batch batch = (*store)->NewBatch();
      for (size_t n = 0; n < per_batch && i < events.size(); ++n, ++i) {
        eventlog::Record record;
        record.topic = events[i].topic;
        record.offset = events[i].offset;
        absl::Status s = ApplyInventoryEvent(record, events[i].event, batch);
        EXPECT_TRUE(s.ok()) << s;
      }
      EXPECT_TRUE((*store)->Commit(std::move(batch)).ok());
    }
    return *std::move(store);
  }

  std::vector<std::string> dirs_;
};

TEST_F(SerialsProjectionTest, RebuildsByteIdenticalAndAsEvolveFolds) {
  const std::vector<Logged> history = History();
  auto live = Apply(history, 1);
  ASSERT_NE(live, nullptr);
  auto one_batch = Apply(history, history.size());
  ASSERT_NE(one_batch, nullptr);
  // Another interleaving: the recall first, the lots topic last.
  std::vector<Logged> interleaved;
  for (const std::string topic :
       {"lotledger.recall.v1", "lotledger.inventory.v1", "lotledger.lots.v1"}) {
    for (const Logged& l : history) {
      if (l.topic == topic) interleaved.push_back(l);
    }
  }
  auto other = Apply(interleaved, 3);
  ASSERT_NE(other, nullptr);
  absl::StatusOr<std::string> digest = live->Digest();
  ASSERT_TRUE(digest.ok()) << digest.status();
  EXPECT_EQ(*one_batch->Digest(), *digest);
  EXPECT_EQ(*other->Digest(), *digest);

  // Each serial where Evolve says it is.
  v1::InventoryDecisionState expected;
  for (const Logged& l : history) Evolve(expected, l.event);
  SerialQueries serials(live.get());
  for (int n = 1; n <= 6; ++n) {
    const std::string serial = absl::StrFormat("SN%04d", n);
    absl::StatusOr<std::optional<v1::SerialStatus>> stored =
        serials.FindSerial(kItem, serial);
    ASSERT_TRUE(stored.ok()) << stored.status();
    ASSERT_TRUE(stored->has_value()) << serial;
    EXPECT_TRUE(MessageDifferencer::Equals(
        **stored, expected.serials().at(domain::SerialKey(kItem, serial))))
        << (*stored)->DebugString();
  }
  EXPECT_EQ((*serials.FindSerial(kItem, "SN0001"))->place(),
            v1::SERIAL_PLACE_IN_STOCK);
  EXPECT_EQ((*serials.FindSerial(kItem, "SN0002"))->place(),
            v1::SERIAL_PLACE_USED);
  EXPECT_EQ((*serials.FindSerial(kItem, "SN0003"))->location_id(), "WH2");
  EXPECT_EQ((*serials.FindSerial(kItem, "SN0004"))->place(),
            v1::SERIAL_PLACE_SCRAPPED);
  EXPECT_EQ((*serials.FindSerial(kItem, "SN0005"))->place(),
            v1::SERIAL_PLACE_MISSING);
  EXPECT_FALSE(serials.FindSerial(kItem, "SN0007")->has_value());
  EXPECT_EQ(**serials.AssignedLot(kItem, "SN0007"), kLot);

  // The recall by serial leaves the lot's row unrecalled; a shipment's
  // decision state carries it.
  InventoryQueries queries(live.get());
  absl::StatusOr<v1::LotInventory> lot = queries.GetLot(kLot);
  ASSERT_TRUE(lot.ok()) << lot.status();
  EXPECT_FALSE(lot->recalled());
  v1::InventoryCommand ship;
  v1::ShipmentLine* line = ship.mutable_ship()->add_lines();
  line->set_lot_id(kLot);
  *line->add_serials() = Range("SN0006");
  v1::InventoryDecisionState state;
  ASSERT_TRUE(serials.LoadForCommand(ship, state).ok());
  ASSERT_TRUE(state.serial_recalls().contains(kLot));
  EXPECT_TRUE(MessageDifferencer::Equals(state.serial_recalls().at(kLot),
                                         expected.serial_recalls().at(kLot)));
  EXPECT_EQ(domain::FormatSerials(
                state.serial_recalls().at(kLot).recalls(0).serials()),
            "SN0003, SN0006");
  // A count loads every serial of the lot.
  v1::InventoryCommand count;
  count.mutable_adjust()->set_lot_id(kLot);
  v1::InventoryDecisionState counted;
  ASSERT_TRUE(serials.LoadForCommand(count, counted).ok());
  EXPECT_EQ(counted.serial_lots_size(), 10);
  EXPECT_EQ(counted.serials_size(), 6);

  // GetSerialStatus of the used serial: received, shipped, used.
  v1::GetSerialStatusRequest req;
  req.set_item(kItem);
  req.set_serial("SN0002");
  absl::StatusOr<v1::GetSerialStatusResponse> status =
      GetSerialStatus(serials, queries, req);
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->status().customer_id(), "H-12");
  EXPECT_EQ(status->status().shipment_id(), "SHP-1");
  EXPECT_EQ(status->status().used_site(), "OR 3");
  ASSERT_EQ(status->movements_size(), 3);
  EXPECT_TRUE(status->movements(0).has_stock_received());
  EXPECT_TRUE(status->movements(1).has_stock_shipped());
  EXPECT_TRUE(status->movements(2).has_device_usage_reported());
  req.set_serial("SN0099");
  status = GetSerialStatus(serials, queries, req);
  EXPECT_EQ(status.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(status.status().message(),
            "serial SN0099 of item 09506000200001 is not assigned to a lot "
            "and was never received");
}

}  // namespace
}  // namespace lotledger::inventory
