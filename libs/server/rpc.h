// Helpers every RPC handler uses: authenticate and authorize, run the body,
// map its status once; and build the command context from the call.
#ifndef LOTLEDGER_LIBS_SERVER_RPC_H_
#define LOTLEDGER_LIBS_SERVER_RPC_H_

#include <grpcpp/server_context.h>

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "libs/command/command_runner.h"
#include "libs/command/projector.h"
#include "libs/server/auth.h"
#include "libs/server/status.h"
#include "lotledger/v1/common.pb.h"

namespace lotledger::server {

// Runs `body(principal)` for an authorized caller of `method`.
template <typename Body>
grpc::Status Serve(const Guard& guard, const grpc::ServerContext& ctx,
                   std::string_view method, Body&& body) {
  absl::StatusOr<Principal> principal = guard.Check(ctx, method);
  if (!principal.ok()) return ToGrpc(principal.status());
  return ToGrpc(body(*principal));
}

// The call's deadline, bounded so a command never waits forever.
absl::Time DeadlineOf(const grpc::ServerContext& ctx);

// Before a query: waits (bounded by the call's deadline) until `projector`
// has applied the client's consistency token. An empty token waits for
// nothing.
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
