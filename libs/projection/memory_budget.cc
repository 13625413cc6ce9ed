#include "libs/projection/memory_budget.h"

#include <algorithm>

#include "rocksdb/cache.h"
#include "rocksdb/write_buffer_manager.h"

namespace lotledger::projection {

std::shared_ptr<MemoryBudget> MemoryBudget::Create(size_t bytes) {
  return std::shared_ptr<MemoryBudget>(
      new MemoryBudget(std::max(bytes, kMinBytes)));
}

MemoryBudget::MemoryBudget(size_t bytes)
    : bytes_(bytes), write_buffer_bytes_(bytes / 4) {
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
      write_buffer_bytes_, cache_, /*allow_stall=*/false);
}

MemoryBudget::~MemoryBudget() = default;

MemoryBudget::Usage MemoryBudget::usage() const {
  return {.cache = cache_->GetUsage(),
          .pinned = cache_->GetPinnedUsage(),
          .write_buffers = write_buffers_->memory_usage()};
}

}  // namespace lotledger::projection
