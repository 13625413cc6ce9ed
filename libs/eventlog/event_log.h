// EventLog: the append-only, partitioned log that is lotledger's system of
// record (docs/design.md, "The log"). Two implementations pass one conformance
// suite (tests/conformance.cc): KafkaEventLog (librdkafka, a real
// broker) and EmbeddedEventLog (RocksDB, one machine, no broker).
//
// Semantics every backend keeps:
//  - A topic has a fixed number of partitions. A record goes to the
//    partition PartitionForKey(key, partitions) (Kafka's murmur2, the Java
//    client's default), so all records of a key keep their order.
//  - Append is atomic: all records of one call become visible, or none do.
//    It returns only once the records are durable (Kafka: acks=all and, for
//    several records, a committed transaction; embedded: WAL synced).
//  - Offsets within a partition grow with every append. They need not be
//    contiguous (Kafka transaction markers take offsets).
//  - Readers see only committed records, in offset order per partition.
//
// Thread-safety: an EventLog is safe to use from many threads at once. A
// LogReader is used by one thread at a time, except Wakeup(), which any
// thread may call.
#ifndef LOTLEDGER_LIBS_EVENTLOG_EVENT_LOG_H_
#define LOTLEDGER_LIBS_EVENTLOG_EVENT_LOG_H_

#include <compare>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace lotledger::eventlog {

struct Header {
  std::string key;
  std::string value;
  friend bool operator==(const Header&, const Header&) = default;
};

// A record to append.
struct OutgoingRecord {
  std::string key;  // must not be empty
  std::string value;
  std::vector<Header> headers;
};

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  friend auto operator<=>(const TopicPartition&,
                          const TopicPartition&) = default;
};

// Where an appended record landed.
struct Position {
  int32_t partition = 0;
  int64_t offset = 0;
};

// A record read back from the log.
struct Record {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key;
  std::string value;
  std::vector<Header> headers;
  absl::Time timestamp;  // when the log took it
};

// Next offset to read per partition: every record below it has been seen.
using Offsets = std::map<TopicPartition, int64_t>;

// Called with the records of appends a log has just committed, each with
// its topic, partition and offset (EventLog::ObserveCommits).
using CommitObserver = std::function<void(std::vector<Record> records)>;

struct PollResult {
  std::vector<Record> records;
  // For every assigned partition, the next offset after this poll. May run
  // ahead of the last record's offset + 1 (past transaction markers), so
  // store these, not offsets derived from the records.
  Offsets next_offsets;
};

// Reads a fixed set of partitions from given offsets (explicit assignment,
// no consumer group, nothing committed to the broker).
class LogReader {
 public:
  virtual ~LogReader() = default;

  // Returns up to `max_records` records, waiting at most `timeout` for the
  // first one (a tail: a new record wakes the wait within milliseconds).
  // Returns no records on timeout. Unavailable when the log cannot be
  // reached; DataLoss when stored bytes cannot be read back.
  virtual absl::StatusOr<PollResult> Poll(size_t max_records,
                                          absl::Duration timeout) = 0;

  // Makes a Poll that is waiting return early (with no records). Safe from
  // any thread.
  virtual void Wakeup() = 0;
};

class EventLog {
 public:
  virtual ~EventLog() = default;

  // Creates `topic` with `partitions` partitions unless it exists. An
  // existing topic keeps its partition count (FailedPrecondition when it
  // differs: moving keys between partitions would break their order).
  virtual absl::Status EnsureTopic(std::string_view topic,
                                   int32_t partitions) = 0;

  // NotFound when the topic does not exist.
  virtual absl::StatusOr<int32_t> PartitionCount(std::string_view topic) = 0;

  // Appends `records` to `topic` atomically and durably; returns where each
  // landed, in the order given. InvalidArgument for an empty batch or key;
  // NotFound for an unknown topic; Unavailable when the log cannot take
  // writes now (the caller may retry with the same request id);
  // ResourceExhausted when the disk is full.
  virtual absl::StatusOr<std::vector<Position>> Append(
      std::string_view topic, std::vector<OutgoingRecord> records) = 0;

  // Append bounded by the caller's `deadline` too (a command's gRPC
  // deadline): a log that cannot confirm the append by then answers
  // Unavailable (DeadlineExceeded when the deadline passed before it
  // started) instead of waiting for its own timeout. As with any
  // Unavailable the records may still land: retry with the same request
  // id. This default ignores the deadline, right for a log whose appends
  // are local and short (the embedded log); the Kafka log honours it.
  virtual absl::StatusOr<std::vector<Position>> AppendBefore(
      std::string_view topic, std::vector<OutgoingRecord> records,
      absl::Time deadline) {
    (void)deadline;
    return Append(topic, std::move(records));
  }

  // The offset the next record appended to the partition will get at the
  // earliest: every committed record is below it.
  virtual absl::StatusOr<int64_t> EndOffset(std::string_view topic,
                                            int32_t partition) = 0;

  // EndOffset bounded by the caller's `deadline` too (Unavailable when the
  // log does not answer by then). This default ignores the deadline, as
  // AppendBefore's does.
  virtual absl::StatusOr<int64_t> EndOffsetBefore(std::string_view topic,
                                                  int32_t partition,
                                                  absl::Time deadline) {
    (void)deadline;
    return EndOffset(topic, partition);
  }

  // EndOffset of several partitions at once, all looked up after the call
  // began: a record committed before it is below its partition's answer.
  // This default asks for each in turn; the Kafka log asks each leader once.
  virtual absl::StatusOr<Offsets> EndOffsets(
      const std::vector<TopicPartition>& partitions, absl::Time deadline) {
    Offsets ends;
    for (const TopicPartition& tp : partitions) {
      absl::StatusOr<int64_t> end =
          EndOffsetBefore(tp.topic, tp.partition, deadline);
      if (!end.ok()) return end.status();
      ends[tp] = *end;
    }
    return ends;
  }

  // Returns once every append this log started before the call has a known
  // outcome (written or not): after it, EndOffset covers every record of
  // those appends, so a writer that lost track of an append (Unavailable)
  // can catch up to the end and know. Unavailable when that is not so by
  // `deadline`. This default has nothing to wait for (appends of the
  // embedded log are settled when they return).
  virtual absl::Status Settle(absl::Time deadline) {
    (void)deadline;
    return absl::OkStatus();
  }

  // A reader of the given partitions, each from its start offset.
  virtual absl::StatusOr<std::unique_ptr<LogReader>> OpenReader(
      const Offsets& start) = 0;

  // Hands `observer` the records of every append to `topic` that this log
  // object commits from now on, so the writer's projection can apply them
  // without reading them back (Projector). The records of one call are one
  // or more whole appends, durable and committed (readable by a
  // read_committed reader once the log's markers are written); calls come
  // in commit order (per partition, offset order), never two at once for a
  // topic, from the committing thread, before the appends they hold are
  // answered. An append whose caller gave up but which committed later is
  // observed too. A call with no records says a commit's records could not
  // be handed over (their positions are unknown): from then on the
  // observer has not seen every commit. The observer must be quick and
  // must not call this log.
  // One observer per topic; a null one removes it. Returns false when the
  // log cannot observe its commits: then nothing is ever called, and
  // readers remain the only way to see appended records.
  virtual bool ObserveCommits(const std::string& topic,
                              CommitObserver observer) {
    (void)topic;
    (void)observer;
    return false;
  }
};

}  // namespace lotledger::eventlog

#endif  // LOTLEDGER_LIBS_EVENTLOG_EVENT_LOG_H_
