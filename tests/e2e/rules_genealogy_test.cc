// Genealogy forward in time, across services, over real gRPC on the
// embedded log and on Kafka (issue 14, item 2):
//   * the lots service refuses to make a lot from a component lot that
//     quality holds or rejected, or that an open recall covers, naming the
//     component and why; once the hold is lifted or the recall closed, it
//     may;
//   * the quality service refuses to release a lot when any lot of its
//     genealogy, at any depth, is held, rejected or recalled;
//   * a lot made from a lot in the scope of an open recall that includes
//     derived lots, after the recall was initiated (here: written by a lots
//     writer whose projection had not seen the recall yet), is blocked by
//     inventory at once, joins the recall's scope and impact, and is
//     recorded once in the recall's own log (RecallScopeExtended), also
//     after every projection is rebuilt from the log.
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "libs/common/ids.h"
#include "libs/common/proto_time.h"
#include "libs/common/trace_context.h"
#include "libs/eventlog/embedded/embedded_event_log.h"
#include "libs/eventlog/record_codec.h"
#include "lotledger/v1/audit.grpc.pb.h"
#include "lotledger/v1/inventory.grpc.pb.h"
#include "lotledger/v1/lots.grpc.pb.h"
#include "lotledger/v1/quality.grpc.pb.h"
#include "lotledger/v1/recall.grpc.pb.h"
#include "tests/support/stack.h"
#include "tests/support/tokens.h"

namespace lotledger::testing {
namespace {

constexpr char kResin[] = "RM-RESIN";
constexpr char kTube[] = "CMP-TUBE";
constexpr char kDevice[] = "09506000134352";
constexpr char kBin[] = "FRA-WH1-B07";
// The trace of the call that (in the story) created the late lot.
constexpr char kCreatorTraceId[] = "0af7651916cd43dd8448eb211c80319c";
constexpr char kCreatorTraceparent[] =
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

std::string Id(const std::string& item, const std::string& number) {
  return absl::StrCat(item, ":", number);
}

// Waits (up to 30 s) until `done` holds; the condition, not the time, is
// what a test asserts.
template <typename F>
bool Eventually(F done) {
  const absl::Time until = absl::Now() + absl::Seconds(30);
  while (absl::Now() < until) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return done();
}

class RulesGenealogyTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    stack_ = TestStack::Start(
        GetParam(), {"lots", "quality", "inventory", "recall", "audit"});
    ASSERT_NE(stack_, nullptr);
    Connect();
    Product(kResin, v1::ITEM_KIND_RAW_MATERIAL);
    Product(kTube, v1::ITEM_KIND_COMPONENT);
    Product(kDevice, v1::ITEM_KIND_FINISHED_DEVICE);
  }

  void Connect() {
    lots_ = v1::LotsService::NewStub(stack_->channel());
    quality_ = v1::QualityService::NewStub(stack_->channel());
    inventory_ = v1::InventoryService::NewStub(stack_->channel());
    recall_ = v1::RecallService::NewStub(stack_->channel());
    audit_ = v1::AuditService::NewStub(stack_->channel());
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

  grpc::Status CreateLot(const std::string& item, const std::string& number,
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
    if (s.ok()) Remember(resp.token());
    return s;
  }

  void Lot(const std::string& item, const std::string& number,
           const std::vector<std::string>& inputs) {
    grpc::Status s = CreateLot(item, number, inputs);
    ASSERT_TRUE(s.ok()) << number << ": " << s.error_message();
  }

  void Inspect(const std::string& lot_id) {
    v1::RecordInspectionRequest ins = FinalInspection(lot_id);
    *ins.mutable_after() = token_;
    v1::RecordInspectionResponse resp;
    grpc::Status s =
        quality_->RecordInspection(stack_->Ctx("inspector").get(), ins, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    Remember(resp.token());
  }

  grpc::Status Dispose(const std::string& lot_id, v1::Disposition to,
                       const std::string& reason) {
    v1::ChangeDispositionRequest req;
    req.set_request_id(NewRequestId());
    req.set_lot_id(lot_id);
    req.set_to(to);
    req.mutable_signature()->set_meaning("signed");
    req.mutable_signature()->set_reason(reason);
    req.mutable_signature()->set_credential(stack_->Token("approver"));
    *req.mutable_after() = token_;
    v1::ChangeDispositionResponse resp;
    grpc::Status s =
        quality_->ChangeDisposition(stack_->Ctx("approver").get(), req, &resp);
    if (s.ok()) Remember(resp.token());
    return s;
  }

  grpc::Status Recall(const std::string& recall_id, const std::string& lot_id,
                      bool derived, const std::string& reason) {
    v1::InitiateRequest req;
    req.set_request_id(NewRequestId());
    req.set_recall_id(recall_id);
    req.set_classification(v1::RECALL_CLASS_II);
    req.set_title("Resin contamination");
    req.set_reason(reason);
    req.set_health_hazard("particulates may cause reversible irritation");
    req.mutable_criteria()->add_lot_ids(lot_id);
    req.mutable_criteria()->set_include_derived(derived);
    req.mutable_signature()->set_credential(stack_->Token("recall"));
    *req.mutable_after() = token_;
    v1::InitiateResponse resp;
    grpc::Status s = recall_->Initiate(stack_->Ctx("recall").get(), req, &resp);
    if (s.ok()) Remember(resp.token());
    return s;
  }

  grpc::Status CloseRecall(const std::string& recall_id) {
    v1::CloseRecallRequest req;
    req.set_request_id(NewRequestId());
    req.set_recall_id(recall_id);
    req.set_summary("nothing was distributed");
    req.mutable_signature()->set_credential(stack_->Token("recall"));
    *req.mutable_after() = token_;
    v1::CloseRecallResponse resp;
    grpc::Status s =
        recall_->CloseRecall(stack_->Ctx("recall").get(), req, &resp);
    if (s.ok()) Remember(resp.token());
    return s;
  }

  void Location(const std::string& id, v1::LocationKind kind,
                const std::string& parent) {
    v1::CreateLocationRequest req;
    req.set_request_id(NewRequestId());
    req.set_location_id(id);
    req.set_name(id);
    req.set_kind(kind);
    req.set_parent_id(parent);
    v1::CreateLocationResponse resp;
    grpc::Status s =
        inventory_->CreateLocation(stack_->Ctx("admin").get(), req, &resp);
    ASSERT_TRUE(s.ok()) << id << ": " << s.error_message();
    Remember(resp.token());
  }

  std::optional<v1::LotInventory> LotInventory(const std::string& lot_id) {
    v1::GetLotInventoryRequest req;
    req.set_lot_id(lot_id);
    v1::GetLotInventoryResponse resp;
    grpc::Status s =
        inventory_->GetLotInventory(stack_->Ctx("auditor").get(), req, &resp);
    if (!s.ok()) return std::nullopt;
    return resp.lot();
  }

  // Absent while the recall service does not know the recall (yet).
  std::optional<v1::Recall> GetRecall(const std::string& recall_id) {
    v1::GetRecallRequest req;
    req.set_recall_id(recall_id);
    v1::GetRecallResponse resp;
    grpc::Status s =
        recall_->GetRecall(stack_->Ctx("auditor").get(), req, &resp);
    if (!s.ok()) return std::nullopt;
    return resp.recall();
  }

  // The RecallScopeExtended events in the lot's history (every topic);
  // none while the audit service does not know the lot (yet).
  std::vector<v1::HistoryEntry> ScopeExtensions(const std::string& lot_id) {
    v1::LotHistoryRequest req;
    req.set_lot_id(lot_id);
    auto ctx = stack_->Ctx("auditor");
    auto reader = audit_->LotHistory(ctx.get(), req);
    std::vector<v1::HistoryEntry> out;
    v1::HistoryEntry e;
    while (reader->Read(&e)) {
      if (e.event().has_recall_scope_extended()) out.push_back(e);
    }
    if (!reader->Finish().ok()) return {};
    return out;
  }

  // Appends to the lots topic the LotCreated of `lot_id` made from
  // `input`, as a lots writer whose projection had not yet seen the recall
  // of `input` would have written it (the race the recall service and
  // inventory must close), with the server stopped; then starts it again.
  void AppendLotCreatedBehindTheRecall(const std::string& lot_id,
                                       const std::string& input) {
    stack_->Stop();
    {
      absl::StatusOr<std::unique_ptr<eventlog::EventLog>> log =
          eventlog::OpenEmbeddedEventLog(
              {.path =
                   (std::filesystem::path(stack_->config().data_dir) / "log")
                       .string()});
      ASSERT_TRUE(log.ok()) << log.status();
      v1::Event e;
      e.set_event_id(NewUuidV7(absl::Now()));
      e.set_aggregate_id(lot_id);
      e.add_lot_ids(lot_id);
      e.add_lot_ids(input);
      ToTimestamp(absl::Now(), e.mutable_recorded_at());
      e.set_actor("operator");
      e.set_request_id(NewRequestId());
      e.set_traceparent(kCreatorTraceparent);
      v1::LotCreated* c = e.mutable_lot_created();
      c->set_lot_id(lot_id);
      c->set_item(lot_id.substr(0, lot_id.find(':')));
      c->set_lot_number(lot_id.substr(lot_id.find(':') + 1));
      c->mutable_manufactured_on()->set_year(2026);
      c->mutable_manufactured_on()->set_month(3);
      c->mutable_manufactured_on()->set_day(9);
      c->mutable_expires_on()->set_year(2027);
      c->mutable_expires_on()->set_month(3);
      c->mutable_expires_on()->set_day(9);
      c->set_expiry_source(v1::EXPIRY_SOURCE_GIVEN);
      c->mutable_quantity()->set_amount(100);
      c->mutable_quantity()->set_uom("EA");
      v1::LotInput* in = c->add_inputs();
      in->set_lot_id(input);
      in->mutable_quantity()->set_amount(10);
      in->mutable_quantity()->set_uom("EA");
      eventlog::ChainHead head;  // a new aggregate
      const v1::EventRecord rec = eventlog::Seal(e, head);
      absl::StatusOr<std::vector<eventlog::Position>> appended = (*log)->Append(
          "lotledger.lots.v1", {eventlog::ToOutgoing(e, rec, "lots")});
      ASSERT_TRUE(appended.ok()) << appended.status();
    }
    stack_->Restart();
    Connect();
    token_.Clear();
  }

  v1::ConsistencyToken token_;
  std::unique_ptr<TestStack> stack_;
  std::unique_ptr<v1::LotsService::Stub> lots_;
  std::unique_ptr<v1::QualityService::Stub> quality_;
  std::unique_ptr<v1::InventoryService::Stub> inventory_;
  std::unique_ptr<v1::RecallService::Stub> recall_;
  std::unique_ptr<v1::AuditService::Stub> audit_;
};

void ExpectRefused(const grpc::Status& s, const std::vector<std::string>& has) {
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << s.error_message();
  for (const std::string& part : has) {
    EXPECT_NE(s.error_message().find(part), std::string::npos)
        << "message: " << s.error_message()
        << "\nexpected to contain: " << part;
  }
}

TEST_P(RulesGenealogyTest, LotsRefusesHeldRejectedOrRecalledComponents) {
  Lot(kResin, "R1", {});
  Lot(kResin, "R2", {});
  Lot(kResin, "R3", {});
  ASSERT_TRUE(
      Dispose(Id(kResin, "R1"), v1::DISPOSITION_ON_HOLD, "supplier notice")
          .ok());
  ASSERT_TRUE(
      Dispose(Id(kResin, "R2"), v1::DISPOSITION_ON_HOLD, "supplier notice")
          .ok());
  ASSERT_TRUE(
      Dispose(Id(kResin, "R2"), v1::DISPOSITION_REJECTED, "contaminated").ok());
  ASSERT_TRUE(Recall("RC-R3", Id(kResin, "R3"), false, "particulates").ok());

  ExpectRefused(CreateLot(kTube, "C1", {Id(kResin, "R1")}),
                {"component lot RM-RESIN:R1 is on hold since ",
                 " by qa.approver: supplier notice; lot CMP-TUBE:C1 cannot "
                 "consume it"});
  ExpectRefused(CreateLot(kTube, "C2", {Id(kResin, "R2")}),
                {"component lot RM-RESIN:R2 was rejected on ",
                 " by qa.approver: contaminated; lot CMP-TUBE:C2 cannot "
                 "consume it"});
  ExpectRefused(CreateLot(kTube, "C3", {Id(kResin, "R3")}),
                {"component lot RM-RESIN:R3 is under recall RC-R3 since ",
                 ": particulates; lot CMP-TUBE:C3 cannot consume it"});

  // Nothing was made of them ...
  v1::GetLotRequest get;
  get.set_lot_id(Id(kTube, "C1"));
  v1::GetLotResponse got;
  EXPECT_EQ(lots_->GetLot(stack_->Ctx("auditor").get(), get, &got).error_code(),
            grpc::StatusCode::NOT_FOUND);

  // ... until the hold is lifted or the recall closed.
  Inspect(Id(kResin, "R1"));
  ASSERT_TRUE(
      Dispose(Id(kResin, "R1"), v1::DISPOSITION_RELEASED, "retest passed")
          .ok());
  grpc::Status s = CreateLot(kTube, "C1", {Id(kResin, "R1")});
  EXPECT_TRUE(s.ok()) << s.error_message();
  ASSERT_TRUE(CloseRecall("RC-R3").ok());
  s = CreateLot(kTube, "C3", {Id(kResin, "R3")});
  EXPECT_TRUE(s.ok()) << s.error_message();
}

TEST_P(RulesGenealogyTest, QualityRefusesReleaseOverTheWholeGenealogy) {
  // R1 -> C1 -> F1 and R2 -> C2 -> F2, made while all was well.
  Lot(kResin, "R1", {});
  Lot(kResin, "R2", {});
  Lot(kTube, "C1", {Id(kResin, "R1")});
  Lot(kTube, "C2", {Id(kResin, "R2")});
  Lot(kDevice, "F1", {Id(kTube, "C1")});
  Lot(kDevice, "F2", {Id(kTube, "C2")});
  for (const std::string& lot : {Id(kResin, "R1"), Id(kTube, "C1"),
                                 Id(kDevice, "F1"), Id(kDevice, "F2")}) {
    Inspect(lot);
  }
  ASSERT_TRUE(
      Dispose(Id(kResin, "R1"), v1::DISPOSITION_RELEASED, "CoA reviewed").ok());
  ASSERT_TRUE(
      Dispose(Id(kTube, "C1"), v1::DISPOSITION_RELEASED, "in spec").ok());
  // Then the resin is held, two levels below the device.
  ASSERT_TRUE(
      Dispose(Id(kResin, "R1"), v1::DISPOSITION_ON_HOLD, "supplier notice")
          .ok());
  ExpectRefused(
      Dispose(Id(kDevice, "F1"), v1::DISPOSITION_RELEASED, "batch reviewed"),
      {"lot 09506000134352:F1 cannot be released: component lot RM-RESIN:R1 "
       "(a component of CMP-TUBE:C1) is on hold since ",
       " by qa.approver: supplier notice; a lot made from held, rejected or "
       "recalled material cannot be released"});
  // A recall of the other resin lot alone (not its derived lots) still
  // keeps the device made from it unreleased.
  ASSERT_TRUE(Recall("RC-R2", Id(kResin, "R2"), false, "particulates").ok());
  ExpectRefused(
      Dispose(Id(kDevice, "F2"), v1::DISPOSITION_RELEASED, "batch reviewed"),
      {"component lot RM-RESIN:R2 (a component of CMP-TUBE:C2) is under "
       "recall RC-R2 since ",
       ": particulates"});
  // Holding stays possible; releasing once the resin is released again too.
  EXPECT_TRUE(
      Dispose(Id(kDevice, "F1"), v1::DISPOSITION_ON_HOLD, "resin hold").ok());
  ASSERT_TRUE(
      Dispose(Id(kResin, "R1"), v1::DISPOSITION_RELEASED, "cleared").ok());
  grpc::Status s =
      Dispose(Id(kDevice, "F1"), v1::DISPOSITION_RELEASED, "batch reviewed");
  EXPECT_TRUE(s.ok()) << s.error_message();
}

INSTANTIATE_TEST_SUITE_P(Backends, RulesGenealogyTest,
                         ::testing::Values(Backend::kEmbedded, Backend::kKafka),
                         [](const auto& info) {
                           return BackendName(info.param);
                         });

// The race: the log is written directly, which the embedded backend allows
// with the server stopped.
using RulesGenealogyRaceTest = RulesGenealogyTest;

TEST_P(RulesGenealogyRaceTest, LotMadeLaterFromRecalledLotJoinsTheRecall) {
  Lot(kResin, "R1", {});
  Lot(kTube, "C1", {Id(kResin, "R1")});
  Location("EU", v1::LOCATION_KIND_SITE, "");
  Location("EU-W", v1::LOCATION_KIND_REGION, "EU");
  Location("FRA-WH1", v1::LOCATION_KIND_WAREHOUSE, "EU-W");
  Location(kBin, v1::LOCATION_KIND_BIN, "FRA-WH1");
  ASSERT_TRUE(
      Recall("RC-1", Id(kResin, "R1"), true, "resin contamination").ok());
  const std::string f9 = Id(kDevice, "F9");
  AppendLotCreatedBehindTheRecall(f9, Id(kTube, "C1"));

  // Inventory blocks it as soon as it knows the lot.
  ASSERT_TRUE(Eventually([&] {
    std::optional<v1::LotInventory> lot = LotInventory(f9);
    return lot.has_value() && lot->exists();
  }));
  const v1::LotInventory blocked = *LotInventory(f9);
  EXPECT_TRUE(blocked.recalled());
  EXPECT_EQ(blocked.recall_id(), "RC-1");
  EXPECT_EQ(blocked.recall_reason(), "resin contamination");

  // The recall service records it in the recall's own log, once.
  ASSERT_TRUE(Eventually([&] { return !ScopeExtensions(f9).empty(); }));
  std::vector<v1::HistoryEntry> extensions = ScopeExtensions(f9);
  ASSERT_EQ(extensions.size(), 1u);
  const v1::Event& extension = extensions[0].event();
  EXPECT_EQ(extension.aggregate_id(), "RC-1");
  EXPECT_EQ(extension.actor(), "system:recall-scope");
  ASSERT_EQ(extension.recall_scope_extended().lots_size(), 1);
  EXPECT_EQ(extension.recall_scope_extended().lots(0).via_lot_id(),
            Id(kTube, "C1"));
  EXPECT_EQ(extensions[0].description(),
            "recall RC-1: scope extended to 09506000134352:F9 (made from "
            "CMP-TUBE:C1)");
  EXPECT_EQ(extensions[0].reason(), "resin contamination");
  // It joins the trace of the call that created the lot.
  std::optional<TraceContext> trace = ParseTraceparent(extension.traceparent());
  ASSERT_TRUE(trace.has_value()) << extension.traceparent();
  EXPECT_EQ(trace->trace_id, kCreatorTraceId);

  // Scope and impact show it (with how it got there).
  auto expect_in_scope = [&] {
    std::optional<v1::Recall> recall = GetRecall("RC-1");
    ASSERT_TRUE(recall.has_value());
    int found = 0;
    for (const v1::ScopedLot& l : recall->scope()) {
      if (l.lot_id() != f9) continue;
      ++found;
      EXPECT_EQ(l.reason(), v1::SCOPE_REASON_DERIVED);
      EXPECT_EQ(l.via_lot_id(), Id(kTube, "C1"));
      EXPECT_EQ(l.depth(), 2);
    }
    EXPECT_EQ(found, 1);
    EXPECT_EQ(recall->lots_in_scope(), 3);
    v1::AnalyzeImpactRequest req;
    req.set_recall_id("RC-1");
    v1::AnalyzeImpactResponse impact;
    grpc::Status s =
        recall_->AnalyzeImpact(stack_->Ctx("auditor").get(), req, &impact);
    ASSERT_TRUE(s.ok()) << s.error_message();
    bool listed = false;
    for (const v1::LotImpact& l : impact.impact().lots()) {
      listed = listed || l.lot().lot_id() == f9;
    }
    EXPECT_TRUE(listed);
  };
  expect_in_scope();

  // Nothing ships, nothing is made of it, it is not released.
  v1::ReceiveStockRequest receive;
  receive.set_request_id(NewRequestId());
  receive.set_lot_id(f9);
  receive.set_location_id(kBin);
  receive.mutable_quantity()->set_amount(100);
  receive.set_source(v1::RECEIPT_SOURCE_PRODUCTION);
  v1::ReceiveStockResponse received;
  grpc::Status s = inventory_->ReceiveStock(stack_->Ctx("operator").get(),
                                            receive, &received);
  ASSERT_TRUE(s.ok()) << s.error_message();
  Remember(received.token());
  v1::ShipStockRequest ship;
  ship.set_request_id(NewRequestId());
  ship.mutable_customer()->set_customer_id("H-1");
  v1::ShipmentLine* line = ship.add_lines();
  line->set_lot_id(f9);
  line->set_location_id(kBin);
  line->mutable_quantity()->set_amount(1);
  *ship.mutable_after() = token_;
  v1::ShipStockResponse shipped;
  ExpectRefused(
      inventory_->ShipStock(stack_->Ctx("operator").get(), ship, &shipped),
      {"lot 09506000134352:F9 is under recall RC-1",
       "recalled stock cannot ship"});
  ExpectRefused(CreateLot(kDevice, "K1", {f9}),
                {"component lot 09506000134352:F9 is under recall RC-1",
                 "lot 09506000134352:K1 cannot consume it"});
  Inspect(f9);
  ExpectRefused(Dispose(f9, v1::DISPOSITION_RELEASED, "batch reviewed"),
                {"lot 09506000134352:F9 is under recall RC-1",
                 "a recalled lot cannot be released"});

  // Rebuilt from the log, every projection says the same, and the lot is
  // not recorded a second time.
  stack_->Restart(/*drop_projections=*/true);
  Connect();
  ASSERT_TRUE(Eventually([&] {
    std::optional<v1::LotInventory> lot = LotInventory(f9);
    return lot.has_value() && lot->exists() && lot->recalled();
  }));
  EXPECT_EQ(LotInventory(f9)->recall_id(), "RC-1");
  ASSERT_TRUE(Eventually([&] {
    std::optional<v1::Recall> recall = GetRecall("RC-1");
    return recall.has_value() && recall->lots_in_scope() == 3;
  }));
  expect_in_scope();
  ASSERT_TRUE(Eventually([&] { return !ScopeExtensions(f9).empty(); }));
  // Give the reactor (it looks every 100 ms) the chance to do wrong.
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_EQ(ScopeExtensions(f9).size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Embedded, RulesGenealogyRaceTest,
                         ::testing::Values(Backend::kEmbedded),
                         [](const auto& info) {
                           return BackendName(info.param);
                         });

}  // namespace
}  // namespace lotledger::testing
