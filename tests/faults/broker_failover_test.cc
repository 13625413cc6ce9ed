// Broker failover (issue 23): production Kafka has three brokers, and a
// broker dies now and then. Here:
//   - a 3-node KRaft cluster of the test's own (tools/kafka/start-cluster),
//     lotledger topics with replication factor 3 and min.insync.replicas 2;
//   - lots-service, quality-service and inventory-service, each its own
//     process, on that cluster;
//   - kClients client threads ship 1 EA per request with a 5 s deadline
//     and, on UNAVAILABLE or DEADLINE_EXCEEDED, send the SAME request
//     (same request id) again until it is acknowledged (at most
//     kRequestBound per request);
//   - meanwhile the node leading most inventory partitions is killed with
//     SIGKILL, LOTLEDGER_FAULT_ITERATIONS times (3), each time once the
//     cluster is fully replicated again and kKillEvery after the previous
//     kill, and started again kDownFor after the kill.
// What users rely on, asserted afterwards:
//   - every request was acknowledged within its bound;
//   - every acknowledged shipment is in the inventory log exactly once (0
//     lost, 0 doubled), and no request was written twice;
//   - every hash chain of every topic verifies (audit::VerifyLog, as
//     `lotctl audit verify` does), so no seq was written twice;
//   - the inventory projection counts each written shipment once;
//   - every service still answers commands (a write each) at the end.
// Printed for the report, not asserted (timing belongs in tools/bench):
// per kill the node, the partitions it led, the cluster's own leader
// election time (kill -> metadata shows another leader for each of them),
// the longest client wait and the first acknowledgement after the kill;
// the longest stretch without any acknowledgement; totals of retries and
// outcomes. The service logs stay in the test's temp dir.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "libs/audit/log_verify.h"
#include "libs/eventlog/kafka/kafka_event_log.h"
#include "lotledger/v1/inventory.grpc.pb.h"
#include "lotledger/v1/lots.grpc.pb.h"
#include "lotledger/v1/quality.grpc.pb.h"
#include "tests/faults/log_check.h"
#include "tests/faults/own_cluster.h"
#include "tests/support/service_cluster.h"
#include "tests/support/stack.h"
#include "tests/support/tokens.h"

#if !defined(LOTS_SERVICE_PATH) || !defined(QUALITY_SERVICE_PATH) || \
    !defined(INVENTORY_SERVICE_PATH)
#error "the service binaries' paths must be defined (CMakeLists.txt)"
#endif

namespace lotledger::testing {
namespace {

using faults::ClusterMetadata;
using faults::MetadataSnapshot;
using faults::OwnCluster;

constexpr char kDevice[] = "09506000134352";
constexpr char kBin[] = "WH1-B1";
constexpr int kLots = 3;
constexpr int64_t kStockPerLot = 50000;
constexpr int kClients = 6;
// Bounds the load: a pause between a client's requests, and a cap.
constexpr absl::Duration kPacing = absl::Milliseconds(100);
constexpr int kMaxPerClient = 3000;
constexpr absl::Duration kCallDeadline = absl::Seconds(5);
constexpr absl::Duration kRetryPause = absl::Milliseconds(250);
constexpr absl::Duration kRequestBound = absl::Seconds(90);
constexpr absl::Duration kLoadBeforeFirstKill = absl::Seconds(10);
constexpr absl::Duration kKillEvery = absl::Seconds(25);
constexpr absl::Duration kDownFor = absl::Seconds(10);
constexpr absl::Duration kLoadAfterLastHeal = absl::Seconds(10);
constexpr absl::Duration kHealBound = absl::Minutes(2);
constexpr absl::Duration kElectionBound = absl::Minutes(1);

int Kills() {
  const char* env = std::getenv("LOTLEDGER_FAULT_ITERATIONS");
  return env != nullptr && std::atoi(env) > 0 ? std::atoi(env) : 3;
}

std::string LotId(int i) { return absl::StrCat(kDevice, ":F", i); }

double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

bool Retryable(const grpc::Status& s) {
  return s.error_code() == grpc::StatusCode::UNAVAILABLE ||
         s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
}

// Sends `call` (one attempt per invocation, the same request each time)
// until it is answered with anything but UNAVAILABLE/DEADLINE_EXCEEDED or
// `bound` has passed, as a client does after an unknown outcome.
template <typename Call>
grpc::Status UntilAnswered(Call call, absl::Duration bound,
                           int* attempts = nullptr) {
  const absl::Time give_up = absl::Now() + bound;
  grpc::Status s;
  for (int n = 1;; ++n) {
    s = call();
    if (attempts != nullptr) *attempts = n;
    if (!Retryable(s) || absl::Now() + kRetryPause >= give_up) return s;
    absl::SleepFor(kRetryPause);
  }
}

// One shipment request and what its client saw.
struct Shipment {
  v1::ShipStockRequest request;
  int lot = 0;
  absl::Time first_sent;
  absl::Time done;
  int attempts = 0;
  // Attempts answered UNAVAILABLE and DEADLINE_EXCEEDED (sent again).
  int unavailable = 0;
  int deadline_exceeded = 0;
  bool acked = false;
  grpc::Status last;  // the final answer
};

// One kill of the killer thread.
struct KillRecord {
  int node = 0;
  std::vector<int32_t> led;  // inventory partitions the node led
  absl::Time killed;
  // Until metadata showed another leader for every partition in `led`;
  // infinite when that never happened within kElectionBound.
  absl::Duration election = absl::InfiniteDuration();
  bool restarted = false;
};

// The three services on the cluster, each its own process.
class Services {
 public:
  Services(const std::string& root, const std::string& bootstrap)
      : root_(root), bootstrap_(bootstrap) {
    const std::string id = NewRequestId();
    prefix_ = absl::StrCat("failover", id.substr(0, 8), id.substr(24), ".");
    tokens_ = root_ + "/tokens";
    std::ofstream(tokens_) << "tok-admin admin admin\n"
                              "tok-operator operator operator\n"
                              "tok-qa qa.approver qa_inspector,qa_approver\n"
                              "tok-auditor auditor auditor\n";
  }

  // Starts lots, quality and inventory (in that order, each serving
  // before the next starts). False, with test failures, otherwise.
  bool Start() {
    for (auto [name, binary, health] :
         {std::tuple{"lots", LOTS_SERVICE_PATH, "lotledger.v1.LotsService"},
          std::tuple{"quality", QUALITY_SERVICE_PATH,
                     "lotledger.v1.QualityService"},
          std::tuple{"inventory", INVENTORY_SERVICE_PATH,
                     "lotledger.v1.InventoryService"}}) {
      auto p = std::make_unique<ServiceProcess>(
          binary,
          std::vector<std::string>{
              "--listen=127.0.0.1:0", "--metrics-listen=127.0.0.1:0",
              "--health-listen=127.0.0.1:0", "--log=kafka",
              "--kafka-bootstrap=" + bootstrap_, "--kafka-replication-factor=3",
              "--kafka-min-insync-replicas=2", "--topic-prefix=" + prefix_,
              absl::StrCat("--writer-id=", prefix_, name),
              absl::StrCat("--data-dir=", root_, "/", name),
              "--dev-tokens=" + tokens_, "--insecure-dev=true",
              "--partitions=3", "--shutdown-grace-seconds=5"},
          absl::StrCat(root_, "/", name, ".log"));
      if (!p->AwaitServing() ||
          !AwaitHealthServing(p->target(), health, p.get())) {
        return false;
      }
      channels_[name] =
          grpc::CreateChannel(p->target(), grpc::InsecureChannelCredentials());
      processes_[name] = std::move(p);
    }
    return true;
  }

  std::shared_ptr<grpc::Channel> channel(const std::string& name) {
    return channels_.at(name);
  }
  ServiceProcess& process(const std::string& name) {
    return *processes_.at(name);
  }
  const std::string& prefix() const { return prefix_; }

  // Each process's last lines, for a failed test.
  std::string Tails() const {
    std::string out;
    for (const auto& [name, p] : processes_) {
      absl::StrAppend(&out, "---- ", p->log_path(), "\n", p->LogTail(30));
    }
    return out;
  }

 private:
  std::string root_;
  std::string bootstrap_;
  std::string prefix_;
  std::string tokens_;
  std::map<std::string, std::unique_ptr<ServiceProcess>> processes_;
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_;
};

class BrokerFailoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = ::testing::TempDir() + "/broker-failover-" + NewRequestId();
    std::filesystem::create_directories(root_);
    cluster_ = std::make_unique<OwnCluster>(root_ + "/kafka");
    ASSERT_FALSE(cluster_->Start().empty());
    std::printf("failover: cluster %s, run dir %s\n",
                cluster_->bootstrap().c_str(), cluster_->run_dir().c_str());
    auto md = ClusterMetadata::Connect(cluster_->bootstrap());
    ASSERT_TRUE(md.ok()) << md.status();
    metadata_ = *std::move(md);
    services_ = std::make_unique<Services>(root_, cluster_->bootstrap());
    ASSERT_TRUE(services_->Start());
    inventory_topic_ = services_->prefix() + "lotledger.inventory.v1";
  }

  void TearDown() override {
    if (HasFailure() && services_ != nullptr) {
      std::printf("failover: service logs (tails):\n%s\n",
                  services_->Tails().c_str());
    }
    // Services before the cluster: they would only log its absence.
    services_.reset();
    metadata_.reset();
    cluster_.reset();
    // The services' data, kept for a failed test; their logs and the
    // scripts' are always kept (the node logs only for a failed test).
    if (!HasFailure()) {
      for (const char* data : {"lots", "quality", "inventory"}) {
        std::filesystem::remove_all(root_ + "/" + data);
      }
    }
  }

  // Product, kLots released lots, a bin, kStockPerLot of each lot in it.
  void SetUpStock() {
    auto lots = v1::LotsService::NewStub(services_->channel("lots"));
    auto quality = v1::QualityService::NewStub(services_->channel("quality"));
    auto inventory =
        v1::InventoryService::NewStub(services_->channel("inventory"));
    const absl::Duration d = absl::Seconds(30);
    v1::DefineProductRequest def;
    def.set_request_id(NewRequestId());
    def.mutable_product()->set_item(kDevice);
    def.mutable_product()->set_name("catheter");
    def.mutable_product()->set_uom("EA");
    def.mutable_product()->set_kind(v1::ITEM_KIND_FINISHED_DEVICE);
    def.mutable_product()->mutable_policy()->set_shelf_life_days(730);
    v1::DefineProductResponse defined;
    grpc::Status s =
        lots->DefineProduct(BearerContext("tok-admin", d).get(), def, &defined);
    ASSERT_TRUE(s.ok()) << s.error_message();
    tokens_.Add(defined.token());
    for (int i = 0; i < kLots; ++i) {
      v1::CreateLotRequest req = LotRequest(absl::StrCat("F", i));
      v1::CreateLotResponse created;
      s = lots->CreateLot(BearerContext("tok-operator", d).get(), req,
                          &created);
      ASSERT_TRUE(s.ok()) << s.error_message();
      tokens_.Add(created.token());
    }
    for (int i = 0; i < kLots; ++i) {
      ASSERT_NO_FATAL_FAILURE(Release(*quality, LotId(i)));
    }
    for (const v1::CreateLocationRequest& req : LocationTree({kBin})) {
      v1::CreateLocationResponse created;
      s = inventory->CreateLocation(BearerContext("tok-admin", d).get(), req,
                                    &created);
      ASSERT_TRUE(s.ok()) << req.location_id() << ": " << s.error_message();
      tokens_.Add(created.token());
    }
    for (int i = 0; i < kLots; ++i) {
      v1::ReceiveStockRequest req;
      req.set_request_id(NewRequestId());
      req.set_lot_id(LotId(i));
      req.set_location_id(kBin);
      req.mutable_quantity()->set_amount(kStockPerLot);
      req.set_source(v1::RECEIPT_SOURCE_PRODUCTION);
      *req.mutable_after() = tokens_.Get();
      v1::ReceiveStockResponse received;
      s = inventory->ReceiveStock(BearerContext("tok-operator", d).get(), req,
                                  &received);
      ASSERT_TRUE(s.ok()) << s.error_message();
      tokens_.Add(received.token());
    }
  }

  v1::CreateLotRequest LotRequest(const std::string& lot_number) {
    v1::CreateLotRequest req;
    req.set_request_id(NewRequestId());
    req.set_item(kDevice);
    req.set_lot_number(lot_number);
    const absl::CivilDay made =
        absl::ToCivilDay(absl::Now(), absl::UTCTimeZone()) - 30;
    req.mutable_manufactured_on()->set_year(static_cast<int32_t>(made.year()));
    req.mutable_manufactured_on()->set_month(made.month());
    req.mutable_manufactured_on()->set_day(made.day());
    req.mutable_quantity()->set_amount(kStockPerLot);
    req.mutable_quantity()->set_uom("EA");
    return req;
  }

  // Final inspection and release of `lot_id`.
  void Release(v1::QualityService::Stub& quality, const std::string& lot_id) {
    v1::RecordInspectionRequest ins = FinalInspection(lot_id);
    *ins.mutable_after() = tokens_.Get();
    v1::RecordInspectionResponse inspected;
    grpc::Status s = quality.RecordInspection(
        BearerContext("tok-qa", absl::Seconds(30)).get(), ins, &inspected);
    ASSERT_TRUE(s.ok()) << s.error_message();
    tokens_.Add(inspected.token());
    v1::ChangeDispositionRequest rel;
    rel.set_request_id(NewRequestId());
    rel.set_lot_id(lot_id);
    rel.set_to(v1::DISPOSITION_RELEASED);
    rel.mutable_signature()->set_meaning("approved for release");
    rel.mutable_signature()->set_reason("final inspection passed");
    rel.mutable_signature()->set_credential("tok-qa");
    *rel.mutable_after() = tokens_.Get();
    v1::ChangeDispositionResponse released;
    s = quality.ChangeDisposition(
        BearerContext("tok-qa", absl::Seconds(30)).get(), rel, &released);
    ASSERT_TRUE(s.ok()) << s.error_message();
    tokens_.Add(released.token());
  }

  v1::ShipStockRequest ShipOne(int lot, const v1::ConsistencyToken& after) {
    v1::ShipStockRequest req;
    req.set_request_id(NewRequestId());
    req.mutable_customer()->set_customer_id("H-12");
    req.mutable_customer()->set_name("Klinikum H-12");
    req.mutable_customer()->set_region("DE-South");
    v1::ShipmentLine* line = req.add_lines();
    line->set_lot_id(LotId(lot));
    line->set_location_id(kBin);
    line->mutable_quantity()->set_amount(1);
    line->mutable_quantity()->set_uom("EA");
    *req.mutable_after() = after;
    return req;
  }

  // One client: ships until `stop`, each request until acknowledged (or
  // its bound passed, or a final error).
  void Client(int c, const std::atomic<bool>& stop,
              std::vector<Shipment>& out) {
    auto stub = v1::InventoryService::NewStub(services_->channel("inventory"));
    const v1::ConsistencyToken after = tokens_.Get();
    for (int n = 0; n < kMaxPerClient && !stop.load(); ++n) {
      Shipment sh;
      sh.lot = (c + n) % kLots;
      sh.request = ShipOne(sh.lot, after);
      sh.first_sent = absl::Now();
      v1::ShipStockResponse resp;
      sh.last = UntilAnswered(
          [&] {
            grpc::Status st = stub->ShipStock(
                BearerContext("tok-operator", kCallDeadline).get(), sh.request,
                &resp);
            if (st.error_code() == grpc::StatusCode::UNAVAILABLE) {
              ++sh.unavailable;
            } else if (st.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
              ++sh.deadline_exceeded;
            }
            return st;
          },
          kRequestBound, &sh.attempts);
      sh.done = absl::Now();
      sh.acked = sh.last.ok();
      if (sh.acked) {
        // Acknowledged as the same shipment, however often it was sent.
        EXPECT_EQ(resp.shipment().shipment_id(),
                  "SHP-" + sh.request.request_id());
        tokens_.Add(resp.token());
      }
      out.push_back(std::move(sh));
      absl::SleepFor(kPacing);
    }
  }

  // Polls metadata until `pred` holds for it, at most `bound`; the time
  // it took from `since`, or nullopt.
  template <typename Pred>
  std::optional<absl::Duration> AwaitMetadata(const std::string& topic,
                                              absl::Time since,
                                              absl::Duration bound, Pred pred) {
    const absl::Time give_up = absl::Now() + bound;
    while (absl::Now() < give_up) {
      absl::StatusOr<MetadataSnapshot> md =
          metadata_->Describe(topic, absl::Seconds(2));
      if (md.ok() && pred(*md)) return absl::Now() - since;
      absl::SleepFor(absl::Milliseconds(100));
    }
    return std::nullopt;
  }

  // The killer: Kills() times, once the cluster is fully replicated and
  // kKillEvery after the previous kill, SIGKILL the node leading most
  // inventory partitions; kDownFor later start it again. Returns when the
  // cluster is fully replicated after the last restart (or gave up).
  void Killer(std::vector<KillRecord>& kills) {
    absl::Time next = absl::Now() + kLoadBeforeFirstKill;
    for (int k = 0; k < Kills(); ++k) {
      // All nodes back and every partition's replicas in sync: a kill
      // never takes a partition below min.insync.replicas.
      if (!AwaitMetadata(
              "", absl::Now(), kHealBound, [](const MetadataSnapshot& md) {
                return faults::FullyReplicated(md, OwnCluster::kNodes);
              })) {
        ADD_FAILURE() << "kill " << k + 1
                      << ": the cluster did not get fully replicated within "
                      << kHealBound;
        return;
      }
      absl::SleepFor(next - absl::Now());
      absl::StatusOr<MetadataSnapshot> md =
          metadata_->Describe(inventory_topic_, absl::Seconds(5));
      if (!md.ok()) {
        ADD_FAILURE() << "kill " << k + 1 << ": " << md.status();
        return;
      }
      std::map<int32_t, std::vector<int32_t>> led;  // node -> partitions
      for (const auto& [p, s] : md->topics.at(inventory_topic_)) {
        led[s.leader].push_back(p);
      }
      KillRecord kill;
      for (const auto& [node, partitions] : led) {
        if (node > 0 && partitions.size() > kill.led.size()) {
          kill.node = node;
          kill.led = partitions;
        }
      }
      if (kill.node <= 0) {
        ADD_FAILURE() << "kill " << k + 1 << ": no inventory partition has a "
                      << "leader";
        return;
      }
      kill.killed = absl::Now();
      if (!cluster_->KillNode(kill.node)) return;
      next = kill.killed + kKillEvery;
      const int node = kill.node;
      const std::vector<int32_t> partitions = kill.led;
      std::optional<absl::Duration> elected = AwaitMetadata(
          inventory_topic_, kill.killed, kElectionBound,
          [&](const MetadataSnapshot& snapshot) {
            const auto& state = snapshot.topics.at(inventory_topic_);
            for (int32_t p : partitions) {
              const auto it = state.find(p);
              if (it == state.end() || it->second.leader < 0 ||
                  it->second.leader == node) {
                return false;
              }
            }
            return true;
          });
      if (elected.has_value()) kill.election = *elected;
      absl::SleepFor(kill.killed + kDownFor - absl::Now());
      kill.restarted = cluster_->StartNode(kill.node);
      kills.push_back(kill);
      std::printf(
          "failover: kill %d: node %d (led inventory partitions %s) killed, "
          "new leaders after %.0f ms (-1: never), restarted %s\n",
          k + 1, kill.node, absl::StrJoin(kill.led, ",").c_str(),
          elected.has_value() ? Ms(*elected) : -1.0,
          kill.restarted ? "ok" : "FAILED");
      std::fflush(stdout);
      if (!kill.restarted) return;
    }
    if (!AwaitMetadata("", absl::Now(), kHealBound,
                       [](const MetadataSnapshot& md) {
                         return faults::FullyReplicated(md, OwnCluster::kNodes);
                       })) {
      ADD_FAILURE() << "after the last restart the cluster did not get fully "
                       "replicated within "
                    << kHealBound;
    }
  }

  std::string root_;
  std::unique_ptr<OwnCluster> cluster_;
  std::unique_ptr<ClusterMetadata> metadata_;
  std::unique_ptr<Services> services_;
  std::string inventory_topic_;
  TokenSet tokens_;
};

TEST_F(BrokerFailoverTest, LeaderKilledUnderShipmentsNothingLostOrDoubled) {
  ASSERT_NO_FATAL_FAILURE(SetUpStock());
  {
    absl::StatusOr<MetadataSnapshot> md =
        metadata_->Describe(inventory_topic_, absl::Seconds(10));
    ASSERT_TRUE(md.ok()) << md.status();
    for (const auto& [p, s] : md->topics.at(inventory_topic_)) {
      ASSERT_EQ(s.replicas.size(), 3u)
          << inventory_topic_ << "/" << p << ": replication factor";
    }
  }

  // 1. Load and kills.
  std::atomic<bool> stop{false};
  std::vector<std::vector<Shipment>> per_client(kClients);
  std::vector<KillRecord> kills;
  const absl::Time load_started = absl::Now();
  {
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
      clients.emplace_back([&, c] { Client(c, stop, per_client[c]); });
    }
    Killer(kills);
    absl::SleepFor(kLoadAfterLastHeal);
    stop = true;
    for (std::thread& t : clients) t.join();
  }
  const absl::Time load_ended = absl::Now();
  std::vector<Shipment> all;
  for (auto& list : per_client) {
    for (Shipment& s : list) all.push_back(std::move(s));
  }

  // 2. What the clients saw, per kill: over the requests that finished
  // between the kill and the next one, the longest wait (first send to
  // answer) and the answers they were sent again after.
  int acked = 0, retried = 0, max_attempts = 0;
  std::map<std::string, int> final_errors;  // code: message -> count
  for (const Shipment& s : all) {
    if (s.acked) ++acked;
    if (s.attempts > 1) ++retried;
    max_attempts = std::max(max_attempts, s.attempts);
    if (!s.acked) {
      ++final_errors[absl::StrCat(s.last.error_code(), ": ",
                                  s.last.error_message())];
    }
  }
  std::printf(
      "failover: %zu shipments in %.0f s by %d clients: %d acknowledged, %d "
      "needed a retry (at most %d attempts), %zu not acknowledged\n",
      all.size(), absl::ToDoubleSeconds(load_ended - load_started), kClients,
      acked, retried, max_attempts, all.size() - acked);
  for (size_t k = 0; k < kills.size(); ++k) {
    const absl::Time from = kills[k].killed;
    const absl::Time to =
        k + 1 < kills.size() ? kills[k + 1].killed : absl::InfiniteFuture();
    absl::Duration longest;
    int finished = 0, retried_here = 0, unavailable = 0, deadline = 0;
    for (const Shipment& s : all) {
      if (s.done < from || s.done >= to) continue;
      ++finished;
      if (s.attempts > 1) ++retried_here;
      unavailable += s.unavailable;
      deadline += s.deadline_exceeded;
      longest = std::max(longest, s.done - s.first_sent);
    }
    // The goal: the longest wait within 1.5x the election.
    const std::string election =
        kills[k].election == absl::InfiniteDuration()
            ? std::string("not seen")
            : absl::StrFormat("%d ms (longest wait / election = %.2f)",
                              static_cast<int64_t>(Ms(kills[k].election)),
                              Ms(longest) / Ms(kills[k].election));
    std::printf(
        "failover: kill %zu: node %d, leader election %s, longest client "
        "wait %.0f ms; %d requests finished until the next kill, %d of them "
        "sent again (after %d UNAVAILABLE, %d DEADLINE_EXCEEDED)\n",
        k + 1, kills[k].node, election.c_str(), Ms(longest), finished,
        retried_here, unavailable, deadline);
  }
  // When the service as a whole answered nothing: the first
  // acknowledgement after each kill, and the longest stretch without one.
  {
    std::vector<absl::Time> acks;
    for (const Shipment& s : all) {
      if (s.acked) acks.push_back(s.done);
    }
    std::sort(acks.begin(), acks.end());
    for (size_t k = 0; k < kills.size(); ++k) {
      const auto next =
          std::lower_bound(acks.begin(), acks.end(), kills[k].killed);
      std::printf(
          "failover: kill %zu: first acknowledgement after the kill: %s\n",
          k + 1,
          next == acks.end()
              ? "none"
              : absl::StrCat("+",
                             static_cast<int64_t>(Ms(*next - kills[k].killed)),
                             " ms")
                    .c_str());
    }
    // Also the stretch from the last acknowledgement to the end of the
    // load: a service that stopped answering for good.
    acks.push_back(load_ended);
    absl::Duration gap;
    absl::Time gap_from = load_started;
    absl::Time previous = load_started;
    for (const absl::Time t : acks) {
      if (t - previous > gap) {
        gap = t - previous;
        gap_from = previous;
      }
      previous = t;
    }
    std::printf(
        "failover: longest stretch without any acknowledgement: %.0f ms, "
        "from %.1f s into the load\n",
        Ms(gap), absl::ToDoubleSeconds(gap_from - load_started));
    for (size_t k = 0; k < kills.size(); ++k) {
      std::printf("failover: kill %zu at %.1f s into the load\n", k + 1,
                  absl::ToDoubleSeconds(kills[k].killed - load_started));
    }
  }
  {
    absl::Duration longest;
    for (const Shipment& s : all) {
      if (kills.empty() || s.done < kills.front().killed) {
        longest = std::max(longest, s.done - s.first_sent);
      }
    }
    std::printf(
        "failover: longest client wait before the first kill: %.0f "
        "ms\n",
        Ms(longest));
  }
  std::fflush(stdout);
  EXPECT_EQ(static_cast<int>(kills.size()), Kills()) << "kills done";
  for (const KillRecord& k : kills) {
    EXPECT_TRUE(k.restarted) << "node " << k.node;
  }
  EXPECT_GT(acked, 0);
  EXPECT_EQ(acked, static_cast<int>(all.size()))
      << "requests not acknowledged within " << kRequestBound << ": "
      << ::testing::PrintToString(final_errors);

  // 3. Every service still answers commands.
  {
    auto lots = v1::LotsService::NewStub(services_->channel("lots"));
    v1::CreateLotRequest req = LotRequest("F-END");
    v1::CreateLotResponse created;
    grpc::Status s = UntilAnswered(
        [&] {
          return lots->CreateLot(
              BearerContext("tok-operator", kCallDeadline).get(), req,
              &created);
        },
        kRequestBound);
    EXPECT_TRUE(s.ok()) << "lots: " << s.error_code() << " "
                        << s.error_message();
    tokens_.Add(created.token());
    auto quality = v1::QualityService::NewStub(services_->channel("quality"));
    v1::RecordInspectionRequest ins = FinalInspection(LotId(0));
    *ins.mutable_after() = tokens_.Get();
    v1::RecordInspectionResponse inspected;
    s = UntilAnswered(
        [&] {
          return quality->RecordInspection(
              BearerContext("tok-qa", kCallDeadline).get(), ins, &inspected);
        },
        kRequestBound);
    EXPECT_TRUE(s.ok()) << "quality: " << s.error_code() << " "
                        << s.error_message();
    auto inventory =
        v1::InventoryService::NewStub(services_->channel("inventory"));
    Shipment last;
    last.lot = 0;
    last.request = ShipOne(0, tokens_.Get());
    v1::ShipStockResponse shipped;
    last.last = UntilAnswered(
        [&] {
          return inventory->ShipStock(
              BearerContext("tok-operator", kCallDeadline).get(), last.request,
              &shipped);
        },
        kRequestBound);
    EXPECT_TRUE(last.last.ok()) << "inventory: " << last.last.error_code()
                                << " " << last.last.error_message();
    last.acked = last.last.ok();
    tokens_.Add(shipped.token());
    all.push_back(std::move(last));
  }

  // 4. The log: each acknowledged shipment once, no request twice, every
  // chain intact.
  eventlog::KafkaOptions k;
  k.bootstrap_servers = cluster_->bootstrap();
  auto log = eventlog::KafkaEventLog::Create(k);
  ASSERT_TRUE(log.ok()) << log.status();
  auto summary = faults::SummarizeTopic(**log, inventory_topic_);
  ASSERT_TRUE(summary.ok()) << summary.status();
  int lost = 0, doubled = 0, written_unacked = 0;
  std::vector<int64_t> written_per_lot(kLots);
  std::vector<std::string> examples;
  for (const Shipment& s : all) {
    const auto it = summary->by_request_id.find(s.request.request_id());
    const int n = it == summary->by_request_id.end() ? 0 : it->second;
    if (n > 0) ++written_per_lot[s.lot];
    if (n > 1) {
      ++doubled;
      if (examples.size() < 5) {
        examples.push_back(absl::StrCat(s.request.request_id(), " x", n));
      }
    }
    if (s.acked && n == 0) {
      ++lost;
      if (examples.size() < 5) {
        examples.push_back(absl::StrCat(s.request.request_id(), " lost"));
      }
    }
    if (!s.acked && n > 0) ++written_unacked;
  }
  absl::StatusOr<audit::LogVerification> verified =
      audit::VerifyLog(**log, services_->prefix(), {});
  ASSERT_TRUE(verified.ok()) << verified.status();
  std::printf(
      "failover: inventory log: %llu records; acknowledged shipments lost "
      "%d, doubled %d; written but not acknowledged %d; chain break: %s\n",
      static_cast<unsigned long long>(summary->records), lost, doubled,
      written_unacked,
      summary->chain_break.empty() ? "none" : summary->chain_break.c_str());
  for (const audit::TopicVerification& t : verified->topics) {
    std::printf(
        "failover: verify %s: %llu records, %s\n", t.topic.c_str(),
        static_cast<unsigned long long>(t.records),
        !t.present ? "absent"
        : t.first_break.has_value()
            ? absl::StrCat("BROKEN at ", t.first_break->partition, "/",
                           t.first_break->offset, ": ", t.first_break->what)
                  .c_str()
            : "intact");
  }
  std::fflush(stdout);
  EXPECT_EQ(lost, 0) << absl::StrJoin(examples, ", ");
  EXPECT_EQ(doubled, 0) << absl::StrJoin(examples, ", ");
  EXPECT_EQ(summary->chain_break, "");
  EXPECT_TRUE(verified->ok()) << "a hash chain is broken (see above)";

  // 5. The inventory projection counts each written shipment once.
  auto inventory =
      v1::InventoryService::NewStub(services_->channel("inventory"));
  for (int i = 0; i < kLots; ++i) {
    v1::GetLotInventoryRequest req;
    req.set_lot_id(LotId(i));
    *req.mutable_after() = tokens_.Get();
    v1::GetLotInventoryResponse resp;
    grpc::Status s = inventory->GetLotInventory(
        BearerContext("tok-auditor", absl::Seconds(60)).get(), req, &resp);
    EXPECT_TRUE(s.ok()) << LotId(i) << ": " << s.error_message();
    if (!s.ok()) continue;
    EXPECT_EQ(resp.lot().shipped(), written_per_lot[i]) << LotId(i);
    EXPECT_EQ(resp.lot().on_hand(), kStockPerLot - written_per_lot[i])
        << LotId(i);
  }
}

}  // namespace
}  // namespace lotledger::testing
