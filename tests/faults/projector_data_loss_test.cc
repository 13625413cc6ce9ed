// Corruption in the log: a record that does not decode, whose hash does not
// match its bytes, or that breaks its aggregate's hash chain stops the
// projector with DATA_LOSS naming topic/partition/offset, in its health,
// in every wait on it and in a log line. The record is never skipped: the
// projection stays at the offset before it, also after a restart.
// Real parts: the embedded RocksDB log and a RocksDB projection.
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/command/chain_store.h"
#include "libs/command/projector.h"
#include "libs/common/topics.h"
#include "libs/eventlog/embedded/embedded_event_log.h"
#include "libs/eventlog/record_codec.h"
#include "libs/metrics/metrics.h"
#include "libs/projection/projection_store.h"
#include "tests/support/stack.h"

namespace lotledger::command {
namespace {

using ::testing::HasSubstr;

constexpr char kTopic[] = "faults.lots.v1";

class ProjectorDataLossTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/projector-data-loss-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    auto log = eventlog::OpenEmbeddedEventLog({.path = dir_ + "/log"});
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
    ASSERT_TRUE(log_->EnsureTopic(kTopic, 1).ok());
  }
  void TearDown() override {
    projector_.reset();
    store_.reset();
  }

  v1::Event LotEvent(const std::string& lot, const std::string& request) {
    v1::Event e;
    e.set_event_id("ev-" + request);
    e.set_aggregate_id(lot);
    e.set_request_id(request);
    e.add_lot_ids(lot);
    e.mutable_lot_created()->set_lot_id(lot);
    return e;
  }

  // Appends a correctly sealed event of `lot`.
  void AppendGood(const std::string& lot, const std::string& request) {
    const v1::Event e = LotEvent(lot, request);
    const v1::EventRecord rec = eventlog::Seal(e, heads_[lot]);
    ASSERT_TRUE(
        log_->Append(kTopic, {eventlog::ToOutgoing(e, rec, "test")}).ok());
  }
  // Appends a record with the given value under key `lot`.
  void AppendRaw(const std::string& lot, std::string value) {
    eventlog::OutgoingRecord out;
    out.key = lot;
    out.value = std::move(value);
    ASSERT_TRUE(log_->Append(kTopic, {std::move(out)}).ok());
  }

  void StartProjector() {
    projector_.reset();
    store_.reset();
    auto store = projection::ProjectionStore::Open(
        {.path = dir_ + "/projection",
         .column_families = ProjectorColumnFamilies({"lots"})});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    ProjectorOptions options;
    options.service = "lots";
    options.own_topic = kTopic;
    options.input_topics = {kTopic};
    projector_ = std::make_unique<Projector>(
        log_.get(), store_.get(), options,
        [this](const eventlog::Record&, const v1::Event& event,
               projection::ProjectionStore::Batch& batch) {
          batch.Put("lots", event.aggregate_id(), event.request_id());
          return absl::OkStatus();
        });
    ASSERT_TRUE(projector_->Start().ok());
  }

  // Waits for the projector to apply everything up to the log's end; the
  // projector's error when it stops on a record before.
  absl::Status WaitForEnd() {
    absl::StatusOr<int64_t> end = log_->EndOffset(kTopic, 0);
    if (!end.ok()) return end.status();
    return projector_->WaitFor({{{kTopic, 0}, *end}},
                               absl::Now() + absl::Seconds(30));
  }

  int64_t AppliedOffset() { return projector_->Applied().at({kTopic, 0}); }

  // Appends good, bad (via `append_bad`), good; checks the projector stops
  // at the bad record (offset 1) with DataLoss naming it, before and after
  // a restart, and never applies the record after it.
  template <typename AppendBad>
  void ExpectStopsAtOffset1(AppendBad append_bad, const std::string& what) {
    AppendGood("09506000134352:A17", "r-1");
    append_bad();
    AppendGood("09506000134352:A18", "r-3");
    for (int run = 0; run < 2; ++run) {
      ::testing::internal::CaptureStderr();
      StartProjector();
      const absl::Status waited = WaitForEnd();
      projector_->Stop();
      const std::string logged = ::testing::internal::GetCapturedStderr();
      SCOPED_TRACE(run == 0 ? "first start" : "after a restart");
      EXPECT_TRUE(absl::IsDataLoss(waited)) << waited;
      EXPECT_THAT(waited.message(), HasSubstr("faults.lots.v1/0 offset 1"));
      EXPECT_THAT(waited.message(), HasSubstr(what));
      EXPECT_EQ(projector_->health(), waited);
      EXPECT_THAT(logged, HasSubstr("projector stopped"));
      EXPECT_THAT(logged, HasSubstr("faults.lots.v1/0 offset 1"));
      // Records before it may or may not be applied (one batch commits all
      // or nothing); nothing at or after it is.
      EXPECT_LE(AppliedOffset(), 1) << "the bad record must not be skipped";
      auto third = store_->Get("lots", "09506000134352:A18");
      ASSERT_TRUE(third.ok());
      EXPECT_FALSE(third->has_value()) << "applied past the bad record";
    }
  }

  std::string dir_;
  std::unique_ptr<eventlog::EventLog> log_;
  std::map<std::string, eventlog::ChainHead> heads_;
  std::unique_ptr<projection::ProjectionStore> store_;
  std::unique_ptr<Projector> projector_;
};

TEST_F(ProjectorDataLossTest, UndecodableRecordStopsTheProjector) {
  ExpectStopsAtOffset1(
      [&] { AppendRaw("09506000134352:A17", "not an EventRecord \xff\xff"); },
      "not an EventRecord");
}

TEST_F(ProjectorDataLossTest, HashMismatchStopsTheProjector) {
  ExpectStopsAtOffset1(
      [&] {
        const std::string lot = "09506000134352:A17";
        eventlog::ChainHead head = heads_[lot];
        v1::EventRecord rec = eventlog::Seal(LotEvent(lot, "r-2"), head);
        rec.mutable_body()->back() ^= 0x01;  // one bit of the stored body
        AppendRaw(lot, rec.SerializeAsString());
      },
      "hash does not match");
}

// A broken chain is contained to its aggregate: the projector keeps
// serving every other one, the broken aggregate is recorded (and refused by
// the command runner), and that survives a restart.
TEST_F(ProjectorDataLossTest, BrokenChainIsContainedToItsAggregate) {
  const std::string lot = "09506000134352:A17";
  AppendGood(lot, "r-1");
  {
    // Correctly hashed, but chained after a record that is not there.
    eventlog::ChainHead skipped = heads_[lot];
    eventlog::Seal(LotEvent(lot, "lost"), skipped);
    AppendRaw(
        lot, eventlog::Seal(LotEvent(lot, "r-2"), skipped).SerializeAsString());
  }
  AppendGood("09506000134352:A18", "r-3");
  for (int run = 0; run < 2; ++run) {
    SCOPED_TRACE(run == 0 ? "first start" : "after a restart");
    ::testing::internal::CaptureStderr();
    StartProjector();
    const absl::Status waited = WaitForEnd();
    const std::string logged = ::testing::internal::GetCapturedStderr();
    EXPECT_TRUE(waited.ok()) << waited;
    EXPECT_TRUE(projector_->health().ok()) << projector_->health();
    // The record after the break, of another lot, is applied.
    auto third = store_->Get("lots", "09506000134352:A18");
    ASSERT_TRUE(third.ok());
    EXPECT_EQ(third->value_or(""), "r-3");
    // The breaking record is not; the incident names where it is.
    auto first = store_->Get("lots", lot);
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(first->value_or(""), "r-1");
    absl::StatusOr<AggregateHead> head = LoadChainHead(*store_, lot);
    ASSERT_TRUE(head.ok()) << head.status();
    EXPECT_EQ(head->chain.seq, 1u) << "the head stays at the last good record";
    EXPECT_THAT(head->broken, HasSubstr("faults.lots.v1/0 offset 1"));
    EXPECT_THAT(head->broken, HasSubstr("hash chain broken"));
    if (run == 0) {
      EXPECT_THAT(logged, HasSubstr("aggregate contained"));
      EXPECT_THAT(logged, HasSubstr(lot));
    }
    projector_->Stop();
  }
}

// The alert: in a running server the hosted service's
// lotledger_projection_healthy drops to 0 once its projector stopped on a
// bad record, while the server keeps serving.
TEST(ProjectorDataLossAlert, HealthyGaugeDropsToZero) {
  auto healthy = [] {
    const std::string text = metrics::Default().Text();
    std::smatch m;
    static const std::regex line(
        R"(lotledger_projection_healthy\{service="lots"\} ([0-9.e+-]+))");
    return std::regex_search(text, m, line) ? m[1].str() : "absent";
  };
  std::unique_ptr<testing::TestStack> stack =
      testing::TestStack::Start(testing::Backend::kEmbedded, {"lots"});
  ASSERT_NE(stack, nullptr);
  EXPECT_EQ(healthy(), "1");
  const std::string data_dir = stack->config().data_dir;
  const std::string topic =
      stack->config().topic_prefix + std::string(topics::kLots);
  stack->Stop();
  std::string where;  // topic/partition offset of the bad record
  {
    auto log = eventlog::OpenEmbeddedEventLog({.path = data_dir + "/log"});
    ASSERT_TRUE(log.ok()) << log.status();
    eventlog::OutgoingRecord bad;
    bad.key = "09506000134352:A17";
    bad.value = "not an EventRecord \xff\xff";
    auto at = (*log)->Append(topic, {std::move(bad)});
    ASSERT_TRUE(at.ok()) << at.status();
    where = absl::StrCat(topic, "/", (*at)[0].partition, " offset ",
                         (*at)[0].offset);
  }
  ::testing::internal::CaptureStderr();
  stack->Restart();
  std::string value;
  for (int i = 0; i < 300 && (value = healthy()) != "0"; ++i) {
    absl::SleepFor(absl::Milliseconds(100));  // the projector runs apart
  }
  const std::string logged = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(value, "0");
  EXPECT_THAT(logged, HasSubstr("projector stopped"));
  EXPECT_THAT(logged, HasSubstr(where));
  stack.reset();
}

}  // namespace
}  // namespace lotledger::command
