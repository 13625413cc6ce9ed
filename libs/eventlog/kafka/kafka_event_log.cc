#include "libs/eventlog/kafka/kafka_event_log.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <set>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "libs/common/check.h"
#include "libs/common/ids.h"
#include "libs/common/status_macros.h"
#include "libs/eventlog/kafka/appender.h"
#include "libs/eventlog/kafka/conf.h"
#include "libs/eventlog/kafka/errors.h"
#include "libs/eventlog/kafka/reader.h"
#include "libs/metrics/metrics.h"

namespace lotledger::eventlog {

using kafka::ConfPtr;
using kafka::Handle;
using kafka::KafkaError;
using kafka::MakeConf;
using kafka::NewClient;
using kafka::RemainingMs;
using kafka::ToMillis;

namespace {

// librdkafka's own timers (transaction and request timeouts) bound every
// wait; this slack only covers their scheduling granularity so that an
// answer that is due is not cut off by our outer wait.
constexpr absl::Duration kTimerSlack = absl::Seconds(5);

// How long one blocking librdkafka poll lasts before a background thread
// re-checks its stop flag.
constexpr int kPollSliceMs = 100;
// How long closing the log waits for records still queued (appends that
// gave up waiting) to be delivered before purging them.
constexpr int kCloseFlushMs = 3000;
// Between two end-offset look-ups after a leader moved.
constexpr absl::Duration kLeaderRetryPause = absl::Milliseconds(50);
// The longest one try of an end-offset look-up (or of the metadata refresh
// before the next) may take.
constexpr absl::Duration kLookupTry = absl::Milliseconds(1000);

// Properties that give EventLog its guarantees; extra_properties must not
// change them.
constexpr const char* kLockedProperties[] = {
    "enable.idempotence",       "acks",
    "request.required.acks",    "partitioner",
    "isolation.level",          "enable.auto.commit",
    "enable.auto.offset.store", "transactional.id",
    "allow.auto.create.topics", "group.id",
};

// The outcome of one produced record, filled in by the delivery report
// callback on a polling thread. Shared because a waiter that gives up must

// Errors reach callers through delivery reports and return values; the
// callback only keeps librdkafka from logging each of them a second time.
void OnError(rd_kafka_t*, int, const char*, void*) {}

absl::Status CheckRecords(const std::vector<OutgoingRecord>& records) {
  if (records.empty()) {
    return absl::InvalidArgumentError("append: no records");
  }
  for (size_t i = 0; i < records.size(); ++i) {
    if (records[i].key.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("append: record ", i, " has an empty key"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

// The librdkafka handles and the threads that serve them.
struct KafkaEventLog::Clients {
  // Runs metadata and admin requests; never produces a record, so it holds
  // no producer id and cannot fence or be fenced.
  Handle admin;
  // Transactional, taking turns; every append runs through them
  // (kafka/appender.h). Absent in a read-only log.
  std::array<Handle, 2> txn_producers;
  // Asks for high watermarks. read_uncommitted, because a read_committed
  // ListOffsets answers the last stable offset, which lags a committed
  // transaction until the coordinator has written its markers: EndOffset
  // must cover every committed record.
  Handle watermarks;
  std::atomic<bool> stop{false};
  std::vector<std::thread> pollers;
  // Records queued or in flight (declared after the handles, so it is
  // removed before they are destroyed).
  metrics::CallbackGauge queue_gauge = metrics::Default().AddGaugeCallback(
      "lotledger_kafka_producer_queue_length",
      "Records queued or in flight in the Kafka producer", [this] {
        std::vector<metrics::Sample> samples;
        if (txn_producers[0].rk != nullptr) {
          double queued = 0;
          for (const Handle& h : txn_producers)
            queued += rd_kafka_outq_len(h.rk);
          samples.push_back({{{"producer", "transactional"}}, queued});
        }
        return samples;
      });

  // Topics known to exist, with their partition count: Append checks a
  // topic once instead of letting librdkafka wait
  // topic.metadata.propagation.max.ms for one that never appears.
  absl::Mutex topics_mu;
  absl::flat_hash_map<std::string, int32_t> topics ABSL_GUARDED_BY(topics_mu);

  void StartPolling() {
    for (rd_kafka_t* rk :
         {admin.rk, txn_producers[0].rk, txn_producers[1].rk}) {
      if (rk == nullptr) continue;
      pollers.emplace_back([this, rk] {
        while (!stop.load()) rd_kafka_poll(rk, kPollSliceMs);
      });
    }
  }

  ~Clients() {
    stop.store(true);
    for (std::thread& t : pollers) t.join();
    queue_gauge = metrics::CallbackGauge();
    // Give records still queued (appends that stopped waiting for them) a
    // bounded chance to land, then serve the reports of anything left so
    // that no Delivery holder leaks; every Append has returned by now.
    for (const Handle& h : txn_producers) {
      rd_kafka_t* rk = h.rk;
      if (rk == nullptr) continue;
      rd_kafka_flush(rk, kCloseFlushMs);
      rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
      rd_kafka_poll(rk, 0);
    }
  }

  // Partition count of `topic` from broker metadata (not the cache).
  absl::StatusOr<int32_t> FetchPartitionCount(const std::string& topic,
                                              absl::Time deadline) {
    rd_kafka_topic_t* rkt =
        rd_kafka_topic_new(admin.rk, topic.c_str(), nullptr);
    if (rkt == nullptr) {
      return KafkaError(rd_kafka_last_error(), absl::StrCat("topic ", topic));
    }
    const rd_kafka_metadata_t* md = nullptr;
    const rd_kafka_resp_err_t err = rd_kafka_metadata(
        admin.rk, /*all_topics=*/0, rkt, &md, RemainingMs(deadline));
    rd_kafka_topic_destroy(rkt);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return KafkaError(err, absl::StrCat("metadata of ", topic));
    }
    absl::StatusOr<int32_t> result =
        absl::NotFoundError(absl::StrCat("topic ", topic, " does not exist"));
    for (int i = 0; i < md->topic_cnt; ++i) {
      const rd_kafka_metadata_topic_t& t = md->topics[i];
      if (topic != t.topic) continue;
      if (t.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        result = t.partition_cnt;
      } else if (t.err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
        result = KafkaError(t.err, absl::StrCat("metadata of ", topic));
      }
    }
    rd_kafka_metadata_destroy(md);
    return result;
  }

  absl::StatusOr<int32_t> PartitionCount(const std::string& topic,
                                         absl::Time deadline) {
    {
      absl::MutexLock lock(&topics_mu);
      auto it = topics.find(topic);
      if (it != topics.end()) return it->second;
    }
    ASSIGN_OR_RETURN(const int32_t count, FetchPartitionCount(topic, deadline));
    WarmProducers(topic, deadline);
    absl::MutexLock lock(&topics_mu);
    topics[topic] = count;
    return count;
  }

  // Gives the transactional producers the topic's metadata (its partitions
  // and leaders) now. Otherwise a producer learns it only on librdkafka's
  // next topic scan, up to a second after its first record for the topic
  // was queued: measured, the first transaction of each producer of a
  // fresh writer (a start, a standby taking over) took 0.95-1.0 s.
  void WarmProducers(const std::string& topic, absl::Time deadline) {
    for (const Handle& h : txn_producers) {
      if (h.rk != nullptr) RefreshTopic(h.rk, topic, deadline);
    }
  }
  void Forget(const std::string& topic) {
    absl::MutexLock lock(&topics_mu);
    topics.erase(topic);
  }

  // Refreshes librdkafka's metadata of `topics` (leaders included).
  void RefreshMetadata(const std::set<std::string>& names,
                       absl::Time deadline) {
    for (const std::string& topic : names) {
      RefreshTopic(watermarks.rk, topic, deadline);
    }
  }

  // Asks the brokers for `topic`'s metadata on client `rk`, which keeps
  // it (best effort: a failure leaves the client to learn it later).
  static void RefreshTopic(rd_kafka_t* rk, const std::string& topic,
                           absl::Time deadline) {
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
    if (rkt == nullptr) return;
    const rd_kafka_metadata_t* md = nullptr;
    if (rd_kafka_metadata(
            rk, /*all_topics=*/0, rkt, &md,
            std::clamp(RemainingMs(deadline), 1, ToMillis(kLookupTry))) ==
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_metadata_destroy(md);
    }
    rd_kafka_topic_destroy(rkt);
  }

  // High watermarks of `partitions`, retrying those whose leader moved
  // until `deadline`.
  absl::StatusOr<Offsets> QueryEndOffsets(
      const std::vector<TopicPartition>& partitions, absl::Time deadline) {
    Offsets result;
    std::vector<TopicPartition> todo = partitions;
    while (true) {
      rd_kafka_topic_partition_list_t* list =
          rd_kafka_topic_partition_list_new(static_cast<int>(todo.size()));
      for (const TopicPartition& tp : todo) {
        rd_kafka_topic_partition_list_add(list, tp.topic.c_str(), tp.partition)
            ->offset = RD_KAFKA_OFFSET_END;
      }
      // Each try is short: a leader that died makes a try hang until its
      // timeout, and the partition's new leader is only found by the next
      // try, after a metadata refresh. A failover then costs the election
      // plus at most one try, not the caller's whole deadline.
      const rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(
          watermarks.rk, list,
          std::clamp(RemainingMs(deadline), 1, ToMillis(kLookupTry)));
      // What a retry may cure (CodeFor: Unavailable — the leader moved,
      // a timeout, a dropped connection; NotFound — metadata not yet
      // propagated) is asked again; anything else is the answer.
      std::vector<TopicPartition> moved;
      absl::Status failed;
      for (int i = 0; i < list->cnt; ++i) {
        const rd_kafka_topic_partition_t& p = list->elems[i];
        TopicPartition tp{p.topic, p.partition};
        const rd_kafka_resp_err_t perr =
            p.err != RD_KAFKA_RESP_ERR_NO_ERROR ? p.err : err;
        if (perr == RD_KAFKA_RESP_ERR_NO_ERROR && p.offset >= 0) {
          result[tp] = p.offset;
          continue;
        }
        const std::string what =
            absl::StrCat("end offset of ", tp.topic, "/", tp.partition);
        failed =
            perr == RD_KAFKA_RESP_ERR_NO_ERROR
                ? absl::UnavailableError(absl::StrCat(what, ": none given"))
                : KafkaError(perr, what);
        if (!absl::IsUnavailable(failed) && !absl::IsNotFound(failed)) {
          rd_kafka_topic_partition_list_destroy(list);
          return failed;
        }
        moved.push_back(tp);
      }
      rd_kafka_topic_partition_list_destroy(list);
      if (moved.empty()) return result;
      if (absl::Now() + kLeaderRetryPause >= deadline) {
        return failed;
      }
      std::set<std::string> names;
      for (const TopicPartition& tp : moved) names.insert(tp.topic);
      absl::SleepFor(kLeaderRetryPause);
      RefreshMetadata(names, deadline);
      todo = std::move(moved);
    }
  }
};

KafkaEventLog::KafkaEventLog(KafkaOptions options,
                             std::unique_ptr<Clients> clients)
    : options_(std::move(options)), clients_(std::move(clients)) {}

KafkaEventLog::~KafkaEventLog() = default;

absl::StatusOr<std::unique_ptr<EventLog>> KafkaEventLog::Create(
    const KafkaOptions& options) {
  if (options.bootstrap_servers.empty()) {
    return absl::InvalidArgumentError("kafka: bootstrap_servers is empty");
  }
  if (options.replication_factor < 1) {
    return absl::InvalidArgumentError("kafka: replication_factor must be >= 1");
  }
  if (options.append_timeout <= absl::ZeroDuration() ||
      options.request_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("kafka: timeouts must be positive");
  }
  for (const char* name : kLockedProperties) {
    if (options.extra_properties.contains(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("kafka: extra property ", name,
                       " would change the log's guarantees; it is set by "
                       "KafkaEventLog"));
    }
  }

  const std::string socket_timeout =
      std::to_string(std::max(ToMillis(options.request_timeout), 10));
  auto clients = std::make_unique<Clients>();
  {
    ASSIGN_OR_RETURN(
        ConfPtr conf,
        MakeConf(options, {{"socket.timeout.ms", socket_timeout}}));
    rd_kafka_conf_set_error_cb(conf.get(), OnError);
    ASSIGN_OR_RETURN(clients->admin.rk,
                     NewClient(RD_KAFKA_PRODUCER, std::move(conf)));
  }
  const std::string transactional_id =
      options.transactional_id.empty()
          ? absl::StrCat("lotledger-", NewUuidV7(absl::Now()))
          : options.transactional_id;
  // The producers' ids: the writer's, and the writer's with "#2" (a '#'
  // appears in no writer id lotledger makes, so two writers' ids never
  // meet). A new writer fences both of an old one.
  const std::array<std::string, 2> transactional_ids = {
      transactional_id, absl::StrCat(transactional_id, "#2")};
  for (size_t i = 0; i < transactional_ids.size() && !options.read_only; ++i) {
    ASSIGN_OR_RETURN(
        ConfPtr conf,
        MakeConf(
            options,
            {
                {"enable.idempotence", "true"},
                {"acks", "all"},
                // Java's default partitioner for keyed records: every
                // client and the embedded backend agree on a key's
                // partition (PartitionForKey).
                {"partitioner", "murmur2_random"},
                // The appender batches whole appends into one
                // transaction; waiting longer only adds latency (1 ms
                // measured: one client +1 ms, 32 clients -12%,
                // docs/benchmarks.md). batch.num.messages stays at its
                // default (10,000), above the appender's 4,096 records.
                {"linger.ms", "0"},
                // Small request frames must not wait for Nagle.
                {"socket.nagle.disable", "true"},
                {"message.timeout.ms",
                 std::to_string(ToMillis(options.append_timeout))},
                {"socket.timeout.ms", socket_timeout},
                // Retried requests (a produce after a leader change) go
                // again after this backoff, not the default 100 ms.
                {"retry.backoff.ms", "2"},
                {"transactional.id", transactional_ids[i]},
                {"transaction.timeout.ms",
                 std::to_string(ToMillis(std::max(options.transaction_timeout,
                                                  options.append_timeout)))},
            }));
    rd_kafka_conf_set_dr_msg_cb(conf.get(), kafka::OnDeliveryReport);
    rd_kafka_conf_set_error_cb(conf.get(), OnError);
    ASSIGN_OR_RETURN(clients->txn_producers[i].rk,
                     NewClient(RD_KAFKA_PRODUCER, std::move(conf)));
  }
  {
    ASSIGN_OR_RETURN(ConfPtr conf,
                     MakeConf(options, {{"isolation.level", "read_uncommitted"},
                                        {"socket.nagle.disable", "true"}}));
    rd_kafka_conf_set_error_cb(conf.get(), OnError);
    ASSIGN_OR_RETURN(clients->watermarks.rk,
                     NewClient(RD_KAFKA_CONSUMER, std::move(conf)));
  }
  clients->StartPolling();
  std::unique_ptr<KafkaEventLog> log(
      new KafkaEventLog(options, std::move(clients)));
  if (!options.read_only) {
    log->appender_ = std::make_unique<kafka::TransactionalAppender>(
        std::vector<rd_kafka_t*>{log->clients_->txn_producers[0].rk,
                                 log->clients_->txn_producers[1].rk},
        kafka::TransactionalAppender::Options{
            .step_timeout = options.append_timeout,
        });
    log->writing_.store(!options.standby);
    if (!options.transactional_id.empty() && !options.standby) {
      // Fence an earlier writer with this id now, and abort a transaction
      // it left open when it crashed mid-append: until that is aborted (or
      // times out, transaction_timeout later) no read_committed reader, our
      // own projector included, gets past it, so every command would wait.
      // Best effort: with the broker unreachable now, the first append
      // initializes instead (Create stays usable offline).
      log->appender_->InitTransactions(absl::Now() + options.request_timeout)
          .IgnoreError();
    }
  }
  return std::unique_ptr<EventLog>(std::move(log));
}

absl::Status KafkaEventLog::EnsureTopic(std::string_view topic_view,
                                        int32_t partitions) {
  const std::string topic(topic_view);
  if (partitions < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "EnsureTopic ", topic, ": partitions must be >= 1, got ", partitions));
  }
  const absl::Time deadline = absl::Now() + options_.request_timeout;
  rd_kafka_t* rk = clients_->admin.rk;

  char errstr[512];
  rd_kafka_NewTopic_t* new_topic = rd_kafka_NewTopic_new(
      topic.c_str(), partitions, options_.replication_factor, errstr,
      sizeof(errstr));
  if (new_topic == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("EnsureTopic ", topic, ": ", errstr));
  }
  // The log is the system of record: never delete events by age or size.
  rd_kafka_NewTopic_set_config(new_topic, "retention.ms", "-1");
  rd_kafka_NewTopic_set_config(new_topic, "retention.bytes", "-1");
  // Record::timestamp is "when the log took it": the broker's clock, not
  // each writer's.
  rd_kafka_NewTopic_set_config(new_topic, "message.timestamp.type",
                               "LogAppendTime");
  if (options_.min_insync_replicas > 0) {
    rd_kafka_NewTopic_set_config(
        new_topic, "min.insync.replicas",
        std::to_string(options_.min_insync_replicas).c_str());
  }

  rd_kafka_AdminOptions_t* admin =
      rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  const int timeout_ms = ToMillis(options_.request_timeout);
  rd_kafka_AdminOptions_set_request_timeout(admin, timeout_ms, errstr,
                                            sizeof(errstr));
  // Makes the controller answer only once the topic is created.
  rd_kafka_AdminOptions_set_operation_timeout(admin, timeout_ms, errstr,
                                              sizeof(errstr));
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
  rd_kafka_CreateTopics(rk, &new_topic, 1, admin, queue);
  rd_kafka_event_t* event =
      rd_kafka_queue_poll(queue, RemainingMs(deadline + kTimerSlack));

  absl::Status status;
  if (event == nullptr) {
    status = absl::UnavailableError(
        absl::StrCat("EnsureTopic ", topic, ": no answer from the cluster"));
  } else if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    status = KafkaError(rd_kafka_event_error(event),
                        absl::StrCat("EnsureTopic ", topic),
                        rd_kafka_event_error_string(event));
  } else {
    size_t count = 0;
    const rd_kafka_topic_result_t** results =
        rd_kafka_CreateTopics_result_topics(
            rd_kafka_event_CreateTopics_result(event), &count);
    CHECK_EQ(count, 1u);
    const rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[0]);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR &&
        err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      const char* detail = rd_kafka_topic_result_error_string(results[0]);
      status = KafkaError(err, absl::StrCat("EnsureTopic ", topic),
                          detail == nullptr ? "" : detail);
    }
  }
  if (event != nullptr) rd_kafka_event_destroy(event);
  rd_kafka_queue_destroy(queue);
  rd_kafka_AdminOptions_destroy(admin);
  rd_kafka_NewTopic_destroy(new_topic);
  RETURN_IF_ERROR(status);

  // Wait until this broker's metadata has the topic, so that an Append or
  // reader right after EnsureTopic finds it; then compare partition counts
  // (a topic that already existed keeps its own).
  clients_->Forget(topic);
  absl::StatusOr<int32_t> existing;
  while (true) {
    existing = clients_->FetchPartitionCount(topic, deadline);
    if (existing.ok() || !absl::IsNotFound(existing.status()) ||
        absl::Now() >= deadline) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  RETURN_IF_ERROR(existing.status());
  if (*existing != partitions) {
    return absl::FailedPreconditionError(
        absl::StrCat("topic ", topic, " exists with ", *existing,
                     " partitions, not ", partitions,
                     "; changing the count would move keys between partitions "
                     "and break their order"));
  }
  return absl::OkStatus();
}

absl::StatusOr<int32_t> KafkaEventLog::PartitionCount(std::string_view topic) {
  // Not cached: another process may have created the topic since.
  return clients_->FetchPartitionCount(std::string(topic),
                                       absl::Now() + options_.request_timeout);
}

absl::StatusOr<std::vector<Position>> KafkaEventLog::Append(
    std::string_view topic, std::vector<OutgoingRecord> records) {
  return AppendBefore(topic, std::move(records), absl::InfiniteFuture());
}

absl::StatusOr<std::vector<Position>> KafkaEventLog::AppendBefore(
    std::string_view topic_view, std::vector<OutgoingRecord> records,
    absl::Time deadline) {
  const std::string topic(topic_view);
  RETURN_IF_ERROR(CheckRecords(records));
  if (appender_ == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("append to ", topic,
                     ": this log was opened read-only (a verifier or "
                     "reader); it writes nothing"));
  }
  if (!writing_.load()) {
    return absl::UnavailableError(absl::StrCat(
        "append to ", topic,
        ": this replica is a standby; it writes once it holds the writer "
        "lease"));
  }
  const absl::Time now = absl::Now();
  if (deadline <= now) {
    // Nothing produced: the outcome is known.
    return absl::DeadlineExceededError(
        absl::StrCat("append to ", topic,
                     ": the caller's deadline passed before it "
                     "started"));
  }
  // The caller's deadline is kept exactly; our own bound gets the slack
  // that lets librdkafka's own timers answer first.
  const absl::Time own = now + options_.append_timeout + kTimerSlack;
  const absl::Time bound = std::min(deadline, own);
  absl::StatusOr<int32_t> count = clients_->PartitionCount(topic, bound);
  if (!count.ok()) return count.status();
  absl::StatusOr<std::vector<Position>> positions =
      appender_->Append(topic, std::move(records), bound);
  if (absl::IsNotFound(positions.status())) clients_->Forget(topic);
  return positions;
}

absl::Status KafkaEventLog::TakeWriterRole(absl::Time deadline) {
  if (appender_ == nullptr) {
    return absl::FailedPreconditionError(
        "take the writer role: this log was opened read-only");
  }
  RETURN_IF_ERROR(appender_->InitTransactions(deadline));
  writing_.store(true);
  return absl::OkStatus();
}

absl::Status KafkaEventLog::Settle(absl::Time deadline) {
  if (appender_ == nullptr) return absl::OkStatus();
  return appender_->Settle(
      std::min(deadline, absl::Now() + options_.append_timeout + kTimerSlack));
}

absl::StatusOr<int64_t> KafkaEventLog::EndOffset(std::string_view topic,
                                                 int32_t partition) {
  return EndOffsetBefore(topic, partition, absl::InfiniteFuture());
}

absl::StatusOr<int64_t> KafkaEventLog::EndOffsetBefore(std::string_view topic,
                                                       int32_t partition,
                                                       absl::Time deadline) {
  const TopicPartition tp{std::string(topic), partition};
  ASSIGN_OR_RETURN(Offsets ends, EndOffsets({tp}, deadline));
  return ends.at(tp);
}

absl::StatusOr<Offsets> KafkaEventLog::EndOffsets(
    const std::vector<TopicPartition>& partitions, absl::Time caller) {
  Offsets result;
  if (partitions.empty()) return result;
  const absl::Time own = absl::Now() + options_.request_timeout;
  const absl::Time deadline = std::min(caller, own);
  // The caller's deadline is kept exactly; our own bound gets the slack.
  const absl::Time wait_until = caller < own ? caller : own + kTimerSlack;
  for (const TopicPartition& tp : partitions) {
    ASSIGN_OR_RETURN(const int32_t count,
                     clients_->PartitionCount(tp.topic, deadline));
    if (tp.partition < 0 || tp.partition >= count) {
      return absl::NotFoundError(
          absl::StrCat("topic ", tp.topic, " has no partition ", tp.partition,
                       " (it has ", count, ")"));
    }
  }
  // One ListOffsets request per partition leader for the whole set
  // (timestamp -1: the latest offset, i.e. the high watermark for this
  // read_uncommitted client). librdkafka 2.0.2 can block past its timeout
  // when a leader is down, so the look-up runs on its own thread that keeps
  // the clients alive; we wait only until `wait_until`. A partition whose
  // leader moved is looked up again after a metadata refresh, so a broker
  // failover costs what Kafka's own election costs.
  struct Query {
    absl::Mutex mu;
    bool done ABSL_GUARDED_BY(mu) = false;
    absl::StatusOr<Offsets> result ABSL_GUARDED_BY(mu);
  };
  auto query = std::make_shared<Query>();
  std::thread([clients = clients_, query, partitions, deadline] {
    absl::StatusOr<Offsets> found =
        clients->QueryEndOffsets(partitions, deadline);
    absl::MutexLock lock(&query->mu);
    query->done = true;
    query->result = std::move(found);
  }).detach();
  absl::MutexLock lock(&query->mu);
  if (!query->mu.AwaitWithDeadline(absl::Condition(&query->done), wait_until)) {
    return absl::UnavailableError(
        absl::StrCat("end offsets of ", partitions.size(), " partition(s) of ",
                     partitions.front().topic, ": no answer in time"));
  }
  return query->result;
}

bool KafkaEventLog::ObserveCommits(const std::string& topic,
                                   CommitObserver observer) {
  if (appender_ == nullptr) return false;
  appender_->ObserveCommits(topic, std::move(observer));
  return true;
}

absl::StatusOr<std::unique_ptr<LogReader>> KafkaEventLog::OpenReader(
    const Offsets& start) {
  const absl::Time deadline = absl::Now() + options_.request_timeout;
  // Fail now on a wrong topic or partition instead of on every Poll.
  for (const auto& [tp, offset] : start) {
    ASSIGN_OR_RETURN(const int32_t count,
                     clients_->PartitionCount(tp.topic, deadline));
    if (tp.partition < 0 || tp.partition >= count) {
      return absl::NotFoundError(
          absl::StrCat("topic ", tp.topic, " has no partition ", tp.partition,
                       " (it has ", count, ")"));
    }
    if (offset < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("OpenReader: negative offset ", offset, " for ",
                       tp.topic, "/", tp.partition));
    }
  }

  ASSIGN_OR_RETURN(
      ConfPtr conf,
      MakeConf(options_,
               {
                   // KafkaConsumer needs a group id; a fresh one per reader
                   // keeps readers independent. Nothing is ever committed.
                   {"group.id",
                    absl::StrCat("lotledger-reader-", NewUuidV7(absl::Now()))},
                   {"enable.auto.commit", "false"},
                   {"enable.auto.offset.store", "false"},
                   {"isolation.level", "read_committed"},
                   // Offsets come from the projection; one outside the log
                   // is an error (DataLoss), never a silent jump.
                   {"auto.offset.reset", "error"},
                   {"enable.partition.eof", "false"},
                   // A tail must see a new record within milliseconds.
                   {"fetch.wait.max.ms", "10"},
                   {"fetch.error.backoff.ms", "10"},
                   {"socket.nagle.disable", "true"},
                   // Prefetched records held per reader: 16 MiB instead
                   // of librdkafka's 64 MiB (a process runs a reader per
                   // projector, and its memory is budgeted:
                   // docs/operations.md, "Memory"); a fetch is at most
                   // half of it. Replay is bound by applying, not by
                   // fetching, so a deeper queue would not speed it up.
                   {"queued.max.messages.kbytes", "16384"},
                   {"fetch.max.bytes", "8388608"},
               }));
  rd_kafka_conf_set_error_cb(conf.get(), OnError);
  ASSIGN_OR_RETURN(rd_kafka_t * consumer,
                   NewClient(RD_KAFKA_CONSUMER, std::move(conf)));
  // Errors and logs arrive through consumer_poll, i.e. in Poll.
  rd_kafka_poll_set_consumer(consumer);

  rd_kafka_topic_partition_list_t* list =
      rd_kafka_topic_partition_list_new(static_cast<int>(start.size()));
  for (const auto& [tp, offset] : start) {
    rd_kafka_topic_partition_list_add(list, tp.topic.c_str(), tp.partition)
        ->offset = offset;
  }
  const rd_kafka_resp_err_t err = rd_kafka_assign(consumer, list);
  rd_kafka_topic_partition_list_destroy(list);
  std::unique_ptr<LogReader> reader = kafka::NewKafkaLogReader(consumer, start);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return KafkaError(err, "assign partitions");
  }
  return reader;
}

}  // namespace lotledger::eventlog