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

Projector::~Projector() { Stop(); }

absl::Status Projector::Start() {
  eventlog::Offsets start = store_->Offsets();
  for (const std::string& topic : options_.input_topics) {
    ASSIGN_OR_RETURN(const int32_t parts, log_->PartitionCount(topic));
    for (int32_t p = 0; p < parts; ++p) start.try_emplace({topic, p}, 0);
  }
  ASSIGN_OR_RETURN(reader_, log_->OpenReader(start));
  {
    absl::MutexLock l(&mu_);
    applied_ = start;
    stop_ = false;
    health_ = absl::OkStatus();  // a restart on a rebuilt projection
  }
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void Projector::Stop() {
  {
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
      absl::MutexLock l(&mu_);
      health_ = s;
      LogJson(
          "error", "projector stopped",
          {{"service", options_.service}, {"error", std::string(s.message())}});
      return;
    }
  }
}

absl::Status Projector::ApplyPolled(eventlog::PollResult& polled) {
  if (polled.records.empty()) {
    // Offsets can still move (past transaction markers).
    bool moved = false;
    {
      absl::MutexLock l(&mu_);
      for (const auto& [tp, next] : polled.next_offsets) {
        moved |= applied_[tp] != next;
      }
    }
    if (!moved) return absl::OkStatus();
  }
  projection::ProjectionStore::Batch batch = store_->NewBatch();
  std::map<std::pair<std::string, std::string>, int> applied_by_type;
  for (const eventlog::Record& r : polled.records) {
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
      if (!head.broken.empty()) continue;  // contained: see below
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
        continue;
      }
      head.chain = {rec->seq(), rec->hash()};
      if (event->has_occurred_at()) {
        head.last_occurred_at = std::max(head.last_occurred_at,
                                         FromTimestamp(event->occurred_at()));
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
    if (std::optional<TraceContext> t =
            ParseTraceparent(event->traceparent())) {
      trace.emplace(*std::move(t));
    }
    absl::Status applied = apply_(r, *event, batch);
    if (!applied.ok()) {
      return absl::Status(applied.code(),
                          absl::StrCat(where(), ": ", applied.message()));
    }
    ++applied_by_type[{r.topic, EventType(*event)}];
  }
  for (const auto& [tp, next] : polled.next_offsets) batch.SetOffset(tp, next);
  RETURN_IF_ERROR(store_->Commit(std::move(batch)));
  for (const auto& [topic_type, n] : applied_by_type) {
    EventsApplied().Increment({{"service", options_.service},
                               {"topic", topic_type.first},
                               {"type", topic_type.second}},
                              n);
  }
  absl::MutexLock l(&mu_);
  for (const auto& [tp, next] : polled.next_offsets) applied_[tp] = next;
  for (const eventlog::Record& r : polled.records) {
    last_record_time_[{r.topic, r.partition}] = r.timestamp;
  }
  events_applied_ += polled.records.size();
  return absl::OkStatus();
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

}  // namespace lotledger::command
