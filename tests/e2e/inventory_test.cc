// Inventory with lots and quality, over real gRPC, on the embedded log and
// on Kafka: a product and lots made in the lots service, released or held
// in quality, a location hierarchy, a receipt by GS1 scan and by lot id, a
// FEFO pick list that leaves the held lot out, a shipment that reads the
// release through the consistency token, a refused shipment of a held lot
// that writes nothing, a return, a scrap, and the same lot inventory after
// a rebuild of the projections from the log (InventoryTest). Then, each on
// its own stack from one shared world (InventoryQueriesTest): FEFO by
// region, the queries' figures, and expiry alerts driven by a ManualClock:
// raised once per lot and threshold across sweeps, a restart and a rebuild,
// and streamed by WatchAlerts.
#include <filesystem>
#include <map>
#include <string_view>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "gtest/gtest.h"
#include "libs/command/projector.h"
#include "libs/common/clock.h"
#include "libs/projection/projection_store.h"
#include "lotledger/v1/inventory.grpc.pb.h"
#include "lotledger/v1/lots.grpc.pb.h"
#include "lotledger/v1/quality.grpc.pb.h"
#include "services/inventory/inventory_projection.h"
#include "tests/support/stack.h"
#include "tests/support/tokens.h"

namespace lotledger::testing {
namespace {

constexpr char kDevice[] = "09506000134352";
constexpr char kA17[] = "09506000134352:A17";
constexpr char kA18[] = "09506000134352:A18";
constexpr char kBin[] = "FRA-WH1-B07";

class InventoryTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    stack_ =
        TestStack::Start(GetParam(), {"lots", "quality", "inventory"}, &clock_);
    ASSERT_NE(stack_, nullptr);
    Connect();
  }
  void Connect() {
    lots_ = v1::LotsService::NewStub(stack_->channel());
    quality_ = v1::QualityService::NewStub(stack_->channel());
    inventory_ = v1::InventoryService::NewStub(stack_->channel());
  }

  // Every write's token, merged, and passed as `after` to the next call.
  void Remember(const v1::ConsistencyToken& t) { MergeToken(t, &token_); }

  void DefineDevice() {
    v1::DefineProductRequest req;
    req.set_request_id(NewRequestId());
    v1::Product* p = req.mutable_product();
    p->set_item(kDevice);
    p->set_name("catheter");
    p->set_uom("EA");
    p->set_kind(v1::ITEM_KIND_FINISHED_DEVICE);
    p->mutable_policy()->set_shelf_life_days(730);
    v1::DefineProductResponse resp;
    grpc::Status s =
        lots_->DefineProduct(stack_->Ctx("admin").get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    Remember(resp.token());
  }

  v1::Lot CreateLot(const std::string& number, int64_t qty) {
    v1::CreateLotRequest req;
    req.set_request_id(NewRequestId());
    req.set_item(kDevice);
    req.set_lot_number(number);
    req.mutable_manufactured_on()->set_year(2026);
    req.mutable_manufactured_on()->set_month(3);
    req.mutable_manufactured_on()->set_day(2);
    req.mutable_quantity()->set_amount(qty);
    req.mutable_quantity()->set_uom("EA");
    req.set_site("Galway");
    v1::CreateLotResponse resp;
    grpc::Status s =
        lots_->CreateLot(stack_->Ctx("operator").get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    Remember(resp.token());
    return resp.lot();
  }

  void Dispose(const std::string& lot_id, v1::Disposition to) {
    v1::RecordInspectionRequest ins = FinalInspection(lot_id);
    *ins.mutable_after() = token_;
    v1::RecordInspectionResponse inspected;
    grpc::Status s = quality_->RecordInspection(stack_->Ctx("inspector").get(),
                                                ins, &inspected);
    ASSERT_TRUE(s.ok()) << s.error_message();
    Remember(inspected.token());
    v1::ChangeDispositionRequest req;
    req.set_request_id(NewRequestId());
    req.set_lot_id(lot_id);
    req.set_to(to);
    req.mutable_signature()->set_meaning("disposition");
    req.mutable_signature()->set_reason("sterility retest");
    req.mutable_signature()->set_credential(stack_->Token("approver"));
    *req.mutable_after() = token_;
    v1::ChangeDispositionResponse resp;
    s = quality_->ChangeDisposition(stack_->Ctx("approver").get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    Remember(resp.token());
  }

  void Location(const std::string& id, v1::LocationKind kind,
                const std::string& parent, bool quarantine = false) {
    v1::CreateLocationRequest req;
    req.set_request_id(NewRequestId());
    req.set_location_id(id);
    req.set_name(id + " location");
    req.set_kind(kind);
    req.set_parent_id(parent);
    req.set_quarantine(quarantine);
    v1::CreateLocationResponse resp;
    grpc::Status s =
        inventory_->CreateLocation(stack_->Ctx("admin").get(), req, &resp);
    ASSERT_TRUE(s.ok()) << id << ": " << s.error_message();
    EXPECT_EQ(resp.location().location_id(), id);
    Remember(resp.token());
  }

  v1::ShipmentLine Line(const std::string& lot_id, int64_t amount) {
    v1::ShipmentLine l;
    l.set_lot_id(lot_id);
    l.set_location_id(kBin);
    l.mutable_quantity()->set_amount(amount);
    l.mutable_quantity()->set_uom("EA");
    return l;
  }

  grpc::Status Ship(const std::vector<v1::ShipmentLine>& lines,
                    v1::ShipStockResponse* resp) {
    v1::ShipStockRequest req;
    req.set_request_id(NewRequestId());
    req.mutable_customer()->set_customer_id("H-12");
    req.mutable_customer()->set_name("St. Mary's Hospital");
    req.mutable_customer()->set_region("DE-South");
    for (const v1::ShipmentLine& l : lines) *req.add_lines() = l;
    *req.mutable_after() = token_;
    grpc::Status s =
        inventory_->ShipStock(stack_->Ctx("operator").get(), req, resp);
    Remember(resp->token());
    return s;
  }

  // A resaleable return of `amount` of `lot_id` from H-12 into the bin.
  v1::ReturnStockRequest ReturnFromH12(const std::string& lot_id,
                                       int64_t amount) {
    v1::ReturnStockRequest ret;
    ret.set_request_id(NewRequestId());
    ret.set_lot_id(lot_id);
    ret.set_customer_id("H-12");
    ret.set_location_id(kBin);
    ret.mutable_quantity()->set_amount(amount);
    ret.set_condition(v1::RETURN_CONDITION_RESALEABLE);
    *ret.mutable_after() = token_;
    return ret;
  }

  // Scrapping `amount` of `lot_id` in the bin as damaged, signed by the
  // operator.
  v1::ScrapStockRequest ScrapDamaged(const std::string& lot_id,
                                     int64_t amount) {
    v1::ScrapStockRequest scrap;
    scrap.set_request_id(NewRequestId());
    scrap.set_lot_id(lot_id);
    scrap.set_location_id(kBin);
    scrap.mutable_quantity()->set_amount(amount);
    scrap.set_reason(v1::SCRAP_REASON_DAMAGED);
    scrap.mutable_signature()->set_credential(stack_->Token("operator"));
    return scrap;
  }

  v1::LotInventory Get(const std::string& lot_id) {
    v1::GetLotInventoryRequest req;
    req.set_lot_id(lot_id);
    *req.mutable_after() = token_;
    v1::GetLotInventoryResponse resp;
    grpc::Status s =
        inventory_->GetLotInventory(stack_->Ctx("auditor").get(), req, &resp);
    EXPECT_TRUE(s.ok()) << lot_id << ": " << s.error_message();
    return resp.lot();
  }

  // Today (UTC) by the clock, plus `days`.
  v1::Date Day(int days) {
    const absl::CivilDay d =
        absl::ToCivilDay(clock_.Now(), absl::UTCTimeZone()) + days;
    v1::Date out;
    out.set_year(static_cast<int32_t>(d.year()));
    out.set_month(d.month());
    out.set_day(d.day());
    return out;
  }

  // The inventory projection of a stopped stack, as "cf \0 key" -> value,
  // every column family but the input offsets: on Kafka a projector
  // stopped before reading the last transaction's commit marker stores
  // an offset one lower than one that read it, which says nothing about
  // the state (a digest, which covers the offsets, then differs).
  std::map<std::string, std::string> ProjectionState() {
    projection::ProjectionStore::Options options;
    options.path = (std::filesystem::path(stack_->config().data_dir) /
                    "projections" / "inventory")
                       .string();
    std::map<std::string, std::string> state;
    auto store = projection::ProjectionStore::Open(options);
    EXPECT_TRUE(store.ok()) << store.status();
    if (!store.ok()) return state;
    for (const std::string& cf : command::ProjectorColumnFamilies(
             inventory::InventoryColumnFamilies())) {
      const absl::Status s = (*store)->Scan(
          cf, "", "", [&](std::string_view key, std::string_view value) {
            std::string k = cf;
            k.push_back('\0');
            k.append(key);
            state[std::move(k)] = value;
            return true;
          });
      EXPECT_TRUE(s.ok()) << s;
    }
    return state;
  }

  // The services' time: starts now (whole seconds), moved by the tests.
  ManualClock clock_{absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()))};
  v1::ConsistencyToken token_;
  std::unique_ptr<TestStack> stack_;
  std::unique_ptr<v1::LotsService::Stub> lots_;
  std::unique_ptr<v1::QualityService::Stub> quality_;
  std::unique_ptr<v1::InventoryService::Stub> inventory_;
};

TEST_P(InventoryTest, ReceiveShipReturnScrapAndRebuild) {
  DefineDevice();
  const v1::Lot a17 = CreateLot("A17", 100);
  CreateLot("A18", 50);
  Location("EU", v1::LOCATION_KIND_SITE, "");
  Location("EU-W", v1::LOCATION_KIND_REGION, "EU");
  Location("FRA-WH1", v1::LOCATION_KIND_WAREHOUSE, "EU-W");
  Location(kBin, v1::LOCATION_KIND_BIN, "FRA-WH1");
  Location("FRA-QA", v1::LOCATION_KIND_WAREHOUSE, "EU-W", true);

  v1::ListLocationsRequest list;
  list.set_under_location_id("EU-W");
  *list.mutable_after() = token_;
  v1::ListLocationsResponse locations;
  ASSERT_TRUE(
      inventory_->ListLocations(stack_->Ctx("auditor").get(), list, &locations)
          .ok());
  ASSERT_EQ(locations.locations_size(), 4);  // EU-W, FRA-QA, FRA-WH1, bin
  EXPECT_EQ(locations.locations(0).location_id(), "EU-W");

  // A17 by its GS1 label, A18 by lot id; unreleased stock can be received.
  const v1::Date& e = a17.expires_on();
  v1::ReceiveStockRequest recv;
  recv.set_request_id(NewRequestId());
  recv.set_gs1_scan(absl::StrFormat("(01)%s(10)A17(17)%02d%02d%02d", kDevice,
                                    e.year() % 100, e.month(), e.day()));
  recv.set_location_id(kBin);
  recv.mutable_quantity()->set_amount(100);
  recv.set_source(v1::RECEIPT_SOURCE_PRODUCTION);
  *recv.mutable_after() = token_;
  v1::ReceiveStockResponse received;
  grpc::Status s =
      inventory_->ReceiveStock(stack_->Ctx("operator").get(), recv, &received);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(received.lot().on_hand(), 100);
  Remember(received.token());
  // A label whose expiry is not the lot's is refused with both dates.
  recv.set_request_id(NewRequestId());
  recv.set_gs1_scan(absl::StrFormat("(01)%s(10)A17(17)%02d%02d%02d", kDevice,
                                    e.year() % 100 + 1, e.month(), e.day()));
  s = inventory_->ReceiveStock(stack_->Ctx("operator").get(), recv, &received);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << s.error_message();
  recv.set_request_id(NewRequestId());
  recv.set_lot_id(kA18);
  recv.mutable_quantity()->set_amount(50);
  s = inventory_->ReceiveStock(stack_->Ctx("operator").get(), recv, &received);
  ASSERT_TRUE(s.ok()) << s.error_message();
  Remember(received.token());
  // Stock movements are the operator's, not an auditor's.
  recv.set_request_id(NewRequestId());
  s = inventory_->ReceiveStock(stack_->Ctx("auditor").get(), recv, &received);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);

  // Release A17, hold A18; the merged token makes inventory see both.
  Dispose(kA17, v1::DISPOSITION_RELEASED);
  Dispose(kA18, v1::DISPOSITION_ON_HOLD);

  v1::AllocateFefoRequest fefo;
  fefo.set_item(kDevice);
  fefo.mutable_quantity()->set_amount(30);
  fefo.mutable_quantity()->set_uom("EA");
  fefo.mutable_customer()->set_customer_id("H-12");
  *fefo.mutable_after() = token_;
  v1::AllocateFefoResponse picks;
  s = inventory_->AllocateFefo(stack_->Ctx("operator").get(), fefo, &picks);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(picks.lines_size(), 1);
  EXPECT_EQ(picks.lines(0).lot_id(), kA17);
  EXPECT_EQ(picks.lines(0).quantity().amount(), 30);
  EXPECT_EQ(picks.shortfall().amount(), 0);
  // More than the released stock: the held lot is skipped with its rule,
  // and the rest is a shortfall.
  fefo.mutable_quantity()->set_amount(120);
  v1::AllocateFefoResponse short_picks;
  s = inventory_->AllocateFefo(stack_->Ctx("operator").get(), fefo,
                               &short_picks);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(short_picks.allocated().amount(), 100);
  EXPECT_EQ(short_picks.shortfall().amount(), 20);
  ASSERT_GE(short_picks.skipped_size(), 1);
  EXPECT_EQ(short_picks.skipped(0).lot_id(), kA18);
  EXPECT_NE(short_picks.skipped(0).reason().find("on hold"), std::string::npos)
      << short_picks.skipped(0).reason();

  // Ship the pick list as is.
  v1::ShipStockResponse shipped;
  s = Ship({picks.lines().begin(), picks.lines().end()}, &shipped);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_FALSE(shipped.shipment().shipment_id().empty());
  EXPECT_EQ(shipped.shipment().lines_size(), 1);

  // A shipment with a held lot is refused whole: A17's line is not shipped.
  s = Ship({Line(kA17, 10), Line(kA18, 5)}, &shipped);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find(kA18), std::string::npos)
      << s.error_message();
  EXPECT_NE(s.error_message().find("on hold"), std::string::npos)
      << s.error_message();
  EXPECT_EQ(Get(kA17).on_hand(), 70);

  // The customer sends 5 back; more than it holds is refused.
  v1::ReturnStockRequest ret = ReturnFromH12(kA17, 5);
  v1::ReturnStockResponse returned;
  s = inventory_->ReturnStock(stack_->Ctx("operator").get(), ret, &returned);
  ASSERT_TRUE(s.ok()) << s.error_message();
  Remember(returned.token());
  ret.set_request_id(NewRequestId());
  ret.mutable_quantity()->set_amount(26);
  s = inventory_->ReturnStock(stack_->Ctx("operator").get(), ret, &returned);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << s.error_message();

  const v1::ScrapStockRequest scrap = ScrapDamaged(kA17, 2);
  v1::ScrapStockResponse scrapped;
  s = inventory_->ScrapStock(stack_->Ctx("operator").get(), scrap, &scrapped);
  ASSERT_TRUE(s.ok()) << s.error_message();
  Remember(scrapped.token());
  // Scrapping is an electronic signature: without a re-authentication it
  // is refused and writes nothing (on hand stays 73 below).
  v1::ScrapStockRequest unsigned_scrap = scrap;
  unsigned_scrap.set_request_id(NewRequestId());
  unsigned_scrap.clear_signature();
  s = inventory_->ScrapStock(stack_->Ctx("operator").get(), unsigned_scrap,
                             &scrapped);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED)
      << s.error_message();

  const v1::LotInventory lot = Get(kA17);
  EXPECT_EQ(lot.on_hand(), 73);
  EXPECT_EQ(lot.received(), 100);
  EXPECT_EQ(lot.shipped(), 30);
  EXPECT_EQ(lot.returned(), 5);
  EXPECT_EQ(lot.scrapped(), 2);
  EXPECT_EQ(lot.disposition(), v1::DISPOSITION_RELEASED);
  ASSERT_EQ(lot.stock_size(), 1);
  EXPECT_EQ(lot.stock(0).location_id(), kBin);
  EXPECT_EQ(lot.stock(0).amount(), 73);
  ASSERT_EQ(lot.customers_size(), 1);
  EXPECT_EQ(lot.customers(0).customer_id(), "H-12");
  EXPECT_EQ(lot.customers(0).shipped(), 30);
  EXPECT_EQ(lot.customers(0).returned(), 5);
  EXPECT_EQ(Get(kA18).on_hand(), 50);
  EXPECT_EQ(Get(kA18).disposition(), v1::DISPOSITION_ON_HOLD);

  // A17's movements, oldest first, with their envelopes: received,
  // shipped, returned, scrapped.
  v1::ListMovementsRequest moves;
  moves.set_lot_id(kA17);
  *moves.mutable_after() = token_;
  v1::ListMovementsResponse moved;
  s = inventory_->ListMovements(stack_->Ctx("auditor").get(), moves, &moved);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(moved.events_size(), 4);
  EXPECT_TRUE(moved.events(0).has_stock_received());
  EXPECT_TRUE(moved.events(1).has_stock_shipped());
  EXPECT_TRUE(moved.events(2).has_stock_returned());
  EXPECT_TRUE(moved.events(3).has_stock_scrapped());
  const v1::Signature& signed_scrap =
      moved.events(3).stock_scrapped().signature();
  EXPECT_EQ(signed_scrap.signer(), "operator");
  EXPECT_EQ(signed_scrap.meaning(), "scrapped");
  EXPECT_EQ(signed_scrap.reason(), "SCRAP_REASON_DAMAGED");
  EXPECT_TRUE(signed_scrap.has_signed_at());
  EXPECT_EQ(moved.events(0).actor(), "operator");
  EXPECT_TRUE(moved.next_page_token().empty());

  auto snapshot = [&]() {
    v1::ListMovementsResponse m;
    EXPECT_TRUE(
        inventory_->ListMovements(stack_->Ctx("auditor").get(), moves, &m)
            .ok());
    return Get(kA17).DebugString() + Get(kA18).DebugString() + m.DebugString();
  };
  const std::string before = snapshot();
  stack_->Restart();
  Connect();
  EXPECT_EQ(snapshot(), before) << "after restart";
  stack_->Restart(/*drop_projections=*/true);
  Connect();
  EXPECT_EQ(snapshot(), before) << "after rebuild from the log";
}

// What the alert kinds of `alerts` are: "T180", "T90", "T30", "EXPIRED".
std::vector<std::string> Kinds(const std::vector<v1::InventoryAlert>& alerts) {
  std::vector<std::string> out;
  for (const v1::InventoryAlert& a : alerts) {
    out.push_back(
        a.has_expired()
            ? "EXPIRED"
            : absl::StrCat("T", a.threshold_crossed().threshold_days()));
  }
  return out;
}

// The world of the query and alert tests: catheters alerting at 180/90/30
// days; lots B1 (200 days left, 40 EA) and B2 (400, 100 EA) received in the
// EU bin and released, B3 (150, 30 EA) received in New Jersey and held.
class InventoryQueriesTest : public InventoryTest {
 protected:
  void SetUp() override {
    InventoryTest::SetUp();
    if (HasFatalFailure()) return;
    DefineAlertingDevice();
    if (HasFatalFailure()) return;
    for (const auto& [number, days, qty] :
         std::vector<std::tuple<std::string, int, int64_t>>{
             {"B1", 200, 40}, {"B2", 400, 100}, {"B3", 150, 30}}) {
      CreateDatedLot(number, days, qty);
      if (HasFatalFailure()) return;
    }
    Location("ACME", v1::LOCATION_KIND_SITE, "");
    Location("EU-W", v1::LOCATION_KIND_REGION, "ACME");
    Location("US", v1::LOCATION_KIND_REGION, "ACME");
    Location("FRA-WH1", v1::LOCATION_KIND_WAREHOUSE, "EU-W");
    Location(kBin, v1::LOCATION_KIND_BIN, "FRA-WH1");
    Location("NJ-WH1", v1::LOCATION_KIND_WAREHOUSE, "US");
    const v1::Date e1 = Day(200);
    Receive(absl::StrFormat("(01)%s(17)%02d%02d%02d(10)B1", kDevice,
                            e1.year() % 100, e1.month(), e1.day()),
            true, kBin, 40);
    Receive(b2_, false, kBin, 100);
    Receive(b3_, false, "NJ-WH1", 30);
    // The FEFO pick list and the shipment read the releases through the
    // token, never "not released".
    Dispose(b1_, v1::DISPOSITION_RELEASED);
    Dispose(b2_, v1::DISPOSITION_RELEASED);
    Dispose(b3_, v1::DISPOSITION_ON_HOLD);
  }

  void DefineAlertingDevice() {
    v1::DefineProductRequest req;
    req.set_request_id(NewRequestId());
    v1::Product* p = req.mutable_product();
    p->set_item(kDevice);
    p->set_name("catheter");
    p->set_uom("EA");
    p->set_kind(v1::ITEM_KIND_FINISHED_DEVICE);
    p->mutable_policy()->set_shelf_life_days(730);
    p->mutable_policy()->add_alert_thresholds_days(180);
    p->mutable_policy()->add_alert_thresholds_days(90);
    p->mutable_policy()->add_alert_thresholds_days(30);
    v1::DefineProductResponse resp;
    grpc::Status s =
        lots_->DefineProduct(stack_->Ctx("admin").get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    Remember(resp.token());
  }

  // A lot made 10 days ago that expires `days` from today.
  void CreateDatedLot(const std::string& number, int days, int64_t qty) {
    v1::CreateLotRequest req;
    req.set_request_id(NewRequestId());
    req.set_item(kDevice);
    req.set_lot_number(number);
    *req.mutable_manufactured_on() = Day(-10);
    *req.mutable_expires_on() = Day(days);
    req.mutable_quantity()->set_amount(qty);
    req.mutable_quantity()->set_uom("EA");
    v1::CreateLotResponse resp;
    grpc::Status s =
        lots_->CreateLot(stack_->Ctx("operator").get(), req, &resp);
    ASSERT_TRUE(s.ok()) << number << ": " << s.error_message();
    Remember(resp.token());
  }

  void Receive(const std::string& lot_or_scan, bool scan, const std::string& at,
               int64_t amount) {
    v1::ReceiveStockRequest req;
    req.set_request_id(NewRequestId());
    if (scan) {
      req.set_gs1_scan(lot_or_scan);
    } else {
      req.set_lot_id(lot_or_scan);
    }
    req.set_location_id(at);
    req.mutable_quantity()->set_amount(amount);
    req.set_source(v1::RECEIPT_SOURCE_PRODUCTION);
    *req.mutable_after() = token_;
    v1::ReceiveStockResponse resp;
    grpc::Status s =
        inventory_->ReceiveStock(stack_->Ctx("operator").get(), req, &resp);
    ASSERT_TRUE(s.ok()) << lot_or_scan << ": " << s.error_message();
    Remember(resp.token());
  }

  // 60 EA for H-12, first expiring first (from `under` when given).
  v1::AllocateFefoResponse Pick60(const std::string& under = "") {
    v1::AllocateFefoRequest fefo;
    fefo.set_item(kDevice);
    fefo.mutable_quantity()->set_amount(60);
    fefo.mutable_customer()->set_customer_id("H-12");
    fefo.set_from_location_id(under);
    *fefo.mutable_after() = token_;
    v1::AllocateFefoResponse picks;
    grpc::Status s =
        inventory_->AllocateFefo(stack_->Ctx("operator").get(), fefo, &picks);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return picks;
  }

  // Ships the 60 EA pick list (all of B1, 20 of B2) to H-12; then 5 of B2
  // come back and 2 are scrapped as damaged. Sets shipment_.
  void ShipReturnAndScrap() {
    const v1::AllocateFefoResponse picks = Pick60();
    v1::ShipStockResponse shipped;
    grpc::Status s =
        Ship({picks.lines().begin(), picks.lines().end()}, &shipped);
    ASSERT_TRUE(s.ok()) << s.error_message();
    shipment_ = shipped.shipment().shipment_id();
    ASSERT_EQ(shipped.shipment().lines_size(), 2);

    v1::ReturnStockRequest ret = ReturnFromH12(b2_, 5);
    ret.set_shipment_id(shipment_);
    v1::ReturnStockResponse returned;
    s = inventory_->ReturnStock(stack_->Ctx("operator").get(), ret, &returned);
    ASSERT_TRUE(s.ok()) << s.error_message();
    Remember(returned.token());
    v1::ScrapStockResponse scrapped;
    s = inventory_->ScrapStock(stack_->Ctx("operator").get(),
                               ScrapDamaged(b2_, 2), &scrapped);
    ASSERT_TRUE(s.ok()) << s.error_message();
    Remember(scrapped.token());
  }

  // Runs one expiry sweep and expects `want` alerts raised.
  // Stops the services; a projection rebuilt from the log (the services
  // restarted without their projections, caught up and swept) holds the
  // same bytes as the live one did.
  void ExpectARebuildHoldsTheLiveBytes() {
    stack_->Stop();
    const std::map<std::string, std::string> live = ProjectionState();
    ASSERT_FALSE(live.empty());
    stack_->Restart(/*drop_projections=*/true);
    Connect();
    Get(b3_);        // lots and quality applied up to token_
    SweepRaises(0);  // inventory applied to its end
    stack_->Stop();
    const std::map<std::string, std::string> rebuilt = ProjectionState();
    EXPECT_EQ(rebuilt.size(), live.size());
    for (const auto& [key, value] : live) {
      auto it = rebuilt.find(key);
      if (it == rebuilt.end()) {
        ADD_FAILURE() << "the rebuilt projection lacks " << key;
      } else {
        EXPECT_EQ(it->second, value) << "differs after a rebuild: " << key;
      }
    }
  }

  void SweepRaises(int want) {
    absl::StatusOr<int> raised = stack_->SweepExpiry();
    ASSERT_TRUE(raised.ok()) << raised.status();
    EXPECT_EQ(*raised, want);
  }

  // After ShipReturnAndScrap (B1 all shipped, so B3 alone has stock near
  // expiry): a watcher from before any alert; the sweeps of today and of 70
  // days on raise B3's 180- and 90-day alerts, which it reads; sweeping again
  // raises nothing. Returns the second alert's position.
  v1::ConsistencyToken RaiseTwoAlertsAndWatch() {
    auto watch_ctx = stack_->Ctx("auditor");
    v1::WatchAlertsRequest watch;
    *watch.mutable_resume_after() = token_;
    auto stream = inventory_->WatchAlerts(watch_ctx.get(), watch);
    SweepRaises(1);  // today B3 is within 180 days
    clock_.Advance(absl::Hours(24 * 70));
    SweepRaises(1);  // 70 days on, within 90
    SweepRaises(0);
    std::vector<v1::InventoryAlert> seen(2);
    EXPECT_TRUE(stream->Read(&seen[0]));
    EXPECT_TRUE(stream->Read(&seen[1]));
    EXPECT_EQ(Kinds(seen), (std::vector<std::string>{"T180", "T90"}));
    EXPECT_EQ(seen[1].threshold_crossed().lot_id(), b3_);
    EXPECT_EQ(seen[1].threshold_crossed().days_left(), 80);
    EXPECT_EQ(seen[1].threshold_crossed().on_hand().amount(), 30);
    watch_ctx->TryCancel();
    v1::InventoryAlert more;
    while (stream->Read(&more)) {
    }
    stream->Finish();
    return seen[1].position();
  }

  v1::GetKpisResponse Kpis() {
    v1::GetKpisRequest req;
    req.set_item(kDevice);
    *req.mutable_after() = token_;
    v1::GetKpisResponse kpis;
    grpc::Status s =
        inventory_->GetKpis(stack_->Ctx("auditor").get(), req, &kpis);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return kpis;
  }

  v1::NearExpiryReportResponse NearExpiry(bool expired_only) {
    v1::NearExpiryReportRequest near;
    near.set_expired_only(expired_only);
    *near.mutable_after() = token_;
    v1::NearExpiryReportResponse report;
    grpc::Status s = inventory_->NearExpiryReport(stack_->Ctx("auditor").get(),
                                                  near, &report);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return report;
  }

  const std::string b1_ = absl::StrCat(kDevice, ":B1");
  const std::string b2_ = absl::StrCat(kDevice, ":B2");
  const std::string b3_ = absl::StrCat(kDevice, ":B3");
  std::string shipment_;
};

TEST_P(InventoryQueriesTest, FefoPicksFirstExpiringReleasedStockByRegion) {
  const v1::AllocateFefoResponse picks = Pick60();
  ASSERT_EQ(picks.lines_size(), 2);
  EXPECT_EQ(picks.lines(0).lot_id(), b1_);
  EXPECT_EQ(picks.lines(0).quantity().amount(), 40);
  EXPECT_EQ(picks.lines(1).lot_id(), b2_);
  EXPECT_EQ(picks.lines(1).quantity().amount(), 20);
  // Limited to a region, FEFO passes over lots with no stock there (the
  // stock index says which regions a lot is in): in EU-W the same picks and
  // no word of the held lot in the US; in the US only the held lot, skipped.
  const v1::AllocateFefoResponse eu = Pick60("EU-W");
  ASSERT_EQ(eu.lines_size(), 2);
  EXPECT_EQ(eu.lines(0).lot_id(), b1_);
  EXPECT_EQ(eu.lines(1).lot_id(), b2_);
  EXPECT_EQ(eu.skipped_size(), 0);
  const v1::AllocateFefoResponse us = Pick60("US");
  EXPECT_EQ(us.lines_size(), 0);
  EXPECT_EQ(us.shortfall().amount(), 60);
  ASSERT_EQ(us.skipped_size(), 1);
  EXPECT_EQ(us.skipped(0).lot_id(), b3_);
}

TEST_P(InventoryQueriesTest, HeldLotNeverShips) {
  ShipReturnAndScrap();  // the releases ship
  v1::ShipmentLine held = Line(b3_, 5);
  held.set_location_id("NJ-WH1");
  v1::ShipStockResponse shipped;
  grpc::Status s = Ship({held}, &shipped);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("on hold"), std::string::npos)
      << s.error_message();
}

TEST_P(InventoryQueriesTest, StockByItemRegionAndSitePageByPage) {
  ShipReturnAndScrap();
  // Stock by item, in expiry order, with the total; then page by page.
  v1::ListStockRequest list;
  list.set_item(kDevice);
  *list.mutable_after() = token_;
  v1::ListStockResponse stock;
  grpc::Status s =
      inventory_->ListStock(stack_->Ctx("auditor").get(), list, &stock);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(stock.rows_size(), 2);  // B1 is all shipped
  EXPECT_EQ(stock.rows(0).lot_id(), b3_);
  EXPECT_EQ(stock.rows(0).region_id(), "US");
  EXPECT_EQ(stock.rows(0).disposition(), v1::DISPOSITION_ON_HOLD);
  EXPECT_EQ(stock.rows(1).lot_id(), b2_);
  EXPECT_EQ(stock.rows(1).quantity().amount(), 83);  // 100-20+5-2
  ASSERT_EQ(stock.totals_size(), 1);
  EXPECT_EQ(stock.totals(0).on_hand().amount(), 113);
  list.set_page_size(1);
  s = inventory_->ListStock(stack_->Ctx("auditor").get(), list, &stock);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(stock.rows_size(), 1);
  EXPECT_EQ(stock.rows(0).lot_id(), b3_);
  ASSERT_FALSE(stock.next_page_token().empty());
  list.set_page_token(stock.next_page_token());
  s = inventory_->ListStock(stack_->Ctx("auditor").get(), list, &stock);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(stock.rows_size(), 1);
  EXPECT_EQ(stock.rows(0).lot_id(), b2_);
  EXPECT_TRUE(stock.next_page_token().empty());
  // By region, and by a site with everything below it.
  v1::ListStockRequest by_region;
  by_region.set_region_id("EU-W");
  s = inventory_->ListStock(stack_->Ctx("auditor").get(), by_region, &stock);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(stock.rows_size(), 1);
  EXPECT_EQ(stock.rows(0).lot_id(), b2_);
  v1::ListStockRequest by_site;
  by_site.set_location_id("ACME");
  s = inventory_->ListStock(stack_->Ctx("auditor").get(), by_site, &stock);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(stock.rows_size(), 2);
}

TEST_P(InventoryQueriesTest, DistributionSaysWhereALotWent) {
  ShipReturnAndScrap();
  v1::TraceLotDistributionRequest trace;
  trace.set_lot_id(b2_);
  *trace.mutable_after() = token_;
  v1::TraceLotDistributionResponse went;
  grpc::Status s = inventory_->TraceLotDistribution(
      stack_->Ctx("auditor").get(), trace, &went);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(went.customers_size(), 1);
  const v1::CustomerDistribution& h12 = went.customers(0);
  EXPECT_EQ(h12.customer().customer_id(), "H-12");
  EXPECT_EQ(h12.customer().name(), "St. Mary's Hospital");
  EXPECT_EQ(h12.shipped().amount(), 20);
  EXPECT_EQ(h12.returned().amount(), 5);
  EXPECT_EQ(h12.net_held().amount(), 15);
  ASSERT_EQ(h12.shipments_size(), 1);
  EXPECT_EQ(h12.shipments(0).shipment_id(), shipment_);
  ASSERT_EQ(went.on_hand_size(), 1);
  EXPECT_EQ(went.on_hand(0).amount(), 83);
  EXPECT_EQ(went.scrapped().amount(), 2);
}

TEST_P(InventoryQueriesTest, MovementsTwoToAPage) {
  ShipReturnAndScrap();
  v1::ListMovementsRequest moves;
  moves.set_lot_id(b2_);
  moves.set_page_size(2);
  *moves.mutable_after() = token_;
  v1::ListMovementsResponse page;
  grpc::Status s =
      inventory_->ListMovements(stack_->Ctx("auditor").get(), moves, &page);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(page.events_size(), 2);
  EXPECT_TRUE(page.events(0).has_stock_received());
  EXPECT_TRUE(page.events(1).has_stock_shipped());
  moves.set_page_token(page.next_page_token());
  s = inventory_->ListMovements(stack_->Ctx("auditor").get(), moves, &page);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(page.events_size(), 2);
  EXPECT_TRUE(page.events(0).has_stock_returned());
  EXPECT_TRUE(page.events(1).has_stock_scrapped());
  EXPECT_TRUE(page.next_page_token().empty());
}

TEST_P(InventoryQueriesTest, KpisAndNearExpiryReport) {
  ShipReturnAndScrap();
  // KPIs: B3's 30 within 180 days; 60 shipped and 2 scrapped in 90 days.
  const v1::GetKpisResponse kpis = Kpis();
  ASSERT_EQ(kpis.items_size(), 1);
  const v1::ItemKpis& k = kpis.items(0);
  EXPECT_EQ(k.on_hand(), 113);
  ASSERT_EQ(k.near_expiry_size(), 3);
  EXPECT_EQ(k.near_expiry(0).threshold_days(), 180);
  EXPECT_EQ(k.near_expiry(0).amount(), 30);
  EXPECT_EQ(k.near_expiry(1).amount(), 0);
  EXPECT_EQ(k.expired(), 0);
  ASSERT_EQ(k.scrapped_size(), 1);
  EXPECT_EQ(k.scrapped(0).reason(), v1::SCRAP_REASON_DAMAGED);
  EXPECT_EQ(k.scrapped(0).amount(), 2);
  EXPECT_EQ(k.shipped(), 60);
  EXPECT_DOUBLE_EQ(k.turnover_days(), 113.0 * 90 / 60);

  // Near expiry (the product's widest threshold): B3 only.
  const v1::NearExpiryReportResponse report = NearExpiry(false);
  ASSERT_EQ(report.rows_size(), 1);
  EXPECT_EQ(report.rows(0).lot_id(), b3_);
  EXPECT_EQ(report.rows(0).days_left(), 150);
  EXPECT_EQ(report.rows(0).threshold_days(), 180);
  EXPECT_EQ(report.rows(0).quantity().amount(), 30);
}

// Restarts and rebuilds from the log: no alert is raised twice, and a
// projection rebuilt from the log holds the live one's bytes.
// Right after shipments and a scrap, with no rebuild in between: a rebuild
// applies the inventory topic and the lots topic in another interleaving
// than the live projection did, and must still hold the same bytes (the
// per-item activity once depended on the lot's facts having arrived).
TEST_P(InventoryQueriesTest, LiveProjectionMatchesARebuildAfterShipments) {
  ShipReturnAndScrap();
  SweepRaises(1);
  ExpectARebuildHoldsTheLiveBytes();
}

TEST_P(InventoryQueriesTest, RestartAndRebuildRaiseNothingTwiceAndMatch) {
  ShipReturnAndScrap();  // B1 all shipped: only B3 (on hold) alerts
  RaiseTwoAlertsAndWatch();
  // Restart and rebuild from the log: nothing is raised twice.
  const std::string alerts_before = Get(b3_).DebugString();
  stack_->Restart();
  Connect();
  SweepRaises(0);
  stack_->Restart(/*drop_projections=*/true);
  Connect();
  SweepRaises(0);
  EXPECT_EQ(Get(b3_).DebugString(), alerts_before);
  ASSERT_EQ(Get(b3_).alerts_size(), 2);

  // 80 more days: B3's 30-day threshold and expiry. The live projection
  // and one rebuilt from the log hold the same bytes.
  clock_.Advance(absl::Hours(24 * 80));
  SweepRaises(2);
  ExpectARebuildHoldsTheLiveBytes();
}

TEST_P(InventoryQueriesTest, WatcherResumesAfterAnAlertAndExpiryIsReported) {
  ShipReturnAndScrap();  // B1 all shipped: only B3 (on hold) alerts
  const v1::ConsistencyToken resume = RaiseTwoAlertsAndWatch();
  // A watcher resuming after the second alert gets only what follows:
  // 80 more days, B3 expires (30-day threshold and expiry at once).
  auto watch_ctx = stack_->Ctx("auditor");
  v1::WatchAlertsRequest watch;
  *watch.mutable_resume_after() = resume;
  auto stream = inventory_->WatchAlerts(watch_ctx.get(), watch);
  clock_.Advance(absl::Hours(24 * 80));
  SweepRaises(2);
  std::vector<v1::InventoryAlert> later(2);
  ASSERT_TRUE(stream->Read(&later[0]));
  ASSERT_TRUE(stream->Read(&later[1]));
  EXPECT_EQ(Kinds(later), (std::vector<std::string>{"T30", "EXPIRED"}));
  EXPECT_EQ(later[1].expired().lot_id(), b3_);

  // What to scrap: B3, expired; the KPIs count it as expired.
  const v1::NearExpiryReportResponse report = NearExpiry(true);
  ASSERT_EQ(report.rows_size(), 1);
  EXPECT_EQ(report.rows(0).lot_id(), b3_);
  EXPECT_EQ(report.rows(0).days_left(), 0);
  EXPECT_EQ(report.rows(0).threshold_days(), 0);
  const v1::GetKpisResponse kpis = Kpis();
  ASSERT_EQ(kpis.items_size(), 1);
  EXPECT_EQ(kpis.items(0).expired(), 30);

  // A server shutdown ends an open stream instead of waiting for it.
  stack_->Stop();
  v1::InventoryAlert more;
  while (stream->Read(&more)) {
  }
  stream->Finish();
}

INSTANTIATE_TEST_SUITE_P(Backends, InventoryTest,
                         ::testing::Values(Backend::kEmbedded, Backend::kKafka),
                         [](const auto& info) {
                           return BackendName(info.param);
                         });
INSTANTIATE_TEST_SUITE_P(Backends, InventoryQueriesTest,
                         ::testing::Values(Backend::kEmbedded, Backend::kKafka),
                         [](const auto& info) {
                           return BackendName(info.param);
                         });

}  // namespace
}  // namespace lotledger::testing
