// Server-wide request limits that no handler has to remember:
//  - every method has its own request size limit, fitted to what it
//    carries (MaxRequestBytes: 64 KiB for a query, 256 KiB for a command
//    on one aggregate, 1 MiB for one with lists such as CreateLot's inputs
//    or ShipStock's lines), never above `max_message_bytes`; gRPC itself
//    refuses (RESOURCE_EXHAUSTED) anything above the largest of them
//    before decoding it, the interceptor a request above its method's own;
//  - every string field of every request (at any depth) is at most
//    `max_string_bytes` long.
// Requests without a valid credential never get this far: they are
// refused before their message is read (early_auth.h).
//
// A gRPC server interceptor inspects each received request; a violation is
// answered by Guard::Check (auth.h), which every handler calls first, as
// RESOURCE_EXHAUSTED naming the method's limit or INVALID_ARGUMENT naming
// the field, before authorization and anything else happens. Only
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
#include <string_view>

#include "absl/status/status.h"
#include "google/protobuf/message.h"

namespace lotledger::server {

struct RequestLimits {
  size_t max_string_bytes = 16 * 1024;
  // The cap on every method's own limit (--max-message-bytes).
  size_t max_message_bytes = 4 << 20;
};

// The largest request (serialized bytes) `method`
// ("/lotledger.v1.LotsService/CreateLot") accepts, at most `cap`. A method
// without an entry of its own gets the query limit.
size_t MaxRequestBytes(std::string_view method, size_t cap);
// The largest of every method's limit, at most `cap`: what gRPC is told
// to accept at all.
size_t LargestRequestBytes(size_t cap);

// OK, or RESOURCE_EXHAUSTED naming the method and its limit when
// `message` is larger.
absl::Status CheckRequestSize(std::string_view method,
                              const google::protobuf::Message& message,
                              size_t cap);

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
