#include "libs/command/read_barrier.h"

#include <algorithm>
#include <utility>

#include "libs/common/status_macros.h"

namespace lotledger::command {

ReadBarrier::ReadBarrier(eventlog::EventLog* log,
                         std::vector<std::string> topics,
                         absl::Duration overdue)
    : log_(log), topics_(std::move(topics)), overdue_(overdue) {}

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
  // just before it: only one sent after counts, i.e. round `needed` or a
  // later one.
  const uint64_t needed = started_ + 1;
  while (answered_ < needed) {
    // Lead a look-up when none is in flight (the callers waiting now share
    // it), or when the newest one is overdue: a look-up sent to a partition
    // leader that just died can hang far past its own timeout in librdkafka
    // 2.0.2, and waiting for it would stall every command until it returns.
    // A new one finds the new leader.
    if (in_flight_ == 0 || absl::Now() - newest_start_ >= overdue_) {
      const uint64_t round = ++started_;
      newest_start_ = absl::Now();
      ++in_flight_;
      mu_.Unlock();
      absl::StatusOr<eventlog::Offsets> ends =
          log_->EndOffsets(partitions, deadline);
      mu_.Lock();
      --in_flight_;
      if (round > answered_) {
        answered_ = round;
        last_ = ends;
      }
      return ends;
    }
    // Follow: wait for a look-up to be answered (or to become overdue);
    // if it was sent before this call began, the next one is shared.
    const uint64_t seen = answered_;
    auto moved = [this, seen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return answered_ != seen || in_flight_ == 0;
    };
    const absl::Time wake = std::min(deadline, newest_start_ + overdue_);
    if (!mu_.AwaitWithDeadline(absl::Condition(&moved), wake) &&
        absl::Now() >= deadline) {
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
