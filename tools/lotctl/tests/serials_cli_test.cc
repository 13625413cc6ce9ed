// lotctl and the serial register end to end: the real RunLotctl against a
// real in-process server (TestStack, embedded log, lots).
//   * `import serials`: every bad row reported with row and column and
//     nothing written; a good file merges a lot's rows and assigns them;
//     a re-run writes nothing new and says so;
//   * `lot assign-serials`, `lot serial`, `trace --serial`, and
//     `product define --tracking` / the products import's tracking column.
// PlanSerialImport's offline checks are also tested without a server.
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/common/ids.h"
#include "lotledger/v1/lots.grpc.pb.h"
#include "tools/lotctl/import_serials.h"
#include "tools/lotctl/tests/run_lotctl.h"

namespace lotledger::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kImplant[] = "09506000134352";

TEST(PlanSerialImport, ReportsEveryBadRowWithItsColumn) {
  absl::StatusOr<lotctl::SerialImportPlan> plan = lotctl::PlanSerialImport(
      "lot_id,serials\n"
      "09506000134352:A17,SN0001..SN0003\n"
      "09506000134352:A17,SN0009..SN0001\n"    // row 3: backwards
      "A17,SN0004\n"                           // row 4: not a lot id
      "09506000134352:A18,SN0002\n"            // row 5: also on row 2
      "09506000134352:A18,\n"                  // row 6: no serials
      "09506000134352:A18,SN 7\n"              // row 7: a space
      "09506000134352:A17,SN0004..SN0005\n");  // row 8: good
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->data_rows, 7);
  EXPECT_EQ(plan->bad_rows, 5);
  std::vector<std::string> problems;
  for (const lotctl::RowProblem& p : plan->problems) {
    problems.push_back(lotctl::FormatProblem(p));
  }
  EXPECT_THAT(
      problems,
      ::testing::ElementsAre(
          "row 3, column serials: last: 'SN0001' comes before first 'SN0009'",
          "row 4, column lot_id: \"A17\" is not a lot id (<item>:<lot "
          "number>)",
          "row 5, column serials: serial SN0002 of 09506000134352 is also on "
          "row 2 (lot 09506000134352:A17)",
          "row 6, column serials: is required",
          HasSubstr("row 7, column serials: first: character ' ' at "
                    "position 3 is not allowed")));
  // Rows of a lot merged into one request, serials in order.
  ASSERT_EQ(plan->requests.size(), 1u);
  EXPECT_EQ(plan->requests[0].lot_id, "09506000134352:A17");
  EXPECT_THAT(
      plan->requests[0].serials,
      ::testing::ElementsAre("SN0001", "SN0002", "SN0003", "SN0004", "SN0005"));
  EXPECT_THAT(plan->requests[0].rows, ::testing::ElementsAre(2, 8));
}

class SerialsCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    stack_ = TestStack::Start(Backend::kEmbedded, {"lots"});
    ASSERT_NE(stack_, nullptr);
    dir_ = ::testing::TempDir() + "/serials-cli-" + NewRequestId();
    std::filesystem::create_directories(dir_);
    LotctlResult r =
        Run("admin", {"product", "define", std::string("--item=") + kImplant,
                      "--name=Hip stem", "--uom=EA", "--kind=finished",
                      "--shelf-life-days=1825", "--tracking=serial"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("tracking"));
    EXPECT_THAT(r.out, HasSubstr("by serial"));
    for (const char* lot : {"A17", "A18"}) {
      r = Run("operator",
              {"lot", "create", std::string("--item=") + kImplant,
               std::string("--lot=") + lot, "--manufactured=2026-03-20",
               "--quantity=10", "--uom=EA"});
      ASSERT_EQ(r.code, 0) << r.err;
    }
  }

  LotctlResult Run(const std::string& who, std::vector<std::string> args) {
    return RunLotctlAs(*stack_, who, std::move(args), TestEnvironment());
  }

  std::string WriteFile(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  std::unique_ptr<TestStack> stack_;
  std::string dir_;
};

TEST_F(SerialsCliTest,
       ImportChecksEveryRowThenWritesOnceAndReRunsWriteNothing) {
  const std::string bad = WriteFile("bad.csv",
                                    "lot_id,serials\n"
                                    "09506000134352:A17,SN0001..SN0004\n"
                                    "09506000134352:A18,SN0004\n"
                                    "09506000134352:A18,SN0012..SN0010\n");
  LotctlResult r = Run("admin", {"import", "serials", bad});
  EXPECT_EQ(r.code, lotctl::kExitBadRows);
  EXPECT_THAT(r.err, HasSubstr("row 3, column serials: serial SN0004 of "
                               "09506000134352 is also on row 2"));
  EXPECT_THAT(r.err, HasSubstr("row 4, column serials: last: 'SN0010' comes "
                               "before first 'SN0012'"));
  EXPECT_THAT(r.out, HasSubstr("nothing written: 2 bad of 3 rows"));
  r = Run("auditor", {"lot", "serial", kImplant, "SN0001"});
  EXPECT_EQ(r.code, lotctl::kExitRefused);
  EXPECT_THAT(r.err, HasSubstr("serial SN0001 of 09506000134352 is not "
                               "assigned to any lot"));

  // Two serials on the lot before the import: unchanged, not new.
  r = Run("admin",
          {"lot", "assign-serials", "09506000134352:A17", "SN0001", "SN0002"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out,
              HasSubstr("assigned 2 serials to lot 09506000134352:A17 (the "
                        "lot has 2)"));

  const std::string good = WriteFile("good.csv",
                                     "serials,lot_id\n"
                                     "SN0001..SN0004,09506000134352:A17\n"
                                     "SN0010,09506000134352:A18\n"
                                     "SN0007,09506000134352:A17\n");
  r = Run("admin", {"import", "serials", good});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out,
              HasSubstr("serials: new 4, unchanged 2, refused 0 (lots: 2)"));
  r = Run("admin", {"import", "serials", good});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out,
              HasSubstr("serials: new 0, unchanged 6, refused 0 (lots: 2)"));

  r = Run("auditor", {"lot", "serial", kImplant, "SN0003"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("09506000134352:A17"));
  EXPECT_THAT(r.out, HasSubstr("SN0001..SN0004, SN0007 (5)"));
  r = Run("auditor", {"lot", "get", "09506000134352:A17"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("10 EA, 5 serials assigned"));

  // A file naming a serial of another lot: that lot is refused, by name.
  const std::string clash = WriteFile(
      "clash.csv", "lot_id,serials\n09506000134352:A18,SN0007..SN0008\n");
  r = Run("admin", {"import", "serials", clash});
  EXPECT_EQ(r.code, lotctl::kExitBadRows);
  EXPECT_THAT(r.err, HasSubstr("lot 09506000134352:A18 (rows 2): refused: "
                               "FAILED_PRECONDITION: product 09506000134352: "
                               "serial SN0007 belongs to lot "
                               "09506000134352:A17"));
}

TEST_F(SerialsCliTest, TraceBySerialAndTrackingColumn) {
  LotctlResult r =
      Run("admin", {"lot", "assign-serials", "09506000134352:A18", "4711"});
  ASSERT_EQ(r.code, 0) << r.err;
  r = Run("auditor", {"trace", "--serial=09506000134352:4711"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("serial 4711 of 09506000134352 is in lot "
                               "09506000134352:A18"));
  r = Run("auditor", {"trace", "--serial=4711"});
  EXPECT_EQ(r.code, lotctl::kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("--serial: \"4711\" is not ITEM:SERIAL"));

  // The products import's tracking column; tracking cannot change once
  // the product has lots.
  const std::string products =
      WriteFile("products.csv",
                "item,name,uom,kind,shelf_life_days,tracking\n"
                "09506000134369,Knee insert,EA,finished,1825,serial\n"
                "09506000134352,Hip stem,EA,finished,1825,lot\n"
                "09506000134376,Screw,EA,finished,1825,bolt\n");
  r = Run("admin", {"import", "products", products, "--partial"});
  EXPECT_EQ(r.code, lotctl::kExitBadRows);
  EXPECT_THAT(r.err, HasSubstr("row 4, column tracking: \"bolt\" is not a "
                               "tracking: lot or serial"));
  EXPECT_THAT(r.err, HasSubstr("its tracking cannot change (tracking by "
                               "serial, this definition says by lot)"));
  r = Run("auditor", {"product", "get", "09506000134369"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("by serial"));
}

}  // namespace
}  // namespace lotledger::testing
