// Lots and quality together, over real gRPC, on the embedded log and on
// Kafka: the README walk-through (products, a raw material, a component, a
// finished device made from them, inspections, release, trace), a release
// refused with its reason, a deviation signed by a second person, a
// correction that keeps history, a three-level trace, a bulk import with
// bad rows, and the same answers after a restart and after a rebuild of the
// projections from the log.
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "lotledger/v1/lots.grpc.pb.h"
#include "lotledger/v1/quality.grpc.pb.h"
#include "tests/support/stack.h"
#include "tests/support/tokens.h"
#include "tools/lotctl/cli.h"

namespace lotledger::testing {
namespace {

constexpr char kDevice[] = "09506000134352";
constexpr char kValve[] = "CMP-VALVE";
constexpr char kResin[] = "RM-RESIN";

v1::Date D(int y, int m, int d) {
  v1::Date out;
  out.set_year(y);
  out.set_month(m);
  out.set_day(d);
  return out;
}

class LotsQualityTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    stack_ = TestStack::Start(GetParam());
    ASSERT_NE(stack_, nullptr);
    Connect();
  }
  void Connect() {
    lots_ = v1::LotsService::NewStub(stack_->channel());
    quality_ = v1::QualityService::NewStub(stack_->channel());
  }

  void Define(const std::string& item, v1::ItemKind kind, int shelf_days,
              bool gate_components) {
    v1::DefineProductRequest req;
    req.set_request_id(NewRequestId());
    v1::Product* p = req.mutable_product();
    p->set_item(item);
    p->set_name(item + " product");
    p->set_uom("EA");
    p->set_kind(kind);
    p->mutable_policy()->set_shelf_life_days(shelf_days);
    p->mutable_policy()->set_cap_expiry_by_components(gate_components);
    p->mutable_policy()->set_require_released_components(gate_components);
    v1::DefineProductResponse resp;
    grpc::Status s =
        lots_->DefineProduct(stack_->Ctx("admin").get(), req, &resp);
    ASSERT_TRUE(s.ok()) << item << ": " << s.error_message();
    Remember(resp.token());
  }

  grpc::Status CreateLot(const std::string& item, const std::string& lot,
                         int64_t qty,
                         std::vector<std::pair<std::string, int64_t>> inputs,
                         v1::CreateLotResponse* resp) {
    v1::CreateLotRequest req;
    req.set_request_id(NewRequestId());
    req.set_item(item);
    req.set_lot_number(lot);
    *req.mutable_manufactured_on() = D(2026, 3, 2);
    req.mutable_quantity()->set_amount(qty);
    req.mutable_quantity()->set_uom("EA");
    req.set_site("Galway");
    for (const auto& [id, q] : inputs) {
      v1::LotInput* in = req.add_inputs();
      in->set_lot_id(id);
      in->mutable_quantity()->set_amount(q);
      in->mutable_quantity()->set_uom("EA");
    }
    grpc::Status s = lots_->CreateLot(stack_->Ctx("operator").get(), req, resp);
    Remember(resp->token());
    return s;
  }

  grpc::Status Inspect(const std::string& lot_id, bool pass) {
    v1::RecordInspectionRequest req = FinalInspection(lot_id, pass);
    *req.mutable_after() = token_;
    v1::RecordInspectionResponse resp;
    grpc::Status s =
        quality_->RecordInspection(stack_->Ctx("inspector").get(), req, &resp);
    Remember(resp.token());
    return s;
  }

  grpc::Status Dispose(const std::string& lot_id, v1::Disposition to,
                       const std::string& who,
                       v1::ChangeDispositionResponse* resp,
                       const v1::DeviationRequest* deviation = nullptr) {
    v1::ChangeDispositionRequest req;
    req.set_request_id(NewRequestId());
    req.set_lot_id(lot_id);
    req.set_to(to);
    req.mutable_signature()->set_meaning(to == v1::DISPOSITION_RELEASED
                                             ? "approved for release"
                                             : "quarantined");
    req.mutable_signature()->set_reason("batch record reviewed");
    req.mutable_signature()->set_credential(stack_->Token(who));
    if (deviation != nullptr) *req.mutable_deviation() = *deviation;
    *req.mutable_after() = token_;
    grpc::Status s =
        quality_->ChangeDisposition(stack_->Ctx(who).get(), req, resp);
    Remember(resp->token());
    return s;
  }

  // resin lot -> valve lot -> device lot (and a second device lot).
  void BuildGenealogy() {
    Define(kResin, v1::ITEM_KIND_RAW_MATERIAL, 1095, false);
    Define(kValve, v1::ITEM_KIND_COMPONENT, 540, false);
    Define(kDevice, v1::ITEM_KIND_FINISHED_DEVICE, 730, true);
    v1::CreateLotResponse r;
    ASSERT_TRUE(CreateLot(kResin, "R-88", 1000, {}, &r).ok());
    ASSERT_TRUE(
        CreateLot(kValve, "V-7", 400, {{"RM-RESIN:R-88", 200}}, &r).ok());
    grpc::Status s =
        CreateLot(kDevice, "A17", 100, {{"CMP-VALVE:V-7", 100}}, &r);
    ASSERT_TRUE(s.ok()) << s.error_message();
    // The device's 730-day shelf life is capped by the valve (540 days).
    EXPECT_EQ(r.lot().expiry_source(), v1::EXPIRY_SOURCE_COMPONENT_CAP);
    EXPECT_EQ(r.lot().expiry_set_by_lot_id(), "CMP-VALVE:V-7");
    ASSERT_TRUE(
        CreateLot(kDevice, "A18", 50, {{"CMP-VALVE:V-7", 50}}, &r).ok());
  }

  // Every write's token, merged: passed as `after` to the next call, so the
  // other service reads this client's writes (how clients are meant to
  // chain services).
  void Remember(const v1::ConsistencyToken& t) { MergeToken(t, &token_); }

  v1::ConsistencyToken token_;
  std::unique_ptr<TestStack> stack_;
  std::unique_ptr<v1::LotsService::Stub> lots_;
  std::unique_ptr<v1::QualityService::Stub> quality_;
};

TEST_P(LotsQualityTest, WalkThroughFromRawMaterialToReleasedDevice) {
  BuildGenealogy();
  const std::string device = "09506000134352:A17";

  // Released components are required, and a final inspection.
  v1::ChangeDispositionResponse resp;
  grpc::Status s = Dispose(device, v1::DISPOSITION_RELEASED, "approver", &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("CMP-VALVE:V-7"), std::string::npos)
      << s.error_message();

  ASSERT_TRUE(Inspect("CMP-VALVE:V-7", true).ok());
  ASSERT_TRUE(
      Dispose("CMP-VALVE:V-7", v1::DISPOSITION_RELEASED, "approver", &resp)
          .ok());
  s = Dispose(device, v1::DISPOSITION_RELEASED, "approver", &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("final inspection"), std::string::npos)
      << s.error_message();

  ASSERT_TRUE(Inspect(device, true).ok());
  s = Dispose(device, v1::DISPOSITION_RELEASED, "approver", &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.record().disposition(), v1::DISPOSITION_RELEASED);
  ASSERT_EQ(resp.record().signatures_size(), 1);
  const v1::Signature& sig = resp.record().signatures(0).change().signature();
  EXPECT_EQ(sig.signer(), "qa.approver");
  EXPECT_EQ(sig.meaning(), "approved for release");
  EXPECT_EQ(sig.reason(), "batch record reviewed");
  EXPECT_TRUE(sig.has_signed_at());

  // The whole genealogy, both ways, three levels.
  v1::TraceRequest back;
  back.set_lot_id(device);
  back.set_direction(v1::TRACE_DIRECTION_BACKWARD);
  v1::TraceResponse graph;
  ASSERT_TRUE(lots_->Trace(stack_->Ctx("auditor").get(), back, &graph).ok());
  ASSERT_EQ(graph.nodes_size(), 3);
  EXPECT_EQ(graph.nodes(2).lot_id(), "RM-RESIN:R-88");
  EXPECT_EQ(graph.nodes(2).depth(), 2);
  EXPECT_EQ(graph.nodes(2).kind(), v1::ITEM_KIND_RAW_MATERIAL);
  ASSERT_EQ(graph.edges_size(), 2);
  EXPECT_EQ(graph.edges(1).quantity().amount(), 200);
  v1::TraceRequest fwd;
  fwd.set_lot_id("RM-RESIN:R-88");
  fwd.set_direction(v1::TRACE_DIRECTION_FORWARD);
  ASSERT_TRUE(lots_->Trace(stack_->Ctx("auditor").get(), fwd, &graph).ok());
  EXPECT_EQ(graph.nodes_size(), 4);  // resin, valve, A17, A18
  fwd.set_max_depth(1);
  ASSERT_TRUE(lots_->Trace(stack_->Ctx("auditor").get(), fwd, &graph).ok());
  EXPECT_EQ(graph.nodes_size(), 2);
  EXPECT_TRUE(graph.truncated());
}

TEST_P(LotsQualityTest, FailedFinalInspectionNeedsASecondPersonsDeviation) {
  BuildGenealogy();
  const std::string device = "09506000134352:A18";
  v1::ChangeDispositionResponse resp;
  ASSERT_TRUE(Inspect("CMP-VALVE:V-7", true).ok());
  ASSERT_TRUE(
      Dispose("CMP-VALVE:V-7", v1::DISPOSITION_RELEASED, "approver", &resp)
          .ok());
  ASSERT_TRUE(Inspect(device, false).ok());
  grpc::Status s = Dispose(device, v1::DISPOSITION_RELEASED, "approver", &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("failed final inspection"),
            std::string::npos)
      << s.error_message();

  v1::DeviationRequest dev;
  dev.set_deviation_id("DEV-2026-014");
  dev.set_justification("retest by the supplier's lab within spec");
  dev.mutable_approval()->set_meaning("deviation approved");
  dev.mutable_approval()->set_reason("supplier retest report QR-77");
  dev.mutable_approval()->set_credential(stack_->Token("approver"));
  s = Dispose(device, v1::DISPOSITION_RELEASED, "approver", &resp, &dev);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("different"), std::string::npos)
      << s.error_message();

  dev.mutable_approval()->set_credential(stack_->Token("approver2"));
  s = Dispose(device, v1::DISPOSITION_RELEASED, "approver", &resp, &dev);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const v1::DispositionChanged& change = resp.record().signatures(0).change();
  EXPECT_EQ(change.deviation().approval().signer(), "qa.approver2");
  EXPECT_NE(change.overridden_rule().find("final_inspection_failed"),
            std::string::npos);

  // A signature credential must be the caller's own.
  s = Dispose(device, v1::DISPOSITION_ON_HOLD, "approver", &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  v1::ChangeDispositionRequest forged;
  forged.set_request_id(NewRequestId());
  forged.set_lot_id(device);
  forged.set_to(v1::DISPOSITION_REJECTED);
  forged.mutable_signature()->set_meaning("rejected");
  forged.mutable_signature()->set_reason("x");
  forged.mutable_signature()->set_credential(stack_->Token("approver2"));
  s = quality_->ChangeDisposition(stack_->Ctx("approver").get(), forged, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_P(LotsQualityTest, CorrectionKeepsHistoryAndOverConsumptionIsRefused) {
  BuildGenealogy();
  v1::CreateLotResponse created;
  grpc::Status s =
      CreateLot(kValve, "V-8", 10, {{"RM-RESIN:R-88", 900}}, &created);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("RM-RESIN:R-88"), std::string::npos)
      << s.error_message();
  s = CreateLot(kValve, "V-9", 10, {{"RM-RESIN:NOPE", 1}}, &created);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("does not exist"), std::string::npos)
      << s.error_message();

  v1::CorrectLotRequest fix;
  fix.set_request_id(NewRequestId());
  fix.set_lot_id("RM-RESIN:R-88");
  fix.set_field("expires_on");
  fix.set_new_value("2028-12-31");
  fix.set_reason("supplier CoA states 2028-12-31");
  v1::CorrectLotResponse fixed;
  s = lots_->CorrectLot(stack_->Ctx("admin").get(), fix, &fixed);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(fixed.lot().expires_on().year(), 2028);
  ASSERT_EQ(fixed.lot().corrections_size(), 1);
  EXPECT_EQ(fixed.lot().corrections(0).correction().old_value(), "2029-03-01");
  EXPECT_EQ(fixed.lot().corrections(0).correction().new_value(), "2028-12-31");
  EXPECT_EQ(fixed.lot().corrections(0).actor(), "admin");

  v1::ListLotsRequest list;
  *list.mutable_expires_to() = D(2028, 12, 31);
  v1::ListLotsResponse page;
  ASSERT_TRUE(lots_->ListLots(stack_->Ctx("auditor").get(), list, &page).ok());
  ASSERT_GE(page.lots_size(), 1);
  for (const v1::Lot& l : page.lots()) {
    EXPECT_LE(l.expires_on().year() * 10000 + l.expires_on().month() * 100 +
                  l.expires_on().day(),
              20281231);
  }
}

TEST_P(LotsQualityTest, BulkImportWithBadRowsWritesNothing) {
  Define(kResin, v1::ITEM_KIND_RAW_MATERIAL, 1095, false);
  const std::string csv =
      ::testing::TempDir() + "/lots-" + NewRequestId() + ".csv";
  {
    std::ofstream f(csv);
    f << "item,lot_number,manufactured_on,quantity,uom\n"
      << "RM-RESIN,R-1,2026-01-05,100,EA\n"
      << "RM-RESIN,R-2,2026-02-30,100,EA\n"    // no such date
      << "RM-RESIN,R-3,2026-01-05,lots,EA\n";  // not a number
  }
  std::ostringstream out, err;
  const std::vector<std::string> common = {"--server=" + stack_->target(),
                                           "--token=" + stack_->Token("admin")};
  std::vector<std::string> args = common;
  args.insert(args.end(), {"import", "lots", csv});
  EXPECT_EQ(lotctl::RunLotctl(args, out, err), 4) << out.str() << err.str();
  const std::string report = out.str() + err.str();
  EXPECT_NE(report.find("row 3"), std::string::npos) << report;
  EXPECT_NE(report.find("row 4"), std::string::npos) << report;
  v1::GetLotRequest get;
  get.set_lot_id("RM-RESIN:R-1");
  v1::GetLotResponse got;
  EXPECT_EQ(lots_->GetLot(stack_->Ctx("auditor").get(), get, &got).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_P(LotsQualityTest, RestartAndRebuildGiveTheSameAnswers) {
  BuildGenealogy();
  ASSERT_TRUE(Inspect("CMP-VALVE:V-7", true).ok());
  v1::ChangeDispositionResponse disposed;
  ASSERT_TRUE(
      Dispose("CMP-VALVE:V-7", v1::DISPOSITION_ON_HOLD, "approver", &disposed)
          .ok());
  auto snapshot = [&]() {
    std::string all;
    for (const std::string id :
         {"RM-RESIN:R-88", "CMP-VALVE:V-7", "09506000134352:A17"}) {
      v1::GetLotRequest g;
      g.set_lot_id(id);
      *g.mutable_after() = token_;
      v1::GetLotResponse lot;
      EXPECT_TRUE(lots_->GetLot(stack_->Ctx("auditor").get(), g, &lot).ok());
      v1::GetQualityRecordRequest q;
      q.set_lot_id(id);
      *q.mutable_after() = token_;
      v1::GetQualityRecordResponse rec;
      EXPECT_TRUE(
          quality_->GetQualityRecord(stack_->Ctx("auditor").get(), q, &rec)
              .ok());
      v1::TraceRequest t;
      t.set_lot_id(id);
      t.set_direction(v1::TRACE_DIRECTION_FORWARD);
      v1::TraceResponse trace;
      EXPECT_TRUE(lots_->Trace(stack_->Ctx("auditor").get(), t, &trace).ok());
      all += lot.DebugString() + rec.DebugString() + trace.DebugString();
    }
    return all;
  };
  const std::string before = snapshot();
  stack_->Restart();
  Connect();
  EXPECT_EQ(snapshot(), before) << "after restart";
  stack_->Restart(/*drop_projections=*/true);
  Connect();
  EXPECT_EQ(snapshot(), before) << "after rebuild from the log";
}

INSTANTIATE_TEST_SUITE_P(Backends, LotsQualityTest,
                         ::testing::Values(Backend::kEmbedded, Backend::kKafka),
                         [](const auto& info) {
                           return BackendName(info.param);
                         });

}  // namespace
}  // namespace lotledger::testing
