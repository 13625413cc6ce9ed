#include "libs/command/command_runner.h"

#include <algorithm>
#include <cstdlib>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/command/chain_store.h"
#include "libs/common/check.h"
#include "libs/common/hash.h"
#include "libs/common/ids.h"
#include "libs/common/proto_time.h"
#include "libs/common/status_macros.h"
#include "libs/common/trace_context.h"
#include "libs/eventlog/record_codec.h"
#include "libs/metrics/metrics.h"

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

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

}  // namespace

absl::Status CheckSameRequest(const CommandContext& ctx,
                              const std::vector<std::string>& aggregate_ids,
                              const v1::RequestRecord& first) {
  const bool same_aggregate =
      std::find(aggregate_ids.begin(), aggregate_ids.end(),
                first.aggregate_id()) != aggregate_ids.end();
  // Records written before method and caller were kept bind only the
  // aggregate.
  const bool same_method =
      first.method().empty() || first.method() == ctx.method;
  const bool same_actor = first.actor().empty() || first.actor() == ctx.actor;
  if (same_aggregate && same_method && same_actor) return absl::OkStatus();
  std::string first_use = absl::StrCat("on ", first.aggregate_id());
  if (!first.method().empty())
    absl::StrAppend(&first_use, " by ", first.method());
  if (!first.actor().empty())
    absl::StrAppend(&first_use, " for ", first.actor());
  return absl::InvalidArgumentError(absl::StrCat(
      "request_id: ", ctx.request_id,
      " was already used for a different command (first use ", first_use,
      ", at ", first.topic(), "/", first.partition(), " offset ",
      first.offset(), "); use a new request id for a new command"));
}

absl::Status CommandRunner::CheckBusinessTime(
    absl::Time now, absl::Time occurred, absl::Time last_occurred,
    const std::string& aggregate) const {
  if (occurred > now + options_.future_skew) {
    return absl::InvalidArgumentError(absl::StrCat(
        "occurred_at: ", Rfc3339(occurred),
        " is in the future (the server's clock says ", Rfc3339(now),
        "; at most ", absl::FormatDuration(options_.future_skew),
        " ahead is accepted)"));
  }
  if (occurred < now - options_.late_entry_window) {
    return absl::InvalidArgumentError(
        absl::StrCat("occurred_at: ", Rfc3339(occurred), " is more than ",
                     absl::ToInt64Hours(options_.late_entry_window) / 24,
                     " days before the record time ", Rfc3339(now),
                     "; a late entry older than that is not accepted"));
  }
  if (occurred < last_occurred) {
    return absl::FailedPreconditionError(
        absl::StrCat("occurred_at: ", Rfc3339(occurred),
                     " is before the last recorded "
                     "event of ",
                     aggregate, " (", Rfc3339(last_occurred),
                     "); business time cannot go back on one lot or record"));
  }
  return absl::OkStatus();
}

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

CommandRunner::Options CommandRunner::Options::FromEnv() {
  Options options;
  if (const char* days = std::getenv("LOTLEDGER_LATE_ENTRY_DAYS");
      days != nullptr) {
    int n = 0;
    if (absl::SimpleAtoi(days, &n) && n >= 0) {
      options.late_entry_window = absl::Hours(24) * n;
    }
  }
  return options;
}

CommandRunner::CommandRunner(eventlog::EventLog* log,
                             projection::ProjectionStore* store,
                             Projector* projector, std::string topic,
                             std::string source, Options options)
    : log_(log),
      store_(store),
      projector_(projector),
      topic_(std::move(topic)),
      source_(std::move(source)),
      options_(options) {}

absl::StatusOr<int32_t> CommandRunner::Partitions() {
  absl::MutexLock l(&mu_);
  if (partitions_ == 0) {
    ASSIGN_OR_RETURN(partitions_, log_->PartitionCount(topic_));
    // A new runner (a start, a restart after a crash, a standby that took
    // the writer role: Run refuses before this while it stands by) has
    // not seen what an earlier writer appended: its last records may not be
    // applied yet, and deciding before they are would answer a retried request
    // id again and fork the aggregate's hash chain. So the first command on
    // each partition catches up to the log's end first.
    for (int32_t p = 0; p < partitions_; ++p) uncertain_.insert(p);
  }
  return partitions_;
}

void CommandRunner::SetRole(WriterRole* role) { role_ = role; }

bool CommandRunner::writing() const {
  return role_ == nullptr || role_->writing();
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
  // A standby replica refuses, naming the writer (writer_role.h).
  if (role_ != nullptr) RETURN_IF_ERROR(role_->CheckWriting());
  ASSIGN_OR_RETURN(const int32_t partitions, Partitions());

  // 1. See every fact acknowledged before the request arrived, in every
  // topic this service reads from another (the read barrier), and the
  // client's token; before any lock is taken, so a slow catch-up or a token
  // far ahead holds no aggregate.
  RETURN_IF_ERROR(projector_->CatchUp(ctx.after, LogDeadline(ctx.deadline)));

  // Then lock the aggregates' stripes in ascending order.
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

  // 2. Only a partition whose last append or wait failed may hold a record
  // of ours we have not applied (our own earlier writes to these
  // aggregates are applied already: every command waits for that before
  // unlocking). There we first let the log settle that append's outcome,
  // then catch up to the end: never seal from a log that an append in
  // flight may still change.
  std::vector<eventlog::TopicPartition> check_end;
  {
    absl::MutexLock l(&mu_);
    for (int32_t p : parts) {
      if (uncertain_.contains(p)) check_end.push_back({topic_, p});
    }
  }
  if (!check_end.empty()) {
    RETURN_IF_ERROR(log_->Settle(LogDeadline(ctx.deadline)));
    ASSIGN_OR_RETURN(const eventlog::Offsets ends,
                     log_->EndOffsets(check_end, LogDeadline(ctx.deadline)));
    RETURN_IF_ERROR(projector_->WaitFor(ends, ctx.deadline));
    absl::MutexLock l(&mu_);
    for (const eventlog::TopicPartition& tp : check_end)
      uncertain_.erase(tp.partition);
  }

  // 3. A retry is answered from the first attempt, if it is the same
  // command: same aggregate, same method, same caller.
  ASSIGN_OR_RETURN(std::optional<std::string> seen,
                   store_->Get(kRequestsCf, ctx.request_id));
  if (seen.has_value()) {
    CommandResult result;
    result.replayed = true;
    if (!result.first.ParseFromString(*seen)) {
      return absl::DataLossError("stored request record is unreadable");
    }
    RETURN_IF_ERROR(CheckSameRequest(ctx, aggregate_ids, result.first));
    result.token[{result.first.topic(), result.first.partition()}] =
        result.first.offset() + 1;
    return result;
  }

  // The chain heads the events will be sealed after. An aggregate whose
  // chain broke in the log is contained (projector.h): nothing more is
  // written to it until the incident is closed.
  std::map<std::string, AggregateHead> heads;
  for (const std::string& id : aggregate_ids) {
    if (heads.contains(id)) continue;
    ASSIGN_OR_RETURN(AggregateHead head, LoadChainHead(*store_, id));
    if (!head.broken.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          id, " cannot be changed: its hash chain in the log is broken (",
          head.broken,
          "). Commands on it are refused until the incident is closed (see "
          "docs/operations.md, \"A broken hash chain\"); everything else "
          "works as usual"));
    }
    heads.emplace(id, std::move(head));
  }

  // 4. Decide, fill envelopes, seal.
  ASSIGN_OR_RETURN(std::vector<v1::Event> events, decide());
  CommandResult result;
  if (events.empty()) return result;
  std::vector<eventlog::OutgoingRecord> records;
  for (v1::Event& e : events) {
    CHECK(!e.aggregate_id().empty());
    auto head = heads.find(e.aggregate_id());
    CHECK(head != heads.end());  // one of the command's aggregates
    if (e.has_occurred_at()) {
      RETURN_IF_ERROR(CheckBusinessTime(ctx.now, FromTimestamp(e.occurred_at()),
                                        head->second.last_occurred_at,
                                        e.aggregate_id()));
    }
    e.set_event_id(NewUuidV7(ctx.now));
    ToTimestamp(ctx.now, e.mutable_recorded_at());
    if (!e.has_occurred_at()) ToTimestamp(ctx.now, e.mutable_occurred_at());
    e.set_actor(ctx.actor);
    e.set_command(ctx.method);
    e.set_request_id(ctx.request_id);
    e.set_correlation_id(ctx.correlation_id.empty() ? ctx.request_id
                                                    : ctx.correlation_id);
    if (!ctx.traceparent.empty()) {
      e.set_traceparent(ctx.traceparent);
    } else if (CurrentTrace().valid()) {
      e.set_traceparent(CurrentTrace().ToTraceparent());
    }
    records.push_back(eventlog::ToOutgoing(
        e, eventlog::Seal(e, head->second.chain), source_));
  }

  // 5. Append atomically, then wait until applied.
  absl::StatusOr<std::vector<eventlog::Position>> positions =
      log_->AppendBefore(topic_, std::move(records), LogDeadline(ctx.deadline));
  if (!positions.ok()) {
    if (OutcomeUnknown(positions.status())) {
      absl::MutexLock l(&mu_);
      for (int32_t p : parts) uncertain_.insert(p);
    }
    if (role_ != nullptr && absl::IsFailedPrecondition(positions.status())) {
      // Fenced: another replica took the writer role, and nothing of this
      // append landed. The client retries there.
      const std::string why =
          absl::StrCat("this replica was fenced by a newer writer of ", topic_,
                       ": ", positions.status().message());
      role_->Demote(why);
      return absl::UnavailableError(
          absl::StrCat(why,
                       "; nothing was written, retry with the same "
                       "request id (the new writer answers it)"));
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
