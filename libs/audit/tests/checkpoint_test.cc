// Signed checkpoints on a real embedded log: the publisher signs what each
// partition holds every N records or T seconds; verify checks signatures
// with the public key, finds records removed from under a checkpoint, and,
// with the checkpoint an auditor kept, a tail cut off checkpoints and all.
#include "libs/audit/checkpoint.h"

#include <filesystem>

#include "gtest/gtest.h"
#include "libs/audit/log_verify.h"
#include "libs/common/ids.h"
#include "libs/common/proto_time.h"
#include "libs/common/status_macros.h"
#include "libs/eventlog/embedded/embedded_event_log.h"
#include "libs/eventlog/testing/forwarding_event_log.h"
#include "lotledger/v1/embedded_log.pb.h"
#include "rocksdb/db.h"

namespace lotledger::audit {
namespace {

constexpr char kTopic[] = "lotledger.lots.v1";

std::string RecordKey(int64_t offset) {
  std::string key = std::string("r") + kTopic;
  key.push_back('\0');
  key.append(4, '\0');  // partition 0
  for (int i = 7; i >= 0; --i) {
    key.push_back(static_cast<char>((offset >> (8 * i)) & 0xff));
  }
  return key;
}

class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("checkpoint-" + NewUuidV7(absl::Now()));
    auto pems = GenerateEd25519Pem();
    ASSERT_TRUE(pems.ok()) << pems.status();
    auto signer = Signer::FromPem(pems->first);
    ASSERT_TRUE(signer.ok()) << signer.status();
    signer_ = std::move(*signer);
    auto keys = PublicKeys::FromPems({pems->second});
    ASSERT_TRUE(keys.ok()) << keys.status();
    keys_ = std::move(*keys);
    OpenLog(dir_);
    ASSERT_TRUE(log_->EnsureTopic(kTopic, 1).ok());
  }

  void OpenLog(const std::filesystem::path& path) {
    auto log = eventlog::OpenEmbeddedEventLog({.path = path.string()});
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = std::move(*log);
  }

  // Appends one sealed lot event of `lot`; returns its offset.
  int64_t Append(const std::string& lot) {
    v1::Event e;
    e.set_event_id(NewUuidV7(absl::Now()));
    e.set_aggregate_id(lot);
    e.add_lot_ids(lot);
    ToTimestamp(absl::Now(), e.mutable_recorded_at());
    e.mutable_lot_corrected()->set_lot_id(lot);
    const v1::EventRecord rec = eventlog::Seal(e, heads_[lot]);
    auto at = log_->Append(kTopic, {eventlog::ToOutgoing(e, rec, "test")});
    EXPECT_TRUE(at.ok()) << at.status();
    return at.ok() ? (*at)[0].offset : -1;
  }

  LogVerification Verify(const PublicKeys* keys,
                         std::vector<Anchor> anchors = {}) {
    VerifyOptions options;
    options.topics = {kTopic};
    options.keys = keys;
    options.anchors = std::move(anchors);
    auto v = VerifyLog(*log_, "", options);
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? *v : LogVerification();
  }

  void DeleteOffsets(const std::filesystem::path& path,
                     const std::vector<int64_t>& offsets) {
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(
        rocksdb::DB::Open(rocksdb::Options(), path.string(), &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    for (int64_t o : offsets) {
      ASSERT_TRUE(db->Delete(rocksdb::WriteOptions(), RecordKey(o)).ok());
    }
  }

  std::filesystem::path dir_;
  std::unique_ptr<Signer> signer_;
  std::unique_ptr<PublicKeys> keys_;
  std::unique_ptr<eventlog::EventLog> log_;
  std::map<std::string, eventlog::ChainHead> heads_;
};

// Fault injection, not a mock: a real log whose next append is reported
// Unavailable and lands later, as a Kafka commit whose answer was lost
// lands once the cluster answers: before the next append, or when the
// writer settles (the Kafka log settles a commit before anything else).
class LostAnswerLog : public eventlog::testing::ForwardingEventLog {
 public:
  using ForwardingEventLog::ForwardingEventLog;
  bool lose_next_answer = false;

  absl::StatusOr<std::vector<eventlog::Position>> Append(
      std::string_view topic,
      std::vector<eventlog::OutgoingRecord> records) override {
    RETURN_IF_ERROR(Land());
    if (lose_next_answer) {
      lose_next_answer = false;
      held_topic_ = std::string(topic);
      held_ = std::move(records);
      return absl::UnavailableError("the commit's answer was lost");
    }
    return ForwardingEventLog::Append(topic, std::move(records));
  }
  absl::Status Settle(absl::Time) override { return Land(); }

 private:
  absl::Status Land() {
    if (held_.empty()) return absl::OkStatus();
    absl::StatusOr<std::vector<eventlog::Position>> at =
        ForwardingEventLog::Append(held_topic_, std::move(held_));
    held_.clear();
    return at.status();
  }

  std::string held_topic_;
  std::vector<eventlog::OutgoingRecord> held_;
};

// A checkpoint whose append answered Unavailable may have landed: the
// publisher reads it back before it publishes again, so the checkpoint
// chain gets no seq twice and the log verifies.
TEST_F(CheckpointTest, ACheckpointWhoseAnswerWasLostIsNotWrittenTwice) {
  for (int i = 0; i < 3; ++i) Append("L:1");
  CheckpointOptions options{.topic = kTopic,
                            .topic_prefix = "",
                            .source = "lotledger/lots",
                            .every_records = 3,
                            .every = absl::Hours(1)};
  const absl::Time t0 = absl::FromUnixSeconds(1790000000);
  LostAnswerLog lossy(log_.get());
  {
    CheckpointPublisher publisher(&lossy, signer_.get(), options);
    ASSERT_TRUE(publisher.Open().ok());
    lossy.lose_next_answer = true;
    absl::StatusOr<int> lost = publisher.Step(absl::Milliseconds(500), t0);
    EXPECT_EQ(lost.status().code(), absl::StatusCode::kUnavailable);
    // It landed and covers the 3 records: nothing is due any more.
    absl::StatusOr<int> next = publisher.Step(absl::Milliseconds(500), t0);
    ASSERT_TRUE(next.ok()) << next.status();
    EXPECT_EQ(*next, 0);
    for (int i = 0; i < 3; ++i) Append("L:2");
    next = publisher.Step(absl::Milliseconds(500), t0);
    ASSERT_TRUE(next.ok()) << next.status();
    EXPECT_EQ(*next, 1);
  }
  LogVerification v = Verify(keys_.get());
  ASSERT_TRUE(v.ok()) << v.topics[0].first_break->what;
  EXPECT_EQ(v.topics[0].checkpoints, 2u);
  EXPECT_EQ(v.topics[0].uncovered, 0u);
}

TEST_F(CheckpointTest, SignedCheckpointsFindRemovedRecordsAndTails) {
  for (int i = 0; i < 5; ++i) Append(i % 2 == 0 ? "L:1" : "L:2");  // 0..4
  CheckpointOptions options{.topic = kTopic,
                            .topic_prefix = "",
                            .source = "lotledger/lots",
                            .every_records = 3,
                            .every = absl::Hours(1)};
  const absl::Time t0 = absl::FromUnixSeconds(1790000000);
  {
    CheckpointPublisher publisher(log_.get(), signer_.get(), options);
    ASSERT_TRUE(publisher.Open().ok());
    // 5 uncovered records >= 3: a checkpoint (offset 5).
    EXPECT_EQ(*publisher.Step(absl::Milliseconds(500), t0), 1);
    Append("L:1");  // 6
    Append("L:3");  // 7: the only record of L:3
    // 2 < 3 records, and within the hour: nothing due.
    EXPECT_EQ(*publisher.Step(absl::Milliseconds(500), t0), 0);
    // An hour later the 2 are due (offset 8).
    EXPECT_EQ(*publisher.Step(absl::Milliseconds(500), t0 + absl::Hours(1)), 1);
  }
  Append("L:2");  // 9: after the last checkpoint

  LogVerification ok = Verify(keys_.get());
  ASSERT_TRUE(ok.ok()) << ok.topics[0].first_break->what;
  EXPECT_EQ(ok.topics[0].records, 10u);
  EXPECT_EQ(ok.topics[0].checkpoints, 2u);
  EXPECT_EQ(ok.topics[0].signatures_checked, 2u);
  EXPECT_EQ(ok.topics[0].uncovered, 1u);
  const std::vector<Anchor> kept = ok.anchors();
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].end_offset, 8);
  EXPECT_EQ(kept[0].records, 7u);
  auto reparsed = ParseAnchors(FormatAnchors(kept));
  ASSERT_TRUE(reparsed.ok());
  EXPECT_EQ((*reparsed)[0].digest, kept[0].digest);

  // A key the auditor does not trust is named at the first checkpoint.
  auto other = GenerateEd25519Pem();
  auto other_keys = PublicKeys::FromPems({other->second});
  LogVerification untrusted = Verify(other_keys->get());
  ASSERT_FALSE(untrusted.ok());
  EXPECT_EQ(untrusted.topics[0].first_break->offset, 5);
  EXPECT_NE(untrusted.topics[0].first_break->what.find("not trusted"),
            std::string::npos);

  log_.reset();
  const std::filesystem::path copy = dir_.string() + "-copy";
  std::filesystem::copy(dir_, copy, std::filesystem::copy_options::recursive);

  // L:3's only record replaced by a forgery with a valid hash (anyone can
  // compute SHA-256): every chain is still consistent, checkpoint 2 is not.
  {
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(
        rocksdb::DB::Open(rocksdb::Options(), dir_.string(), &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    std::string value;
    ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), RecordKey(7), &value).ok());
    v1::EmbeddedRecord stored;
    ASSERT_TRUE(stored.ParseFromString(value));
    v1::Event forged;
    forged.set_event_id("forged");
    forged.set_aggregate_id("L:3");
    forged.add_lot_ids("L:3");
    forged.mutable_lot_corrected()->set_lot_id("L:3");
    forged.mutable_lot_corrected()->set_new_value("2099-01-01");
    eventlog::ChainHead fresh;
    stored.set_value(eventlog::Seal(forged, fresh).SerializeAsString());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), RecordKey(7),
                        stored.SerializeAsString())
                    .ok());
  }
  OpenLog(dir_);
  LogVerification rewritten = Verify(keys_.get());
  ASSERT_FALSE(rewritten.ok());
  EXPECT_EQ(rewritten.topics[0].first_break->offset, 8);
  EXPECT_NE(rewritten.topics[0].first_break->what.find("removed or rewritten"),
            std::string::npos)
      << rewritten.topics[0].first_break->what;
  log_.reset();

  // The tail cut off after checkpoint 1, checkpoint 2 with it: consistent
  // on its own, but not with the checkpoint the auditor kept.
  DeleteOffsets(copy, {6, 7, 8, 9});
  OpenLog(copy);
  EXPECT_TRUE(Verify(keys_.get()).ok());
  LogVerification cut = Verify(keys_.get(), kept);
  ASSERT_FALSE(cut.ok());
  EXPECT_NE(cut.topics[0].first_break->what.find("its tail was removed"),
            std::string::npos)
      << cut.topics[0].first_break->what;
}

}  // namespace
}  // namespace lotledger::audit
