// The shared command path on both logs (the embedded log and the real Kafka
// broker at $LOTLEDGER_TEST_KAFKA): two services in the shape of lotledger's
// (a writer of topic "w" and a reader of it that writes topic "r"), each
// with its own projection and projector, as separate services would have.
//
//  - the read barrier: a decision sees every fact acknowledged before it;
//  - request ids are bound to aggregate, method and caller;
//  - a consistency token beyond the log's end is refused at once;
//  - business time cannot lie in the future, too far back, or before the
//    aggregate's last event;
#include <algorithm>
#include <array>
#include <atomic>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "libs/command/read_barrier.h"
#include "libs/command/service_core.h"
#include "libs/common/ids.h"
#include "libs/common/proto_time.h"
#include "libs/common/status_macros.h"
#include "libs/eventlog/embedded/embedded_event_log.h"
#include "libs/eventlog/kafka/kafka_event_log.h"
#include "libs/eventlog/record_codec.h"
#include "libs/eventlog/testing/forwarding_event_log.h"
#include "libs/eventlog/tests/kafka_test_env.h"

namespace lotledger::command {
namespace {

using eventlog::TopicPartition;

constexpr char kFacts[] = "facts";
constexpr char kCreate[] = "/lotledger.v1.Test/Create";
constexpr char kAmend[] = "/lotledger.v1.Test/Amend";

// Every service here keeps, per aggregate of any topic it reads, how many
// events it applied.
absl::Status CountFacts(const eventlog::Record&, const v1::Event& event,
                        projection::ProjectionStore::Batch& batch) {
  ASSIGN_OR_RETURN(std::optional<std::string> seen,
                   batch.Get(kFacts, event.aggregate_id()));
  const int n = seen.has_value() ? std::stoi(*seen) : 0;
  batch.Put(kFacts, event.aggregate_id(), std::to_string(n + 1));
  return absl::OkStatus();
}

v1::Event Fact(const std::string& aggregate) {
  v1::Event e;
  e.set_aggregate_id(aggregate);
  e.add_lot_ids(aggregate);
  e.mutable_lot_created()->set_lot_id(aggregate);
  return e;
}

std::string Describe(const eventlog::Offsets& offsets) {
  std::string out;
  for (const auto& [tp, offset] : offsets) {
    absl::StrAppend(&out, out.empty() ? "" : " ", tp.topic, "/", tp.partition,
                    "@", offset);
  }
  return out;
}

// Polls `done` until it holds, for at most 30 s.
template <typename Pred>
bool Eventually(Pred done) {
  const absl::Time until = absl::Now() + absl::Seconds(30);
  while (!done()) {
    if (absl::Now() > until) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

class CommandPathTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           absl::StrCat("command_path_test-", NewUuidV7(absl::Now()));
    prefix_ = absl::StrCat("cp-", NewUuidV7(absl::Now()), ".");
    log_ = OpenLog(absl::StrCat("cp-writer-", NewUuidV7(absl::Now())));
    ASSERT_NE(log_, nullptr);
    writer_ = OpenService("writer", "w", {});
    reader_ = OpenService("reader", "r", {"w"});
    ASSERT_NE(writer_, nullptr);
    ASSERT_NE(reader_, nullptr);
  }

  void TearDown() override {
    reader_.reset();
    writer_.reset();
    log_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  bool kafka() const { return GetParam() == "kafka"; }

  std::unique_ptr<eventlog::EventLog> OpenLog(const std::string& writer_id) {
    if (kafka()) {
      absl::StatusOr<eventlog::KafkaOptions> options =
          eventlog::testing::TestKafkaOptions(writer_id);
      EXPECT_TRUE(options.ok()) << options.status();
      if (!options.ok()) return nullptr;
      absl::StatusOr<std::unique_ptr<eventlog::EventLog>> log =
          eventlog::KafkaEventLog::Create(*options);
      EXPECT_TRUE(log.ok()) << log.status();
      return log.ok() ? std::move(*log) : nullptr;
    }
    absl::StatusOr<std::unique_ptr<eventlog::EventLog>> log =
        eventlog::OpenEmbeddedEventLog({.path = (dir_ / "log").string()});
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? std::move(*log) : nullptr;
  }

  std::unique_ptr<ServiceCore> OpenService(const std::string& name,
                                           const std::string& topic,
                                           std::vector<std::string> inputs,
                                           eventlog::EventLog* log = nullptr) {
    ServiceSpec spec;
    spec.name = name;
    spec.own_topic = topic;
    spec.partitions = 2;
    spec.input_topics = std::move(inputs);
    spec.column_families = {kFacts};
    spec.apply = CountFacts;
    absl::StatusOr<std::unique_ptr<ServiceCore>> core = ServiceCore::Open(
        log != nullptr ? log : log_.get(), spec,
        (dir_ / name / NewUuidV7(absl::Now())).string(), prefix_);
    EXPECT_TRUE(core.ok()) << core.status();
    return core.ok() ? std::move(*core) : nullptr;
  }

  static CommandContext Context(std::string request_id,
                                std::string method = kCreate,
                                std::string actor = "op.alice") {
    CommandContext ctx;
    ctx.request_id = std::move(request_id);
    ctx.actor = std::move(actor);
    ctx.method = std::move(method);
    ctx.now = absl::Now();
    ctx.deadline = absl::Now() + absl::Seconds(20);
    return ctx;
  }

  absl::StatusOr<CommandResult> Write(ServiceCore& core,
                                      const CommandContext& ctx,
                                      const std::string& aggregate,
                                      std::optional<absl::Time> occurred = {}) {
    return core.runner().Run(ctx, {aggregate}, [&]() {
      v1::Event e = Fact(aggregate);
      if (occurred.has_value()) ToTimestamp(*occurred, e.mutable_occurred_at());
      return absl::StatusOr<std::vector<v1::Event>>(std::vector<v1::Event>{e});
    });
  }

  std::filesystem::path dir_;
  std::string prefix_;
  std::unique_ptr<eventlog::EventLog> log_;
  std::unique_ptr<ServiceCore> writer_;
  std::unique_ptr<ServiceCore> reader_;
};

// A fact the writer acknowledged is seen by the reader's very next
// decision, with no token passed between them (the hold-then-ship race).
TEST_P(CommandPathTest, ADecisionSeesEveryFactAcknowledgedBeforeIt) {
  int refused = 0;
  for (int i = 0; i < 60; ++i) {
    const std::string lot = absl::StrCat("LOT-", i);
    ASSERT_TRUE(Write(*writer_, Context(NewUuidV7(absl::Now())), lot).ok());
    absl::StatusOr<CommandResult> decided = reader_->runner().Run(
        Context(NewUuidV7(absl::Now())), {absl::StrCat("R-", i)},
        [&]() -> absl::StatusOr<std::vector<v1::Event>> {
          ASSIGN_OR_RETURN(std::optional<std::string> seen,
                           reader_->store().Get(kFacts, lot));
          if (!seen.has_value()) {
            return absl::NotFoundError(absl::StrCat(lot, " does not exist"));
          }
          return std::vector<v1::Event>{Fact(absl::StrCat("R-", i))};
        });
    if (!decided.ok()) {
      ++refused;
      ADD_FAILURE() << "decision " << i << ": " << decided.status();
    }
  }
  EXPECT_EQ(refused, 0);
}

// A query sees it too (rpc.cc's WaitForToken runs CatchUp).
TEST_P(CommandPathTest, CatchUpMakesAQuerySeeAnAcknowledgedFact) {
  for (int i = 0; i < 30; ++i) {
    const std::string lot = absl::StrCat("Q-", i);
    ASSERT_TRUE(Write(*writer_, Context(NewUuidV7(absl::Now())), lot).ok());
    ASSERT_TRUE(
        reader_->projector().CatchUp({}, absl::Now() + absl::Seconds(20)).ok());
    absl::StatusOr<std::optional<std::string>> seen =
        reader_->store().Get(kFacts, lot);
    ASSERT_TRUE(seen.ok()) << seen.status();
    EXPECT_TRUE(seen->has_value()) << lot << " not seen by a query after it";
  }
}

TEST_P(CommandPathTest, ARetryIsAnsweredOnceAndAReusedIdIsRefused) {
  const std::string id = NewUuidV7(absl::Now());
  ASSERT_TRUE(Write(*writer_, Context(id), "LOT-A").ok());

  absl::StatusOr<CommandResult> retry = Write(*writer_, Context(id), "LOT-A");
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_TRUE(retry->replayed);
  EXPECT_TRUE(retry->events.empty());

  struct Case {
    const char* what;
    CommandContext ctx;
    std::string aggregate;
  };
  const Case cases[] = {
      {"another method", Context(id, kAmend), "LOT-A"},
      {"another caller", Context(id, kCreate, "op.mallory"), "LOT-A"},
      {"another aggregate", Context(id), "LOT-B"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<CommandResult> reused = Write(*writer_, c.ctx, c.aggregate);
    ASSERT_FALSE(reused.ok()) << c.what << " was answered as a retry";
    EXPECT_EQ(reused.status().code(), absl::StatusCode::kInvalidArgument)
        << c.what << ": " << reused.status();
    // The refusal names the first use, so the caller can find it.
    EXPECT_NE(
        reused.status().message().find("first use on LOT-A by " +
                                       std::string(kCreate) + " for op.alice"),
        std::string::npos)
        << c.what << ": " << reused.status();
  }
  // Nothing of the refused ones was written.
  absl::StatusOr<std::optional<std::string>> b =
      writer_->store().Get(kFacts, "LOT-B");
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(b->has_value());
  absl::StatusOr<std::optional<std::string>> a =
      writer_->store().Get(kFacts, "LOT-A");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->value_or(""), "1");
}

// A token from nowhere must not hold the aggregate's lock until the
// deadline: it is refused at once, and the aggregate stays writable.
TEST_P(CommandPathTest, ATokenBeyondTheLogsEndIsRefusedAtOnce) {
  ASSERT_TRUE(Write(*writer_, Context(NewUuidV7(absl::Now())), "LOT-T").ok());
  CommandContext ctx = Context(NewUuidV7(absl::Now()));
  ctx.after[{prefix_ + "w", 0}] = 1'000'000'000;
  ctx.deadline = absl::InfiniteFuture();  // a wait would never end
  absl::StatusOr<CommandResult> r = Write(*reader_, ctx, "R-T");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument)
      << r.status();
  EXPECT_NE(r.status().message().find("beyond the end of the log"),
            std::string::npos)
      << r.status();
  // The same for the service's own topic.
  CommandContext own = Context(NewUuidV7(absl::Now()));
  own.after[{prefix_ + "w", 1}] = 1'000'000'000;
  own.deadline = absl::InfiniteFuture();
  EXPECT_EQ(Write(*writer_, own, "LOT-T").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Write(*writer_, Context(NewUuidV7(absl::Now())), "LOT-T").ok());
}

TEST_P(CommandPathTest, BusinessTimeIsBounded) {
  const absl::Time now = absl::Now();
  absl::StatusOr<CommandResult> future =
      Write(*writer_, Context(NewUuidV7(now)), "LOT-F", now + absl::Hours(1));
  EXPECT_EQ(future.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(future.status().message().find("occurred_at"), std::string::npos);
  EXPECT_NE(future.status().message().find("in the future"), std::string::npos)
      << future.status();

  absl::StatusOr<CommandResult> ancient = Write(
      *writer_, Context(NewUuidV7(now)), "LOT-F", now - absl::Hours(24 * 8));
  EXPECT_EQ(ancient.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(ancient.status().message().find("more than 7 days"),
            std::string::npos)
      << ancient.status();

  ASSERT_TRUE(
      Write(*writer_, Context(NewUuidV7(now)), "LOT-F", now - absl::Hours(1))
          .ok());
  absl::StatusOr<CommandResult> backwards =
      Write(*writer_, Context(NewUuidV7(now)), "LOT-F", now - absl::Hours(2));
  EXPECT_EQ(backwards.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(backwards.status().message().find("before the last recorded"),
            std::string::npos)
      << backwards.status();
  // Business time may move forward, and a late entry within the window on
  // another lot is fine.
  EXPECT_TRUE(
      Write(*writer_, Context(NewUuidV7(now)), "LOT-F", now - absl::Minutes(30))
          .ok());
  EXPECT_TRUE(Write(*writer_, Context(NewUuidV7(now)), "LOT-G",
                    now - absl::Hours(24 * 6))
                  .ok());
}

// A record that breaks an aggregate's chain (a forged or doubled record in
// the log) contains that aggregate: commands on it are refused with what to
// do, every other aggregate keeps working.
TEST_P(CommandPathTest, ABrokenChainRefusesItsAggregateOnly) {
  ASSERT_TRUE(Write(*writer_, Context(NewUuidV7(absl::Now())), "LOT-X").ok());
  eventlog::ChainHead elsewhere{.seq = 7, .hash = std::string(32, 'x')};
  const v1::Event forged = Fact("LOT-X");
  absl::StatusOr<std::vector<eventlog::Position>> at = log_->Append(
      prefix_ + "w",
      {eventlog::ToOutgoing(forged, eventlog::Seal(forged, elsewhere), "x")});
  ASSERT_TRUE(at.ok()) << at.status();
  ASSERT_TRUE(
      writer_->projector()
          .WaitFor({{{prefix_ + "w", (*at)[0].partition}, (*at)[0].offset + 1}},
                   absl::Now() + absl::Seconds(20))
          .ok());

  absl::StatusOr<CommandResult> refused =
      Write(*writer_, Context(NewUuidV7(absl::Now())), "LOT-X");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("hash chain in the log is broken"),
            std::string::npos)
      << refused.status();
  EXPECT_TRUE(Write(*writer_, Context(NewUuidV7(absl::Now())), "LOT-Y").ok());
  EXPECT_TRUE(writer_->projector().health().ok());
}

// A log whose readers hand out nothing while paused (a reader far behind,
// or a broker slow to serve fetches).
class PausableReadersLog final : public eventlog::testing::ForwardingEventLog {
 public:
  using ForwardingEventLog::ForwardingEventLog;
  // Pausing returns once a poll begun before it has ended: from then on
  // readers hand out nothing.
  void Pause(bool paused) {
    const int seen = state_.paused_polls.load();
    state_.paused.store(paused);
    if (paused) {
      EXPECT_TRUE(
          Eventually([&] { return state_.paused_polls.load() > seen + 1; }));
    }
  }
  absl::StatusOr<std::unique_ptr<eventlog::LogReader>> OpenReader(
      const eventlog::Offsets& start) override {
    ASSIGN_OR_RETURN(std::unique_ptr<eventlog::LogReader> inner,
                     ForwardingEventLog::OpenReader(start));
    return std::unique_ptr<eventlog::LogReader>(
        new Reader(std::move(inner), &state_));
  }

 private:
  struct State {
    std::atomic<bool> paused = false;
    std::atomic<int> paused_polls = 0;
  };
  class Reader final : public eventlog::LogReader {
   public:
    Reader(std::unique_ptr<eventlog::LogReader> inner, State* state)
        : inner_(std::move(inner)), state_(state) {}
    absl::StatusOr<eventlog::PollResult> Poll(size_t max_records,
                                              absl::Duration timeout) override {
      if (state_->paused.load()) {
        ++state_->paused_polls;
        absl::SleepFor(std::min(timeout, absl::Milliseconds(20)));
        return eventlog::PollResult{};
      }
      return inner_->Poll(max_records, timeout);
    }
    void Wakeup() override { inner_->Wakeup(); }

   private:
    std::unique_ptr<eventlog::LogReader> inner_;
    State* state_;
  };
  State state_;
};

// The writer applies its commits as they commit (Projector::
// ObserveOwnCommits): with its reader stalled, a command still returns,
// applied, well within its deadline. The first command after start is
// left to the reader (nothing before it is known to be applied).
TEST_P(CommandPathTest, AWritersCommitsAreAppliedWithoutReadingThemBack) {
  PausableReadersLog log(log_.get());
  std::unique_ptr<ServiceCore> writer = OpenService("paused", "p", {}, &log);
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(Write(*writer, Context(NewUuidV7(absl::Now())), "LOT-P").ok());
  EXPECT_EQ(writer->projector().applied_on_commit(), 0u);

  log.Pause(true);
  for (int i = 0; i < 5; ++i) {
    CommandContext ctx = Context(NewUuidV7(absl::Now()));
    ctx.deadline = absl::Now() + absl::Seconds(5);
    absl::StatusOr<CommandResult> r = Write(*writer, ctx, "LOT-P");
    ASSERT_TRUE(r.ok()) << "command " << i
                        << " with the reader paused: " << r.status();
  }
  absl::StatusOr<std::optional<std::string>> n =
      writer->store().Get(kFacts, "LOT-P");
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(n->value_or(""), "6");
  EXPECT_EQ(writer->projector().applied_on_commit(), 5u);
  log.Pause(false);
  writer.reset();  // before the log it observes
}

// Commands from many threads on a few aggregates, retries included: the
// projection the writer built by applying its commits equals, byte for
// byte (offsets included, once the reader has passed the log's end), one
// rebuilt from the log by a fresh projector; every acknowledged command is
// counted once.
TEST_P(CommandPathTest, AppliedOnCommitEqualsAReplayOfTheLog) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 40;
  constexpr int kAggregates = 10;
  std::vector<std::thread> threads;
  std::atomic<int> failed = 0;
  std::array<std::atomic<int>, kAggregates> acknowledged{};
  absl::Mutex tokens_mu;
  eventlog::Offsets last_token;  // per partition, of every acknowledged one
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const int a = (t * 7 + i) % kAggregates;
        const CommandContext ctx = Context(NewUuidV7(absl::Now()));
        absl::StatusOr<CommandResult> r =
            Write(*writer_, ctx, absl::StrCat("LOT-", a));
        // Every fourth one is retried: answered once, from the first.
        if (r.ok() && i % 4 == 0) {
          absl::StatusOr<CommandResult> again =
              Write(*writer_, ctx, absl::StrCat("LOT-", a));
          if (!again.ok() || !again->replayed) ++failed;
        }
        if (r.ok()) {
          ++acknowledged[a];
          absl::MutexLock l(&tokens_mu);
          for (const auto& [tp, offset] : r->token) {
            int64_t& last = last_token[tp];
            last = std::max(last, offset);
          }
        } else {
          ++failed;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_GT(writer_->projector().applied_on_commit(), 0u);
  for (int a = 0; a < kAggregates; ++a) {
    absl::StatusOr<std::optional<std::string>> n =
        writer_->store().Get(kFacts, absl::StrCat("LOT-", a));
    ASSERT_TRUE(n.ok()) << n.status();
    EXPECT_EQ(n->value_or("0"), std::to_string(acknowledged[a].load()))
        << "LOT-" << a;
  }

  const std::vector<TopicPartition> own = {{prefix_ + "w", 0},
                                           {prefix_ + "w", 1}};
  // A commit answers before Kafka has written its markers, which move the
  // log's end once more: the end is final once it is past the marker after
  // the last acknowledged record, and the projection is there when its
  // stored offsets (the reader moves them past the markers) meet it.
  eventlog::Offsets ends;
  auto at_end = [&](ServiceCore& core) {
    absl::StatusOr<eventlog::Offsets> now =
        log_->EndOffsets(own, absl::Now() + absl::Seconds(20));
    if (!now.ok()) return false;
    ends = *now;
    for (const auto& [tp, token] : last_token) {
      if (ends[tp] < token + (kafka() ? 1 : 0)) return false;
    }
    return core.store().Offsets() == ends;
  };
  auto digest_at_end = [&](ServiceCore& core) -> std::string {
    EXPECT_TRUE(Eventually([&] { return at_end(core); }))
        << "stored offsets " << Describe(core.store().Offsets())
        << " never reached the log's end " << Describe(ends);
    absl::StatusOr<std::string> d = core.store().Digest();
    EXPECT_TRUE(d.ok()) << d.status();
    return d.value_or("");
  };
  const std::string live = digest_at_end(*writer_);
  writer_.reset();
  std::unique_ptr<ServiceCore> replayed = OpenService("writer", "w", {});
  ASSERT_NE(replayed, nullptr);
  EXPECT_EQ(digest_at_end(*replayed), live);
  EXPECT_EQ(replayed->projector().applied_on_commit(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Logs, CommandPathTest,
                         ::testing::Values("embedded", "kafka"),
                         [](const auto& info) { return info.param; });

// A log whose end-offset look-ups wait until released: lets the test see
// which callers share one look-up.
class GatedLog final : public eventlog::testing::ForwardingEventLog {
 public:
  // `gated_calls`: how many look-ups (the first ones) wait at the gate.
  explicit GatedLog(eventlog::EventLog* inner,
                    int gated_calls = std::numeric_limits<int>::max())
      : ForwardingEventLog(inner), gated_calls_(gated_calls) {}
  void Release() {
    absl::MutexLock l(&mu_);
    open_ = true;
  }
  absl::StatusOr<eventlog::Offsets> EndOffsets(
      const std::vector<TopicPartition>& partitions,
      absl::Time deadline) override {
    {
      absl::MutexLock l(&mu_);
      if (calls_++ < gated_calls_) mu_.Await(absl::Condition(&open_));
    }
    return ForwardingEventLog::EndOffsets(partitions, deadline);
  }

 private:
  const int gated_calls_;
  absl::Mutex mu_;
  bool open_ ABSL_GUARDED_BY(mu_) = false;
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
};

// Callers that arrive while a look-up is in flight share the next one: 12
// callers, at most 2 look-ups; each answer covers what was appended before
// its caller arrived.
TEST(ReadBarrierTest, CallersWaitingTogetherShareOneLookUp) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      absl::StrCat("read_barrier_test-", NewUuidV7(absl::Now()));
  absl::StatusOr<std::unique_ptr<eventlog::EventLog>> inner =
      eventlog::OpenEmbeddedEventLog({.path = (dir / "log").string()});
  ASSERT_TRUE(inner.ok()) << inner.status();
  ASSERT_TRUE((*inner)->EnsureTopic("t", 2).ok());
  GatedLog log(inner->get());
  // Never overdue here: every caller waits for the gated look-ups.
  ReadBarrier barrier(&log, {"t"}, absl::Hours(1));

  ASSERT_TRUE((*inner)->Append("t", {{"k", "v", {}}}).ok());
  constexpr int kCallers = 12;
  std::vector<absl::StatusOr<eventlog::Offsets>> answers(kCallers);
  std::vector<std::thread> threads;
  for (int i = 0; i < kCallers; ++i) {
    threads.emplace_back([&, i] {
      answers[i] = barrier.EndOffsets(absl::Now() + absl::Seconds(30));
    });
  }
  // Every caller has arrived (one leads a look-up held at the gate).
  const bool arrived =
      Eventually([&] { return barrier.callers() == kCallers; });
  log.Release();
  for (std::thread& t : threads) t.join();
  ASSERT_TRUE(arrived) << "only " << barrier.callers() << " callers arrived";

  EXPECT_LE(barrier.lookups(), 2u);
  absl::StatusOr<int64_t> end0 = (*inner)->EndOffset("t", 0);
  absl::StatusOr<int64_t> end1 = (*inner)->EndOffset("t", 1);
  ASSERT_TRUE(end0.ok() && end1.ok());
  for (const auto& answer : answers) {
    ASSERT_TRUE(answer.ok()) << answer.status();
    EXPECT_EQ(answer->at({"t", 0}), *end0);
    EXPECT_EQ(answer->at({"t", 1}), *end1);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

// A look-up that hangs (sent to a partition leader that just died) holds
// the others back only until it is overdue: later callers send their own
// and are answered while it still hangs.
TEST(ReadBarrierTest, AHungLookUpDoesNotHoldTheOthersBack) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      absl::StrCat("read_barrier_hung-", NewUuidV7(absl::Now()));
  absl::StatusOr<std::unique_ptr<eventlog::EventLog>> inner =
      eventlog::OpenEmbeddedEventLog({.path = (dir / "log").string()});
  ASSERT_TRUE(inner.ok()) << inner.status();
  ASSERT_TRUE((*inner)->EnsureTopic("t", 1).ok());
  GatedLog log(inner->get(), /*gated_calls=*/1);
  ReadBarrier barrier(&log, {"t"}, absl::Milliseconds(50));

  absl::StatusOr<eventlog::Offsets> hung;
  std::thread first(
      [&] { hung = barrier.EndOffsets(absl::Now() + absl::Seconds(60)); });
  const bool sent = Eventually([&] { return barrier.lookups() >= 1; });
  const absl::Status appended =
      (*inner)->Append("t", {{"k", "v", {}}}).status();
  std::vector<absl::StatusOr<eventlog::Offsets>> answers;
  for (int i = 0; i < 5; ++i) {
    answers.push_back(barrier.EndOffsets(absl::Now() + absl::Seconds(30)));
  }
  const uint64_t lookups = barrier.lookups();
  log.Release();  // only now may the first look-up end
  first.join();

  ASSERT_TRUE(sent);
  ASSERT_TRUE(appended.ok()) << appended;
  for (const auto& answer : answers) {
    ASSERT_TRUE(answer.ok()) << answer.status();
    EXPECT_GE(answer->at({"t", 0}), 1) << "missed an append before the call";
  }
  EXPECT_GE(lookups, 2u);
  EXPECT_TRUE(hung.ok()) << hung.status();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace lotledger::command
