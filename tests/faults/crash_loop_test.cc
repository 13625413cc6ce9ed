// Crash loop: lotledgerd (every service, embedded log) is killed with
// SIGKILL under a stream of lot creations and restarted, N times
// (LOTLEDGER_FAULT_ITERATIONS, default 5). After each restart the client
// first retries, with the same request ids, every command whose outcome it
// did not learn, as a client does. What users rely on:
//   * acknowledged = applied: every acknowledged lot reads back, with its
//     quantity, and is in the log;
//   * nothing twice: each request id and each lot's creation occur once in
//     the log, and every hash chain verifies;
//   * the projection the crashed-and-restarted process built equals a
//     clean rebuild from the log, byte for byte (ProjectionStore::Digest).
// No timing is asserted; every wait is bounded.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "libs/eventlog/embedded/embedded_event_log.h"
#include "libs/projection/projection_store.h"
#include "lotledger/v1/lots.grpc.pb.h"
#include "services/host/host.h"
#include "tests/faults/log_check.h"
#include "tests/support/stack.h"

#ifndef LOTLEDGERD_PATH
#error "LOTLEDGERD_PATH must name the lotledgerd binary"
#endif

namespace lotledger::testing {
namespace {

constexpr char kGtin[] = "09506000134352";
constexpr char kLotsTopic[] = "lotledger.lots.v1";

// A lotledgerd child process on `data_dir`.
class Daemon {
 public:
  Daemon(const std::string& data_dir, const std::string& tokens, int run)
      : log_(absl::StrCat(data_dir, "/daemon-", run, ".log")) {
    pid_ = fork();
    if (pid_ == 0) {
      FILE* err = std::freopen(log_.c_str(), "w", stderr);
      (void)err;
      const std::string data = "--data-dir=" + data_dir;
      const std::string tok = "--dev-tokens=" + tokens;
      execl(LOTLEDGERD_PATH, "lotledgerd", "--listen=127.0.0.1:0", data.c_str(),
            tok.c_str(), "--insecure-dev=true", "--shutdown-grace-seconds=5",
            static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  ~Daemon() { Kill(); }

  // Waits (bounded) for the "serving" line; the bound address or "".
  std::string Target() {
    const std::regex serving("\"listen\":\"([0-9.]+:[0-9]+)\"");
    for (int i = 0; i < 1200 && pid_ > 0; ++i) {
      std::ifstream in(log_);
      std::string line;
      while (std::getline(in, line)) {
        std::smatch m;
        if (std::regex_search(line, m, serving)) return m[1];
      }
      usleep(50 * 1000);
    }
    ADD_FAILURE() << "lotledgerd never logged that it is serving: " << log_;
    return "";
  }
  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  int Terminate() {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

 private:
  std::string log_;
  pid_t pid_ = -1;
};

std::unique_ptr<grpc::ClientContext> Ctx(int seconds = 30) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->AddMetadata("authorization", "Bearer tok-op");
  ctx->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::seconds(seconds));
  return ctx;
}

v1::CreateLotRequest LotRequest(const std::string& lot_number, int amount) {
  v1::CreateLotRequest req;
  req.set_request_id(NewRequestId());
  req.set_item(kGtin);
  req.set_lot_number(lot_number);
  req.mutable_manufactured_on()->set_year(2026);
  req.mutable_manufactured_on()->set_month(3);
  req.mutable_manufactured_on()->set_day(2);
  req.mutable_quantity()->set_amount(amount);
  req.mutable_quantity()->set_uom("EA");
  return req;
}

int Iterations() {
  const char* env = std::getenv("LOTLEDGER_FAULT_ITERATIONS");
  return env != nullptr && std::atoi(env) > 0 ? std::atoi(env) : 5;
}

TEST(CrashLoop, SigkillUnderLoadLosesNothingAndDoublesNothing) {
  const std::string dir =
      ::testing::TempDir() + "/crash-loop-" + NewRequestId();
  std::filesystem::create_directories(dir);
  const std::string tokens = dir + "/tokens";
  std::ofstream(tokens) << "tok-op operator.one operator,admin,auditor\n";
  const std::string data = dir + "/data";
  std::filesystem::create_directories(data);

  absl::Mutex mu;
  std::map<std::string, v1::CreateLotRequest> acked;    // by request id
  std::map<std::string, v1::CreateLotRequest> unknown;  // outcome not known
  int run = 0;
  size_t retried = 0;  // commands whose outcome a kill left unknown

  for (int i = 0; i < Iterations(); ++i) {
    SCOPED_TRACE(absl::StrCat("iteration ", i));
    Daemon daemon(data, tokens, ++run);
    const std::string target = daemon.Target();
    ASSERT_FALSE(target.empty());
    auto lots = v1::LotsService::NewStub(
        grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
    if (i == 0) {
      v1::DefineProductRequest def;
      def.set_request_id("define-catheter");
      def.mutable_product()->set_item(kGtin);
      def.mutable_product()->set_name("Catheter");
      def.mutable_product()->set_uom("EA");
      def.mutable_product()->set_kind(v1::ITEM_KIND_FINISHED_DEVICE);
      def.mutable_product()->mutable_policy()->set_shelf_life_days(365);
      v1::DefineProductResponse defined;
      grpc::Status s = lots->DefineProduct(Ctx().get(), def, &defined);
      ASSERT_TRUE(s.ok()) << s.error_message();
    }
    // The client first retries what it does not know the outcome of.
    {
      absl::MutexLock l(&mu);
      retried += unknown.size();
      for (auto it = unknown.begin(); it != unknown.end();) {
        v1::CreateLotResponse resp;
        grpc::Status s = lots->CreateLot(Ctx().get(), it->second, &resp);
        ASSERT_TRUE(s.ok()) << it->second.lot_number() << ": " << s.error_code()
                            << " " << s.error_message();
        acked.insert(*it);
        it = unknown.erase(it);
      }
    }

    // Load: two clients stream creations; the process is killed once at
    // least 8 more have been acknowledged, with calls in flight.
    std::atomic<bool> killed{false};
    int acked_now = 0;
    std::vector<std::thread> clients;
    for (int t = 0; t < 2; ++t) {
      clients.emplace_back([&, t] {
        for (int n = 0; n < 500 && !killed.load(); ++n) {
          v1::CreateLotRequest req =
              LotRequest(absl::StrCat("K", i, "T", t, "N", n), 1 + n);
          v1::CreateLotResponse resp;
          grpc::Status s = lots->CreateLot(Ctx(10).get(), req, &resp);
          absl::MutexLock l(&mu);
          if (s.ok()) {
            acked[req.request_id()] = req;
            ++acked_now;
          } else {
            unknown[req.request_id()] = req;
          }
        }
      });
    }
    {
      absl::MutexLock l(&mu);
      auto enough = [&] { return acked_now >= 8; };
      mu.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(60));
    }
    killed = true;  // no new calls; those in flight are cut off
    daemon.Kill();
    for (std::thread& t : clients) t.join();
  }

  // A last run: retry the unknown ones, re-send every acknowledged one
  // (answered from the first attempt), and read every lot back.
  std::map<std::string, int64_t> end_offsets;
  {
    Daemon daemon(data, tokens, ++run);
    const std::string target = daemon.Target();
    ASSERT_FALSE(target.empty());
    auto lots = v1::LotsService::NewStub(
        grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
    for (auto* group : {&unknown, &acked}) {
      for (const auto& [id, req] : *group) {
        v1::CreateLotResponse resp;
        grpc::Status s = lots->CreateLot(Ctx().get(), req, &resp);
        ASSERT_TRUE(s.ok()) << req.lot_number() << ": " << s.error_message();
        EXPECT_EQ(resp.lot().quantity().amount(), req.quantity().amount());
        v1::GetLotRequest get;
        get.set_lot_id(resp.lot().lot_id());
        *get.mutable_after() = resp.token();
        v1::GetLotResponse got;
        s = lots->GetLot(Ctx().get(), get, &got);
        ASSERT_TRUE(s.ok()) << get.lot_id() << ": " << s.error_message();
        EXPECT_EQ(got.lot().quantity().amount(), req.quantity().amount());
      }
    }
    retried += unknown.size();
    for (auto& [id, req] : unknown) acked[id] = req;
    std::printf(
        "crash loop: %d kills, %zu commands, %zu retried after a kill\n",
        Iterations(), acked.size(), retried);
    EXPECT_EQ(daemon.Terminate(), 0);
  }

  // The log: every acknowledged command once, nothing twice, chains intact.
  {
    auto log = eventlog::OpenEmbeddedEventLog({.path = data + "/log"});
    ASSERT_TRUE(log.ok()) << log.status();
    auto summary = faults::SummarizeTopic(**log, kLotsTopic);
    ASSERT_TRUE(summary.ok()) << summary.status();
    EXPECT_EQ(summary->chain_break, "");
    for (const auto& [id, n] : summary->by_request_id) {
      EXPECT_EQ(n, 1) << "request " << id << " applied " << n << " times";
    }
    for (const auto& [id, req] : acked) {
      EXPECT_EQ(summary->by_request_id[id], 1) << req.lot_number();
    }
    EXPECT_EQ(summary->lots_created.size(), acked.size());
    for (const auto& [lot, n] : summary->lots_created) {
      EXPECT_EQ(n, 1) << lot << " created " << n << " times";
    }
    auto partitions = (*log)->PartitionCount(kLotsTopic);
    ASSERT_TRUE(partitions.ok());
    for (int32_t p = 0; p < *partitions; ++p) {
      auto end = (*log)->EndOffset(kLotsTopic, p);
      ASSERT_TRUE(end.ok());
      end_offsets[absl::StrCat(p)] = *end;
    }
  }

  // A clean rebuild of the lots projection from a copy of the log.
  const std::string rebuilt = dir + "/rebuilt";
  std::filesystem::create_directories(rebuilt);
  std::filesystem::copy(data + "/log", rebuilt + "/log",
                        std::filesystem::copy_options::recursive);
  {
    server::ProcessConfig c;
    c.listen = "127.0.0.1:0";
    c.data_dir = rebuilt;
    c.dev_tokens = tokens;
    c.tls.insecure_dev = true;
    c.shutdown_grace = absl::Seconds(5);
    auto host = ServerHost::Start(c, "crash-loop-rebuild", {"lots"});
    ASSERT_TRUE(host.ok()) << host.status();
    auto lots = v1::LotsService::NewStub(grpc::CreateChannel(
        (*host)->target(), grpc::InsecureChannelCredentials()));
    // Wait (bounded) until the rebuild applied the whole log.
    v1::GetLotRequest get;
    get.set_lot_id(acked.begin()->second.item() + ":" +
                   acked.begin()->second.lot_number());
    for (const auto& [p, end] : end_offsets) {
      auto* o = get.mutable_after()->add_offsets();
      o->set_topic(kLotsTopic);
      o->set_partition(std::atoi(p.c_str()));
      o->set_offset(end);
    }
    v1::GetLotResponse got;
    grpc::Status s = lots->GetLot(Ctx(120).get(), get, &got);
    ASSERT_TRUE(s.ok()) << s.error_message();
    (*host)->Shutdown();
  }
  auto digest = [](const std::string& path) -> std::string {
    projection::ProjectionStore::Options options;
    options.path = path;
    auto store = projection::ProjectionStore::Open(options);
    if (!store.ok()) return store.status().ToString();
    auto d = (*store)->Digest();
    return d.ok() ? *d : d.status().ToString();
  };
  EXPECT_EQ(digest(data + "/projections/lots"),
            digest(rebuilt + "/projections/lots"));
}

}  // namespace
}  // namespace lotledger::testing
