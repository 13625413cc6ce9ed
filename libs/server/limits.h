// Server-wide request limits that no handler has to remember: every
// string field of every request (at any depth) is at most
// `max_string_bytes` long. gRPC itself enforces the maximum message size
// (ServerOptions::max_message_bytes, RESOURCE_EXHAUSTED).
//
// A gRPC server interceptor inspects each received request; a violation is
// answered by Guard::Check (auth.h), which every handler calls first, as
// INVALID_ARGUMENT naming the field, before anything else happens. Only
// lotledger's own methods (`/lotledger.*`, generated protobuf services)
// are inspected; health and reflection are not.
//
// Thread-safety: the interceptor and TakeLimitViolation are thread-safe.
#ifndef LOTLEDGER_LIBS_SERVER_LIMITS_H_
#define LOTLEDGER_LIBS_SERVER_LIMITS_H_

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_interceptor.h>

#include <cstddef>
#include <memory>

#include "absl/status/status.h"
#include "google/protobuf/message.h"

namespace lotledger::server {

struct RequestLimits {
  size_t max_string_bytes = 16 * 1024;
};

// OK, or INVALID_ARGUMENT naming the first string field (as a path such
// as `inputs[2].lot_id`) longer than the limit.
absl::Status CheckStringLengths(const google::protobuf::Message& message,
                                size_t max_string_bytes);

// The interceptor for ServerBuilder::experimental().SetInterceptorCreators.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeLimitsInterceptorFactory(RequestLimits limits);

// The violation the interceptor found for the call of `ctx` (and forgets
// it), or OK.
absl::Status TakeLimitViolation(const grpc::ServerContext& ctx);

}  // namespace lotledger::server

#endif  // LOTLEDGER_LIBS_SERVER_LIMITS_H_
