// ReadBarrier: the end offsets a decision must have applied so that it
// sees every fact another service acknowledged before the request arrived
// (docs/adr/0004-read-barrier.md).
//
// A service decides on its own projection of other services' topics
// (inventory reads lots, quality and recall). Another service acknowledges
// a fact only once its append committed, so the fact is below the end
// offset of its partition from then on. Looking the end offsets up after a
// request arrived and waiting until the projection applied them therefore
// makes the decision see it, with no token from the client.
//
// One look-up serves every caller that arrived before it was sent: callers
// that come while one is in flight wait for the next, which they share
// (group look-up). A look-up still unanswered after a second no longer
// holds the others back: the next caller sends a new one (a look-up sent
// to a partition leader that just died can hang long past its timeout). On
// Kafka that is one ListOffsets round trip per partition leader for all waiting
// commands; on the embedded log a read of in-memory counters.
//
// Thread-safety: EndOffsets may be called from any thread.
#ifndef LOTLEDGER_LIBS_COMMAND_READ_BARRIER_H_
#define LOTLEDGER_LIBS_COMMAND_READ_BARRIER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/eventlog/event_log.h"

namespace lotledger::command {

class ReadBarrier {
 public:
  // How long a look-up in flight holds the others back.
  static constexpr absl::Duration kOverdue = absl::Seconds(1);

  // `topics`: the topics to cover (full names, prefix included); empty
  // makes every look-up answer an empty set at once.
  ReadBarrier(eventlog::EventLog* log, std::vector<std::string> topics,
              absl::Duration overdue = kOverdue);

  // The end offset of every partition of the topics, looked up after this
  // call began. Unavailable when the log does not answer by `deadline`.
  absl::StatusOr<eventlog::Offsets> EndOffsets(absl::Time deadline);

  // How many look-ups were sent and how many callers they served (for the
  // coalescing test and the metrics).
  uint64_t lookups() const;
  uint64_t callers() const;

 private:
  absl::StatusOr<std::vector<eventlog::TopicPartition>> Partitions();

  eventlog::EventLog* const log_;
  const std::vector<std::string> topics_;
  const absl::Duration overdue_;

  mutable absl::Mutex mu_;
  std::vector<eventlog::TopicPartition> partitions_ ABSL_GUARDED_BY(mu_);
  // Look-ups are numbered in the order they are sent.
  uint64_t started_ ABSL_GUARDED_BY(mu_) = 0;     // the newest sent
  absl::Time newest_start_ ABSL_GUARDED_BY(mu_);  // when it was sent
  uint64_t answered_ ABSL_GUARDED_BY(mu_) = 0;    // the newest answered
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;        // sent, not yet answered
  absl::StatusOr<eventlog::Offsets> last_ ABSL_GUARDED_BY(mu_);  // its answer
  uint64_t callers_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace lotledger::command

#endif  // LOTLEDGER_LIBS_COMMAND_READ_BARRIER_H_
