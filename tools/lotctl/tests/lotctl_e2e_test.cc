// lotctl end to end: the real RunLotctl against a real in-process server
// (TestStack, embedded log) — what a script sees: output, exit codes, and
// an import that writes nothing on bad rows and nothing twice on re-runs.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "lotledger/v1/lots.pb.h"
#include "tests/support/stack.h"
#include "tools/lotctl/cli.h"
#include "tools/lotctl/tests/run_lotctl.h"

namespace lotledger::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using Result = LotctlResult;

class LotctlE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    stack_ = TestStack::Start(Backend::kEmbedded);
    ASSERT_NE(stack_, nullptr);
    env_ = TestEnvironment();
  }

  // lotctl as `who`, against the stack.
  Result Lotctl(const std::string& who, std::vector<std::string> args) {
    return RunLotctlAs(*stack_, who, std::move(args), env_);
  }

  std::string WriteFile(const std::string& name, const std::string& text) {
    const std::filesystem::path path =
        std::filesystem::path(::testing::TempDir()) /
        (NewRequestId() + "-" + name);
    std::ofstream(path, std::ios::binary) << text;
    return path.string();
  }

  void DefineProducts() {
    Result r =
        Lotctl("admin", {"product", "define", "--item=RM-100", "--name=Resin",
                         "--uom=G", "--kind=raw", "--shelf-life-days=1000"});
    ASSERT_EQ(r.code, 0) << r.err;
    r = Lotctl("admin", {"product", "define", "--item=" + std::string(kGtin),
                         "--name=Sterile catheter 12Fr", "--uom=EA",
                         "--kind=finished", "--shelf-life-days=730",
                         "--alert-days=180,90,30", "--min-ship-days=90"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("defined product 09506000134352"));
    EXPECT_THAT(r.out, HasSubstr("180, 90, 30 days before expiry"));
  }

  static constexpr char kGtin[] = "09506000134352";
  std::unique_ptr<TestStack> stack_;
  lotctl::Environment env_;
};

TEST_F(LotctlE2eTest, DefineCreateWithInputGetTraceAndResolve) {
  DefineProducts();
  Result r =
      Lotctl("operator", {"lot", "create", "--item=RM-100", "--lot=L7",
                          "--manufactured=2026-01-10", "--quantity=10000",
                          "--uom=G", "--supplier=Acme", "--supplier-lot=AC-1"});
  ASSERT_EQ(r.code, 0) << r.err;
  // The input's unit is left out: lotctl takes it from the input lot.
  r = Lotctl("operator", {"lot", "create", "--item=09506000134352", "--lot=A17",
                          "--manufactured=2026-03-02", "--quantity=500",
                          "--uom=EA", "--site=Galway", "--input=RM-100:L7:40"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("created lot 09506000134352:A17"));
  EXPECT_THAT(r.out, HasSubstr("500 EA"));

  r = Lotctl("auditor", {"lot", "get", "09506000134352:A17", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  v1::GetLotResponse got;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &got).ok())
      << r.out;
  EXPECT_EQ(got.lot().lot_number(), "A17");
  EXPECT_EQ(got.lot().created_by(), "operator");
  ASSERT_EQ(got.lot().inputs_size(), 1);
  EXPECT_EQ(got.lot().inputs(0).lot_id(), "RM-100:L7");
  EXPECT_EQ(got.lot().inputs(0).quantity().amount(), 40);
  EXPECT_EQ(got.lot().inputs(0).quantity().uom(), "G");
  const v1::Date& expires = got.lot().expires_on();

  r = Lotctl("auditor", {"lot", "get", "09506000134352:A17"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("manufactured  2026-03-02"));
  EXPECT_THAT(r.out, HasSubstr("RM-100:L7  40 G"));

  r = Lotctl("auditor", {"trace", "09506000134352:A17"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("09506000134352:A17  finished device"));
  EXPECT_THAT(r.out, HasSubstr("└─ 40 G of RM-100:L7  raw material"));
  r = Lotctl("auditor", {"trace", "RM-100:L7", "--forward"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("└─ 40 G into 09506000134352:A17"));
  r = Lotctl("auditor", {"trace", "RM-100:L7", "--forward", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  v1::TraceResponse trace;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &trace).ok());
  EXPECT_EQ(trace.edges_size(), 1);

  r = Lotctl("auditor", {"gs1", "parse", "(01)09506000134352(10)A17"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("(10)  BATCH/LOT  A17"));

  const std::string yymmdd = absl::StrFormat(
      "%02d%02d%02d", expires.year() % 100, expires.month(), expires.day());
  r = Lotctl("auditor",
             {"udi", "resolve",
              "]d201" + std::string(kGtin) + "17" + yymmdd + "10A17"});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, Not(HasSubstr("mismatch")));
  // The scan firewall: a label whose expiry disagrees is refused.
  r = Lotctl("auditor", {"udi", "resolve",
                         "(01)" + std::string(kGtin) + "(17)991231(10)A17"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.out, HasSubstr("mismatch: "));
  r = Lotctl("auditor",
             {"udi", "resolve", "(01)" + std::string(kGtin) + "(10)NOPE"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("no lot 09506000134352:NOPE"));
}

TEST_F(LotctlE2eTest, RefusalsExitOneWithTheServersMessage) {
  DefineProducts();
  Result r = Lotctl("auditor", {"lot", "get", "09506000134352:NONE"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("error: NOT_FOUND: "));
  r = Lotctl("operator", {"product", "define", "--item=X", "--name=X",
                          "--uom=EA", "--kind=raw"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("error: PERMISSION_DENIED: "));
  r = Lotctl("operator", {"lot", "create", "--item=UNKNOWN", "--lot=L1",
                          "--manufactured=2026-03-02", "--expires=2027-03-02",
                          "--quantity=5", "--uom=EA"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("error: FAILED_PRECONDITION: "));
  // A retried request id is answered once, with the first answer.
  std::vector<std::string> create = {"lot",
                                     "create",
                                     "--item=RM-100",
                                     "--lot=L9",
                                     "--manufactured=2026-01-10",
                                     "--quantity=10",
                                     "--uom=G",
                                     "--request-id=script-retry-1"};
  ASSERT_EQ(Lotctl("operator", create).code, 0);
  r = Lotctl("operator", create);
  EXPECT_EQ(r.code, 0) << r.err;
}

TEST_F(LotctlE2eTest, ImportWritesNothingOnBadRowsAndNothingTwice) {
  const std::string header =
      "item,name,uom,kind,shelf_life_days,alert_days,min_ship_days,"
      "cap_expiry_by_components,require_released_components\r\n";
  const std::string bad = WriteFile(
      "bad-products.csv",
      header + "09506000134352,Catheter,EA,finished,730,\"180,90\",90,,\r\n" +
          "09506000134353,Bad check digit,EA,finished,730,,,,\r\n" +
          "RM-1,Resin,G,gas,,,,,\r\n");
  Result r = Lotctl("admin", {"import", "products", bad});
  EXPECT_EQ(r.code, 4);
  EXPECT_THAT(r.err,
              HasSubstr("row 3, column item: \"09506000134353\" is not "
                        "a valid GTIN-14: check digit is 3, expected 2"));
  EXPECT_THAT(r.err, HasSubstr("row 4, column kind: \"gas\" is not a kind"));
  EXPECT_THAT(r.out, HasSubstr("nothing written"));
  // The good row was not written either.
  r = Lotctl("admin", {"product", "get", "09506000134352"});
  EXPECT_EQ(r.code, 1) << r.out;

  const std::string good = WriteFile(
      "products.csv",
      header +
          "09506000134352,\"Catheter, 12Fr\",EA,finished,730,\"180,90\","
          "90,true,\r\n" +
          "RM-1,Resin,G,raw,1000,,,,\r\n");
  r = Lotctl("admin", {"import", "products", good});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("imported 2, already present 0, refused 0"));
  r = Lotctl("admin", {"import", "products", good});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("imported 0, already present 2, refused 0"));
  r = Lotctl("auditor", {"product", "get", "09506000134352"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Catheter, 12Fr"));

  // Lots, one consuming another from an earlier row; the unit of the input
  // comes from the input lot.
  const std::string lots = WriteFile(
      "lots.csv",
      "item,lot_number,manufactured_on,expires_on,quantity,uom,site,inputs\n"
      "RM-1,R1,2026-01-05,,5000,G,Galway,\n"
      "09506000134352,B1,2026-03-02,,200,EA,Galway,RM-1:R1:120\n");
  r = Lotctl("operator", {"import", "lots", lots});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("imported 2, already present 0, refused 0"));
  r = Lotctl("operator", {"import", "lots", lots, "--json"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"imported\":0"));
  EXPECT_THAT(r.out, HasSubstr("\"alreadyPresent\":2"));
  r = Lotctl("auditor", {"lot", "get", "RM-1:R1", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  v1::GetLotResponse got;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &got).ok());
  EXPECT_EQ(got.lot().consumed().amount(), 120);  // consumed once, not twice

  // --partial imports the good rows and reports the bad and refused ones.
  const std::string partial =
      WriteFile("partial.csv",
                "item,lot_number,manufactured_on,quantity,uom\n"
                "RM-1,R2,2026-01-05,10,G\n"
                "RM-1,R3,2026-02-30,10,G\n"
                "NO-SUCH-ITEM,X1,2026-01-05,10,G\n");
  r = Lotctl("operator", {"import", "lots", partial, "--partial"});
  EXPECT_EQ(r.code, 4);
  EXPECT_THAT(r.err, HasSubstr("row 3, column manufactured_on: \"2026-02-30\" "
                               "is not a valid date (YYYY-MM-DD)"));
  EXPECT_THAT(r.err, HasSubstr("row 4: refused: FAILED_PRECONDITION: "));
  EXPECT_THAT(r.out, HasSubstr("imported 1, already present 0, refused 1, "
                               "bad 1"));
}

TEST_F(LotctlE2eTest, InspectReleaseAndQualityRecord) {
  DefineProducts();
  ASSERT_EQ(Lotctl("operator",
                   {"lot", "create", "--item=09506000134352", "--lot=Q1",
                    "--manufactured=2026-03-02", "--quantity=50", "--uom=EA"})
                .code,
            0);
  Result r = Lotctl(
      "inspector",
      {"inspect", "09506000134352:Q1", "--type=final", "--sample-size=13",
       "--result=seal strength|>= 1.2|1.45|N/15mm|pass", "--notes=AQL 1.0"});
  ASSERT_EQ(r.code, 0) << r.err;
  r = Lotctl("approver",
             {"release", "09506000134352:Q1", "--meaning=approved for release",
              "--reason=final inspection passed"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("released"));
  r = Lotctl("auditor", {"quality", "get", "09506000134352:Q1"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("disposition  released"));
  EXPECT_THAT(r.out, HasSubstr("seal strength"));
  r = Lotctl("auditor", {"quality", "list", "--disposition=released", "--all"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("09506000134352:Q1"));
}

}  // namespace
}  // namespace lotledger::testing
