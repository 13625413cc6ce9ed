// Projector: folds a service's input topics into its RocksDB projection
// (docs/design.md, "Projections"). One thread reads the log from the offsets
// stored in the projection, decodes and chain-checks each record, hands the
// event to the service's apply function, and commits the resulting state
// together with the new offsets in one WriteBatch, so a crash can neither
// apply an event twice nor skip one.
//
// Besides the service's own state, the projector keeps, for records of the
// service's own topic (the one it writes):
//   - column family "chain": aggregate id -> AggregateHead (seq, hash, last
//     business time; chain_store.h), so the writer continues each
//     aggregate's hash chain;
//   - column family "requests": request id -> RequestRecord, so a retried
//     command is answered once (and a reused id is recognised: the record
//     names the aggregate, method and caller it is bound to).
// A record whose seq or prev_hash does not follow its aggregate's head
// breaks the chain. That is contained to the aggregate: the head records
// what broke (AggregateHead::broken), neither that record nor any later one
// of the aggregate is applied, the CommandRunner refuses commands on it,
// everything else goes on; it is logged and counted
// (lotledger_chain_breaks_total).
// A record that cannot be decoded, or whose own hash does not match its
// bytes, stops the projector with DataLoss naming topic/partition/offset;
// it is never skipped.
//
// Thread-safety: all public methods may be called from any thread.
#ifndef LOTLEDGER_LIBS_COMMAND_PROJECTOR_H_
#define LOTLEDGER_LIBS_COMMAND_PROJECTOR_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "libs/command/read_barrier.h"
#include "libs/eventlog/event_log.h"
#include "libs/eventlog/record_codec.h"
#include "libs/projection/projection_store.h"
#include "lotledger/v1/events.pb.h"

namespace lotledger::command {

inline constexpr char kChainCf[] = "chain";
inline constexpr char kRequestsCf[] = "requests";

// Column families every projection has, besides the service's own.
std::vector<std::string> ProjectorColumnFamilies(
    std::vector<std::string> service_cfs);

// Folds one event into the batch. Must be deterministic: a rebuilt
// projection must be byte-identical to the live one.
using ApplyFn = std::function<absl::Status(
    const eventlog::Record& record, const v1::Event& event,
    projection::ProjectionStore::Batch& batch)>;

// The name of the event's payload ("lot_created"): the `type` label of
// the event metrics.
const std::string& EventType(const v1::Event& event);

struct ProjectorOptions {
  std::string service;                    // "lots": the metrics' label
  std::string own_topic;                  // the topic this service writes
  std::vector<std::string> input_topics;  // including own_topic
  size_t max_batch = 2048;
  // CatchUp's read barrier (read_barrier.h). Only a benchmark measuring
  // its cost turns it off (env LOTLEDGER_READ_BARRIER=off): without it a
  // decision may miss a fact another service acknowledged.
  bool read_barrier = true;
  absl::Duration poll_timeout = absl::Milliseconds(200);
};

class Projector {
 public:
  Projector(eventlog::EventLog* log, projection::ProjectionStore* store,
            ProjectorOptions options, ApplyFn apply);
  ~Projector();  // stops the thread
  Projector(const Projector&) = delete;
  Projector& operator=(const Projector&) = delete;

  // Opens the reader from the stored offsets and starts the thread.
  absl::Status Start();
  void Stop();

  // Blocks until every partition in `target` is applied up to (excluding)
  // its offset. Partitions of topics this projector does not read are
  // ignored (tokens of several services may be merged). DeadlineExceeded past
  // `deadline`; the projector's error when it stopped on a bad record.
  absl::Status WaitFor(const eventlog::Offsets& target, absl::Time deadline);

  // Makes a decision or a query see every fact acknowledged before the
  // call: looks up the end offsets of the topics other services write
  // (read_barrier.h), adds the client's consistency token, and waits until
  // all of it is applied. InvalidArgument for a token entry beyond the end
  // of its partition (refused at once, not waited for); Unavailable when
  // the log does not tell its end offsets in time; as WaitFor otherwise.
  absl::Status CatchUp(const eventlog::Offsets& token, absl::Time deadline);
  const ReadBarrier& barrier() const { return barrier_; }
  // A standby replica follows a writer in another process: from then on
  // CatchUp's barrier covers the service's own topic too, so a query sees
  // every command the writer acknowledged before it (writer_role.h).
  void SetFollowing(bool following);

  // Applied offsets (next offset to read) per input partition.
  eventlog::Offsets Applied() const;
  // OK while running; DataLoss (or the log's error) once stopped on one.
  absl::Status health() const;
  uint64_t events_applied() const;
  // Of those, the ones applied as the writer committed them
  // (ObserveOwnCommits) rather than read back from the log.
  uint64_t applied_on_commit() const;
  // Log time of the last record applied per input partition since Start
  // (for the projection lag metric).
  std::map<eventlog::TopicPartition, absl::Time> LastRecordTimes() const;

  // Applies one batch of records read from the log and commits it with
  // `polled.next_offsets`. For a driver that reads the log itself instead
  // of calling Start (a rebuild that must stop at exact offsets,
  // rebuild.h); never while the projector's own thread runs.
  absl::Status ApplyPolled(eventlog::PollResult& polled);

  // The writer's shortcut (docs/adr/0008-apply-on-commit.md): asks the log
  // to hand this projector the records of every append to the own topic
  // it commits (EventLog::ObserveCommits), and applies them on the
  // committing thread, so a command's events are applied when its append
  // returns instead of when the reader has fetched them back. The reader
  // still reads them and skips what is applied. A commit is applied this
  // way only when every record of its partition before it is known to be
  // applied: after Start, the first commit per partition is left to the
  // reader, and direct applying starts once the reader has applied it.
  // The projection is the same either way (the same ApplyRecord, the
  // same order within a partition). Call once, after construction; the
  // projector must be destroyed before the log. False when the log cannot
  // observe its commits (the reader alone applies then).
  bool ObserveOwnCommits();

 private:
  using AppliedByType = std::map<std::pair<std::string, std::string>, int>;
  void Run();
  // Decodes, chain-checks and applies one record into `batch`.
  absl::Status ApplyRecord(const eventlog::Record& r,
                           projection::ProjectionStore::Batch& batch,
                           AppliedByType& applied_by_type)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(apply_mu_);
  // Commits `batch` with the offsets `next` (never lowering an applied
  // offset) and records what was applied (`on_commit`: by
  // ApplyCommitted).
  absl::Status CommitApplied(
      projection::ProjectionStore::Batch batch, const eventlog::Offsets& next,
      const std::vector<const eventlog::Record*>& records,
      const AppliedByType& applied_by_type, bool on_commit)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(apply_mu_);
  // The log's commit observer (ObserveOwnCommits).
  void ApplyCommitted(const std::vector<eventlog::Record>& records);
  // Stops applying: health() returns `s` from now on.
  void Fail(const absl::Status& s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(apply_mu_);

  eventlog::EventLog* log_;
  projection::ProjectionStore* store_;
  ProjectorOptions options_;
  ApplyFn apply_;
  std::unique_ptr<eventlog::LogReader> reader_;
  std::thread thread_;
  bool observing_ = false;

  // Held while a batch is applied and committed, by the reader's thread or
  // a committing one; taken before mu_.
  absl::Mutex apply_mu_;
  bool running_ ABSL_GUARDED_BY(apply_mu_) = false;  // between Start and Stop
  // A commit's records were not handed over, or applying failed: commits
  // are left to the reader from then on.
  bool blind_ ABSL_GUARDED_BY(apply_mu_) = false;
  // Per own partition, the offset the reader must have applied before
  // commits are applied directly; none yet: the next commit is left to
  // the reader and sets it.
  eventlog::Offsets must_read_to_ ABSL_GUARDED_BY(apply_mu_);

  mutable absl::Mutex mu_;
  eventlog::Offsets applied_ ABSL_GUARDED_BY(mu_);
  absl::Status health_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t events_applied_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t applied_on_commit_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<eventlog::TopicPartition, absl::Time> last_record_time_
      ABSL_GUARDED_BY(mu_);
  ReadBarrier barrier_;
  ReadBarrier barrier_with_own_;
  std::atomic<bool> following_ = false;
};

}  // namespace lotledger::command

#endif  // LOTLEDGER_LIBS_COMMAND_PROJECTOR_H_
