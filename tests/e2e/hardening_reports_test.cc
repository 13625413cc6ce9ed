// Reports with hostile values, on the embedded log and on Kafka: a unit
// `EA" URL="javascript:alert(1)"`, a lot number `Q"->"FAKE:LOT`, a raw
// material lot `=1+2`, a customer named `=HYPERLINK(...)` in region
// `@SUM(A1)` and a recall titled `<script>...`, all accepted by the
// services, go through `lotctl audit report` (HTML with the genealogy
// drawn by Graphviz) and `lotctl recall report` (CSV and HTML, rendered by
// the recall service). Every value stays data: no extra graph node or
// edge, no link, no markup, no spreadsheet formula.
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <tuple>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lotledger/v1/inventory.grpc.pb.h"
#include "lotledger/v1/lots.grpc.pb.h"
#include "lotledger/v1/quality.grpc.pb.h"
#include "lotledger/v1/recall.grpc.pb.h"
#include "tests/support/stack.h"
#include "tests/support/tokens.h"
#include "tools/lotctl/cli.h"
#include "tools/lotctl/csv.h"
#include "tools/lotctl/tests/run_lotctl.h"

namespace lotledger::testing {
namespace {

constexpr char kUnit[] = R"x(EA" URL="javascript:alert(1)")x";
constexpr char kDeviceLot[] = R"(DEV-1:Q"->"FAKE:LOT)";
constexpr char kResinLot[] = "RM-1:=1+2";
constexpr char kCustomerName[] = R"x(=HYPERLINK("http://evil.example/","x"))x";
constexpr char kRegion[] = "@SUM(A1)";
constexpr char kTitle[] = "<script>alert(document.cookie)</script>";
constexpr char kBin[] = "BIN-1";

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

std::string ReadFile(const std::string& path) {
  std::stringstream text;
  text << std::ifstream(path).rdbuf();
  return text.str();
}

class HardeningReportsTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    stack_ = TestStack::Start(
        GetParam(), {"lots", "quality", "inventory", "recall", "audit"});
    ASSERT_NE(stack_, nullptr);
    lots_ = v1::LotsService::NewStub(stack_->channel());
    quality_ = v1::QualityService::NewStub(stack_->channel());
    inventory_ = v1::InventoryService::NewStub(stack_->channel());
    recall_ = v1::RecallService::NewStub(stack_->channel());
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("hardening-reports-" + NewRequestId());
    std::filesystem::create_directories(dir_);
  }

  void Remember(const v1::ConsistencyToken& t) { MergeToken(t, &token_); }

  template <typename Call>
  void Must(const char* what, Call call) {
    grpc::Status s = call();
    ASSERT_TRUE(s.ok()) << what << ": " << s.error_message();
  }

  // The hostile genealogy, released, stocked, shipped and recalled.
  void Build() {
    for (const char* item : {"RM-1", "DEV-1"}) {
      v1::DefineProductRequest req;
      req.set_request_id(NewRequestId());
      req.mutable_product()->set_item(item);
      req.mutable_product()->set_name(item);
      req.mutable_product()->set_uom(kUnit);
      req.mutable_product()->set_kind(std::string(item) == "RM-1"
                                          ? v1::ITEM_KIND_RAW_MATERIAL
                                          : v1::ITEM_KIND_COMPONENT);
      req.mutable_product()->mutable_policy()->set_shelf_life_days(700);
      v1::DefineProductResponse resp;
      Must("define", [&] {
        return lots_->DefineProduct(stack_->Ctx("admin").get(), req, &resp);
      });
      Remember(resp.token());
    }
    for (const auto& [item, number, input] :
         std::vector<std::tuple<std::string, std::string, std::string>>{
             {"RM-1", "=1+2", ""}, {"DEV-1", R"(Q"->"FAKE:LOT)", kResinLot}}) {
      v1::CreateLotRequest req;
      req.set_request_id(NewRequestId());
      req.set_item(item);
      req.set_lot_number(number);
      req.mutable_manufactured_on()->set_year(2026);
      req.mutable_manufactured_on()->set_month(3);
      req.mutable_manufactured_on()->set_day(2);
      req.mutable_quantity()->set_amount(100);
      req.mutable_quantity()->set_uom(kUnit);
      if (!input.empty()) {
        v1::LotInput* in = req.add_inputs();
        in->set_lot_id(input);
        in->mutable_quantity()->set_amount(10);
        in->mutable_quantity()->set_uom(kUnit);
      }
      v1::CreateLotResponse resp;
      Must("create lot", [&] {
        return lots_->CreateLot(stack_->Ctx("operator").get(), req, &resp);
      });
      Remember(resp.token());
    }
    for (const auto& [id, kind, parent] :
         std::vector<std::tuple<std::string, v1::LocationKind, std::string>>{
             {"SITE-1", v1::LOCATION_KIND_SITE, ""},
             {"REGION-1", v1::LOCATION_KIND_REGION, "SITE-1"},
             {"WH-1", v1::LOCATION_KIND_WAREHOUSE, "REGION-1"},
             {kBin, v1::LOCATION_KIND_BIN, "WH-1"}}) {
      v1::CreateLocationRequest req;
      req.set_request_id(NewRequestId());
      req.set_location_id(id);
      req.set_name(id);
      req.set_kind(kind);
      req.set_parent_id(parent);
      v1::CreateLocationResponse resp;
      Must("location", [&] {
        return inventory_->CreateLocation(stack_->Ctx("admin").get(), req,
                                          &resp);
      });
      Remember(resp.token());
    }
    {
      v1::ReceiveStockRequest req;
      req.set_request_id(NewRequestId());
      req.set_lot_id(kDeviceLot);
      req.set_location_id(kBin);
      req.mutable_quantity()->set_amount(100);
      req.mutable_quantity()->set_uom(kUnit);
      req.set_source(v1::RECEIPT_SOURCE_PRODUCTION);
      *req.mutable_after() = token_;
      v1::ReceiveStockResponse resp;
      Must("receive", [&] {
        return inventory_->ReceiveStock(stack_->Ctx("operator").get(), req,
                                        &resp);
      });
      Remember(resp.token());
    }
    {
      v1::RecordInspectionRequest ins = FinalInspection(kDeviceLot);
      *ins.mutable_after() = token_;
      v1::RecordInspectionResponse inspected;
      Must("inspect", [&] {
        return quality_->RecordInspection(stack_->Ctx("inspector").get(), ins,
                                          &inspected);
      });
      Remember(inspected.token());
      v1::ChangeDispositionRequest req;
      req.set_request_id(NewRequestId());
      req.set_lot_id(kDeviceLot);
      req.set_to(v1::DISPOSITION_RELEASED);
      req.mutable_signature()->set_meaning("approved for release");
      req.mutable_signature()->set_reason("final inspection passed");
      req.mutable_signature()->set_credential(stack_->Token("approver"));
      *req.mutable_after() = token_;
      v1::ChangeDispositionResponse resp;
      Must("release", [&] {
        return quality_->ChangeDisposition(stack_->Ctx("approver").get(), req,
                                           &resp);
      });
      Remember(resp.token());
    }
    {
      v1::ShipStockRequest req;
      req.set_request_id(NewRequestId());
      req.mutable_customer()->set_customer_id("H-1");
      req.mutable_customer()->set_name(kCustomerName);
      req.mutable_customer()->set_region(kRegion);
      v1::ShipmentLine* l = req.add_lines();
      l->set_lot_id(kDeviceLot);
      l->set_location_id(kBin);
      l->mutable_quantity()->set_amount(10);
      l->mutable_quantity()->set_uom(kUnit);
      *req.mutable_after() = token_;
      v1::ShipStockResponse resp;
      Must("ship", [&] {
        return inventory_->ShipStock(stack_->Ctx("operator").get(), req, &resp);
      });
      Remember(resp.token());
    }
    {
      v1::InitiateRequest req;
      req.set_request_id(NewRequestId());
      req.set_recall_id("RC-1");
      req.set_classification(v1::RECALL_CLASS_II);
      req.set_title(kTitle);
      req.set_reason("<img src=x onerror=alert(1)>");
      req.set_health_hazard("-2+3");
      req.mutable_criteria()->add_lot_ids(kResinLot);
      req.mutable_criteria()->set_include_derived(true);
      req.mutable_signature()->set_credential(stack_->Token("recall"));
      *req.mutable_after() = token_;
      v1::InitiateResponse resp;
      Must("initiate", [&] {
        return recall_->Initiate(stack_->Ctx("recall").get(), req, &resp);
      });
      Remember(resp.token());
      ASSERT_EQ(resp.recall().scope_size(), 2);
    }
  }

  LotctlResult Lotctl(const std::string& who, std::vector<std::string> args) {
    return RunLotctlAs(*stack_, who, std::move(args), TestEnvironment());
  }

  std::unique_ptr<TestStack> stack_;
  std::unique_ptr<v1::LotsService::Stub> lots_;
  std::unique_ptr<v1::QualityService::Stub> quality_;
  std::unique_ptr<v1::InventoryService::Stub> inventory_;
  std::unique_ptr<v1::RecallService::Stub> recall_;
  v1::ConsistencyToken token_;
  std::filesystem::path dir_;
};

TEST_P(HardeningReportsTest, AuditReportKeepsHostileValuesAsText) {
  ASSERT_NO_FATAL_FAILURE(Build());
  const std::string html = (dir_ / "audit.html").string();
  LotctlResult r =
      Lotctl("auditor", {"audit", "report", kDeviceLot, "--html=" + html});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string page = ReadFile(html);

  // The genealogy is drawn (Graphviz is installed with the test tools) as
  // an image: its SVG never runs as part of the page.
  const std::string src = "src=\"data:image/svg+xml;base64,";
  const size_t at = page.find(src);
  ASSERT_NE(at, std::string::npos)
      << "the genealogy is not drawn: is Graphviz (dot) installed?";
  const size_t end = page.find('"', at + src.size());
  std::string svg;
  ASSERT_TRUE(absl::Base64Unescape(
      page.substr(at + src.size(), end - at - src.size()), &svg));
  // Two lots, one edge: `Q"->"FAKE:LOT` added no node FAKE:LOT and no
  // edge; the unit added no URL.
  EXPECT_EQ(Count(svg, "class=\"node\""), 2u) << svg;
  EXPECT_EQ(Count(svg, "class=\"edge\""), 1u) << svg;
  EXPECT_EQ(svg.find("<a "), std::string::npos) << svg;
  EXPECT_EQ(svg.find("href"), std::string::npos) << svg;
  EXPECT_NE(svg.find("Q&quot;&#45;&gt;&quot;FAKE:LOT"), std::string::npos)
      << svg;

  // The page: every value as text, no link, no markup from the data.
  EXPECT_EQ(page.find("<a "), std::string::npos);
  EXPECT_EQ(page.find("href"), std::string::npos);
  EXPECT_EQ(page.find("<svg"), std::string::npos);
  EXPECT_EQ(page.find(R"(Q"->")"), std::string::npos);
  EXPECT_EQ(page.find(R"(EA" URL=")"), std::string::npos);
  EXPECT_NE(page.find("Q&quot;-&gt;&quot;FAKE:LOT"), std::string::npos);
  EXPECT_NE(page.find("EA&quot; URL=&quot;javascript:alert(1)&quot;"),
            std::string::npos);
  EXPECT_EQ(page.find("<script"), std::string::npos);
}

TEST_P(HardeningReportsTest, RecallReportsKeepHostileValuesAsText) {
  ASSERT_NO_FATAL_FAILURE(Build());
  // CSV: no cell a spreadsheet would run as a formula.
  LotctlResult r = Lotctl("auditor", {"recall", "report", "RC-1", "--csv"});
  ASSERT_EQ(r.code, 0) << r.err;
  absl::StatusOr<std::vector<lotctl::CsvRecord>> rows = lotctl::ParseCsv(r.out);
  ASSERT_TRUE(rows.ok()) << rows.status() << "\n" << r.out;
  ASSERT_EQ(rows->size(), 3u) << r.out;  // header, the resin, the device
  std::set<std::string> cells;
  for (const lotctl::CsvRecord& row : *rows) {
    // The report's columns, serials and used last (docs/recall.md).
    ASSERT_EQ(row.fields.size(), 22u) << r.out;
    for (const std::string& cell : row.fields) {
      cells.insert(cell);
      if (cell.empty()) continue;
      EXPECT_EQ(std::string("=+-@\t\r").find(cell.front()), std::string::npos)
          << "a formula: " << cell;
    }
  }
  // The values themselves are all there, as text.
  EXPECT_TRUE(cells.contains("'=1+2")) << r.out;
  EXPECT_TRUE(cells.contains(std::string("'") + kCustomerName)) << r.out;
  EXPECT_TRUE(cells.contains(std::string("'") + kRegion)) << r.out;
  EXPECT_TRUE(cells.contains(kUnit)) << r.out;
  EXPECT_TRUE(cells.contains(kDeviceLot)) << r.out;

  // HTML: markup in the data is text.
  const std::string html = (dir_ / "recall.html").string();
  r = Lotctl("auditor", {"recall", "report", "RC-1", "--html=" + html});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string page = ReadFile(html);
  EXPECT_EQ(page.find("<script"), std::string::npos) << page;
  EXPECT_EQ(page.find("<img"), std::string::npos) << page;
  EXPECT_EQ(page.find(R"(EA" URL=")"), std::string::npos) << page;
  EXPECT_NE(page.find("&lt;script&gt;alert(document.cookie)&lt;/script&gt;"),
            std::string::npos)
      << page;
  EXPECT_NE(page.find("&lt;img src=x onerror=alert(1)&gt;"), std::string::npos)
      << page;
  EXPECT_NE(page.find("Q&quot;-&gt;&quot;FAKE:LOT"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backends, HardeningReportsTest,
                         ::testing::Values(Backend::kEmbedded, Backend::kKafka),
                         [](const ::testing::TestParamInfo<Backend>& p) {
                           return BackendName(p.param);
                         });

}  // namespace
}  // namespace lotledger::testing
