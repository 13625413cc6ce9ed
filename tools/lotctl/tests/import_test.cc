#include "tools/lotctl/import.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lotledger::lotctl {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

std::vector<std::string> Report(const ImportPlan& plan) {
  std::vector<std::string> lines;
  for (const RowProblem& p : plan.problems) lines.push_back(FormatProblem(p));
  return lines;
}

constexpr char kProductsHeader[] =
    "item,name,uom,kind,shelf_life_days,alert_days,min_ship_days,"
    "cap_expiry_by_components,require_released_components\n";

TEST(ImportPlanTest, GoodProductRowsBecomeProducts) {
  absl::StatusOr<ImportPlan> plan = PlanImport(
      ImportKind::kProducts,
      std::string(kProductsHeader) +
          "09506000134352,\"Catheter, 12Fr\",EA,finished,730,\"30,180,90\","
          "90,true,yes\n"
          "RM-100,Resin,G,raw,,,,,\n");
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(Report(*plan), IsEmpty());
  ASSERT_EQ(plan->good.size(), 2u);
  const v1::Product& p = plan->good[0].product;
  EXPECT_EQ(p.name(), "Catheter, 12Fr");
  EXPECT_EQ(p.kind(), v1::ITEM_KIND_FINISHED_DEVICE);
  EXPECT_EQ(p.policy().shelf_life_days(), 730);
  EXPECT_THAT(p.policy().alert_thresholds_days(), ElementsAre(180, 90, 30));
  EXPECT_TRUE(p.policy().cap_expiry_by_components());
  EXPECT_TRUE(p.policy().require_released_components());
  EXPECT_EQ(plan->good[1].product.kind(), v1::ITEM_KIND_RAW_MATERIAL);
  EXPECT_THAT(plan->good[0].request_id, StartsWith("import-"));
  EXPECT_EQ(plan->good[0].request_id.size(), 7u + 32u);
}

TEST(ImportPlanTest, ReportsEveryBadValueWithRowAndColumn) {
  absl::StatusOr<ImportPlan> plan =
      PlanImport(ImportKind::kProducts,
                 std::string(kProductsHeader) +
                     "09506000134353,Catheter,EA,finished,730,,,,\n"  // row 2
                     "RM-1,Resin,G,gas,-5,,x,maybe,\n"                // row 3
                     "RM-2,,G,raw\n"                    // row 4: ragged
                     "RM-1,Resin again,G,raw,,,,,\n");  // row 5: dup
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(
      Report(*plan),
      ElementsAre(
          "row 2, column item: \"09506000134353\" is not a valid GTIN-14: "
          "check digit is 3, expected 2",
          "row 3, column kind: \"gas\" is not a kind (finished, component or "
          "raw)",
          "row 3, column shelf_life_days: \"-5\" is not a whole number in "
          "0..36500",
          "row 3, column min_ship_days: \"x\" is not a whole number in "
          "0..36500",
          "row 3, column cap_expiry_by_components: \"maybe\" is not true or "
          "false",
          "row 4: has 4 fields, the header has 9 (line 4)",
          "row 5, column item: \"RM-1\" is also on row 3"));
  EXPECT_EQ(plan->bad_rows, 4);
  EXPECT_EQ(plan->data_rows, 4);
  EXPECT_THAT(plan->good, IsEmpty());
}

// Found by tests/fuzz/fuzz_csv_import: a component whose item code the
// server refuses (here with control characters) passed the plan, so the
// import failed half-way instead of reporting the row up front.
TEST(ImportPlanTest, ItemCodesTheServerRefusesAreRowProblems) {
  absl::StatusOr<ImportPlan> plan = PlanImport(ImportKind::kProducts,
                                               "item,name,uom,kind\n"
                                               "\x12"
                                               "C-1,Tubing,EA,component\n"
                                               "C 2,Tubing,EA,component\n"
                                               "C-3,Tubing,EA,component\n");
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->problems.size(), 2u);
  EXPECT_EQ(plan->problems[0].row, 2);
  EXPECT_EQ(plan->problems[0].column, "item");
  EXPECT_THAT(plan->problems[0].message, HasSubstr("is not an item code"));
  EXPECT_THAT(FormatProblem(plan->problems[1]),
              StartsWith("row 3, column item: \"C 2\" is not an item code"));
  ASSERT_EQ(plan->good.size(), 1u);
  EXPECT_EQ(plan->good[0].key, "C-3");
}

TEST(ImportPlanTest, LotRowsCheckDatesQuantitiesAndInputs) {
  absl::StatusOr<ImportPlan> plan = PlanImport(
      ImportKind::kLots,
      "item,lot_number,manufactured_on,expires_on,quantity,uom,inputs\r\n"
      "09506000134352,A17,2026-03-02,2026-02-30,500,EA,\r\n"  // row 2
      "09506000134352,A18,2026-03-02,,five,EA,\r\n"           // row 3
      "09506000134352,A19,2026-03-02,2025-01-01,5,EA,\r\n"    // row 4
      "09506000134352,A20,,,5,,RM-100:L7\r\n"                 // row 5
      "09506000134352,A21,2026-03-02,,5,EA,RM-100:L7:40:G; C-1:X:2\r\n");
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(
      Report(*plan),
      ElementsAre(
          "row 2, column expires_on: \"2026-02-30\" is not a valid date "
          "(YYYY-MM-DD)",
          "row 3, column quantity: \"five\" is not a whole number in "
          "1..9223372036854775807",
          "row 4, column expires_on: \"2025-01-01\" is before "
          "manufactured_on 2026-03-02",
          "row 5, column manufactured_on: is required",
          "row 5, column uom: is required",
          "row 5, column inputs: \"RM-100:L7\" is not LOT_ID:QTY[:UOM] (e.g. "
          "RM-100:L7:40:G)"));
  ASSERT_EQ(plan->good.size(), 1u);
  const v1::CreateLotRequest& lot = plan->good[0].lot;
  EXPECT_EQ(plan->good[0].row, 6);
  EXPECT_EQ(plan->good[0].key, "09506000134352:A21");
  EXPECT_EQ(lot.request_id(), plan->good[0].request_id);
  ASSERT_EQ(lot.inputs_size(), 2);
  EXPECT_EQ(lot.inputs(0).lot_id(), "RM-100:L7");
  EXPECT_EQ(lot.inputs(0).quantity().amount(), 40);
  EXPECT_EQ(lot.inputs(0).quantity().uom(), "G");
  EXPECT_EQ(lot.inputs(1).lot_id(), "C-1:X");
  EXPECT_EQ(lot.inputs(1).quantity().uom(), "");  // from the input lot
}

TEST(ImportPlanTest, FileLevelProblemsAreErrors) {
  EXPECT_THAT(PlanImport(ImportKind::kLots, "").status().message(),
              HasSubstr("no header row"));
  EXPECT_THAT(
      PlanImport(ImportKind::kLots, "item,lot,quantity\n").status().message(),
      HasSubstr("unknown column \"lot\""));
  EXPECT_THAT(
      PlanImport(ImportKind::kProducts, "item,name,uom\n").status().message(),
      HasSubstr("required column kind is missing"));
  EXPECT_THAT(PlanImport(ImportKind::kProducts, "item,item,name,uom,kind\n")
                  .status()
                  .message(),
              HasSubstr("column item appears twice"));
  EXPECT_THAT(
      PlanImport(ImportKind::kProducts, "item\n\"x\n").status().message(),
      HasSubstr("line 2"));
}

TEST(ImportPlanTest, RequestIdDependsOnContentNotLayout) {
  const auto id = [](const std::string& csv) {
    absl::StatusOr<ImportPlan> plan = PlanImport(ImportKind::kProducts, csv);
    EXPECT_TRUE(plan.ok()) << plan.status();
    EXPECT_EQ(plan->good.size(), 1u) << csv;
    return plan->good.empty() ? "" : plan->good.back().request_id;
  };
  const std::string a = id("item,name,uom,kind\nRM-1,Resin,G,raw\n");
  // Column order, CRLF, padding, an empty optional column, other rows.
  EXPECT_EQ(a, id("kind,uom,name,item\r\nraw,G,Resin,RM-1\r\n"));
  EXPECT_EQ(a,
            id("item,name,uom,kind,shelf_life_days\n RM-1 , Resin,G,raw,\n"));
  EXPECT_NE(a, id("item,name,uom,kind\nRM-1,Resin 2,G,raw\n"));
}

}  // namespace
}  // namespace lotledger::lotctl
