// Business time cannot open a gate (issue 14, item 1), over real gRPC on
// the embedded log and on Kafka, with the services' clock set by the test:
// the expiry comes from the lots service, the release from quality, and
// the shipping gate counts expiry and shelf life from the later of the
// shipment's occurred_at (client-supplied) and the day it is recorded. A
// shipment dated back to before the expiry, entered after it, is refused as
// expired; one dated back to when the lot still had the customer's shelf
// life, entered when it no longer has, is refused too; a pick list asked
// for a day in the past counts from today.
#include <memory>
#include <optional>
#include <string>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "libs/common/clock.h"
#include "libs/common/proto_time.h"
#include "lotledger/v1/inventory.grpc.pb.h"
#include "lotledger/v1/lots.grpc.pb.h"
#include "lotledger/v1/quality.grpc.pb.h"
#include "tests/support/stack.h"
#include "tests/support/tokens.h"

namespace lotledger::testing {
namespace {

constexpr char kDevice[] = "09506000134352";
constexpr char kBin[] = "FRA-WH1-B07";

absl::Time At(int y, int m, int d, int hour = 0) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hour, 0, 0),
                         absl::UTCTimeZone());
}

v1::Date DateOf(int y, int m, int d) {
  v1::Date out;
  out.set_year(y);
  out.set_month(m);
  out.set_day(d);
  return out;
}

class RulesTimeTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    stack_ =
        TestStack::Start(GetParam(), {"lots", "quality", "inventory"}, &clock_);
    ASSERT_NE(stack_, nullptr);
    lots_ = v1::LotsService::NewStub(stack_->channel());
    quality_ = v1::QualityService::NewStub(stack_->channel());
    inventory_ = v1::InventoryService::NewStub(stack_->channel());
  }

  void Remember(const v1::ConsistencyToken& t) { MergeToken(t, &token_); }

  void MasterData() {
    v1::DefineProductRequest product;
    product.set_request_id(NewRequestId());
    v1::Product* p = product.mutable_product();
    p->set_item(kDevice);
    p->set_name("Sterile catheter");
    p->set_uom("EA");
    p->set_kind(v1::ITEM_KIND_FINISHED_DEVICE);
    v1::DefineProductResponse defined;
    grpc::Status s =
        lots_->DefineProduct(stack_->Ctx("admin").get(), product, &defined);
    ASSERT_TRUE(s.ok()) << s.error_message();
    for (const auto& [id, kind, parent] :
         {std::tuple{"EU", v1::LOCATION_KIND_SITE, ""},
          std::tuple{"EU-W", v1::LOCATION_KIND_REGION, "EU"},
          std::tuple{"FRA-WH1", v1::LOCATION_KIND_WAREHOUSE, "EU-W"},
          std::tuple{kBin, v1::LOCATION_KIND_BIN, "FRA-WH1"}}) {
      v1::CreateLocationRequest req;
      req.set_request_id(NewRequestId());
      req.set_location_id(id);
      req.set_name(id);
      req.set_kind(kind);
      req.set_parent_id(parent);
      v1::CreateLocationResponse resp;
      s = inventory_->CreateLocation(stack_->Ctx("admin").get(), req, &resp);
      ASSERT_TRUE(s.ok()) << s.error_message();
    }
  }

  // A released lot expiring on `expires`, 100 EA at kBin.
  void ReleasedLotInStock(const std::string& number, const v1::Date& expires) {
    const std::string lot_id = absl::StrCat(kDevice, ":", number);
    v1::CreateLotRequest create;
    create.set_request_id(NewRequestId());
    create.set_item(kDevice);
    create.set_lot_number(number);
    *create.mutable_manufactured_on() = DateOf(2020, 1, 1);
    *create.mutable_expires_on() = expires;
    create.mutable_quantity()->set_amount(100);
    create.mutable_quantity()->set_uom("EA");
    v1::CreateLotResponse created;
    grpc::Status s =
        lots_->CreateLot(stack_->Ctx("operator").get(), create, &created);
    ASSERT_TRUE(s.ok()) << s.error_message();
    Remember(created.token());
    v1::RecordInspectionRequest ins = FinalInspection(lot_id);
    *ins.mutable_after() = token_;
    v1::RecordInspectionResponse inspected;
    s = quality_->RecordInspection(stack_->Ctx("inspector").get(), ins,
                                   &inspected);
    ASSERT_TRUE(s.ok()) << s.error_message();
    v1::ChangeDispositionRequest release;
    release.set_request_id(NewRequestId());
    release.set_lot_id(lot_id);
    release.set_to(v1::DISPOSITION_RELEASED);
    release.mutable_signature()->set_meaning("approved for release");
    release.mutable_signature()->set_reason("batch record reviewed");
    release.mutable_signature()->set_credential(stack_->Token("approver"));
    *release.mutable_after() = inspected.token();
    v1::ChangeDispositionResponse released;
    s = quality_->ChangeDisposition(stack_->Ctx("approver").get(), release,
                                    &released);
    ASSERT_TRUE(s.ok()) << s.error_message();
    Remember(released.token());
    v1::ReceiveStockRequest receive;
    receive.set_request_id(NewRequestId());
    receive.set_lot_id(lot_id);
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

  // Ships one unit of the lot to customer H-1 (who wants `min_days` of
  // shelf life), dated `occurred` when given.
  grpc::Status Ship(const std::string& number, int min_days,
                    std::optional<absl::Time> occurred = std::nullopt) {
    v1::ShipStockRequest req;
    req.set_request_id(NewRequestId());
    req.mutable_customer()->set_customer_id("H-1");
    req.mutable_customer()->set_min_remaining_shelf_life_days(min_days);
    v1::ShipmentLine* line = req.add_lines();
    line->set_lot_id(absl::StrCat(kDevice, ":", number));
    line->set_location_id(kBin);
    line->mutable_quantity()->set_amount(1);
    if (occurred.has_value()) ToTimestamp(*occurred, req.mutable_occurred_at());
    *req.mutable_after() = token_;
    v1::ShipStockResponse resp;
    grpc::Status s =
        inventory_->ShipStock(stack_->Ctx("operator").get(), req, &resp);
    if (s.ok()) Remember(resp.token());
    return s;
  }

  ManualClock clock_{At(2020, 12, 28, 10)};
  v1::ConsistencyToken token_;
  std::unique_ptr<TestStack> stack_;
  std::unique_ptr<v1::LotsService::Stub> lots_;
  std::unique_ptr<v1::QualityService::Stub> quality_;
  std::unique_ptr<v1::InventoryService::Stub> inventory_;
};

TEST_P(RulesTimeTest, BackDatedShipmentIsCheckedOnTheDayItIsRecorded) {
  MasterData();
  ReleasedLotInStock("OLD", DateOf(2021, 1, 1));
  ReleasedLotInStock("NEW", DateOf(2021, 3, 1));

  // On 2020-12-30 OLD still ships.
  clock_.Set(At(2020, 12, 30, 10));
  grpc::Status s = Ship("OLD", 0);
  ASSERT_TRUE(s.ok()) << s.error_message();

  // Entered on 2021-01-03, dated 2020-12-31: OLD expired in between.
  clock_.Set(At(2021, 1, 3, 10));
  s = Ship("OLD", 0, At(2020, 12, 31));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << s.error_message();
  EXPECT_NE(s.error_message().find(
                "lot 09506000134352:OLD expired on 2021-01-01 (ship date "
                "2020-12-31, recorded on 2021-01-03: dates are checked on the "
                "later day); expired stock cannot ship"),
            std::string::npos)
      << s.error_message();

  // NEW had 61 days left on 2020-12-30, has 57 on 2021-01-03; H-1 wants 60.
  s = Ship("NEW", 60, At(2020, 12, 30));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << s.error_message();
  EXPECT_NE(s.error_message().find(
                "lot 09506000134352:NEW has 57 days of shelf life left on "
                "2021-01-03, the day the shipment is recorded (ship date "
                "2020-12-30; expires 2021-03-01); customer H-1 requires at "
                "least 60 days"),
            std::string::npos)
      << s.error_message();
  // What ships back-dated is recorded on its business day, with the shelf
  // life the gate counted.
  s = Ship("NEW", 30, At(2020, 12, 30));
  ASSERT_TRUE(s.ok()) << s.error_message();

  // A pick list for a day in the past counts from today: OLD is expired.
  v1::AllocateFefoRequest fefo;
  fefo.set_item(kDevice);
  fefo.mutable_quantity()->set_amount(5);
  *fefo.mutable_ship_date() = DateOf(2020, 12, 29);
  *fefo.mutable_after() = token_;
  v1::AllocateFefoResponse picks;
  s = inventory_->AllocateFefo(stack_->Ctx("operator").get(), fefo, &picks);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(picks.ship_date().year(), 2021);
  EXPECT_EQ(picks.ship_date().day(), 3);
  ASSERT_EQ(picks.lines_size(), 1);
  EXPECT_EQ(picks.lines(0).lot_id(), absl::StrCat(kDevice, ":NEW"));
}

INSTANTIATE_TEST_SUITE_P(Backends, RulesTimeTest,
                         ::testing::Values(Backend::kEmbedded, Backend::kKafka),
                         [](const auto& info) {
                           return BackendName(info.param);
                         });

}  // namespace
}  // namespace lotledger::testing
