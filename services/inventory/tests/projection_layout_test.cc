// The inventory projection's lot reads over a real RocksDB projection:
// a lot's customers are stored as keys of their own beside the lot's row
// (inventory_projection.h, inv_lots), and every read answers the lot as
// the domain's Evolve folds the same events (customers sorted by id, with
// what each was shipped and returned), whether the events were applied in
// one batch or in several; a lot whose id is the start of another lot's
// id gets none of the other's customers; the distribution lists each
// customer's shipments (read from the lot's movements) in log order with
// the lines of one shipment added up; returns are decided on the balances
// as read, refused with their reason beyond what a customer holds.
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "libs/domain/inventory/decider.h"
#include "libs/projection/projection_store.h"
#include "lotledger/v1/events.pb.h"
#include "lotledger/v1/inventory_domain.pb.h"
#include "services/inventory/inventory_projection.h"

namespace lotledger::inventory {
namespace {

using google::protobuf::util::MessageDifferencer;

constexpr char kItem[] = "09506000134352";
// S1 is the start of S10's id: their keys interleave in inv_lots.
constexpr char kS1[] = "09506000134352:S1";
constexpr char kS10[] = "09506000134352:S10";
constexpr char kBin[] = "FRA-WH1-B07";

v1::Event Base(const std::string& lot_id, int seconds) {
  v1::Event e;
  e.set_event_id(absl::StrCat("ev-", seconds));
  e.set_aggregate_id(lot_id);
  e.add_lot_ids(lot_id);
  e.mutable_recorded_at()->set_seconds(1780000000 + seconds);
  return e;
}

v1::Event Bin() {
  v1::Event e;
  e.set_event_id("ev-bin");
  e.mutable_recorded_at()->set_seconds(1780000000);
  v1::Location* l = e.mutable_location_created()->mutable_location();
  l->set_location_id(kBin);
  l->set_region_id("EU");
  l->set_kind(v1::LOCATION_KIND_BIN);
  return e;
}

v1::Event Created(const std::string& lot_id, int t) {
  v1::Event e = Base(lot_id, t);
  v1::LotCreated* c = e.mutable_lot_created();
  c->set_lot_id(lot_id);
  c->set_item(kItem);
  c->set_lot_number(lot_id.substr(lot_id.find(':') + 1));
  c->mutable_quantity()->set_amount(100);
  c->mutable_quantity()->set_uom("EA");
  c->mutable_expires_on()->set_year(2028);
  c->mutable_expires_on()->set_month(1);
  c->mutable_expires_on()->set_day(31);
  return e;
}

v1::Event Received(const std::string& lot_id, int64_t amount, int t) {
  v1::Event e = Base(lot_id, t);
  v1::StockReceived* r = e.mutable_stock_received();
  r->set_lot_id(lot_id);
  r->set_location_id(kBin);
  r->mutable_quantity()->set_amount(amount);
  r->mutable_quantity()->set_uom("EA");
  return e;
}

// A line of shipment SHP-<shipment>.
v1::Event Shipped(const std::string& lot_id, const std::string& customer,
                  int64_t amount, int t, int shipment = 0) {
  v1::Event e = Base(lot_id, t);
  v1::StockShipped* s = e.mutable_stock_shipped();
  s->set_shipment_id(absl::StrCat("SHP-", shipment == 0 ? t : shipment));
  s->set_lot_id(lot_id);
  s->set_from_location_id(kBin);
  s->set_from_region_id("EU");
  s->mutable_quantity()->set_amount(amount);
  s->mutable_quantity()->set_uom("EA");
  s->mutable_customer()->set_customer_id(customer);
  s->mutable_ship_date()->set_year(2026);
  s->mutable_ship_date()->set_month(6);
  s->mutable_ship_date()->set_day(1);
  return e;
}

v1::Event Returned(const std::string& lot_id, const std::string& customer,
                   int64_t amount, int t) {
  v1::Event e = Base(lot_id, t);
  v1::StockReturned* r = e.mutable_stock_returned();
  r->set_lot_id(lot_id);
  r->set_customer_id(customer);
  r->set_to_location_id(kBin);
  r->mutable_quantity()->set_amount(amount);
  r->mutable_quantity()->set_uom("EA");
  r->set_condition(v1::RETURN_CONDITION_RESALEABLE);
  return e;
}

std::vector<v1::Event> History() {
  return {Bin(),
          Created(kS1, 1),
          Created(kS10, 2),
          Received(kS1, 100, 3),
          Received(kS10, 50, 4),
          Shipped(kS1, "H-2", 10, 5),
          Shipped(kS1, "H-10", 5, 6),
          Shipped(kS10, "H-9", 3, 7),
          Shipped(kS1, "H-1", 7, 8),
          Returned(kS1, "H-2", 4, 9),
          Shipped(kS1, "H-2", 2, 10),
          Shipped(kS1, "H-1", 1, 11, /*shipment=*/8)};
}

class ProjectionLayoutTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    dir_ = absl::StrCat(::testing::TempDir(), "/inventory_layout_", getpid(),
                        "_", GetParam());
    std::filesystem::remove_all(dir_);
    auto store = projection::ProjectionStore::Open(
        {.path = dir_, .column_families = InventoryColumnFamilies()});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    // Applies the history in batches of GetParam() events, and folds it
    // with the domain's Evolve for the expected views.
    const std::vector<v1::Event> events = History();
    int64_t offset = 0;
    for (size_t i = 0; i < events.size();) {
      projection::ProjectionStore::Batch batch = store_->NewBatch();
      for (int n = 0; n < GetParam() && i < events.size(); ++n, ++i) {
        eventlog::Record record;
        record.topic = "lotledger.inventory.v1";
        record.offset = offset++;
        ASSERT_TRUE(ApplyInventoryEvent(record, events[i], batch).ok());
        Evolve(expected_, events[i]);
      }
      ASSERT_TRUE(store_->Commit(std::move(batch)).ok());
    }
    queries_ = std::make_unique<InventoryQueries>(store_.get());
  }

  void TearDown() override {
    queries_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string dir_;
  std::unique_ptr<projection::ProjectionStore> store_;
  std::unique_ptr<InventoryQueries> queries_;
  v1::InventoryDecisionState expected_;
};

TEST_P(ProjectionLayoutTest, ALotIsReadWithItsCustomersAsTheDomainFoldsIt) {
  absl::StatusOr<v1::LotInventory> s1 = queries_->GetLot(kS1);
  ASSERT_TRUE(s1.ok()) << s1.status();
  EXPECT_TRUE(MessageDifferencer::Equals(*s1, expected_.lots().at(kS1)))
      << s1->DebugString() << "\nexpected\n"
      << expected_.lots().at(kS1).DebugString();
  // By customer id, as bytes: H-1, H-10, H-2.
  ASSERT_EQ(s1->customers_size(), 3);
  EXPECT_EQ(s1->customers(0).customer_id(), "H-1");
  EXPECT_EQ(s1->customers(0).shipped(), 8);
  EXPECT_EQ(s1->customers(1).customer_id(), "H-10");
  EXPECT_EQ(s1->customers(1).shipped(), 5);
  EXPECT_EQ(s1->customers(2).customer_id(), "H-2");
  EXPECT_EQ(s1->customers(2).shipped(), 12);
  EXPECT_EQ(s1->customers(2).returned(), 4);
  EXPECT_EQ(s1->on_hand(), 100 - 10 - 5 - 7 + 4 - 2 - 1);

  // S1's balances sort between S1 and S10: S10 gets none of them.
  absl::StatusOr<std::optional<v1::LotInventory>> s10 = queries_->FindLot(kS10);
  ASSERT_TRUE(s10.ok()) << s10.status();
  ASSERT_TRUE(s10->has_value());
  EXPECT_TRUE(MessageDifferencer::Equals(**s10, expected_.lots().at(kS10)))
      << (*s10)->DebugString();
  ASSERT_EQ((*s10)->customers_size(), 1);
  EXPECT_EQ((*s10)->customers(0).customer_id(), "H-9");

  absl::StatusOr<std::vector<v1::LotInventory>> loaded =
      queries_->LoadLots({kS10, "09506000134352:S9", kS1});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_EQ(loaded->size(), 2u);
  EXPECT_TRUE(MessageDifferencer::Equals((*loaded)[0], **s10));
  EXPECT_TRUE(MessageDifferencer::Equals((*loaded)[1], *s1));

  google::protobuf::Map<std::string, v1::LotInventory> of_item;
  ASSERT_TRUE(queries_->LoadLotsOfItem(kItem, &of_item).ok());
  ASSERT_EQ(of_item.size(), 2u);
  EXPECT_TRUE(MessageDifferencer::Equals(of_item.at(kS1), *s1));

  absl::StatusOr<v1::LotInventory> unknown =
      queries_->GetLot("09506000134352:S");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(unknown.status().message(), "lot 09506000134352:S does not exist");
}

TEST_P(ProjectionLayoutTest,
       DistributionListsEachCustomersShipmentsInLogOrder) {
  absl::StatusOr<v1::TraceLotDistributionResponse> d =
      queries_->Distribution(kS1);
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_EQ(d->customers_size(), 3);
  const v1::CustomerDistribution& h1 = d->customers(0);
  EXPECT_EQ(h1.customer().customer_id(), "H-1");
  EXPECT_EQ(h1.shipped().amount(), 8);
  EXPECT_EQ(h1.net_held().amount(), 8);
  // Two lines of SHP-8 (times 8 and 11) are one shipment of 8.
  ASSERT_EQ(h1.shipments_size(), 1);
  EXPECT_EQ(h1.shipments(0).shipment_id(), "SHP-8");
  EXPECT_EQ(h1.shipments(0).quantity().amount(), 8);
  EXPECT_EQ(h1.shipments(0).ship_date().month(), 6);
  const v1::CustomerDistribution& h2 = d->customers(2);
  EXPECT_EQ(h2.customer().customer_id(), "H-2");
  EXPECT_EQ(h2.shipped().amount(), 12);
  EXPECT_EQ(h2.returned().amount(), 4);
  EXPECT_EQ(h2.net_held().amount(), 8);
  ASSERT_EQ(h2.shipments_size(), 2);
  EXPECT_EQ(h2.shipments(0).shipment_id(), "SHP-5");
  EXPECT_EQ(h2.shipments(0).quantity().amount(), 10);
  EXPECT_EQ(h2.shipments(1).shipment_id(), "SHP-10");
  EXPECT_EQ(h2.shipments(1).quantity().amount(), 2);
  // S10's shipments stay S10's.
  absl::StatusOr<v1::TraceLotDistributionResponse> d10 =
      queries_->Distribution(kS10);
  ASSERT_TRUE(d10.ok()) << d10.status();
  ASSERT_EQ(d10->customers_size(), 1);
  ASSERT_EQ(d10->customers(0).shipments_size(), 1);
  EXPECT_EQ(d10->customers(0).shipments(0).shipment_id(), "SHP-7");
}

TEST_P(ProjectionLayoutTest, ReturnsAreDecidedOnTheBalancesAsRead) {
  v1::InventoryDecisionState state;
  absl::StatusOr<v1::LotInventory> s1 = queries_->GetLot(kS1);
  ASSERT_TRUE(s1.ok()) << s1.status();
  (*state.mutable_lots())[kS1] = *s1;
  (*state.mutable_locations())[kBin] = Bin().location_created().location();
  v1::InventoryCommand cmd;
  v1::ReturnStockRequest* r = cmd.mutable_return_stock();
  r->set_lot_id(kS1);
  r->set_customer_id("H-2");
  r->set_location_id(kBin);
  r->mutable_quantity()->set_amount(9);
  r->mutable_quantity()->set_uom("EA");
  r->set_condition(v1::RETURN_CONDITION_RESALEABLE);
  absl::StatusOr<std::vector<v1::Event>> refused = Decide(state, cmd);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.status().message(),
            "customer H-2 holds 8 EA of lot 09506000134352:S1 (shipped 12, "
            "returned 4); cannot take back 9");
  r->mutable_quantity()->set_amount(8);
  absl::StatusOr<std::vector<v1::Event>> taken = Decide(state, cmd);
  ASSERT_TRUE(taken.ok()) << taken.status();
  r->set_customer_id("H-3");
  absl::StatusOr<std::vector<v1::Event>> never = Decide(state, cmd);
  EXPECT_EQ(never.status().message(),
            "customer H-3 was never shipped lot 09506000134352:S1; nothing of "
            "it can come back from them");
}

// One event per batch (every read from RocksDB), and all in one batch
// (every read through the batch's pending writes).
INSTANTIATE_TEST_SUITE_P(Batches, ProjectionLayoutTest,
                         ::testing::Values(1, 3, 64));

}  // namespace
}  // namespace lotledger::inventory
