// CommandRunner: the write half of design.md's command path, shared by
// every service. For one command it
//   1. locks the aggregates the command reads and writes (striped locks,
//      taken in a fixed order so two commands cannot deadlock);
//   2. waits until the projection has applied every offset of the client's
//      consistency token (its own earlier writes to these aggregates are
//      applied already: each command waits for that before unlocking);
//   3. answers a request id it has seen before with the first outcome and
//      writes nothing (idempotent retry);
//   4. runs the service's decide function (pure Decide over projected
//      state), fills in each event's envelope (id, actor, times, request),
//      seals the events into each aggregate's hash chain;
//   5. appends them atomically (one Kafka transaction / one embedded batch)
//      and waits until the projection applied them, so the caller can
//      answer from the projection.
// After an append whose outcome is unknown (broker timeout), the next
// command on that partition first catches up to the log's end offset, so a
// record that did land is seen before anything is decided again.
//
// Thread-safety: Run may be called from any number of threads.
#ifndef LOTLEDGER_LIBS_COMMAND_COMMAND_RUNNER_H_
#define LOTLEDGER_LIBS_COMMAND_COMMAND_RUNNER_H_

#include <array>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/command/projector.h"
#include "libs/eventlog/event_log.h"
#include "libs/projection/projection_store.h"
#include "lotledger/v1/common.pb.h"
#include "lotledger/v1/events.pb.h"

namespace lotledger::command {

struct CommandContext {
  std::string request_id;  // required
  std::string actor;       // the authenticated principal
  std::string correlation_id;
  absl::Time now;           // record time; default business time
  eventlog::Offsets after;  // the client's consistency token
  absl::Time deadline = absl::InfiniteFuture();
};

struct CommandResult {
  // The request id was seen before: nothing was written, `first` says what
  // the first attempt produced.
  bool replayed = false;
  v1::RequestRecord first;
  // The events written (empty on a replay or a no-op decision).
  std::vector<v1::Event> events;
  // Offsets a reader must apply to see this command's outcome.
  eventlog::Offsets token;
};

// Returns the events a command produces: payload, aggregate_id, lot_ids
// and, when the client gave one, occurred_at set. An empty vector means the
// command is a no-op (already true). Errors are returned to the client.
using DecideFn = std::function<absl::StatusOr<std::vector<v1::Event>>()>;

class CommandRunner {
 public:
  CommandRunner(eventlog::EventLog* log, projection::ProjectionStore* store,
                Projector* projector, std::string topic, std::string source);

  absl::StatusOr<CommandResult> Run(const CommandContext& ctx,
                                    std::vector<std::string> aggregate_ids,
                                    const DecideFn& decide);

 private:
  static constexpr size_t kStripes = 256;
  absl::StatusOr<int32_t> Partitions();

  eventlog::EventLog* log_;
  projection::ProjectionStore* store_;
  Projector* projector_;
  const std::string topic_;
  const std::string source_;
  std::array<absl::Mutex, kStripes> stripes_;

  absl::Mutex mu_;
  int32_t partitions_ ABSL_GUARDED_BY(mu_) = 0;
  // Partitions where an append had an unknown outcome or its records were
  // not applied in time: the next command there catches up to the end.
  std::set<int32_t> uncertain_ ABSL_GUARDED_BY(mu_);
};

// The wire form of a set of offsets, and back.
v1::ConsistencyToken ToToken(const eventlog::Offsets& offsets);
eventlog::Offsets FromToken(const v1::ConsistencyToken& token);

}  // namespace lotledger::command

#endif  // LOTLEDGER_LIBS_COMMAND_COMMAND_RUNNER_H_
