#include "libs/eventlog/kafka_event_log.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
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
#include "libs/server/metrics.h"

namespace lotledger::eventlog {
namespace {

// librdkafka's own timers (message.timeout.ms, transaction timeouts) bound
// every wait; this slack only covers their scheduling granularity so that a
// report that is due is not cut off by our outer wait.
constexpr absl::Duration kTimerSlack = absl::Seconds(5);

// How long one blocking librdkafka poll lasts before a background thread or
// a waiting Poll re-checks its stop/wakeup flag. A yield normally wakes it
// sooner; this only bounds the latency if a wakeup slips between the flag
// check and the wait.
constexpr int kPollSliceMs = 100;
// How long closing the log waits for records still queued (appends that
// gave up waiting) to be delivered before purging them.
constexpr int kCloseFlushMs = 3000;

const metrics::CounterFamily& ProducerErrors() {
  static const auto* family =
      new metrics::CounterFamily(metrics::Default().Counter(
          "lotledger_kafka_producer_errors_total",
          "Records the Kafka producer failed to queue or deliver, by error"));
  return *family;
}

// Properties that give EventLog its guarantees; extra_properties must not
// change them.
constexpr const char* kLockedProperties[] = {
    "enable.idempotence",       "acks",
    "request.required.acks",    "partitioner",
    "isolation.level",          "enable.auto.commit",
    "enable.auto.offset.store", "transactional.id",
    "allow.auto.create.topics", "group.id",
};

int ToMillis(absl::Duration d) {
  const int64_t ms = absl::ToInt64Milliseconds(d);
  return static_cast<int>(std::clamp<int64_t>(ms, 0, INT32_MAX));
}

int RemainingMs(absl::Time deadline) {
  return ToMillis(deadline - absl::Now());
}

// Maps a librdkafka/Kafka error to the codes event_log.h promises.
absl::StatusCode CodeFor(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
      return absl::StatusCode::kOk;
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
    case RD_KAFKA_RESP_ERR__WAIT_COORD:
    case RD_KAFKA_RESP_ERR__NODE_UPDATE:
    case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
    case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
    case RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_CONCURRENT_TRANSACTIONS:
    case RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR:
    case RD_KAFKA_RESP_ERR_THROTTLING_QUOTA_EXCEEDED:
      return absl::StatusCode::kUnavailable;
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
      return absl::StatusCode::kNotFound;
    case RD_KAFKA_RESP_ERR__FENCED:
    case RD_KAFKA_RESP_ERR_PRODUCER_FENCED:
    case RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH:
      return absl::StatusCode::kFailedPrecondition;
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
      return absl::StatusCode::kPermissionDenied;
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR_INVALID_PARTITIONS:
    case RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR:
    case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
    case RD_KAFKA_RESP_ERR_POLICY_VIOLATION:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
      return absl::StatusCode::kInvalidArgument;
    case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS:
      return absl::StatusCode::kAlreadyExists;
    // A stored offset outside the log: the records the caller expects are
    // gone (or belong to an earlier incarnation of the topic).
    case RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET:
    case RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE:
    case RD_KAFKA_RESP_ERR__BAD_MSG:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
      return absl::StatusCode::kDataLoss;
    default:
      return absl::StatusCode::kInternal;
  }
}

absl::Status KafkaError(rd_kafka_resp_err_t err, absl::string_view what,
                        absl::string_view detail = {}) {
  return absl::Status(
      CodeFor(err),
      absl::StrCat(
          what, ": ", rd_kafka_err2name(err), " (",
          detail.empty() ? absl::string_view(rd_kafka_err2str(err)) : detail,
          ")"));
}

// Takes ownership of `error`.
absl::Status KafkaError(rd_kafka_error_t* error, absl::string_view what) {
  absl::Status s = KafkaError(rd_kafka_error_code(error), what,
                              rd_kafka_error_string(error));
  rd_kafka_error_destroy(error);
  return s;
}

struct ConfDeleter {
  void operator()(rd_kafka_conf_t* c) const { rd_kafka_conf_destroy(c); }
};
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;

absl::Status Set(rd_kafka_conf_t* conf, const std::string& name,
                 const std::string& value) {
  char errstr[512];
  if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), errstr,
                        sizeof(errstr)) != RD_KAFKA_CONF_OK) {
    return absl::InvalidArgumentError(
        absl::StrCat("librdkafka property ", name, "=", value, ": ", errstr));
  }
  return absl::OkStatus();
}

// A configuration with the options' common properties, then `specific`,
// then the caller's extra properties.
absl::StatusOr<ConfPtr> MakeConf(
    const KafkaOptions& options,
    const std::map<std::string, std::string>& specific) {
  ConfPtr conf(rd_kafka_conf_new());
  RETURN_IF_ERROR(
      Set(conf.get(), "bootstrap.servers", options.bootstrap_servers));
  RETURN_IF_ERROR(Set(conf.get(), "client.id", options.client_id));
  // Never let a metadata request create a topic: a typo must be NotFound,
  // not a new topic with the cluster's default settings.
  RETURN_IF_ERROR(Set(conf.get(), "allow.auto.create.topics", "false"));
  // A dropped idle connection is routine, not worth a log line.
  RETURN_IF_ERROR(Set(conf.get(), "log.connection.close", "false"));
  for (const auto& [name, value] : specific) {
    RETURN_IF_ERROR(Set(conf.get(), name, value));
  }
  for (const auto& [name, value] : options.extra_properties) {
    RETURN_IF_ERROR(Set(conf.get(), name, value));
  }
  return conf;
}

struct Handle {
  rd_kafka_t* rk = nullptr;
  ~Handle() {
    if (rk != nullptr) rd_kafka_destroy(rk);
  }
};

absl::StatusOr<rd_kafka_t*> NewClient(rd_kafka_type_t type, ConfPtr conf) {
  char errstr[512];
  // rd_kafka_new takes the conf only on success.
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), errstr, sizeof(errstr));
  if (rk == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot create Kafka client: ", errstr));
  }
  conf.release();
  return rk;
}

// The outcome of one produced record, filled in by the delivery report
// callback on a polling thread. Shared because a waiter that gives up must
// not free what the callback will still write.
struct Delivery {
  absl::Mutex mu;
  bool done ABSL_GUARDED_BY(mu) = false;
  rd_kafka_resp_err_t err ABSL_GUARDED_BY(mu) = RD_KAFKA_RESP_ERR_NO_ERROR;
  Position position ABSL_GUARDED_BY(mu);

  // Waits until the report arrived or `deadline` passed.
  absl::StatusOr<Position> Wait(absl::Time deadline) {
    absl::MutexLock lock(&mu);
    if (!mu.AwaitWithDeadline(absl::Condition(&done), deadline)) {
      // librdkafka's message timeout should have fired before this; the
      // record may still land, so the caller must treat it as unknown.
      return absl::UnavailableError(
          "no delivery report before the append timeout or the caller's "
          "deadline; the record may or may not have been written");
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return KafkaError(err, "delivery failed");
    }
    return position;
  }
};

void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* msg, void*) {
  auto* holder = static_cast<std::shared_ptr<Delivery>*>(msg->_private);
  if (holder == nullptr) return;
  {
    if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      ProducerErrors().Increment({{"error", rd_kafka_err2name(msg->err)}});
    }
    Delivery& d = **holder;
    absl::MutexLock lock(&d.mu);
    d.done = true;
    d.err = msg->err;
    d.position = Position{msg->partition, msg->offset};
  }
  delete holder;
}

// Errors reach callers through delivery reports and return values; the
// callback only keeps librdkafka from logging each of them a second time.
void OnError(rd_kafka_t*, int, const char*, void*) {}

rd_kafka_headers_t* ToKafkaHeaders(const std::vector<Header>& headers) {
  if (headers.empty()) return nullptr;
  rd_kafka_headers_t* h = rd_kafka_headers_new(headers.size());
  for (const Header& header : headers) {
    rd_kafka_header_add(
        h, header.key.data(), static_cast<ssize_t>(header.key.size()),
        header.value.data(), static_cast<ssize_t>(header.value.size()));
  }
  return h;
}

// Queues one record on `rk`; the returned Delivery completes with its
// delivery report.
absl::StatusOr<std::shared_ptr<Delivery>> Produce(
    rd_kafka_t* rk, const std::string& topic, const OutgoingRecord& record) {
  auto delivery = std::make_shared<Delivery>();
  auto* holder = new std::shared_ptr<Delivery>(delivery);
  rd_kafka_headers_t* headers = ToKafkaHeaders(record.headers);
  const rd_kafka_resp_err_t err = rd_kafka_producev(
      rk, RD_KAFKA_V_TOPIC(topic.c_str()),
      RD_KAFKA_V_KEY(record.key.data(), record.key.size()),
      RD_KAFKA_V_VALUE(const_cast<char*>(record.value.data()),
                       record.value.size()),
      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(headers),
      RD_KAFKA_V_OPAQUE(holder), RD_KAFKA_V_END);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    // On failure librdkafka owns neither the headers nor the opaque.
    if (headers != nullptr) rd_kafka_headers_destroy(headers);
    delete holder;
    ProducerErrors().Increment({{"error", rd_kafka_err2name(err)}});
    return KafkaError(err, absl::StrCat("produce to ", topic));
  }
  return delivery;
}

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
        if (result.records.empty() && absl::Now() < deadline) continue;
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

// The two producers and the threads that serve their delivery reports.
struct KafkaEventLog::Clients {
  Handle producer;      // idempotent; also runs metadata and admin requests
  Handle txn_producer;  // transactional
  // Asks for high watermarks. read_uncommitted, because a read_committed
  // ListOffsets answers the last stable offset, which lags a committed
  // transaction until the coordinator has written its markers: EndOffset
  // must cover every committed record.
  Handle watermarks;
  std::atomic<bool> stop{false};
  std::vector<std::thread> pollers;
  // Records queued or in flight per producer (declared after the handles,
  // so it is removed before they are destroyed).
  metrics::CallbackGauge queue_gauge = metrics::Default().AddGaugeCallback(
      "lotledger_kafka_producer_queue_length",
      "Records queued or in flight in the Kafka producers", [this] {
        std::vector<metrics::Sample> samples;
        if (producer.rk != nullptr) {
          samples.push_back(
              {{{"producer", "idempotent"}},
               static_cast<double>(rd_kafka_outq_len(producer.rk))});
        }
        if (txn_producer.rk != nullptr) {
          samples.push_back(
              {{{"producer", "transactional"}},
               static_cast<double>(rd_kafka_outq_len(txn_producer.rk))});
        }
        return samples;
      });

  // Topics known to exist, with their partition count: Append checks a
  // topic once instead of letting librdkafka wait
  // topic.metadata.propagation.max.ms for one that never appears.
  absl::Mutex topics_mu;
  absl::flat_hash_map<std::string, int32_t> topics ABSL_GUARDED_BY(topics_mu);

  void StartPolling() {
    for (rd_kafka_t* rk : {producer.rk, txn_producer.rk}) {
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
    for (rd_kafka_t* rk : {producer.rk, txn_producer.rk}) {
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
        rd_kafka_topic_new(producer.rk, topic.c_str(), nullptr);
    if (rkt == nullptr) {
      return KafkaError(rd_kafka_last_error(), absl::StrCat("topic ", topic));
    }
    const rd_kafka_metadata_t* md = nullptr;
    const rd_kafka_resp_err_t err = rd_kafka_metadata(
        producer.rk, /*all_topics=*/0, rkt, &md, RemainingMs(deadline));
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
    absl::MutexLock lock(&topics_mu);
    topics[topic] = count;
    return count;
  }

  void Forget(const std::string& topic) {
    absl::MutexLock lock(&topics_mu);
    topics.erase(topic);
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

  const std::string message_timeout =
      std::to_string(ToMillis(options.append_timeout));
  std::map<std::string, std::string> producer_props = {
      {"enable.idempotence", "true"},
      {"acks", "all"},
      // Java's default partitioner for keyed records: every client and the
      // embedded backend agree on a key's partition (PartitionForKey).
      {"partitioner", "murmur2_random"},
      // An append waits for its record; batching longer only adds latency.
      {"linger.ms", "0"},
      // Small request frames must not wait for Nagle's algorithm.
      {"socket.nagle.disable", "true"},
      {"message.timeout.ms", message_timeout},
      {"socket.timeout.ms",
       std::to_string(std::max(ToMillis(options.request_timeout), 10))},
  };
  std::map<std::string, std::string> txn_props = producer_props;
  txn_props["transactional.id"] =
      options.transactional_id.empty()
          ? absl::StrCat("lotledger-", NewUuidV7(absl::Now()))
          : options.transactional_id;
  txn_props["transaction.timeout.ms"] = std::to_string(
      ToMillis(std::max(options.transaction_timeout, options.append_timeout)));

  auto clients = std::make_unique<Clients>();
  for (auto [handle, props] : {std::pair{&clients->producer, &producer_props},
                               std::pair{&clients->txn_producer, &txn_props}}) {
    ASSIGN_OR_RETURN(ConfPtr conf, MakeConf(options, *props));
    rd_kafka_conf_set_dr_msg_cb(conf.get(), OnDelivery);
    rd_kafka_conf_set_error_cb(conf.get(), OnError);
    ASSIGN_OR_RETURN(handle->rk, NewClient(RD_KAFKA_PRODUCER, std::move(conf)));
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
  if (!options.transactional_id.empty()) {
    // Fence an earlier writer with this id now, and abort a transaction it
    // left open when it crashed mid-append: until that is aborted (or times
    // out, transaction_timeout later) no read_committed reader, our own
    // projector included, gets past it, so every command would wait.
    // Best effort: with the broker unreachable now, the first transactional
    // append initializes instead (Create stays usable offline).
    absl::MutexLock lock(&log->txn_mu_);
    log->EnsureTransactionsInitialized(absl::Now() + options.request_timeout)
        .IgnoreError();
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
  rd_kafka_t* rk = clients_->producer.rk;

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
    std::string_view topic, std::vector<OutgoingRecord> records,
    absl::Time deadline) {
  RETURN_IF_ERROR(CheckRecords(records));
  const absl::Time now = absl::Now();
  if (deadline <= now) {
    // Nothing produced: the outcome is known.
    return absl::DeadlineExceededError(
        absl::StrCat("append to ", Sv(topic),
                     ": the caller's deadline passed before it "
                     "started"));
  }
  const absl::Time own = now + options_.append_timeout;
  const absl::Time bound = std::min(deadline, own);
  if (records.size() == 1) {
    return AppendOne(topic, std::move(records[0]), bound,
                     deadline < own ? deadline : own + kTimerSlack);
  }
  return AppendTransaction(topic, std::move(records), bound);
}

absl::StatusOr<std::vector<Position>> KafkaEventLog::AppendOne(
    std::string_view topic_view, OutgoingRecord record, absl::Time deadline,
    absl::Time wait_until) {
  const std::string topic(topic_view);
  RETURN_IF_ERROR(clients_->PartitionCount(topic, deadline).status());
  ASSIGN_OR_RETURN(std::shared_ptr<Delivery> delivery,
                   Produce(clients_->producer.rk, topic, record));
  absl::StatusOr<Position> position = delivery->Wait(wait_until);
  if (!position.ok()) {
    if (absl::IsNotFound(position.status())) clients_->Forget(topic);
    return absl::Status(
        position.status().code(),
        absl::StrCat("append to ", topic, ": ", position.status().message()));
  }
  return std::vector<Position>{*position};
}

absl::Status KafkaEventLog::EnsureTransactionsInitialized(absl::Time deadline) {
  if (txn_initialized_) return absl::OkStatus();
  // Registers the transactional id with its coordinator, which fences every
  // older producer with the same id and aborts a transaction it left open.
  rd_kafka_error_t* error = rd_kafka_init_transactions(
      clients_->txn_producer.rk, RemainingMs(deadline));
  if (error != nullptr) {
    return KafkaError(error, "init transactions");
  }
  txn_initialized_ = true;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Position>> KafkaEventLog::AppendTransaction(
    std::string_view topic_view, std::vector<OutgoingRecord> records,
    absl::Time deadline) {
  const std::string topic(topic_view);
  rd_kafka_t* rk = clients_->txn_producer.rk;
  absl::MutexLock lock(&txn_mu_);

  // Once fenced (or otherwise fatally failed) the producer can never
  // write again; say so plainly instead of echoing a protocol error.
  char fatal[512];
  if (const rd_kafka_resp_err_t err =
          rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
      err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::FailedPreconditionError(absl::StrCat(
        "append to ", topic, ": the transactional producer (transactional.id ",
        options_.transactional_id,
        ") failed for good: ", rd_kafka_err2name(err), " (", fatal,
        "); a newer writer with the same id has probably taken "
        "over. Create a new KafkaEventLog to write again"));
  }

  RETURN_IF_ERROR(clients_->PartitionCount(topic, deadline).status());
  RETURN_IF_ERROR(EnsureTransactionsInitialized(deadline));

  // A previous append may have left its transaction unfinished (broker
  // unreachable); librdkafka refuses to begin another before it ends.
  RETURN_IF_ERROR(FinishPendingTransaction(topic, deadline));

  if (rd_kafka_error_t* error = rd_kafka_begin_transaction(rk);
      error != nullptr) {
    return KafkaError(error, absl::StrCat("append to ", topic, ": begin"));
  }
  unfinished_ = Unfinished::kAbort;  // until committed or aborted

  auto fail = [&](absl::Status cause) {
    std::string message =
        absl::StrCat("append to ", topic, ": ", cause.message());
    const absl::Status aborted = AbortTransaction(deadline);
    if (!aborted.ok()) absl::StrAppend(&message, "; ", aborted.message());
    return absl::Status(cause.code(), message);
  };

  std::vector<std::shared_ptr<Delivery>> deliveries;
  deliveries.reserve(records.size());
  for (const OutgoingRecord& record : records) {
    absl::StatusOr<std::shared_ptr<Delivery>> d = Produce(rk, topic, record);
    if (!d.ok()) return fail(d.status());
    deliveries.push_back(*std::move(d));
  }

  rd_kafka_error_t* error =
      rd_kafka_commit_transaction(rk, RemainingMs(deadline));
  if (error != nullptr) {
    const bool requires_abort = rd_kafka_error_txn_requires_abort(error);
    const bool fatal_error = rd_kafka_error_is_fatal(error);
    absl::Status cause = KafkaError(error, "commit");
    if (fatal_error) return Fenced(topic, cause);
    if (requires_abort) {
      // A failed delivery names the cause better than the commit does.
      for (const auto& d : deliveries) {
        absl::StatusOr<Position> p = d->Wait(absl::Now());
        if (!p.ok() && !absl::IsUnavailable(p.status())) {
          cause = p.status();
          break;
        }
      }
      return fail(cause);
    }
    // Timed out. librdkafka allows only to resume the commit, which the
    // next append does first; until then the outcome is unknown and the
    // caller retries with its request id.
    unfinished_ = Unfinished::kCommit;
    return absl::UnavailableError(
        absl::StrCat("append to ", topic, ": ", cause.message(),
                     "; the commit may still complete"));
  }
  unfinished_ = Unfinished::kNone;

  std::vector<Position> positions;
  positions.reserve(deliveries.size());
  for (const auto& d : deliveries) {
    // A successful commit has flushed every delivery report.
    ASSIGN_OR_RETURN(Position p, d->Wait(absl::Now() + kTimerSlack));
    positions.push_back(p);
  }
  return positions;
}

absl::Status KafkaEventLog::AbortTransaction(absl::Time deadline) {
  // At least a second: an abort that cannot even start leaves the producer
  // stuck until the next append retries it.
  rd_kafka_error_t* error = rd_kafka_abort_transaction(
      clients_->txn_producer.rk, std::max(RemainingMs(deadline), 1000));
  if (error != nullptr) return KafkaError(error, "abort");
  unfinished_ = Unfinished::kNone;
  return absl::OkStatus();
}

absl::Status KafkaEventLog::FinishPendingTransaction(const std::string& topic,
                                                     absl::Time deadline) {
  switch (unfinished_) {
    case Unfinished::kNone:
      return absl::OkStatus();
    case Unfinished::kAbort:
      if (absl::Status s = AbortTransaction(deadline); !s.ok()) {
        return absl::Status(
            s.code(), absl::StrCat("append to ", topic,
                                   ": ending an earlier failed transaction: ",
                                   s.message()));
      }
      return absl::OkStatus();
    case Unfinished::kCommit:
      break;
  }
  rd_kafka_error_t* error = rd_kafka_commit_transaction(
      clients_->txn_producer.rk, RemainingMs(deadline));
  if (error == nullptr) {
    unfinished_ = Unfinished::kNone;
    return absl::OkStatus();
  }
  const bool requires_abort = rd_kafka_error_txn_requires_abort(error);
  const bool fatal_error = rd_kafka_error_is_fatal(error);
  absl::Status cause = KafkaError(error, "resuming an earlier commit");
  if (fatal_error) return Fenced(topic, cause);
  if (requires_abort) {
    unfinished_ = Unfinished::kAbort;
    if (absl::Status s = AbortTransaction(deadline); !s.ok()) {
      return absl::Status(
          s.code(), absl::StrCat("append to ", topic, ": ", cause.message(),
                                 "; ", s.message()));
    }
    return absl::OkStatus();
  }
  return absl::Status(cause.code(),
                      absl::StrCat("append to ", topic, ": ", cause.message()));
}

absl::Status KafkaEventLog::Fenced(const std::string& topic,
                                   const absl::Status& cause) const {
  return absl::FailedPreconditionError(absl::StrCat(
      "append to ", topic, ": ", cause.message(),
      "; this writer was fenced by a newer one with transactional.id ",
      options_.transactional_id,
      " (nothing of this append is visible). Create a new KafkaEventLog to "
      "write again"));
}

absl::StatusOr<int64_t> KafkaEventLog::EndOffset(std::string_view topic,
                                                 int32_t partition) {
  return EndOffsetBefore(topic, partition, absl::InfiniteFuture());
}

absl::StatusOr<int64_t> KafkaEventLog::EndOffsetBefore(
    std::string_view topic_view, int32_t partition, absl::Time caller) {
  const std::string topic(topic_view);
  const absl::Time own = absl::Now() + options_.request_timeout;
  const absl::Time deadline = std::min(caller, own);
  // The caller's deadline is kept exactly; our own bound gets the slack.
  const absl::Time wait_until = caller < own ? caller : own + kTimerSlack;
  ASSIGN_OR_RETURN(const int32_t count,
                   clients_->PartitionCount(topic, deadline));
  if (partition < 0 || partition >= count) {
    return absl::NotFoundError(absl::StrCat("topic ", topic,
                                            " has no partition ", partition,
                                            " (it has ", count, ")"));
  }
  // librdkafka 2.0.2's query_watermark_offsets can block far past its
  // timeout when the partition leader is down (it waits for the reply
  // without a deadline). Run it on its own thread so EndOffset keeps its
  // bound; the thread keeps the clients alive until librdkafka gives up.
  struct Query {
    absl::Mutex mu;
    bool done ABSL_GUARDED_BY(mu) = false;
    rd_kafka_resp_err_t err ABSL_GUARDED_BY(mu) = RD_KAFKA_RESP_ERR_NO_ERROR;
    int64_t high ABSL_GUARDED_BY(mu) = 0;
  };
  auto query = std::make_shared<Query>();
  std::thread([clients = clients_, query, topic, partition,
               timeout_ms = RemainingMs(deadline)] {
    int64_t low = 0;
    int64_t high = 0;
    const rd_kafka_resp_err_t err =
        rd_kafka_query_watermark_offsets(clients->watermarks.rk, topic.c_str(),
                                         partition, &low, &high, timeout_ms);
    absl::MutexLock lock(&query->mu);
    query->done = true;
    query->err = err;
    query->high = high;
  }).detach();
  absl::MutexLock lock(&query->mu);
  if (!query->mu.AwaitWithDeadline(absl::Condition(&query->done), wait_until)) {
    return absl::UnavailableError(absl::StrCat(
        "end offset of ", topic, "/", partition, ": no answer in time"));
  }
  if (query->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return KafkaError(query->err,
                      absl::StrCat("end offset of ", topic, "/", partition));
  }
  return query->high;
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
  auto reader = std::make_unique<KafkaLogReader>(consumer, start);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return KafkaError(err, "assign partitions");
  }
  return reader;
}

}  // namespace lotledger::eventlog
