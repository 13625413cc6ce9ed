// Each service binary as Kubernetes runs it, against the real Kafka broker
// ($LOTLEDGER_TEST_KAFKA, a fresh topic prefix per test): gRPC health
// SERVING under the service's name, /metrics scraped and parsed strictly,
// and SIGTERM while clients keep their connections open (and, for
// lots-service, while client threads stream CreateLot commands): the
// process exits 0 before its shutdown grace runs out, every acknowledged
// lot is there after a restart, and a retry of an unacknowledged command
// with its request id applies once.
#include <grpcpp/grpcpp.h>
#include <sys/wait.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "libs/common/ids.h"
#include "libs/metrics/tests/exposition.h"
#include "lotledger/v1/lots.grpc.pb.h"
#include "tests/support/service_cluster.h"

#if !defined(LOTS_SERVICE_PATH) || !defined(QUALITY_SERVICE_PATH) || \
    !defined(INVENTORY_SERVICE_PATH)
#error "the service binaries' paths must be defined"
#endif

namespace lotledger::testing {
namespace {

using metrics::testing::CheckHistograms;
using metrics::testing::Exposition;
using metrics::testing::HttpGet;
using metrics::testing::HttpResponse;
using metrics::testing::ParseExposition;
using metrics::testing::SumOf;

constexpr int kGraceSeconds = 15;
constexpr char kToken[] = "tok-op-secret";

std::string NewRequestId() { return NewUuidV7(absl::Now()); }

constexpr int64_t kMemoryBudgetMb = 96;

// One service binary as Kubernetes runs it, with the metrics and health
// ports of its own; stderr to a file in `dir` (one per run).
std::unique_ptr<ServiceProcess> StartService(const std::string& path,
                                             const std::string& dir,
                                             const std::string& prefix) {
  static int runs = 0;
  const std::string name = std::filesystem::path(path).filename().string();
  return std::make_unique<ServiceProcess>(
      path,
      std::vector<std::string>{
          "--listen=127.0.0.1:0",
          "--metrics-listen=127.0.0.1:0",
          "--health-listen=127.0.0.1:0",
          "--data-dir=" + dir + "/data",
          "--dev-tokens=" + dir + "/tokens",
          "--insecure-dev=true",
          "--log=kafka",
          // Not the default: the gauge below shows the flag reached it.
          absl::StrCat("--memory-budget-mb=", kMemoryBudgetMb),
          "--kafka-bootstrap=" + TestKafkaAddress(),
          "--topic-prefix=" + prefix,
          // Not the default (the program name): a test running the same
          // binary at the same time would fence this one.
          "--writer-id=" + prefix + name,
          "--shutdown-grace-seconds=" + std::to_string(kGraceSeconds),
      },
      dir + "/" + name + "-" + std::to_string(++runs) + ".log");
}

// SIGTERM, waiting at most the grace period plus a margin (then SIGKILL).
int Terminate(ServiceProcess& p, absl::Duration& elapsed) {
  return p.Terminate(absl::Seconds(kGraceSeconds + 30), &elapsed);
}

void SetAuth(grpc::ClientContext& ctx) {
  ctx.AddMetadata("authorization", std::string("Bearer ") + kToken);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
}

std::string MakeDir(const std::string& name) {
  const std::string dir =
      ::testing::TempDir() + "/operate-" + name + "-" + NewRequestId();
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/tokens")
      << kToken << " operator.one operator,admin,auditor\n";
  return dir;
}

void ExpectServing(const std::shared_ptr<grpc::Channel>& channel,
                   const std::string& service) {
  auto health = grpc::health::v1::Health::NewStub(channel);
  for (const std::string& name : {service, std::string()}) {
    grpc::health::v1::HealthCheckRequest req;
    req.set_service(name);
    grpc::health::v1::HealthCheckResponse resp;
    grpc::ClientContext ctx;
    grpc::Status s = health->Check(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << name << ": " << s.error_message();
    EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING)
        << "health of \"" << name << "\"";
  }
}

// Scrapes the process's /metrics and checks the text strictly; returns it
// parsed.
Exposition Scrape(const ServiceProcess& p) {
  HttpResponse r = HttpGet(p.metrics_port(), "/metrics");
  EXPECT_NE(r.status_line.find(" 200 "), std::string::npos) << r.status_line;
  Exposition e = ParseExposition(r.body);
  EXPECT_TRUE(e.errors.empty()) << ::testing::PrintToString(e.errors);
  CheckHistograms(e);
  for (const auto& [name, f] : e.families) {
    EXPECT_FALSE(f.help.empty()) << name << " has no HELP";
    EXPECT_FALSE(f.type.empty()) << name << " has no TYPE";
  }
  return e;
}

void ExpectProcessMetrics(const Exposition& e, const std::string& service) {
  for (const char* family :
       {"lotledger_projection_lag_records", "lotledger_projection_lag_seconds",
        "lotledger_projection_healthy", "lotledger_projection_sst_bytes",
        "lotledger_projection_live_data_bytes",
        "lotledger_projection_memtable_bytes",
        "lotledger_kafka_producer_queue_length",
        "lotledger_grpc_requests_in_flight",
        "lotledger_rocksdb_memory_bytes"}) {
    EXPECT_TRUE(e.families.contains(family)) << family;
    EXPECT_EQ(e.families.at(family).type, "gauge") << family;
  }
  EXPECT_EQ(SumOf(e, "lotledger_projection_healthy", {{"service", service}}),
            1);
  // The process's RocksDB budget is half of --memory-budget-mb, and what
  // its projection holds is charged to it.
  const double budget =
      SumOf(e, "lotledger_rocksdb_memory_bytes", {{"kind", "budget"}});
  EXPECT_EQ(budget, static_cast<double>(kMemoryBudgetMb << 19));
  EXPECT_LE(SumOf(e, "lotledger_rocksdb_memory_bytes", {{"kind", "cache"}}),
            budget);
  std::set<std::string> kinds;
  for (const auto& sample :
       e.families.at("lotledger_rocksdb_memory_bytes").samples) {
    kinds.insert(sample.labels.at("kind"));
  }
  EXPECT_EQ(kinds, (std::set<std::string>{"budget", "indexes", "cache_capacity",
                                          "cache", "pinned", "write_buffers",
                                          "active_write_buffers"}));
  // The memtables taking writes are some of the write buffers.
  EXPECT_LE(
      SumOf(e, "lotledger_rocksdb_memory_bytes",
            {{"kind", "active_write_buffers"}}),
      SumOf(e, "lotledger_rocksdb_memory_bytes", {{"kind", "write_buffers"}}));
  // An in-memory index is charged to that budget: the cache's capacity is
  // the budget less the index. The services without one leave it whole.
  const bool indexed = service == "lots" || service == "recall";
  const double indexes =
      SumOf(e, "lotledger_rocksdb_memory_bytes", {{"kind", "indexes"}});
  if (indexed) {
    EXPECT_GT(indexes, 0) << service;
  } else {
    EXPECT_EQ(indexes, 0) << service;
  }
  EXPECT_EQ(
      SumOf(e, "lotledger_rocksdb_memory_bytes", {{"kind", "cache_capacity"}}),
      budget - indexes)
      << service;
  // One lag sample per input partition, each a count of records.
  EXPECT_FALSE(
      e.families.at("lotledger_projection_lag_records").samples.empty());
  // The services with an in-memory index report its heap (the one
  // charged above); the others have none to report.
  int index_samples = 0;
  if (auto f = e.families.find("lotledger_index_memory_bytes");
      f != e.families.end()) {
    EXPECT_EQ(f->second.type, "gauge");
    for (const auto& sample : f->second.samples) {
      EXPECT_EQ(sample.labels.at("service"), service);
      EXPECT_GE(sample.value, 0);
      ++index_samples;
    }
  }
  EXPECT_EQ(index_samples, indexed ? 1 : 0) << service;
}

// Starts `binary`, checks health and metrics, then SIGTERM while a client
// channel stays connected: exit 0 within the grace.
void StartCheckAndStop(const std::string& binary, const std::string& short_name,
                       const std::string& health_name) {
  ASSERT_FALSE(TestKafkaAddress().empty())
      << "LOTLEDGER_TEST_KAFKA must name the test broker";
  const std::string dir = MakeDir(short_name);
  auto process = StartService(binary, dir, "op-" + NewRequestId() + ".");
  ServiceProcess& p = *process;
  ASSERT_TRUE(p.AwaitServing());
  auto channel =
      grpc::CreateChannel(p.target(), grpc::InsecureChannelCredentials());
  ExpectServing(channel, health_name);
  ExpectServing(grpc::CreateChannel(p.health_target(),
                                    grpc::InsecureChannelCredentials()),
                health_name);
  ExpectProcessMetrics(Scrape(p), short_name);

  // The channel stays open across the SIGTERM, with a health Watch on it
  // (what load balancers and client libraries keep open): a stream that
  // never ends by itself.
  auto health = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext watch_ctx;
  grpc::health::v1::HealthCheckRequest watch_req;
  watch_req.set_service(health_name);
  auto watch = health->Watch(&watch_ctx, watch_req);
  grpc::health::v1::HealthCheckResponse watched;
  ASSERT_TRUE(watch->Read(&watched));
  EXPECT_EQ(watched.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  ASSERT_EQ(channel->GetState(false), GRPC_CHANNEL_READY);
  absl::Duration elapsed;
  const int status = Terminate(p, elapsed);
  while (watch->Read(&watched)) {
  }
  watch->Finish().IgnoreError();
  ASSERT_TRUE(WIFEXITED(status))
      << "killed by signal " << WTERMSIG(status) << "\n"
      << p.LogText();
  EXPECT_EQ(WEXITSTATUS(status), 0) << p.LogText();
  EXPECT_LT(elapsed, absl::Seconds(kGraceSeconds))
      << "an open connection or stream held the shutdown for the whole grace";
}

TEST(OperateProcess, QualityServiceServesAndStopsWithinGrace) {
  StartCheckAndStop(QUALITY_SERVICE_PATH, "quality",
                    "lotledger.v1.QualityService");
}

TEST(OperateProcess, InventoryServiceServesAndStopsWithinGrace) {
  StartCheckAndStop(INVENTORY_SERVICE_PATH, "inventory",
                    "lotledger.v1.InventoryService");
}

TEST(OperateProcess, RecallServiceServesAndStopsWithinGrace) {
  StartCheckAndStop(RECALL_SERVICE_PATH, "recall",
                    "lotledger.v1.RecallService");
}

constexpr char kItem[] = "09506000134352";

v1::CreateLotRequest LotRequest(const std::string& lot_number, int amount) {
  v1::CreateLotRequest req;
  req.set_request_id(NewRequestId());
  req.set_item(kItem);
  req.set_lot_number(lot_number);
  req.mutable_manufactured_on()->set_year(2026);
  req.mutable_manufactured_on()->set_month(6);
  req.mutable_manufactured_on()->set_day(1);
  req.mutable_quantity()->set_amount(amount);
  req.mutable_quantity()->set_uom("EA");
  return req;
}

TEST(OperateProcess, LotsServiceLosesNothingAcknowledgedOnSigterm) {
  ASSERT_FALSE(TestKafkaAddress().empty())
      << "LOTLEDGER_TEST_KAFKA must name the test broker";
  const std::string dir = MakeDir("lots");
  const std::string prefix = "op-" + NewRequestId() + ".";

  // What the clients learned: acknowledged lots, and commands whose
  // outcome they never heard (to retry with the same request id).
  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, v1::CreateLotRequest> acked;  // lot id -> request
  std::vector<v1::CreateLotRequest> unacked;

  {
    auto process = StartService(LOTS_SERVICE_PATH, dir, prefix);
    ServiceProcess& p = *process;
    ASSERT_TRUE(p.AwaitServing());
    auto channel =
        grpc::CreateChannel(p.target(), grpc::InsecureChannelCredentials());
    ExpectServing(channel, "lotledger.v1.LotsService");
    auto lots = v1::LotsService::NewStub(channel);
    {
      v1::DefineProductRequest def;
      def.set_request_id(NewRequestId());
      def.mutable_product()->set_item(kItem);
      def.mutable_product()->set_name("Catheter");
      def.mutable_product()->set_uom("EA");
      def.mutable_product()->set_kind(v1::ITEM_KIND_FINISHED_DEVICE);
      def.mutable_product()->mutable_policy()->set_shelf_life_days(365);
      v1::DefineProductResponse defined;
      grpc::ClientContext ctx;
      SetAuth(ctx);
      grpc::Status s = lots->DefineProduct(&ctx, def, &defined);
      ASSERT_TRUE(s.ok()) << s.error_message();
    }

    // Client threads create lots until the server goes away.
    constexpr int kClients = 4;
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
      clients.emplace_back([&, c] {
        for (int i = 0;; ++i) {
          v1::CreateLotRequest req =
              LotRequest(absl::StrCat("C", c, "N", i), 1 + i % 50);
          v1::CreateLotResponse resp;
          grpc::ClientContext ctx;
          SetAuth(ctx);
          grpc::Status s = lots->CreateLot(&ctx, req, &resp);
          std::lock_guard<std::mutex> l(mu);
          if (s.ok()) {
            acked[resp.lot().lot_id()] = req;
            cv.notify_all();
          } else {
            unacked.push_back(req);
            return;
          }
        }
      });
    }
    {
      std::unique_lock<std::mutex> l(mu);
      ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds(120),
                              [&] { return acked.size() >= 40; }))
          << "the clients got too few lots acknowledged: " << acked.size();
    }
    const Exposition e = Scrape(p);
    ExpectProcessMetrics(e, "lots");
    EXPECT_GE(SumOf(e, "lotledger_grpc_requests_total",
                    {{"service", "lotledger.v1.LotsService"},
                     {"method", "CreateLot"},
                     {"code", "OK"}}),
              40);
    EXPECT_GE(SumOf(e, "lotledger_grpc_request_duration_seconds_count",
                    {{"method", "CreateLot"}}),
              40);
    EXPECT_GE(
        SumOf(e, "lotledger_events_appended_total", {{"type", "lot_created"}}),
        40);
    EXPECT_GE(SumOf(e, "lotledger_events_applied_total",
                    {{"service", "lots"}, {"type", "lot_created"}}),
              40);
    // The genealogy index holds every lot applied: at least its id and
    // the 33 bytes of per-lot arrays (genealogy_index.h) for each.
    EXPECT_GE(SumOf(e, "lotledger_index_memory_bytes",
                    {{"service", "lots"}, {"index", "genealogy"}}),
              40.0 * (33 + std::string(kItem).size()));

    absl::Duration elapsed;
    const int status = Terminate(p, elapsed);
    for (std::thread& t : clients) t.join();
    ASSERT_TRUE(WIFEXITED(status))
        << "killed by signal " << WTERMSIG(status) << "\n"
        << p.LogText();
    EXPECT_EQ(WEXITSTATUS(status), 0) << p.LogText();
    EXPECT_LT(elapsed, absl::Seconds(kGraceSeconds));

    // One JSON line per call, with request id and actor, never the token.
    const std::string log = p.LogText();
    const v1::CreateLotRequest& some = acked.begin()->second;
    EXPECT_NE(log.find("\"request_id\":\"" + some.request_id() + "\""),
              std::string::npos);
    EXPECT_NE(log.find("\"method\":\"CreateLot\""), std::string::npos);
    EXPECT_NE(log.find("\"actor\":\"operator.one\""), std::string::npos);
    EXPECT_EQ(log.find(kToken), std::string::npos) << "a token was logged";
  }
  ASSERT_EQ(unacked.size(), 4u) << "each client stops at its first failure";

  // Restarted on the same data directory and topics.
  auto process = StartService(LOTS_SERVICE_PATH, dir, prefix);
  ServiceProcess& p = *process;
  ASSERT_TRUE(p.AwaitServing());
  auto lots = v1::LotsService::NewStub(
      grpc::CreateChannel(p.target(), grpc::InsecureChannelCredentials()));
  for (const auto& [lot_id, req] : acked) {
    v1::GetLotRequest get;
    get.set_lot_id(lot_id);
    v1::GetLotResponse got;
    grpc::ClientContext ctx;
    SetAuth(ctx);
    grpc::Status s = lots->GetLot(&ctx, get, &got);
    ASSERT_TRUE(s.ok()) << lot_id << ": " << s.error_message();
    EXPECT_EQ(got.lot().quantity().amount(), req.quantity().amount());
  }
  // Each unacknowledged command, retried twice with its request id,
  // succeeds both times with the same lot.
  std::set<std::string> expected;
  for (const auto& [lot_id, req] : acked) expected.insert(lot_id);
  for (const v1::CreateLotRequest& req : unacked) {
    v1::CreateLotResponse first, second;
    for (v1::CreateLotResponse* resp : {&first, &second}) {
      grpc::ClientContext ctx;
      SetAuth(ctx);
      grpc::Status s = lots->CreateLot(&ctx, req, resp);
      ASSERT_TRUE(s.ok()) << req.lot_number() << ": " << s.error_message();
    }
    EXPECT_EQ(first.lot().SerializeAsString(),
              second.lot().SerializeAsString());
    expected.insert(first.lot().lot_id());
  }
  // And the projection holds exactly those lots, each once.
  std::vector<std::string> listed;
  std::string page;
  do {
    v1::ListLotsRequest list;
    list.set_item(kItem);
    list.set_page_size(1000);
    list.set_page_token(page);
    v1::ListLotsResponse resp;
    grpc::ClientContext ctx;
    SetAuth(ctx);
    grpc::Status s = lots->ListLots(&ctx, list, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    for (const v1::Lot& lot : resp.lots()) listed.push_back(lot.lot_id());
    page = resp.next_page_token();
  } while (!page.empty());
  EXPECT_EQ(listed.size(), expected.size());
  EXPECT_EQ(std::set<std::string>(listed.begin(), listed.end()), expected);
}

}  // namespace
}  // namespace lotledger::testing
