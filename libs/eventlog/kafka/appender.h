// TransactionalAppender: the write half of KafkaEventLog. Every append, of
// one record or of many, runs inside a Kafka transaction of one
// transactional producer, because only a transaction gives the log what
// lotledger needs of a writer:
//  - Fencing. A newer writer with the same transactional.id fences this
//    one at its InitProducerId: from then on every append of this one
//    fails (FailedPrecondition), single-record appends included. A zombie
//    writer can never fork an aggregate's hash chain.
//  - Atomicity. The records of one append become visible to read_committed
//    readers together or not at all.
//  - A settled outcome. An append whose commit did not answer in time is
//    not forgotten: the appender resumes that commit (or aborts it) until
//    the outcome is known, and starts no later transaction before. Settle()
//    lets a writer wait for that before it decides again.
//
// Group commit: appends of concurrent callers share one transaction. One
// thread runs the transactions; while one commits, the next batch
// gathers. The records of each append keep their order, and appends keep
// the order in which they were queued. A failed transaction fails every
// append in it (each caller retries with its request id).
//
// Two producers take turns. A transaction's commit returns once the
// coordinator has logged it, before it has written the commit markers; a
// next transaction of the same producer meets those markers with
// CONCURRENT_TRANSACTIONS and librdkafka retries it 20 ms later (a fixed
// pause), which under load every transaction paid. The other producer's
// previous transaction ended one transaction earlier, so its markers are
// written. Transactions still run one at a time, in order, each settled
// before the next starts: the turn-taking changes no guarantee above.
//
// Commit observers (EventLog::ObserveCommits) get each committed
// transaction's records before its appends are answered, so a writer's
// projection has applied them by the time its command returns.
//
// A caller whose deadline passes stops waiting: Unavailable. If its records
// were still queued they are taken out (nothing was written); otherwise the
// transaction they are in goes on and settles.
//
// Thread-safety: Append and Settle may be called from any thread.
#ifndef LOTLEDGER_LIBS_EVENTLOG_KAFKA_APPENDER_H_
#define LOTLEDGER_LIBS_EVENTLOG_KAFKA_APPENDER_H_

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/eventlog/commit_observers.h"
#include "libs/eventlog/event_log.h"

namespace lotledger::eventlog::kafka {

// The delivery report callback the appender's producer must be configured
// with (rd_kafka_conf_set_dr_msg_cb).
void OnDeliveryReport(rd_kafka_t* rk, const rd_kafka_message_t* msg,
                      void* opaque);

class TransactionalAppender {
 public:
  struct Options {
    // Bounds each transaction step (begin/commit/abort calls).
    absl::Duration step_timeout = absl::Seconds(30);
    // A transaction takes at most this many records and bytes (at least one
    // append, however large).
    size_t max_batch_records = 4096;
    size_t max_batch_bytes = size_t{8} << 20;
  };

  // `producers` (one or more) are transactional producers with distinct
  // transactional ids, whose delivery reports reach OnDeliveryReport and
  // which some thread keeps polling; they must outlive the appender.
  TransactionalAppender(std::vector<rd_kafka_t*> producers, Options options);
  // Stops the thread. Appends still queued fail Unavailable; a transaction
  // whose outcome is unknown is left for the broker's transaction timeout
  // or the next writer's InitProducerId to abort.
  ~TransactionalAppender();

  TransactionalAppender(const TransactionalAppender&) = delete;
  TransactionalAppender& operator=(const TransactionalAppender&) = delete;

  // Registers each producer's transactional id with its coordinator: fences
  // every older producer with that id and aborts a transaction it left
  // open. Done once per producer; the first transaction does it when this
  // was not called or failed.
  absl::Status InitTransactions(absl::Time deadline);

  // Appends `records` to `topic` in a transaction; returns each record's
  // position, in order. Waits at most until `deadline`.
  absl::StatusOr<std::vector<Position>> Append(
      std::string topic, std::vector<OutgoingRecord> records,
      absl::Time deadline);

  // Returns once every transaction started before the call has a known
  // outcome (committed or aborted); Unavailable when that is not so by
  // `deadline`. After it, a partition's end offset covers every record of
  // those transactions.
  absl::Status Settle(absl::Time deadline);

  // EventLog::ObserveCommits: the observer of `topic` gets the records of
  // each committed transaction, on the appender's thread, before the
  // appends in it are answered.
  void ObserveCommits(const std::string& topic, CommitObserver observer) {
    observers_.Set(topic, std::move(observer));
  }

 private:
  struct Pending;
  using Batch = std::vector<std::shared_ptr<Pending>>;

  void Run();
  // Runs one transaction for `batch` and fills in each append's result.
  void RunTransaction(const Batch& batch);
  // Ends `producer`'s open transaction by aborting it, retrying until the
  // abort is known to have happened. Returns its failure only when fatal or
  // stopped.
  absl::Status AbortUntilKnown(rd_kafka_t* producer);
  absl::Status EnsureInitialized(absl::Time deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(init_mu_);
  // FailedPrecondition when any producer has failed for good (fenced).
  absl::Status FatalStatus() const;
  bool Stopping() const;

  const std::vector<rd_kafka_t*> producers_;
  const Options options_;
  CommitObservers observers_;

  absl::Mutex init_mu_;
  // Per producer: InitTransactions has succeeded.
  std::vector<bool> initialized_ ABSL_GUARDED_BY(init_mu_);
  // The producer whose turn it is; only the appender thread uses it.
  size_t turn_ = 0;

  mutable absl::Mutex mu_;
  std::deque<std::shared_ptr<Pending>> queue_ ABSL_GUARDED_BY(mu_);
  uint64_t started_ ABSL_GUARDED_BY(mu_) = 0;   // transactions taken
  uint64_t finished_ ABSL_GUARDED_BY(mu_) = 0;  // with a known outcome
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace lotledger::eventlog::kafka

#endif  // LOTLEDGER_LIBS_EVENTLOG_KAFKA_APPENDER_H_
