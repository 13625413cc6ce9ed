// lotctl recall end to end: the real RunLotctl against a real in-process
// server (TestStack, embedded log, lots and recall services): initiate
// with derived lots, show, list, impact, drill, notify, effectiveness,
// close, the HTML report written to a file, and the exit codes a script
// relies on (1 refused, 2 usage).
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lotledger/v1/lots.grpc.pb.h"
#include "lotledger/v1/recall.grpc.pb.h"
#include "tests/support/stack.h"
#include "tools/lotctl/cli.h"
#include "tools/lotctl/tests/run_lotctl.h"

namespace lotledger::testing {
namespace {

using ::testing::HasSubstr;

using Result = LotctlResult;

class RecallCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    stack_ = TestStack::Start(Backend::kEmbedded, {"lots", "recall"});
    ASSERT_NE(stack_, nullptr);
    env_ = TestEnvironment();
    auto lots = v1::LotsService::NewStub(stack_->channel());
    v1::ConsistencyToken token;
    for (const char* item : {"RM", "DEV"}) {
      v1::DefineProductRequest req;
      req.set_request_id(NewRequestId());
      req.mutable_product()->set_item(item);
      req.mutable_product()->set_name(item);
      req.mutable_product()->set_uom("EA");
      req.mutable_product()->set_kind(std::string(item) == "RM"
                                          ? v1::ITEM_KIND_RAW_MATERIAL
                                          : v1::ITEM_KIND_COMPONENT);
      req.mutable_product()->mutable_policy()->set_shelf_life_days(700);
      v1::DefineProductResponse resp;
      grpc::Status s =
          lots->DefineProduct(stack_->Ctx("admin").get(), req, &resp);
      ASSERT_TRUE(s.ok()) << s.error_message();
    }
    for (const auto& [item, number, input] :
         std::vector<std::tuple<std::string, std::string, std::string>>{
             {"RM", "R1", ""}, {"DEV", "F1", "RM:R1"}}) {
      v1::CreateLotRequest req;
      req.set_request_id(NewRequestId());
      req.set_item(item);
      req.set_lot_number(number);
      req.mutable_manufactured_on()->set_year(2026);
      req.mutable_manufactured_on()->set_month(3);
      req.mutable_manufactured_on()->set_day(2);
      req.mutable_quantity()->set_amount(10);
      req.mutable_quantity()->set_uom("EA");
      if (!input.empty()) {
        req.add_inputs()->set_lot_id(input);
        req.mutable_inputs(0)->mutable_quantity()->set_amount(1);
        req.mutable_inputs(0)->mutable_quantity()->set_uom("EA");
      }
      v1::CreateLotResponse resp;
      grpc::Status s =
          lots->CreateLot(stack_->Ctx("operator").get(), req, &resp);
      ASSERT_TRUE(s.ok()) << s.error_message();
      for (const auto& o : resp.token().offsets()) *token.add_offsets() = o;
    }
    // The recall service has applied the lots once this returns.
    auto recall = v1::RecallService::NewStub(stack_->channel());
    v1::ListRecallsRequest wait;
    *wait.mutable_after() = token;
    v1::ListRecallsResponse none;
    ASSERT_TRUE(
        recall->ListRecalls(stack_->Ctx("auditor").get(), wait, &none).ok());
  }

  Result Lotctl(const std::string& who, std::vector<std::string> args) {
    return RunLotctlAs(*stack_, who, std::move(args), env_);
  }

  std::unique_ptr<TestStack> stack_;
  lotctl::Environment env_;
};

TEST_F(RecallCliTest, FromInitiationToReport) {
  const std::vector<std::string> initiate = {"recall",
                                             "initiate",
                                             "--recall-id=R-7",
                                             "--class=II",
                                             "--title=Resin",
                                             "--reason=particulates",
                                             "--hazard=reversible irritation",
                                             "--lot=RM:R1",
                                             "--derived",
                                             "--request-id=init-1"};
  EXPECT_EQ(Lotctl("operator", initiate).code, 1);  // not a recall manager
  // Initiating is a signature: --sign-token must be the caller's own.
  std::vector<std::string> foreign = initiate;
  foreign.push_back("--sign-token=" + stack_->Token("approver"));
  Result r = Lotctl("recall", foreign);
  EXPECT_NE(r.code, 0);
  EXPECT_THAT(r.err, HasSubstr("signs only for themselves"));
  std::vector<std::string> own = initiate;
  own.push_back("--sign-token=" + stack_->Token("recall"));
  r = Lotctl("recall", own);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("DEV:F1"));
  EXPECT_THAT(r.out, HasSubstr("derived"));
  EXPECT_THAT(r.out, HasSubstr("qa.recall at "));
  EXPECT_THAT(r.out, HasSubstr("recall initiated (particulates)"));

  r = Lotctl("auditor", {"recall", "show", "R-7", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"recallId\":\"R-7\""));
  r = Lotctl("auditor", {"recall", "list", "--status=open"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("R-7"));
  r = Lotctl("auditor", {"recall", "impact", "R-7"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("2 lots in scope"));
  r = Lotctl("recall", {"recall", "drill", "--lot=RM:R1", "--derived"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("nothing blocked"));
  r = Lotctl("recall", {"recall", "notify", "R-7"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("0 notifications issued"));
  r = Lotctl("auditor", {"recall", "effectiveness", "R-7"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("100.0%"));
  EXPECT_EQ(Lotctl("recall", {"recall", "close", "R-7"}).code, 2);  // summary
  // Without --sign-token the --token signs.
  r = Lotctl("recall",
             {"recall", "close", "R-7", "--summary=nothing was distributed"});
  ASSERT_EQ(r.code, 0) << r.err;
  r = Lotctl("auditor", {"recall", "show", "R-7"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("recall closed (nothing was distributed)"));
  EXPECT_EQ(
      Lotctl("recall", {"recall", "close", "R-7", "--summary=again"}).code,
      1);  // read-only

  const std::string html =
      (std::filesystem::path(::testing::TempDir()) / "recall-R-7.html")
          .string();
  r = Lotctl("auditor", {"recall", "report", "R-7", "--html=" + html});
  ASSERT_EQ(r.code, 0) << r.err;
  std::ifstream in(html);
  std::stringstream page;
  page << in.rdbuf();
  EXPECT_THAT(page.str(), HasSubstr("RM:R1 &gt; DEV:F1"));
  r = Lotctl("auditor", {"recall", "report", "R-7", "--csv"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("recall_id,class,status,lot_id"));
  EXPECT_EQ(Lotctl("auditor", {"recall", "frobnicate", "R-7"}).code, 2);
}

}  // namespace
}  // namespace lotledger::testing
