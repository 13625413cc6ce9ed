// CommandRunner: the write half of the command path (docs/design.md),
// shared by every service. For one command it
//   1. catches the projection up with every fact acknowledged before the
//      command arrived: the end offsets of the topics other services write
//      (the read barrier, docs/adr/0004-read-barrier.md) and the client's
//      consistency token, if any; a token beyond the log's end is refused;
//   2. locks the aggregates the command reads and writes (striped locks,
//      taken in a fixed order so two commands cannot deadlock); its own
//      earlier writes to these aggregates are applied already (each command
//      waits for that before unlocking);
//   3. answers a request id it has seen before with the first outcome and
//      writes nothing (idempotent retry) — if it is the same command: the
//      same aggregate, gRPC method and caller; otherwise InvalidArgument
//      naming the first use;
//   4. runs the service's decide function (pure Decide over projected
//      state), bounds each client-given business time, fills in each
//      event's envelope (id, actor, times, request, method), seals the
//      events into each aggregate's hash chain;
//   5. appends them atomically (one Kafka transaction / one embedded batch)
//      and waits until the projection applied them, so the caller can
//      answer from the projection (the projector applies the writer's own
//      commits as they commit, projector.h, so this is rarely a wait).
// After an append whose outcome is unknown (broker timeout), the next
// command on that partition first lets the log settle it (EventLog::Settle)
// and catches up to the log's end, so a record that did land is seen
// before anything is decided again, and one that did not cannot land
// later.
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
#include "libs/command/writer_role.h"
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
  // The gRPC method ("/lotledger.v1.LotsService/CreateLot"); the request id
  // is bound to it. Empty for commands the service runs itself.
  std::string method;
  // The W3C traceparent of the call (or, for a command a reactor runs, of
  // the event that triggered it); written into each event. Empty: the
  // thread's current trace context (libs/common/trace_context.h), if any.
  std::string traceparent;
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

// InvalidArgument unless a request id first used as `first` is reused for
// the same command: one of `aggregate_ids`, the same method and caller.
absl::Status CheckSameRequest(const CommandContext& ctx,
                              const std::vector<std::string>& aggregate_ids,
                              const v1::RequestRecord& first);

class CommandRunner {
 public:
  // Bounds on the business time (occurred_at) a client may give. Business
  // time must never open a gate: it cannot lie in the future, cannot go
  // back before an aggregate's last event, and cannot reach further back
  // than the late-entry window.
  struct Options {
    absl::Duration future_skew = absl::Minutes(5);
    absl::Duration late_entry_window = absl::Hours(24 * 7);
    // The defaults, with LOTLEDGER_LATE_ENTRY_DAYS (whole days) applied.
    static Options FromEnv();
  };

  CommandRunner(eventlog::EventLog* log, projection::ProjectionStore* store,
                Projector* projector, std::string topic, std::string source,
                Options options = Options::FromEnv());

  absl::StatusOr<CommandResult> Run(const CommandContext& ctx,
                                    std::vector<std::string> aggregate_ids,
                                    const DecideFn& decide);

  // Replicas with a writer lease (writer_role.h): Run refuses while `role`
  // is not writing, and demotes it when an append finds this replica
  // fenced. Set before the first Run; null (the default): always writing.
  void SetRole(WriterRole* role);
  // False while a standby (a reactor or sweep skips its pass then).
  bool writing() const;

 private:
  // A command holds its aggregates' stripes until its append is applied
  // (a Kafka transaction: milliseconds). With 256 stripes, 32 clients
  // shipping 3 lines each waited mostly for stripes shared by other lots
  // (docs/benchmarks.md); 8,192 mutexes cost 64 KiB.
  static constexpr size_t kStripes = 8192;
  absl::StatusOr<int32_t> Partitions();
  absl::Status CheckBusinessTime(absl::Time now, absl::Time occurred,
                                 absl::Time last_occurred,
                                 const std::string& aggregate) const;

  eventlog::EventLog* log_;
  projection::ProjectionStore* store_;
  Projector* projector_;
  const std::string topic_;
  const std::string source_;
  const Options options_;
  std::array<absl::Mutex, kStripes> stripes_;
  WriterRole* role_ = nullptr;

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
