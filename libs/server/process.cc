#include "libs/server/process.h"

#include <arpa/inet.h>
#include <malloc.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/common/json_log.h"
#include "libs/common/status_macros.h"
#include "libs/eventlog/embedded/embedded_event_log.h"
#include "libs/eventlog/kafka/kafka_event_log.h"

namespace lotledger::server {
namespace {

struct Flag {
  const char* name;
  const char* help;
  std::function<absl::Status(ProcessConfig&, const std::string&)> set;
};

absl::Status ParseInt(const std::string& flag, const std::string& v,
                      int32_t& out, int32_t min) {
  if (!absl::SimpleAtoi(v, &out) || out < min) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", flag, ": expected an integer >= ", min, ", got \"", v, "\""));
  }
  return absl::OkStatus();
}

const std::vector<Flag>& Flags() {
  static const auto* flags = new std::vector<Flag>{
      {"listen", "gRPC listen address (host:port; port 0 picks one)",
       [](ProcessConfig& c, const std::string& v) {
         c.listen = v;
         return absl::OkStatus();
       }},
      {"data-dir", "directory for projections (and the embedded log)",
       [](ProcessConfig& c, const std::string& v) {
         c.data_dir = v;
         return absl::OkStatus();
       }},
      {"log", "event log backend: embedded or kafka",
       [](ProcessConfig& c, const std::string& v) {
         if (v != "embedded" && v != "kafka") {
           return absl::InvalidArgumentError(
               "--log: must be \"embedded\" or \"kafka\"");
         }
         c.log = v;
         return absl::OkStatus();
       }},
      {"kafka-bootstrap", "Kafka bootstrap servers (host:port,...)",
       [](ProcessConfig& c, const std::string& v) {
         c.kafka_bootstrap = v;
         return absl::OkStatus();
       }},
      {"kafka-properties",
       "extra librdkafka properties, key=value,... (security.protocol, sasl.*)",
       [](ProcessConfig& c, const std::string& v) {
         for (absl::string_view kv :
              absl::StrSplit(v, ',', absl::SkipEmpty())) {
           std::pair<std::string, std::string> p =
               absl::StrSplit(kv, absl::MaxSplits('=', 1));
           if (p.first.empty()) {
             return absl::InvalidArgumentError(
                 "--kafka-properties: expected key=value pairs");
           }
           c.kafka_properties[p.first] = p.second;
         }
         return absl::OkStatus();
       }},
      {"kafka-replication-factor", "replication factor of created topics",
       [](ProcessConfig& c, const std::string& v) {
         return ParseInt("kafka-replication-factor", v,
                         c.kafka_replication_factor, 1);
       }},
      {"kafka-min-insync-replicas", "min.insync.replicas of created topics",
       [](ProcessConfig& c, const std::string& v) {
         return ParseInt("kafka-min-insync-replicas", v,
                         c.kafka_min_insync_replicas, 0);
       }},
      {"partitions", "partitions per topic (fixed once created)",
       [](ProcessConfig& c, const std::string& v) {
         return ParseInt("partitions", v, c.partitions, 1);
       }},
      {"dev-tokens",
       "dev token file: <token> <principal> <role,...> per line (only with "
       "--insecure-dev=true)",
       [](ProcessConfig& c, const std::string& v) {
         c.dev_tokens = v;
         return absl::OkStatus();
       }},
      {"shutdown-grace-seconds",
       "how long in-flight calls may finish on SIGTERM",
       [](ProcessConfig& c, const std::string& v) {
         int32_t s = 0;
         RETURN_IF_ERROR(ParseInt("shutdown-grace-seconds", v, s, 0));
         c.shutdown_grace = absl::Seconds(s);
         return absl::OkStatus();
       }},
      {"topic-prefix", "prefix of every topic name (shared clusters, tests)",
       [](ProcessConfig& c, const std::string& v) {
         c.topic_prefix = v;
         return absl::OkStatus();
       }},
      {"writer-id",
       "writer identity for Kafka transactions (fences stale writers)",
       [](ProcessConfig& c, const std::string& v) {
         c.writer_id = v;
         return absl::OkStatus();
       }},
      {"writer-election",
       "true: one of several replicas of the service (Kafka only): the "
       "writer role goes by a Kafka lease, the others stand by and serve "
       "queries",
       [](ProcessConfig& c, const std::string& v) {
         if (v != "true" && v != "false") {
           return absl::InvalidArgumentError(
               "--writer-election: must be \"true\" or \"false\"");
         }
         c.writer_election = v == "true";
         return absl::OkStatus();
       }},
      {"advertise-address",
       "host:port clients reach this replica at (told to them by standbys); "
       "default: the bound --listen address",
       [](ProcessConfig& c, const std::string& v) {
         c.advertise_address = v;
         return absl::OkStatus();
       }},
      {"writer-lease-ms",
       "how long a silent writer keeps the writer lease (Kafka session "
       "timeout; the brokers' group.min.session.timeout.ms must allow it)",
       [](ProcessConfig& c, const std::string& v) {
         int32_t ms = 0;
         RETURN_IF_ERROR(ParseInt("writer-lease-ms", v, ms, 500));
         c.writer_lease = absl::Milliseconds(ms);
         return absl::OkStatus();
       }},
      {"checkpoint-key",
       "Ed25519 private key (PEM) to sign chain checkpoints with; empty: none",
       [](ProcessConfig& c, const std::string& v) {
         c.checkpoint_key = v;
         return absl::OkStatus();
       }},
      {"checkpoint-every-records",
       "a checkpoint per partition after this many records",
       [](ProcessConfig& c, const std::string& v) {
         return ParseInt("checkpoint-every-records", v,
                         c.checkpoint_every_records, 1);
       }},
      {"checkpoint-every-seconds",
       "a checkpoint per partition at least this often",
       [](ProcessConfig& c, const std::string& v) {
         int32_t s = 0;
         RETURN_IF_ERROR(ParseInt("checkpoint-every-seconds", v, s, 1));
         c.checkpoint_every = absl::Seconds(s);
         return absl::OkStatus();
       }},
      {"expiry-sweep-seconds",
       "period of the inventory expiry sweep (0 disables)",
       [](ProcessConfig& c, const std::string& v) {
         int32_t s = 0;
         RETURN_IF_ERROR(ParseInt("expiry-sweep-seconds", v, s, 0));
         c.expiry_sweep_interval = absl::Seconds(s);
         return absl::OkStatus();
       }},
      {"metrics-listen",
       "Prometheus /metrics address (host:port; port 0 picks one; empty or "
       "0 disables)",
       [](ProcessConfig& c, const std::string& v) {
         c.metrics_listen = v == "0" ? "" : v;
         c.metrics_listen_required = true;
         return absl::OkStatus();
       }},
      {"health-listen",
       "plaintext port serving only grpc.health.v1 (Kubernetes probes "
       "with TLS on --listen); empty: none",
       [](ProcessConfig& c, const std::string& v) {
         c.health_listen = v;
         return absl::OkStatus();
       }},
      {"log-requests", "one JSON log line per call: true or false",
       [](ProcessConfig& c, const std::string& v) {
         if (v != "true" && v != "false") {
           return absl::InvalidArgumentError(
               "--log-requests: must be \"true\" or \"false\"");
         }
         c.log_requests = v == "true";
         return absl::OkStatus();
       }},
      {"log-level", "lowest level logged: debug, info, warn or error",
       [](ProcessConfig&, const std::string& v) {
         std::optional<LogLevel> level = ParseLogLevel(v);
         if (!level.has_value()) {
           return absl::InvalidArgumentError(absl::StrCat(
               "--log-level: must be debug, info, warn or error, got \"", v,
               "\""));
         }
         // The logger is process-wide: set it as soon as it is known.
         SetMinLogLevel(*level);
         return absl::OkStatus();
       }},
      {"memory-budget-mb",
       "memory the process plans for, all in: half is the RocksDB cache "
       "shared by every hosted projection (memtables and index/filter "
       "blocks charged to it) less the in-memory indexes, the rest Kafka, "
       "gRPC and the heap of queries",
       [](ProcessConfig& c, const std::string& v) {
         return ParseInt("memory-budget-mb", v, c.memory_budget_mb, 64);
       }},
      {"malloc-arenas",
       "the most glibc malloc arenas (new threads get one each up to "
       "this, and an arena keeps memory); 0: glibc's limit, 8 per core; "
       "MALLOC_ARENA_MAX in the environment wins",
       [](ProcessConfig& c, const std::string& v) {
         return ParseInt("malloc-arenas", v, c.malloc_arenas, 0);
       }},
      {"malloc-trim-seconds",
       "how often the heap's free pages are given back to the kernel "
       "(glibc malloc_trim) when resident memory is at least 3/4 of "
       "--memory-budget-mb; 0: never",
       [](ProcessConfig& c, const std::string& v) {
         return ParseInt("malloc-trim-seconds", v, c.malloc_trim_seconds, 0);
       }},
      {"grpc-max-threads",
       "the most threads the gRPC server runs (calls beyond them are "
       "answered RESOURCE_EXHAUSTED); 0: max(256, 16 x hardware threads)",
       [](ProcessConfig& c, const std::string& v) {
         return ParseInt("grpc-max-threads", v, c.grpc_max_threads, 0);
       }},
      {"tls-cert", "PEM certificate chain of the gRPC port (re-read on change)",
       [](ProcessConfig& c, const std::string& v) {
         c.tls.cert_file = v;
         return absl::OkStatus();
       }},
      {"tls-key", "PEM private key of --tls-cert (re-read on change)",
       [](ProcessConfig& c, const std::string& v) {
         c.tls.key_file = v;
         return absl::OkStatus();
       }},
      {"tls-client-ca",
       "PEM CA of client certificates: mutual TLS; a client certificate's CN "
       "is a principal with the role service",
       [](ProcessConfig& c, const std::string& v) {
         c.tls.client_ca_file = v;
         return absl::OkStatus();
       }},
      {"tls-reload-seconds", "how often the TLS files are checked for changes",
       [](ProcessConfig& c, const std::string& v) {
         int32_t s = 0;
         RETURN_IF_ERROR(ParseInt("tls-reload-seconds", v, s, 1));
         c.tls.refresh = absl::Seconds(s);
         return absl::OkStatus();
       }},
      {"insecure-dev",
       "true: a developer's machine: plaintext gRPC without TLS and "
       "--dev-tokens allowed; only with a loopback --listen",
       [](ProcessConfig& c, const std::string& v) {
         if (v != "true" && v != "false") {
           return absl::InvalidArgumentError(
               "--insecure-dev: must be \"true\" or \"false\"");
         }
         c.tls.insecure_dev = v == "true";
         return absl::OkStatus();
       }},
      {"jwks-file",
       "JWKS of the keys that sign bearer JWTs (re-read on change)",
       [](ProcessConfig& c, const std::string& v) {
         c.jwks_file = v;
         return absl::OkStatus();
       }},
      {"jwt-issuer", "the iss every JWT must carry",
       [](ProcessConfig& c, const std::string& v) {
         c.jwt_issuer = v;
         return absl::OkStatus();
       }},
      {"jwt-audience", "the aud every JWT must contain",
       [](ProcessConfig& c, const std::string& v) {
         c.jwt_audience = v;
         return absl::OkStatus();
       }},
      {"jwt-roles-claim", "the JWT claim that lists the roles",
       [](ProcessConfig& c, const std::string& v) {
         c.jwt_roles_claim = v;
         return absl::OkStatus();
       }},
      {"jwt-clock-skew-seconds",
       "tolerated clock difference for exp/nbf/iat (at most 300)",
       [](ProcessConfig& c, const std::string& v) {
         int32_t s = 0;
         RETURN_IF_ERROR(ParseInt("jwt-clock-skew-seconds", v, s, 0));
         if (s > 300) {
           return absl::InvalidArgumentError(
               "--jwt-clock-skew-seconds: at most 300");
         }
         c.jwt_clock_skew = absl::Seconds(s);
         return absl::OkStatus();
       }},
      {"signature-max-age",
       "how old a signer's re-authentication may be, e.g. 5m (at most 1h)",
       [](ProcessConfig& c, const std::string& v) {
         absl::Duration d;
         if (!absl::ParseDuration(v, &d) || d <= absl::ZeroDuration() ||
             d > absl::Hours(1)) {
           return absl::InvalidArgumentError(
               "--signature-max-age: a duration such as 5m, at most 1h");
         }
         c.signature_max_age = d;
         return absl::OkStatus();
       }},
      {"max-message-bytes", "largest request accepted",
       [](ProcessConfig& c, const std::string& v) {
         return ParseInt("max-message-bytes", v, c.max_message_bytes, 1024);
       }},
      {"max-string-bytes", "longest string field accepted in any request",
       [](ProcessConfig& c, const std::string& v) {
         int32_t n = 0;
         RETURN_IF_ERROR(ParseInt("max-string-bytes", v, n, 64));
         c.limits.max_string_bytes = static_cast<size_t>(n);
         return absl::OkStatus();
       }},
  };
  return *flags;
}

// What --help shows as a flag's default, from the configuration a
// process starts from. Flags without an entry, or whose default is empty,
// show none (their help says what their absence means). Never shows
// --kafka-properties: it may carry a secret.
std::string DefaultText(const std::string& flag, const ProcessConfig& d) {
  using Show = std::string (*)(const ProcessConfig&);
  static const auto* shows = new std::map<std::string, Show>{
      {"listen", [](const ProcessConfig& c) { return c.listen; }},
      {"data-dir", [](const ProcessConfig& c) { return c.data_dir; }},
      {"log", [](const ProcessConfig& c) { return c.log; }},
      {"kafka-bootstrap",
       [](const ProcessConfig& c) { return c.kafka_bootstrap; }},
      {"kafka-replication-factor",
       [](const ProcessConfig& c) {
         return absl::StrCat(c.kafka_replication_factor);
       }},
      {"kafka-min-insync-replicas",
       [](const ProcessConfig& c) {
         return absl::StrCat(c.kafka_min_insync_replicas);
       }},
      {"partitions",
       [](const ProcessConfig& c) { return absl::StrCat(c.partitions); }},
      {"memory-budget-mb",
       [](const ProcessConfig& c) { return absl::StrCat(c.memory_budget_mb); }},
      {"malloc-arenas",
       [](const ProcessConfig& c) { return absl::StrCat(c.malloc_arenas); }},
      {"malloc-trim-seconds",
       [](const ProcessConfig& c) {
         return absl::StrCat(c.malloc_trim_seconds);
       }},
      {"dev-tokens", [](const ProcessConfig& c) { return c.dev_tokens; }},
      {"shutdown-grace-seconds",
       [](const ProcessConfig& c) {
         return absl::StrCat(absl::ToInt64Seconds(c.shutdown_grace));
       }},
      {"topic-prefix", [](const ProcessConfig& c) { return c.topic_prefix; }},
      {"writer-id", [](const ProcessConfig& c) { return c.writer_id; }},
      {"writer-election",
       [](const ProcessConfig& c) {
         return std::string(c.writer_election ? "true" : "false");
       }},
      {"advertise-address",
       [](const ProcessConfig& c) { return c.advertise_address; }},
      {"writer-lease-ms",
       [](const ProcessConfig& c) {
         return absl::StrCat(absl::ToInt64Milliseconds(c.writer_lease));
       }},
      {"checkpoint-key",
       [](const ProcessConfig& c) { return c.checkpoint_key; }},
      {"checkpoint-every-records",
       [](const ProcessConfig& c) {
         return absl::StrCat(c.checkpoint_every_records);
       }},
      {"checkpoint-every-seconds",
       [](const ProcessConfig& c) {
         return absl::StrCat(absl::ToInt64Seconds(c.checkpoint_every));
       }},
      {"expiry-sweep-seconds",
       [](const ProcessConfig& c) {
         return absl::StrCat(absl::ToInt64Seconds(c.expiry_sweep_interval));
       }},
      {"metrics-listen",
       [](const ProcessConfig& c) {
         return c.metrics_listen.empty() ? std::string("0") : c.metrics_listen;
       }},
      {"health-listen", [](const ProcessConfig& c) { return c.health_listen; }},
      {"log-requests",
       [](const ProcessConfig& c) {
         return std::string(c.log_requests ? "true" : "false");
       }},
      {"tls-cert", [](const ProcessConfig& c) { return c.tls.cert_file; }},
      {"tls-key", [](const ProcessConfig& c) { return c.tls.key_file; }},
      {"tls-client-ca",
       [](const ProcessConfig& c) { return c.tls.client_ca_file; }},
      {"tls-reload-seconds",
       [](const ProcessConfig& c) {
         return absl::StrCat(absl::ToInt64Seconds(c.tls.refresh));
       }},
      {"insecure-dev",
       [](const ProcessConfig& c) {
         return std::string(c.tls.insecure_dev ? "true" : "false");
       }},
      {"jwks-file", [](const ProcessConfig& c) { return c.jwks_file; }},
      {"jwt-issuer", [](const ProcessConfig& c) { return c.jwt_issuer; }},
      {"jwt-audience", [](const ProcessConfig& c) { return c.jwt_audience; }},
      {"jwt-roles-claim",
       [](const ProcessConfig& c) { return c.jwt_roles_claim; }},
      {"jwt-clock-skew-seconds",
       [](const ProcessConfig& c) {
         return absl::StrCat(absl::ToInt64Seconds(c.jwt_clock_skew));
       }},
      {"signature-max-age",
       [](const ProcessConfig& c) {
         return absl::FormatDuration(c.signature_max_age);
       }},
      {"max-message-bytes",
       [](const ProcessConfig& c) {
         return absl::StrCat(c.max_message_bytes);
       }},
      {"max-string-bytes",
       [](const ProcessConfig& c) {
         return absl::StrCat(c.limits.max_string_bytes);
       }},
  };
  auto it = shows->find(flag);
  return it == shows->end() ? "" : it->second(d);
}

std::string EnvName(const std::string& flag) {
  std::string env = "LOTLEDGER_";
  for (char ch : flag)
    env.push_back(ch == '-' ? '_' : static_cast<char>(toupper(ch)));
  return env;
}

}  // namespace

ProcessConfig ProcessDefaults() {
  ProcessConfig config;
  config.metrics_listen = "127.0.0.1:9090";
  config.expiry_sweep_interval = absl::Hours(1);
  config.log_requests = true;
  return config;
}

std::string Usage(const std::string& program) {
  return Usage(program, ProcessDefaults());
}

std::string Usage(const std::string& program, const ProcessConfig& defaults) {
  std::string out = absl::StrCat("usage: ", program, " [--flag=value ...]\n\n");
  for (const Flag& f : Flags()) {
    const std::string shown = DefaultText(f.name, defaults);
    absl::StrAppend(&out, "  --", f.name, "  (env ", EnvName(f.name),
                    shown.empty() ? "" : absl::StrCat(", default ", shown),
                    ")\n      ", f.help, "\n");
  }
  return out;
}

absl::StatusOr<ProcessConfig> ParseProcessConfig(int argc, char** argv,
                                                 const std::string& program) {
  return ParseProcessConfig(argc, argv, program, ProcessDefaults());
}

absl::StatusOr<ProcessConfig> ParseProcessConfig(
    int argc, char** argv, const std::string& program,
    const ProcessConfig& defaults) {
  ProcessConfig config = defaults;
  for (const Flag& f : Flags()) {
    if (const char* env = std::getenv(EnvName(f.name).c_str());
        env != nullptr) {
      RETURN_IF_ERROR(f.set(config, env));
    }
  }
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      return absl::CancelledError(Usage(program, defaults));
    }
    if (!arg.starts_with("--") || arg.find('=') == std::string::npos) {
      // Only up to the first '=': what follows may be a secret (a Kafka
      // password in --kafka-properties) and is never echoed.
      const size_t eq = arg.find('=');
      const std::string shown =
          eq == std::string::npos ? arg : arg.substr(0, eq) + "=...";
      return absl::InvalidArgumentError(
          absl::StrCat("argument \"", shown, "\": expected --flag=value\n",
                       Usage(program, defaults)));
    }
    const std::string name = arg.substr(2, arg.find('=') - 2);
    const std::string value = arg.substr(arg.find('=') + 1);
    bool known = false;
    for (const Flag& f : Flags()) {
      if (name == f.name) {
        RETURN_IF_ERROR(f.set(config, value));
        known = true;
      }
    }
    if (!known) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown flag --", name, "\n", Usage(program, defaults)));
    }
  }
  RETURN_IF_ERROR(ValidateProcessConfig(config));
  return config;
}

bool IsLoopbackAddress(std::string_view address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string host(address.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (absl::AsciiStrToLower(host) == "localhost") return true;
  in_addr v4;
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    // 127.0.0.0/8.
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    return IN6_IS_ADDR_LOOPBACK(&v6) != 0;
  }
  return false;
}

absl::Status ValidateProcessConfig(const ProcessConfig& config) {
  if (config.tls.cert_file.empty() && !config.tls.insecure_dev) {
    return absl::InvalidArgumentError(
        "--tls-cert and --tls-key: required (or --insecure-dev=true for "
        "plaintext on a developer's machine)");
  }
  if (config.tls.insecure_dev && !IsLoopbackAddress(config.listen)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--insecure-dev=true: only with a loopback --listen (127.0.0.0/8, "
        "[::1] or localhost), not ",
        config.listen,
        "; a server reachable from other machines needs --tls-cert and "
        "--tls-key, and JWTs (--jwks-file)"));
  }
  if (!config.dev_tokens.empty() && !config.tls.insecure_dev) {
    return absl::InvalidArgumentError(
        "--dev-tokens: only with --insecure-dev=true (a developer's machine, "
        "loopback only); a deployment authenticates with --jwks-file, "
        "--jwt-issuer and --jwt-audience");
  }
  if (config.writer_election && config.log != "kafka") {
    return absl::InvalidArgumentError(
        "--writer-election=true: only with --log=kafka (replicas share the "
        "Kafka log; an embedded log belongs to one process)");
  }
  if (config.log == "kafka" && config.kafka_bootstrap.empty()) {
    return absl::InvalidArgumentError(
        "--kafka-bootstrap: required with --log=kafka");
  }
  return absl::OkStatus();
}

void ConfigureMalloc(const ProcessConfig& config) {
  if (std::getenv("MALLOC_ARENA_MAX") != nullptr) return;
  if (config.malloc_arenas > 0) mallopt(M_ARENA_MAX, config.malloc_arenas);
}

MallocTrimmer::MallocTrimmer(absl::Duration period, size_t above_bytes)
    : thread_([this, period, above_bytes] {
        absl::MutexLock l(&mu_);
        while (!mu_.AwaitWithTimeout(absl::Condition(&stopping_), period)) {
          // Unknown (0) counts as above: the pages are given back.
          const size_t resident = ResidentBytes();
          if (resident == 0 || resident >= above_bytes) malloc_trim(0);
        }
      }) {}

MallocTrimmer::~MallocTrimmer() {
  {
    absl::MutexLock l(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

std::unique_ptr<MallocTrimmer> StartMallocTrimmer(const ProcessConfig& config) {
  if (config.malloc_trim_seconds <= 0) return nullptr;
  return std::make_unique<MallocTrimmer>(
      absl::Seconds(config.malloc_trim_seconds),
      (static_cast<size_t>(config.memory_budget_mb) << 20) / 4 * 3);
}

size_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0, resident = 0;
  if (!(statm >> pages >> resident)) return 0;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

absl::StatusOr<std::unique_ptr<eventlog::EventLog>> OpenEventLog(
    const ProcessConfig& config, const std::string& writer_name,
    std::shared_ptr<projection::MemoryBudget> memory) {
  if (config.log == "embedded") {
    const std::string dir =
        (std::filesystem::path(config.data_dir) / "log").string();
    std::error_code ec;
    std::filesystem::create_directories(config.data_dir, ec);
    if (ec) {
      return absl::FailedPreconditionError(
          absl::StrCat("--data-dir ", config.data_dir, ": ", ec.message()));
    }
    return eventlog::OpenEmbeddedEventLog(
        {.path = dir, .memory = std::move(memory)});
  }
  eventlog::KafkaOptions k;
  k.bootstrap_servers = config.kafka_bootstrap;
  k.transactional_id = absl::StrCat(
      "lotledger-", config.writer_id.empty() ? writer_name : config.writer_id);
  k.client_id = absl::StrCat("lotledger-", writer_name);
  k.extra_properties = config.kafka_properties;
  k.replication_factor = config.kafka_replication_factor;
  k.min_insync_replicas = config.kafka_min_insync_replicas;
  // A replica with a writer lease neither fences nor writes until it
  // holds the lease (services/host/writer_election.h).
  k.standby = config.writer_election;
  return eventlog::KafkaEventLog::Create(k);
}

void BlockTerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitForTerminationSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

}  // namespace lotledger::server
