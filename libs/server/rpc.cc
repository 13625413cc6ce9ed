#include "libs/server/rpc.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <algorithm>
#include <array>
#include <cstdio>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "libs/common/status_macros.h"
#include "libs/metrics/metrics.h"

namespace lotledger::server {
namespace {

using grpc::experimental::InterceptionHookPoints;

const char* CodeName(grpc::StatusCode code) {
  static constexpr std::array<const char*, 17> kNames = {"OK",
                                                         "CANCELLED",
                                                         "UNKNOWN",
                                                         "INVALID_ARGUMENT",
                                                         "DEADLINE_EXCEEDED",
                                                         "NOT_FOUND",
                                                         "ALREADY_EXISTS",
                                                         "PERMISSION_DENIED",
                                                         "RESOURCE_EXHAUSTED",
                                                         "FAILED_PRECONDITION",
                                                         "ABORTED",
                                                         "OUT_OF_RANGE",
                                                         "UNIMPLEMENTED",
                                                         "INTERNAL",
                                                         "UNAVAILABLE",
                                                         "DATA_LOSS",
                                                         "UNAUTHENTICATED"};
  const auto i = static_cast<size_t>(code);
  return i < kNames.size() ? kNames[i] : "UNKNOWN";
}

// The actor of each call in flight, keyed by its ServerContext: Serve
// learns it, the call's interceptor logs it. Sharded so calls on many
// threads rarely meet on one lock.
class Actors {
 public:
  void Begin(const void* call) {
    Shard& s = ShardOf(call);
    absl::MutexLock l(&s.mu);
    s.actors[call];
  }
  void Set(const void* call, const std::string& actor) {
    Shard& s = ShardOf(call);
    absl::MutexLock l(&s.mu);
    if (auto it = s.actors.find(call); it != s.actors.end()) it->second = actor;
  }
  std::string End(const void* call) {
    Shard& s = ShardOf(call);
    absl::MutexLock l(&s.mu);
    auto it = s.actors.find(call);
    if (it == s.actors.end()) return "";
    std::string actor = std::move(it->second);
    s.actors.erase(it);
    return actor;
  }

 private:
  struct Shard {
    absl::Mutex mu;
    absl::flat_hash_map<const void*, std::string> actors ABSL_GUARDED_BY(mu);
  };
  Shard& ShardOf(const void* call) {
    return shards_[(reinterpret_cast<uintptr_t>(call) >> 4) % shards_.size()];
  }
  std::array<Shard, 16> shards_;
};

Actors& ActorsOfCalls() {
  static auto* actors = new Actors();
  return *actors;
}

const void* CallKey(const grpc::ServerContextBase* ctx) { return ctx; }

struct CallMetrics {
  metrics::CounterFamily requests = metrics::Default().Counter(
      "lotledger_grpc_requests_total",
      "gRPC calls handled, by service, method and outcome code");
  metrics::HistogramFamily latency = metrics::Default().Histogram(
      "lotledger_grpc_request_duration_seconds",
      "Time from receiving a unary call to sending its status",
      metrics::LatencyBuckets());
};

const CallMetrics& Metrics() {
  static const auto* m = new CallMetrics();
  return *m;
}

}  // namespace

// One per lotledger call: created when the call arrives, destroyed when it
// is done.
class CallInterceptor final : public grpc::experimental::Interceptor {
 public:
  CallInterceptor(CallTracker* tracker, grpc::experimental::ServerRpcInfo* info)
      : tracker_(tracker),
        key_(CallKey(info->server_context())),
        unary_(info->type() == grpc::experimental::ServerRpcInfo::Type::UNARY),
        start_(absl::Now()) {
    const std::string_view full = info->method();  // "/pkg.Service/Method"
    const size_t slash = full.rfind('/');
    service_ = std::string(full.substr(1, slash - 1));
    method_ = std::string(full.substr(slash + 1));
    ActorsOfCalls().Begin(key_);
    if (unary_) tracker_->Enter();
  }

  ~CallInterceptor() override {
    // A call that never sent a status (cancelled before its handler ran).
    if (!finished_) Finish(grpc::Status(grpc::StatusCode::CANCELLED, ""));
    if (unary_) tracker_->Exit();
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* m) override {
    if (m->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_MESSAGE) &&
        m->GetRecvMessage() != nullptr && request_id_.empty()) {
      // Generated lotledger services deserialize into their request
      // message, whose first (and only) base is protobuf::Message.
      const auto* msg =
          static_cast<const google::protobuf::Message*>(m->GetRecvMessage());
      const google::protobuf::FieldDescriptor* field =
          msg->GetDescriptor()->FindFieldByName("request_id");
      if (field != nullptr && !field->is_repeated() &&
          field->type() == google::protobuf::FieldDescriptor::TYPE_STRING) {
        request_id_ = msg->GetReflection()->GetString(*msg, field);
      }
    }
    if (m->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS)) {
      Finish(m->GetSendStatus());
    }
    m->Proceed();
  }

 private:
  void Finish(const grpc::Status& status) {
    finished_ = true;
    const double seconds = absl::ToDoubleSeconds(absl::Now() - start_);
    const char* code = CodeName(status.error_code());
    const std::string actor = ActorsOfCalls().End(key_);
    Metrics().requests.Increment(
        {{"service", service_}, {"method", method_}, {"code", code}});
    if (unary_) {
      Metrics().latency.Observe({{"service", service_}, {"method", method_}},
                                seconds);
    }
    if (!tracker_->options_.log_requests) return;
    std::vector<std::pair<std::string, std::string>> fields = {
        {"service", JsonString(service_)},
        {"method", JsonString(method_)},
        {"request_id", JsonString(request_id_)},
        {"actor", JsonString(actor)},
        {"code", JsonString(code)},
        {"latency_ms", absl::StrFormat("%.3f", seconds * 1e3)},
    };
    if (!status.ok()) {
      fields.emplace_back("error", JsonString(status.error_message()));
    }
    LogLine(status.ok() ? "info" : "warn", "rpc", fields);
  }

  CallTracker* const tracker_;
  const void* const key_;
  const bool unary_;
  const absl::Time start_;
  std::string service_;
  std::string method_;
  std::string request_id_;
  bool finished_ = false;
};

namespace {

class CallInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit CallInterceptorFactory(CallTracker* tracker) : tracker_(tracker) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    if (info->method() == nullptr ||
        !std::string_view(info->method()).starts_with("/lotledger.")) {
      return nullptr;
    }
    return new CallInterceptor(tracker_, info);
  }

 private:
  CallTracker* const tracker_;
};

}  // namespace

void NoteActor(const grpc::ServerContext& ctx, const Principal& principal) {
  ActorsOfCalls().Set(CallKey(&ctx), principal.name);
}

CallTracker::CallTracker(Options options) : options_(options) {}
CallTracker::~CallTracker() = default;

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
CallTracker::NewInterceptorFactory() {
  return std::make_unique<CallInterceptorFactory>(this);
}

void CallTracker::Enter() {
  absl::MutexLock l(&mu_);
  ++in_flight_;
}

void CallTracker::Exit() {
  absl::MutexLock l(&mu_);
  --in_flight_;
}

bool CallTracker::AwaitIdle(absl::Time deadline) {
  absl::MutexLock l(&mu_);
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return in_flight_ == 0;
  };
  return mu_.AwaitWithDeadline(absl::Condition(&idle), deadline);
}

int64_t CallTracker::in_flight() const {
  absl::MutexLock l(&mu_);
  return in_flight_;
}

void LogLine(std::string_view level, std::string_view msg,
             const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string line = absl::StrCat(
      "{\"ts\":\"",
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(),
                       absl::UTCTimeZone()),
      "\",\"level\":", JsonString(level), ",\"msg\":", JsonString(msg));
  for (const auto& [name, value] : fields) {
    absl::StrAppend(&line, ",", JsonString(name), ":", value);
  }
  line += "}\n";
  // One write per line, so lines of concurrent calls never interleave.
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

absl::Time DeadlineOf(const grpc::ServerContext& ctx) {
  constexpr absl::Duration kLongest = absl::Seconds(30);
  const absl::Time requested = absl::FromChrono(ctx.deadline());
  return std::min(requested, absl::Now() + kLongest);
}

absl::Status WaitForToken(command::Projector& projector,
                          const grpc::ServerContext& ctx,
                          const v1::ConsistencyToken& after) {
  // The read barrier too: a query answers with every fact acknowledged
  // before it arrived, token or not.
  return projector.CatchUp(command::FromToken(after), DeadlineOf(ctx));
}

command::CommandContext MakeCommandContext(const grpc::ServerContext& ctx,
                                           const Principal& principal,
                                           const std::string& request_id,
                                           const v1::ConsistencyToken& after,
                                           absl::Time now) {
  command::CommandContext c;
  c.request_id = request_id;
  c.actor = principal.name;
  c.method = principal.method;
  c.now = now;
  c.after = command::FromToken(after);
  c.deadline = DeadlineOf(ctx);
  const auto& md = ctx.client_metadata();
  if (auto it = md.find("x-correlation-id"); it != md.end()) {
    c.correlation_id.assign(it->second.data(), it->second.size());
  }
  return c;
}

}  // namespace lotledger::server
