#include "libs/eventlog/kafka/reader.h"

#include <algorithm>
#include <atomic>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/eventlog/kafka/errors.h"

namespace lotledger::eventlog::kafka {
namespace {

// How long one blocking librdkafka poll lasts before a waiting Poll
// re-checks its wakeup flag and whether the consumer moved past transaction
// markers (which hand out no record). Every append ends with a marker, so
// this bounds how late a reader reports reaching a partition's end.
constexpr int kPollSliceMs = 2;

class KafkaLogReader final : public LogReader {
 public:
  KafkaLogReader(rd_kafka_t* consumer, Offsets start)
      : consumer_(consumer),
        queue_(rd_kafka_queue_get_consumer(consumer)),
        next_(std::move(start)),
        positions_(
            rd_kafka_topic_partition_list_new(static_cast<int>(next_.size()))) {
    for (const auto& [tp, offset] : next_) {
      rd_kafka_topic_partition_list_add(positions_, tp.topic.c_str(),
                                        tp.partition);
    }
  }

  ~KafkaLogReader() override {
    rd_kafka_topic_partition_list_destroy(positions_);
    rd_kafka_queue_destroy(queue_);
    // Nothing was ever committed or subscribed: skip the group leave.
    rd_kafka_destroy_flags(consumer_, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  }

  absl::StatusOr<PollResult> Poll(size_t max_records,
                                  absl::Duration timeout) override {
    const absl::Time deadline = absl::Now() + timeout;
    PollResult result;
    while (result.records.size() < max_records) {
      if (wakeup_.exchange(false)) break;
      // Wait only for the first record; after it take what is already here.
      const int wait_ms = result.records.empty()
                              ? std::min(RemainingMs(deadline), kPollSliceMs)
                              : 0;
      rd_kafka_message_t* msg = rd_kafka_consumer_poll(consumer_, wait_ms);
      if (msg == nullptr) {
        // Nothing to hand out, but the consumer may have moved past a
        // transaction marker: a waiter for the end offset needs that now,
        // not when the next record or the timeout comes.
        if (result.records.empty() && !PositionMoved() &&
            absl::Now() < deadline) {
          continue;
        }
        break;
      }
      if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        absl::Status error = ConsumerError(msg);
        rd_kafka_message_destroy(msg);
        if (error.ok()) continue;
        if (!result.records.empty()) break;  // deliver what we have first
        return error;
      }
      result.records.push_back(ToRecord(msg));
      rd_kafka_message_destroy(msg);
    }
    UpdateNextOffsets(result.records);
    result.next_offsets = next_;
    return result;
  }

  void Wakeup() override {
    wakeup_.store(true);
    rd_kafka_queue_yield(queue_);
  }

 private:
  // OK for events that need no action by the caller.
  static absl::Status ConsumerError(const rd_kafka_message_t* msg) {
    switch (msg->err) {
      case RD_KAFKA_RESP_ERR__PARTITION_EOF:
      // One dropped connection: librdkafka reconnects and refetches.
      case RD_KAFKA_RESP_ERR__TRANSPORT:
      case RD_KAFKA_RESP_ERR__RESOLVE:
        return absl::OkStatus();
      default:
        break;
    }
    std::string where = "read";
    if (msg->rkt != nullptr) {
      absl::StrAppend(&where, " ", rd_kafka_topic_name(msg->rkt), "/",
                      msg->partition);
    }
    return KafkaError(msg->err, where, rd_kafka_message_errstr(msg));
  }

  static Record ToRecord(const rd_kafka_message_t* msg) {
    Record r;
    r.topic = rd_kafka_topic_name(msg->rkt);
    r.partition = msg->partition;
    r.offset = msg->offset;
    if (msg->key != nullptr) {
      r.key.assign(static_cast<const char*>(msg->key), msg->key_len);
    }
    if (msg->payload != nullptr) {
      r.value.assign(static_cast<const char*>(msg->payload), msg->len);
    }
    rd_kafka_headers_t* headers = nullptr;
    if (rd_kafka_message_headers(msg, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      const char* name;
      const void* value;
      size_t size;
      for (size_t i = 0;
           rd_kafka_header_get_all(headers, i, &name, &value, &size) ==
           RD_KAFKA_RESP_ERR_NO_ERROR;
           ++i) {
        r.headers.push_back(Header{
            name, value == nullptr
                      ? std::string()
                      : std::string(static_cast<const char*>(value), size)});
      }
    }
    rd_kafka_timestamp_type_t type;
    const int64_t ms = rd_kafka_message_timestamp(msg, &type);
    r.timestamp = ms >= 0 ? absl::FromUnixMillis(ms) : absl::InfinitePast();
    return r;
  }

  // True when the consumer's position of some partition is past what the
  // caller was last told (it skipped transaction markers or aborted
  // records).
  bool PositionMoved() {
    if (rd_kafka_position(consumer_, positions_) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      return false;
    }
    for (int i = 0; i < positions_->cnt; ++i) {
      const rd_kafka_topic_partition_t& p = positions_->elems[i];
      if (p.offset < 0) continue;
      auto it = next_.find(TopicPartition{p.topic, p.partition});
      if (it != next_.end() && p.offset > it->second) return true;
    }
    return false;
  }

  // The consumer's position is past everything handed out, including
  // transaction markers it skipped; the records alone would leave the
  // offsets pointing at a marker.
  void UpdateNextOffsets(const std::vector<Record>& records) {
    for (const Record& r : records) {
      int64_t& next = next_[TopicPartition{r.topic, r.partition}];
      next = std::max(next, r.offset + 1);
    }
    if (rd_kafka_position(consumer_, positions_) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      return;
    }
    for (int i = 0; i < positions_->cnt; ++i) {
      const rd_kafka_topic_partition_t& p = positions_->elems[i];
      if (p.offset < 0) continue;  // nothing consumed yet
      int64_t& next = next_[TopicPartition{p.topic, p.partition}];
      next = std::max(next, p.offset);
    }
  }

  rd_kafka_t* const consumer_;
  rd_kafka_queue_t* const queue_;
  Offsets next_;
  rd_kafka_topic_partition_list_t* const positions_;
  std::atomic<bool> wakeup_{false};
};

}  // namespace

std::unique_ptr<LogReader> NewKafkaLogReader(rd_kafka_t* consumer,
                                             Offsets start) {
  return std::make_unique<KafkaLogReader>(consumer, std::move(start));
}

}  // namespace lotledger::eventlog::kafka
