// lotctl admin rebuild end to end: the real RunLotctl against a real
// in-process server (TestStack, embedded log, lots): the progress bar on a
// terminal, the summary with matching digests, --json progress lines, and
// exit 1 with PERMISSION_DENIED for a caller who is not an admin.
#include <filesystem>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "lotledger/v1/admin.pb.h"
#include "lotledger/v1/lots.grpc.pb.h"
#include "tests/support/stack.h"
#include "tools/lotctl/cli.h"
#include "tools/lotctl/tests/run_lotctl.h"

namespace lotledger::testing {
namespace {

using ::testing::HasSubstr;

using Result = LotctlResult;

class AdminCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    stack_ = TestStack::Start(Backend::kEmbedded, {"lots"});
    ASSERT_NE(stack_, nullptr);
    env_ = TestEnvironment();
    auto lots = v1::LotsService::NewStub(stack_->channel());
    v1::DefineProductRequest def;
    def.set_request_id(NewRequestId());
    def.mutable_product()->set_item("RM");
    def.mutable_product()->set_name("Resin");
    def.mutable_product()->set_uom("KG");
    def.mutable_product()->set_kind(v1::ITEM_KIND_RAW_MATERIAL);
    def.mutable_product()->mutable_policy()->set_shelf_life_days(700);
    v1::DefineProductResponse defined;
    grpc::Status s =
        lots->DefineProduct(stack_->Ctx("admin").get(), def, &defined);
    ASSERT_TRUE(s.ok()) << s.error_message();
    for (int i = 0; i < 200; ++i) {
      v1::CreateLotRequest req;
      req.set_request_id(NewRequestId());
      req.set_item("RM");
      req.set_lot_number(absl::StrCat("R", i));
      req.mutable_manufactured_on()->set_year(2026);
      req.mutable_manufactured_on()->set_month(3);
      req.mutable_manufactured_on()->set_day(2);
      req.mutable_quantity()->set_amount(10);
      req.mutable_quantity()->set_uom("KG");
      v1::CreateLotResponse resp;
      s = lots->CreateLot(stack_->Ctx("operator").get(), req, &resp);
      ASSERT_TRUE(s.ok()) << s.error_message();
    }
  }

  Result Run(const std::string& who, std::vector<std::string> args) {
    return RunLotctlAs(*stack_, who, std::move(args), env_);
  }

  std::unique_ptr<TestStack> stack_;
  lotctl::Environment env_;
};

TEST_F(AdminCliTest, RebuildDrawsProgressAndPrintsMatchingDigests) {
  env_.err_is_tty = true;
  const Result r = Run("admin", {"admin", "rebuild", "lots"});
  ASSERT_EQ(r.code, 0) << r.err;
  // The bar: records/s, and the phases it went through, ending switched.
  EXPECT_THAT(r.err, HasSubstr("records/s"));
  EXPECT_THAT(r.err, HasSubstr("] lots replaying "));
  EXPECT_THAT(r.err, HasSubstr("] lots switched "));
  EXPECT_THAT(r.out, HasSubstr("digests match  yes"));
  EXPECT_THAT(r.out, HasSubstr("lots.rebuild-1"));
  std::printf("%s%s", r.err.c_str(), r.out.c_str());
}

TEST_F(AdminCliTest, JsonPrintsOneProgressMessagePerLine) {
  const Result r = Run("admin", {"--json", "admin", "rebuild", "lots"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::vector<std::string> lines =
      absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_FALSE(lines.empty());
  v1::RebuildProgress last;
  for (const std::string& line : lines) {
    last.Clear();
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &last).ok())
        << line;
  }
  EXPECT_EQ(last.phase(), v1::RebuildProgress::PHASE_SWITCHED);
  EXPECT_EQ(last.records_applied(), last.records_total());
  EXPECT_TRUE(last.digests_match());
}

TEST_F(AdminCliTest, OnlyAnAdminMayRebuild) {
  const Result r = Run("operator", {"admin", "rebuild", "lots"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("PERMISSION_DENIED"));
  const Result usage = Run("admin", {"admin", "rebuild"});
  EXPECT_EQ(usage.code, 2);
  const Result unknown = Run("admin", {"admin", "rebuild", "recall"});
  EXPECT_EQ(unknown.code, 1);
  EXPECT_THAT(unknown.err, HasSubstr("NOT_FOUND"));
}

}  // namespace
}  // namespace lotledger::testing
