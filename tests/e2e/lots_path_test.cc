// The foundation's one path end to end, on both logs: a lot created over
// real gRPC goes through the log into the projection and comes back;
// retries are answered once; the actor is the authenticated caller;
// health checking answers; state survives a restart and a rebuild.
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "lotledger/v1/lots.grpc.pb.h"
#include "tests/support/stack.h"

namespace lotledger::testing {
namespace {

class LotsPathTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    stack_ = TestStack::Start(GetParam());
    ASSERT_NE(stack_, nullptr);
    lots_ = v1::LotsService::NewStub(stack_->channel());
  }

  void DefineProduct(const std::string& item) {
    v1::DefineProductRequest req;
    req.set_request_id(NewRequestId());
    v1::Product* p = req.mutable_product();
    p->set_item(item);
    p->set_name("Sterile catheter 12Fr");
    p->set_uom("EA");
    p->set_kind(v1::ITEM_KIND_FINISHED_DEVICE);
    p->mutable_policy()->set_shelf_life_days(730);
    p->mutable_policy()->add_alert_thresholds_days(90);
    v1::DefineProductResponse resp;
    grpc::Status s =
        lots_->DefineProduct(stack_->Ctx("admin").get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  v1::CreateLotRequest LotRequest(const std::string& lot_number) {
    v1::CreateLotRequest req;
    req.set_request_id(NewRequestId());
    req.set_item(kGtin);
    req.set_lot_number(lot_number);
    req.mutable_manufactured_on()->set_year(2026);
    req.mutable_manufactured_on()->set_month(3);
    req.mutable_manufactured_on()->set_day(2);
    req.mutable_quantity()->set_amount(500);
    req.mutable_quantity()->set_uom("EA");
    req.set_site("Galway");
    return req;
  }

  static constexpr char kGtin[] = "09506000134352";
  std::unique_ptr<TestStack> stack_;
  std::unique_ptr<v1::LotsService::Stub> lots_;
};

TEST_P(LotsPathTest, HealthCheckAnswersServing) {
  auto health = grpc::health::v1::Health::NewStub(stack_->channel());
  for (const std::string service : {"", "lotledger.v1.LotsService"}) {
    grpc::health::v1::HealthCheckRequest req;
    req.set_service(service);
    grpc::health::v1::HealthCheckResponse resp;
    grpc::ClientContext ctx;
    grpc::Status s = health->Check(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING)
        << service;
  }
}

TEST_P(LotsPathTest, CreatedLotComesBackWithTheCallerAsActor) {
  DefineProduct(kGtin);
  v1::CreateLotResponse created;
  grpc::Status s = lots_->CreateLot(stack_->Ctx("operator").get(),
                                    LotRequest("A17"), &created);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(created.lot().lot_id(), "09506000134352:A17");
  EXPECT_EQ(created.lot().created_by(), "operator");
  // Expiry computed from the 730-day shelf life.
  EXPECT_EQ(created.lot().expires_on().year(), 2028);
  EXPECT_EQ(created.lot().expires_on().month(), 3);
  EXPECT_EQ(created.lot().expires_on().day(), 1);
  ASSERT_GT(created.token().offsets_size(), 0);

  v1::GetLotRequest get;
  get.set_lot_id("09506000134352:A17");
  *get.mutable_after() = created.token();
  v1::GetLotResponse got;
  s = lots_->GetLot(stack_->Ctx("auditor").get(), get, &got);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(got.lot().quantity().amount(), 500);
  EXPECT_EQ(got.lot().site(), "Galway");
}

TEST_P(LotsPathTest, RetryWithSameRequestIdIsAnsweredOnce) {
  DefineProduct(kGtin);
  v1::CreateLotRequest req = LotRequest("R1");
  v1::CreateLotResponse first, second;
  ASSERT_TRUE(
      lots_->CreateLot(stack_->Ctx("operator").get(), req, &first).ok());
  grpc::Status s =
      lots_->CreateLot(stack_->Ctx("operator").get(), req, &second);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(second.lot().SerializeAsString(), first.lot().SerializeAsString());
  // The retry wrote nothing: the token points at the first write.
  ASSERT_EQ(first.token().offsets_size(), 1);
  ASSERT_EQ(second.token().offsets_size(), 1);
  EXPECT_EQ(second.token().offsets(0).offset(),
            first.token().offsets(0).offset());

  // A different request for the same lot is refused: it already exists.
  v1::CreateLotRequest other = LotRequest("R1");
  other.mutable_quantity()->set_amount(7);
  v1::CreateLotResponse ignored;
  s = lots_->CreateLot(stack_->Ctx("operator").get(), other, &ignored);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("already exists"), std::string::npos)
      << s.error_message();
}

TEST_P(LotsPathTest, UnauthenticatedAndUnauthorizedCallsAreRefused) {
  v1::DefineProductRequest req;
  req.set_request_id(NewRequestId());
  req.mutable_product()->set_item(kGtin);
  v1::DefineProductResponse resp;
  grpc::ClientContext anonymous;
  EXPECT_EQ(lots_->DefineProduct(&anonymous, req, &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  grpc::ClientContext forged;
  forged.AddMetadata("authorization", "Bearer not-a-token");
  EXPECT_EQ(lots_->DefineProduct(&forged, req, &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(lots_->DefineProduct(stack_->Ctx("operator").get(), req, &resp)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(lots_->DefineProduct(stack_->Ctx("auditor").get(), req, &resp)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_P(LotsPathTest, BadInputNamesTheField) {
  DefineProduct(kGtin);
  v1::CreateLotRequest req = LotRequest("A17");
  req.clear_request_id();
  v1::CreateLotResponse resp;
  grpc::Status s = lots_->CreateLot(stack_->Ctx("operator").get(), req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("request_id"), std::string::npos);
  req = LotRequest("A17");
  req.mutable_quantity()->set_amount(-5);
  s = lots_->CreateLot(stack_->Ctx("operator").get(), req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("quantity"), std::string::npos)
      << s.error_message();
}

TEST_P(LotsPathTest, LotSurvivesRestartAndRebuildFromTheLog) {
  DefineProduct(kGtin);
  v1::CreateLotResponse created;
  ASSERT_TRUE(
      lots_
          ->CreateLot(stack_->Ctx("operator").get(), LotRequest("K9"), &created)
          .ok());
  for (bool drop : {false, true}) {
    stack_->Restart(/*drop_projections=*/drop);
    lots_ = v1::LotsService::NewStub(stack_->channel());
    v1::GetLotRequest get;
    get.set_lot_id("09506000134352:K9");
    *get.mutable_after() = created.token();
    v1::GetLotResponse got;
    grpc::Status s = lots_->GetLot(stack_->Ctx("auditor").get(), get, &got);
    ASSERT_TRUE(s.ok()) << (drop ? "after rebuild: " : "after restart: ")
                        << s.error_message();
    EXPECT_EQ(got.lot().SerializeAsString(), created.lot().SerializeAsString());
  }
  // The writer continues the lot's hash chain after the rebuild: a further
  // command on it is accepted (a broken chain would stop the projector).
  v1::CorrectLotRequest fix;
  fix.set_request_id(NewRequestId());
  fix.set_lot_id("09506000134352:K9");
  fix.set_field("site");
  fix.set_new_value("Cork");
  fix.set_reason("entered at the wrong site");
  v1::CorrectLotResponse fixed;
  grpc::Status s = lots_->CorrectLot(stack_->Ctx("admin").get(), fix, &fixed);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(fixed.lot().site(), "Cork");
  ASSERT_EQ(fixed.lot().corrections_size(), 1);
  EXPECT_EQ(fixed.lot().corrections(0).actor(), "admin");
}

INSTANTIATE_TEST_SUITE_P(Backends, LotsPathTest,
                         ::testing::Values(Backend::kEmbedded, Backend::kKafka),
                         [](const auto& info) {
                           return BackendName(info.param);
                         });

}  // namespace
}  // namespace lotledger::testing
