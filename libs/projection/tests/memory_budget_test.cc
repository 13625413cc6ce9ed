// One MemoryBudget shared by several projections (what a host does for the
// services it runs): their write buffers together stay within its share,
// the cache stays within its capacity while more data than fits is read,
// and nothing written is lost to the flushes that keeps it so.
#include "libs/projection/memory_budget.h"

#include <algorithm>
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

uint64_t MemtableBytes(
    const std::vector<std::unique_ptr<ProjectionStore>>& stores) {
  uint64_t sum = 0;
  for (const auto& s : stores) sum += s->ApproximateSize().memtable_bytes;
  return sum;
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
    }
  }
  // Each store alone would keep its 8 MiB in memtables (64 MiB each before
  // a flush): 24 MiB. The shared write-buffer share makes them flush. A
  // flush starts once the share is passed with half of it in active
  // memtables, so what stays may pass the share by up to that half: at
  // most twice the share once the background flushes are done (waited
  // for, bounded).
  const uint64_t bound = 2 * budget->write_buffer_bytes();
  // The write buffer manager lets go of a flushed memtable's memory a
  // little after the memtable leaves the store's count: wait for both.
  for (const absl::Time give_up = absl::Now() + absl::Seconds(30);
       (MemtableBytes(stores) > bound ||
        budget->usage().write_buffers > bound) &&
       absl::Now() < give_up;) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_LE(MemtableBytes(stores), bound);
  EXPECT_LE(budget->usage().write_buffers, bound);

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
