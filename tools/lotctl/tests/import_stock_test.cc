// `lotctl import stock` and the serial verbs of `lotctl inventory`: the
// offline checks of an opening-stock file (every problem with row and
// column, nothing written with a bad row), then against a real server
// (TestStack, embedded log): a file of a lot-tracked and a serialised lot
// is received, a re-run receives nothing twice; a shipment by serial, a
// serial shipped twice refused naming where it is, a usage report, and
// where one serial is.
#include "tools/lotctl/import_stock.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lotledger/v1/inventory.grpc.pb.h"
#include "lotledger/v1/lots.grpc.pb.h"
#include "lotledger/v1/quality.grpc.pb.h"
#include "tests/support/stack.h"
#include "tools/lotctl/cli.h"
#include "tools/lotctl/tests/run_lotctl.h"

namespace lotledger::testing {
namespace {

using ::testing::HasSubstr;

TEST(PlanStockImportTest, ChecksEveryRowAndDerivesRequestIdsFromContent) {
  absl::StatusOr<lotctl::StockImportPlan> plan = lotctl::PlanStockImport(
      "lot_id,location_id,quantity,serials,reference\n"
      "09506000134352:A17,FRA-WH1,40,,opening\n"
      "09506000200002:H7,MUC-WH1,,SN0001..SN0005 SN0008,opening\n"
      "09506000200002:H7,MUC-WH1,3,SN0010 SN0011,\n"
      "09506000200002:H8,MUC-WH1,,SN0005,\n"
      "09506000200002:H7,MUC-WH1,,SN0020..SN0019,\n"
      "09506000134352:A18,FRA-WH1,,,\n"
      "09506000134352:A17,FRA-WH1,40,,opening\n");
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->data_rows, 7);
  ASSERT_EQ(plan->good.size(), 2u);
  EXPECT_EQ(plan->good[0].receive.quantity().amount(), 40);
  EXPECT_EQ(plan->good[0].receive.source(), v1::RECEIPT_SOURCE_PRODUCTION);
  EXPECT_EQ(plan->good[1].serials, 6);
  EXPECT_EQ(plan->good[1].receive.serials_size(), 2);
  EXPECT_EQ(plan->bad_rows, 5);
  std::vector<std::string> problems;
  for (const lotctl::RowProblem& p : plan->problems) {
    problems.push_back(lotctl::FormatProblem(p));
  }
  EXPECT_THAT(problems,
              ::testing::ElementsAre(
                  HasSubstr("row 4, column quantity: 3 but the row names 2 "
                            "serials"),
                  HasSubstr("row 5, column serials: serial SN0005 of item "
                            "09506000200002 is also on row 3"),
                  HasSubstr("row 6, column serials: "),
                  HasSubstr("row 7, column quantity: required when the row "
                            "names no serials"),
                  HasSubstr("row 8: the same as row 2")));
  // The same content gives the same request id (a re-run is a retry).
  absl::StatusOr<lotctl::StockImportPlan> again = lotctl::PlanStockImport(
      "reference,lot_id,location_id,quantity\n"
      "opening,09506000134352:A17,FRA-WH1,40\n");
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_EQ(again->good.size(), 1u);
  EXPECT_EQ(again->good[0].receive.request_id(),
            plan->good[0].receive.request_id());
}

constexpr char kCatheter[] = "09506000134352";
constexpr char kImplant[] = "09506000200002";

v1::Date ToDate(absl::CivilDay d) {
  v1::Date out;
  out.set_year(static_cast<int32_t>(d.year()));
  out.set_month(d.month());
  out.set_day(d.day());
  return out;
}

class ImportStockE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    stack_ =
        TestStack::Start(Backend::kEmbedded, {"lots", "quality", "inventory"});
    ASSERT_NE(stack_, nullptr);
    env_ = TestEnvironment();
    lots_ = v1::LotsService::NewStub(stack_->channel());
    quality_ = v1::QualityService::NewStub(stack_->channel());
    inventory_ = v1::InventoryService::NewStub(stack_->channel());
  }

  LotctlResult Lotctl(const std::string& who, std::vector<std::string> args) {
    return RunLotctlAs(*stack_, who, std::move(args), env_);
  }

  std::string WriteFile(const std::string& text) {
    const std::filesystem::path path =
        std::filesystem::path(::testing::TempDir()) /
        (NewRequestId() + "-stock.csv");
    std::ofstream(path, std::ios::binary) << text;
    return path.string();
  }

  // A released lot `number` of `item`; with serials SN0001..SN0010 when
  // the item is tracked by serial.
  void Lot(const std::string& item, const std::string& number, bool serial) {
    const absl::CivilDay today =
        absl::ToCivilDay(absl::Now(), absl::UTCTimeZone());
    v1::DefineProductRequest def;
    def.set_request_id(NewRequestId());
    v1::Product* p = def.mutable_product();
    p->set_item(item);
    p->set_name(item);
    p->set_uom("EA");
    p->set_kind(v1::ITEM_KIND_FINISHED_DEVICE);
    p->set_tracking(serial ? v1::TRACKING_SERIAL : v1::TRACKING_LOT);
    p->mutable_policy()->set_shelf_life_days(1825);
    v1::DefineProductResponse defined;
    grpc::Status s =
        lots_->DefineProduct(stack_->Ctx("admin").get(), def, &defined);
    ASSERT_TRUE(s.ok()) << s.error_message();
    v1::CreateLotRequest lot;
    lot.set_request_id(NewRequestId());
    lot.set_item(item);
    lot.set_lot_number(number);
    *lot.mutable_manufactured_on() = ToDate(today - 30);
    *lot.mutable_expires_on() = ToDate(today + 1000);
    lot.mutable_quantity()->set_amount(100);
    lot.mutable_quantity()->set_uom("EA");
    lot.set_site("Galway");
    v1::CreateLotResponse created;
    s = lots_->CreateLot(stack_->Ctx("operator").get(), lot, &created);
    ASSERT_TRUE(s.ok()) << s.error_message();
    if (serial) {
      v1::AssignSerialsRequest assign;
      assign.set_request_id(NewRequestId());
      assign.set_lot_id(created.lot().lot_id());
      v1::SerialRange* r = assign.add_serials();
      r->set_first("SN0001");
      r->set_last("SN0010");
      v1::AssignSerialsResponse assigned;
      s = lots_->AssignSerials(stack_->Ctx("admin").get(), assign, &assigned);
      ASSERT_TRUE(s.ok()) << s.error_message();
    }
    v1::RecordInspectionResponse inspected;
    s = quality_->RecordInspection(stack_->Ctx("inspector").get(),
                                   FinalInspection(created.lot().lot_id()),
                                   &inspected);
    ASSERT_TRUE(s.ok()) << s.error_message();
    v1::ChangeDispositionRequest rel;
    rel.set_request_id(NewRequestId());
    rel.set_lot_id(created.lot().lot_id());
    rel.set_to(v1::DISPOSITION_RELEASED);
    rel.mutable_signature()->set_meaning("approved for release");
    rel.mutable_signature()->set_reason("final inspection passed");
    rel.mutable_signature()->set_credential(stack_->Token("approver"));
    v1::ChangeDispositionResponse released;
    s = quality_->ChangeDisposition(stack_->Ctx("approver").get(), rel,
                                    &released);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  int64_t OnHand(const std::string& lot_id) {
    v1::GetLotInventoryRequest req;
    req.set_lot_id(lot_id);
    v1::GetLotInventoryResponse resp;
    grpc::Status s =
        inventory_->GetLotInventory(stack_->Ctx("auditor").get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.lot().on_hand();
  }

  std::unique_ptr<TestStack> stack_;
  lotctl::Environment env_;
  std::unique_ptr<v1::LotsService::Stub> lots_;
  std::unique_ptr<v1::QualityService::Stub> quality_;
  std::unique_ptr<v1::InventoryService::Stub> inventory_;
};

TEST_F(ImportStockE2eTest, OpeningStockOnceThenSerialVerbs) {
  ASSERT_NO_FATAL_FAILURE(Lot(kCatheter, "A17", false));
  ASSERT_NO_FATAL_FAILURE(Lot(kImplant, "H7", true));
  for (const auto& [id, kind, parent] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"ACME", "site", ""},
           {"DE", "region", "ACME"},
           {"MUC-WH1", "warehouse", "DE"}}) {
    std::vector<std::string> args = {"inventory", "location-create", id,
                                     "--name=" + id, "--kind=" + kind};
    if (!parent.empty()) args.push_back("--parent=" + parent);
    LotctlResult r = Lotctl("admin", args);
    ASSERT_EQ(r.code, 0) << r.err;
  }
  const std::string lot_a17 = std::string(kCatheter) + ":A17";
  const std::string lot_h7 = std::string(kImplant) + ":H7";
  const std::string file =
      WriteFile("lot_id,location_id,quantity,serials,reference\n" + lot_a17 +
                ",MUC-WH1,40,,opening\n" + lot_h7 +
                ",MUC-WH1,,SN0001..SN0004 SN0007,opening\n");
  LotctlResult r = Lotctl("operator", {"import", "stock", file});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("stock: rows received 2 (45 units, 5 serials), "
                               "refused 0"));
  EXPECT_EQ(OnHand(lot_a17), 40);
  EXPECT_EQ(OnHand(lot_h7), 5);
  // A re-run receives nothing twice.
  r = Lotctl("operator", {"import", "stock", file});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(OnHand(lot_a17), 40);
  EXPECT_EQ(OnHand(lot_h7), 5);

  // Shipped by serial in the line; shipping SN0002 again names where it is.
  r = Lotctl("operator",
             {"inventory", "ship", "--customer=H-12", "--shipment-id=SHP-1",
              "--line=" + lot_h7 + "@MUC-WH1:SN0001..SN0002"});
  ASSERT_EQ(r.code, 0) << r.err;
  r = Lotctl("operator", {"inventory", "ship", "--customer=H-40",
                          "--line=" + lot_h7 + "@MUC-WH1", "--serials=SN0002"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("serial SN0002 of lot " + lot_h7 +
                               " is at customer H-12 (shipment SHP-1), not "
                               "at MUC-WH1"));
  r = Lotctl("operator",
             {"inventory", "usage", lot_h7, "--customer=H-12",
              "--serials=SN0002", "--site=OR 3",
              "--used-on=" + absl::FormatCivilTime(absl::ToCivilDay(
                                 absl::Now(), absl::UTCTimeZone()))});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("reported 1 used at H-12"));
  r = Lotctl("auditor", {"inventory", "serial", kImplant, "SN0002"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("used"));
  EXPECT_THAT(r.out, HasSubstr("SHP-1"));
  EXPECT_THAT(r.out, HasSubstr("OR 3"));
  // A lot-tracked product refuses serials.
  r = Lotctl("operator", {"inventory", "transfer", lot_a17, "--from=MUC-WH1",
                          "--to=MUC-WH1", "--serials=SN0001"});
  EXPECT_NE(r.code, 0);
}

}  // namespace
}  // namespace lotledger::testing
