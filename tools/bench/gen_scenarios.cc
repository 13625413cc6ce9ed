#include "tools/bench/gen_scenarios.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "libs/audit/log_verify.h"
#include "libs/command/command_runner.h"
#include "libs/command/service_core.h"
#include "libs/common/ids.h"
#include "libs/common/proto_time.h"
#include "libs/eventlog/embedded/embedded_event_log.h"
#include "libs/eventlog/kafka/kafka_event_log.h"
#include "libs/projection/memory_budget.h"
#include "libs/server/process.h"
#include "lotledger/v1/audit.grpc.pb.h"
#include "lotledger/v1/inventory.grpc.pb.h"
#include "lotledger/v1/lots.grpc.pb.h"
#include "lotledger/v1/quality.grpc.pb.h"
#include "lotledger/v1/recall.grpc.pb.h"
#include "services/audit/audit_index.h"
#include "services/inventory/inventory_service.h"
#include "services/lots/lots_service.h"
#include "services/quality/quality_service.h"
#include "services/recall/recall_service.h"
#include "tools/bench/gen.h"

namespace lotledger::bench {
namespace {

// In a gen dir made with --backend=kafka: the topic prefix its events
// were produced under.
constexpr char kKafkaPrefixFile[] = "kafka_topic_prefix";

std::string GenDir(const Args& a, int64_t events) {
  return a.Get("gen-dir",
               absl::StrCat(a.Get("dir", "build/bench-data"), "/gen-", events));
}

// A field of /proc/self/status given in kB ("VmHWM", "RssAnon", ...), in
// MiB; 0 when absent.
double StatusMib(std::string_view field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::string prefix = std::string(field) + ":";
  while (std::getline(in, line)) {
    if (line.starts_with(prefix)) {
      int64_t kb = 0;
      std::vector<std::string> f =
          absl::StrSplit(line.substr(prefix.size()), absl::ByAnyChar(" \t"),
                         absl::SkipEmpty());
      if (!f.empty() && absl::SimpleAtoi(f[0], &kb)) return kb / 1024.0;
    }
  }
  return 0;
}

// Peak resident set of this process.
double PeakRssMib() { return StatusMib("VmHWM"); }

// CPU time (user + system) of this process so far, seconds.
double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec +
         (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Generates `events` into `dir`/log (wiped first) and writes the summary.
GenSummary GenerateInto(const Args& a, const std::string& dir, int64_t events,
                        bool report) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  GenOptions o;
  o.events = events;
  o.seed = static_cast<uint64_t>(a.Int("seed", 1));
  o.partitions = static_cast<int32_t>(a.Int("partitions", 3));
  absl::StatusOr<std::unique_ptr<eventlog::EventLog>> log;
  const bool kafka = a.Get("backend", "embedded") == "kafka";
  if (kafka) {
    eventlog::KafkaOptions k;
    k.bootstrap_servers = KafkaBootstrap(a);
    k.transactional_id = "bench-gen-" + NewUuidV7(absl::Now());
    o.topic_prefix = absl::StrCat("gen", absl::ToUnixSeconds(absl::Now()), ".");
    log = eventlog::KafkaEventLog::Create(k);
  } else {
    // Unsynced: the generator is not what is measured; the log is flushed
    // when it closes.
    log = eventlog::OpenEmbeddedEventLog({.path = dir + "/log", .sync = false});
  }
  if (!log.ok()) Die(log.status());
  const absl::Time t0 = absl::Now();
  absl::StatusOr<GenSummary> s = Generate(**log, o);
  if (!s.ok()) Die(s.status());
  s->requested = static_cast<uint64_t>(events);
  const absl::Duration took = absl::Now() - t0;
  log->reset();
  if (kafka) {
    // Where the events are: read back by replay --backend=kafka.
    std::ofstream(dir + "/" + kKafkaPrefixFile) << o.topic_prefix << "\n";
  }
  if (auto st = SaveSummary(*s, dir + "/summary.txt"); !st.ok()) Die(st);
  if (report) {
    Result r;
    r.scenario = "gen";
    r.backend = kafka ? "kafka" : "embedded";
    r.operations = s->events;
    r.seconds = absl::ToDoubleSeconds(took);
    r.note = absl::StrCat("lots raw/component/finished ", s->lots[0], "/",
                          s->lots[1], "/", s->lots[2], ", shipments ",
                          s->shipments, ", transfers ", s->transfers,
                          ", returns ", s->returns, ", recalls ", s->recalls,
                          kafka ? ", topic prefix " + o.topic_prefix : "");
    Report(r);
  }
  return *std::move(s);
}

// The generated log at `dir`, made when missing (or --regen=1).
GenSummary EnsureGenerated(const Args& a, const std::string& dir,
                           int64_t events) {
  if (a.Get("regen", "0") != "1") {
    // A log of 10^7 asked holds a few more: compared with what was asked
    // (without that, every run regenerated it and rebuilt its projections).
    absl::StatusOr<GenSummary> s = LoadSummary(dir + "/summary.txt");
    // A Kafka run needs to know where the events went.
    const bool found = a.Get("backend", "embedded") != "kafka" ||
                       std::filesystem::exists(dir + "/" + kKafkaPrefixFile);
    if (s.ok() && s->requested == static_cast<uint64_t>(events) && found) {
      return *s;
    }
  }
  return GenerateInto(a, dir, events, true);
}

template <typename Resp, typename Call>
void WaitCaughtUp(Call&& call) {
  grpc::Status s;
  do {  // the server bounds one wait; keep asking until it has caught up
    s = call();
  } while (s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED);
  if (!s.ok()) Die(absl::InternalError(s.error_message()));
}

}  // namespace

void GenScenario(const Args& a) {
  const int64_t events = a.Int("events", 100000);
  const std::string dir = GenDir(a, events);
  GenerateInto(a, dir, events, true);
  if (a.Get("backend", "embedded") == "kafka" || a.Get("check", "0") != "1")
    return;
  // --check=1: the log verifies offline (every hash chain as sealed), and
  // every service hosted on it folds it and answers about a lot.
  {
    auto log = eventlog::OpenEmbeddedEventLog({.path = dir + "/log"});
    if (!log.ok()) Die(log.status());
    absl::StatusOr<audit::LogVerification> v =
        audit::VerifyLog(**log, "", audit::VerifyOptions{});
    if (!v.ok()) Die(v.status());
    if (!v->ok()) Die(absl::DataLossError("the generated log does not verify"));
    std::fprintf(stderr, "gen check: %llu records verify\n",
                 static_cast<unsigned long long>(v->records()));
  }
  absl::StatusOr<GenSummary> s = LoadSummary(dir + "/summary.txt");
  if (!s.ok()) Die(s.status());
  if (s->sample_lots[2].empty() || s->recall_ids.empty())
    Die(absl::FailedPreconditionError("gen check: no finished lot or recall"));
  const v1::ConsistencyToken token = command::ToToken(s->end);
  auto host = StartHost(a, dir, false,
                        {"lots", "quality", "inventory", "recall", "audit"});
  const std::string lot = s->sample_lots[2].front();
  auto ch = Channel(host->target(), 0);
  auto lots = v1::LotsService::NewStub(ch);
  v1::GetLotResponse got;
  WaitCaughtUp<v1::GetLotResponse>([&] {
    v1::GetLotRequest req;
    req.set_lot_id(lot);
    *req.mutable_after() = token;
    return lots->GetLot(Ctx().get(), req, &got);
  });
  v1::TraceResponse trace;
  {
    v1::TraceRequest req;
    req.set_lot_id(lot);
    req.set_direction(v1::TRACE_DIRECTION_BACKWARD);
    req.set_max_depth(5);
    grpc::Status st = lots->Trace(Ctx().get(), req, &trace);
    if (!st.ok()) Die(absl::InternalError(st.error_message()));
    if (trace.nodes_size() < 3)
      Die(absl::FailedPreconditionError(
          absl::StrCat("gen check: trace of ", lot, " has ", trace.nodes_size(),
                       " nodes; components expected")));
  }
  auto quality = v1::QualityService::NewStub(ch);
  v1::GetQualityRecordResponse q;
  WaitCaughtUp<v1::GetQualityRecordResponse>([&] {
    v1::GetQualityRecordRequest req;
    req.set_lot_id(lot);
    *req.mutable_after() = token;
    return quality->GetQualityRecord(Ctx().get(), req, &q);
  });
  if (q.record().disposition() != v1::DISPOSITION_RELEASED)
    Die(absl::FailedPreconditionError("gen check: lot not released"));
  auto inventory = v1::InventoryService::NewStub(ch);
  v1::GetLotInventoryResponse inv;
  WaitCaughtUp<v1::GetLotInventoryResponse>([&] {
    v1::GetLotInventoryRequest req;
    req.set_lot_id(lot);
    *req.mutable_after() = token;
    return inventory->GetLotInventory(Ctx().get(), req, &inv);
  });
  if (!inv.lot().exists())
    Die(absl::FailedPreconditionError("gen check: inventory lacks the lot"));
  auto recall = v1::RecallService::NewStub(ch);
  v1::GetRecallResponse rc;
  WaitCaughtUp<v1::GetRecallResponse>([&] {
    v1::GetRecallRequest req;
    req.set_recall_id(s->recall_ids.front());
    *req.mutable_after() = token;
    return recall->GetRecall(Ctx().get(), req, &rc);
  });
  if (rc.recall().scope_size() < 1)
    Die(absl::FailedPreconditionError("gen check: recall without scope"));
  auto audit = v1::AuditService::NewStub(ch);
  WaitCaughtUp<v1::AsOfResponse>([&] {
    v1::AsOfRequest req;
    req.set_lot_id(lot);
    ToTimestamp(absl::Now(), req.mutable_at());
    *req.mutable_after() = token;
    v1::AsOfResponse resp;
    return audit->AsOf(Ctx().get(), req, &resp);
  });
  int history = 0;
  {
    v1::LotHistoryRequest req;
    req.set_lot_id(lot);
    auto ctx = Ctx();
    auto reader = audit->LotHistory(ctx.get(), req);
    v1::HistoryEntry e;
    while (reader->Read(&e)) ++history;
    grpc::Status st = reader->Finish();
    if (!st.ok()) Die(absl::InternalError(st.error_message()));
    if (history < 4)
      Die(absl::FailedPreconditionError("gen check: history too short"));
  }
  std::fprintf(stderr,
               "gen check: %s released, trace %d nodes, history %d events, "
               "recall %s has %d lots\n",
               lot.c_str(), trace.nodes_size(), history,
               s->recall_ids.front().c_str(), rc.recall().scope_size());
  host->Shutdown();
}

void ReplayScenario(const Args& a, const char* self) {
  const int64_t events = a.Int("events", 10000000);
  const std::string dir = GenDir(a, events);
  EnsureGenerated(a, dir, events);
  for (absl::string_view service : absl::StrSplit(
           a.Get("services", "lots,quality,inventory,recall,audit"), ',')) {
    std::vector<std::string> args = {self, "--scenario=replay_one",
                                     absl::StrCat("--service=", service),
                                     absl::StrCat("--gen-dir=", dir)};
    for (const auto& [k, v] : a.kv) {
      if (k != "scenario" && k != "service" && k != "gen-dir")
        args.push_back(absl::StrCat("--", k, "=", v));
    }
    std::fflush(stdout);
    std::fflush(stderr);
    const pid_t pid = fork();
    if (pid == 0) {
      std::vector<char*> argv;
      for (auto& s : args) argv.push_back(s.data());
      argv.push_back(nullptr);
      execv("/proc/self/exe", argv.data());
      std::_Exit(127);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
      Die(absl::InternalError(absl::StrCat("replay of ", service, " failed")));
    }
  }
}

void ReplayOneScenario(const Args& a) {
  const std::string dir = a.Get("gen-dir", "");
  const std::string service = a.Get("service", "");
  const int32_t partitions = static_cast<int32_t>(a.Int("partitions", 3));
  command::ServiceSpec spec;
  if (service == "lots") {
    spec = lots::LotsServiceSpec(partitions);
  } else if (service == "quality") {
    spec = quality::QualityServiceSpec(partitions);
  } else if (service == "inventory") {
    spec = inventory::InventoryServiceSpec(partitions);
  } else if (service == "recall") {
    spec = recall::RecallServiceSpec(partitions);
  } else if (service == "audit") {
    spec = audit::AuditServiceSpec(partitions);
  } else {
    Die(absl::InvalidArgumentError(absl::StrCat("--service=", service)));
  }
  const std::string projection = dir + "/projections/" + service;
  std::filesystem::remove_all(projection);
  // malloc as a server has it (process.h): set before any thread starts,
  // and freed pages given back as the servers give them (the servers'
  // flag and default).
  server::ProcessConfig process;
  process.malloc_trim_seconds =
      static_cast<int32_t>(a.Int("malloc-trim-seconds", 10));
  server::ConfigureMalloc(process);
  const std::unique_ptr<server::MallocTrimmer> trimmer =
      server::StartMallocTrimmer(process);
  const bool kafka = a.Get("backend", "embedded") == "kafka";
  std::string prefix;
  absl::StatusOr<std::unique_ptr<eventlog::EventLog>> log;
  if (kafka) {
    // As a service process reads the broker: the prefix the generator
    // produced under, a reader that never writes.
    std::ifstream(dir + "/" + kKafkaPrefixFile) >> prefix;
    if (prefix.empty()) {
      Die(absl::FailedPreconditionError(
          absl::StrCat(dir, " was not generated with --backend=kafka")));
    }
    eventlog::KafkaOptions k;
    k.bootstrap_servers = KafkaBootstrap(a);
    k.read_only = true;
    log = eventlog::KafkaEventLog::Create(k);
  } else {
    log = eventlog::OpenEmbeddedEventLog({.path = dir + "/log"});
  }
  if (!log.ok()) Die(log.status());
  // What the projector must reach: the end of each of its input topics.
  eventlog::Offsets target;
  std::vector<std::string> topics = spec.input_topics;
  if (!spec.own_topic.empty()) topics.push_back(spec.own_topic);
  uint64_t in_log = 0;
  for (const std::string& name : topics) {
    const std::string t = prefix + name;
    for (int32_t p = 0; p < partitions; ++p) {
      absl::StatusOr<int64_t> end = (*log)->EndOffset(t, p);
      if (!end.ok() || *end == 0) continue;  // a topic the generator skips
      target[{t, p}] = *end;
      in_log += static_cast<uint64_t>(*end);
    }
  }
  if (in_log == 0) {
    // A replay of nothing would report a speed: the wrong log or prefix.
    Die(absl::FailedPreconditionError(absl::StrCat(
        "no records for ", service, " in ", dir,
        kafka ? " under the prefix " + prefix : "",
        " (--regen=1 generates the log again, e.g. after the broker's data "
        "was removed)")));
  }
  const absl::Time t0 = absl::Now();
  const double cpu0 = CpuSeconds();
  // The RocksDB budget a host gives its projections: half of
  // --memory-budget-mb (the servers' flag and default).
  const auto memory = projection::MemoryBudget::Create(
      static_cast<size_t>(a.Int("memory-budget-mb", 512)) << 19);
  absl::StatusOr<std::unique_ptr<command::ServiceCore>> core =
      command::ServiceCore::Open(log->get(), spec, projection, prefix, memory);
  if (!core.ok()) Die(core.status());
  if (auto s = (*core)->projector().WaitFor(target, absl::InfiniteFuture());
      !s.ok())
    Die(s);
  const absl::Duration took = absl::Now() - t0;
  const double cpu = CpuSeconds() - cpu0;
  Result r;
  r.scenario = "replay_" + service;
  r.backend = kafka ? "kafka" : "embedded";
  r.operations = (*core)->projector().events_applied();
  r.seconds = absl::ToDoubleSeconds(took);
  const double rss = PeakRssMib();
  // Peak RSS counts mapped file pages (the binary and its libraries;
  // table files are read with pread since the budget's ApplyTo) besides
  // the process's own memory: at the end, the two apart.
  r.extra = absl::StrFormat(
      "\"peak_rss_mib\":%.1f,\"rss_anon_mib\":%.1f,\"rss_file_mib\":%.1f,"
      "\"log_events\":%d,\"cpu_seconds\":%.2f",
      rss, StatusMib("RssAnon"), StatusMib("RssFile"), in_log, cpu);
  // CPU time is what a busy machine does not inflate: events per CPU-s.
  r.note = absl::StrFormat(
      "projector folds its %d input records from an empty projection; peak "
      "RSS %.0f MiB; %.1f CPU-s over all threads, %.0f events per CPU-s",
      in_log, rss, cpu, cpu > 0 ? r.operations / cpu : 0.0);
  Report(r);
  // Skip the orderly close (compactions of the fresh projection).
  std::fflush(stdout);
  std::fflush(stderr);
  std::_Exit(0);
}

void GrowthScenario(const Args& a) {
  const int samples = static_cast<int>(a.Int("samples", 2000));
  for (absl::string_view size_s :
       absl::StrSplit(a.Get("sizes", "100000,1000000,10000000"), ',')) {
    int64_t events = 0;
    if (!absl::SimpleAtoi(size_s, &events) || events < 1000)
      Die(absl::InvalidArgumentError("--sizes: e.g. 100000,1000000"));
    const std::string dir = GenDir(a, events);
    GenSummary s = EnsureGenerated(a, dir, events);
    if (s.sample_lots[2].empty()) Die(absl::InternalError("no finished lots"));
    const absl::Time c0 = absl::Now();
    auto host = StartHost(a, dir, false, {"lots", "audit"});
    auto ch = Channel(host->target(), 0);
    auto lots = v1::LotsService::NewStub(ch);
    auto audit = v1::AuditService::NewStub(ch);
    const v1::ConsistencyToken token = command::ToToken(s.end);
    WaitCaughtUp<v1::GetLotResponse>([&] {
      v1::GetLotRequest req;
      req.set_lot_id(s.sample_lots[2].front());
      *req.mutable_after() = token;
      v1::GetLotResponse resp;
      return lots->GetLot(Ctx().get(), req, &resp);
    });
    WaitCaughtUp<v1::AsOfResponse>([&] {
      v1::AsOfRequest req;
      req.set_lot_id(s.sample_lots[2].front());
      ToTimestamp(absl::Now(), req.mutable_at());
      *req.mutable_after() = token;
      v1::AsOfResponse resp;
      return audit->AsOf(Ctx().get(), req, &resp);
    });
    std::fprintf(stderr, "growth %lld: caught up in %.1f s\n",
                 static_cast<long long>(events),
                 absl::ToDoubleSeconds(absl::Now() - c0));
    absl::SleepFor(absl::Seconds(a.Int("settle-seconds", 0)));
    const auto& pool = s.sample_lots[2];
    std::mt19937_64 rng(7);
    std::uniform_int_distribution<size_t> pick(0, pool.size() - 1);
    const std::string size = absl::StrCat(events, " events");
    Samples trace, history, as_of;
    uint64_t nodes = 0, entries = 0;
    // CPU of the whole process (client and services) per call, beside
    // the latencies: the work a call costs, not what waiting adds.
    const auto cpu_per_call = [&](double cpu0) {
      return absl::StrFormat("; %.0f us CPU per call",
                             (CpuSeconds() - cpu0) * 1e6 / samples);
    };
    double phase_cpu = CpuSeconds();
    const absl::Time t0 = absl::Now();
    for (int i = 0; i < samples; ++i) {
      v1::TraceRequest req;
      req.set_lot_id(pool[pick(rng)]);
      req.set_direction(v1::TRACE_DIRECTION_BACKWARD);
      req.set_max_depth(5);
      v1::TraceResponse resp;
      const absl::Time q0 = absl::Now();
      grpc::Status st = lots->Trace(Ctx().get(), req, &resp);
      trace.Add(absl::Now() - q0);
      if (!st.ok()) Die(absl::InternalError(st.error_message()));
      nodes += resp.nodes_size();
    }
    Report(Summarize(
        "growth_trace", "embedded", 1, trace, absl::Now() - t0,
        absl::StrCat(size, "; trace backward 5 levels, mean ", nodes / samples,
                     " nodes", cpu_per_call(phase_cpu))));
    phase_cpu = CpuSeconds();
    const absl::Time h0 = absl::Now();
    for (int i = 0; i < samples; ++i) {
      v1::LotHistoryRequest req;
      req.set_lot_id(pool[pick(rng)]);
      const absl::Time q0 = absl::Now();
      auto ctx = Ctx();
      auto reader = audit->LotHistory(ctx.get(), req);
      v1::HistoryEntry e;
      while (reader->Read(&e)) ++entries;
      grpc::Status st = reader->Finish();
      history.Add(absl::Now() - q0);
      if (!st.ok()) Die(absl::InternalError(st.error_message()));
    }
    Report(Summarize(
        "growth_history", "embedded", 1, history, absl::Now() - h0,
        absl::StrCat(size, "; LotHistory of a finished lot, mean ",
                     entries / samples, " events", cpu_per_call(phase_cpu))));
    // The same history as one unary page (GetLotHistory), as a screen
    // asks for it.
    Samples page;
    uint64_t paged = 0;
    phase_cpu = CpuSeconds();
    const absl::Time p0 = absl::Now();
    for (int i = 0; i < samples; ++i) {
      v1::GetLotHistoryRequest req;
      req.mutable_history()->set_lot_id(pool[pick(rng)]);
      v1::GetLotHistoryResponse resp;
      const absl::Time q0 = absl::Now();
      grpc::Status st = audit->GetLotHistory(Ctx().get(), req, &resp);
      page.Add(absl::Now() - q0);
      if (!st.ok()) Die(absl::InternalError(st.error_message()));
      paged += resp.entries_size();
    }
    Report(Summarize(
        "growth_history_page", "embedded", 1, page, absl::Now() - p0,
        absl::StrCat(size,
                     "; GetLotHistory (one page) of a finished "
                     "lot, mean ",
                     paged / samples, " events", cpu_per_call(phase_cpu))));
    phase_cpu = CpuSeconds();
    const absl::Time a0 = absl::Now();
    for (int i = 0; i < samples; ++i) {
      v1::AsOfRequest req;
      req.set_lot_id(pool[pick(rng)]);
      req.set_axis(v1::TIME_AXIS_RECORD);
      // Mid-year of the generated calendar (2025-11-03 + ~180 days).
      ToTimestamp(absl::FromUnixSeconds(1777766400), req.mutable_at());
      v1::AsOfResponse resp;
      const absl::Time q0 = absl::Now();
      grpc::Status st = audit->AsOf(Ctx().get(), req, &resp);
      as_of.Add(absl::Now() - q0);
      if (!st.ok()) Die(absl::InternalError(st.error_message()));
    }
    Report(Summarize("growth_as_of", "embedded", 1, as_of, absl::Now() - a0,
                     absl::StrCat(size,
                                  "; AsOf of a finished lot, mid-year, "
                                  "record time",
                                  cpu_per_call(phase_cpu))));
    host->Shutdown();
  }
}

}  // namespace lotledger::bench
