// A recall end to end over real gRPC, on the embedded log and on Kafka: a
// resin lot goes through tubing and a valve into catheter lots (three
// levels); the catheters are released and shipped to hospitals. The resin
// lot is recalled with everything made from it: every catheter made from
// it is in scope with its genealogy path, inventory refuses to ship them
// (naming the recall) and FEFO skips them, the impact lists exactly the
// hospitals that got them with their quantities, notifications go to those
// hospitals, responses and inventory returns bring effectiveness to 100%,
// the recall closes and is read-only, the report renders, and the recall
// survives a rebuild of the projection. A drill over another resin lot
// blocks nothing.
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "lotledger/v1/inventory.grpc.pb.h"
#include "lotledger/v1/lots.grpc.pb.h"
#include "lotledger/v1/quality.grpc.pb.h"
#include "lotledger/v1/recall.grpc.pb.h"
#include "tests/support/stack.h"
#include "tests/support/tokens.h"

namespace lotledger::testing {
namespace {

constexpr char kDevice[] = "09506000134352";
constexpr char kBin[] = "FRA-WH1-B07";
constexpr char kQuarantine[] = "FRA-QA";

std::string Dev(const std::string& n) { return absl::StrCat(kDevice, ":", n); }

class RecallTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    stack_ = TestStack::Start(GetParam(),
                              {"lots", "quality", "inventory", "recall"});
    ASSERT_NE(stack_, nullptr);
    Connect();
  }
  void Connect() {
    lots_ = v1::LotsService::NewStub(stack_->channel());
    quality_ = v1::QualityService::NewStub(stack_->channel());
    inventory_ = v1::InventoryService::NewStub(stack_->channel());
    recall_ = v1::RecallService::NewStub(stack_->channel());
  }

  void Remember(const v1::ConsistencyToken& t) { MergeToken(t, &token_); }

  void Product(const std::string& item, v1::ItemKind kind) {
    v1::DefineProductRequest req;
    req.set_request_id(NewRequestId());
    v1::Product* p = req.mutable_product();
    p->set_item(item);
    p->set_name(item + " product");
    p->set_uom("EA");
    p->set_kind(kind);
    p->mutable_policy()->set_shelf_life_days(730);
    v1::DefineProductResponse resp;
    grpc::Status s =
        lots_->DefineProduct(stack_->Ctx("admin").get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    Remember(resp.token());
  }

  void Lot(const std::string& item, const std::string& number,
           const std::vector<std::string>& inputs) {
    v1::CreateLotRequest req;
    req.set_request_id(NewRequestId());
    req.set_item(item);
    req.set_lot_number(number);
    req.mutable_manufactured_on()->set_year(2026);
    req.mutable_manufactured_on()->set_month(3);
    req.mutable_manufactured_on()->set_day(2);
    req.mutable_quantity()->set_amount(100);
    req.mutable_quantity()->set_uom("EA");
    for (const std::string& in : inputs) {
      v1::LotInput* li = req.add_inputs();
      li->set_lot_id(in);
      li->mutable_quantity()->set_amount(10);
      li->mutable_quantity()->set_uom("EA");
    }
    v1::CreateLotResponse resp;
    grpc::Status s =
        lots_->CreateLot(stack_->Ctx("operator").get(), req, &resp);
    ASSERT_TRUE(s.ok()) << number << ": " << s.error_message();
    Remember(resp.token());
  }

  void Release(const std::string& lot_id) {
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
    req.set_to(v1::DISPOSITION_RELEASED);
    req.mutable_signature()->set_meaning("approved for release");
    req.mutable_signature()->set_reason("final inspection passed");
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
    req.set_name(id);
    req.set_kind(kind);
    req.set_parent_id(parent);
    req.set_quarantine(quarantine);
    v1::CreateLocationResponse resp;
    grpc::Status s =
        inventory_->CreateLocation(stack_->Ctx("admin").get(), req, &resp);
    ASSERT_TRUE(s.ok()) << id << ": " << s.error_message();
    Remember(resp.token());
  }

  void Receive(const std::string& lot_id, int64_t amount) {
    v1::ReceiveStockRequest req;
    req.set_request_id(NewRequestId());
    req.set_lot_id(lot_id);
    req.set_location_id(kBin);
    req.mutable_quantity()->set_amount(amount);
    req.set_source(v1::RECEIPT_SOURCE_PRODUCTION);
    *req.mutable_after() = token_;
    v1::ReceiveStockResponse resp;
    grpc::Status s =
        inventory_->ReceiveStock(stack_->Ctx("operator").get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    Remember(resp.token());
  }

  grpc::Status Ship(const std::string& customer, const std::string& lot_id,
                    int64_t amount) {
    v1::ShipStockRequest req;
    req.set_request_id(NewRequestId());
    req.mutable_customer()->set_customer_id(customer);
    req.mutable_customer()->set_name("Hospital " + customer);
    req.mutable_customer()->set_region("DE-South");
    v1::ShipmentLine* l = req.add_lines();
    l->set_lot_id(lot_id);
    l->set_location_id(kBin);
    l->mutable_quantity()->set_amount(amount);
    l->mutable_quantity()->set_uom("EA");
    *req.mutable_after() = token_;
    v1::ShipStockResponse resp;
    grpc::Status s =
        inventory_->ShipStock(stack_->Ctx("operator").get(), req, &resp);
    if (s.ok()) Remember(resp.token());
    return s;
  }

  void Return(const std::string& customer, const std::string& lot_id,
              int64_t amount) {
    v1::ReturnStockRequest req;
    req.set_request_id(NewRequestId());
    req.set_lot_id(lot_id);
    req.set_customer_id(customer);
    req.set_location_id(kQuarantine);
    req.mutable_quantity()->set_amount(amount);
    req.set_condition(v1::RETURN_CONDITION_RECALLED);
    *req.mutable_after() = token_;
    v1::ReturnStockResponse resp;
    grpc::Status s =
        inventory_->ReturnStock(stack_->Ctx("operator").get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    Remember(resp.token());
  }

  grpc::Status Respond(const std::string& customer, const std::string& lot_id,
                       int64_t returned, int64_t destroyed) {
    v1::RecordResponseRequest req;
    req.set_request_id(NewRequestId());
    req.set_recall_id(recall_id_);
    req.set_customer_id(customer);
    req.set_acknowledged(true);
    v1::RecallResponseLine* l = req.add_lines();
    l->set_lot_id(lot_id);
    l->set_returned(returned);
    l->set_destroyed(destroyed);
    *req.mutable_after() = token_;
    v1::RecordResponseResponse resp;
    grpc::Status s =
        recall_->RecordResponse(stack_->Ctx("recall").get(), req, &resp);
    if (s.ok()) Remember(resp.token());
    return s;
  }

  v1::Effectiveness Effectiveness() {
    v1::GetEffectivenessRequest req;
    req.set_recall_id(recall_id_);
    *req.mutable_after() = token_;
    v1::GetEffectivenessResponse resp;
    grpc::Status s =
        recall_->GetEffectiveness(stack_->Ctx("auditor").get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.effectiveness();
  }

  v1::ConsistencyToken token_;
  std::string recall_id_;
  std::unique_ptr<TestStack> stack_;
  std::unique_ptr<v1::LotsService::Stub> lots_;
  std::unique_ptr<v1::QualityService::Stub> quality_;
  std::unique_ptr<v1::InventoryService::Stub> inventory_;
  std::unique_ptr<v1::RecallService::Stub> recall_;
};

TEST_P(RecallTest, RawMaterialRecallFromScopeToClosure) {
  Product("RM-RESIN", v1::ITEM_KIND_RAW_MATERIAL);
  Product("CMP-TUBE", v1::ITEM_KIND_COMPONENT);
  Product("SUB-VALVE", v1::ITEM_KIND_COMPONENT);
  Product(kDevice, v1::ITEM_KIND_FINISHED_DEVICE);
  // R1 -> C1 -> V1 -> F1, F2 (three levels); C1 -> F2 directly too.
  // R2 -> C2 -> F3 is not affected.
  Lot("RM-RESIN", "R1", {});
  Lot("RM-RESIN", "R2", {});
  Lot("CMP-TUBE", "C1", {"RM-RESIN:R1"});
  Lot("CMP-TUBE", "C2", {"RM-RESIN:R2"});
  Lot("SUB-VALVE", "V1", {"CMP-TUBE:C1"});
  Lot(kDevice, "F1", {"SUB-VALVE:V1"});
  Lot(kDevice, "F2", {"SUB-VALVE:V1", "CMP-TUBE:C1"});
  Lot(kDevice, "F3", {"CMP-TUBE:C2"});
  Location("EU", v1::LOCATION_KIND_SITE, "");
  Location("EU-W", v1::LOCATION_KIND_REGION, "EU");
  Location("FRA-WH1", v1::LOCATION_KIND_WAREHOUSE, "EU-W");
  Location(kBin, v1::LOCATION_KIND_BIN, "FRA-WH1");
  Location(kQuarantine, v1::LOCATION_KIND_WAREHOUSE, "EU-W", true);
  for (const char* f : {"F1", "F2", "F3"}) {
    Receive(Dev(f), 100);
    Release(Dev(f));
  }
  ASSERT_TRUE(Ship("H-1", Dev("F1"), 10).ok());
  ASSERT_TRUE(Ship("H-2", Dev("F1"), 5).ok());
  ASSERT_TRUE(Ship("H-2", Dev("F2"), 7).ok());
  ASSERT_TRUE(Ship("H-3", Dev("F3"), 4).ok());

  // Only a recall manager initiates.
  v1::InitiateRequest init;
  init.set_request_id(NewRequestId());
  init.set_recall_id("R-2026-001");
  init.set_classification(v1::RECALL_CLASS_II);
  init.set_title("Resin lot R1 contamination");
  init.set_reason("supplier reported particulate contamination of resin R1");
  init.set_health_hazard("particulates may cause reversible irritation");
  init.mutable_criteria()->add_lot_ids("RM-RESIN:R1");
  init.mutable_criteria()->set_include_derived(true);
  *init.mutable_after() = token_;
  v1::InitiateResponse initiated;
  grpc::Status s =
      recall_->Initiate(stack_->Ctx("operator").get(), init, &initiated);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // Initiating is an electronic signature: without a re-authentication,
  // or with someone else's, it is refused and nothing is recorded.
  s = recall_->Initiate(stack_->Ctx("recall").get(), init, &initiated);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(s.error_message().starts_with("signature.credential"))
      << s.error_message();
  init.mutable_signature()->set_credential(stack_->Token("approver"));
  s = recall_->Initiate(stack_->Ctx("recall").get(), init, &initiated);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(s.error_message().find("signs only for themselves"),
            std::string::npos)
      << s.error_message();
  init.mutable_signature()->set_credential(stack_->Token("recall"));
  s = recall_->Initiate(stack_->Ctx("recall").get(), init, &initiated);
  ASSERT_TRUE(s.ok()) << s.error_message();
  Remember(initiated.token());
  recall_id_ = initiated.recall().recall_id();
  EXPECT_EQ(recall_id_, "R-2026-001");
  // The signature: signer, meaning and reason (defaults), time, and how
  // the signer authenticated; never the credential.
  const v1::Signature& signed_init = initiated.recall().initiation_signature();
  EXPECT_EQ(signed_init.signer(), "qa.recall");
  EXPECT_EQ(signed_init.meaning(), "recall initiated");
  EXPECT_EQ(signed_init.reason(), init.reason());
  EXPECT_TRUE(signed_init.has_signed_at());
  EXPECT_NE(signed_init.authentication().find("dev-token"), std::string::npos)
      << signed_init.authentication();
  EXPECT_EQ(initiated.recall().DebugString().find(stack_->Token("recall")),
            std::string::npos);

  // Scope: R1 and every lot made from it, with how it got there.
  std::map<std::string, v1::ScopedLot> scope;
  for (const v1::ScopedLot& l : initiated.recall().scope()) {
    scope[l.lot_id()] = l;
  }
  EXPECT_EQ(scope.size(), 5u);
  for (const char* id : {"RM-RESIN:R1", "CMP-TUBE:C1", "SUB-VALVE:V1"}) {
    EXPECT_TRUE(scope.contains(id)) << id;
  }
  ASSERT_TRUE(scope.contains(Dev("F1")));
  ASSERT_TRUE(scope.contains(Dev("F2")));
  EXPECT_FALSE(scope.contains(Dev("F3")));
  EXPECT_EQ(scope[Dev("F1")].depth(), 3);
  EXPECT_EQ(scope[Dev("F1")].via_lot_id(), "SUB-VALVE:V1");
  EXPECT_EQ(scope[Dev("F2")].depth(), 2);  // straight from C1
  EXPECT_EQ(scope[Dev("F2")].reason(), v1::SCOPE_REASON_DERIVED);

  // Impact: exactly the hospitals that got them, with the quantities.
  const v1::RecallImpact& impact = initiated.impact();
  ASSERT_EQ(impact.customers_size(), 2);
  EXPECT_EQ(impact.customers(0).customer().customer_id(), "H-1");
  EXPECT_EQ(impact.customers(0).customer().name(), "Hospital H-1");
  ASSERT_EQ(impact.customers(0).lots_size(), 1);
  EXPECT_EQ(impact.customers(0).lots(0).lot_id(), Dev("F1"));
  EXPECT_EQ(impact.customers(0).lots(0).held(), 10);
  EXPECT_EQ(impact.customers(1).customer().customer_id(), "H-2");
  ASSERT_EQ(impact.customers(1).lots_size(), 2);
  EXPECT_EQ(impact.customers(1).lots(0).shipped(), 5);
  EXPECT_EQ(impact.customers(1).lots(1).shipped(), 7);
  EXPECT_EQ(impact.distributed(), 22);
  EXPECT_EQ(impact.on_hand(), 85 + 93);  // F1 100 - 15, F2 100 - 7

  // Inventory refuses to ship a recalled lot, naming the recall; FEFO
  // skips them and picks the unaffected F3.
  s = Ship("H-4", Dev("F2"), 1);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("R-2026-001"), std::string::npos)
      << s.error_message();
  v1::AllocateFefoRequest fefo;
  fefo.set_item(kDevice);
  fefo.mutable_quantity()->set_amount(50);
  fefo.mutable_quantity()->set_uom("EA");
  fefo.mutable_customer()->set_customer_id("H-4");
  *fefo.mutable_after() = token_;
  v1::AllocateFefoResponse picks;
  s = inventory_->AllocateFefo(stack_->Ctx("operator").get(), fefo, &picks);
  ASSERT_TRUE(s.ok()) << s.error_message();
  for (const v1::ShipmentLine& l : picks.lines()) {
    EXPECT_EQ(l.lot_id(), Dev("F3"));
  }

  // One notification per affected hospital.
  v1::GenerateNotificationsRequest notify;
  notify.set_request_id(NewRequestId());
  notify.set_recall_id(recall_id_);
  *notify.mutable_after() = token_;
  v1::GenerateNotificationsResponse notified;
  s = recall_->GenerateNotifications(stack_->Ctx("recall").get(), notify,
                                     &notified);
  ASSERT_TRUE(s.ok()) << s.error_message();
  Remember(notified.token());
  ASSERT_EQ(notified.issued_size(), 2);
  EXPECT_EQ(notified.issued(1).notice().customer().customer_id(), "H-2");
  EXPECT_EQ(notified.issued(1).notice().lines_size(), 2);

  // H-1 sends everything back; H-2 destroys its F1 on site and returns F2.
  EXPECT_EQ(Effectiveness().overall().percent(), 0.0);
  Return("H-1", Dev("F1"), 10);
  ASSERT_TRUE(Respond("H-1", Dev("F1"), 10, 0).ok());
  v1::Effectiveness half = Effectiveness();
  EXPECT_EQ(half.overall().recovered(), 10);
  EXPECT_EQ(half.overall().distributed(), 22);
  EXPECT_EQ(half.customers_answered(), 1);
  // Destroying more than it holds is refused.
  s = Respond("H-2", Dev("F1"), 0, 6);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  ASSERT_TRUE(Respond("H-2", Dev("F1"), 0, 5).ok());
  Return("H-2", Dev("F2"), 7);
  const v1::Effectiveness full = Effectiveness();
  EXPECT_EQ(full.overall().recovered(), 22);
  EXPECT_EQ(full.overall().percent(), 100.0);
  EXPECT_EQ(full.customers_answered(), 2);

  // Close; read-only afterwards.
  v1::CloseRecallRequest close;
  close.set_request_id(NewRequestId());
  close.set_recall_id(recall_id_);
  close.set_summary("all 22 units recovered; CAPA-118 opened with supplier");
  *close.mutable_after() = token_;
  v1::CloseRecallResponse closed;
  // Closing is an electronic signature too.
  s = recall_->CloseRecall(stack_->Ctx("recall").get(), close, &closed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED)
      << s.error_message();
  close.mutable_signature()->set_meaning("recall closed: effective");
  close.mutable_signature()->set_credential(stack_->Token("recall"));
  s = recall_->CloseRecall(stack_->Ctx("recall").get(), close, &closed);
  ASSERT_TRUE(s.ok()) << s.error_message();
  Remember(closed.token());
  EXPECT_EQ(closed.recall().status(), v1::RECALL_STATUS_CLOSED);
  EXPECT_EQ(closed.recall().closed_by(), "qa.recall");
  EXPECT_EQ(closed.recall().closure_signature().signer(), "qa.recall");
  EXPECT_EQ(closed.recall().closure_signature().meaning(),
            "recall closed: effective");
  EXPECT_EQ(closed.recall().closure_signature().reason(), close.summary());
  EXPECT_EQ(closed.recall().initiation_signature().signer(), "qa.recall");
  s = Respond("H-2", Dev("F2"), 0, 0);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("read-only"), std::string::npos);

  // The report: one self-contained page with paths and hospitals.
  v1::GetReportRequest report;
  report.set_recall_id(recall_id_);
  report.set_format(v1::REPORT_FORMAT_HTML);
  *report.mutable_after() = token_;
  v1::GetReportResponse page;
  s = recall_->GetReport(stack_->Ctx("auditor").get(), report, &page);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_NE(page.content().find("RM-RESIN:R1 &gt; CMP-TUBE:C1 &gt; "
                                "SUB-VALVE:V1 &gt; " +
                                Dev("F1")),
            std::string::npos);
  EXPECT_NE(page.content().find("Hospital H-2"), std::string::npos);
  EXPECT_EQ(page.content().find("<script"), std::string::npos);
  report.set_format(v1::REPORT_FORMAT_CSV);
  s = recall_->GetReport(stack_->Ctx("auditor").get(), report, &page);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_NE(page.content().find("H-1,Hospital H-1,DE-South,EA,10,10,0,10,0"),
            std::string::npos)
      << page.content();

  // A drill over R2 finds F3 at H-3 and blocks nothing.
  v1::RunDrillRequest drill;
  drill.set_request_id(NewRequestId());
  drill.mutable_criteria()->add_lot_ids("RM-RESIN:R2");
  drill.mutable_criteria()->set_include_derived(true);
  drill.set_notes("quarterly mock recall");
  *drill.mutable_after() = token_;
  v1::RunDrillResponse drilled;
  s = recall_->RunDrill(stack_->Ctx("recall").get(), drill, &drilled);
  ASSERT_TRUE(s.ok()) << s.error_message();
  Remember(drilled.token());
  EXPECT_EQ(drilled.scope_size(), 3);
  ASSERT_EQ(drilled.impact().customers_size(), 1);
  EXPECT_EQ(drilled.impact().customers(0).customer().customer_id(), "H-3");
  EXPECT_GE(drilled.elapsed_us(), 0);
  EXPECT_TRUE(Ship("H-5", Dev("F3"), 1).ok());

  // The recalls list, and the same recall after a rebuild from the log.
  v1::GetRecallRequest get;
  get.set_recall_id(recall_id_);
  *get.mutable_after() = token_;
  v1::GetRecallResponse before;
  ASSERT_TRUE(
      recall_->GetRecall(stack_->Ctx("auditor").get(), get, &before).ok());
  EXPECT_EQ(before.recall().responses_size(), 2);
  stack_->Restart(/*drop_projections=*/true);
  Connect();
  v1::GetRecallResponse after;
  s = recall_->GetRecall(stack_->Ctx("auditor").get(), get, &after);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(after.recall().DebugString(), before.recall().DebugString());
  EXPECT_EQ(Effectiveness().overall().percent(), 100.0);
  s = Ship("H-4", Dev("F1"), 1);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << "still blocked after the rebuild";
}

INSTANTIATE_TEST_SUITE_P(Backends, RecallTest,
                         ::testing::Values(Backend::kEmbedded, Backend::kKafka),
                         [](const auto& info) {
                           return BackendName(info.param);
                         });

}  // namespace
}  // namespace lotledger::testing
