#include "tools/bench/harness.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

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

void Report(const Result& r) {
  std::printf("%s\n", r.Json().c_str());
  std::fprintf(stderr,
               "%-12s %-9s x%-4d %9.0f ops/s  p50 %8.1f us  p99 %8.1f us  "
               "p999 %8.1f us  (%llu ops in %.1f s) %s\n",
               r.scenario.c_str(), r.backend.c_str(), r.concurrency,
               r.seconds > 0 ? r.operations / r.seconds : 0, r.p50_us, r.p99_us,
               r.p999_us, static_cast<unsigned long long>(r.operations),
               r.seconds, r.note.c_str());
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
  if (a.Get("backend", "embedded") == "kafka") {
    c.log = "kafka";
    c.kafka_bootstrap = KafkaBootstrap(a);
    c.topic_prefix =
        absl::StrCat("bench", absl::ToUnixSeconds(absl::Now()), ".");
    c.writer_id = c.topic_prefix;
  }
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
