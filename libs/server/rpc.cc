#include "libs/server/rpc.h"

#include <algorithm>

#include "absl/time/clock.h"

namespace lotledger::server {

absl::Time DeadlineOf(const grpc::ServerContext& ctx) {
  constexpr absl::Duration kLongest = absl::Seconds(30);
  const absl::Time requested = absl::FromChrono(ctx.deadline());
  return std::min(requested, absl::Now() + kLongest);
}

absl::Status WaitForToken(command::Projector& projector,
                          const grpc::ServerContext& ctx,
                          const v1::ConsistencyToken& after) {
  if (after.offsets().empty()) return absl::OkStatus();
  return projector.WaitFor(command::FromToken(after), DeadlineOf(ctx));
}

command::CommandContext MakeCommandContext(const grpc::ServerContext& ctx,
                                           const Principal& principal,
                                           const std::string& request_id,
                                           const v1::ConsistencyToken& after,
                                           absl::Time now) {
  command::CommandContext c;
  c.request_id = request_id;
  c.actor = principal.name;
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
