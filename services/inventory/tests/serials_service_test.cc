// Serials over real gRPC (lots, quality and inventory on the embedded
// log): a lot of a product tracked by serial gets serials in the lots
// service's register; inventory receives it by serial, refuses a serial
// the register does not give the lot, a lot-level movement and a serial
// shipped twice (naming where it is); a customer reports a serial used and
// cannot return it; GetSerialStatus answers where a serial is and the
// movements naming it, the same after the projection is rebuilt from the
// log. A recall by serial blocks only its serial: FEFO leaves it out and
// names the serials of each line it proposes, which ship as they are.
#include <memory>
#include <string>

#include "absl/time/civil_time.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "lotledger/v1/inventory.grpc.pb.h"
#include "lotledger/v1/lots.grpc.pb.h"
#include "lotledger/v1/quality.grpc.pb.h"
#include "lotledger/v1/recall.grpc.pb.h"
#include "tests/support/stack.h"
#include "tests/support/tokens.h"

namespace lotledger::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kImplant[] = "09506000200002";
constexpr char kWarehouse[] = "MUC-WH1";

v1::Date ToDate(absl::CivilDay d) {
  v1::Date out;
  out.set_year(static_cast<int32_t>(d.year()));
  out.set_month(d.month());
  out.set_day(d.day());
  return out;
}

void Add(google::protobuf::RepeatedPtrField<v1::SerialRange>* out,
         const std::string& first, const std::string& last = "") {
  v1::SerialRange* r = out->Add();
  r->set_first(first);
  r->set_last(last);
}

class SerialsServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    stack_ =
        TestStack::Start(Backend::kEmbedded,
                         {"lots", "quality", "inventory", "recall", "audit"});
    ASSERT_NE(stack_, nullptr);
    Connect();
  }

  void Connect() {
    lots_ = v1::LotsService::NewStub(stack_->channel());
    quality_ = v1::QualityService::NewStub(stack_->channel());
    inventory_ = v1::InventoryService::NewStub(stack_->channel());
  }

  // A released lot H7 of 10 hip stems with SN0001..SN0010, and MUC-WH1.
  void SerialisedLot() {
    const absl::CivilDay today =
        absl::ToCivilDay(absl::Now(), absl::UTCTimeZone());
    v1::DefineProductRequest def;
    def.set_request_id(NewRequestId());
    v1::Product* p = def.mutable_product();
    p->set_item(kImplant);
    p->set_name("hip stem");
    p->set_uom("EA");
    p->set_kind(v1::ITEM_KIND_FINISHED_DEVICE);
    p->set_tracking(v1::TRACKING_SERIAL);
    p->mutable_policy()->set_shelf_life_days(1825);
    v1::DefineProductResponse defined;
    grpc::Status s =
        lots_->DefineProduct(stack_->Ctx("admin").get(), def, &defined);
    ASSERT_TRUE(s.ok()) << s.error_message();
    MergeToken(defined.token(), &token_);

    v1::CreateLotRequest lot;
    lot.set_request_id(NewRequestId());
    lot.set_item(kImplant);
    lot.set_lot_number("H7");
    *lot.mutable_manufactured_on() = ToDate(today - 30);
    *lot.mutable_expires_on() = ToDate(today + 1000);
    lot.mutable_quantity()->set_amount(10);
    lot.mutable_quantity()->set_uom("EA");
    lot.set_site("Galway");
    v1::CreateLotResponse created;
    s = lots_->CreateLot(stack_->Ctx("operator").get(), lot, &created);
    ASSERT_TRUE(s.ok()) << s.error_message();
    MergeToken(created.token(), &token_);
    lot_id_ = created.lot().lot_id();

    v1::AssignSerialsRequest assign;
    assign.set_request_id(NewRequestId());
    assign.set_lot_id(lot_id_);
    Add(assign.mutable_serials(), "SN0001", "SN0010");
    v1::AssignSerialsResponse assigned;
    s = lots_->AssignSerials(stack_->Ctx("admin").get(), assign, &assigned);
    ASSERT_TRUE(s.ok()) << s.error_message();
    MergeToken(assigned.token(), &token_);

    v1::RecordInspectionResponse inspected;
    s = quality_->RecordInspection(stack_->Ctx("inspector").get(),
                                   FinalInspection(lot_id_), &inspected);
    ASSERT_TRUE(s.ok()) << s.error_message();
    v1::ChangeDispositionRequest rel;
    rel.set_request_id(NewRequestId());
    rel.set_lot_id(lot_id_);
    rel.set_to(v1::DISPOSITION_RELEASED);
    rel.mutable_signature()->set_meaning("approved for release");
    rel.mutable_signature()->set_reason("final inspection passed");
    rel.mutable_signature()->set_credential(stack_->Token("approver"));
    v1::ChangeDispositionResponse released;
    s = quality_->ChangeDisposition(stack_->Ctx("approver").get(), rel,
                                    &released);
    ASSERT_TRUE(s.ok()) << s.error_message();
    MergeToken(released.token(), &token_);

    for (const auto& [id, kind, parent] :
         std::vector<std::tuple<std::string, v1::LocationKind, std::string>>{
             {"ACME", v1::LOCATION_KIND_SITE, ""},
             {"DE", v1::LOCATION_KIND_REGION, "ACME"},
             {kWarehouse, v1::LOCATION_KIND_WAREHOUSE, "DE"}}) {
      v1::CreateLocationRequest loc;
      loc.set_request_id(NewRequestId());
      loc.set_location_id(id);
      loc.set_name(id);
      loc.set_kind(kind);
      loc.set_parent_id(parent);
      v1::CreateLocationResponse made;
      s = inventory_->CreateLocation(stack_->Ctx("admin").get(), loc, &made);
      ASSERT_TRUE(s.ok()) << id << ": " << s.error_message();
      MergeToken(made.token(), &token_);
    }
  }

  grpc::Status Receive(const std::string& first, const std::string& last) {
    v1::ReceiveStockRequest rec;
    rec.set_request_id(NewRequestId());
    rec.set_lot_id(lot_id_);
    rec.set_location_id(kWarehouse);
    rec.set_source(v1::RECEIPT_SOURCE_PRODUCTION);
    Add(rec.mutable_serials(), first, last);
    *rec.mutable_after() = token_;
    v1::ReceiveStockResponse received;
    grpc::Status s =
        inventory_->ReceiveStock(stack_->Ctx("operator").get(), rec, &received);
    if (s.ok()) {
      MergeToken(received.token(), &token_);
      on_hand_ = received.lot().on_hand();
    }
    return s;
  }

  grpc::Status Ship(const std::string& customer, const std::string& first,
                    const std::string& last, std::string* shipment_id) {
    v1::ShipStockRequest req;
    req.set_request_id(NewRequestId());
    req.mutable_customer()->set_customer_id(customer);
    v1::ShipmentLine* line = req.add_lines();
    line->set_lot_id(lot_id_);
    line->set_location_id(kWarehouse);
    if (!first.empty()) Add(line->mutable_serials(), first, last);
    if (first.empty()) line->mutable_quantity()->set_amount(1);
    *req.mutable_after() = token_;
    v1::ShipStockResponse shipped;
    grpc::Status s =
        inventory_->ShipStock(stack_->Ctx("operator").get(), req, &shipped);
    if (s.ok()) {
      MergeToken(shipped.token(), &token_);
      if (shipment_id != nullptr)
        *shipment_id = shipped.shipment().shipment_id();
    }
    return s;
  }

  std::unique_ptr<TestStack> stack_;
  std::unique_ptr<v1::LotsService::Stub> lots_;
  std::unique_ptr<v1::QualityService::Stub> quality_;
  std::unique_ptr<v1::InventoryService::Stub> inventory_;
  v1::ConsistencyToken token_;
  std::string lot_id_;
  int64_t on_hand_ = 0;
};

TEST_F(SerialsServiceTest, ReceiveShipUseAndWhereEachSerialIs) {
  ASSERT_NO_FATAL_FAILURE(SerialisedLot());

  grpc::Status s = Receive("SN0010", "SN0011");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(),
              HasSubstr("serial SN0011 is not assigned to lot " + lot_id_ +
                        " (lots service AssignSerials)"));
  ASSERT_TRUE(Receive("SN0001", "SN0005").ok());
  EXPECT_EQ(on_hand_, 5);

  s = Ship("H-12", "", "", nullptr);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("ship.lines[0].serials"));

  std::string shipment;
  s = Ship("H-12", "SN0001", "SN0003", &shipment);
  ASSERT_TRUE(s.ok()) << s.error_message();
  s = Ship("H-40", "SN0002", "", nullptr);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("serial SN0002 of lot " + lot_id_ +
                                           " is at customer H-12 (shipment " +
                                           shipment + "), not at MUC-WH1"));

  const absl::CivilDay today =
      absl::ToCivilDay(absl::Now(), absl::UTCTimeZone());
  v1::ReportUsageRequest use;
  use.set_request_id(NewRequestId());
  use.set_lot_id(lot_id_);
  use.set_customer_id("H-12");
  Add(use.mutable_serials(), "SN0002");
  *use.mutable_used_on() = ToDate(today);
  use.set_site("OR 3");
  *use.mutable_after() = token_;
  v1::ReportUsageResponse used;
  s = inventory_->ReportUsage(stack_->Ctx("operator").get(), use, &used);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(used.used(), 1);
  MergeToken(used.token(), &token_);
  // An auditor may read, not report.
  use.set_request_id(NewRequestId());
  s = inventory_->ReportUsage(stack_->Ctx("auditor").get(), use, &used);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);

  v1::ReturnStockRequest back;
  back.set_request_id(NewRequestId());
  back.set_lot_id(lot_id_);
  back.set_customer_id("H-12");
  back.set_location_id(kWarehouse);
  back.set_condition(v1::RETURN_CONDITION_RESALEABLE);
  Add(back.mutable_serials(), "SN0002");
  *back.mutable_after() = token_;
  v1::ReturnStockResponse returned;
  s = inventory_->ReturnStock(stack_->Ctx("operator").get(), back, &returned);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("a used device cannot be returned"));

  v1::GetSerialStatusRequest where;
  where.set_item(kImplant);
  where.set_serial("SN0002");
  *where.mutable_after() = token_;
  v1::GetSerialStatusResponse status;
  s = inventory_->GetSerialStatus(stack_->Ctx("auditor").get(), where, &status);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(status.status().place(), v1::SERIAL_PLACE_USED);
  EXPECT_EQ(status.status().lot_id(), lot_id_);
  EXPECT_EQ(status.status().customer_id(), "H-12");
  EXPECT_EQ(status.status().shipment_id(), shipment);
  EXPECT_EQ(status.status().used_site(), "OR 3");
  ASSERT_EQ(status.movements_size(), 3);
  EXPECT_TRUE(status.movements(2).has_device_usage_reported());

  // A recall of SN0004 (in stock): FEFO proposes SN0005 only, which ships
  // as proposed; SN0004 is refused naming the recall.
  auto recall = v1::RecallService::NewStub(stack_->channel());
  v1::InitiateRequest init;
  init.set_request_id(NewRequestId());
  init.set_recall_id("R-SN-1");
  init.set_classification(v1::RECALL_CLASS_II);
  init.set_title("Stem finish");
  init.set_reason("surface finish out of specification");
  init.set_health_hazard("none known");
  init.mutable_criteria()->set_item(kImplant);
  Add(init.mutable_criteria()->mutable_serials(), "SN0004");
  init.mutable_signature()->set_meaning("recall initiated");
  init.mutable_signature()->set_reason("finish confirmed");
  init.mutable_signature()->set_credential(stack_->Token("recall"));
  v1::InitiateResponse initiated;
  s = recall->Initiate(stack_->Ctx("recall").get(), init, &initiated);
  ASSERT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
  MergeToken(initiated.token(), &token_);
  v1::AllocateFefoRequest fefo;
  fefo.set_item(kImplant);
  fefo.mutable_quantity()->set_amount(2);
  *fefo.mutable_after() = token_;
  v1::AllocateFefoResponse picks;
  s = inventory_->AllocateFefo(stack_->Ctx("operator").get(), fefo, &picks);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(picks.lines_size(), 1) << picks.DebugString();
  EXPECT_EQ(picks.lines(0).quantity().amount(), 1);
  ASSERT_EQ(picks.lines(0).serials_size(), 1);
  EXPECT_EQ(picks.lines(0).serials(0).first(), "SN0005");
  EXPECT_EQ(picks.shortfall().amount(), 1);
  s = Ship("H-40", "SN0004", "", nullptr);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("serial SN0004 of lot " + lot_id_ +
                                           " is under recall R-SN-1"));
  v1::ShipStockRequest as_proposed;
  as_proposed.set_request_id(NewRequestId());
  as_proposed.mutable_customer()->set_customer_id("H-40");
  *as_proposed.mutable_lines() = picks.lines();
  *as_proposed.mutable_after() = token_;
  v1::ShipStockResponse shipped;
  s = inventory_->ShipStock(stack_->Ctx("operator").get(), as_proposed,
                            &shipped);
  ASSERT_TRUE(s.ok()) << s.error_message();
  MergeToken(shipped.token(), &token_);
  *where.mutable_after() = token_;
  s = inventory_->GetSerialStatus(stack_->Ctx("auditor").get(), where, &status);
  ASSERT_TRUE(s.ok()) << s.error_message();

  // Rebuilt from the log, the answer is the same.
  stack_->Restart(/*drop_projections=*/true);
  Connect();
  v1::GetSerialStatusResponse rebuilt;
  s = inventory_->GetSerialStatus(stack_->Ctx("auditor").get(), where,
                                  &rebuilt);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(
      google::protobuf::util::MessageDifferencer::Equals(status, rebuilt))
      << status.DebugString() << "\n---\n"
      << rebuilt.DebugString();
}

}  // namespace
}  // namespace lotledger::testing
