// KafkaEventLog: the EventLog on an Apache Kafka cluster, through
// librdkafka (docs/design.md, "The log").
//
// Writes: every Append, of one record or of many, runs inside a Kafka
// transaction of one transactional producer (kafka/appender.h):
//  - its records become visible to read_committed readers together or not
//    at all, and Append returns once the transaction committed (acks=all);
//  - concurrent appends share one transaction (group commit);
//  - a newer KafkaEventLog with the same transactional_id fences this one
//    at its InitProducerId (done in Create): from then on every Append of
//    this one fails with FailedPrecondition, and a transaction of it still
//    open is aborted by the broker. A fenced writer must stop;
//  - a transaction whose commit did not answer in time is resumed until
//    its outcome is known before any later transaction starts; Settle
//    waits for that;
//  - partitions are chosen by librdkafka's murmur2_random partitioner,
//    which equals PartitionForKey (Java's default) for non-empty keys;
//  - Append never waits longer than options.append_timeout (plus a little
//    slack for librdkafka's own timers), AppendBefore not past the
//    caller's deadline either; a broker that cannot be reached gives
//    Unavailable.
//
// Reads: a reader is a librdkafka consumer with isolation.level =
// read_committed, explicitly assigned partitions, a throwaway group id and
// nothing ever committed to the broker. It stops at each partition's last
// stable offset (LSO): records of an open transaction are not returned
// until it commits (and never when it aborts).
//
// EndOffset(s) is the partition's high watermark, looked up with one
// ListOffsets request per leader; a lead that moved is looked up again after
// a metadata refresh. It can be above the LSO
// while a transaction is open, and above the last record while transaction
// markers follow it; a reader's next_offsets reach it once the transaction
// ends.
//
// Topics created by EnsureTopic keep records forever (retention.ms=-1) and
// stamp records with the broker's clock (message.timestamp.type =
// LogAppendTime), so Record::timestamp is when the log took the record.
//
// Thread-safety: a KafkaEventLog may be used from many threads at once.
// Readers must be destroyed before the log that opened them.
#ifndef LOTLEDGER_LIBS_EVENTLOG_KAFKA_KAFKA_EVENT_LOG_H_
#define LOTLEDGER_LIBS_EVENTLOG_KAFKA_KAFKA_EVENT_LOG_H_

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/eventlog/event_log.h"

namespace lotledger::eventlog {

namespace kafka {
class TransactionalAppender;
}  // namespace kafka

struct KafkaOptions {
  // "host:port[,host:port...]".
  std::string bootstrap_servers;
  // Identifies the writer across restarts: a new KafkaEventLog with the same
  // id fences older ones (one writer per topic partition, docs/design.md).
  // Empty means a random id, i.e. no fencing.
  std::string transactional_id;
  std::string client_id = "lotledger";
  // Extra librdkafka properties for every producer, consumer and admin
  // client (e.g. security.protocol, sasl.*, ssl.*). They are applied last,
  // but the properties that give EventLog its guarantees (idempotence,
  // acks, partitioner, isolation level, offset commits) cannot be changed:
  // Create returns InvalidArgument when one of them is overridden.
  std::map<std::string, std::string> extra_properties;

  // Topics made by EnsureTopic. Production clusters use 3 and 2 so that an
  // acknowledged record survives the loss of one broker.
  int32_t replication_factor = 1;
  int32_t min_insync_replicas = 0;  // 0: the broker's default

  // Upper bound of one Append (message.timeout.ms, and the transaction
  // steps' timeouts).
  absl::Duration append_timeout = absl::Seconds(30);
  // Upper bound of metadata and admin requests (EnsureTopic, PartitionCount,
  // EndOffset, OpenReader's checks).
  absl::Duration request_timeout = absl::Seconds(30);
  // Broker-side timeout of a transaction: the coordinator aborts one that a
  // crashed writer left open after this long. Raised to append_timeout when
  // lower (librdkafka requires message.timeout.ms <= transaction.timeout.ms).
  absl::Duration transaction_timeout = absl::Seconds(60);

  // A reader or verifier: no transactional producer is created, so it can
  // neither write nor fence a writer; Append fails FailedPrecondition.
  bool read_only = false;

  // A standby replica of a writer (docs/adr/0006-standby-writers.md): the
  // producers exist but do not initialize, so the log neither fences the
  // current writer nor writes (Append is Unavailable) until
  // TakeWriterRole. Ignored when read_only.
  bool standby = false;
};

class KafkaEventLog final : public EventLog {
 public:
  // Creates the log. Connects lazily: a broker that is down makes the first
  // operations fail with Unavailable, not Create. InvalidArgument for bad
  // options.
  static absl::StatusOr<std::unique_ptr<EventLog>> Create(
      const KafkaOptions& options);

  ~KafkaEventLog() override;

  // Makes a standby log (options.standby) the writer: initializes the
  // transactional producers, which fences every earlier writer with the
  // same transactional_id (their appends fail from then on) and aborts a
  // transaction one of them left open; appends work after it. OK at once
  // for a log that already writes. FailedPrecondition for a read-only
  // log or a fenced one; Unavailable when the broker does not answer by
  // `deadline` (call again).
  absl::Status TakeWriterRole(absl::Time deadline);

  absl::Status EnsureTopic(std::string_view topic, int32_t partitions) override;
  absl::StatusOr<int32_t> PartitionCount(std::string_view topic) override;
  absl::StatusOr<std::vector<Position>> Append(
      std::string_view topic, std::vector<OutgoingRecord> records) override;
  // The earlier of `deadline` and append_timeout bounds every wait.
  absl::StatusOr<std::vector<Position>> AppendBefore(
      std::string_view topic, std::vector<OutgoingRecord> records,
      absl::Time deadline) override;
  absl::Status Settle(absl::Time deadline) override;
  absl::StatusOr<int64_t> EndOffset(std::string_view topic,
                                    int32_t partition) override;
  absl::StatusOr<int64_t> EndOffsetBefore(std::string_view topic,
                                          int32_t partition,
                                          absl::Time deadline) override;
  absl::StatusOr<Offsets> EndOffsets(
      const std::vector<TopicPartition>& partitions,
      absl::Time deadline) override;
  absl::StatusOr<std::unique_ptr<LogReader>> OpenReader(
      const Offsets& start) override;
  // Through the appender; false for a read-only log.
  bool ObserveCommits(const std::string& topic,
                      CommitObserver observer) override;

 private:
  struct Clients;  // librdkafka handles and the threads serving them
  explicit KafkaEventLog(KafkaOptions options,
                         std::unique_ptr<Clients> clients);

  const KafkaOptions options_;
  // Shared with helper threads that may outlive a call (EndOffsets).
  const std::shared_ptr<Clients> clients_;
  // Null when read-only. Declared after clients_: destroyed before them.
  std::unique_ptr<kafka::TransactionalAppender> appender_;
  // False while a standby has not taken the writer role.
  std::atomic<bool> writing_ = false;
};

}  // namespace lotledger::eventlog

#endif  // LOTLEDGER_LIBS_EVENTLOG_KAFKA_KAFKA_EVENT_LOG_H_
