#include "libs/command/command_runner.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "libs/command/chain_store.h"
#include "libs/common/check.h"
#include "libs/common/hash.h"
#include "libs/common/ids.h"
#include "libs/common/proto_time.h"
#include "libs/common/status_macros.h"
#include "libs/eventlog/record_codec.h"
#include "libs/server/metrics.h"

namespace lotledger::command {
namespace {

struct RunnerMetrics {
  metrics::CounterFamily appended = metrics::Default().Counter(
      "lotledger_events_appended_total",
      "Events written to the log by commands, by topic and type");
  metrics::CounterFamily expiry_alerts = metrics::Default().Counter(
      "lotledger_expiry_alerts_total",
      "Expiry alerts raised: ExpiryThresholdCrossed and LotExpired events "
      "written");
};

const RunnerMetrics& Metrics() {
  static const auto* m = new RunnerMetrics();
  return *m;
}

bool OutcomeUnknown(const absl::Status& s) {
  return s.code() == absl::StatusCode::kUnavailable ||
         s.code() == absl::StatusCode::kDeadlineExceeded ||
         s.code() == absl::StatusCode::kUnknown ||
         s.code() == absl::StatusCode::kInternal;
}

// The log gives up this long before the caller's deadline, so the caller
// gets the log's answer (UNAVAILABLE: retry with the request id) rather
// than its own DEADLINE_EXCEEDED.
constexpr absl::Duration kAnswerMargin = absl::Milliseconds(200);

absl::Time LogDeadline(absl::Time deadline) {
  return deadline == absl::InfiniteFuture() ? deadline
                                            : deadline - kAnswerMargin;
}

}  // namespace

v1::ConsistencyToken ToToken(const eventlog::Offsets& offsets) {
  v1::ConsistencyToken token;
  for (const auto& [tp, offset] : offsets) {
    auto* o = token.add_offsets();
    o->set_topic(tp.topic);
    o->set_partition(tp.partition);
    o->set_offset(offset);
  }
  return token;
}

eventlog::Offsets FromToken(const v1::ConsistencyToken& token) {
  eventlog::Offsets out;
  for (const auto& o : token.offsets()) {
    int64_t& v = out[{o.topic(), o.partition()}];
    v = std::max(v, o.offset());
  }
  return out;
}

CommandRunner::CommandRunner(eventlog::EventLog* log,
                             projection::ProjectionStore* store,
                             Projector* projector, std::string topic,
                             std::string source)
    : log_(log),
      store_(store),
      projector_(projector),
      topic_(std::move(topic)),
      source_(std::move(source)) {}

absl::StatusOr<int32_t> CommandRunner::Partitions() {
  absl::MutexLock l(&mu_);
  if (partitions_ == 0) {
    ASSIGN_OR_RETURN(partitions_, log_->PartitionCount(topic_));
    // A new runner (a start, a restart after a crash) has not seen what
    // an earlier writer appended: its last records may not be applied yet,
    // and deciding before they are would answer a retried request id
    // again and fork the aggregate's hash chain. So the first command on
    // each partition catches up to the log's end first.
    for (int32_t p = 0; p < partitions_; ++p) uncertain_.insert(p);
  }
  return partitions_;
}

absl::StatusOr<CommandResult> CommandRunner::Run(
    const CommandContext& ctx, std::vector<std::string> aggregate_ids,
    const DecideFn& decide) {
  if (ctx.request_id.empty()) {
    return absl::InvalidArgumentError(
        "request_id: required (a unique id per command, reused on retry)");
  }
  if (ctx.request_id.size() > 128) {
    return absl::InvalidArgumentError("request_id: at most 128 characters");
  }
  ASSIGN_OR_RETURN(const int32_t partitions, Partitions());

  // 1. Lock the aggregates' stripes in ascending order.
  std::vector<size_t> stripes;
  std::set<int32_t> parts;
  for (const std::string& id : aggregate_ids) {
    stripes.push_back(static_cast<uint32_t>(Murmur2(id)) % kStripes);
    parts.insert(PartitionForKey(id, partitions));
  }
  std::sort(stripes.begin(), stripes.end());
  stripes.erase(std::unique(stripes.begin(), stripes.end()), stripes.end());
  for (size_t s : stripes) stripes_[s].Lock();
  struct Unlock {
    std::array<absl::Mutex, kStripes>& m;
    std::vector<size_t>& s;
    ~Unlock() {
      for (auto it = s.rbegin(); it != s.rend(); ++it) m[*it].Unlock();
    }
  } unlock{stripes_, stripes};

  // 2. Wait for the client's token. Our own earlier writes to these
  // aggregates are applied already: every command waits for its events to
  // be applied before it releases the aggregates' locks. Only a partition
  // whose last append or wait failed may hold a record we have not seen;
  // there we first catch up to the log's end.
  eventlog::Offsets target = ctx.after;
  std::vector<int32_t> check_end;
  {
    absl::MutexLock l(&mu_);
    for (int32_t p : parts) {
      if (uncertain_.contains(p)) check_end.push_back(p);
    }
  }
  for (int32_t p : check_end) {
    ASSIGN_OR_RETURN(
        const int64_t end,
        log_->EndOffsetBefore(topic_, p, LogDeadline(ctx.deadline)));
    const eventlog::TopicPartition tp{topic_, p};
    target[tp] = std::max(target[tp], end);
  }
  if (!target.empty())
    RETURN_IF_ERROR(projector_->WaitFor(target, ctx.deadline));
  if (!check_end.empty()) {
    absl::MutexLock l(&mu_);
    for (int32_t p : check_end) uncertain_.erase(p);
  }

  // 3. A retry is answered from the first attempt.
  ASSIGN_OR_RETURN(std::optional<std::string> seen,
                   store_->Get(kRequestsCf, ctx.request_id));
  if (seen.has_value()) {
    CommandResult result;
    result.replayed = true;
    if (!result.first.ParseFromString(*seen)) {
      return absl::DataLossError("stored request record is unreadable");
    }
    if (std::find(aggregate_ids.begin(), aggregate_ids.end(),
                  result.first.aggregate_id()) == aggregate_ids.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("request_id: ", ctx.request_id,
                       " was already used for a different command (on ",
                       result.first.aggregate_id(), ")"));
    }
    result.token[{result.first.topic(), result.first.partition()}] =
        result.first.offset() + 1;
    return result;
  }

  // 4. Decide, fill envelopes, seal.
  ASSIGN_OR_RETURN(std::vector<v1::Event> events, decide());
  CommandResult result;
  if (events.empty()) return result;
  std::map<std::string, eventlog::ChainHead> heads;
  std::vector<eventlog::OutgoingRecord> records;
  for (v1::Event& e : events) {
    CHECK(!e.aggregate_id().empty());
    CHECK(std::find(aggregate_ids.begin(), aggregate_ids.end(),
                    e.aggregate_id()) != aggregate_ids.end());
    e.set_event_id(NewUuidV7(ctx.now));
    ToTimestamp(ctx.now, e.mutable_recorded_at());
    if (!e.has_occurred_at()) ToTimestamp(ctx.now, e.mutable_occurred_at());
    e.set_actor(ctx.actor);
    e.set_request_id(ctx.request_id);
    e.set_correlation_id(ctx.correlation_id.empty() ? ctx.request_id
                                                    : ctx.correlation_id);
    auto head = heads.find(e.aggregate_id());
    if (head == heads.end()) {
      ASSIGN_OR_RETURN(eventlog::ChainHead loaded,
                       LoadChainHead(*store_, e.aggregate_id()));
      head = heads.emplace(e.aggregate_id(), std::move(loaded)).first;
    }
    records.push_back(
        eventlog::ToOutgoing(e, eventlog::Seal(e, head->second), source_));
  }

  // 5. Append atomically, then wait until applied.
  absl::StatusOr<std::vector<eventlog::Position>> positions =
      log_->AppendBefore(topic_, std::move(records), LogDeadline(ctx.deadline));
  if (!positions.ok()) {
    if (OutcomeUnknown(positions.status())) {
      absl::MutexLock l(&mu_);
      for (int32_t p : parts) uncertain_.insert(p);
    }
    return positions.status();
  }
  for (const eventlog::Position& p : *positions) {
    int64_t& t = result.token[{topic_, p.partition}];
    t = std::max(t, p.offset + 1);
  }
  for (const v1::Event& e : events) {
    Metrics().appended.Increment({{"topic", topic_}, {"type", EventType(e)}});
    if (e.has_expiry_threshold_crossed() || e.has_lot_expired()) {
      Metrics().expiry_alerts.Increment({{"type", EventType(e)}});
    }
  }
  if (absl::Status applied = projector_->WaitFor(result.token, ctx.deadline);
      !applied.ok()) {
    // Durable but not yet applied: the next command here catches up first.
    absl::MutexLock l(&mu_);
    for (const auto& [tp, offset] : result.token)
      uncertain_.insert(tp.partition);
    return applied;
  }
  result.events = std::move(events);
  return result;
}

}  // namespace lotledger::command
