#include "libs/command/projector.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "libs/command/chain_store.h"
#include "libs/common/check.h"
#include "libs/common/hash.h"
#include "libs/common/json_log.h"
#include "libs/common/proto_time.h"
#include "libs/common/status_macros.h"
#include "libs/common/trace_context.h"
#include "libs/metrics/metrics.h"

namespace lotledger::command {
namespace {

const metrics::CounterFamily& EventsApplied() {
  static const auto* family =
      new metrics::CounterFamily(metrics::Default().Counter(
          "lotledger_events_applied_total",
          "Events a service folded into its projection, by topic and type"));
  return *family;
}

// The topics a projector reads that another service writes: the ones a
// decision must catch up with (read_barrier.h).
std::vector<std::string> ForeignTopics(const ProjectorOptions& options) {
  std::vector<std::string> foreign;
  if (!options.read_barrier) return foreign;
  for (const std::string& topic : options.input_topics) {
    if (topic != options.own_topic) foreign.push_back(topic);
  }
  return foreign;
}

const metrics::CounterFamily& ChainBreaks() {
  static const auto* family =
      new metrics::CounterFamily(metrics::Default().Counter(
          "lotledger_chain_breaks_total",
          "Aggregates whose hash chain broke in the service's own topic; each "
          "is contained (commands on it refused) until resolved"));
  return *family;
}

}  // namespace

const std::string& EventType(const v1::Event& event) {
  static const std::string* unknown = new std::string("unknown");
  const google::protobuf::FieldDescriptor* field =
      v1::Event::descriptor()->FindFieldByNumber(event.payload_case());
  return field != nullptr ? field->name() : *unknown;
}

std::vector<std::string> ProjectorColumnFamilies(
    std::vector<std::string> service_cfs) {
  service_cfs.push_back(kChainCf);
  service_cfs.push_back(kRequestsCf);
  return service_cfs;
}

Projector::Projector(eventlog::EventLog* log,
                     projection::ProjectionStore* store,
                     ProjectorOptions options, ApplyFn apply)
    : log_(log),
      store_(store),
      options_(std::move(options)),
      apply_(std::move(apply)),
      barrier_(log, ForeignTopics(options_)),
      barrier_with_own_(log, options_.input_topics) {}

void Projector::SetFollowing(bool following) { following_.store(following); }

absl::Status Projector::CatchUp(const eventlog::Offsets& token,
                                absl::Time deadline) {
  ASSIGN_OR_RETURN(eventlog::Offsets target,
                   following_.load() ? barrier_with_own_.EndOffsets(deadline)
                                     : barrier_.EndOffsets(deadline));
  // A token entry beyond its partition's end cannot come from an answer of
  // this deployment; waiting for it would only hold the caller (and the
  // aggregates it locks) until its deadline.
  // Entries the barrier did not look up (the service's own topic) are
  // looked up only when not applied yet: a client passing back its own
  // token pays nothing.
  std::vector<eventlog::TopicPartition> unchecked;
  {
    absl::MutexLock l(&mu_);
    for (const auto& [tp, offset] : token) {
      auto applied = applied_.find(tp);
      if (!target.contains(tp) && applied != applied_.end() &&
          applied->second < offset) {
        unchecked.push_back(tp);
      }
    }
  }
  eventlog::Offsets ends = target;
  if (!unchecked.empty()) {
    absl::StatusOr<eventlog::Offsets> more =
        log_->EndOffsets(unchecked, deadline);
    if (absl::IsNotFound(more.status())) {
      return absl::InvalidArgumentError(
          absl::StrCat("consistency token: ", more.status().message()));
    }
    RETURN_IF_ERROR(more.status());
    ends.insert(more->begin(), more->end());
  }
  for (const auto& [tp, offset] : token) {
    auto end = ends.find(tp);
    if (end != ends.end() && offset > end->second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "consistency token: ", tp.topic, "/", tp.partition, " offset ",
          offset, " is beyond the end of the log (", end->second,
          "); a token comes from an answer of this deployment"));
    }
    int64_t& t = target[tp];
    t = std::max(t, offset);
  }
  if (target.empty()) return absl::OkStatus();
  return WaitFor(target, deadline);
}

Projector::~Projector() {
  if (observing_) log_->ObserveCommits(options_.own_topic, nullptr);
  Stop();
}

absl::Status Projector::Start() {
  eventlog::Offsets start = store_->Offsets();
  for (const std::string& topic : options_.input_topics) {
    ASSIGN_OR_RETURN(const int32_t parts, log_->PartitionCount(topic));
    for (int32_t p = 0; p < parts; ++p) start.try_emplace({topic, p}, 0);
  }
  ASSIGN_OR_RETURN(reader_, log_->OpenReader(start));
  {
    absl::MutexLock apply(&apply_mu_);
    absl::MutexLock l(&mu_);
    applied_ = start;
    stop_ = false;
    health_ = absl::OkStatus();  // a restart on a rebuilt projection
    // Commits the writer is handed from now on wait until the reader has
    // applied one of them (ApplyCommitted): commits made while stopped, and
    // an earlier writer's, are before it.
    must_read_to_.clear();
    running_ = true;
  }
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void Projector::Stop() {
  {
    // No commit is applied to the store once Stop returns (a rebuild
    // switches the store; a clean close records its digest).
    absl::MutexLock apply(&apply_mu_);
    running_ = false;
    absl::MutexLock l(&mu_);
    stop_ = true;
  }
  if (reader_ != nullptr) reader_->Wakeup();
  if (thread_.joinable()) thread_.join();
}

void Projector::Run() {
  while (true) {
    {
      absl::MutexLock l(&mu_);
      if (stop_) return;
    }
    absl::StatusOr<eventlog::PollResult> polled =
        reader_->Poll(options_.max_batch, options_.poll_timeout);
    absl::Status s = polled.ok() ? ApplyPolled(*polled) : polled.status();
    if (!s.ok()) {
      if (s.code() == absl::StatusCode::kUnavailable) {
        // The log is unreachable for now; keep trying.
        absl::SleepFor(absl::Milliseconds(100));
        continue;
      }
      absl::MutexLock apply(&apply_mu_);
      Fail(s);
      return;
    }
  }
}

absl::Status Projector::ApplyRecord(const eventlog::Record& r,
                                    projection::ProjectionStore::Batch& batch,
                                    AppliedByType& applied_by_type) {
  auto where = [&r] {
    return absl::StrCat(r.topic, "/", r.partition, " offset ", r.offset,
                        " (key ", r.key, ")");
  };
  absl::StatusOr<v1::EventRecord> rec = eventlog::DecodeRecord(r.value);
  if (!rec.ok()) {
    return absl::DataLossError(
        absl::StrCat(where(), ": ", rec.status().message()));
  }
  absl::StatusOr<v1::Event> event = eventlog::DecodeEvent(*rec);
  if (!event.ok()) {
    return absl::DataLossError(
        absl::StrCat(where(), ": ", event.status().message()));
  }
  if (r.topic == options_.own_topic) {
    ASSIGN_OR_RETURN(AggregateHead head, LoadChainHead(batch, r.key));
    if (!head.broken.empty()) return absl::OkStatus();  // contained
    if (rec->seq() != head.chain.seq + 1 ||
        rec->prev_hash() != head.chain.hash) {
      // A broken chain is an incident for this one aggregate, not an
      // outage: the record and every later one of the aggregate are not
      // applied, commands on it are refused (CommandRunner), everything
      // else goes on. docs/operations.md says how it is closed.
      const std::string incident = absl::StrCat(
          where(), ": hash chain broken: seq ", rec->seq(), " after seq ",
          head.chain.seq,
          rec->prev_hash() != head.chain.hash ? ", prev_hash differs" : "");
      head.broken = incident;
      StoreChainHead(batch, r.key, head);
      ChainBreaks().Increment({{"service", options_.service}});
      LogJson("error", "hash chain broken; aggregate contained",
              {{"service", options_.service},
               {"aggregate", r.key},
               {"detail", incident}});
      return absl::OkStatus();
    }
    head.chain = {rec->seq(), rec->hash()};
    if (event->has_occurred_at()) {
      head.last_occurred_at =
          std::max(head.last_occurred_at, FromTimestamp(event->occurred_at()));
    }
    StoreChainHead(batch, r.key, head);
    if (!event->request_id().empty()) {
      v1::RequestRecord req;
      req.set_method(event->command());
      req.set_actor(event->actor());
      req.set_aggregate_id(event->aggregate_id());
      req.set_event_id(event->event_id());
      req.set_seq(rec->seq());
      req.set_topic(r.topic);
      req.set_partition(r.partition);
      req.set_offset(r.offset);
      batch.Put(kRequestsCf, event->request_id(), req.SerializeAsString());
    }
  }
  // Lines logged while applying carry the trace of the call that wrote
  // the event.
  std::optional<ScopedTraceContext> trace;
  if (std::optional<TraceContext> t = ParseTraceparent(event->traceparent())) {
    trace.emplace(*std::move(t));
  }
  absl::Status applied = apply_(r, *event, batch);
  if (!applied.ok()) {
    return absl::Status(applied.code(),
                        absl::StrCat(where(), ": ", applied.message()));
  }
  ++applied_by_type[{r.topic, EventType(*event)}];
  return absl::OkStatus();
}

absl::Status Projector::CommitApplied(
    projection::ProjectionStore::Batch batch, const eventlog::Offsets& next,
    const std::vector<const eventlog::Record*>& records,
    const AppliedByType& applied_by_type, bool on_commit) {
  RETURN_IF_ERROR(store_->Commit(std::move(batch)));
  for (const auto& [topic_type, n] : applied_by_type) {
    EventsApplied().Increment({{"service", options_.service},
                               {"topic", topic_type.first},
                               {"type", topic_type.second}},
                              n);
  }
  absl::MutexLock l(&mu_);
  for (const auto& [tp, offset] : next) {
    int64_t& applied = applied_[tp];
    applied = std::max(applied, offset);
  }
  for (const eventlog::Record* r : records) {
    last_record_time_[{r->topic, r->partition}] = r->timestamp;
  }
  events_applied_ += records.size();
  if (on_commit) applied_on_commit_ += records.size();
  return absl::OkStatus();
}

absl::Status Projector::ApplyPolled(eventlog::PollResult& polled) {
  absl::MutexLock apply(&apply_mu_);
  // Records of the own topic the writer's commits applied already
  // (ApplyCommitted) are below the applied offset: not applied again.
  eventlog::Offsets applied_before;
  {
    absl::MutexLock l(&mu_);
    applied_before = applied_;
  }
  auto applied_at = [&applied_before](const eventlog::TopicPartition& tp) {
    auto it = applied_before.find(tp);
    return it == applied_before.end() ? int64_t{0} : it->second;
  };
  bool moved = false;
  for (const auto& [tp, next] : polled.next_offsets) {
    moved |= next > applied_at(tp);
  }
  if (!moved) return absl::OkStatus();  // offsets can move past markers only

  projection::ProjectionStore::Batch batch = store_->NewBatch();
  AppliedByType applied_by_type;
  std::vector<const eventlog::Record*> records;
  for (const eventlog::Record& r : polled.records) {
    if (r.offset < applied_at({r.topic, r.partition})) continue;
    RETURN_IF_ERROR(ApplyRecord(r, batch, applied_by_type));
    records.push_back(&r);
  }
  eventlog::Offsets next;
  for (const auto& [tp, offset] : polled.next_offsets) {
    next[tp] = std::max(offset, applied_at(tp));
    batch.SetOffset(tp, next[tp]);
  }
  return CommitApplied(std::move(batch), next, records, applied_by_type,
                       /*on_commit=*/false);
}

void Projector::ApplyCommitted(const std::vector<eventlog::Record>& records) {
  absl::MutexLock apply(&apply_mu_);
  if (records.empty()) {
    // Records of a commit whose positions are unknown: applying later
    // commits before the reader brings those would lose them.
    if (!blind_) {
      LogJson("warn",
              "a commit's records could not be handed to the projection; "
              "it reads the service's own records back from now on",
              {{"service", options_.service}});
    }
    blind_ = true;
    return;
  }
  eventlog::Offsets applied;
  {
    absl::MutexLock l(&mu_);
    applied = applied_;
  }
  // Per partition: apply directly only when every committed record before
  // these is applied. That is known once the reader has applied a commit
  // this projector was handed (its first one since Start, or one it left
  // to the reader): every record of the partition before it was written
  // earlier, so the reader brought it too.
  std::map<int32_t, bool> direct;
  for (const eventlog::Record& r : records) {
    if (direct.contains(r.partition)) continue;
    const eventlog::TopicPartition tp{r.topic, r.partition};
    auto must = must_read_to_.find(tp);
    direct[r.partition] = running_ && !blind_ && must != must_read_to_.end() &&
                          applied[tp] >= must->second;
  }
  projection::ProjectionStore::Batch batch = store_->NewBatch();
  AppliedByType applied_by_type;
  std::vector<const eventlog::Record*> done;
  eventlog::Offsets next;
  for (const eventlog::Record& r : records) {
    const eventlog::TopicPartition tp{r.topic, r.partition};
    if (!direct[r.partition]) {
      int64_t& must = must_read_to_[tp];
      must = std::max(must, r.offset + 1);
      continue;
    }
    if (r.offset < applied[tp]) continue;  // the reader was first
    if (absl::Status s = ApplyRecord(r, batch, applied_by_type); !s.ok()) {
      Fail(s);
      return;
    }
    done.push_back(&r);
    next[tp] = r.offset + 1;
  }
  if (done.empty()) return;
  for (const auto& [tp, offset] : next) {
    batch.SetOffset(tp, std::max(offset, applied[tp]));
  }
  if (absl::Status s = CommitApplied(std::move(batch), next, done,
                                     applied_by_type, /*on_commit=*/true);
      !s.ok()) {
    Fail(s);
  }
}

void Projector::Fail(const absl::Status& s) {
  blind_ = true;
  absl::MutexLock l(&mu_);
  if (!health_.ok()) return;
  health_ = s;
  LogJson("error", "projector stopped",
          {{"service", options_.service}, {"error", std::string(s.message())}});
}

bool Projector::ObserveOwnCommits() {
  if (options_.own_topic.empty()) return false;
  observing_ = log_->ObserveCommits(
      options_.own_topic, [this](std::vector<eventlog::Record> records) {
        ApplyCommitted(records);
      });
  return observing_;
}

absl::Status Projector::WaitFor(const eventlog::Offsets& target,
                                absl::Time deadline) {
  absl::MutexLock l(&mu_);
  // A client may merge the tokens of several services and pass them to
  // any: entries of topics this service does not read have nothing to wait
  // for. An unknown partition of a topic it reads is a client error.
  eventlog::Offsets mine;
  for (const auto& [tp, offset] : target) {
    auto it = applied_.lower_bound({tp.topic, 0});
    if (it == applied_.end() || it->first.topic != tp.topic) continue;
    if (!applied_.contains(tp)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "consistency token: ", tp.topic, " has no partition ", tp.partition));
    }
    mine[tp] = offset;
  }
  // Evaluated by the thread that releases mu_ after applying a batch, so
  // only the waiters whose offsets are now applied wake up (no herd).
  auto done = [&]() {
    if (!health_.ok()) return true;
    for (const auto& [tp, offset] : mine) {
      if (applied_.at(tp) < offset) return false;
    }
    return true;
  };
  if (!mu_.AwaitWithDeadline(absl::Condition(&done), deadline)) {
    return absl::DeadlineExceededError(
        "the projection has not yet applied the requested offsets");
  }
  return health_;
}

eventlog::Offsets Projector::Applied() const {
  absl::MutexLock l(&mu_);
  return applied_;
}

absl::Status Projector::health() const {
  absl::MutexLock l(&mu_);
  return health_;
}

std::map<eventlog::TopicPartition, absl::Time> Projector::LastRecordTimes()
    const {
  absl::MutexLock l(&mu_);
  return last_record_time_;
}

uint64_t Projector::events_applied() const {
  absl::MutexLock l(&mu_);
  return events_applied_;
}

uint64_t Projector::applied_on_commit() const {
  absl::MutexLock l(&mu_);
  return applied_on_commit_;
}

}  // namespace lotledger::command
