// ForwardingEventLog: an EventLog that passes every call to another one.
// Tests derive from it to inject one fault or one gate into a real log
// (overriding just that method) without writing the rest of the interface
// again.
//
// Thread-safety: as the wrapped log's.
#ifndef LOTLEDGER_LIBS_EVENTLOG_TESTING_FORWARDING_EVENT_LOG_H_
#define LOTLEDGER_LIBS_EVENTLOG_TESTING_FORWARDING_EVENT_LOG_H_

#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "libs/eventlog/event_log.h"

namespace lotledger::eventlog::testing {

class ForwardingEventLog : public EventLog {
 public:
  // `inner` must outlive this log.
  explicit ForwardingEventLog(EventLog* inner) : inner_(inner) {}

  absl::Status EnsureTopic(std::string_view topic,
                           int32_t partitions) override {
    return inner_->EnsureTopic(topic, partitions);
  }
  absl::StatusOr<int32_t> PartitionCount(std::string_view topic) override {
    return inner_->PartitionCount(topic);
  }
  absl::StatusOr<std::vector<Position>> Append(
      std::string_view topic, std::vector<OutgoingRecord> records) override {
    return inner_->Append(topic, std::move(records));
  }
  absl::StatusOr<std::vector<Position>> AppendBefore(
      std::string_view topic, std::vector<OutgoingRecord> records,
      absl::Time deadline) override {
    return inner_->AppendBefore(topic, std::move(records), deadline);
  }
  absl::StatusOr<int64_t> EndOffset(std::string_view topic,
                                    int32_t partition) override {
    return inner_->EndOffset(topic, partition);
  }
  absl::StatusOr<int64_t> EndOffsetBefore(std::string_view topic,
                                          int32_t partition,
                                          absl::Time deadline) override {
    return inner_->EndOffsetBefore(topic, partition, deadline);
  }
  absl::StatusOr<Offsets> EndOffsets(
      const std::vector<TopicPartition>& partitions,
      absl::Time deadline) override {
    return inner_->EndOffsets(partitions, deadline);
  }
  absl::Status Settle(absl::Time deadline) override {
    return inner_->Settle(deadline);
  }
  absl::StatusOr<std::unique_ptr<LogReader>> OpenReader(
      const Offsets& start) override {
    return inner_->OpenReader(start);
  }
  bool ObserveCommits(const std::string& topic,
                      CommitObserver observer) override {
    return inner_->ObserveCommits(topic, std::move(observer));
  }

 protected:
  EventLog* inner() const { return inner_; }

 private:
  EventLog* const inner_;
};

}  // namespace lotledger::eventlog::testing

#endif  // LOTLEDGER_LIBS_EVENTLOG_TESTING_FORWARDING_EVENT_LOG_H_
