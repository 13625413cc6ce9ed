// One MemoryBudget shared by several projections (what a host does for the
// services it runs): the write buffers they fill together stay near its
// share, the cache stays within its capacity while more data than fits is
// read, and nothing written is lost to the flushes that keeps it so. The
// in-memory indexes charged to it are taken from the cache.
#include "libs/projection/memory_budget.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "libs/projection/projection_store.h"
#include "libs/projection/tests/synthetic_stream.h"

namespace lotledger::projection {
namespace {

using testing::ScopedTempDir;

constexpr int kStores = 3;
constexpr int kBatches = 64;
constexpr int kPerBatch = 128;
constexpr size_t kValueBytes = 1024;  // 8 MiB per store, 24 MiB in all

std::string Key(int batch, int i) {
  return absl::StrCat("lot-", batch * kPerBatch + i);
}

// Incompressible (LZ4 would shrink repeated bytes below the budget).
std::string Value(std::mt19937_64& rng) {
  std::string v(kValueBytes, '\0');
  for (char& c : v) c = static_cast<char>(rng());
  return v;
}

TEST(MemoryBudgetTest, StoresOfOneProcessStayWithinTheOneBudget) {
  const std::shared_ptr<MemoryBudget> budget =
      MemoryBudget::Create(MemoryBudget::kMinBytes);
  ASSERT_EQ(budget->bytes(), 16u << 20);
  ASSERT_EQ(budget->write_buffer_bytes(), 4u << 20);
  std::vector<ScopedTempDir> dirs(kStores);
  std::vector<std::unique_ptr<ProjectionStore>> stores;
  for (const ScopedTempDir& dir : dirs) {
    auto store = ProjectionStore::Open({.path = dir.path(),
                                        .column_families = {"lots", "stock"},
                                        .memory = budget});
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_EQ((*store)->options().memory, budget);
    stores.push_back(*std::move(store));
  }

  // The memtables still taking writes stay near the share: whenever a
  // write finds them past 7/8 of it, the write buffer manager switches
  // out the writing store's oldest memtable. That one can be small (a
  // family switched out a little before), so they can pass the share
  // until the next switches catch up: by up to 1.07 MiB of the 4 seen in
  // CI under load (the line printed below). Twice the share is the bound.
  // Each store alone would keep all its 8 MiB in them (24 MiB), since a
  // memtable of its own fills only at 64 MiB.
  const size_t active_bound = 2 * budget->write_buffer_bytes();
  size_t most_active = 0;
  std::mt19937_64 rng(7);
  std::vector<std::vector<std::string>> written(kStores);
  for (int b = 0; b < kBatches; ++b) {
    for (int s = 0; s < kStores; ++s) {
      ProjectionStore::Batch batch = stores[s]->NewBatch();
      for (int i = 0; i < kPerBatch; ++i) {
        written[s].push_back(Value(rng));
        batch.Put(i % 2 == 0 ? "lots" : "stock", Key(b, i), written[s].back());
      }
      ASSERT_TRUE(stores[s]->Commit(std::move(batch)).ok());
      most_active = std::max(most_active, budget->usage().active_write_buffers);
    }
  }
  // The figure the bound is judged by, printed on every run.
  std::printf("most active write buffers: %zu bytes (share %zu, bound %zu)\n",
              most_active, budget->write_buffer_bytes(), active_bound);
  EXPECT_LE(most_active, active_bound);
  // What was switched out went to table files in every store.
  for (int s = 0; s < kStores; ++s) {
    EXPECT_GT(stores[s]->ApproximateSize().sst_files_bytes, 0u)
        << "store " << s << " never flushed";
  }
  // No bound is asserted on the switched-out memtables once the writes
  // stop. RocksDB 7.8 gives a flush request the newest memtable of its
  // family when made, and makes none for a memtable switched out while
  // its family's request still waits for the flush thread (one, shared
  // by the stores of a process): such a memtable waits for the family's
  // next switch. On a loaded machine that left 12 MiB at rest. Their
  // memory is still charged to the one cache, which gives it up.
  const MemoryBudget::Usage written_usage = budget->usage();
  EXPECT_GE(written_usage.cache, written_usage.write_buffers);
  EXPECT_LE(written_usage.active_write_buffers, written_usage.write_buffers);

  // Read everything back: 24 MiB through a 16 MiB cache.
  for (int s = 0; s < kStores; ++s) {
    for (int b = 0; b < kBatches; ++b) {
      for (int i = 0; i < kPerBatch; ++i) {
        auto got = stores[s]->Get(i % 2 == 0 ? "lots" : "stock", Key(b, i));
        ASSERT_TRUE(got.ok()) << got.status();
        ASSERT_TRUE(got->has_value()) << "store " << s << " lost " << Key(b, i);
        ASSERT_EQ(**got, written[s][b * kPerBatch + i]);
      }
    }
  }
  const MemoryBudget::Usage usage = budget->usage();
  // Blocks and the write buffers' reservation are charged to the one cache,
  // which evicted to stay within its capacity. What is pinned (the write
  // buffers' reservation, the index and filter of level-0 tables, blocks a
  // reader holds) cannot be evicted, and the cache is sharded: a shard
  // whose pinned entries fill it takes a new block past its share. So the
  // bound is the capacity for everything evictable; without eviction the
  // 24 MiB read would be over it.
  EXPECT_GT(usage.cache, 0u);
  EXPECT_LE(usage.cache - std::min(usage.pinned, usage.cache), budget->bytes())
      << "cache " << usage.cache << ", pinned " << usage.pinned;
}

TEST(MemoryBudgetTest, IndexesChargedAreTakenFromTheCacheAndGivenBack) {
  constexpr size_t kMiB = 1 << 20;
  const std::shared_ptr<MemoryBudget> budget = MemoryBudget::Create(64 * kMiB);
  ScopedTempDir dir;
  auto store = ProjectionStore::Open(
      {.path = dir.path(), .column_families = {"lots"}, .memory = budget});
  ASSERT_TRUE(store.ok()) << store.status();
  // 32 MiB written and read back: the cache holds most of it.
  std::mt19937_64 rng(11);
  for (int b = 0; b < 32; ++b) {
    ProjectionStore::Batch batch = (*store)->NewBatch();
    for (int i = 0; i < 1024; ++i)
      batch.Put("lots", absl::StrCat("lot-", b * 1024 + i), Value(rng));
    ASSERT_TRUE((*store)->Commit(std::move(batch)).ok());
  }
  ASSERT_TRUE((*store)->Compact().ok());
  for (int b = 0; b < 32; ++b) {
    for (int i = 0; i < 1024; ++i) {
      auto got = (*store)->Get("lots", absl::StrCat("lot-", b * 1024 + i));
      ASSERT_TRUE(got.ok() && got->has_value())
          << absl::StrCat("lot-", b * 1024 + i);
    }
  }
  ASSERT_GT(budget->usage().cache, 24 * kMiB);
  EXPECT_EQ(budget->cache_bytes(), 64 * kMiB);
  EXPECT_EQ(budget->usage().indexes, 0u);

  std::atomic<size_t> genealogy = 10 * kMiB;
  std::unique_ptr<MemoryBudget::Charge> first = budget->ChargeOutside(
      "lots/genealogy", [&genealogy] { return genealogy.load(); });
  // Measured when charged.
  EXPECT_EQ(first->bytes(), 10 * kMiB);
  EXPECT_EQ(budget->usage().indexes, 10 * kMiB);
  EXPECT_EQ(budget->cache_bytes(), 54 * kMiB);
  EXPECT_EQ(budget->write_buffer_bytes(), 54 * kMiB / 4);

  // A second index, and the first grown: the cache evicts down to what is
  // left (all but what readers pin).
  std::unique_ptr<MemoryBudget::Charge> second = budget->ChargeOutside(
      "recall/scope_and_impact", [] { return 20 * kMiB; });
  genealogy = 28 * kMiB;
  EXPECT_EQ(first->Measure(), 28 * kMiB);
  EXPECT_EQ(budget->usage().indexes, 48 * kMiB);
  EXPECT_EQ(budget->cache_bytes(), 16 * kMiB);
  MemoryBudget::Usage usage = budget->usage();
  EXPECT_LE(usage.cache - std::min(usage.pinned, usage.cache), 16 * kMiB)
      << "cache " << usage.cache << ", pinned " << usage.pinned;

  // Indexes past the budget leave the cache its minimum; the process is
  // then over its budget, which usage() shows.
  genealogy = 60 * kMiB;
  ::testing::internal::CaptureStderr();
  first->Measure();
  first->Measure();
  const std::string warned = ::testing::internal::GetCapturedStderr();
  // Said once, with what to do and who holds the memory.
  EXPECT_NE(warned.find("\"level\":\"warn\""), std::string::npos) << warned;
  EXPECT_NE(warned.find("raise --memory-budget-mb"), std::string::npos);
  EXPECT_NE(warned.find("lots/genealogy 62914560"), std::string::npos);
  EXPECT_EQ(warned.find("raise --memory-budget-mb"),
            warned.rfind("raise --memory-budget-mb"));
  EXPECT_EQ(budget->cache_bytes(), MemoryBudget::kMinBytes);
  EXPECT_EQ(budget->write_buffer_bytes(), MemoryBudget::kMinBytes / 4);
  EXPECT_GT(budget->usage().indexes, budget->bytes());

  // The budget's own thread follows an index that grows or shrinks,
  // without a Measure (within kRemeasureEvery; waited for, bounded).
  genealogy = 4 * kMiB;
  ::testing::internal::CaptureStderr();
  for (const absl::Time give_up = absl::Now() + absl::Seconds(60);
       budget->cache_bytes() != 40 * kMiB && absl::Now() < give_up;) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(budget->cache_bytes(), 40 * kMiB);
  EXPECT_EQ(first->bytes(), 4 * kMiB);
  EXPECT_NE(::testing::internal::GetCapturedStderr().find(
                "within the memory budget again"),
            std::string::npos);

  // An index let go of gives its memory back.
  second.reset();
  EXPECT_EQ(budget->cache_bytes(), 60 * kMiB);
  first.reset();
  EXPECT_EQ(budget->cache_bytes(), 64 * kMiB);
  EXPECT_EQ(budget->write_buffer_bytes(), 16 * kMiB);
  EXPECT_EQ(budget->usage().indexes, 0u);
  // Every value is still there after the evictions.
  for (int b = 0; b < 32; b += 7) {
    auto got = (*store)->Get("lots", absl::StrCat("lot-", b * 1024 + 5));
    ASSERT_TRUE(got.ok() && got->has_value())
        << absl::StrCat("lot-", b * 1024 + 5);
  }
}

TEST(MemoryBudgetTest, AStoreWithoutOneGetsItsOwnAndNamesIt) {
  ScopedTempDir dir;
  auto store =
      ProjectionStore::Open({.path = dir.path(), .column_families = {"lots"}});
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_NE((*store)->options().memory, nullptr);
  EXPECT_EQ((*store)->options().memory->bytes(),
            ProjectionStore::kOwnBudgetBytes);
}

TEST(MemoryBudgetTest, ABudgetIsNeverSmallerThanTheMinimum) {
  EXPECT_EQ(MemoryBudget::Create(1)->bytes(), MemoryBudget::kMinBytes);
}

}  // namespace
}  // namespace lotledger::projection
