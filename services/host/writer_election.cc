#include "services/host/writer_election.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/common/json_log.h"
#include "libs/common/status_macros.h"
#include "libs/common/topics.h"
#include "libs/eventlog/kafka/kafka_event_log.h"

namespace lotledger {
namespace {

// One try of taking the writer role (the broker may still be aborting
// the previous writer's transaction), and the pause between tries.
constexpr absl::Duration kTakeOverTry = absl::Seconds(10);
constexpr absl::Duration kRetryPause = absl::Milliseconds(200);
// The longest a new writer waits for its projection to reach the end of
// its topic before it gives up the lease (a projector that cannot keep up
// must not hold the writer role).
constexpr absl::Duration kCatchUpLimit = absl::Minutes(5);
// The key of the lease topic's records (their value is the address).
constexpr char kWriterKey[] = "writer";

}  // namespace

WriterElection::WriterElection(eventlog::EventLog* log,
                               command::ServiceCore* core, Options options,
                               std::string lease_topic)
    : log_(log),
      core_(core),
      options_(std::move(options)),
      lease_topic_(std::move(lease_topic)),
      role_(*options_.role) {}

void StandBy(command::ServiceCore& core, command::WriterRole& role) {
  core.runner().SetRole(&role);
  core.projector().SetFollowing(true);
}

absl::StatusOr<std::unique_ptr<WriterElection>> WriterElection::Start(
    const server::ProcessConfig& config, eventlog::EventLog* log,
    command::ServiceCore* core, Options options) {
  const std::string lease_topic =
      config.topic_prefix + topics::WriterLease(options.service);
  if (lease_topic == config.topic_prefix) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--writer-election: ", options.service, " writes no topic"));
  }
  if (options.role == nullptr) {
    return absl::InvalidArgumentError("writer election: no role");
  }
  if (dynamic_cast<eventlog::KafkaEventLog*>(log) == nullptr) {
    return absl::InvalidArgumentError(
        "--writer-election: needs the Kafka log (--log=kafka)");
  }
  RETURN_IF_ERROR(log->EnsureTopic(lease_topic, 1));
  std::unique_ptr<WriterElection> e(
      new WriterElection(log, core, std::move(options), lease_topic));
  ASSIGN_OR_RETURN(e->lease_reader_, log->OpenReader({{{lease_topic, 0}, 0}}));
  e->follower_ = std::thread([p = e.get()] { p->FollowLeaseTopic(); });

  eventlog::KafkaOptions kafka;
  kafka.bootstrap_servers = config.kafka_bootstrap;
  kafka.extra_properties = config.kafka_properties;
  kafka.client_id = absl::StrCat("lotledger-", e->options_.service, "-lease");
  ASSIGN_OR_RETURN(
      e->lease_,
      eventlog::kafka::WriterLease::Start(
          {.kafka = kafka,
           .group =
               config.topic_prefix + topics::WriterGroup(e->options_.service),
           .topic = lease_topic,
           .session_timeout = config.writer_lease,
           .heartbeat_interval =
               std::max(absl::Milliseconds(100), config.writer_lease / 6)},
          {.acquired = [p = e.get()] { p->Acquired(); },
           .lost =
               [p = e.get()] {
                 p->role_.Demote("this replica lost the writer lease");
               }}));
  LogJson("info", "standing by for the writer role",
          {{"service", e->options_.service},
           {"lease_topic", lease_topic},
           {"advertise", e->options_.advertise}});
  return e;
}

void WriterElection::StopPromoting() {
  {
    absl::MutexLock l(&mu_);
    stop_ = true;
  }
  lease_reader_->Wakeup();
  if (follower_.joinable()) follower_.join();
  if (promoter_.joinable()) promoter_.join();
}

WriterElection::~WriterElection() {
  StopPromoting();
  lease_.reset();  // leaves the group
}

bool WriterElection::Stopping() const {
  absl::MutexLock l(&mu_);
  return stop_;
}

void WriterElection::Acquired() {
  absl::MutexLock l(&mu_);
  if (acquired_ || stop_) return;  // a writer is never made twice
  acquired_ = true;
  acquired_at_ = absl::Now();
  LogJson("info", "given the writer lease; taking the writer role",
          {{"service", options_.service}});
  promoter_ = std::thread([this] { Promote(); });
}

void WriterElection::Promote() {
  auto* kafka = dynamic_cast<eventlog::KafkaEventLog*>(log_);
  // 1. Fence the previous writer: from now on nothing it appends lands.
  while (true) {
    if (Stopping() || !lease_->held()) return;
    absl::Status taken = kafka->TakeWriterRole(absl::Now() + kTakeOverTry);
    if (taken.ok()) break;
    if (absl::IsFailedPrecondition(taken)) {
      role_.Demote(
          absl::StrCat("taking the writer role failed: ", taken.message()));
      return;
    }
    LogJson("warn", "taking the writer role; retrying",
            {{"error", std::string(taken.message())}});
    absl::SleepFor(kRetryPause);
  }
  // 2. Apply everything the previous writer appended: its last records may
  // not have reached this replica's projection yet.
  const std::string& topic = core_->setup().projector.own_topic;
  absl::Status caught_up = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(int32_t partitions, log_->PartitionCount(topic));
    std::vector<eventlog::TopicPartition> own;
    for (int32_t p = 0; p < partitions; ++p) own.push_back({topic, p});
    const absl::Time deadline = absl::Now() + kCatchUpLimit;
    ASSIGN_OR_RETURN(eventlog::Offsets ends, log_->EndOffsets(own, deadline));
    return core_->projector().WaitFor(ends, deadline);
  }();
  if (!caught_up.ok()) {
    role_.Demote(absl::StrCat("the new writer could not catch up with ", topic,
                              ": ", caught_up.message()));
    return;
  }
  // 3. Take commands.
  core_->projector().SetFollowing(false);
  role_.Promote();
  absl::Duration took;
  {
    absl::MutexLock l(&mu_);
    took = absl::Now() - acquired_at_;
  }
  LogJson("info", "took the writer role",
          {{"service", options_.service},
           {"advertise", options_.advertise},
           {"ms_since_lease", absl::StrCat(absl::ToInt64Milliseconds(took))}});
  // 4. Tell the standbys where to send clients (best effort: until it
  // lands they answer without an address, and clients retry).
  for (int attempt = 0; attempt < 5 && !Stopping(); ++attempt) {
    absl::StatusOr<std::vector<eventlog::Position>> announced =
        log_->AppendBefore(
            lease_topic_,
            {{.key = kWriterKey, .value = options_.advertise, .headers = {}}},
            absl::Now() + kTakeOverTry);
    if (announced.ok()) break;
    LogJson("warn", "announcing the writer's address failed",
            {{"error", std::string(announced.status().message())}});
    if (absl::IsFailedPrecondition(announced.status())) break;
    absl::SleepFor(kRetryPause);
  }
  if (options_.promoted) {
    if (absl::Status s = options_.promoted(); !s.ok()) {
      LogJson("error", "after taking the writer role",
              {{"error", std::string(s.message())}});
    }
  }
}

void WriterElection::FollowLeaseTopic() {
  while (!Stopping()) {
    absl::StatusOr<eventlog::PollResult> polled =
        lease_reader_->Poll(64, absl::Milliseconds(500));
    if (!polled.ok()) {
      absl::SleepFor(kRetryPause);
      continue;
    }
    for (const eventlog::Record& r : polled->records) {
      if (r.key == kWriterKey) role_.SetWriterAddress(r.value);
    }
  }
}

}  // namespace lotledger
