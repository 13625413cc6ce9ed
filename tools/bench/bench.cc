// lotledger_bench: the project's benchmarks. Each scenario prints one JSON
// line per figure on stdout (see stats.h) and a readable line on stderr.
//
//   lotledger_bench --scenario=log_append [--backend=embedded|kafka]
//     [--appenders=N] [--seconds=S]
//   lotledger_bench --scenario=log_tail [--backend=...] [--records=N]
//   lotledger_bench --scenario=lots_create [--backend=...] [--clients=N]
//     [--seconds=S]
//   lotledger_bench --scenario=lots_trace [--lots=N] [--samples=N]
//     [--serials=N] (serials per finished lot, default 10; 0: no serial
//     trace)
//   lotledger_bench --scenario=grpc_noop [--clients=N] [--seconds=S]
//   lotledger_bench --scenario=ship|fefo|replica_reads  (see
//   inventory_scenarios.h)
//   lotledger_bench --scenario=limits      (see limits.h)
//   lotledger_bench --scenario=gen|replay|growth  (see gen_scenarios.h)
//
// --limits=FILE (the output of --scenario=limits): throughput figures also
// print their ratio to the machine's limit (harness.h, Report).
// --verify-projection=quick|full|off: the check of each projection at a
// host's start (default quick, as the manifests; full hashes every
// projection at each stop and start).
// --channels=N: client connections the client threads share (default 1).
// --dir=PATH holds the data (default build/bench-data; it must be on a real
// disk for fsync figures to mean anything). --kafka=HOST:PORT (or
// $LOTLEDGER_TEST_KAFKA) is the broker for --backend=kafka.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "libs/command/command_runner.h"
#include "libs/command/projector.h"
#include "libs/common/ids.h"
#include "libs/common/status_macros.h"
#include "libs/common/topics.h"
#include "libs/eventlog/embedded/embedded_event_log.h"
#include "libs/eventlog/kafka/kafka_event_log.h"
#include "libs/projection/projection_store.h"
#include "lotledger/v1/lots.grpc.pb.h"
#include "services/host/host.h"
#include "services/lots/genealogy_index.h"
#include "services/lots/lots_projection.h"
#include "tools/bench/audit_scenarios.h"
#include "tools/bench/gen_scenarios.h"
#include "tools/bench/genealogy.h"
#include "tools/bench/harness.h"
#include "tools/bench/inventory_scenarios.h"
#include "tools/bench/limits.h"
#include "tools/bench/recall_scenarios.h"
#include "tools/bench/stats.h"

namespace lotledger::bench {
namespace {

std::unique_ptr<eventlog::EventLog> OpenLog(const Args& a,
                                            const std::string& dir) {
  absl::StatusOr<std::unique_ptr<eventlog::EventLog>> log;
  if (a.Get("backend", "embedded") == "kafka") {
    eventlog::KafkaOptions k;
    k.bootstrap_servers = KafkaBootstrap(a);
    k.transactional_id = "bench-" + NewUuidV7(absl::Now());
    log = eventlog::KafkaEventLog::Create(k);
  } else {
    std::filesystem::remove_all(dir);
    log = eventlog::OpenEmbeddedEventLog({.path = dir});
  }
  if (!log.ok()) Die(log.status());
  return std::move(*log);
}

// A record the size of a typical sealed LotCreated (~300 bytes).
std::string Payload(size_t bytes, absl::Time sent) {
  std::string v = absl::StrCat(absl::ToUnixNanos(sent), ":");
  v.resize(std::max(v.size(), bytes), 'x');
  return v;
}

void LogAppend(const Args& a) {
  const std::string backend = a.Get("backend", "embedded");
  const std::string dir = a.Get("dir", "build/bench-data") + "/log_append";
  auto log = OpenLog(a, dir);
  const std::string topic = "bench.append." + NewUuidV7(absl::Now());
  if (auto s = log->EnsureTopic(topic, 3); !s.ok()) Die(s);
  const int appenders = static_cast<int>(a.Int("appenders", 1));
  const absl::Duration run = absl::Seconds(a.Int("seconds", 5));
  const size_t bytes = static_cast<size_t>(a.Int("record-bytes", 300));
  std::vector<Samples> samples(appenders);
  std::atomic<bool> failed{false};
  const absl::Time start = absl::Now();
  std::vector<std::thread> threads;
  for (int t = 0; t < appenders; ++t) {
    threads.emplace_back([&, t] {
      int i = 0;
      while (absl::Now() - start < run) {
        const absl::Time t0 = absl::Now();
        auto pos = log->Append(topic, {{absl::StrCat("lot-", t, "-", i++ % 100),
                                        Payload(bytes, t0),
                                        {}}});
        if (!pos.ok()) {
          failed = true;
          return;
        }
        samples[t].Add(absl::Now() - t0);
      }
    });
  }
  for (auto& th : threads) th.join();
  if (failed) Die(absl::InternalError("an append failed"));
  Samples all;
  for (auto& s : samples) all.Merge(s);
  Report(Summarize("log_append", backend, appenders, all, absl::Now() - start,
                   absl::StrCat(bytes, "-byte records, durable")));
}

void LogTail(const Args& a) {
  const std::string backend = a.Get("backend", "embedded");
  const std::string dir = a.Get("dir", "build/bench-data") + "/log_tail";
  auto log = OpenLog(a, dir);
  const std::string topic = "bench.tail." + NewUuidV7(absl::Now());
  if (auto s = log->EnsureTopic(topic, 1); !s.ok()) Die(s);
  const int64_t records = a.Int("records", 2000);
  auto reader = log->OpenReader({{{topic, 0}, 0}});
  if (!reader.ok()) Die(reader.status());
  Samples samples;
  std::thread consumer([&] {
    int64_t seen = 0;
    while (seen < records) {
      auto r = (*reader)->Poll(100, absl::Seconds(5));
      if (!r.ok()) Die(r.status());
      const absl::Time now = absl::Now();
      for (const auto& rec : r->records) {
        int64_t sent_ns = 0;
        absl::SimpleAtoi(rec.value.substr(0, rec.value.find(':')), &sent_ns);
        samples.Add(now - absl::FromUnixNanos(sent_ns));
        ++seen;
      }
    }
  });
  const absl::Time start = absl::Now();
  for (int64_t i = 0; i < records; ++i) {
    // Paced, so latency is measured on an idle tail, not under a backlog.
    absl::SleepFor(absl::Milliseconds(1));
    auto pos = log->Append(topic, {{"lot", Payload(300, absl::Now()), {}}});
    if (!pos.ok()) Die(pos.status());
  }
  consumer.join();
  Report(Summarize("log_tail", backend, 1, samples, absl::Now() - start,
                   "append start -> reader sees it"));
}

void LotsCreate(const Args& a) {
  const std::string backend = a.Get("backend", "embedded");
  auto host =
      StartHost(a, a.Get("dir", "build/bench-data") + "/lots_create", true);
  const int clients = static_cast<int>(a.Int("clients", 32));
  const absl::Duration run = absl::Seconds(a.Int("seconds", 10));
  {
    auto stub = v1::LotsService::NewStub(Channel(host->target(), -1));
    v1::DefineProductRequest req;
    req.set_request_id(NewUuidV7(absl::Now()));
    auto* p = req.mutable_product();
    p->set_item("09506000134352");
    p->set_name("bench device");
    p->set_uom("EA");
    p->set_kind(v1::ITEM_KIND_FINISHED_DEVICE);
    p->mutable_policy()->set_shelf_life_days(730);
    v1::DefineProductResponse resp;
    grpc::Status s = stub->DefineProduct(Ctx().get(), req, &resp);
    if (!s.ok()) Die(absl::InternalError(s.error_message()));
  }
  std::vector<Samples> samples(clients);
  std::atomic<int64_t> errors{0};
  const absl::Time start = absl::Now();
  std::vector<std::thread> threads;
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&, t] {
      auto stub = v1::LotsService::NewStub(Channel(host->target(), t));
      for (int i = 0; absl::Now() - start < run; ++i) {
        v1::CreateLotRequest req;
        req.set_request_id(NewUuidV7(absl::Now()));
        req.set_item("09506000134352");
        req.set_lot_number(absl::StrCat("B", t, "-", i));
        req.mutable_manufactured_on()->set_year(2026);
        req.mutable_manufactured_on()->set_month(5);
        req.mutable_manufactured_on()->set_day(4);
        req.mutable_quantity()->set_amount(100);
        req.mutable_quantity()->set_uom("EA");
        v1::CreateLotResponse resp;
        const absl::Time t0 = absl::Now();
        grpc::Status s = stub->CreateLot(Ctx().get(), req, &resp);
        if (!s.ok()) {
          if (errors++ == 0)
            std::fprintf(stderr, "error: %s\n", s.error_message().c_str());
          continue;
        }
        samples[t].Add(absl::Now() - t0);
      }
    });
  }
  for (auto& th : threads) th.join();
  Samples all;
  for (auto& s : samples) all.Merge(s);
  Report(Summarize(
      "lots_create", backend, clients, all, absl::Now() - start,
      absl::StrCat("gRPC CreateLot, durable; errors ", errors.load())));
}

// The physical limit of the two commands above: a unary gRPC call that
// does nothing (the health check), same server, same clients.
void GrpcNoop(const Args& a) {
  Report(GrpcNoopRun(a, a.Get("dir", "build/bench-data") + "/grpc_noop",
                     "grpc_noop", static_cast<int>(a.Int("clients", 32)),
                     absl::Seconds(a.Int("seconds", 10))));
}

void LotsTrace(const Args& a) {
  const std::string dir = a.Get("dir", "build/bench-data") + "/lots_trace";
  const int64_t lots = a.Int("lots", 1000000);
  const int samples_n = static_cast<int>(a.Int("samples", 20000));
  Genealogy g;
  {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    auto log =
        eventlog::OpenEmbeddedEventLog({.path = dir + "/log", .sync = false});
    if (!log.ok()) Die(log.status());
    if (auto s = (*log)->EnsureTopic(topics::kLots, 3); !s.ok()) Die(s);
    const absl::Time t0 = absl::Now();
    auto written = WriteGenealogy(**log, topics::kLots, lots, 42,
                                  static_cast<int>(a.Int("serials", 10)));
    if (!written.ok()) Die(written.status());
    g = std::move(*written);
    std::fprintf(stderr, "generated %llu events in %.1f s\n",
                 static_cast<unsigned long long>(g.events),
                 absl::ToDoubleSeconds(absl::Now() - t0));
  }
  // Replay: the lots projector folds the whole genealogy.
  const absl::Time replay_start = absl::Now();
  auto host = StartHost(a, dir, false);
  auto stub = v1::LotsService::NewStub(Channel(host->target(), 0));
  {
    // Wait until the projection applied every generated record: the
    // consistency token of the log's end offsets.
    v1::GetLotRequest req;
    req.set_lot_id(g.lot_ids.back().back());
    *req.mutable_after() = command::ToToken(g.end);
    v1::GetLotResponse resp;
    grpc::Status s;
    do {  // the server bounds one wait; keep asking until it has caught up
      s = stub->GetLot(Ctx().get(), req, &resp);
    } while (s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED);
    if (!s.ok()) Die(absl::InternalError(s.error_message()));
  }
  const absl::Duration replay = absl::Now() - replay_start;
  // A freshly replayed projection is still being compacted; measure the
  // steady state a running service is in (--settle-seconds=0 to skip).
  absl::SleepFor(absl::Seconds(a.Int("settle-seconds", 0)));
  Result r;
  r.scenario = "lots_replay";
  r.backend = "embedded";
  r.operations = g.events;
  r.seconds = absl::ToDoubleSeconds(replay);
  r.note = "projector replay of the generated genealogy, incl. start-up";
  Report(r);

  std::mt19937_64 rng(7);
  for (auto dir_kind :
       {v1::TRACE_DIRECTION_BACKWARD, v1::TRACE_DIRECTION_FORWARD}) {
    const bool backward = dir_kind == v1::TRACE_DIRECTION_BACKWARD;
    const auto& pool = backward ? g.lot_ids.back() : g.lot_ids.front();
    std::uniform_int_distribution<size_t> pick(0, pool.size() - 1);
    Samples s;
    uint64_t nodes = 0;
    const absl::Time start = absl::Now();
    for (int i = 0; i < samples_n; ++i) {
      v1::TraceRequest req;
      req.set_lot_id(pool[pick(rng)]);
      req.set_direction(dir_kind);
      req.set_max_depth(5);
      v1::TraceResponse resp;
      const absl::Time t0 = absl::Now();
      grpc::Status st = stub->Trace(Ctx().get(), req, &resp);
      s.Add(absl::Now() - t0);
      if (!st.ok()) Die(absl::InternalError(st.error_message()));
      nodes += resp.nodes_size();
    }
    Report(Summarize(backward ? "trace_backward" : "trace_forward", "embedded",
                     1, s, absl::Now() - start,
                     absl::StrCat(lots, " lots, 5 levels, mean ",
                                  nodes / std::max(1, samples_n), " nodes")));
  }
  // One unit of the finished device by its serial (issue 19: within 1.2x
  // of the lot trace backward above): the same walk from the serial's lot.
  if (const int serials = static_cast<int>(a.Int("serials", 10)); serials > 0) {
    const auto& pool = g.lot_ids.back();
    std::uniform_int_distribution<int64_t> pick(
        0, static_cast<int64_t>(pool.size()) - 1);
    std::uniform_int_distribution<int> unit(1, serials);
    Samples s;
    uint64_t nodes = 0;
    const absl::Time start = absl::Now();
    for (int i = 0; i < samples_n; ++i) {
      const int64_t lot = pick(rng);
      v1::TraceRequest req;
      req.set_item(DeviceItem());
      req.set_serial(DeviceSerial(lot, unit(rng)));
      req.set_direction(v1::TRACE_DIRECTION_BACKWARD);
      req.set_max_depth(5);
      v1::TraceResponse resp;
      const absl::Time t0 = absl::Now();
      grpc::Status st = stub->Trace(Ctx().get(), req, &resp);
      s.Add(absl::Now() - t0);
      if (!st.ok()) Die(absl::InternalError(st.error_message()));
      if (resp.nodes_size() == 0 || resp.nodes(0).lot_id() != pool[lot]) {
        Die(absl::InternalError(absl::StrCat("trace of serial ", req.serial(),
                                             " did not start at ", pool[lot])));
      }
      nodes += resp.nodes_size();
    }
    Report(Summarize(
        "trace_backward_serial", "embedded", 1, s, absl::Now() - start,
        absl::StrCat(lots, " lots, 5 levels, ", serials,
                     " serials per device lot, by item and serial, mean ",
                     nodes / std::max(1, samples_n), " nodes")));
  }

  // The in-memory genealogy the traces read (services/lots/
  // genealogy_index.h): loaded from the projection as a restart loads it,
  // once the host has closed it; its size.
  host.reset();
  auto store = projection::ProjectionStore::Open(
      {.path = dir + "/projections/lots",
       .column_families =
           command::ProjectorColumnFamilies(lots::LotsColumnFamilies())});
  if (!store.ok()) Die(store.status());
  lots::GenealogyIndex index;
  const absl::Time load_start = absl::Now();
  if (absl::Status s = index.Load(**store); !s.ok()) Die(s);
  const absl::Duration load = absl::Now() - load_start;
  const lots::GenealogyIndex::Stats stats = index.stats();
  Result li;
  li.scenario = "genealogy_index_load";
  li.backend = "embedded";
  li.operations = stats.lots;
  li.seconds = absl::ToDoubleSeconds(load);
  li.note = absl::StrFormat(
      "lots' genealogy loaded from the projection: %d lots, %d input lines, "
      "%d forward edges, %.1f MiB, %.0f bytes per lot",
      stats.lots, stats.backward_edges, stats.forward_edges,
      stats.bytes / 1048576.0,
      stats.bytes / std::max<double>(1, static_cast<double>(stats.lots)));
  li.extra = absl::StrFormat("\"index_bytes\":%d", stats.bytes);
  Report(li);

  // The same traces answered by the index in this process, without gRPC
  // and the read barrier: the service side of the figures above.
  for (const bool backward : {true, false}) {
    const auto& pool = backward ? g.lot_ids.back() : g.lot_ids.front();
    std::uniform_int_distribution<size_t> pick(0, pool.size() - 1);
    Samples s;
    const absl::Time start = absl::Now();
    for (int i = 0; i < samples_n; ++i) {
      const std::string& lot = pool[pick(rng)];
      const absl::Time t0 = absl::Now();
      absl::StatusOr<v1::TraceResponse> resp = index.Trace(lot, backward, 5);
      s.Add(absl::Now() - t0);
      if (!resp.ok()) Die(resp.status());
    }
    Report(Summarize(
        backward ? "trace_backward_index" : "trace_forward_index", "embedded",
        1, s, absl::Now() - start,
        absl::StrCat(lots,
                     " lots, 5 levels, GenealogyIndex::Trace in process "
                     "(no gRPC, no read barrier)")));
  }
}

}  // namespace
}  // namespace lotledger::bench

int main(int argc, char** argv) {
  lotledger::bench::Args a;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    const size_t eq = arg.find('=');
    if (!arg.starts_with("--") || eq == std::string::npos) {
      std::fprintf(
          stderr, "usage: lotledger_bench --scenario=NAME [--key=value ...]\n");
      return 2;
    }
    a.kv[arg.substr(2, eq - 2)] = arg.substr(eq + 1);
  }
  const std::string scenario = a.Get("scenario", "");
  lotledger::bench::g_channels =
      static_cast<int>(std::max<int64_t>(1, a.Int("channels", 1)));
  using namespace lotledger::bench;
  if (!a.Get("limits", "").empty()) LoadLimits(a.Get("limits", ""));
  if (scenario == "limits")
    LimitsScenario(a);
  else if (scenario == "gen")
    GenScenario(a);
  else if (scenario == "replay")
    ReplayScenario(a, argv[0]);
  else if (scenario == "replay_one")
    ReplayOneScenario(a);
  else if (scenario == "growth")
    GrowthScenario(a);
  else if (scenario == "commands")
    CommandsScenario(a);
  else if (scenario == "log_append")
    LogAppend(a);
  else if (scenario == "log_tail")
    LogTail(a);
  else if (scenario == "lots_create")
    LotsCreate(a);
  else if (scenario == "lots_trace")
    LotsTrace(a);
  else if (scenario == "grpc_noop")
    GrpcNoop(a);
  else if (scenario == "ship")
    ShipScenario(a);
  else if (scenario == "replica_reads")
    ReplicaReadsScenario(a);
  else if (scenario == "fefo")
    FefoScenario(a);
  else if (scenario == "recall_drill")
    RecallDrillScenario(a);
  else if (scenario == "audit")
    AuditScenario(a);
  else {
    std::fprintf(
        stderr,
        "unknown --scenario=%s (limits, gen, replay, growth, "
        "log_append, log_tail, "
        "lots_create, lots_trace, grpc_noop, ship, replica_reads, fefo, "
        "recall_drill, audit)\n",
        scenario.c_str());
    return 2;
  }
  return 0;
}
