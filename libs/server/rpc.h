// Helpers every RPC handler uses: authenticate and authorize, run the body,
// map its status once; and build the command context from the call.
//
// CallTracker is the one place that watches every lotledger call of a
// server (a gRPC server interceptor): the call's W3C trace context, taken
// from its `traceparent` metadata or started (trace_context.h); one JSON
// log line per call (service, method, request id, actor, outcome code,
// latency, trace id; never a token), the
// request counters and latency histograms, and the count of unary calls in
// flight that a graceful shutdown waits for.
#ifndef LOTLEDGER_LIBS_SERVER_RPC_H_
#define LOTLEDGER_LIBS_SERVER_RPC_H_

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_interceptor.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "libs/command/command_runner.h"
#include "libs/command/projector.h"
#include "libs/common/json_log.h"
#include "libs/common/trace_context.h"
#include "libs/server/auth.h"
#include "libs/server/status.h"
#include "lotledger/v1/common.pb.h"

namespace lotledger::server {

// Tells the call's log line who the authenticated caller is.
void NoteActor(const grpc::ServerContext& ctx, const Principal& principal);

// The call's W3C trace context: the one its interceptor took from the
// `traceparent` metadata (or started, when it was missing or invalid).
TraceContext TraceOfCall(const grpc::ServerContext& ctx);

// Runs `body(principal)` for an authorized caller of `method`, with the
// call's trace context set for this thread (so every log line and every
// event the call writes carries it).
template <typename Body>
grpc::Status Serve(const Guard& guard, const grpc::ServerContext& ctx,
                   std::string_view method, Body&& body) {
  ScopedTraceContext trace(TraceOfCall(ctx));
  absl::StatusOr<Principal> principal = guard.Check(ctx, method);
  if (!principal.ok()) return ToGrpc(principal.status());
  NoteActor(ctx, *principal);
  return ToGrpc(body(*principal));
}

// Watches the lotledger calls ("/lotledger.*") of one server; health and
// reflection calls are not logged or counted.
//
// Thread-safety: all methods may be called from any thread; the tracker
// must outlive the server it is installed in.
class CallTracker {
 public:
  struct Options {
    bool log_requests = true;
    // On a standby replica: the writer's address, sent with every
    // UNAVAILABLE answer as the `lotledger-writer` trailing metadata
    // (command/writer_role.h), for clients to retry there. Null, or "":
    // none.
    std::function<std::string()> writer_address;
  };
  explicit CallTracker(Options options);
  ~CallTracker();

  // An interceptor factory for grpc::ServerBuilder.
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
  NewInterceptorFactory();

  // Waits until no unary call is in flight; false when `deadline` passed
  // first. Server streams (WatchAlerts) are not waited for.
  bool AwaitIdle(absl::Time deadline);
  int64_t in_flight() const;

 private:
  friend class CallInterceptor;
  void Enter();
  void Exit();

  const Options options_;
  mutable absl::Mutex mu_;
  int64_t in_flight_ ABSL_GUARDED_BY(mu_) = 0;
};

// A JSON string literal of `s`, quoted and escaped (libs/common/json_log.h).
using ::lotledger::JsonString;
// Writes one line with the one logger (libs/common/json_log.h LogJsonRaw):
// each field value must already be JSON (JsonString for strings).
void LogLine(
    std::string_view level, std::string_view msg,
    const std::vector<std::pair<std::string, std::string>>& fields = {});

// Sends what gRPC core and protobuf log (plain text on stderr by default)
// through the one logger, so every line of a server process is JSON.
// Idempotent; GrpcServer::Start calls it.
void RouteLibraryLogsToJson();

// The call's deadline, bounded so a command never waits forever.
absl::Time DeadlineOf(const grpc::ServerContext& ctx);

// Before a query: waits (bounded by the call's deadline) until `projector`
// has applied every fact other services acknowledged before the call (the
// read barrier, Projector::CatchUp) and the client's consistency token.
absl::Status WaitForToken(command::Projector& projector,
                          const grpc::ServerContext& ctx,
                          const v1::ConsistencyToken& after);

command::CommandContext MakeCommandContext(const grpc::ServerContext& ctx,
                                           const Principal& principal,
                                           const std::string& request_id,
                                           const v1::ConsistencyToken& after,
                                           absl::Time now);

}  // namespace lotledger::server

#endif  // LOTLEDGER_LIBS_SERVER_RPC_H_
