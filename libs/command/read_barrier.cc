#include "libs/command/read_barrier.h"

#include <utility>

#include "libs/common/status_macros.h"

namespace lotledger::command {

ReadBarrier::ReadBarrier(eventlog::EventLog* log,
                         std::vector<std::string> topics)
    : log_(log), topics_(std::move(topics)) {}

absl::StatusOr<std::vector<eventlog::TopicPartition>>
ReadBarrier::Partitions() {
  {
    absl::MutexLock l(&mu_);
    if (!partitions_.empty() || topics_.empty()) return partitions_;
  }
  std::vector<eventlog::TopicPartition> found;
  for (const std::string& topic : topics_) {
    ASSIGN_OR_RETURN(const int32_t count, log_->PartitionCount(topic));
    for (int32_t p = 0; p < count; ++p) found.push_back({topic, p});
  }
  absl::MutexLock l(&mu_);
  partitions_ = found;  // a topic's partition count never changes
  return found;
}

absl::StatusOr<eventlog::Offsets> ReadBarrier::EndOffsets(absl::Time deadline) {
  ASSIGN_OR_RETURN(const std::vector<eventlog::TopicPartition> partitions,
                   Partitions());
  if (partitions.empty()) return eventlog::Offsets();

  absl::MutexLock l(&mu_);
  ++callers_;
  // A look-up sent before this call began may miss a fact acknowledged
  // just before it: only one sent after counts.
  const uint64_t needed = started_ + 1;
  while (finished_ < needed) {
    if (!in_flight_) {
      // Lead: send the look-up for everyone waiting now.
      in_flight_ = true;
      ++started_;
      mu_.Unlock();
      absl::StatusOr<eventlog::Offsets> ends =
          log_->EndOffsets(partitions, deadline);
      mu_.Lock();
      in_flight_ = false;
      ++finished_;
      last_ = std::move(ends);
      return last_;
    }
    // Follow: wait for the look-up in flight to end, then for the next one
    // (or lead it).
    const uint64_t seen = finished_;
    auto moved = [this, seen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return finished_ != seen;
    };
    if (!mu_.AwaitWithDeadline(absl::Condition(&moved), deadline)) {
      return absl::UnavailableError(
          "read barrier: the log did not tell its end offsets in time; "
          "retry with the same request id");
    }
  }
  return last_;
}

uint64_t ReadBarrier::lookups() const {
  absl::MutexLock l(&mu_);
  return started_;
}

uint64_t ReadBarrier::callers() const {
  absl::MutexLock l(&mu_);
  return callers_;
}

}  // namespace lotledger::command
