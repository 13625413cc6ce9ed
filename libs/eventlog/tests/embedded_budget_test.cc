// The embedded log under the process's memory budget (what lotledgerd
// does): its memtables are charged to the budget's write buffers, which
// make it flush long before RocksDB's own 64 MiB memtable would, the
// budget's cache keeps what it can evict within its capacity, and every
// record appended reads back, before and after a reopen.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "libs/eventlog/embedded/embedded_event_log.h"
#include "libs/projection/memory_budget.h"

namespace lotledger::eventlog {
namespace {

using projection::MemoryBudget;

constexpr int kAppends = 96;
constexpr int kPerAppend = 128;
constexpr size_t kValueBytes = 1024;  // 12 MiB in all, 3x the share

// Incompressible, so the memtables hold what was appended.
std::string Value(std::mt19937_64& rng) {
  std::string v(kValueBytes, '\0');
  for (char& c : v) c = static_cast<char>(rng());
  return v;
}

// Every record of "t" (one partition) from offset 0.
std::vector<Record> ReadAll(EventLog& log) {
  std::vector<Record> out;
  auto reader = log.OpenReader({{TopicPartition{"t", 0}, 0}});
  EXPECT_TRUE(reader.ok()) << reader.status();
  if (!reader.ok()) return out;
  while (true) {
    absl::StatusOr<PollResult> poll =
        (*reader)->Poll(4096, absl::ZeroDuration());
    EXPECT_TRUE(poll.ok()) << poll.status();
    if (!poll.ok() || poll->records.empty()) break;
    for (Record& r : poll->records) out.push_back(std::move(r));
  }
  return out;
}

void ExpectAll(EventLog& log, const std::vector<std::string>& written) {
  const std::vector<Record> got = ReadAll(log);
  ASSERT_EQ(got.size(), written.size());
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].offset, static_cast<int64_t>(i));
    ASSERT_EQ(got[i].value, written[i]) << "offset " << i;
  }
}

TEST(EmbeddedLogBudgetTest, MemtablesAndBlocksAreChargedToTheBudget) {
  const std::string dir = (std::filesystem::path(::testing::TempDir()) /
                           absl::StrCat("embedded-budget-", getpid()))
                              .string();
  std::filesystem::remove_all(dir);
  const std::shared_ptr<MemoryBudget> budget =
      MemoryBudget::Create(MemoryBudget::kMinBytes);
  ASSERT_EQ(budget->usage().write_buffers, 0u);
  ASSERT_EQ(budget->write_buffer_bytes(), 4u << 20);

  // The log's own memtable (64 MiB by RocksDB's default) would keep all
  // 12 MiB. The budget's share makes it switch memtables out and flush
  // them: the ones taking appends stay within twice the share
  // (memory_budget_test.cc says why not within the share itself).
  const size_t active_bound = 2 * budget->write_buffer_bytes();
  size_t most_active = 0;
  std::mt19937_64 rng(17);
  std::vector<std::string> written;
  {
    auto log = OpenEmbeddedEventLog({.path = dir, .memory = budget});
    ASSERT_TRUE(log.ok()) << log.status();
    ASSERT_TRUE((*log)->EnsureTopic("t", 1).ok());
    for (int a = 0; a < kAppends; ++a) {
      std::vector<OutgoingRecord> records;
      for (int i = 0; i < kPerAppend; ++i) {
        written.push_back(Value(rng));
        OutgoingRecord r;
        r.key = absl::StrCat("lot-", a * kPerAppend + i);
        r.value = written.back();
        records.push_back(std::move(r));
      }
      ASSERT_TRUE((*log)->Append("t", std::move(records)).ok());
      // The first append is in the log's memtable, charged to the budget
      // (without it the budget would see nothing of the log).
      if (a == 0) {
        EXPECT_GT(budget->usage().write_buffers, kValueBytes);
      }
      most_active = std::max(most_active, budget->usage().active_write_buffers);
    }
    std::printf("most active write buffers: %zu bytes (share %zu, bound %zu)\n",
                most_active, budget->write_buffer_bytes(), active_bound);
    EXPECT_LE(most_active, active_bound);
    ExpectAll(**log, written);
    const MemoryBudget::Usage usage = budget->usage();
    // The write buffers' reservation, and the tables' pinned index and
    // filter tops, are in the one cache, which keeps what it can evict
    // within its capacity (memory_budget_test.cc says why not the pinned).
    EXPECT_GE(usage.cache, usage.write_buffers);
    EXPECT_LE(usage.cache - std::min(usage.pinned, usage.cache),
              budget->bytes())
        << "cache " << usage.cache << ", pinned " << usage.pinned;
  }
  // Closing the log gives its memtables back to the budget.
  EXPECT_EQ(budget->usage().write_buffers, 0u);

  // Reopened under the budget, nothing appended is missing.
  auto log = OpenEmbeddedEventLog({.path = dir, .memory = budget});
  ASSERT_TRUE(log.ok()) << log.status();
  absl::StatusOr<int64_t> end = (*log)->EndOffset("t", 0);
  ASSERT_TRUE(end.ok()) << end.status();
  EXPECT_EQ(*end, kAppends * kPerAppend);
  ExpectAll(**log, written);
}

}  // namespace
}  // namespace lotledger::eventlog
