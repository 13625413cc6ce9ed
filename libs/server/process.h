// What every lotledger process does at start: read its configuration from
// flags and environment (12-factor: every flag `--foo-bar` has an env twin
// `LOTLEDGER_FOO_BAR`; a flag wins over the environment), open the event
// log it was pointed at, and wait for SIGINT/SIGTERM.
//
// Thread-safety: call from main only.
#ifndef LOTLEDGER_LIBS_SERVER_PROCESS_H_
#define LOTLEDGER_LIBS_SERVER_PROCESS_H_

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/eventlog/event_log.h"
#include "libs/projection/memory_budget.h"
#include "libs/server/limits.h"
#include "libs/server/tls.h"

namespace lotledger::server {

struct ProcessConfig {
  std::string listen = "127.0.0.1:7070";
  std::string data_dir = "./data";
  // "embedded" (a RocksDB log under data_dir/log) or "kafka".
  std::string log = "embedded";
  std::string kafka_bootstrap;
  // Extra librdkafka properties, `key=value`, comma separated (SASL/TLS).
  std::map<std::string, std::string> kafka_properties;
  int32_t kafka_replication_factor = 1;
  int32_t kafka_min_insync_replicas = 0;
  // Partitions of every lotledger topic (fixed once the topics exist).
  int32_t partitions = 3;
  // Dev token file (`<token> <principal> <roles>` per line); only with
  // tls.insecure_dev on a loopback listen address (ValidateProcessConfig).
  std::string dev_tokens;
  absl::Duration shutdown_grace = absl::Seconds(20);
  // Put before every topic name (keeps deployments on one cluster apart).
  std::string topic_prefix;
  // Writer identity for Kafka transactions; defaults to the service name.
  std::string writer_id;
  // Standby writers (docs/adr/0006-standby-writers.md): with
  // writer_election, several replicas of a service run at once; the one
  // holding the Kafka writer lease writes, the others follow the log,
  // answer queries and refuse commands naming the writer's
  // advertise_address (default: the bound listen address). A writer that
  // stays silent for writer_lease loses the role.
  bool writer_election = false;
  std::string advertise_address;
  absl::Duration writer_lease = absl::Seconds(3);
  // Signed checkpoints (docs/audit.md): the Ed25519 private key (PEM) each
  // writing service signs its topic's checkpoints with; empty: none. A
  // checkpoint is due every `checkpoint_every_records` records or
  // `checkpoint_every` seconds per partition, and at shutdown.
  std::string checkpoint_key;
  int32_t checkpoint_every_records = 1000;
  absl::Duration checkpoint_every = absl::Seconds(60);
  // Period of the inventory service's expiry sweep; zero: none (tests
  // trigger sweeps). ParseProcessConfig defaults it to one hour.
  absl::Duration expiry_sweep_interval = absl::ZeroDuration();
  // host:port of the Prometheus endpoint (GET /metrics); empty disables
  // it. ParseProcessConfig defaults it to 127.0.0.1:9090; a config built
  // in code (tests) has none.
  std::string metrics_listen;
  // Set when the flag or its env twin named the address: then failing to
  // listen there stops the process. The default address is best effort (a
  // second process on one machine runs without metrics, with a warning).
  bool metrics_listen_required = false;
  // One JSON log line per call (ParseProcessConfig: on by default).
  bool log_requests = false;
  // The memory the process plans for, all in (docs/operations.md,
  // "Memory"): half of it is the RocksDB budget every hosted projection
  // shares (libs/projection/memory_budget.h), the in-memory indexes
  // charged to it; the rest is for Kafka buffers, gRPC and queries. The
  // pod's memory limit must allow it.
  int32_t memory_budget_mb = 512;
  // The most glibc malloc arenas (ConfigureMalloc); 0: glibc's own limit,
  // 8 per core. Each new thread gets an arena of its own up to the limit,
  // and an arena keeps much of what it once held (docs/operations.md,
  // "Memory", has the figures).
  int32_t malloc_arenas = 4;
  // How often the heap's free pages are given back to the kernel when
  // resident memory is at least 3/4 of memory_budget_mb
  // (StartMallocTrimmer); 0: never (only what glibc gives back itself).
  int32_t malloc_trim_seconds = 10;
  // The most threads the gRPC server runs (grpc_server.h); 0: its default,
  // 2 x hardware threads + 16.
  int32_t grpc_max_threads = 0;
  // host:port of a plaintext port serving only grpc.health.v1 (for
  // Kubernetes probes when --listen uses TLS); empty: none.
  std::string health_listen;
  // Transport: TLS files, mutual TLS, or plaintext with insecure_dev
  // (ParseProcessConfig requires one of them).
  TlsOptions tls;
  // Bearer JWTs (jwt.h): a JWKS file, the expected issuer and audience.
  std::string jwks_file;
  std::string jwt_issuer;
  std::string jwt_audience;
  std::string jwt_roles_claim = "roles";
  absl::Duration jwt_clock_skew = absl::Seconds(60);
  // How old a signer's re-authentication may be.
  absl::Duration signature_max_age = absl::Minutes(5);
  int32_t max_message_bytes = 4 << 20;
  RequestLimits limits;
};

// The configuration a process starts from before its environment and
// flags: ProcessConfig's defaults, and what a server runs with unless told
// otherwise: metrics on 127.0.0.1:9090, an expiry sweep every hour, one
// log line per call.
ProcessConfig ProcessDefaults();

// Parses `--key=value` flags (and `--help`) over the environment over
// `defaults` (ProcessDefaults() when not given): a flag wins over its env
// twin, which wins over the default. Unknown flags and bad values are
// InvalidArgument naming the flag; --help is Cancelled carrying
// Usage(program, defaults).
absl::StatusOr<ProcessConfig> ParseProcessConfig(int argc, char** argv,
                                                 const std::string& program);
absl::StatusOr<ProcessConfig> ParseProcessConfig(int argc, char** argv,
                                                 const std::string& program,
                                                 const ProcessConfig& defaults);

// The rules ParseProcessConfig enforces after reading every flag, for a
// configuration built in code too: TLS unless --insecure-dev=true;
// --insecure-dev=true only on a loopback --listen; --dev-tokens only with
// --insecure-dev=true (dev tokens are for a developer's machine, never a
// deployment); --kafka-bootstrap with --log=kafka. InvalidArgument naming
// the flag.
absl::Status ValidateProcessConfig(const ProcessConfig& config);

// True for 127.0.0.0/8, [::1] and localhost, with a port ("host:port").
bool IsLoopbackAddress(std::string_view address);

// The usage text listing every flag, its env twin and its default in
// `defaults` (ProcessDefaults() when not given; empty values not shown).
std::string Usage(const std::string& program);
std::string Usage(const std::string& program, const ProcessConfig& defaults);

// Limits glibc malloc to config.malloc_arenas arenas, unless
// MALLOC_ARENA_MAX is set in the environment (glibc reads it itself, and
// it wins). Call before the process starts any thread: glibc fixes its
// limit when a thread first needs an arena of its own.
//
// glibc's mmap threshold is left as glibc has it: fixed at 256 KiB (so
// large blocks are unmapped when freed) it cost lotledgerd's replay a
// third more CPU for ~10 MiB less at its peak (docs/benchmarks.md).
void ConfigureMalloc(const ProcessConfig& config);

// Gives the free pages inside the heap back to the kernel (glibc's
// malloc_trim(0), on a thread of its own): every `period` until destroyed,
// when the process's resident memory is at least `above_bytes`. glibc
// gives back only the top of a heap on free(): pages freed below a block
// still in use stay resident, and a process whose caches and memtables
// churn through blocks of many sizes holds tens to hundreds of MiB that
// way. Giving them back is not free: the pages are soon needed again and
// fault back in, which cost a replay at 10^7 events a sixth more CPU when
// done every 10 s from the start; hence the floor (docs/operations.md,
// "Memory", has the figures).
class MallocTrimmer {
 public:
  explicit MallocTrimmer(absl::Duration period, size_t above_bytes = 0);
  ~MallocTrimmer();
  MallocTrimmer(const MallocTrimmer&) = delete;
  MallocTrimmer& operator=(const MallocTrimmer&) = delete;

 private:
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

// The servers' MallocTrimmer: every config.malloc_trim_seconds, above
// three quarters of config.memory_budget_mb (below it the freed pages cost
// the process nothing it is not sized for); null when
// malloc_trim_seconds is 0: the pages are left to glibc.
std::unique_ptr<MallocTrimmer> StartMallocTrimmer(const ProcessConfig& config);

// The process's resident memory (/proc/self/statm), in bytes; 0 when it
// cannot be read.
size_t ResidentBytes();

// Opens the embedded log under config.data_dir/log, or connects to Kafka.
// The embedded log's RocksDB is charged to `memory`, the budget the
// process's projections share (null: none).
absl::StatusOr<std::unique_ptr<eventlog::EventLog>> OpenEventLog(
    const ProcessConfig& config, const std::string& writer_name,
    std::shared_ptr<projection::MemoryBudget> memory = nullptr);

// Blocks SIGINT and SIGTERM in every thread started after this call; call
// first thing in main.
void BlockTerminationSignals();
// Waits for SIGINT or SIGTERM; returns the signal number.
int WaitForTerminationSignal();

}  // namespace lotledger::server

#endif  // LOTLEDGER_LIBS_SERVER_PROCESS_H_
