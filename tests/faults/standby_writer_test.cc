// Standby writers (issue 18, docs/adr/0006-standby-writers.md): inventory
// and quality each run as two replicas, separate processes with
// --writer-election, on the real broker ($LOTLEDGER_TEST_KAFKA), beside
// one lots-service. Clients know both replicas' addresses, as a client of
// a Kubernetes Service does, and follow a standby's `lotledger-writer`
// trailing metadata.
//
// WriterKilledUnderLoad: inventory clients ship 1 EA per request and
// quality clients record inspections, each request sent again (same
// request id) after UNAVAILABLE, DEADLINE_EXCEEDED or CANCELLED until
// acknowledged;
// query clients read from both replicas. Meanwhile the current writer of
// inventory, then of quality, and so on, is killed with SIGKILL at a
// random moment, LOTLEDGER_FAULT_ITERATIONS times (20), and started again
// at once as a standby (as Kubernetes would). Asserted afterwards:
//   - every request was acknowledged within its bound;
//   - every acknowledged command is in its service's log exactly once (0
//     lost, 0 doubled) and no request was written twice;
//   - every hash chain of every topic verifies (as `lotctl audit verify`);
//   - both replicas of inventory count each written shipment once, each
//     answering from its own projection (read replicas);
//   - after each kill the service took commands again (bounded wait).
// Printed for the report, not asserted: per kill, how long until the
// service acknowledged a command again (p50 and max), and query counts.
//
// PausedWriterWritesNothingAfterwards: the writer of inventory is paused
// with SIGSTOP under load; the standby takes over; then it is continued.
// Requests sent to it after that are not acknowledged and never reach the
// log, it stops itself, and nothing was lost or doubled.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "libs/audit/log_verify.h"
#include "libs/eventlog/kafka/kafka_event_log.h"
#include "lotledger/v1/inventory.grpc.pb.h"
#include "lotledger/v1/lots.grpc.pb.h"
#include "lotledger/v1/quality.grpc.pb.h"
#include "tests/faults/log_check.h"
#include "tests/support/service_cluster.h"
#include "tests/support/stack.h"
#include "tools/lotctl/cli.h"

#if !defined(LOTS_SERVICE_PATH) || !defined(QUALITY_SERVICE_PATH) || \
    !defined(INVENTORY_SERVICE_PATH)
#error "the service binaries' paths must be defined (CMakeLists.txt)"
#endif

namespace lotledger::testing {
namespace {

constexpr char kDevice[] = "09506000134352";
constexpr char kBin[] = "WH1-B1";
constexpr int kLots = 3;
constexpr int64_t kStockPerLot = 100000;
constexpr int kShipClients = 3;
constexpr int kInspectClients = 2;
constexpr int kQueryClients = 2;
constexpr absl::Duration kPacing = absl::Milliseconds(50);
constexpr absl::Duration kCallDeadline = absl::Seconds(5);
constexpr absl::Duration kRetryPause = absl::Milliseconds(100);
constexpr absl::Duration kRequestBound = absl::Seconds(90);
constexpr absl::Duration kWriterBound = absl::Seconds(60);
// How long a silent writer keeps the lease (--writer-lease-ms).
constexpr int kLeaseMs = 2000;

int Kills() {
  const char* env = std::getenv("LOTLEDGER_FAULT_ITERATIONS");
  return env != nullptr && std::atoi(env) > 0 ? std::atoi(env) : 20;
}

std::string LotId(int i) { return absl::StrCat(kDevice, ":S", i); }
double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

// The answers that leave a command's outcome unknown. CANCELLED, which
// these clients never cause themselves, comes from a server that stopped
// with the call still running (a fenced writer's shutdown cancels what
// its grace period did not finish): the command may or may not be in the
// log, and only a retry with the same request id tells.
bool Retryable(const grpc::Status& s) {
  return s.error_code() == grpc::StatusCode::UNAVAILABLE ||
         s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED ||
         s.error_code() == grpc::StatusCode::CANCELLED;
}

// The replicas of one service as a client sees them: fixed addresses, and
// the one it currently sends commands to.
class Replicas {
 public:
  explicit Replicas(std::vector<std::string> targets)
      : targets_(std::move(targets)) {
    // A replica that died comes back within seconds: reconnect soon, not
    // after gRPC's default backoff (1 s growing to 120 s), as a client of
    // replicated services should.
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
    for (const std::string& t : targets_) {
      channels_.push_back(grpc::CreateCustomChannel(
          t, grpc::InsecureChannelCredentials(), args));
    }
  }
  size_t size() const { return targets_.size(); }
  const std::string& target(size_t i) const { return targets_[i]; }
  std::shared_ptr<grpc::Channel> channel(size_t i) const {
    return channels_[i];
  }
  size_t current() const { return current_.load(); }

  // After a failed attempt on replica `tried`: go where a standby said
  // the writer is, else to the next replica.
  void After(size_t tried, const grpc::Status& s,
             const grpc::ClientContext& ctx) {
    if (!Retryable(s)) return;
    const auto& md = ctx.GetServerTrailingMetadata();
    if (auto it = md.find("lotledger-writer"); it != md.end()) {
      const std::string writer(it->second.data(), it->second.size());
      for (size_t i = 0; i < targets_.size(); ++i) {
        if (targets_[i] == writer && i != tried) {
          current_.store(i);
          return;
        }
      }
    }
    size_t expected = tried;
    current_.compare_exchange_strong(expected, (tried + 1) % targets_.size());
  }

 private:
  std::vector<std::string> targets_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::atomic<size_t> current_ = 0;
};

// One command a client sent and what it saw.
struct Sent {
  std::string service;  // "inventory" or "quality"
  std::string request_id;
  int lot = 0;
  absl::Time first_sent;
  absl::Time last_sent;  // the final attempt
  absl::Time done;
  int attempts = 0;
  bool acked = false;
  grpc::Status last;
};

// Sends one command until it is answered with anything but
// UNAVAILABLE/DEADLINE_EXCEEDED (or `kRequestBound` passed), each attempt
// to the replica the client currently believes is the writer.
template <typename Call>
void UntilAnswered(Replicas& replicas, const std::string& token, Sent& sent,
                   Call call) {
  sent.first_sent = absl::Now();
  const absl::Time give_up = sent.first_sent + kRequestBound;
  while (true) {
    const size_t i = replicas.current();
    std::unique_ptr<grpc::ClientContext> ctx =
        BearerContext(token, kCallDeadline);
    sent.last_sent = absl::Now();
    sent.last = call(replicas.channel(i), ctx.get());
    ++sent.attempts;
    if (!Retryable(sent.last) || absl::Now() + kRetryPause >= give_up) break;
    replicas.After(i, sent.last, *ctx);
    absl::SleepFor(kRetryPause);
  }
  sent.done = absl::Now();
  sent.acked = sent.last.ok();
}

// A server process of the test, started again on the same flags.
struct Replica {
  std::string name;  // "inventory-1"
  std::string binary;
  std::vector<std::string> args;
  std::string log_prefix;
  int runs = 0;
  std::unique_ptr<ServiceProcess> process;

  bool Start() {
    process = std::make_unique<ServiceProcess>(
        binary, args, absl::StrCat(log_prefix, "-", runs++, ".log"));
    return process->AwaitServing();
  }
};

class StandbyWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bootstrap_ = TestKafkaAddress();
    ASSERT_FALSE(bootstrap_.empty())
        << "LOTLEDGER_TEST_KAFKA is not set (tools/test starts a broker)";
    root_ = ::testing::TempDir() + "/standby-writer-" + NewRequestId();
    std::filesystem::create_directories(root_);
    const std::string id = NewRequestId();
    prefix_ = absl::StrCat("standby", id.substr(0, 8), id.substr(24), ".");
    tokens_ = root_ + "/tokens";
    std::ofstream(tokens_) << "tok-admin admin admin\n"
                              "tok-operator operator operator\n"
                              "tok-qa qa.approver qa_inspector,qa_approver\n"
                              "tok-auditor auditor auditor\n";
    ASSERT_TRUE(StartService("lots", LOTS_SERVICE_PATH, 1));
    ASSERT_TRUE(StartService("quality", QUALITY_SERVICE_PATH, 2));
    ASSERT_TRUE(StartService("inventory", INVENTORY_SERVICE_PATH, 2));
    for (const char* name : {"lots", "quality", "inventory"}) {
      std::vector<std::string> targets;
      for (const Replica& r : replicas_[name]) {
        targets.push_back(r.process->target());
      }
      clients_[name] = std::make_unique<Replicas>(targets);
    }
  }

  void TearDown() override {
    if (HasFailure()) {
      for (const auto& [name, list] : replicas_) {
        for (const Replica& r : list) {
          if (r.process == nullptr) continue;
          std::printf("---- %s\n%s\n", r.process->log_path().c_str(),
                      r.process->LogTail(25).c_str());
        }
      }
    }
    replicas_.clear();
    // LOTLEDGER_KEEP_LOGS=1 keeps the replicas' logs of a passing run.
    const char* keep = std::getenv("LOTLEDGER_KEEP_LOGS");
    if (HasFailure() || (keep != nullptr && std::string(keep) == "1")) {
      std::printf("standby: logs and data kept in %s\n", root_.c_str());
    } else {
      std::filesystem::remove_all(root_);
    }
  }

  // `count` replicas of a service; more than one run with a writer
  // election. Each keeps its port and data dir across restarts.
  bool StartService(const std::string& name, const std::string& binary,
                    int count) {
    for (int r = 0; r < count; ++r) {
      Replica replica;
      replica.name = absl::StrCat(name, "-", r);
      replica.binary = binary;
      replica.log_prefix = absl::StrCat(root_, "/", replica.name);
      replica.args = {absl::StrCat("--listen=127.0.0.1:", PickFreePort()),
                      "--metrics-listen=127.0.0.1:0",
                      "--log=kafka",
                      "--kafka-bootstrap=" + bootstrap_,
                      "--topic-prefix=" + prefix_,
                      absl::StrCat("--writer-id=", prefix_, name),
                      absl::StrCat("--data-dir=", root_, "/", replica.name),
                      "--dev-tokens=" + tokens_,
                      "--insecure-dev=true",
                      "--partitions=3",
                      "--shutdown-grace-seconds=5"};
      if (count > 1) {
        replica.args.push_back("--writer-election=true");
        replica.args.push_back(absl::StrCat("--writer-lease-ms=", kLeaseMs));
      }
      if (!replica.Start()) return false;
      replicas_[name].push_back(std::move(replica));
    }
    return true;
  }

  // The replica of `name` whose lotledger.writer health is SERVING; -1
  // when none is within kWriterBound.
  int AwaitWriter(const std::string& name) {
    const absl::Time give_up = absl::Now() + kWriterBound;
    while (absl::Now() < give_up) {
      std::vector<Replica>& list = replicas_[name];
      for (size_t i = 0; i < list.size(); ++i) {
        if (list[i].process == nullptr || !list[i].process->running()) continue;
        auto health = grpc::health::v1::Health::NewStub(grpc::CreateChannel(
            list[i].process->target(), grpc::InsecureChannelCredentials()));
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(2));
        grpc::health::v1::HealthCheckRequest req;
        req.set_service("lotledger.writer");
        grpc::health::v1::HealthCheckResponse resp;
        if (health->Check(&ctx, req, &resp).ok() &&
            resp.status() == grpc::health::v1::HealthCheckResponse::SERVING) {
          return static_cast<int>(i);
        }
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
    ADD_FAILURE() << "no writer of " << name << " within " << kWriterBound;
    return -1;
  }

  // When a replica of `service` logged "took the writer role" first after
  // `after` (the logs' "ts", milliseconds); infinite when none did.
  absl::Time TookWriterRole(const std::string& service, absl::Time after) {
    absl::Time first = absl::InfiniteFuture();
    for (const auto& entry : std::filesystem::directory_iterator(root_)) {
      const std::string name = entry.path().filename().string();
      if (!name.starts_with(service + "-") || !name.ends_with(".log")) continue;
      std::ifstream in(entry.path());
      for (std::string line; std::getline(in, line);) {
        if (line.find("\"took the writer role\"") == std::string::npos) {
          continue;
        }
        const size_t at = line.find("\"ts\":\"");
        absl::Time ts;
        std::string err;
        if (at == std::string::npos ||
            !absl::ParseTime(absl::RFC3339_full, line.substr(at + 6, 24), &ts,
                             &err)) {
          continue;
        }
        if (ts >= after - absl::Milliseconds(1)) first = std::min(first, ts);
      }
    }
    return first;
  }

  // Product, released lots, a bin, stock of each lot in it. Every
  // command goes through the clients' replica following (no consistency
  // tokens: the services' read barriers order them).
  void SetUpStock() {
    auto send = [&](const std::string& service, const std::string& token,
                    auto call) {
      Sent sent;
      UntilAnswered(*clients_[service], token, sent, call);
      ASSERT_TRUE(sent.last.ok()) << service << ": " << sent.last.error_code()
                                  << " " << sent.last.error_message();
    };
    v1::DefineProductRequest def;
    def.set_request_id(NewRequestId());
    def.mutable_product()->set_item(kDevice);
    def.mutable_product()->set_name("catheter");
    def.mutable_product()->set_uom("EA");
    def.mutable_product()->set_kind(v1::ITEM_KIND_FINISHED_DEVICE);
    def.mutable_product()->mutable_policy()->set_shelf_life_days(730);
    ASSERT_NO_FATAL_FAILURE(
        send("lots", "tok-admin", [&](auto ch, grpc::ClientContext* ctx) {
          v1::DefineProductResponse r;
          return v1::LotsService::NewStub(ch)->DefineProduct(ctx, def, &r);
        }));
    for (int i = 0; i < kLots; ++i) {
      v1::CreateLotRequest req;
      req.set_request_id(NewRequestId());
      req.set_item(kDevice);
      req.set_lot_number(absl::StrCat("S", i));
      const absl::CivilDay made =
          absl::ToCivilDay(absl::Now(), absl::UTCTimeZone()) - 30;
      req.mutable_manufactured_on()->set_year(
          static_cast<int32_t>(made.year()));
      req.mutable_manufactured_on()->set_month(made.month());
      req.mutable_manufactured_on()->set_day(made.day());
      req.mutable_quantity()->set_amount(kStockPerLot);
      req.mutable_quantity()->set_uom("EA");
      ASSERT_NO_FATAL_FAILURE(
          send("lots", "tok-operator", [&](auto ch, grpc::ClientContext* ctx) {
            v1::CreateLotResponse r;
            return v1::LotsService::NewStub(ch)->CreateLot(ctx, req, &r);
          }));
      v1::RecordInspectionRequest ins = FinalInspection(LotId(i));
      ASSERT_NO_FATAL_FAILURE(
          send("quality", "tok-qa", [&](auto ch, grpc::ClientContext* ctx) {
            v1::RecordInspectionResponse r;
            return v1::QualityService::NewStub(ch)->RecordInspection(ctx, ins,
                                                                     &r);
          }));
      v1::ChangeDispositionRequest rel;
      rel.set_request_id(NewRequestId());
      rel.set_lot_id(LotId(i));
      rel.set_to(v1::DISPOSITION_RELEASED);
      rel.mutable_signature()->set_meaning("approved for release");
      rel.mutable_signature()->set_reason("final inspection passed");
      rel.mutable_signature()->set_credential("tok-qa");
      ASSERT_NO_FATAL_FAILURE(
          send("quality", "tok-qa", [&](auto ch, grpc::ClientContext* ctx) {
            v1::ChangeDispositionResponse r;
            return v1::QualityService::NewStub(ch)->ChangeDisposition(ctx, rel,
                                                                      &r);
          }));
    }
    for (const v1::CreateLocationRequest& req : LocationTree({kBin})) {
      ASSERT_NO_FATAL_FAILURE(send(
          "inventory", "tok-admin", [&](auto ch, grpc::ClientContext* ctx) {
            v1::CreateLocationResponse r;
            return v1::InventoryService::NewStub(ch)->CreateLocation(ctx, req,
                                                                     &r);
          }));
    }
    for (int i = 0; i < kLots; ++i) {
      v1::ReceiveStockRequest req;
      req.set_request_id(NewRequestId());
      req.set_lot_id(LotId(i));
      req.set_location_id(kBin);
      req.mutable_quantity()->set_amount(kStockPerLot);
      req.set_source(v1::RECEIPT_SOURCE_PRODUCTION);
      ASSERT_NO_FATAL_FAILURE(send(
          "inventory", "tok-operator", [&](auto ch, grpc::ClientContext* ctx) {
            v1::ReceiveStockResponse r;
            return v1::InventoryService::NewStub(ch)->ReceiveStock(ctx, req,
                                                                   &r);
          }));
    }
  }

  // One shipment of 1 EA of lot `lot`, until answered.
  Sent Ship(int lot) {
    Sent sent;
    sent.service = "inventory";
    sent.lot = lot;
    v1::ShipStockRequest req;
    req.set_request_id(NewRequestId());
    sent.request_id = req.request_id();
    req.mutable_customer()->set_customer_id("H-12");
    req.mutable_customer()->set_name("Klinikum H-12");
    req.mutable_customer()->set_region("DE-South");
    v1::ShipmentLine* line = req.add_lines();
    line->set_lot_id(LotId(lot));
    line->set_location_id(kBin);
    line->mutable_quantity()->set_amount(1);
    line->mutable_quantity()->set_uom("EA");
    UntilAnswered(*clients_["inventory"], "tok-operator", sent,
                  [&](auto ch, grpc::ClientContext* ctx) {
                    v1::ShipStockResponse r;
                    return v1::InventoryService::NewStub(ch)->ShipStock(
                        ctx, req, &r);
                  });
    return sent;
  }

  // One inspection of lot `lot`, until answered.
  Sent Inspect(int lot) {
    Sent sent;
    sent.service = "quality";
    sent.lot = lot;
    v1::RecordInspectionRequest req = FinalInspection(LotId(lot));
    sent.request_id = req.request_id();
    UntilAnswered(*clients_["quality"], "tok-qa", sent,
                  [&](auto ch, grpc::ClientContext* ctx) {
                    v1::RecordInspectionResponse r;
                    return v1::QualityService::NewStub(ch)->RecordInspection(
                        ctx, req, &r);
                  });
    return sent;
  }

  // Command clients until `stop`; each appends what it sent to `out`.
  std::vector<std::thread> StartCommandClients(const std::atomic<bool>& stop,
                                               int ship_clients,
                                               int inspect_clients) {
    std::vector<std::thread> threads;
    for (int c = 0; c < ship_clients + inspect_clients; ++c) {
      threads.emplace_back([this, c, ship_clients, &stop] {
        std::vector<Sent> mine;
        for (int n = 0; !stop.load(); ++n) {
          const int lot = (c + n) % kLots;
          mine.push_back(c < ship_clients ? Ship(lot) : Inspect(lot));
          absl::SleepFor(kPacing);
        }
        absl::MutexLock l(&sent_mu_);
        for (Sent& s : mine) sent_.push_back(std::move(s));
      });
    }
    return threads;
  }

  // Reads of lot inventory from every replica in turn until `stop`.
  std::vector<std::thread> StartQueryClients(const std::atomic<bool>& stop) {
    std::vector<std::thread> threads;
    for (int c = 0; c < kQueryClients; ++c) {
      threads.emplace_back([this, c, &stop] {
        Replicas& inv = *clients_["inventory"];
        for (int n = 0; !stop.load(); ++n) {
          const size_t i = (c + n) % inv.size();
          v1::GetLotInventoryRequest req;
          req.set_lot_id(LotId(n % kLots));
          v1::GetLotInventoryResponse resp;
          const grpc::Status s =
              v1::InventoryService::NewStub(inv.channel(i))
                  ->GetLotInventory(
                      BearerContext("tok-auditor", kCallDeadline).get(), req,
                      &resp);
          (s.ok() ? queries_ok_ : queries_failed_).fetch_add(1);
          absl::SleepFor(kPacing);
        }
      });
    }
    return threads;
  }

  // The log of each service: every acknowledged command once, nothing
  // twice, every chain intact. Returns the shipments written per lot.
  std::vector<int64_t> CheckLogs() {
    eventlog::KafkaOptions k;
    k.bootstrap_servers = bootstrap_;
    k.read_only = true;
    auto log = eventlog::KafkaEventLog::Create(k);
    EXPECT_TRUE(log.ok()) << log.status();
    std::vector<int64_t> shipped(kLots);
    if (!log.ok()) return shipped;
    std::map<std::string, faults::TopicSummary> summaries;
    for (const char* service : {"inventory", "quality"}) {
      auto summary = faults::SummarizeTopic(
          **log, absl::StrCat(prefix_, "lotledger.", service, ".v1"));
      EXPECT_TRUE(summary.ok()) << summary.status();
      if (!summary.ok()) return shipped;
      EXPECT_EQ(summary->chain_break, "") << service;
      summaries[service] = *std::move(summary);
    }
    int lost = 0, doubled = 0, acked = 0;
    std::vector<std::string> examples;
    std::map<std::string, int> final_errors;  // "code: message" -> count
    absl::MutexLock l(&sent_mu_);
    for (const Sent& s : sent_) {
      const auto& by_id = summaries[s.service].by_request_id;
      const auto it = by_id.find(s.request_id);
      const int n = it == by_id.end() ? 0 : it->second;
      if (s.acked) ++acked;
      if (!s.acked) {
        ++final_errors[absl::StrCat(s.last.error_code(), ": ",
                                    s.last.error_message())];
      }
      if (n > 1) {
        ++doubled;
        if (examples.size() < 5) {
          examples.push_back(absl::StrCat(s.request_id, " x", n));
        }
      }
      if (s.acked && n == 0) {
        ++lost;
        if (examples.size() < 5) {
          examples.push_back(absl::StrCat(s.request_id, " lost"));
        }
      }
      if (n > 0 && s.service == "inventory") ++shipped[s.lot];
    }
    absl::StatusOr<audit::LogVerification> verified =
        audit::VerifyLog(**log, prefix_, {});
    EXPECT_TRUE(verified.ok()) << verified.status();
    if (verified.ok()) {
      for (const audit::TopicVerification& t : verified->topics) {
        EXPECT_FALSE(t.first_break.has_value())
            << t.topic << " broken at " << t.first_break->partition << "/"
            << t.first_break->offset << ": " << t.first_break->what;
      }
    }
    std::printf(
        "standby: %zu commands sent, %d acknowledged; lost %d, doubled %d; "
        "logs: inventory %llu records, quality %llu records\n",
        sent_.size(), acked, lost, doubled,
        static_cast<unsigned long long>(summaries["inventory"].records),
        static_cast<unsigned long long>(summaries["quality"].records));
    EXPECT_EQ(lost, 0) << absl::StrJoin(examples, ", ");
    EXPECT_EQ(doubled, 0) << absl::StrJoin(examples, ", ");
    EXPECT_EQ(acked, static_cast<int>(sent_.size()))
        << "commands not acknowledged within " << kRequestBound << ": "
        << ::testing::PrintToString(final_errors);
    return shipped;
  }

  // As Kubernetes would: a replica that stopped itself (a writer that
  // lost its lease, e.g. starved of CPU past the lease) starts again.
  // Returns how many did.
  int StartStoppedReplicas() {
    int started = 0;
    for (const char* name : {"inventory", "quality"}) {
      for (Replica& r : replicas_[name]) {
        if (r.process->running()) continue;
        ++started;
        if (!r.Start()) ADD_FAILURE() << r.name << " did not start again";
      }
    }
    return started;
  }

  // Each replica of inventory, from its own projection, counts every
  // written shipment once. A replica that stops itself meanwhile (a lease
  // lost to a starved CPU, after the load) is started again and asked
  // again.
  void CheckReplicasAgree(const std::vector<int64_t>& shipped) {
    Replicas& inv = *clients_["inventory"];
    for (size_t i = 0; i < inv.size(); ++i) {
      for (int lot = 0; lot < kLots; ++lot) {
        v1::GetLotInventoryRequest req;
        req.set_lot_id(LotId(lot));
        v1::GetLotInventoryResponse resp;
        grpc::Status s;
        for (int attempt = 0; attempt < 50; ++attempt) {
          s = v1::InventoryService::NewStub(inv.channel(i))
                  ->GetLotInventory(
                      BearerContext("tok-auditor", kCallDeadline).get(), req,
                      &resp);
          if (!Retryable(s)) break;
          StartStoppedReplicas();
          absl::SleepFor(kRetryPause);
        }
        ASSERT_TRUE(s.ok()) << inv.target(i) << ": " << s.error_message();
        EXPECT_EQ(resp.lot().shipped(), shipped[lot])
            << "replica " << inv.target(i) << ", " << LotId(lot);
      }
    }
  }

  std::string bootstrap_;
  std::string root_;
  std::string prefix_;
  std::string tokens_;
  std::map<std::string, std::vector<Replica>> replicas_;
  std::map<std::string, std::unique_ptr<Replicas>> clients_;
  absl::Mutex sent_mu_;
  std::vector<Sent> sent_ ABSL_GUARDED_BY(sent_mu_);
  std::atomic<int64_t> queries_ok_ = 0;
  std::atomic<int64_t> queries_failed_ = 0;
};

TEST_F(StandbyWriterTest, WriterKilledUnderLoad) {
  ASSERT_NO_FATAL_FAILURE(SetUpStock());
  const unsigned seed = static_cast<unsigned>(absl::ToUnixMicros(absl::Now()));
  std::printf("standby: %d kills, seed %u\n", Kills(), seed);
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> pause_ms(500, 3000);

  struct Kill {
    std::string service;
    std::string replica;
    absl::Time at;
  };
  std::vector<Kill> kills;
  std::atomic<bool> stop{false};
  std::vector<std::thread> commands =
      StartCommandClients(stop, kShipClients, kInspectClients);
  std::vector<std::thread> queries = StartQueryClients(stop);
  int stopped_themselves = 0;
  for (int k = 0; k < Kills(); ++k) {
    const std::string service = k % 2 == 0 ? "inventory" : "quality";
    absl::SleepFor(absl::Milliseconds(pause_ms(random)));
    stopped_themselves += StartStoppedReplicas();
    const int writer = AwaitWriter(service);
    if (writer < 0) break;
    Replica& r = replicas_[service][writer];
    kills.push_back({service, r.name, absl::Now()});
    r.process->Kill();
    // As Kubernetes would: the replica starts again, as a standby.
    if (!r.Start()) {
      ADD_FAILURE() << r.name << " did not start again";
      break;
    }
  }
  absl::SleepFor(absl::Seconds(3));
  stop = true;
  for (std::thread& t : commands) t.join();
  for (std::thread& t : queries) t.join();
  EXPECT_EQ(static_cast<int>(kills.size()), Kills());

  // Per kill: until the service acknowledged a command again.
  std::vector<double> back_ms;
  {
    absl::MutexLock l(&sent_mu_);
    for (size_t k = 0; k < kills.size(); ++k) {
      absl::Time first = absl::InfiniteFuture();
      for (const Sent& s : sent_) {
        // Sent after the kill: an answer already on its way from the
        // killed writer does not count.
        if (s.service == kills[k].service && s.acked &&
            s.last_sent >= kills[k].at) {
          first = std::min(first, s.done);
        }
      }
      EXPECT_NE(first, absl::InfiniteFuture())
          << "kill " << k + 1 << " (" << kills[k].replica
          << "): the service never took a command again";
      if (first == absl::InfiniteFuture()) continue;
      back_ms.push_back(Ms(first - kills[k].at));
      const absl::Time took = TookWriterRole(kills[k].service, kills[k].at);
      std::printf(
          "standby: kill %zu: %s, a standby took the writer role after %.0f "
          "ms, commands acknowledged again after %.0f ms\n",
          k + 1, kills[k].replica.c_str(),
          took == absl::InfiniteFuture() ? -1.0 : Ms(took - kills[k].at),
          back_ms.back());
    }
  }
  if (!back_ms.empty()) {
    std::vector<double> sorted = back_ms;
    std::sort(sorted.begin(), sorted.end());
    std::printf(
        "standby: takes commands again after a kill: p50 %.0f ms, max %.0f "
        "ms over %zu kills (lease %d ms)\n",
        sorted[sorted.size() / 2], sorted.back(), sorted.size(), kLeaseMs);
  }
  std::printf(
      "standby: replicas that stopped themselves and were started again: "
      "%d\n",
      stopped_themselves);
  std::printf(
      "standby: queries on both inventory replicas: %lld ok, %lld "
      "failed (a replica being killed or restarted)\n",
      static_cast<long long>(queries_ok_.load()),
      static_cast<long long>(queries_failed_.load()));
  std::fflush(stdout);
  EXPECT_GT(queries_ok_.load(), 0);

  const std::vector<int64_t> shipped = CheckLogs();
  ASSERT_NO_FATAL_FAILURE(CheckReplicasAgree(shipped));
}

TEST_F(StandbyWriterTest, PausedWriterWritesNothingAfterwards) {
  ASSERT_NO_FATAL_FAILURE(SetUpStock());
  std::atomic<bool> stop{false};
  std::vector<std::thread> commands = StartCommandClients(stop, 2, 0);
  absl::SleepFor(absl::Seconds(2));

  const int old_writer = AwaitWriter("inventory");
  ASSERT_GE(old_writer, 0);
  Replica& paused = replicas_["inventory"][old_writer];
  const pid_t pid = paused.process->pid();
  ASSERT_EQ(kill(pid, SIGSTOP), 0);
  // The other replica takes over once the lease times out.
  const int new_writer = AwaitWriter("inventory");
  EXPECT_NE(new_writer, old_writer);
  absl::SleepFor(absl::Seconds(2));  // the new writer takes commands
  ASSERT_EQ(kill(pid, SIGCONT), 0);

  // Commands sent straight to the old writer now: none is acknowledged,
  // none reaches the log.
  std::vector<std::string> probes;
  auto stub = v1::InventoryService::NewStub(grpc::CreateChannel(
      paused.process->target(), grpc::InsecureChannelCredentials()));
  for (int i = 0; i < 5; ++i) {
    v1::ShipStockRequest req;
    req.set_request_id(NewRequestId());
    probes.push_back(req.request_id());
    req.mutable_customer()->set_customer_id("H-13");
    req.mutable_customer()->set_name("Klinikum H-13");
    v1::ShipmentLine* line = req.add_lines();
    line->set_lot_id(LotId(0));
    line->set_location_id(kBin);
    line->mutable_quantity()->set_amount(1);
    line->mutable_quantity()->set_uom("EA");
    v1::ShipStockResponse resp;
    const grpc::Status s = stub->ShipStock(
        BearerContext("tok-operator", kCallDeadline).get(), req, &resp);
    EXPECT_FALSE(s.ok()) << "the paused writer acknowledged a shipment after "
                            "another replica took over";
  }
  // It stops itself (its producers are fenced for good).
  paused.process->Wait(absl::Seconds(30));
  EXPECT_FALSE(paused.process->running())
      << "the old writer did not stop after losing the writer role";
  absl::SleepFor(absl::Seconds(2));
  stop = true;
  for (std::thread& t : commands) t.join();

  const std::vector<int64_t> shipped = CheckLogs();
  eventlog::KafkaOptions k;
  k.bootstrap_servers = bootstrap_;
  k.read_only = true;
  auto log = eventlog::KafkaEventLog::Create(k);
  ASSERT_TRUE(log.ok()) << log.status();
  auto summary = faults::SummarizeTopic(
      **log, absl::StrCat(prefix_, "lotledger.inventory.v1"));
  ASSERT_TRUE(summary.ok()) << summary.status();
  for (const std::string& id : probes) {
    EXPECT_FALSE(summary->by_request_id.contains(id))
        << "a command sent to the old writer after the takeover was written";
  }
  // The stopped replica, started again, is a standby that agrees.
  ASSERT_TRUE(paused.Start());
  ASSERT_NO_FATAL_FAILURE(CheckReplicasAgree(shipped));
}

TEST_F(StandbyWriterTest, LotctlFollowsAStandbyToTheWriter) {
  const int writer = AwaitWriter("inventory");
  ASSERT_GE(writer, 0);
  const Replica& standby = replicas_["inventory"][1 - writer];
  // The standby learns the writer's address from the lease topic, shortly
  // after the writer took over: wait until its refusals name it.
  std::string named;
  for (const absl::Time give_up = absl::Now() + kWriterBound;
       named.empty() && absl::Now() < give_up;) {
    v1::CreateLocationRequest probe;
    probe.set_request_id(NewRequestId());
    probe.set_location_id("PROBE");
    v1::CreateLocationResponse resp;
    auto ctx = BearerContext("tok-admin", kCallDeadline);
    const grpc::Status s = v1::InventoryService::NewStub(
                               clients_["inventory"]->channel(1 - writer))
                               ->CreateLocation(ctx.get(), probe, &resp);
    ASSERT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE)
        << "the standby took a command: " << s.error_message();
    const auto& md = ctx->GetServerTrailingMetadata();
    if (auto it = md.find("lotledger-writer"); it != md.end()) {
      named = std::string(it->second.data(), it->second.size());
    } else {
      absl::SleepFor(absl::Milliseconds(100));
    }
  }
  ASSERT_EQ(named, replicas_["inventory"][writer].process->target());
  std::ostringstream out, err;
  const int code = lotctl::RunLotctl(
      {"--server=" + standby.process->target(), "--token=tok-admin",
       "--insecure", "inventory", "location-create", "FOLLOW-1",
       "--name=Followed site", "--kind=site"},
      out, err);
  EXPECT_EQ(code, 0) << err.str();
  EXPECT_NE(err.str().find(standby.process->target() +
                           " is a standby; running the command again at the "
                           "writer, " +
                           replicas_["inventory"][writer].process->target()),
            std::string::npos)
      << err.str();
  EXPECT_NE(out.str().find("FOLLOW-1"), std::string::npos) << out.str();
  // Created once, and every replica knows it.
  for (size_t i = 0; i < clients_["inventory"]->size(); ++i) {
    v1::ListLocationsRequest req;
    v1::ListLocationsResponse resp;
    const grpc::Status s =
        v1::InventoryService::NewStub(clients_["inventory"]->channel(i))
            ->ListLocations(BearerContext("tok-auditor", kCallDeadline).get(),
                            req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    int found = 0;
    for (const v1::Location& l : resp.locations()) {
      if (l.location_id() == "FOLLOW-1") ++found;
    }
    EXPECT_EQ(found, 1) << clients_["inventory"]->target(i);
  }
}

}  // namespace
}  // namespace lotledger::testing
