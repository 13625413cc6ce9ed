#include "libs/server/rpc.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/stubs/logging.h>
#include <grpc/support/log.h>

#include <algorithm>
#include <array>
#include <mutex>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "libs/common/status_macros.h"
#include "libs/common/trace_context.h"
#include "libs/metrics/metrics.h"
#include "libs/server/status.h"

namespace lotledger::server {
namespace {

using grpc::experimental::InterceptionHookPoints;

// What Serve and the call's interceptor share about each call in flight,
// keyed by its ServerContext: the actor (Serve learns it, the interceptor
// logs it) and the trace context (the interceptor takes it from the
// metadata, Serve sets it for the handler). Sharded so calls on many
// threads rarely meet on one lock.
struct CallState {
  std::string actor;
  TraceContext trace;
};

class Calls {
 public:
  void Begin(const void* call) {
    Shard& s = ShardOf(call);
    absl::MutexLock l(&s.mu);
    s.calls[call];
  }
  void SetActor(const void* call, const std::string& actor) {
    Shard& s = ShardOf(call);
    absl::MutexLock l(&s.mu);
    if (auto it = s.calls.find(call); it != s.calls.end()) {
      it->second.actor = actor;
    }
  }
  void SetTrace(const void* call, const TraceContext& trace) {
    Shard& s = ShardOf(call);
    absl::MutexLock l(&s.mu);
    if (auto it = s.calls.find(call); it != s.calls.end()) {
      it->second.trace = trace;
    }
  }
  std::optional<TraceContext> Trace(const void* call) {
    Shard& s = ShardOf(call);
    absl::MutexLock l(&s.mu);
    auto it = s.calls.find(call);
    if (it == s.calls.end() || !it->second.trace.valid()) return std::nullopt;
    return it->second.trace;
  }
  std::string End(const void* call) {
    Shard& s = ShardOf(call);
    absl::MutexLock l(&s.mu);
    auto it = s.calls.find(call);
    if (it == s.calls.end()) return "";
    std::string actor = std::move(it->second.actor);
    s.calls.erase(it);
    return actor;
  }

 private:
  struct Shard {
    absl::Mutex mu;
    absl::flat_hash_map<const void*, CallState> calls ABSL_GUARDED_BY(mu);
  };
  Shard& ShardOf(const void* call) {
    return shards_[(reinterpret_cast<uintptr_t>(call) >> 4) % shards_.size()];
  }
  std::array<Shard, 16> shards_;
};

Calls& CallsInFlight() {
  static auto* calls = new Calls();
  return *calls;
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
    CallsInFlight().Begin(key_);
    if (unary_) tracker_->Enter();
  }

  ~CallInterceptor() override {
    // A call that never sent a status (cancelled before its handler ran).
    if (!finished_) Finish(grpc::Status(grpc::StatusCode::CANCELLED, ""));
    if (unary_) tracker_->Exit();
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* m) override {
    if (m->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      // The caller's W3C traceparent, or a new trace when it sent none
      // or an invalid one (never refused).
      std::string_view header;
      if (auto* md = m->GetRecvInitialMetadata(); md != nullptr) {
        if (auto it = md->find(kTraceparentMetadata); it != md->end()) {
          header = std::string_view(it->second.data(), it->second.size());
        }
      }
      trace_ = TraceFromHeader(header);
      CallsInFlight().SetTrace(key_, trace_);
    }
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
      const grpc::Status status = m->GetSendStatus();
      if (status.error_code() == grpc::StatusCode::UNAVAILABLE &&
          tracker_->options_.writer_address) {
        if (std::string writer = tracker_->options_.writer_address();
            !writer.empty()) {
          m->GetSendTrailingMetadata()->emplace(command::kWriterMetadata,
                                                std::move(writer));
        }
      }
      Finish(status);
    }
    m->Proceed();
  }

 private:
  void Finish(const grpc::Status& status) {
    finished_ = true;
    const double seconds = absl::ToDoubleSeconds(absl::Now() - start_);
    const std::string code = CodeName(status.error_code());
    const std::string actor = CallsInFlight().End(key_);
    Metrics().requests.Increment(
        {{"service", service_}, {"method", method_}, {"code", code}});
    if (unary_) {
      Metrics().latency.Observe({{"service", service_}, {"method", method_}},
                                seconds);
    }
    if (!tracker_->options_.log_requests) return;
    if (!trace_.valid()) trace_ = NewTrace();
    ScopedTraceContext scope(trace_);
    JsonRawFields fields = {
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
    LogJsonRaw(status.ok() ? "info" : "warn", "rpc", fields);
  }

  CallTracker* const tracker_;
  const void* const key_;
  const bool unary_;
  const absl::Time start_;
  std::string service_;
  std::string method_;
  std::string request_id_;
  TraceContext trace_;
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
  CallsInFlight().SetActor(CallKey(&ctx), principal.name);
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
  LogJsonRaw(level, msg, fields);
}

void RouteLibraryLogsToJson() {
  static std::once_flag once;
  std::call_once(once, [] {
    google::protobuf::SetLogHandler([](google::protobuf::LogLevel level,
                                       const char* file, int line,
                                       const std::string& message) {
      const char* name = level >= google::protobuf::LOGLEVEL_ERROR     ? "error"
                         : level == google::protobuf::LOGLEVEL_WARNING ? "warn"
                                                                       : "info";
      LogJsonRaw(name, message,
                 {{"source", JsonString("protobuf")},
                  {"file", JsonString(file)},
                  {"line", absl::StrCat(line)}});
    });
    gpr_set_log_function([](gpr_log_func_args* args) {
      const char* name = args->severity == GPR_LOG_SEVERITY_ERROR  ? "error"
                         : args->severity == GPR_LOG_SEVERITY_INFO ? "info"
                                                                   : "debug";
      LogJsonRaw(name, args->message,
                 {{"source", JsonString("grpc")},
                  {"file", JsonString(args->file)},
                  {"line", absl::StrCat(args->line)}});
    });
  });
}

TraceContext TraceOfCall(const grpc::ServerContext& ctx) {
  if (std::optional<TraceContext> t = CallsInFlight().Trace(CallKey(&ctx))) {
    return *std::move(t);
  }
  // A server without the CallTracker: the header as it came.
  const auto& md = ctx.client_metadata();
  auto it = md.find(kTraceparentMetadata);
  return TraceFromHeader(
      it == md.end() ? std::string_view()
                     : std::string_view(it->second.data(), it->second.size()));
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
  // The trace the call works for (Serve set it for this thread).
  const TraceContext& trace = CurrentTrace();
  c.traceparent = (trace.valid() ? trace : TraceOfCall(ctx)).ToTraceparent();
  const auto& md = ctx.client_metadata();
  if (auto it = md.find("x-correlation-id"); it != md.end()) {
    c.correlation_id.assign(it->second.data(), it->second.size());
  }
  return c;
}

}  // namespace lotledger::server
