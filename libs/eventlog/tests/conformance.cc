#include "libs/eventlog/tests/conformance.h"

#include <atomic>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/common/hash.h"
#include "libs/common/ids.h"
#include "libs/eventlog/record_codec.h"

namespace lotledger::eventlog::testing {

void EventLogConformance::SetUp() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  instance_ = absl::StrCat(info->name(), "-", NewUuidV7(absl::Now()));
  for (char& c : instance_) {
    if (c == '/') c = '_';
  }
  log_ = Open();
  ASSERT_NE(log_, nullptr);
}

std::unique_ptr<EventLog> EventLogConformance::Open() {
  absl::StatusOr<std::unique_ptr<EventLog>> log = GetParam().open(instance_);
  EXPECT_TRUE(log.ok()) << GetParam().name << ": " << log.status();
  return log.ok() ? std::move(*log) : nullptr;
}

std::string EventLogConformance::NewTopic(int32_t partitions) {
  static std::atomic<int> n{0};
  std::string topic = absl::StrCat("conformance.", instance_, ".", n++);
  const absl::Status s = log_->EnsureTopic(topic, partitions);
  EXPECT_TRUE(s.ok()) << s;
  return topic;
}

std::vector<Record> EventLogConformance::ReadN(EventLog& log,
                                               const std::string& topic,
                                               size_t count) {
  std::vector<Record> out;
  absl::StatusOr<int32_t> parts = log.PartitionCount(topic);
  EXPECT_TRUE(parts.ok()) << parts.status();
  if (!parts.ok()) return out;
  Offsets start;
  for (int32_t p = 0; p < *parts; ++p) start[{topic, p}] = 0;
  absl::StatusOr<std::unique_ptr<LogReader>> reader = log.OpenReader(start);
  EXPECT_TRUE(reader.ok()) << reader.status();
  if (!reader.ok()) return out;
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  while (out.size() < count && absl::Now() < give_up) {
    absl::StatusOr<PollResult> r = (*reader)->Poll(4096, absl::Seconds(1));
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) break;
    for (Record& rec : r->records) out.push_back(std::move(rec));
  }
  return out;
}

namespace {

OutgoingRecord Rec(std::string key, std::string value) {
  return OutgoingRecord{std::move(key), std::move(value), {}};
}

TEST_P(EventLogConformance, EnsureTopicIsIdempotentAndKeepsPartitionCount) {
  const std::string topic = NewTopic(3);
  EXPECT_TRUE(log_->EnsureTopic(topic, 3).ok());
  absl::StatusOr<int32_t> parts = log_->PartitionCount(topic);
  ASSERT_TRUE(parts.ok()) << parts.status();
  EXPECT_EQ(*parts, 3);
  EXPECT_EQ(log_->EnsureTopic(topic, 4).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(log_->PartitionCount("no.such.topic." + instance_).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_P(EventLogConformance, KeepsOrderPerKeyOnTheJavaPartition) {
  const std::string topic = NewTopic(4);
  const std::vector<std::string> keys = {"09506000134352:A17", "lot-b", "lot-c",
                                         "x", "R-2026-0001"};
  for (int i = 0; i < 50; ++i) {
    for (const std::string& k : keys) {
      absl::StatusOr<std::vector<Position>> pos =
          log_->Append(topic, {Rec(k, absl::StrCat(k, "#", i))});
      ASSERT_TRUE(pos.ok()) << pos.status();
      EXPECT_EQ((*pos)[0].partition, PartitionForKey(k, 4)) << k;
    }
  }
  std::vector<Record> got = ReadN(*log_, topic, 250);
  ASSERT_EQ(got.size(), 250u);
  std::map<std::string, int> next;
  for (const Record& r : got) {
    EXPECT_EQ(r.partition, PartitionForKey(r.key, 4));
    EXPECT_EQ(r.value, absl::StrCat(r.key, "#", next[r.key]++));
  }
  for (const std::string& k : keys) EXPECT_EQ(next[k], 50) << k;
}

TEST_P(EventLogConformance, MultiRecordAppendIsAtomicAndReportsPositions) {
  const std::string topic = NewTopic(3);
  std::vector<OutgoingRecord> batch;
  for (int i = 0; i < 6; ++i) {
    batch.push_back(Rec(absl::StrCat("line-", i), absl::StrCat("v", i)));
  }
  absl::StatusOr<std::vector<Position>> pos = log_->Append(topic, batch);
  ASSERT_TRUE(pos.ok()) << pos.status();
  ASSERT_EQ(pos->size(), 6u);
  std::vector<Record> got = ReadN(*log_, topic, 6);
  ASSERT_EQ(got.size(), 6u);
  std::map<std::string, Position> where;
  for (const Record& r : got) where[r.key] = {r.partition, r.offset};
  for (int i = 0; i < 6; ++i) {
    const Position& p = where[absl::StrCat("line-", i)];
    EXPECT_EQ(p.partition, (*pos)[i].partition);
    EXPECT_EQ(p.offset, (*pos)[i].offset);
  }
  // A batch that cannot be written leaves nothing behind.
  std::vector<OutgoingRecord> bad = {Rec("k1", "a"), Rec("", "no key")};
  EXPECT_EQ(log_->Append(topic, bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(log_->Append("no.such.topic." + instance_, {Rec("k", "v")})
                .status()
                .code(),
            absl::StatusCode::kNotFound);
  ASSERT_TRUE(log_->Append(topic, {Rec("after", "marker")}).ok());
  got = ReadN(*log_, topic, 7);
  ASSERT_EQ(got.size(), 7u);
  for (const Record& r : got) EXPECT_NE(r.key, "k1");
}

TEST_P(EventLogConformance, OffsetsGrowAndEndOffsetCoversThem) {
  const std::string topic = NewTopic(1);
  int64_t last = -1;
  for (int i = 0; i < 20; ++i) {
    std::vector<OutgoingRecord> recs = {Rec("k", "a")};
    if (i % 3 == 0) recs.push_back(Rec("k", "b"));
    absl::StatusOr<std::vector<Position>> pos = log_->Append(topic, recs);
    ASSERT_TRUE(pos.ok()) << pos.status();
    for (const Position& p : *pos) {
      EXPECT_GT(p.offset, last);
      last = p.offset;
    }
  }
  absl::StatusOr<int64_t> end = log_->EndOffset(topic, 0);
  ASSERT_TRUE(end.ok()) << end.status();
  EXPECT_GT(*end, last);
}

// The read barrier's look-up: every partition asked for at once, each
// answer covering every record appended before the call; after Settle too.
TEST_P(EventLogConformance, EndOffsetsOfSeveralPartitionsCoverEveryAppend) {
  const std::string a = NewTopic(3);
  const std::string b = NewTopic(2);
  Offsets last;
  for (int i = 0; i < 12; ++i) {
    const std::string& topic = i % 2 == 0 ? a : b;
    absl::StatusOr<std::vector<Position>> pos =
        log_->Append(topic, {Rec(absl::StrCat("k", i), "v")});
    ASSERT_TRUE(pos.ok()) << pos.status();
    last[{topic, (*pos)[0].partition}] = (*pos)[0].offset;
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  ASSERT_TRUE(log_->Settle(deadline).ok());
  std::vector<TopicPartition> all;
  for (int32_t p = 0; p < 3; ++p) all.push_back({a, p});
  for (int32_t p = 0; p < 2; ++p) all.push_back({b, p});
  absl::StatusOr<Offsets> ends = log_->EndOffsets(all, deadline);
  ASSERT_TRUE(ends.ok()) << ends.status();
  ASSERT_EQ(ends->size(), all.size());
  for (const auto& [tp, offset] : last) {
    EXPECT_GT(ends->at(tp), offset) << tp.topic << "/" << tp.partition;
  }
  for (const TopicPartition& tp : all) {
    absl::StatusOr<int64_t> one = log_->EndOffset(tp.topic, tp.partition);
    ASSERT_TRUE(one.ok()) << one.status();
    EXPECT_GE(*one, ends->at(tp)) << tp.topic << "/" << tp.partition;
  }
  // A partition that does not exist is an error, not a zero.
  EXPECT_FALSE(log_->EndOffsets({{a, 7}}, deadline).ok());
}

TEST_P(EventLogConformance, AppendBeforeADeadlineInTimeIsAnAppend) {
  const std::string topic = NewTopic(2);
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  absl::StatusOr<std::vector<Position>> one =
      log_->AppendBefore(topic, {Rec("k", "one")}, deadline);
  ASSERT_TRUE(one.ok()) << one.status();
  absl::StatusOr<std::vector<Position>> two = log_->AppendBefore(
      topic, {Rec("k", "two"), Rec("k2", "three")}, deadline);
  ASSERT_TRUE(two.ok()) << two.status();
  ASSERT_EQ(two->size(), 2u);
  EXPECT_GT((*two)[0].offset, (*one)[0].offset);
  absl::StatusOr<int64_t> end =
      log_->EndOffsetBefore(topic, (*one)[0].partition, deadline);
  ASSERT_TRUE(end.ok()) << end.status();
  // Past both appends; not necessarily equal to a later EndOffset: on Kafka
  // a transaction's commit marker may land just after the commit returned.
  EXPECT_GT(*end, (*two)[0].offset);
  EXPECT_LE(*end, log_->EndOffset(topic, (*one)[0].partition).value_or(-1));
  EXPECT_EQ(ReadN(*log_, topic, 3).size(), 3u);
  // Bad input is refused as by Append.
  EXPECT_EQ(
      log_->AppendBefore(topic, {Rec("", "no key")}, deadline).status().code(),
      absl::StatusCode::kInvalidArgument);
}

TEST_P(EventLogConformance, ReadsBackAfterCloseAndReopen) {
  const std::string topic = NewTopic(2);
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(
        log_->Append(topic, {Rec(absl::StrCat("k", i % 4), absl::StrCat(i))})
            .ok());
  }
  log_.reset();
  log_ = Open();
  ASSERT_NE(log_, nullptr);
  std::vector<Record> got = ReadN(*log_, topic, 30);
  ASSERT_EQ(got.size(), 30u);
  std::set<std::string> values;
  for (const Record& r : got) values.insert(r.value);
  EXPECT_EQ(values.size(), 30u);
  // Appends continue after the recovered end.
  absl::StatusOr<std::vector<Position>> pos =
      log_->Append(topic, {Rec("k0", "after reopen")});
  ASSERT_TRUE(pos.ok()) << pos.status();
  int64_t max_before = -1;
  for (const Record& r : got) {
    if (r.partition == (*pos)[0].partition) {
      max_before = std::max(max_before, r.offset);
    }
  }
  EXPECT_GT((*pos)[0].offset, max_before);
}

TEST_P(EventLogConformance, TailingReaderWakesOnNewRecord) {
  const std::string topic = NewTopic(1);
  ASSERT_TRUE(log_->Append(topic, {Rec("k", "first")}).ok());
  absl::StatusOr<std::unique_ptr<LogReader>> reader =
      log_->OpenReader({{{topic, 0}, 0}});
  ASSERT_TRUE(reader.ok()) << reader.status();
  std::vector<Record> seen;
  // Drain what is there.
  while (seen.empty()) {
    absl::StatusOr<PollResult> r = (*reader)->Poll(10, absl::Seconds(5));
    ASSERT_TRUE(r.ok()) << r.status();
    for (auto& rec : r->records) seen.push_back(rec);
  }
  std::thread writer([&] {
    absl::SleepFor(absl::Milliseconds(100));
    ASSERT_TRUE(log_->Append(topic, {Rec("k", "second")}).ok());
  });
  // One poll with a long timeout must return the new record, not time out.
  const absl::Duration timeout = absl::Seconds(30);
  const absl::Time start = absl::Now();
  absl::StatusOr<PollResult> r = (*reader)->Poll(10, timeout);
  const absl::Duration waited = absl::Now() - start;
  writer.join();
  ASSERT_TRUE(r.ok()) << r.status();
  if (r->records.empty()) {
    // Some backends may return an empty wake-up; a second poll must have it.
    r = (*reader)->Poll(10, timeout);
    ASSERT_TRUE(r.ok()) << r.status();
  }
  ASSERT_EQ(r->records.size(), 1u);
  EXPECT_EQ(r->records[0].value, "second");
  EXPECT_LT(waited, timeout);
  EXPECT_GT((r->next_offsets[TopicPartition{topic, 0}]), r->records[0].offset);
}

TEST_P(EventLogConformance, WakeupEndsAWaitingPoll) {
  const std::string topic = NewTopic(1);
  absl::StatusOr<std::unique_ptr<LogReader>> reader =
      log_->OpenReader({{{topic, 0}, 0}});
  ASSERT_TRUE(reader.ok()) << reader.status();
  std::thread waker([&] {
    absl::SleepFor(absl::Milliseconds(100));
    (*reader)->Wakeup();
  });
  const absl::Duration timeout = absl::Seconds(60);
  const absl::Time start = absl::Now();
  absl::StatusOr<PollResult> r = (*reader)->Poll(10, timeout);
  waker.join();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->records.empty());
  EXPECT_LT(absl::Now() - start, timeout);
}

TEST_P(EventLogConformance, ManyConcurrentAppendersLoseAndDoubleNothing) {
  const std::string topic = NewTopic(3);
  constexpr int kThreads = 16;
  constexpr int kPerThread = 60;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::vector<OutgoingRecord> recs = {
            Rec(absl::StrCat("writer-", t), absl::StrCat(t, "/", i))};
        if (i % 10 == 0) {
          recs.push_back(
              Rec(absl::StrCat("side-", t), absl::StrCat(t, "/", i)));
        }
        if (!log_->Append(topic, recs).ok()) failures++;
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(failures.load(), 0);
  const size_t expected = kThreads * kPerThread + kThreads * kPerThread / 10;
  std::vector<Record> got = ReadN(*log_, topic, expected);
  ASSERT_EQ(got.size(), expected);
  std::set<std::pair<int32_t, int64_t>> positions;
  std::map<std::string, int> next;
  for (const Record& r : got) {
    EXPECT_TRUE(positions.insert({r.partition, r.offset}).second);
    if (r.key.starts_with("writer-")) {
      const std::string t = r.key.substr(7);
      EXPECT_EQ(r.value, absl::StrCat(t, "/", next[r.key]++));
    }
  }
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(next[absl::StrCat("writer-", t)], kPerThread);
  }
}

TEST_P(EventLogConformance, LargeRecordsAndHeadersRoundTrip) {
  const std::string topic = NewTopic(1);
  std::string big(900 * 1024, '\0');
  std::mt19937 rng(7);
  for (char& c : big) c = static_cast<char>(rng());
  OutgoingRecord r = Rec("big", big);
  r.headers = {{"ce_id", "abc"}, {"content-type", "application/protobuf"}};
  ASSERT_TRUE(log_->Append(topic, {r}).ok());
  std::vector<Record> got = ReadN(*log_, topic, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].value, big);
  EXPECT_EQ(got[0].headers, r.headers);
  EXPECT_GT(got[0].timestamp, absl::Now() - absl::Hours(1));
}

TEST_P(EventLogConformance, GarbageRecordDecodesToDataLossNotACrash) {
  const std::string topic = NewTopic(1);
  std::mt19937 rng(11);
  std::vector<OutgoingRecord> recs;
  for (int i = 0; i < 50; ++i) {
    std::string junk(1 + rng() % 300, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    recs.push_back(Rec("junk", junk));
  }
  recs.push_back(Rec("junk", ""));
  ASSERT_TRUE(log_->Append(topic, recs).ok());
  std::vector<Record> got = ReadN(*log_, topic, recs.size());
  ASSERT_EQ(got.size(), recs.size());
  for (const Record& r : got) {
    EXPECT_EQ(DecodeRecord(r.value).status().code(),
              absl::StatusCode::kDataLoss);
  }
}

}  // namespace
}  // namespace lotledger::eventlog::testing
