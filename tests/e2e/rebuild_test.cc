// Projection rebuild without downtime (admin.proto, libs/command/rebuild.h)
// end to end, on both logs: a lots service filled with a few thousand
// events rebuilds its projection over real gRPC while a client keeps
// creating and reading lots. Queries never fail, no acknowledged lot is
// lost, progress reaches its total, the digests at the switch agree, the
// projection after the switch equals a clean replay of the log, and a
// restart opens the rebuilt directory. Only the role admin may rebuild.
#include <atomic>
#include <filesystem>
#include <mutex>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "libs/command/service_core.h"
#include "libs/server/process.h"
#include "lotledger/v1/admin.grpc.pb.h"
#include "lotledger/v1/lots.grpc.pb.h"
#include "services/lots/lots_service.h"
#include "tests/support/stack.h"

namespace lotledger::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kGtin[] = "09506000134352";

class RebuildTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    stack_ = TestStack::Start(GetParam(), {"lots"});
    ASSERT_NE(stack_, nullptr);
    lots_ = v1::LotsService::NewStub(stack_->channel());
    admin_ = v1::AdminService::NewStub(stack_->channel());
  }

  void DefineProduct() {
    v1::DefineProductRequest req;
    req.set_request_id(NewRequestId());
    v1::Product* p = req.mutable_product();
    p->set_item(kGtin);
    p->set_name("Sterile catheter 12Fr");
    p->set_uom("EA");
    p->set_kind(v1::ITEM_KIND_FINISHED_DEVICE);
    p->mutable_policy()->set_shelf_life_days(730);
    v1::DefineProductResponse resp;
    grpc::Status s =
        lots_->DefineProduct(stack_->Ctx("admin").get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  grpc::Status CreateLot(v1::LotsService::Stub& stub,
                         const std::string& number) {
    v1::CreateLotRequest req;
    req.set_request_id(NewRequestId());
    req.set_item(kGtin);
    req.set_lot_number(number);
    req.mutable_manufactured_on()->set_year(2026);
    req.mutable_manufactured_on()->set_month(3);
    req.mutable_manufactured_on()->set_day(2);
    req.mutable_quantity()->set_amount(500);
    req.mutable_quantity()->set_uom("EA");
    v1::CreateLotResponse resp;
    return stub.CreateLot(stack_->Ctx("operator").get(), req, &resp);
  }

  grpc::Status GetLot(v1::LotsService::Stub& stub, const std::string& number) {
    v1::GetLotRequest req;
    req.set_lot_id(absl::StrCat(kGtin, ":", number));
    v1::GetLotResponse resp;
    return stub.GetLot(stack_->Ctx("auditor").get(), req, &resp);
  }

  // Runs a rebuild of `service` as `who`; the progress messages it sent.
  grpc::Status Rebuild(const std::string& who, const std::string& service,
                       std::vector<v1::RebuildProgress>* progress) {
    v1::RebuildProjectionRequest req;
    req.set_request_id(NewRequestId());
    req.set_service(service);
    auto ctx = stack_->Ctx(who);
    ctx->set_deadline(std::chrono::system_clock::now() +
                      std::chrono::minutes(5));
    auto reader = admin_->RebuildProjection(ctx.get(), req);
    v1::RebuildProgress p;
    while (reader->Read(&p)) {
      if (progress != nullptr) progress->push_back(p);
    }
    return reader->Finish();
  }

  // The digest of the lots projection at `dir` once it has applied the
  // whole lots topic: opened like the service opens it, on the stack's log
  // (the stack must be stopped).
  std::string DigestAtLogEnd(const std::string& dir) {
    const server::ProcessConfig& config = stack_->config();
    absl::StatusOr<std::unique_ptr<eventlog::EventLog>> log =
        server::OpenEventLog(config, "rebuild-test");
    EXPECT_TRUE(log.ok()) << log.status();
    if (!log.ok()) return "";
    absl::StatusOr<std::unique_ptr<command::ServiceCore>> core =
        command::ServiceCore::Open(log->get(),
                                   lots::LotsServiceSpec(config.partitions),
                                   dir, config.topic_prefix);
    EXPECT_TRUE(core.ok()) << core.status();
    if (!core.ok()) return "";
    eventlog::Offsets end;
    const std::string topic = config.topic_prefix + "lotledger.lots.v1";
    for (int32_t p = 0; p < config.partitions; ++p) {
      absl::StatusOr<int64_t> e = (*log)->EndOffset(topic, p);
      EXPECT_TRUE(e.ok()) << e.status();
      end[{topic, p}] = e.ok() ? *e : 0;
    }
    absl::Status waited =
        (*core)->projector().WaitFor(end, absl::Now() + absl::Seconds(120));
    EXPECT_TRUE(waited.ok()) << waited;
    absl::StatusOr<std::string> digest = (*core)->store().Digest();
    EXPECT_TRUE(digest.ok()) << digest.status();
    (*core)->Stop();
    return digest.ok() ? *digest : "";
  }

  fs::path Projections() const {
    return fs::path(stack_->config().data_dir) / "projections";
  }

  std::unique_ptr<TestStack> stack_;
  std::unique_ptr<v1::LotsService::Stub> lots_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
};

TEST_P(RebuildTest, RebuildsWhileServingThenSwitchesAndRestartsOnIt) {
  DefineProduct();
  // A few thousand events, written by four clients.
  constexpr int kFill = 3000;
  constexpr int kWriters = 4;
  {
    std::vector<std::thread> writers;
    std::atomic<int> failed{0};
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&, w] {
        auto stub = v1::LotsService::NewStub(stack_->channel());
        for (int i = w; i < kFill; i += kWriters) {
          if (!CreateLot(*stub, absl::StrCat("F", i)).ok()) ++failed;
        }
      });
    }
    for (std::thread& t : writers) t.join();
    ASSERT_EQ(failed.load(), 0);
  }

  // A client keeps writing and reading during the whole rebuild.
  std::mutex mu;
  std::vector<std::string> acknowledged;  // lot numbers
  std::vector<std::string> query_errors;
  std::atomic<bool> stop{false};
  std::atomic<bool> rebuilding{true};
  std::atomic<int> queries_during{0};
  std::atomic<int> writes_during{0};
  std::atomic<int> writes_after{0};
  std::thread client([&] {
    auto stub = v1::LotsService::NewStub(stack_->channel());
    std::mt19937 rng(7);
    for (int i = 0; !stop.load(); ++i) {
      const std::string number = absl::StrCat("B", i);
      const grpc::Status created = CreateLot(*stub, number);
      if (created.ok()) {
        std::lock_guard<std::mutex> l(mu);
        acknowledged.push_back(number);
        ++(rebuilding.load() ? writes_during : writes_after);
      }
      // Any lot written so far, and a page of the lot list.
      const std::string old = absl::StrCat(
          "F", std::uniform_int_distribution<int>(0, kFill - 1)(rng));
      grpc::Status got = GetLot(*stub, old);
      v1::ListLotsRequest list;
      list.set_page_size(50);
      v1::ListLotsResponse page;
      grpc::Status listed =
          stub->ListLots(stack_->Ctx("auditor").get(), list, &page);
      if (listed.ok() && page.lots_size() != 50) {
        listed = grpc::Status(grpc::StatusCode::INTERNAL,
                              absl::StrCat("page of ", page.lots_size()));
      }
      std::lock_guard<std::mutex> l(mu);
      for (const auto& [what, s] :
           {std::pair{"GetLot " + old, got},
            std::pair{std::string("ListLots"), listed}}) {
        if (!s.ok()) {
          query_errors.push_back(
              absl::StrCat(what, ": ", s.error_code(), " ", s.error_message()));
        }
      }
      if (rebuilding.load()) ++queries_during;
    }
  });

  std::vector<v1::RebuildProgress> progress;
  const grpc::Status rebuilt = Rebuild("admin", "lots", &progress);
  rebuilding = false;
  // Some commands after the switch too, on the new projection.
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  while (writes_after.load() < 20 && absl::Now() < give_up) {
    std::this_thread::yield();
  }
  stop = true;
  client.join();
  ASSERT_TRUE(rebuilt.ok())
      << rebuilt.error_code() << " " << rebuilt.error_message();

  // Queries never failed; the client really ran during the rebuild.
  EXPECT_TRUE(query_errors.empty())
      << query_errors.size()
      << " failed queries, first: " << query_errors.front();
  EXPECT_GT(queries_during.load(), 0);
  EXPECT_GT(writes_during.load(), 0);

  // Progress: phases in order, ending switched at its total.
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.front().phase(), v1::RebuildProgress::PHASE_REPLAYING);
  for (size_t i = 1; i < progress.size(); ++i) {
    EXPECT_GE(progress[i].phase(), progress[i - 1].phase());
    EXPECT_EQ(progress[i].service(), "lots");
  }
  const v1::RebuildProgress& last = progress.back();
  EXPECT_EQ(last.phase(), v1::RebuildProgress::PHASE_SWITCHED);
  EXPECT_GT(last.records_total(), kFill);  // product + lots + markers
  EXPECT_EQ(last.records_applied(), last.records_total());
  EXPECT_GT(last.records_per_second(), 0);
  EXPECT_EQ(last.eta_seconds(), 0);
  EXPECT_TRUE(last.old_healthy());
  EXPECT_EQ(last.old_digest().size(), 64u);
  EXPECT_EQ(last.old_digest(), last.new_digest());
  EXPECT_TRUE(last.digests_match());
  std::printf(
      "rebuilt %lld records in %.2f s (%.0f records/s), paused %.3f s\n",
      static_cast<long long>(last.records_applied()), last.elapsed_seconds(),
      last.records_per_second(), last.pause_seconds());

  // Every acknowledged lot is readable after the switch.
  for (const std::string& number : acknowledged) {
    EXPECT_TRUE(GetLot(*lots_, number).ok()) << number;
  }

  // The service directory names the rebuilt projection; the old is gone.
  const fs::path live = Projections() / "lots";
  ASSERT_TRUE(fs::is_symlink(live));
  EXPECT_EQ(fs::read_symlink(live), fs::path("lots.rebuild-1"));
  EXPECT_EQ(fs::path(last.directory()).filename(), "lots.rebuild-1");
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(Projections())) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"lots", "lots.rebuild-1"}));

  // The switched projection equals a clean replay of the whole log.
  stack_->Stop();
  const std::string switched = DigestAtLogEnd(live.string());
  const std::string clean =
      DigestAtLogEnd((fs::path(stack_->config().data_dir) / "clean").string());
  EXPECT_FALSE(switched.empty());
  EXPECT_EQ(switched, clean);

  // A restart opens the rebuilt projection: everything is there, at once.
  stack_->Restart();
  auto stub = v1::LotsService::NewStub(stack_->channel());
  admin_ = v1::AdminService::NewStub(stack_->channel());
  for (size_t i = 0; i < acknowledged.size(); i += 7) {
    EXPECT_TRUE(GetLot(*stub, acknowledged[i]).ok()) << acknowledged[i];
  }
  EXPECT_TRUE(GetLot(*stub, "F0").ok());
  EXPECT_TRUE(CreateLot(*stub, "AFTER-RESTART").ok());
  EXPECT_EQ(fs::read_symlink(live), fs::path("lots.rebuild-1"));

  // A second rebuild switches again, deleting the first and the leftover
  // of an abandoned one, but not a damaged projection moved aside at start
  // (a link to its directory, kept for an operator).
  fs::create_directories(Projections() / "lots.rebuild-6");
  fs::create_directories(Projections() / "lots.rebuild-5");
  fs::create_directory_symlink("lots.rebuild-5",
                               Projections() / "lots.damaged-20260302T1000Z");
  progress.clear();
  const grpc::Status again = Rebuild("admin", "lots", &progress);
  ASSERT_TRUE(again.ok()) << again.error_message();
  ASSERT_FALSE(progress.empty());
  EXPECT_TRUE(progress.back().digests_match());
  EXPECT_EQ(fs::read_symlink(live), fs::path("lots.rebuild-7"));
  EXPECT_FALSE(fs::exists(Projections() / "lots.rebuild-1"));
  EXPECT_FALSE(fs::exists(Projections() / "lots.rebuild-6"));
  EXPECT_TRUE(fs::exists(Projections() / "lots.damaged-20260302T1000Z"));
  EXPECT_TRUE(GetLot(*stub, "AFTER-RESTART").ok());
}

TEST_P(RebuildTest, OnlyAnAdminMayRebuild) {
  for (const std::string who : {"operator", "auditor", "approver", "nobody"}) {
    const grpc::Status s = Rebuild(who, "lots", nullptr);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << who << ": " << s.error_message();
  }
  EXPECT_EQ(Rebuild("admin", "", nullptr).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  const grpc::Status unknown = Rebuild("admin", "quality", nullptr);
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(unknown.error_message().find("hosts lots"), std::string::npos)
      << unknown.error_message();
  // Nothing was touched.
  EXPECT_FALSE(fs::is_symlink(Projections() / "lots"));
}

INSTANTIATE_TEST_SUITE_P(Backends, RebuildTest,
                         ::testing::Values(Backend::kEmbedded, Backend::kKafka),
                         [](const auto& info) {
                           return BackendName(info.param);
                         });

}  // namespace
}  // namespace lotledger::testing
