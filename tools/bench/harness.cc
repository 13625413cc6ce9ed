#include "tools/bench/harness.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "libs/server/process.h"

namespace lotledger::bench {

std::string Args::Get(const std::string& k, const std::string& def) const {
  auto it = kv.find(k);
  return it == kv.end() ? def : it->second;
}

int64_t Args::Int(const std::string& k, int64_t def) const {
  int64_t v = def;
  auto it = kv.find(k);
  if (it != kv.end() && !absl::SimpleAtoi(it->second, &v)) {
    std::fprintf(stderr, "--%s: not an integer\n", k.c_str());
    std::exit(2);
  }
  return v;
}

namespace {

// per_second of each limit, by "scenario" and by "scenario@concurrency".
std::map<std::string, double>& Limits() {
  static auto* limits = new std::map<std::string, double>();
  return *limits;
}

// The string or number after "key": in one JSON line of ours.
std::string JsonField(const std::string& line, const std::string& key) {
  const std::string k = "\"" + key + "\":";
  size_t at = line.find(k);
  if (at == std::string::npos) return "";
  at += k.size();
  if (line[at] == '"') {
    const size_t end = line.find('"', at + 1);
    return line.substr(at + 1, end - at - 1);
  }
  const size_t end = line.find_first_of(",}", at);
  return line.substr(at, end - at);
}

std::string LimitFor(const Result& r) {
  const std::string& s = r.scenario;
  if (s == "log_append")
    return r.backend == "kafka" ? "limit_kafka_produce"
                                : "limit_rocksdb_synced";
  if (s == "lots_create" || s.starts_with("ship") || s == "commands") {
    return "limit_grpc_noop";
  }
  if (s.starts_with("replay") || s == "lots_replay" || s == "audit_index")
    return "limit_rocksdb_unsynced";
  return "";
}

}  // namespace

void LoadLimits(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    Die(absl::NotFoundError(absl::StrCat("--limits: cannot read ", path)));
  std::string line;
  while (std::getline(in, line)) {
    const std::string scenario = JsonField(line, "scenario");
    if (!scenario.starts_with("limit_")) continue;
    double per_second = 0;
    if (!absl::SimpleAtod(JsonField(line, "per_second"), &per_second)) continue;
    const std::string conc = JsonField(line, "concurrency");
    Limits()[scenario + "@" + conc] = per_second;
    double& best = Limits()[scenario];
    best = std::max(best, per_second);
  }
  if (Limits().empty())
    Die(absl::InvalidArgumentError(
        absl::StrCat("--limits: no limit_* line in ", path)));
}

void Report(const Result& in) {
  Result r = in;
  if (r.limit.empty() && !Limits().empty() && r.seconds > 0) {
    const std::string limit = LimitFor(r);
    auto it = Limits().find(absl::StrCat(limit, "@", r.concurrency));
    if (it == Limits().end()) it = Limits().find(limit);
    if (it != Limits().end() && it->second > 0) {
      r.limit = limit;
      r.ratio = r.operations / r.seconds / it->second;
    }
  }
  std::printf("%s\n", r.Json().c_str());
  std::fprintf(stderr,
               "%-12s %-9s x%-4d %9.0f ops/s  p50 %8.1f us  p99 %8.1f us  "
               "p999 %8.1f us  (%llu ops in %.1f s) %s\n",
               r.scenario.c_str(), r.backend.c_str(), r.concurrency,
               r.seconds > 0 ? r.operations / r.seconds : 0, r.p50_us, r.p99_us,
               r.p999_us, static_cast<unsigned long long>(r.operations),
               r.seconds, r.note.c_str());
  if (!r.limit.empty())
    std::fprintf(stderr, "%-12s = %.3f of %s\n", "", r.ratio, r.limit.c_str());
  std::fflush(stdout);
}

[[noreturn]] void Die(const absl::Status& s) {
  std::fprintf(stderr, "bench: %s\n", s.ToString().c_str());
  std::fflush(stderr);
  // Server threads are still running: skip static destructors.
  std::_Exit(1);
}

std::string KafkaBootstrap(const Args& a) {
  const char* env = std::getenv("LOTLEDGER_TEST_KAFKA");
  std::string k = a.Get("kafka", env ? env : "");
  if (k.empty())
    Die(absl::InvalidArgumentError("--kafka or $LOTLEDGER_TEST_KAFKA needed"));
  return k;
}

std::unique_ptr<ServerHost> StartHost(
    const Args& a, const std::string& dir, bool fresh,
    const std::vector<std::string>& services) {
  return StartHost(a, dir, fresh, services, nullptr);
}

std::unique_ptr<ServerHost> StartHost(
    const Args& a, const std::string& dir, bool fresh,
    const std::vector<std::string>& services,
    const std::function<void(server::ProcessConfig&)>& adjust) {
  if (fresh) std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/tokens")
      << "tok-bench bench admin,operator,auditor,qa_inspector,qa_approver,"
         "recall_manager\n";
  server::ProcessConfig c;
  c.listen = "127.0.0.1:0";
  c.data_dir = dir;
  c.dev_tokens = dir + "/tokens";
  c.tls.insecure_dev = true;  // plaintext on 127.0.0.1
  // The per-call JSON log line costs as much as a small command; measure
  // the service, not stderr (--log-requests=true to include it).
  c.log_requests = a.Get("log-requests", "false") == "true";
  c.partitions = static_cast<int32_t>(a.Int("partitions", 3));
  // --read-barrier=off measures what the barrier costs (ADR 0004); never
  // a setting to run with.
  if (a.Get("read-barrier", "on") == "off") {
    setenv("LOTLEDGER_READ_BARRIER", "off", 1);
  } else {
    unsetenv("LOTLEDGER_READ_BARRIER");
  }
  // Projections are checked at start as the manifests check them
  // (k8s/base/common): "full" hashes every projection at each stop and
  // start, minutes at 10^7 events, which a run would count as catching up.
  setenv("LOTLEDGER_VERIFY_PROJECTION",
         a.Get("verify-projection", "quick").c_str(), 1);
  if (a.Get("backend", "embedded") == "kafka") {
    c.log = "kafka";
    c.kafka_bootstrap = KafkaBootstrap(a);
    c.topic_prefix = absl::StrCat("bench", absl::ToUnixSeconds(absl::Now()),
                                  "p", getpid(), ".");
    c.writer_id = c.topic_prefix;
  }
  if (adjust) adjust(c);
  auto host = ServerHost::Start(c, "bench", services);
  if (!host.ok()) Die(host.status());
  return std::move(*host);
}

std::unique_ptr<grpc::ClientContext> Ctx() {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->AddMetadata("authorization", "Bearer tok-bench");
  ctx->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::seconds(30));
  return ctx;
}

std::shared_ptr<grpc::Channel> Channel(const std::string& target, int i) {
  static absl::Mutex mu;
  static auto* channels = new std::map<std::pair<std::string, int>,
                                       std::shared_ptr<grpc::Channel>>();
  const int slot = i < 0 ? 0 : i % g_channels;
  absl::MutexLock l(&mu);
  auto& ch = (*channels)[{target, slot}];
  if (ch == nullptr) {
    grpc::ChannelArguments args;
    args.SetInt("bench.channel", slot);  // distinct args: distinct connections
    ch = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(),
                                   args);
  }
  return ch;
}

}  // namespace lotledger::bench
