#include "libs/projection/memory_budget.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/common/json_log.h"
#include "rocksdb/cache.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"
#include "rocksdb/write_buffer_manager.h"

namespace lotledger::projection {

std::shared_ptr<MemoryBudget> MemoryBudget::Create(size_t bytes) {
  return std::shared_ptr<MemoryBudget>(
      new MemoryBudget(std::max(bytes, kMinBytes)));
}

MemoryBudget::MemoryBudget(size_t bytes) : bytes_(bytes) {
  rocksdb::LRUCacheOptions cache;
  cache.capacity = bytes_;
  // Index and filter partitions go to the high-priority pool: up to half
  // of the cache, evicted only after every data block outside it.
  cache.high_pri_pool_ratio = 0.5;
  // Not strict: a full cache evicts, it never fails a read or a write.
  cache.strict_capacity_limit = false;
  cache_ = rocksdb::NewLRUCache(cache);
  // Charged to the cache; no stall: a flush is triggered instead, and the
  // projector's commit waits only as RocksDB's own write stalls say.
  write_buffers_ = std::make_shared<rocksdb::WriteBufferManager>(
      bytes_ / 4, cache_, /*allow_stall=*/false);
}

MemoryBudget::~MemoryBudget() {
  {
    absl::MutexLock l(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

size_t MemoryBudget::cache_bytes() const { return cache_->GetCapacity(); }

size_t MemoryBudget::write_buffer_bytes() const {
  return write_buffers_->buffer_size();
}

MemoryBudget::Charge::Charge(std::shared_ptr<MemoryBudget> budget,
                             std::string name, std::function<size_t()> measure)
    : budget_(std::move(budget)),
      name_(std::move(name)),
      measure_(std::move(measure)) {}

MemoryBudget::Charge::~Charge() { budget_->Forget(this); }

std::unique_ptr<MemoryBudget::Charge> MemoryBudget::ChargeOutside(
    std::string name, std::function<size_t()> measure) {
  std::unique_ptr<Charge> charge(
      new Charge(shared_from_this(), std::move(name), std::move(measure)));
  absl::MutexLock l(&mu_);
  charges_.push_back(charge.get());
  MeasureLocked(charge.get());
  // The thread holds no reference to the budget: the last owner's
  // destructor (never this thread) stops and joins it.
  if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
  return charge;
}

size_t MemoryBudget::Charge::Measure() {
  absl::MutexLock l(&budget_->mu_);
  budget_->MeasureLocked(this);
  return bytes();
}

void MemoryBudget::Forget(const Charge* charge) {
  absl::MutexLock l(&mu_);
  std::erase(charges_, charge);
  MeasureLocked(nullptr);
}

void MemoryBudget::MeasureLocked(Charge* charge) {
  size_t indexes = 0;
  for (Charge* c : charges_) {
    if (charge == nullptr || c == charge) {
      c->bytes_.store(c->measure_(), std::memory_order_relaxed);
    }
    indexes += c->bytes();
  }
  indexes_.store(indexes, std::memory_order_relaxed);
  // Past what the budget can give (the cache at its minimum): the process
  // will pass the memory it plans for. Said once per crossing.
  const bool over = indexes > bytes_ - kMinBytes;
  if (over != over_) {
    over_ = over;
    std::string sizes;
    for (const Charge* c : charges_) {
      absl::StrAppend(&sizes, sizes.empty() ? "" : ", ", c->name_, " ",
                      c->bytes());
    }
    LogJson(over ? "warn" : "info",
            over ? "in-memory indexes take more than the memory budget "
                   "leaves them; the RocksDB cache is at its minimum: raise "
                   "--memory-budget-mb and the pod's limit"
                 : "in-memory indexes are within the memory budget again",
            {{"indexes_bytes", absl::StrCat(indexes)},
             {"budget_bytes", absl::StrCat(bytes_)},
             {"indexes", sizes}});
  }
  const size_t capacity = bytes_ - std::min(indexes, bytes_ - kMinBytes);
  if (capacity == cache_->GetCapacity()) return;
  // A smaller capacity evicts unpinned blocks at once; a smaller
  // write-buffer share makes the next write flush the largest memtable.
  cache_->SetCapacity(capacity);
  write_buffers_->SetBufferSize(capacity / 4);
}

void MemoryBudget::Loop() {
  absl::MutexLock l(&mu_);
  while (true) {
    if (mu_.AwaitWithDeadline(absl::Condition(&stopping_),
                              absl::Now() + kRemeasureEvery)) {
      return;
    }
    MeasureLocked(nullptr);
  }
}

void MemoryBudget::ApplyTo(rocksdb::BlockBasedTableOptions& table) const {
  // One cache for every family of every database of the process, so memory
  // is bounded per process rather than per family.
  table.block_cache = cache_;
  // Index and filter blocks live in the cache, charged to the budget: held
  // beside the table files they cost ~15 bytes per key, so memory grew with
  // the projection (545-823 MiB per service at 10^7 events). Whole index
  // blocks in the cache were worse: evicted by data blocks, every lookup
  // re-read and decompressed one (a 10^6-lot replay ran at ~3,000
  // events/s). So they are partitioned: a miss reads back one 4 KiB
  // partition; the partitions sit in the cache's high-priority pool, and
  // the small top level of each table stays pinned.
  table.cache_index_and_filter_blocks = true;
  table.cache_index_and_filter_blocks_with_high_priority = true;
  table.index_type = rocksdb::BlockBasedTableOptions::kTwoLevelIndexSearch;
  table.partition_filters = true;
  table.metadata_block_size = 4096;
  table.pin_top_level_index_and_filter = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
}

void MemoryBudget::ApplyTo(rocksdb::DBOptions& db) const {
  // The memtables of every database of the process together stay within
  // the write-buffer share.
  db.write_buffer_manager = write_buffers_;
  db.allow_mmap_reads = false;
}

MemoryBudget::Usage MemoryBudget::usage() const {
  // The active memtables before all of them: a write between the two
  // reads adds to both, so read in this order the active ones are never
  // more than the whole (read the other way, they could be).
  const size_t active = write_buffers_->mutable_memtable_memory_usage();
  return {.cache = cache_->GetUsage(),
          .pinned = cache_->GetPinnedUsage(),
          .write_buffers = write_buffers_->memory_usage(),
          .active_write_buffers = active,
          .indexes = indexes_.load(std::memory_order_relaxed)};
}

}  // namespace lotledger::projection
