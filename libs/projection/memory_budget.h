// MemoryBudget: the RocksDB memory of one process, shared by every
// projection it opens (ProjectionStore::Options::memory), and the
// in-memory indexes its services hold, so a pod's memory is set by
// configuration and does not grow with the projections' size or with the
// number of services it hosts.
//
// It is one LRU block cache, and everything RocksDB holds per projection
// is charged to it:
//   - data blocks read by queries and by the projector's read-modify-write;
//   - index and filter blocks, partitioned (4 KiB partitions under a small
//     top level), at high priority: they are evicted after data blocks,
//     and a miss reads back one partition, not a table's whole index;
//   - write buffers (memtables) of every column family of every store,
//     through one WriteBufferManager of a quarter of the cache: when their
//     sum passes it, the largest memtable is flushed, and the memory they
//     hold is reserved in the cache, which evicts blocks to make room.
// The embedded event log of an all-in-one process is charged to the same
// budget (ApplyTo; libs/eventlog/embedded/embedded_event_log.h).
//
// In-memory indexes (the lots service's genealogy, the recall service's
// scope and impact index) grow with the data. Each is charged to the
// budget (ChargeOutside): the cache's capacity is `bytes` less what they
// hold, never below kMinBytes, and the write buffers' share is a quarter
// of that. They are measured when charged, by Charge::Measure (at each
// scrape of their metric), and every kRemeasureEvery on the budget's own
// thread, so the cache gives up what
// an index grows by within that period. Indexes past bytes - kMinBytes
// take the process past its budget: a warning is logged when they pass
// that line (and a line when they are back within it), and
// lotledger_rocksdb_memory_bytes shows it (kind "indexes" beside
// "budget").
//
// The cache evicts what is not in use; what is pinned (the write buffers'
// reservation, level-0 tables' index and filter, blocks a reader holds)
// can take it past its capacity by that much.
// What stays outside it: per open table file a few hundred bytes of
// metadata and its pinned top-level index, RocksDB's own threads, and the
// iterators' pinned blocks while a scan runs. The process's other memory
// (Kafka fetch buffers, gRPC, the heap of queries) is budgeted by the host
// (docs/operations.md, "Memory").
//
// Thread-safety: every method from any thread. Every store and every
// Charge holding the budget keeps it alive.
#ifndef LOTLEDGER_LIBS_PROJECTION_MEMORY_BUDGET_H_
#define LOTLEDGER_LIBS_PROJECTION_MEMORY_BUDGET_H_

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

// RocksDB stays out of this header (as in projection_store.h).
namespace rocksdb {
class Cache;
class WriteBufferManager;
struct BlockBasedTableOptions;
struct DBOptions;
}  // namespace rocksdb

namespace lotledger::projection {

class MemoryBudget final : public std::enable_shared_from_this<MemoryBudget> {
 public:
  // The smallest budget Create accepts, and the smallest cache the
  // indexes leave.
  static constexpr size_t kMinBytes = 16 << 20;
  static constexpr absl::Duration kRemeasureEvery = absl::Seconds(10);

  static std::shared_ptr<MemoryBudget> Create(size_t bytes);

  MemoryBudget(const MemoryBudget&) = delete;
  MemoryBudget& operator=(const MemoryBudget&) = delete;
  ~MemoryBudget();

  // The budget: the cache's capacity with no index charged.
  size_t bytes() const { return bytes_; }
  // The cache's capacity now: bytes() less the indexes, at least
  // kMinBytes.
  size_t cache_bytes() const;
  // The write buffers' share of it (cache_bytes() / 4).
  size_t write_buffer_bytes() const;

  struct Usage {
    size_t cache = 0;          // charged to the cache, write buffers included
    size_t pinned = 0;         // in use by readers now (cannot be evicted)
    size_t write_buffers = 0;  // memtables of every store
    // Of those, the memtables still taking writes; the rest wait for (or
    // are in) a flush.
    size_t active_write_buffers = 0;
    size_t indexes = 0;  // in-memory indexes, as last measured
  };
  Usage usage() const;

  // An in-memory index charged to the budget until destroyed; the cache
  // gets its memory back then.
  class Charge {
   public:
    ~Charge();
    Charge(const Charge&) = delete;
    Charge& operator=(const Charge&) = delete;
    // The index's bytes as last measured.
    size_t bytes() const { return bytes_.load(std::memory_order_relaxed); }
    // Measures the index now (its lotledger_index_memory_bytes at a
    // scrape, or right after it was loaded) and resizes the cache with
    // what it holds; returns its bytes.
    size_t Measure();

   private:
    friend class MemoryBudget;
    Charge(std::shared_ptr<MemoryBudget> budget, std::string name,
           std::function<size_t()> measure);
    std::shared_ptr<MemoryBudget> budget_;
    std::string name_;
    std::function<size_t()> measure_;
    std::atomic<size_t> bytes_ = 0;
  };
  // Charges what `measure` returns (the heap an index holds; called on
  // the budget's thread and by Charge::Measure, so it must be safe from
  // any thread and cheap enough to run every kRemeasureEvery). Measures
  // it at once.
  std::unique_ptr<Charge> ChargeOutside(std::string name,
                                        std::function<size_t()> measure);

  // Put a database under this budget (every projection store, and the
  // embedded event log): its tables' blocks in the cache, their index and
  // filter blocks partitioned in the cache's high-priority pool (the small
  // top level of each table pinned), and its memtables charged to the
  // write buffers. Table files are read by pread, not mmap: pages of a
  // mapped file count in the process's resident memory (and against a
  // pod's memory limit) without being bounded by the cache. Every other
  // option (filter policy, compression, durability) is the caller's.
  void ApplyTo(rocksdb::BlockBasedTableOptions& table) const;
  void ApplyTo(rocksdb::DBOptions& db) const;

  // For ProjectionStore (projection_store.cc).
  const std::shared_ptr<rocksdb::Cache>& cache() const { return cache_; }
  const std::shared_ptr<rocksdb::WriteBufferManager>& write_buffers() const {
    return write_buffers_;
  }

 private:
  explicit MemoryBudget(size_t bytes);
  // Measures `charge` (every charge when null), then sizes the cache to
  // what the charges hold.
  void MeasureLocked(Charge* charge) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Forget(const Charge* charge);
  void Loop();

  const size_t bytes_;
  std::shared_ptr<rocksdb::Cache> cache_;
  std::shared_ptr<rocksdb::WriteBufferManager> write_buffers_;

  mutable absl::Mutex mu_;
  std::vector<Charge*> charges_ ABSL_GUARDED_BY(mu_);
  std::atomic<size_t> indexes_ = 0;         // written under mu_
  bool over_ ABSL_GUARDED_BY(mu_) = false;  // indexes past bytes - kMinBytes
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Started with the first charge.
  std::thread thread_;
};

}  // namespace lotledger::projection

#endif  // LOTLEDGER_LIBS_PROJECTION_MEMORY_BUDGET_H_
