// KafkaEventLog: the EventLog on an Apache Kafka cluster, through
// librdkafka (design.md, "The log").
//
// Writes:
//  - An Append of one record goes through an idempotent producer
//    (enable.idempotence, acks=all) and returns when its delivery report
//    says the record is replicated to the in-sync replicas.
//  - An Append of several records runs one Kafka transaction on a second,
//    transactional producer (options.transactional_id): all records become
//    visible to read_committed readers, or none do. Transactions are
//    serialized within one KafkaEventLog.
//  - A newer KafkaEventLog with the same transactional_id fences this one
//    once it starts its first transaction (Kafka's InitProducerId): from
//    then on this object's multi-record Appends fail with
//    FailedPrecondition, and an open transaction of it is aborted by the
//    broker. A fenced writer must stop; make a new KafkaEventLog to write.
//  - Partitions are chosen by librdkafka's murmur2_random partitioner,
//    which equals PartitionForKey (Java's default) for non-empty keys.
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
// EndOffset is the partition's high watermark. It can be above the LSO
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
#ifndef LOTLEDGER_LIBS_EVENTLOG_KAFKA_EVENT_LOG_H_
#define LOTLEDGER_LIBS_EVENTLOG_KAFKA_EVENT_LOG_H_

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/eventlog/event_log.h"

namespace lotledger::eventlog {

struct KafkaOptions {
  // "host:port[,host:port...]".
  std::string bootstrap_servers;
  // Identifies the writer across restarts: a new KafkaEventLog with the same
  // id fences older ones (one writer per topic partition, design.md). Empty
  // means a random id, i.e. no fencing.
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
};

class KafkaEventLog final : public EventLog {
 public:
  // Creates the log. Connects lazily: a broker that is down makes the first
  // operations fail with Unavailable, not Create. InvalidArgument for bad
  // options.
  static absl::StatusOr<std::unique_ptr<EventLog>> Create(
      const KafkaOptions& options);

  ~KafkaEventLog() override;

  absl::Status EnsureTopic(std::string_view topic, int32_t partitions) override;
  absl::StatusOr<int32_t> PartitionCount(std::string_view topic) override;
  absl::StatusOr<std::vector<Position>> Append(
      std::string_view topic, std::vector<OutgoingRecord> records) override;
  // The earlier of `deadline` and append_timeout bounds every wait; a
  // transactional append may first wait for another one to end (each is
  // bounded by its own caller's deadline).
  absl::StatusOr<std::vector<Position>> AppendBefore(
      std::string_view topic, std::vector<OutgoingRecord> records,
      absl::Time deadline) override;
  absl::StatusOr<int64_t> EndOffset(std::string_view topic,
                                    int32_t partition) override;
  absl::StatusOr<int64_t> EndOffsetBefore(std::string_view topic,
                                          int32_t partition,
                                          absl::Time deadline) override;
  absl::StatusOr<std::unique_ptr<LogReader>> OpenReader(
      const Offsets& start) override;

 private:
  struct Clients;  // librdkafka handles and the thread serving them
  explicit KafkaEventLog(KafkaOptions options,
                         std::unique_ptr<Clients> clients);

  absl::Status EnsureTransactionsInitialized(absl::Time deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(txn_mu_);
  absl::Status AbortTransaction(absl::Time deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(txn_mu_);
  absl::Status FinishPendingTransaction(const std::string& topic,
                                        absl::Time deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(txn_mu_);
  absl::Status Fenced(const std::string& topic,
                      const absl::Status& cause) const;
  // `deadline` bounds librdkafka's steps; `wait_until` the wait for a
  // delivery report (later by a timer slack unless the caller's deadline
  // set it).
  absl::StatusOr<std::vector<Position>> AppendOne(std::string_view topic,
                                                  OutgoingRecord record,
                                                  absl::Time deadline,
                                                  absl::Time wait_until);
  absl::StatusOr<std::vector<Position>> AppendTransaction(
      std::string_view topic, std::vector<OutgoingRecord> records,
      absl::Time deadline);

  const KafkaOptions options_;
  // Shared with helper threads that may outlive a call (EndOffset).
  const std::shared_ptr<Clients> clients_;

  // One transaction at a time per transactional producer.
  absl::Mutex txn_mu_;
  bool txn_initialized_ ABSL_GUARDED_BY(txn_mu_) = false;
  // A transaction that an earlier append could not end in time (broker
  // unreachable): librdkafka then lets it only be aborted or, after a
  // commit timed out, committed again.
  enum class Unfinished { kNone, kAbort, kCommit };
  Unfinished unfinished_ ABSL_GUARDED_BY(txn_mu_) = Unfinished::kNone;
};

}  // namespace lotledger::eventlog

#endif  // LOTLEDGER_LIBS_EVENTLOG_KAFKA_EVENT_LOG_H_
