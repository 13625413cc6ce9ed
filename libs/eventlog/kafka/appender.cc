#include "libs/eventlog/kafka/appender.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/common/check.h"
#include "libs/common/status_macros.h"
#include "libs/eventlog/kafka/errors.h"
#include "libs/metrics/metrics.h"

namespace lotledger::eventlog::kafka {
namespace {

// Between two tries of a commit or abort that timed out: the broker or its
// new leader needs a moment; librdkafka keeps its own request going.
constexpr absl::Duration kRetryPause = absl::Milliseconds(100);

struct AppenderMetrics {
  metrics::CounterFamily producer_errors = metrics::Default().Counter(
      "lotledger_kafka_producer_errors_total",
      "Records the Kafka producer failed to queue or deliver, by error");
  metrics::CounterFamily transactions = metrics::Default().Counter(
      "lotledger_kafka_transactions_total",
      "Kafka transactions run by the appender, by outcome (committed, "
      "aborted, fenced)");
  metrics::CounterFamily resumed = metrics::Default().Counter(
      "lotledger_kafka_commit_retries_total",
      "Commits or aborts whose outcome was unknown and were tried again "
      "before any later transaction started");
  metrics::CounterFamily appends = metrics::Default().Counter(
      "lotledger_kafka_appends_total",
      "Appends (commands' record batches) written through transactions");
};

const AppenderMetrics& Metrics() {
  static const auto* m = new AppenderMetrics();
  return *m;
}

// The outcome of one produced record, filled in by the delivery report
// callback on the producer's polling thread. Shared because a waiter that
// gives up must not free what the callback will still write.
struct Delivery {
  absl::Mutex mu;
  bool done ABSL_GUARDED_BY(mu) = false;
  rd_kafka_resp_err_t err ABSL_GUARDED_BY(mu) = RD_KAFKA_RESP_ERR_NO_ERROR;
  Position position ABSL_GUARDED_BY(mu);

  absl::StatusOr<Position> Wait(absl::Time deadline) {
    absl::MutexLock lock(&mu);
    if (!mu.AwaitWithDeadline(absl::Condition(&done), deadline)) {
      return absl::UnavailableError("no delivery report in time");
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return KafkaError(err, "delivery failed");
    }
    return position;
  }
};

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
    Metrics().producer_errors.Increment({{"error", rd_kafka_err2name(err)}});
    return KafkaError(err, absl::StrCat("produce to ", topic));
  }
  return delivery;
}

size_t BytesOf(const std::vector<OutgoingRecord>& records) {
  size_t bytes = 0;
  for (const OutgoingRecord& r : records) {
    bytes += r.key.size() + r.value.size();
    for (const Header& h : r.headers) bytes += h.key.size() + h.value.size();
  }
  return bytes;
}

}  // namespace

void OnDeliveryReport(rd_kafka_t*, const rd_kafka_message_t* msg, void*) {
  auto* holder = static_cast<std::shared_ptr<Delivery>*>(msg->_private);
  if (holder == nullptr) return;
  if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    Metrics().producer_errors.Increment(
        {{"error", rd_kafka_err2name(msg->err)}});
  }
  {
    Delivery& d = **holder;
    absl::MutexLock lock(&d.mu);
    d.done = true;
    d.err = msg->err;
    d.position = Position{msg->partition, msg->offset};
  }
  delete holder;
}

struct TransactionalAppender::Pending {
  Pending(std::string t, std::vector<OutgoingRecord> r)
      : topic(std::move(t)), records(std::move(r)), bytes(BytesOf(records)) {}
  const std::string topic;
  // Moved to the commit observers once the transaction committed (only
  // the appender thread touches them).
  std::vector<OutgoingRecord> records;
  const size_t bytes;
  // Guarded by the appender's mu_.
  bool taken = false;  // in a transaction: no longer removable
  bool done = false;
  absl::StatusOr<std::vector<Position>> result;
};

TransactionalAppender::TransactionalAppender(std::vector<rd_kafka_t*> producers,
                                             Options options)
    : producers_(std::move(producers)),
      options_(std::move(options)),
      initialized_(producers_.size(), false) {
  CHECK(!producers_.empty());
  thread_ = std::thread([this] { Run(); });
}

TransactionalAppender::~TransactionalAppender() {
  {
    absl::MutexLock l(&mu_);
    stop_ = true;
  }
  thread_.join();
}

bool TransactionalAppender::Stopping() const {
  absl::MutexLock l(&mu_);
  return stop_;
}

absl::Status TransactionalAppender::FatalStatus() const {
  char reason[512];
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  rd_kafka_t* failed = nullptr;
  for (rd_kafka_t* producer : producers_) {
    err = rd_kafka_fatal_error(producer, reason, sizeof(reason));
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      failed = producer;
      break;
    }
  }
  if (failed == nullptr) return absl::OkStatus();
  char id[256] = "?";
  size_t id_size = sizeof(id);
  rd_kafka_conf_get(rd_kafka_conf(failed), "transactional.id", id, &id_size);
  return absl::FailedPreconditionError(absl::StrCat(
      "the transactional producer (transactional.id ", id,
      ") failed for good: ", rd_kafka_err2name(err), " (", reason,
      "); a newer writer with the same id has taken over, so this one may "
      "write nothing more. Restart the process to write again"));
}

absl::Status TransactionalAppender::InitTransactions(absl::Time deadline) {
  absl::MutexLock l(&init_mu_);
  return EnsureInitialized(deadline);
}

absl::Status TransactionalAppender::EnsureInitialized(absl::Time deadline) {
  for (size_t i = 0; i < producers_.size(); ++i) {
    if (initialized_[i]) continue;
    RETURN_IF_ERROR(FatalStatus());
    if (rd_kafka_error_t* error =
            rd_kafka_init_transactions(producers_[i], RemainingMs(deadline));
        error != nullptr) {
      return KafkaError(error, "init transactions");
    }
    initialized_[i] = true;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Position>> TransactionalAppender::Append(
    std::string topic, std::vector<OutgoingRecord> records,
    absl::Time deadline) {
  auto pending = std::make_shared<Pending>(topic, std::move(records));
  absl::MutexLock l(&mu_);
  if (stop_) {
    return absl::UnavailableError(
        absl::StrCat("append to ", topic, ": the log is closing"));
  }
  queue_.push_back(pending);
  if (mu_.AwaitWithDeadline(absl::Condition(&pending->done), deadline)) {
    return pending->result;
  }
  if (!pending->taken) {
    queue_.erase(std::find(queue_.begin(), queue_.end(), pending));
    return absl::UnavailableError(absl::StrCat(
        "append to ", topic,
        ": the log did not take the records before the caller's deadline "
        "(earlier appends still settling); nothing was written, retry with "
        "the same request id"));
  }
  return absl::UnavailableError(absl::StrCat(
      "append to ", topic,
      ": the transaction did not commit before the caller's deadline; it "
      "may still commit, retry with the same request id"));
}

absl::Status TransactionalAppender::Settle(absl::Time deadline) {
  absl::MutexLock l(&mu_);
  const uint64_t target = started_;
  auto settled = [this, target]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return finished_ >= target || stop_;
  };
  if (!mu_.AwaitWithDeadline(absl::Condition(&settled), deadline) ||
      finished_ < target) {
    return absl::UnavailableError(
        "an earlier append's outcome is not known yet (the Kafka cluster has "
        "not answered its commit); retry with the same request id");
  }
  return absl::OkStatus();
}

void TransactionalAppender::Run() {
  while (true) {
    Batch batch;
    {
      absl::MutexLock l(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stop_ || !queue_.empty();
      };
      mu_.Await(absl::Condition(&ready));
      if (stop_) {
        for (const auto& p : queue_) {
          p->result = absl::UnavailableError(
              absl::StrCat("append to ", p->topic, ": the log is closing"));
          p->done = true;
        }
        queue_.clear();
        return;
      }
      size_t records = 0;
      size_t bytes = 0;
      while (!queue_.empty()) {
        const std::shared_ptr<Pending>& next = queue_.front();
        if (!batch.empty() &&
            (records + next->records.size() > options_.max_batch_records ||
             bytes + next->bytes > options_.max_batch_bytes)) {
          break;
        }
        records += next->records.size();
        bytes += next->bytes;
        next->taken = true;
        batch.push_back(next);
        queue_.pop_front();
      }
      ++started_;
    }
    RunTransaction(batch);
    absl::MutexLock l(&mu_);
    ++finished_;
    for (const auto& p : batch) p->done = true;
  }
}

void TransactionalAppender::RunTransaction(const Batch& batch) {
  // Fills every append's result with `status`, naming its topic.
  auto fail_all = [&](const absl::Status& status) {
    absl::MutexLock l(&mu_);
    for (const auto& p : batch) {
      p->result = absl::Status(
          status.code(),
          absl::StrCat("append to ", p->topic, ": ", status.message()));
    }
  };
  if (absl::Status fatal = FatalStatus(); !fatal.ok()) {
    fail_all(fatal);
    return;
  }
  {
    absl::MutexLock l(&init_mu_);
    if (absl::Status s = EnsureInitialized(absl::Now() + options_.step_timeout);
        !s.ok()) {
      fail_all(s);  // nothing was produced
      return;
    }
  }
  rd_kafka_t* const producer = producers_[turn_];
  // Whatever the outcome, the next transaction is the other producer's.
  turn_ = (turn_ + 1) % producers_.size();
  if (rd_kafka_error_t* error = rd_kafka_begin_transaction(producer);
      error != nullptr) {
    fail_all(KafkaError(error, "begin transaction"));
    return;
  }

  // Aborts, then fails every append with `cause` (or why the abort failed).
  auto abort_all = [&](absl::Status cause) {
    if (absl::Status aborted = AbortUntilKnown(producer); !aborted.ok()) {
      cause = absl::Status(aborted.code(), absl::StrCat(cause.message(), "; ",
                                                        aborted.message()));
    } else {
      Metrics().transactions.Increment({{"outcome", "aborted"}});
    }
    fail_all(cause);
  };

  std::vector<std::vector<std::shared_ptr<Delivery>>> deliveries(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    for (const OutgoingRecord& record : batch[i]->records) {
      absl::StatusOr<std::shared_ptr<Delivery>> d =
          Produce(producer, batch[i]->topic, record);
      if (!d.ok()) {
        abort_all(d.status());
        return;
      }
      deliveries[i].push_back(*std::move(d));
    }
  }

  // Wait for the delivery reports here (the producer's polling thread
  // serves them as they come): commit_transaction's own flush polls in
  // 10 ms steps in librdkafka 2.0.2, which would add up to 10 ms to every
  // transaction. A failed delivery makes the commit below fail abortable.
  const absl::Time delivered_by = absl::Now() + options_.step_timeout;
  for (const auto& per_append : deliveries) {
    for (const auto& d : per_append) d->Wait(delivered_by).IgnoreError();
  }

  while (true) {
    rd_kafka_error_t* error =
        rd_kafka_commit_transaction(producer, ToMillis(options_.step_timeout));
    if (error == nullptr) break;
    const bool fatal = rd_kafka_error_is_fatal(error);
    const bool requires_abort = rd_kafka_error_txn_requires_abort(error);
    absl::Status cause = KafkaError(error, "commit");
    if (fatal) {
      Metrics().transactions.Increment({{"outcome", "fenced"}});
      absl::Status why = FatalStatus();
      fail_all(why.ok() ? cause : why);
      return;
    }
    if (requires_abort) {
      // A failed delivery names the cause better than the commit does.
      for (const auto& per_append : deliveries) {
        for (const auto& d : per_append) {
          absl::StatusOr<Position> p = d->Wait(absl::Now());
          if (!p.ok() && !absl::IsUnavailable(p.status())) {
            cause = p.status();
            break;
          }
        }
      }
      abort_all(cause);
      return;
    }
    // The commit timed out: its outcome is unknown. Resume it (librdkafka
    // allows nothing else) until it is known; no later transaction starts
    // before, so no writer decides on a log that may still change.
    Metrics().resumed.Increment({{"step", "commit"}});
    if (Stopping()) {
      fail_all(absl::UnavailableError(absl::StrCat(
          cause.message(), "; the log closed before the outcome was known")));
      return;
    }
    absl::SleepFor(kRetryPause);
  }

  Metrics().transactions.Increment({{"outcome", "committed"}});
  Metrics().appends.Increment({}, static_cast<double>(batch.size()));
  std::vector<absl::StatusOr<std::vector<Position>>> results;
  results.reserve(batch.size());
  for (const auto& per_append : deliveries) {
    std::vector<Position> positions;
    positions.reserve(per_append.size());
    absl::Status failed;
    for (const auto& d : per_append) {
      // A successful commit has flushed every delivery report.
      absl::StatusOr<Position> p = d->Wait(absl::Now() + absl::Seconds(5));
      if (!p.ok()) {
        failed = p.status();
        break;
      }
      positions.push_back(*p);
    }
    if (failed.ok()) {
      results.emplace_back(std::move(positions));
    } else {
      results.emplace_back(failed);
    }
  }
  // Observers first: a caller answered before its records are applied
  // would wait for the projector to read them back.
  std::vector<Record> observed;
  for (size_t i = 0; i < batch.size(); ++i) {
    if (!observers_.Observed(batch[i]->topic)) continue;
    if (!results[i].ok()) {  // committed, but where to is not known
      observers_.NotifyUnseen(batch[i]->topic);
      continue;
    }
    std::vector<OutgoingRecord>& records = batch[i]->records;
    for (size_t j = 0; j < records.size(); ++j) {
      observed.push_back(Record{.topic = batch[i]->topic,
                                .partition = (*results[i])[j].partition,
                                .offset = (*results[i])[j].offset,
                                .key = std::move(records[j].key),
                                .value = std::move(records[j].value),
                                .headers = std::move(records[j].headers),
                                .timestamp = absl::Now()});
    }
  }
  observers_.Notify(std::move(observed));
  absl::MutexLock l(&mu_);
  for (size_t i = 0; i < batch.size(); ++i) {
    batch[i]->result = std::move(results[i]);
  }
}

absl::Status TransactionalAppender::AbortUntilKnown(rd_kafka_t* producer) {
  while (true) {
    rd_kafka_error_t* error =
        rd_kafka_abort_transaction(producer, ToMillis(options_.step_timeout));
    if (error == nullptr) return absl::OkStatus();
    if (rd_kafka_error_is_fatal(error)) {
      absl::Status cause = KafkaError(error, "abort");
      absl::Status why = FatalStatus();
      return why.ok() ? cause : why;
    }
    absl::Status cause = KafkaError(error, "abort");
    Metrics().resumed.Increment({{"step", "abort"}});
    if (Stopping()) {
      return absl::UnavailableError(absl::StrCat(
          cause.message(), "; the log closed before the abort was known"));
    }
    absl::SleepFor(kRetryPause);
  }
}

}  // namespace lotledger::eventlog::kafka
