// Kafka-specific behaviour of KafkaEventLog that the shared conformance
// suite cannot express: Java-compatible partitioning, transactions and
// fencing, error codes with an unreachable broker, topic configuration.
// Needs a broker in LOTLEDGER_TEST_KAFKA (see kafka_test_env.h).
#include "libs/eventlog/kafka/kafka_event_log.h"

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "libs/common/hash.h"
#include "libs/eventlog/tests/kafka_test_env.h"

namespace lotledger::eventlog {
namespace {

using ::lotledger::eventlog::testing::TestKafkaOptions;
using ::lotledger::eventlog::testing::UniqueTopic;

OutgoingRecord Rec(std::string key, std::string value,
                   std::vector<Header> headers = {}) {
  return OutgoingRecord{std::move(key), std::move(value), std::move(headers)};
}

class KafkaEventLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    txn_id_ = UniqueTopic("txn");
    log_ = Open(txn_id_);
    ASSERT_NE(log_, nullptr);
  }

  std::unique_ptr<EventLog> Open(const std::string& transactional_id) {
    absl::StatusOr<KafkaOptions> options = TestKafkaOptions(transactional_id);
    EXPECT_TRUE(options.ok()) << options.status();
    if (!options.ok()) return nullptr;
    absl::StatusOr<std::unique_ptr<EventLog>> log =
        KafkaEventLog::Create(*options);
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? std::move(*log) : nullptr;
  }

  std::string NewTopic(int32_t partitions) {
    std::string topic = UniqueTopic("kafka");
    const absl::Status s = log_->EnsureTopic(topic, partitions);
    EXPECT_TRUE(s.ok()) << s;
    return topic;
  }

  // Reads every partition of `topic` up to its current EndOffset, as a
  // projection catching up does: the reader's next_offsets must reach the
  // end even when transaction markers are the last entries.
  std::vector<Record> ReadToEnd(const std::string& topic) {
    std::vector<Record> out;
    absl::StatusOr<int32_t> parts = log_->PartitionCount(topic);
    EXPECT_TRUE(parts.ok()) << parts.status();
    if (!parts.ok()) return out;
    Offsets start;
    Offsets end;
    for (int32_t p = 0; p < *parts; ++p) {
      start[{topic, p}] = 0;
      absl::StatusOr<int64_t> e = log_->EndOffset(topic, p);
      EXPECT_TRUE(e.ok()) << e.status();
      end[{topic, p}] = e.value_or(0);
    }
    absl::StatusOr<std::unique_ptr<LogReader>> reader = log_->OpenReader(start);
    EXPECT_TRUE(reader.ok()) << reader.status();
    if (!reader.ok()) return out;
    Offsets next = start;
    const absl::Time give_up = absl::Now() + absl::Seconds(30);
    while (next != end) {
      if (absl::Now() > give_up) {
        ADD_FAILURE() << "reader did not reach the end offsets";
        break;
      }
      absl::StatusOr<PollResult> r =
          (*reader)->Poll(1000, absl::Milliseconds(200));
      EXPECT_TRUE(r.ok()) << r.status();
      if (!r.ok()) break;
      for (Record& rec : r->records) out.push_back(std::move(rec));
      for (const auto& [tp, offset] : r->next_offsets) {
        if (offset > end[tp]) {
          // A commit returns before Kafka writes its markers: the end
          // looked up above may not cover the last one yet.
          absl::StatusOr<int64_t> e = log_->EndOffset(tp.topic, tp.partition);
          EXPECT_TRUE(e.ok()) << e.status();
          end[tp] = e.value_or(end[tp]);
        }
        EXPECT_LE(offset, end[tp]) << tp.topic << "/" << tp.partition;
        next[tp] = offset;
      }
    }
    return out;
  }

  std::string txn_id_;
  std::unique_ptr<EventLog> log_;
};

TEST_F(KafkaEventLogTest, PartitionIsJavasDefaultForEveryKey) {
  const std::string topic = NewTopic(7);
  std::vector<OutgoingRecord> batch;
  for (int i = 0; i < 100; ++i) {
    const std::string key = absl::StrCat("0950600013435", i % 10, ":LOT-", i);
    absl::StatusOr<std::vector<Position>> single =
        log_->Append(topic, {Rec(key, "v")});
    ASSERT_TRUE(single.ok()) << single.status();
    EXPECT_EQ((*single)[0].partition, PartitionForKey(key, 7)) << key;
    batch.push_back(Rec(absl::StrCat("batch-", key), "v"));
  }
  // The transactional producer partitions the same way.
  absl::StatusOr<std::vector<Position>> positions = log_->Append(topic, batch);
  ASSERT_TRUE(positions.ok()) << positions.status();
  ASSERT_EQ(positions->size(), batch.size());
  std::set<int32_t> used;
  for (size_t i = 0; i < batch.size(); ++i) {
    EXPECT_EQ((*positions)[i].partition, PartitionForKey(batch[i].key, 7))
        << batch[i].key;
    used.insert((*positions)[i].partition);
  }
  EXPECT_EQ(used.size(), 7u);  // the keys really spread out
}

TEST_F(KafkaEventLogTest, MultiRecordAppendIsOneCommittedTransaction) {
  const std::string topic = NewTopic(3);
  std::vector<OutgoingRecord> batch;
  for (int i = 0; i < 9; ++i) {
    batch.push_back(Rec(absl::StrCat("lot-", i), absl::StrCat("event-", i)));
  }
  absl::StatusOr<std::vector<Position>> positions = log_->Append(topic, batch);
  ASSERT_TRUE(positions.ok()) << positions.status();

  // The end offset covers every committed record at once. The commit
  // marker follows the records, but the coordinator writes it after
  // commit_transaction returns, so the end reaches last + 2 a moment later.
  std::map<int32_t, int64_t> last;
  for (const Position& p : *positions) {
    last[p.partition] = std::max(last[p.partition], p.offset);
  }
  for (const auto& [partition, offset] : last) {
    absl::StatusOr<int64_t> end = log_->EndOffset(topic, partition);
    ASSERT_TRUE(end.ok()) << end.status();
    EXPECT_GE(*end, offset + 1) << "partition " << partition;
    const absl::Time give_up = absl::Now() + absl::Seconds(30);
    while (end.ok() && *end < offset + 2 && absl::Now() < give_up) {
      absl::SleepFor(absl::Milliseconds(20));
      end = log_->EndOffset(topic, partition);
    }
    ASSERT_TRUE(end.ok()) << end.status();
    EXPECT_EQ(*end, offset + 2) << "partition " << partition;
  }
  std::vector<Record> got = ReadToEnd(topic);
  ASSERT_EQ(got.size(), batch.size());
  std::map<std::string, Record> by_key;
  for (Record& r : got) by_key[r.key] = r;
  for (size_t i = 0; i < batch.size(); ++i) {
    const Record& r = by_key[batch[i].key];
    EXPECT_EQ(r.value, batch[i].value);
    EXPECT_EQ(r.partition, (*positions)[i].partition);
    EXPECT_EQ(r.offset, (*positions)[i].offset);
  }
}

TEST_F(KafkaEventLogTest, NewerWriterWithSameIdFencesTheOlder) {
  const std::string topic = NewTopic(2);
  ASSERT_TRUE(log_->Append(topic, {Rec("a", "old-1"), Rec("b", "old-2")}).ok());

  // A restarted service: same transactional id, initialized later.
  std::unique_ptr<EventLog> newer = Open(txn_id_);
  ASSERT_NE(newer, nullptr);
  absl::StatusOr<std::vector<Position>> took_over =
      newer->Append(topic, {Rec("a", "new-1"), Rec("b", "new-2")});
  ASSERT_TRUE(took_over.ok()) << took_over.status();

  absl::StatusOr<std::vector<Position>> stale =
      log_->Append(topic, {Rec("a", "stale-1"), Rec("b", "stale-2")});
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kFailedPrecondition)
      << stale.status();
  EXPECT_NE(stale.status().message().find("fenced"), std::string::npos)
      << stale.status();
  // It stays fenced.
  EXPECT_EQ(log_->Append(topic, {Rec("a", "stale-3"), Rec("b", "stale-4")})
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);

  std::set<std::string> values;
  for (const Record& r : ReadToEnd(topic)) values.insert(r.value);
  EXPECT_EQ(values,
            (std::set<std::string>{"old-1", "old-2", "new-1", "new-2"}));
}

// A zombie writer (a process that lost its writer id to a newer one but
// does not know yet) must not write even one record: a single-record
// append from it would fork an aggregate's hash chain.
TEST_F(KafkaEventLogTest, FencedWriterCannotAppendEvenOneRecord) {
  // The writer's two producers take turns (kafka/appender.h): with one
  // append before the fence the first stale append falls to the second
  // producer, with two to the first. Neither may write.
  for (const int before : {1, 2}) {
    SCOPED_TRACE(absl::StrCat(before, " append(s) before the fence"));
    const std::string id = UniqueTopic("txn");
    std::unique_ptr<EventLog> older = Open(id);
    ASSERT_NE(older, nullptr);
    const std::string topic = NewTopic(2);
    std::vector<std::string> expected;
    for (int i = 1; i <= before; ++i) {
      const std::string value = absl::StrCat("old-", i);
      ASSERT_TRUE(older->Append(topic, {Rec("a", value)}).ok());
      expected.push_back(value);
    }

    std::unique_ptr<EventLog> newer = Open(id);
    ASSERT_NE(newer, nullptr);
    ASSERT_TRUE(newer->Append(topic, {Rec("a", "new-1")}).ok());

    for (const char* value : {"stale-1", "stale-2", "stale-3"}) {
      absl::StatusOr<std::vector<Position>> stale =
          older->Append(topic, {Rec("a", value)});
      ASSERT_FALSE(stale.ok()) << "a fenced writer appended " << value;
      EXPECT_EQ(stale.status().code(), absl::StatusCode::kFailedPrecondition)
          << stale.status();
    }
    ASSERT_TRUE(newer->Append(topic, {Rec("a", "new-2")}).ok());

    expected.insert(expected.end(), {"new-1", "new-2"});
    std::vector<std::string> values;
    for (const Record& r : ReadToEnd(topic)) values.push_back(r.value);
    EXPECT_EQ(values, expected);
  }
}

// A verifier or reader opens the log read-only: it writes nothing and, above
// all, does not fence the writer whose transactional id it might share.
TEST_F(KafkaEventLogTest, ReadOnlyLogWritesNothingAndFencesNoOne) {
  const std::string topic = NewTopic(1);
  absl::StatusOr<KafkaOptions> options = TestKafkaOptions(txn_id_);
  ASSERT_TRUE(options.ok()) << options.status();
  options->read_only = true;
  absl::StatusOr<std::unique_ptr<EventLog>> reader =
      KafkaEventLog::Create(*options);
  ASSERT_TRUE(reader.ok()) << reader.status();

  absl::StatusOr<std::vector<Position>> refused =
      (*reader)->Append(topic, {Rec("k", "from-a-verifier")});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition)
      << refused.status();
  EXPECT_TRUE((*reader)->Settle(absl::Now() + absl::Seconds(5)).ok());

  // The writer with the same id still writes, and the reader sees it.
  ASSERT_TRUE(log_->Append(topic, {Rec("k", "by-the-writer")}).ok());
  absl::StatusOr<int64_t> end = (*reader)->EndOffset(topic, 0);
  ASSERT_TRUE(end.ok()) << end.status();
  EXPECT_GE(*end, 1);
  std::vector<std::string> values;
  for (const Record& r : ReadToEnd(topic)) values.push_back(r.value);
  EXPECT_EQ(values, std::vector<std::string>{"by-the-writer"});
}

// Concurrent appends share transactions (group commit) and each still gets
// its own records back in order, none lost, none doubled.
TEST_F(KafkaEventLogTest, ConcurrentAppendsShareTransactionsAndKeepTheirOrder) {
  const std::string topic = NewTopic(3);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 25;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string key = absl::StrCat("key-", t);
        absl::StatusOr<std::vector<Position>> p =
            log_->Append(topic, {Rec(key, absl::StrCat(t, ":", i, ":a")),
                                 Rec(key, absl::StrCat(t, ":", i, ":b"))});
        if (!p.ok() || p->size() != 2 || (*p)[1].offset <= (*p)[0].offset) {
          ++failures;
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_TRUE(log_->Settle(absl::Now() + absl::Seconds(10)).ok());

  std::map<std::string, std::vector<std::string>> by_key;
  for (const Record& r : ReadToEnd(topic)) by_key[r.key].push_back(r.value);
  ASSERT_EQ(by_key.size(), static_cast<size_t>(kThreads));
  for (int t = 0; t < kThreads; ++t) {
    const std::vector<std::string>& got = by_key[absl::StrCat("key-", t)];
    ASSERT_EQ(got.size(), static_cast<size_t>(2 * kPerThread));
    for (int i = 0; i < kPerThread; ++i) {
      EXPECT_EQ(got[2 * i], absl::StrCat(t, ":", i, ":a"));
      EXPECT_EQ(got[2 * i + 1], absl::StrCat(t, ":", i, ":b"));
    }
  }
}

TEST_F(KafkaEventLogTest, HeadersRoundTripInOrder) {
  const std::string topic = NewTopic(1);
  const std::vector<Header> headers = {
      {"ce_specversion", "1.0"},
      {"ce_id", "0190c2a4-0000-7000-8000-000000000001"},
      {"ce_type", "lotledger.v1.LotCreated"},
      {"content-type", "application/protobuf"},
      {"binary", std::string("\0\xff\x01", 3)},
      {"empty", ""},
      {"ce_type", "repeated keys are kept"},
  };
  ASSERT_TRUE(log_->Append(topic, {Rec("k", "single", headers)}).ok());
  ASSERT_TRUE(
      log_->Append(topic, {Rec("k", "txn-1", headers), Rec("k", "txn-2", {})})
          .ok());
  std::vector<Record> got = ReadToEnd(topic);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].headers, headers);
  EXPECT_EQ(got[1].headers, headers);
  EXPECT_TRUE(got[2].headers.empty());
  // Topics stamp LogAppendTime: the broker's clock, close to ours here.
  for (const Record& r : got) {
    EXPECT_LT(absl::AbsDuration(r.timestamp - absl::Now()), absl::Minutes(5));
  }
}

TEST_F(KafkaEventLogTest, EnsureTopicIsIdempotentAndRefusesOtherCounts) {
  const std::string topic = NewTopic(4);
  EXPECT_TRUE(log_->EnsureTopic(topic, 4).ok());
  // Another process's log sees the same topic.
  std::unique_ptr<EventLog> other = Open(UniqueTopic("txn"));
  ASSERT_NE(other, nullptr);
  EXPECT_TRUE(other->EnsureTopic(topic, 4).ok());
  const absl::Status mismatch = other->EnsureTopic(topic, 5);
  EXPECT_EQ(mismatch.code(), absl::StatusCode::kFailedPrecondition) << mismatch;
  absl::StatusOr<int32_t> count = log_->PartitionCount(topic);
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(*count, 4);
  EXPECT_EQ(log_->EnsureTopic(topic, 0).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(KafkaEventLogTest, UnknownTopicIsNotFound) {
  const std::string missing = UniqueTopic("missing");
  const absl::Time start = absl::Now();
  EXPECT_EQ(log_->Append(missing, {Rec("k", "v")}).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(
      log_->Append(missing, {Rec("k", "v"), Rec("k", "w")}).status().code(),
      absl::StatusCode::kNotFound);
  EXPECT_EQ(log_->EndOffset(missing, 0).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(log_->OpenReader({{{missing, 0}, 0}}).status().code(),
            absl::StatusCode::kNotFound);
  // Not librdkafka's topic.metadata.propagation.max.ms wait.
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));

  const std::string topic = NewTopic(2);
  EXPECT_EQ(log_->EndOffset(topic, 2).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(KafkaEventLogTest, ExtraPropertiesCannotWeakenTheGuarantees) {
  absl::StatusOr<KafkaOptions> options = TestKafkaOptions("unused");
  ASSERT_TRUE(options.ok()) << options.status();
  for (const auto& [name, value] : std::map<std::string, std::string>{
           {"acks", "1"},
           {"enable.idempotence", "false"},
           {"isolation.level", "read_uncommitted"},
           {"partitioner", "consistent"}}) {
    KafkaOptions o = *options;
    o.extra_properties = {{name, value}};
    EXPECT_EQ(KafkaEventLog::Create(o).status().code(),
              absl::StatusCode::kInvalidArgument)
        << name;
  }
  KafkaOptions o = *options;
  o.extra_properties = {{"no.such.property", "1"}};
  EXPECT_EQ(KafkaEventLog::Create(o).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Reads one config of a topic through librdkafka's Admin API.
std::string DescribeTopicConfig(const std::string& bootstrap,
                                const std::string& topic,
                                const std::string& name) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), errstr,
                    sizeof(errstr));
  rd_kafka_t* rk =
      rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (rk == nullptr) return absl::StrCat("<client: ", errstr, ">");
  rd_kafka_ConfigResource_t* resource =
      rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str());
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
  rd_kafka_DescribeConfigs(rk, &resource, 1, nullptr, queue);
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, 20000);
  std::string value = "<no answer>";
  if (event != nullptr) {
    if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      value = absl::StrCat("<error: ", rd_kafka_event_error_string(event), ">");
    } else {
      size_t n = 0;
      const rd_kafka_ConfigResource_t** resources =
          rd_kafka_DescribeConfigs_result_resources(
              rd_kafka_event_DescribeConfigs_result(event), &n);
      value = "<missing>";
      for (size_t i = 0; i < n; ++i) {
        size_t m = 0;
        const rd_kafka_ConfigEntry_t** entries =
            rd_kafka_ConfigResource_configs(resources[i], &m);
        for (size_t j = 0; j < m; ++j) {
          if (name == rd_kafka_ConfigEntry_name(entries[j])) {
            const char* v = rd_kafka_ConfigEntry_value(entries[j]);
            value = v == nullptr ? "<null>" : v;
          }
        }
      }
    }
    rd_kafka_event_destroy(event);
  }
  rd_kafka_queue_destroy(queue);
  rd_kafka_ConfigResource_destroy(resource);
  rd_kafka_destroy(rk);
  return value;
}

TEST_F(KafkaEventLogTest, TopicsKeepEventsForever) {
  const std::string topic = NewTopic(1);
  absl::StatusOr<std::string> bootstrap = testing::TestKafkaBootstrap();
  ASSERT_TRUE(bootstrap.ok()) << bootstrap.status();
  EXPECT_EQ(DescribeTopicConfig(*bootstrap, topic, "retention.ms"), "-1");
  EXPECT_EQ(DescribeTopicConfig(*bootstrap, topic, "retention.bytes"), "-1");
  EXPECT_EQ(DescribeTopicConfig(*bootstrap, topic, "message.timestamp.type"),
            "LogAppendTime");
}

// Needs no broker: nothing listens on port 1.
TEST(KafkaEventLogUnreachableTest, AppendIsUnavailableWithinTheTimeout) {
  KafkaOptions options;
  options.bootstrap_servers = "127.0.0.1:1";
  options.transactional_id = UniqueTopic("unreachable");
  options.append_timeout = absl::Seconds(2);
  options.request_timeout = absl::Seconds(2);
  absl::StatusOr<std::unique_ptr<EventLog>> log =
      KafkaEventLog::Create(options);
  ASSERT_TRUE(log.ok()) << log.status();  // connects lazily

  // Generous bound: the timeout plus librdkafka's timer granularity; the
  // point is that nothing waits for the default 30 s or forever.
  constexpr absl::Duration kBound = absl::Seconds(9);
  auto within_bound = [&](auto&& op, const char* what) {
    const absl::Time start = absl::Now();
    const absl::Status s = op();
    const absl::Duration took = absl::Now() - start;
    EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << what << ": " << s;
    EXPECT_LT(took, kBound) << what;
  };
  within_bound([&] { return (*log)->Append("t", {Rec("k", "v")}).status(); },
               "single append");
  within_bound(
      [&] {
        return (*log)->Append("t", {Rec("k", "v"), Rec("k", "w")}).status();
      },
      "transactional append");
  within_bound([&] { return (*log)->EnsureTopic("t", 1); }, "EnsureTopic");
  within_bound([&] { return (*log)->EndOffset("t", 0).status(); }, "EndOffset");
  within_bound(
      [&] {
        return (*log)->OpenReader({{{"t", 0}, 0}}).status();
      },
      "OpenReader");
}

}  // namespace
}  // namespace lotledger::eventlog
