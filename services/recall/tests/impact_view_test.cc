// AnalyzeImpact asked for less (AnalyzeImpactRequest.view, page_size,
// page_token), over real gRPC against a ServerHost running the recall
// service on an embedded log: on generated data (recall_world.h: diamonds,
// shipments to 30 customers, returns, stock in several locations, a
// customer's name changing, a lot never created), a recall of the hub raw
// lot with every lot made from it. The summary's totals and per-customer
// figures are the full answer's, summed from its lines; pages of lot rows
// and of customers give every row exactly once, in the full answer's
// order; tokens of another recall or view and made-up ones are refused
// naming page_token; the default answer is the full one. Then the same
// with the in-memory index switched off (the projection path): the same
// answers, byte for byte.
#include <grpcpp/grpcpp.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "libs/command/command_runner.h"
#include "libs/common/topics.h"
#include "libs/eventlog/embedded/embedded_event_log.h"
#include "libs/projection/tests/synthetic_stream.h"
#include "lotledger/v1/recall.grpc.pb.h"
#include "services/host/host.h"
#include "services/recall/tests/recall_world.h"

namespace lotledger::recall {
namespace {

using testing::kCustomers;
using testing::kPartitions;
using testing::World;
using testing::Writer;

constexpr char kToken[] = "tok-impact";

class ImpactViewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.path();
    {
      auto log = eventlog::OpenEmbeddedEventLog(
          {.path = dir_ + "/log", .sync = false});
      ASSERT_TRUE(log.ok()) << log.status();
      for (const std::string& topic : topics::ReadBy("recall")) {
        ASSERT_TRUE((*log)->EnsureTopic(topic, kPartitions).ok()) << topic;
      }
      Writer w(log->get());
      world_.Round(w, 25);
      world_.Distribute(w);
      world_.Corrections(w);
      world_.Round(w, 10);
      world_.Distribute(w);
      end_ = w.Flush();
    }
    std::ofstream(dir_ + "/tokens")
        << kToken << " qa.impact admin,recall_manager,auditor\n";
    Start();
    Initiate("R-HUB", "RM:HUB");
    Initiate("R-OTHER", "RM:HUB");
  }

  void TearDown() override {
    if (host_ != nullptr) host_->Shutdown();
    unsetenv("LOTLEDGER_GENEALOGY_INDEX");
  }

  void Start() {
    server::ProcessConfig c;
    c.listen = "127.0.0.1:0";
    c.data_dir = dir_;
    c.dev_tokens = dir_ + "/tokens";
    c.tls.insecure_dev = true;
    c.partitions = kPartitions;
    auto host = ServerHost::Start(c, "impact-view-test", {"recall"});
    ASSERT_TRUE(host.ok()) << host.status();
    host_ = *std::move(host);
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(-1);
    stub_ = v1::RecallService::NewStub(grpc::CreateCustomChannel(
        host_->target(), grpc::InsecureChannelCredentials(), args));
  }

  std::unique_ptr<grpc::ClientContext> Ctx() const {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->AddMetadata("authorization", absl::StrCat("Bearer ", kToken));
    ctx->set_deadline(std::chrono::system_clock::now() +
                      std::chrono::seconds(60));
    return ctx;
  }

  void Initiate(const std::string& recall_id, const std::string& lot) {
    v1::InitiateRequest req;
    req.set_request_id(absl::StrCat("init-", recall_id));
    req.set_recall_id(recall_id);
    req.set_classification(v1::RECALL_CLASS_II);
    req.set_title("resin contamination");
    req.set_reason("supplier reported contamination");
    req.set_health_hazard("reversible irritation");
    req.mutable_criteria()->add_lot_ids(lot);
    req.mutable_criteria()->set_include_derived(true);
    req.mutable_signature()->set_credential(kToken);
    *req.mutable_after() = command::ToToken(end_);
    v1::InitiateResponse resp;
    grpc::Status s = stub_->Initiate(Ctx().get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  grpc::Status Analyze(const std::string& recall_id, v1::ImpactView view,
                       int32_t page_size, const std::string& token,
                       v1::AnalyzeImpactResponse* resp) const {
    v1::AnalyzeImpactRequest req;
    req.set_recall_id(recall_id);
    req.set_view(view);
    req.set_page_size(page_size);
    req.set_page_token(token);
    return stub_->AnalyzeImpact(Ctx().get(), req, resp);
  }

  // Every page of `view` at `page_size`, in order.
  std::vector<v1::AnalyzeImpactResponse> Pages(v1::ImpactView view,
                                               int32_t page_size) const {
    std::vector<v1::AnalyzeImpactResponse> pages;
    std::string token;
    do {
      v1::AnalyzeImpactResponse page;
      grpc::Status s = Analyze("R-HUB", view, page_size, token, &page);
      EXPECT_TRUE(s.ok()) << s.error_message();
      if (!s.ok() || pages.size() > 10000) break;
      token = page.next_page_token();
      pages.push_back(std::move(page));
    } while (!token.empty());
    return pages;
  }

  // Every answer the test asks for, serialized, in order.
  std::vector<std::string> AllAnswers() const {
    std::vector<std::string> out;
    for (const v1::ImpactView view :
         {v1::IMPACT_VIEW_FULL, v1::IMPACT_VIEW_SUMMARY, v1::IMPACT_VIEW_LOTS,
          v1::IMPACT_VIEW_CUSTOMERS}) {
      for (const int32_t size : {0, 3}) {
        if (view == v1::IMPACT_VIEW_FULL && size != 0) continue;
        for (const auto& page : Pages(view, size)) {
          out.push_back(page.SerializeAsString());
        }
      }
    }
    return out;
  }

  projection::testing::ScopedTempDir tmp_;
  std::string dir_;
  World world_{71};
  eventlog::Offsets end_;
  std::unique_ptr<ServerHost> host_;
  std::unique_ptr<v1::RecallService::Stub> stub_;
};

// The totals every view carries.
void ExpectSameTotals(const v1::RecallImpact& a, const v1::RecallImpact& b) {
  EXPECT_EQ(a.lots_in_scope(), b.lots_in_scope());
  EXPECT_EQ(a.lots_distributed(), b.lots_distributed());
  EXPECT_EQ(a.customers_affected(), b.customers_affected());
  EXPECT_EQ(a.distributed(), b.distributed());
  EXPECT_EQ(a.returned(), b.returned());
  EXPECT_EQ(a.outstanding(), b.outstanding());
  EXPECT_EQ(a.on_hand(), b.on_hand());
  ASSERT_EQ(a.on_hand_by_location_size(), b.on_hand_by_location_size());
  for (int i = 0; i < a.on_hand_by_location_size(); ++i) {
    EXPECT_EQ(a.on_hand_by_location(i).SerializeAsString(),
              b.on_hand_by_location(i).SerializeAsString());
  }
}

TEST_F(ImpactViewTest, SummaryIsTheFullAnswerSummedWithoutItsDetail) {
  v1::AnalyzeImpactResponse full, by_default, summary;
  ASSERT_TRUE(Analyze("R-HUB", v1::IMPACT_VIEW_FULL, 0, "", &full).ok());
  // The default answer stays the full one.
  ASSERT_TRUE(
      Analyze("R-HUB", v1::IMPACT_VIEW_UNSPECIFIED, 0, "", &by_default).ok());
  EXPECT_EQ(by_default.SerializeAsString(), full.SerializeAsString());
  EXPECT_TRUE(full.next_page_token().empty());
  const v1::RecallImpact& f = full.impact();
  // The data the comparison rests on: a wide scope, many customers, returns
  // and own stock in several locations.
  ASSERT_GT(f.lots_in_scope(), 40);
  ASSERT_EQ(f.customers_affected(), kCustomers);
  ASSERT_GT(f.returned(), 0);
  ASSERT_GT(f.on_hand(), 0);
  ASSERT_GT(f.on_hand_by_location_size(), 1);

  ASSERT_TRUE(Analyze("R-HUB", v1::IMPACT_VIEW_SUMMARY, 0, "", &summary).ok());
  const v1::RecallImpact& s = summary.impact();
  EXPECT_TRUE(summary.next_page_token().empty());
  ExpectSameTotals(s, f);
  EXPECT_EQ(s.lots_size(), 0);
  // Per customer: the full answer's lines summed, the customer as there,
  // in the same order (by id), no lines.
  ASSERT_EQ(s.customers_size(), f.customers_size());
  int64_t shipped_all = 0, returned_all = 0;
  for (int i = 0; i < f.customers_size(); ++i) {
    const v1::CustomerImpact& fc = f.customers(i);
    const v1::CustomerImpact& sc = s.customers(i);
    int64_t shipped = 0, returned = 0, held = 0;
    for (const v1::CustomerLotImpact& l : fc.lots()) {
      shipped += l.shipped();
      returned += l.returned();
      held += l.held();
    }
    EXPECT_EQ(sc.customer().SerializeAsString(),
              fc.customer().SerializeAsString());
    EXPECT_EQ(sc.shipped(), shipped) << sc.customer().customer_id();
    EXPECT_EQ(sc.returned(), returned) << sc.customer().customer_id();
    EXPECT_EQ(sc.held(), held) << sc.customer().customer_id();
    EXPECT_EQ(sc.lots_size(), 0);
    shipped_all += shipped;
    returned_all += returned;
  }
  EXPECT_EQ(shipped_all, f.distributed());
  EXPECT_EQ(returned_all, f.returned());
  EXPECT_LT(summary.ByteSizeLong(), full.ByteSizeLong() / 3);
}

TEST_F(ImpactViewTest, PagesGiveEveryRowOnceInOrder) {
  v1::AnalyzeImpactResponse full;
  ASSERT_TRUE(Analyze("R-HUB", v1::IMPACT_VIEW_FULL, 0, "", &full).ok());
  const v1::RecallImpact& f = full.impact();

  // Lot rows, 7 a page: the full answer's rows, in scope order.
  const auto lots = Pages(v1::IMPACT_VIEW_LOTS, 7);
  ASSERT_EQ(lots.size(), static_cast<size_t>((f.lots_size() + 6) / 7));
  std::vector<std::string> rows;
  for (const auto& page : lots) {
    ExpectSameTotals(page.impact(), f);
    EXPECT_LE(page.impact().lots_size(), 7);
    EXPECT_GT(page.impact().lots_size(), 0);
    EXPECT_EQ(page.impact().customers_size(), 0);
    for (const v1::LotImpact& l : page.impact().lots()) {
      rows.push_back(l.SerializeAsString());
    }
  }
  ASSERT_EQ(rows.size(), static_cast<size_t>(f.lots_size()));
  for (int i = 0; i < f.lots_size(); ++i) {
    EXPECT_EQ(rows[i], f.lots(i).SerializeAsString()) << "row " << i;
  }
  // The whole list in one answer without a page size.
  const auto all_lots = Pages(v1::IMPACT_VIEW_LOTS, 0);
  ASSERT_EQ(all_lots.size(), 1u);
  EXPECT_EQ(all_lots[0].impact().lots_size(), f.lots_size());

  // Customers with their lines, 4 a page: the full answer's, by id.
  const auto customers = Pages(v1::IMPACT_VIEW_CUSTOMERS, 4);
  ASSERT_EQ(customers.size(), static_cast<size_t>((kCustomers + 3) / 4));
  std::vector<std::string> got;
  for (const auto& page : customers) {
    ExpectSameTotals(page.impact(), f);
    EXPECT_EQ(page.impact().lots_size(), 0);
    for (const v1::CustomerImpact& c : page.impact().customers()) {
      got.push_back(c.SerializeAsString());
    }
  }
  ASSERT_EQ(got.size(), static_cast<size_t>(f.customers_size()));
  for (int i = 0; i < f.customers_size(); ++i) {
    EXPECT_EQ(got[i], f.customers(i).SerializeAsString()) << "customer " << i;
  }
  // The summary paged is the summary.
  v1::AnalyzeImpactResponse summary;
  ASSERT_TRUE(Analyze("R-HUB", v1::IMPACT_VIEW_SUMMARY, 0, "", &summary).ok());
  std::vector<std::string> summed;
  for (const auto& page : Pages(v1::IMPACT_VIEW_SUMMARY, 4)) {
    for (const v1::CustomerImpact& c : page.impact().customers()) {
      summed.push_back(c.SerializeAsString());
    }
  }
  ASSERT_EQ(summed.size(),
            static_cast<size_t>(summary.impact().customers_size()));
  for (size_t i = 0; i < summed.size(); ++i) {
    EXPECT_EQ(summed[i], summary.impact().customers(i).SerializeAsString());
  }
}

TEST_F(ImpactViewTest, ABadRequestIsRefusedNamingTheField) {
  v1::AnalyzeImpactResponse lots_page;
  ASSERT_TRUE(Analyze("R-HUB", v1::IMPACT_VIEW_LOTS, 5, "", &lots_page).ok());
  const std::string token = lots_page.next_page_token();
  ASSERT_FALSE(token.empty());
  const struct {
    std::string recall_id;
    v1::ImpactView view;
    int32_t page_size;
    std::string token;
    std::string message;
  } refused[] = {
      {"R-HUB", v1::IMPACT_VIEW_LOTS, 5, "not-a-token",
       "page_token: not a next_page_token of AnalyzeImpact; pass the one the "
       "previous page returned, or none for the first page"},
      {"R-HUB", v1::IMPACT_VIEW_LOTS, 5, token.substr(0, token.size() - 4),
       "page_token: not a next_page_token of AnalyzeImpact; pass the one the "
       "previous page returned, or none for the first page"},
      {"R-OTHER", v1::IMPACT_VIEW_LOTS, 5, token,
       "page_token: a page of recall R-HUB, not of R-OTHER"},
      {"R-HUB", v1::IMPACT_VIEW_CUSTOMERS, 5, token,
       "page_token: a page of IMPACT_VIEW_LOTS, not of IMPACT_VIEW_CUSTOMERS; "
       "ask with the view it came from"},
      {"R-HUB", v1::IMPACT_VIEW_FULL, 5, "",
       "page_size: IMPACT_VIEW_FULL is not paged; page the lot rows with "
       "IMPACT_VIEW_LOTS and the customers with IMPACT_VIEW_CUSTOMERS"},
      {"R-HUB", v1::IMPACT_VIEW_FULL, 0, token,
       "page_token: IMPACT_VIEW_FULL is not paged; page the lot rows with "
       "IMPACT_VIEW_LOTS and the customers with IMPACT_VIEW_CUSTOMERS"},
      {"R-HUB", v1::IMPACT_VIEW_LOTS, -1, "",
       "page_size: must be 0..10000 (0: all)"},
      {"R-HUB", v1::IMPACT_VIEW_SUMMARY, 10001, "",
       "page_size: must be 0..10000 (0: all)"},
      {"R-HUB", static_cast<v1::ImpactView>(9), 0, "",
       "view: unknown value 9; IMPACT_VIEW_FULL, IMPACT_VIEW_SUMMARY, "
       "IMPACT_VIEW_LOTS or IMPACT_VIEW_CUSTOMERS"},
  };
  for (const auto& r : refused) {
    v1::AnalyzeImpactResponse resp;
    grpc::Status s = Analyze(r.recall_id, r.view, r.page_size, r.token, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << r.message;
    EXPECT_EQ(s.error_message(), r.message);
  }
  // The token itself still works where it belongs.
  v1::AnalyzeImpactResponse next;
  grpc::Status s = Analyze("R-HUB", v1::IMPACT_VIEW_LOTS, 5, token, &next);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(lots_page.impact().lots_size(), 5);
  ASSERT_GT(next.impact().lots_size(), 0);
  v1::AnalyzeImpactResponse first_ten;
  ASSERT_TRUE(Analyze("R-HUB", v1::IMPACT_VIEW_LOTS, 10, "", &first_ten).ok());
  EXPECT_EQ(next.impact().lots(0).SerializeAsString(),
            first_ten.impact().lots(5).SerializeAsString());
  // An unknown recall is NOT_FOUND in every view.
  v1::AnalyzeImpactResponse none;
  s = Analyze("R-NONE", v1::IMPACT_VIEW_SUMMARY, 0, "", &none);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(s.error_message(), "recall R-NONE does not exist");
}

TEST_F(ImpactViewTest, TheProjectionPathAnswersAsTheIndex) {
  const std::vector<std::string> from_index = AllAnswers();
  ASSERT_GT(from_index.size(), 20u);
  host_->Shutdown();
  host_.reset();
  setenv("LOTLEDGER_GENEALOGY_INDEX", "off", 1);
  Start();
  const std::vector<std::string> from_store = AllAnswers();
  ASSERT_EQ(from_store.size(), from_index.size());
  for (size_t i = 0; i < from_index.size(); ++i) {
    EXPECT_EQ(from_store[i], from_index[i]) << "answer " << i;
  }
}

}  // namespace
}  // namespace lotledger::recall
