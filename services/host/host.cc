#include "services/host/host.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "libs/audit/checkpoint.h"
#include "libs/command/service_core.h"
#include "libs/common/clock.h"
#include "libs/common/json_log.h"
#include "libs/common/status_macros.h"
#include "libs/common/topics.h"
#include "libs/metrics/metrics.h"
#include "libs/projection/memory_budget.h"
#include "libs/server/auth.h"
#include "libs/server/grpc_server.h"
#include "libs/server/jwt.h"
#include "libs/server/tls.h"
#include "services/admin/admin_service.h"
#include "services/audit/audit_service.h"
#include "services/host/writer_election.h"
#include "services/inventory/inventory_service.h"
#include "services/lots/lots_service.h"
#include "services/quality/quality_service.h"
#include "services/recall/recall_service.h"

namespace lotledger {
namespace {

// One hosted service: its core (projection, projector, writer) and its
// gRPC implementation.
struct Hosted {
  std::unique_ptr<command::ServiceCore> core;
  std::unique_ptr<grpc::Service> grpc;
  std::string health_name;
  // The inventory service, for its sweep and to end its streams first.
  inventory::InventoryServiceImpl* inventory = nullptr;
};

// What a service's gRPC implementation is made from.
struct HostedEnv {
  command::ServiceCore* core;
  eventlog::EventLog* log;
  const server::ProcessConfig& config;
  const server::Guard* guard;
  // The injected time (tests pass a ManualClock).
  const Clock* clock;
};

// One service a host can run: its name (as in topics.h), the full name of
// its gRPC service (health, admin), its spec (topics from the registry)
// and its gRPC implementation on the opened core.
struct HostableService {
  std::string_view name;
  std::string_view grpc_name;
  command::ServiceSpec (*spec)(int32_t partitions);
  void (*serve)(const HostedEnv& env, Hosted& h);
};

const std::vector<HostableService>& HostTable() {
  static const auto* table = new std::vector<HostableService>{
      {"lots", "lotledger.v1.LotsService", lots::LotsServiceSpec,
       [](const HostedEnv& e, Hosted& h) {
         h.grpc =
             std::make_unique<lots::LotsServiceImpl>(e.core, e.guard, e.clock);
       }},
      {"quality", "lotledger.v1.QualityService", quality::QualityServiceSpec,
       [](const HostedEnv& e, Hosted& h) {
         h.grpc = std::make_unique<quality::QualityServiceImpl>(e.core, e.guard,
                                                                e.clock);
       }},
      {"inventory", "lotledger.v1.InventoryService",
       inventory::InventoryServiceSpec,
       [](const HostedEnv& e, Hosted& h) {
         auto service = std::make_unique<inventory::InventoryServiceImpl>(
             e.core, e.guard, e.clock,
             inventory::InventoryServiceOptions{
                 .log = e.log,
                 .sweep_interval = e.config.expiry_sweep_interval});
         h.inventory = service.get();
         h.grpc = std::move(service);
       }},
      // On the system clock: the injected one is the time of lots,
      // quality and inventory (host.h).
      {"recall", "lotledger.v1.RecallService", recall::RecallServiceSpec,
       [](const HostedEnv& e, Hosted& h) {
         h.grpc = std::make_unique<recall::RecallServiceImpl>(
             e.core, e.guard, SystemClock::Get());
       }},
      {"audit", "lotledger.v1.AuditService", audit::AuditServiceSpec,
       [](const HostedEnv& e, Hosted& h) {
         h.grpc = std::make_unique<audit::AuditServiceImpl>(
             e.core, e.guard, e.config.topic_prefix);
       }},
  };
  return *table;
}

absl::StatusOr<Hosted> OpenService(
    const std::string& name, eventlog::EventLog* log,
    const server::ProcessConfig& config, const server::Guard* guard,
    const Clock* clock, std::shared_ptr<projection::MemoryBudget> memory) {
  const HostableService* entry = nullptr;
  for (const HostableService& s : HostTable()) {
    if (s.name == name) entry = &s;
  }
  if (entry == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown service ", name, "; a host runs ",
                     absl::StrJoin(HostableServices(), ", ")));
  }
  const std::string dir =
      (std::filesystem::path(config.data_dir) / "projections" / name).string();
  Hosted h;
  ASSIGN_OR_RETURN(h.core, command::ServiceCore::Open(
                               log, entry->spec(config.partitions), dir,
                               config.topic_prefix, std::move(memory)));
  entry->serve({.core = h.core.get(),
                .log = log,
                .config = config,
                .guard = guard,
                .clock = clock},
               h);
  h.health_name = std::string(entry->grpc_name);
  return h;
}

// The gauges of one hosted service's projection, computed at each scrape:
// lag per input partition (records the log has that the projection has
// not applied, and for how long it has been behind), whether the projector
// runs, and the RocksDB size.
metrics::CallbackGauge ProjectionGauges(const std::string& service,
                                        command::ServiceCore* core,
                                        eventlog::EventLog* log) {
  const absl::Time started = absl::Now();
  return metrics::Default().AddGaugeCallbacks(
      {{"lotledger_projection_lag_records",
        "Records in the log not yet applied to the projection, per input "
        "partition"},
       {"lotledger_projection_lag_seconds",
        "While behind: time since the last applied record was written (0 "
        "when caught up)"},
       {"lotledger_projection_healthy",
        "1 while the projector runs; 0 once it stopped on a bad record"},
       {"lotledger_projection_sst_bytes",
        "RocksDB SST file bytes of the projection"},
       {"lotledger_projection_live_data_bytes",
        "RocksDB estimate of live data bytes in the projection"},
       {"lotledger_projection_memtable_bytes",
        "RocksDB memtable bytes of the projection"}},
      [service, core, log, started] {
        std::vector<std::vector<metrics::Sample>> out(6);
        const absl::Time now = absl::Now();
        const eventlog::Offsets applied = core->projector().Applied();
        const auto times = core->projector().LastRecordTimes();
        for (const auto& [tp, next] : applied) {
          // A log that does not answer leaves the lag unknown (absent),
          // and the scrape is not held up by one timeout per partition.
          absl::StatusOr<int64_t> end = log->EndOffset(tp.topic, tp.partition);
          if (!end.ok()) break;
          const metrics::Labels labels = {
              {"service", service},
              {"topic", tp.topic},
              {"partition", absl::StrCat(tp.partition)}};
          const int64_t lag = std::max<int64_t>(0, *end - next);
          double seconds = 0;
          if (lag > 0) {
            auto it = times.find(tp);
            seconds = absl::ToDoubleSeconds(
                now - (it != times.end() ? it->second : started));
          }
          out[0].push_back({labels, static_cast<double>(lag)});
          out[1].push_back({labels, std::max(0.0, seconds)});
        }
        const metrics::Labels labels = {{"service", service}};
        out[2].push_back({labels, core->projector().health().ok() ? 1.0 : 0.0});
        const projection::ProjectionStore::Size size =
            core->store().ApproximateSize();
        out[3].push_back({labels, static_cast<double>(size.sst_files_bytes)});
        out[4].push_back({labels, static_cast<double>(size.live_data_bytes)});
        out[5].push_back({labels, static_cast<double>(size.memtable_bytes)});
        return out;
      });
}

}  // namespace

std::vector<std::string> HostableServices() {
  std::vector<std::string> names;
  for (const HostableService& s : HostTable()) names.emplace_back(s.name);
  return names;
}

server::ProcessConfig HostDefaults(const std::string& default_log) {
  server::ProcessConfig defaults = server::ProcessDefaults();
  defaults.log = default_log;
  return defaults;
}

struct ServerHost::State {
  server::ProcessConfig config;
  // Gives freed heap pages back (process.h); null with
  // --malloc-trim-seconds=0. Declared first: it stops last.
  std::unique_ptr<server::MallocTrimmer> trimmer;
  // Signed checkpoints of the hosted writers' topics (docs/audit.md).
  std::unique_ptr<audit::Signer> checkpoint_signer;
  std::vector<std::unique_ptr<audit::CheckpointPublisher>> checkpointers;
  std::unique_ptr<server::Authenticator> authenticator;
  std::unique_ptr<server::Guard> guard;
  std::unique_ptr<eventlog::EventLog> log;
  // The RocksDB memory every hosted projection shares.
  std::shared_ptr<projection::MemoryBudget> memory;
  // With --writer-election: the hosted writer's role, which its runner,
  // health and the gRPC layer ask (declared before `hosted`, which uses
  // it); null otherwise.
  std::unique_ptr<command::WriterRole> role;
  std::vector<Hosted> hosted;
  // Projection rebuilds of the hosted services (admin.proto).
  std::unique_ptr<admin::AdminServiceImpl> admin;
  std::unique_ptr<server::GrpcServer> grpc_server;
  std::vector<metrics::CallbackGauge> gauges;
  std::unique_ptr<metrics::MetricsServer> metrics_server;
  // With --writer-election: the hosted writer's election (declared last:
  // it goes first); null otherwise.
  std::unique_ptr<WriterElection> election;
  bool stopped = false;

  // Starts a checkpoint publisher for each hosted writer (the writer's
  // job: with --writer-election, once this replica took the role).
  absl::Status StartCheckpointers(const std::vector<std::string>& services);
};

absl::Status ServerHost::State::StartCheckpointers(
    const std::vector<std::string>& services) {
  if (checkpoint_signer == nullptr) return absl::OkStatus();  // no key
  for (const std::string& name : services) {
    const std::string topic = topics::WrittenBy(name);
    if (topic.empty()) continue;  // audit writes no topic
    auto publisher = std::make_unique<audit::CheckpointPublisher>(
        log.get(), checkpoint_signer.get(),
        audit::CheckpointOptions{.topic = topic,
                                 .topic_prefix = config.topic_prefix,
                                 .source = absl::StrCat("lotledger/", name),
                                 .every_records = static_cast<uint64_t>(
                                     config.checkpoint_every_records),
                                 .every = config.checkpoint_every});
    RETURN_IF_ERROR(publisher->Start());
    checkpointers.push_back(std::move(publisher));
  }
  return absl::OkStatus();
}

ServerHost::ServerHost(std::unique_ptr<State> state)
    : state_(std::move(state)) {}

ServerHost::~ServerHost() { Shutdown(); }

absl::StatusOr<std::unique_ptr<ServerHost>> ServerHost::Start(
    const server::ProcessConfig& config, const std::string& program,
    const std::vector<std::string>& services, const Clock* clock) {
  if (clock == nullptr) clock = SystemClock::Get();
  // The same rules as for flags (dev tokens and plaintext on loopback
  // only) for a configuration built in code.
  RETURN_IF_ERROR(server::ValidateProcessConfig(config));
  // Debian's Abseil checks every Mutex acquisition for lock-order cycles
  // under one global lock; that serializes a server. Lock order here is
  // fixed by design (stripes in ascending order), so turn the check off.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  auto st = std::make_unique<State>();
  st->config = config;
  ASSIGN_OR_RETURN(
      st->authenticator,
      server::MakeAuthenticator(config.dev_tokens, config.jwks_file,
                                {.issuer = config.jwt_issuer,
                                 .audience = config.jwt_audience,
                                 .roles_claim = config.jwt_roles_claim,
                                 .clock_skew = config.jwt_clock_skew}));
  st->guard = std::make_unique<server::Guard>(
      st->authenticator.get(),
      server::GuardOptions{.signature_max_age = config.signature_max_age});
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials,
                   server::MakeServerCredentials(config.tls));
  // Half of the process's budget (process.h, memory_budget_mb), shared by
  // the embedded log and every hosted projection.
  st->memory = projection::MemoryBudget::Create(
      static_cast<size_t>(config.memory_budget_mb) << 19);
  st->trimmer = server::StartMallocTrimmer(config);
  ASSIGN_OR_RETURN(st->log, server::OpenEventLog(config, program, st->memory));
  st->grpc_server = std::make_unique<server::GrpcServer>(server::ServerOptions{
      .address = config.listen,
      .max_message_bytes = config.max_message_bytes,
      .log_requests = config.log_requests,
      .credentials = std::move(credentials),
      .authenticator = st->authenticator.get(),
      .limits = config.limits,
      .health_address = config.health_listen,
      .max_threads = config.grpc_max_threads,
      // A standby names the writer on the commands it refuses.
      .writer_address = [state = st.get()]() -> std::string {
        const command::WriterRole* role = state->role.get();
        return role == nullptr || role->writing() ? std::string()
                                                  : role->writer_address();
      }});
  st->gauges.push_back(metrics::Default().AddGaugeCallback(
      "lotledger_rocksdb_memory_bytes",
      "RocksDB memory shared by the hosted projections: the budget, the "
      "in-memory indexes charged to it (as last measured), the cache's "
      "capacity (the budget less the indexes), what is in the cache "
      "(write buffers included), what readers pin, the write buffers, and "
      "of those the ones still taking writes",
      [memory = st->memory] {
        const projection::MemoryBudget::Usage u = memory->usage();
        return std::vector<metrics::Sample>{
            {{{"kind", "budget"}}, static_cast<double>(memory->bytes())},
            {{{"kind", "indexes"}}, static_cast<double>(u.indexes)},
            {{{"kind", "cache_capacity"}},
             static_cast<double>(memory->cache_bytes())},
            {{{"kind", "cache"}}, static_cast<double>(u.cache)},
            {{{"kind", "pinned"}}, static_cast<double>(u.pinned)},
            {{{"kind", "write_buffers"}}, static_cast<double>(u.write_buffers)},
            {{{"kind", "active_write_buffers"}},
             static_cast<double>(u.active_write_buffers)}};
      }));
  for (const std::string& name : services) {
    ASSIGN_OR_RETURN(Hosted h, OpenService(name, st->log.get(), config,
                                           st->guard.get(), clock, st->memory));
    // NOT_SERVING while the service's projector is stopped (grpc_server.h).
    st->grpc_server->AddService(
        h.grpc.get(), h.health_name,
        [core = h.core.get()] { return core->projector().health(); });
    st->gauges.push_back(ProjectionGauges(name, h.core.get(), st->log.get()));
    st->hosted.push_back(std::move(h));
  }
  std::map<std::string, command::ServiceCore*> cores;
  for (size_t i = 0; i < services.size(); ++i) {
    cores[services[i]] = st->hosted[i].core.get();
  }
  st->admin = std::make_unique<admin::AdminServiceImpl>(std::move(cores),
                                                        st->guard.get());
  st->grpc_server->AddService(st->admin.get(), "lotledger.v1.AdminService");
  if (!config.checkpoint_key.empty()) {
    // Read now, so a bad key stops the start, not a later promotion.
    ASSIGN_OR_RETURN(st->checkpoint_signer,
                     audit::Signer::FromPemFile(config.checkpoint_key));
  }
  // The hosted service that writes a topic, when this replica runs with a
  // writer election (one per process: each service has its own lease).
  Hosted* elected = nullptr;
  if (config.writer_election) {
    for (size_t i = 0; i < services.size(); ++i) {
      if (topics::WrittenBy(services[i]).empty()) continue;
      if (elected != nullptr) {
        return absl::InvalidArgumentError(
            "--writer-election=true: one writing service per process (each "
            "service has its own writer lease)");
      }
      elected = &st->hosted[i];
    }
  }
  std::string elected_name;
  if (elected == nullptr) {
    RETURN_IF_ERROR(st->StartCheckpointers(services));
  } else {
    // A standby from its first call on.
    elected_name = services[elected - st->hosted.data()];
    st->role = std::make_unique<command::WriterRole>(elected_name,
                                                     /*writing=*/false);
    StandBy(*elected->core, *st->role);
    st->role->OnDemoted([name = elected_name](const std::string& why) {
      // Its producers are fenced for good: stop, and let the orchestrator
      // start this replica again as a standby.
      LogJson("error", "gave up the writer role; stopping",
              {{"service", name}, {"reason", why}});
      kill(getpid(), SIGTERM);
    });
  }
  // A single writer is the writer for life; a replica with an election
  // once it took the role.
  st->grpc_server->AddRoleHealth(
      server::kWriterHealthName, [state = st.get()]() -> absl::Status {
        return state->role == nullptr ? absl::OkStatus()
                                      : state->role->CheckWriting();
      });
  RETURN_IF_ERROR(st->grpc_server->Start());
  if (elected != nullptr) {
    State* state = st.get();
    ASSIGN_OR_RETURN(
        st->election,
        WriterElection::Start(config, st->log.get(), elected->core.get(),
                              {.service = elected_name,
                               .advertise = config.advertise_address.empty()
                                                ? st->grpc_server->target()
                                                : config.advertise_address,
                               .role = st->role.get(),
                               .promoted = [state, name = elected_name] {
                                 return state->StartCheckpointers({name});
                               }}));
  }
  server::GrpcServer* grpc_server = st->grpc_server.get();
  st->gauges.push_back(metrics::Default().AddGaugeCallback(
      "lotledger_grpc_requests_in_flight",
      "Unary lotledger calls being handled (a shutdown waits for them)",
      [grpc_server] {
        return std::vector<metrics::Sample>{
            {{}, static_cast<double>(grpc_server->calls_in_flight())}};
      }));
  if (!config.metrics_listen.empty()) {
    absl::StatusOr<std::unique_ptr<metrics::MetricsServer>> metrics_server =
        metrics::MetricsServer::Start(config.metrics_listen,
                                      &metrics::Default());
    if (metrics_server.ok()) {
      st->metrics_server = *std::move(metrics_server);
    } else if (config.metrics_listen_required) {
      return metrics_server.status();
    } else {
      LogJson("warn", "no metrics endpoint",
              {{"error", std::string(metrics_server.status().message())},
               {"hint", "set --metrics-listen"}});
    }
  }
  return std::unique_ptr<ServerHost>(new ServerHost(std::move(st)));
}

std::string ServerHost::target() const { return state_->grpc_server->target(); }

int ServerHost::health_port() const {
  return state_->grpc_server->health_port();
}

int ServerHost::metrics_port() const {
  return state_->metrics_server == nullptr ? 0 : state_->metrics_server->port();
}

void ServerHost::Shutdown() {
  if (state_ == nullptr || state_->stopped) return;
  state_->stopped = true;
  // The metrics endpoint takes up to ~2 s to stop (civetweb polls); it
  // stops alongside the rest instead of after it.
  std::thread metrics_stop(
      [server = std::move(state_->metrics_server)]() mutable {
        server.reset();
      });
  // Stop taking calls and let those in flight finish; then stop the
  // projectors; the projections (RocksDB) close as they are destroyed, and
  // the log last: Kafka flushes its producers.
  // Alert streams never end by themselves: end them first.
  for (Hosted& h : state_->hosted) {
    if (h.inventory != nullptr) h.inventory->Stop();
  }
  state_->grpc_server->Shutdown(state_->config.shutdown_grace);
  state_->grpc_server->Wait();
  // No promotion from here on (the lease is left below, once the final
  // checkpoint is written).
  if (state_->election != nullptr) state_->election->StopPromoting();
  // A clean shutdown leaves every record covered by a checkpoint.
  for (auto& c : state_->checkpointers) {
    c->Stop();
    absl::StatusOr<int> last = c->PublishNow(absl::Now());
    if (!last.ok()) {
      LogJson("error", "final checkpoint failed",
              {{"error", std::string(last.status().message())}});
    }
  }
  state_->checkpointers.clear();
  // A writer leaving its lease hands it on at once.
  state_->election.reset();
  for (Hosted& h : state_->hosted) h.core->Stop();
  state_->gauges.clear();
  state_->hosted.clear();
  state_->grpc_server.reset();
  state_->log.reset();
  metrics_stop.join();
}

absl::StatusOr<int> ServerHost::SweepExpiry() {
  for (Hosted& h : state_->hosted) {
    if (h.inventory == nullptr) continue;
    ASSIGN_OR_RETURN(inventory::SweepResult r, h.inventory->SweepExpiry());
    return r.alerts_raised;
  }
  return absl::FailedPreconditionError("the inventory service is not hosted");
}

int RunHost(int argc, char** argv, const std::string& program,
            const std::vector<std::string>& services,
            const std::string& default_log) {
  server::BlockTerminationSignals();
  absl::StatusOr<server::ProcessConfig> config = server::ParseProcessConfig(
      argc, argv, program, HostDefaults(default_log));
  if (config.status().code() == absl::StatusCode::kCancelled) {  // --help
    std::fputs(std::string(config.status().message()).c_str(), stdout);
    return 0;
  }
  // Before any thread starts (process.h).
  if (config.ok()) server::ConfigureMalloc(*config);
  absl::StatusOr<std::unique_ptr<ServerHost>> host =
      config.ok()
          ? ServerHost::Start(*config, program, services)
          : absl::StatusOr<std::unique_ptr<ServerHost>>(config.status());
  if (!host.ok()) {
    LogJson("error", "cannot start",
            {{"program", program},
             {"error", std::string(host.status().message())}});
    return 2;
  }
  LogJsonRaw("info", "serving",
             {{"program", JsonString(program)},
              {"listen", JsonString((*host)->target())},
              {"log", JsonString(config->log)},
              {"metrics_port", absl::StrCat((*host)->metrics_port())},
              {"health_port", absl::StrCat((*host)->health_port())}});
  const int sig = server::WaitForTerminationSignal();
  LogJsonRaw("info", "shutting down",
             {{"signal", absl::StrCat(sig)},
              {"grace_seconds",
               absl::StrCat(absl::ToInt64Seconds(config->shutdown_grace))}});
  const absl::Time stopping = absl::Now();
  (*host)->Shutdown();
  LogJsonRaw(
      "info", "stopped",
      {{"shutdown_ms",
        absl::StrCat(absl::ToInt64Milliseconds(absl::Now() - stopping))}});
  return 0;
}

}  // namespace lotledger
