// ShipStock over real gRPC with lots, quality and inventory, on the
// embedded log and on Kafka: the answer is the shipment as recorded. A
// retry of the same request on a later day answers the first attempt's
// shipment and ship date (not today's) and ships nothing again; a
// shipment dated in the past answers its business day; a malformed shipment is
// refused by the decider's rule, with its reason, and writes nothing.
#include <memory>
#include <string>

#include "absl/time/civil_time.h"
#include "gtest/gtest.h"
#include "libs/common/clock.h"
#include "lotledger/v1/inventory.grpc.pb.h"
#include "lotledger/v1/lots.grpc.pb.h"
#include "lotledger/v1/quality.grpc.pb.h"
#include "tests/support/stack.h"
#include "tests/support/tokens.h"

namespace lotledger::testing {
namespace {

constexpr char kDevice[] = "09506000134352";
constexpr char kLot[] = "09506000134352:S1";
constexpr char kBin[] = "FRA-WH1-B07";

class InventoryShipTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    stack_ =
        TestStack::Start(GetParam(), {"lots", "quality", "inventory"}, &clock_);
    ASSERT_NE(stack_, nullptr);
    lots_ = v1::LotsService::NewStub(stack_->channel());
    quality_ = v1::QualityService::NewStub(stack_->channel());
    inventory_ = v1::InventoryService::NewStub(stack_->channel());
    ASSERT_NO_FATAL_FAILURE(ReleasedLotInBin());
  }

  void Remember(const v1::ConsistencyToken& t) { MergeToken(t, &token_); }

  // A product, lot S1 of 100 released by quality, all of it in kBin.
  void ReleasedLotInBin() {
    v1::DefineProductRequest product;
    product.set_request_id(NewRequestId());
    product.mutable_product()->set_item(kDevice);
    product.mutable_product()->set_name("catheter");
    product.mutable_product()->set_uom("EA");
    product.mutable_product()->set_kind(v1::ITEM_KIND_FINISHED_DEVICE);
    product.mutable_product()->mutable_policy()->set_shelf_life_days(730);
    v1::DefineProductResponse defined;
    grpc::Status s =
        lots_->DefineProduct(stack_->Ctx("admin").get(), product, &defined);
    ASSERT_TRUE(s.ok()) << s.error_message();
    Remember(defined.token());

    v1::CreateLotRequest lot;
    lot.set_request_id(NewRequestId());
    lot.set_item(kDevice);
    lot.set_lot_number("S1");
    lot.mutable_manufactured_on()->set_year(2026);
    lot.mutable_manufactured_on()->set_month(3);
    lot.mutable_manufactured_on()->set_day(2);
    lot.mutable_quantity()->set_amount(100);
    lot.mutable_quantity()->set_uom("EA");
    lot.set_site("Galway");
    v1::CreateLotResponse created;
    s = lots_->CreateLot(stack_->Ctx("operator").get(), lot, &created);
    ASSERT_TRUE(s.ok()) << s.error_message();
    Remember(created.token());

    v1::RecordInspectionRequest inspection = FinalInspection(kLot);
    *inspection.mutable_after() = token_;
    v1::RecordInspectionResponse inspected;
    s = quality_->RecordInspection(stack_->Ctx("inspector").get(), inspection,
                                   &inspected);
    ASSERT_TRUE(s.ok()) << s.error_message();
    Remember(inspected.token());
    v1::ChangeDispositionRequest release;
    release.set_request_id(NewRequestId());
    release.set_lot_id(kLot);
    release.set_to(v1::DISPOSITION_RELEASED);
    release.mutable_signature()->set_meaning("disposition");
    release.mutable_signature()->set_reason("final inspection passed");
    release.mutable_signature()->set_credential(stack_->Token("approver"));
    *release.mutable_after() = token_;
    v1::ChangeDispositionResponse released;
    s = quality_->ChangeDisposition(stack_->Ctx("approver").get(), release,
                                    &released);
    ASSERT_TRUE(s.ok()) << s.error_message();
    Remember(released.token());

    const struct {
      const char* id;
      v1::LocationKind kind;
      const char* parent;
    } locations[] = {{"EU", v1::LOCATION_KIND_SITE, ""},
                     {"EU-W", v1::LOCATION_KIND_REGION, "EU"},
                     {"FRA-WH1", v1::LOCATION_KIND_WAREHOUSE, "EU-W"},
                     {kBin, v1::LOCATION_KIND_BIN, "FRA-WH1"}};
    for (const auto& l : locations) {
      v1::CreateLocationRequest req;
      req.set_request_id(NewRequestId());
      req.set_location_id(l.id);
      req.set_name(l.id);
      req.set_kind(l.kind);
      req.set_parent_id(l.parent);
      v1::CreateLocationResponse resp;
      s = inventory_->CreateLocation(stack_->Ctx("admin").get(), req, &resp);
      ASSERT_TRUE(s.ok()) << l.id << ": " << s.error_message();
      Remember(resp.token());
    }

    v1::ReceiveStockRequest receive;
    receive.set_request_id(NewRequestId());
    receive.set_lot_id(kLot);
    receive.set_location_id(kBin);
    receive.mutable_quantity()->set_amount(100);
    receive.set_source(v1::RECEIPT_SOURCE_PRODUCTION);
    *receive.mutable_after() = token_;
    v1::ReceiveStockResponse received;
    s = inventory_->ReceiveStock(stack_->Ctx("operator").get(), receive,
                                 &received);
    ASSERT_TRUE(s.ok()) << s.error_message();
    Remember(received.token());
  }

  // A shipment of `amount` of S1 from kBin to one hospital.
  v1::ShipStockRequest Shipment(int64_t amount) {
    v1::ShipStockRequest req;
    req.set_request_id(NewRequestId());
    req.mutable_customer()->set_customer_id("H-12");
    req.mutable_customer()->set_name("St. Mary's Hospital");
    req.set_reference("PO-4711");
    v1::ShipmentLine* line = req.add_lines();
    line->set_lot_id(kLot);
    line->set_location_id(kBin);
    line->mutable_quantity()->set_amount(amount);
    line->mutable_quantity()->set_uom("EA");
    return req;
  }

  grpc::Status Ship(v1::ShipStockRequest req, v1::ShipStockResponse* resp) {
    *req.mutable_after() = token_;
    grpc::Status s =
        inventory_->ShipStock(stack_->Ctx("operator").get(), req, resp);
    if (s.ok()) Remember(resp->token());
    return s;
  }

  int64_t OnHand() {
    v1::GetLotInventoryRequest req;
    req.set_lot_id(kLot);
    *req.mutable_after() = token_;
    v1::GetLotInventoryResponse resp;
    grpc::Status s =
        inventory_->GetLotInventory(stack_->Ctx("auditor").get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.lot().on_hand();
  }

  // The UTC calendar day of `t`.
  static v1::Date DayOf(absl::Time t) {
    const absl::CivilDay d = absl::ToCivilDay(t, absl::UTCTimeZone());
    v1::Date out;
    out.set_year(static_cast<int32_t>(d.year()));
    out.set_month(d.month());
    out.set_day(d.day());
    return out;
  }

  // The services' time: today at 10:00 UTC, moved by the tests.
  ManualClock clock_{
      absl::FromCivil(absl::ToCivilDay(absl::Now(), absl::UTCTimeZone()) - 1,
                      absl::UTCTimeZone()) +
      absl::Hours(10)};
  v1::ConsistencyToken token_;
  std::unique_ptr<TestStack> stack_;
  std::unique_ptr<v1::LotsService::Stub> lots_;
  std::unique_ptr<v1::QualityService::Stub> quality_;
  std::unique_ptr<v1::InventoryService::Stub> inventory_;
};

TEST_P(InventoryShipTest, RetryOnALaterDayAnswersTheOriginalShipDate) {
  const v1::Date shipped_on = DayOf(clock_.Now());
  const v1::ShipStockRequest req = Shipment(30);
  v1::ShipStockResponse first;
  grpc::Status s = Ship(req, &first);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(first.shipment().ship_date().DebugString(),
            shipped_on.DebugString());
  EXPECT_EQ(first.shipment().shipment_id(), "SHP-" + req.request_id());
  EXPECT_EQ(first.shipment().customer().customer_id(), "H-12");
  EXPECT_EQ(first.shipment().reference(), "PO-4711");
  ASSERT_EQ(first.shipment().lines_size(), 1);
  EXPECT_EQ(first.shipment().lines(0).lot_id(), kLot);
  EXPECT_EQ(first.shipment().lines(0).location_id(), kBin);
  EXPECT_EQ(first.shipment().lines(0).quantity().amount(), 30);
  EXPECT_EQ(OnHand(), 70);

  // The client lost the answer and retries the next day (after midnight
  // UTC, so "today" differs from the recorded ship date).
  clock_.Advance(absl::Hours(20));
  ASSERT_NE(DayOf(clock_.Now()).DebugString(), shipped_on.DebugString());
  v1::ShipStockResponse retried;
  s = Ship(req, &retried);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(retried.shipment().ship_date().DebugString(),
            shipped_on.DebugString());
  EXPECT_EQ(retried.shipment().DebugString(), first.shipment().DebugString());
  // Shipped once.
  EXPECT_EQ(OnHand(), 70);
}

TEST_P(InventoryShipTest, AShipmentDatedInThePastAnswersItsBusinessDay) {
  // Picked up two hours after the receipt, entered the next morning.
  const absl::Time picked_up = clock_.Now() + absl::Hours(2);
  clock_.Advance(absl::Hours(20));
  ASSERT_NE(DayOf(clock_.Now()).DebugString(), DayOf(picked_up).DebugString());
  v1::ShipStockRequest req = Shipment(10);
  req.mutable_occurred_at()->set_seconds(absl::ToUnixSeconds(picked_up));
  v1::ShipStockResponse resp;
  grpc::Status s = Ship(req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.shipment().ship_date().DebugString(),
            DayOf(picked_up).DebugString());
}

TEST_P(InventoryShipTest, MalformedShipmentIsRefusedWithTheDecidersReason) {
  v1::ShipStockResponse resp;
  v1::ShipStockRequest no_lines = Shipment(1);
  no_lines.clear_lines();
  grpc::Status s = Ship(no_lines, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "ship.lines: at least one line");

  v1::ShipStockRequest no_lot = Shipment(1);
  no_lot.mutable_lines(0)->clear_lot_id();
  s = Ship(no_lot, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "ship.lines[0].lot_id: required");

  v1::ShipStockRequest second_without_lot = Shipment(1);
  *second_without_lot.add_lines() = second_without_lot.lines(0);
  second_without_lot.mutable_lines(1)->clear_lot_id();
  s = Ship(second_without_lot, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "ship.lines[1].lot_id: required");
  // Nothing shipped.
  EXPECT_EQ(OnHand(), 100);
}

INSTANTIATE_TEST_SUITE_P(Backends, InventoryShipTest,
                         ::testing::Values(Backend::kEmbedded, Backend::kKafka),
                         [](const auto& info) {
                           return BackendName(info.param);
                         });

}  // namespace
}  // namespace lotledger::testing
