// The serial register in the lots projection (real RocksDB): which lot each
// serial of an item belongs to, a lot's serials in order, its serial count
// and each assignment's counts; a projection folded in other batches, with
// a redelivered event, holds the same bytes (Digest); a trace by serial
// starts at the serial's lot and names the serial.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/projection/tests/synthetic_stream.h"
#include "lotledger/v1/domain.pb.h"
#include "services/lots/lots_projection.h"

namespace lotledger::lots {
namespace {

using ::testing::ElementsAre;

constexpr char kItem[] = "09506000134352";
constexpr char kA17[] = "09506000134352:A17";
constexpr char kA18[] = "09506000134352:A18";

v1::Event Created(const std::string& lot_id, const std::string& event_id) {
  v1::Event e;
  e.set_event_id(event_id);
  e.set_aggregate_id(lot_id);
  e.add_lot_ids(lot_id);
  v1::LotCreated& c = *e.mutable_lot_created();
  c.set_lot_id(lot_id);
  c.set_item(kItem);
  c.set_lot_number(lot_id.substr(lot_id.find(':') + 1));
  c.mutable_quantity()->set_amount(10);
  c.mutable_quantity()->set_uom("EA");
  c.mutable_expires_on()->set_year(2030);
  c.mutable_expires_on()->set_month(1);
  c.mutable_expires_on()->set_day(1);
  return e;
}

v1::Event Assigned(const std::string& lot_id, const std::string& event_id,
                   const std::vector<std::pair<std::string, std::string>>& r,
                   int64_t count, int64_t total) {
  v1::Event e;
  e.set_event_id(event_id);
  e.set_aggregate_id(lot_id);
  e.add_lot_ids(lot_id);
  v1::SerialsAssigned& a = *e.mutable_serials_assigned();
  a.set_lot_id(lot_id);
  a.set_item(kItem);
  for (const auto& [first, last] : r) {
    v1::SerialRange& range = *a.add_serials();
    range.set_first(first);
    range.set_last(last);
  }
  a.set_count(count);
  a.set_lot_total(total);
  return e;
}

std::vector<v1::Event> Story() {
  v1::Event product;
  product.set_event_id("e0");
  product.set_aggregate_id(kItem);
  v1::Product& p = *product.mutable_product_defined()->mutable_product();
  p.set_item(kItem);
  p.set_name("Hip stem");
  p.set_uom("EA");
  p.set_kind(v1::ITEM_KIND_FINISHED_DEVICE);
  p.set_tracking(v1::TRACKING_SERIAL);
  return {product,
          Created(kA17, "e1"),
          Created(kA18, "e2"),
          Assigned(kA17, "e3", {{"SN0001", "SN0003"}}, 3, 3),
          Assigned(kA18, "e4", {{"SN0010", ""}}, 1, 1),
          Assigned(kA17, "e5", {{"SN0005", ""}, {"SN0007", "SN0008"}}, 3, 6)};
}

class SerialRegisterProjection : public ::testing::Test {
 protected:
  static std::unique_ptr<projection::ProjectionStore> Open(
      const std::string& path) {
    auto store = projection::ProjectionStore::Open(
        {.path = path, .column_families = LotsColumnFamilies()});
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  static void Apply(projection::ProjectionStore& store,
                    const std::vector<v1::Event>& events) {
    projection::ProjectionStore::Batch batch = store.NewBatch();
    for (const v1::Event& e : events) {
      ASSERT_TRUE(ApplyLotsEvent(eventlog::Record(), e, batch).ok());
    }
    ASSERT_TRUE(store.Commit(std::move(batch)).ok());
  }

  projection::testing::ScopedTempDir one_;
  projection::testing::ScopedTempDir other_;
};

TEST_F(SerialRegisterProjection, RegisterAnswersAndRebuildsByteIdentical) {
  auto store = Open(one_.path());
  ASSERT_NE(store, nullptr);
  Apply(*store, Story());
  LotsQueries q(store.get());

  auto lot = q.FindSerialLot(kItem, "SN0002");
  ASSERT_TRUE(lot.ok()) << lot.status();
  EXPECT_EQ(lot->value_or(""), kA17);
  lot = q.FindSerialLot(kItem, "SN0010");
  ASSERT_TRUE(lot.ok());
  EXPECT_EQ(lot->value_or(""), kA18);
  lot = q.FindSerialLot(kItem, "SN0004");
  ASSERT_TRUE(lot.ok());
  EXPECT_FALSE(lot->has_value());
  lot = q.FindSerialLot("09506000134369", "SN0002");  // another item
  ASSERT_TRUE(lot.ok());
  EXPECT_FALSE(lot->has_value());

  auto serials = q.LotSerials(kA17);
  ASSERT_TRUE(serials.ok());
  EXPECT_THAT(*serials, ElementsAre("SN0001", "SN0002", "SN0003", "SN0005",
                                    "SN0007", "SN0008"));
  auto a17 = q.GetLot(kA17);
  ASSERT_TRUE(a17.ok());
  EXPECT_EQ(a17->serial_count(), 6);
  auto counts = q.FindSerialAssignment(kA17, "e5");
  ASSERT_TRUE(counts.ok());
  ASSERT_TRUE(counts->has_value());
  EXPECT_EQ((*counts)->count(), 3);
  EXPECT_EQ((*counts)->lot_total(), 6);
  auto by_serial = q.SerialLots(kItem, {"SN0001", "SN0004", "SN0010"});
  ASSERT_TRUE(by_serial.ok());
  EXPECT_EQ(by_serial->size(), 2u);
  EXPECT_EQ(by_serial->at("SN0010"), kA18);

  // The same events one per batch, a SerialsAssigned delivered twice.
  auto rebuilt = Open(other_.path());
  ASSERT_NE(rebuilt, nullptr);
  const std::vector<v1::Event> story = Story();
  for (const v1::Event& e : story) Apply(*rebuilt, {e});
  Apply(*rebuilt, {story[3]});
  auto live = store->Digest();
  auto again = rebuilt->Digest();
  ASSERT_TRUE(live.ok() && again.ok());
  EXPECT_EQ(*live, *again);
}

TEST_F(SerialRegisterProjection, TraceBySerialStartsAtItsLot) {
  auto store = Open(one_.path());
  ASSERT_NE(store, nullptr);
  Apply(*store, Story());
  LotsQueries q(store.get());

  v1::TraceRequest req;
  req.set_item(kItem);
  req.set_serial("SN0010");
  req.set_direction(v1::TRACE_DIRECTION_BACKWARD);
  auto trace = q.TraceFromStore(req);
  ASSERT_TRUE(trace.ok()) << trace.status();
  ASSERT_GE(trace->nodes_size(), 1);
  EXPECT_EQ(trace->nodes(0).lot_id(), kA18);
  EXPECT_EQ(trace->serial(), "SN0010");

  req.set_serial("SN4711");
  trace = q.Trace(req);
  EXPECT_EQ(trace.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(trace.status().message(),
            "serial SN4711 of 09506000134352 is not assigned to any lot");

  req.set_lot_id(kA17);
  trace = q.Trace(req);
  EXPECT_EQ(trace.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(trace.status().message(),
            "lot_id: give a lot id, or item and serial, not both");

  v1::TraceRequest no_item;
  no_item.set_serial("SN0001");
  no_item.set_direction(v1::TRACE_DIRECTION_BACKWARD);
  trace = q.Trace(no_item);
  EXPECT_EQ(trace.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(trace.status().message(), "item: required with serial");
}

}  // namespace
}  // namespace lotledger::lots
