// MemoryBudget: the RocksDB memory of one process, shared by every
// projection it opens (ProjectionStore::Options::memory), so a pod's
// memory is set by configuration and does not grow with the projections'
// size or with the number of services it hosts.
//
// It is one LRU block cache of `bytes`, and everything RocksDB holds per
// projection is charged to it:
//   - data blocks read by queries and by the projector's read-modify-write;
//   - index and filter blocks, partitioned (4 KiB partitions under a small
//     top level), at high priority: they are evicted after data blocks,
//     and a miss reads back one partition, not a table's whole index;
//   - write buffers (memtables) of every column family of every store,
//     through one WriteBufferManager of bytes / 4: when their sum passes
//     it, the largest memtable is flushed, and the memory they hold is
//     reserved in the cache, which evicts blocks to make room.
// The embedded event log of an all-in-one process is charged to the same
// budget (ApplyTo; libs/eventlog/embedded/embedded_event_log.h).
// The cache evicts what is not in use; what is pinned (the write buffers'
// reservation, level-0 tables' index and filter, blocks a reader holds)
// can take it past its capacity by that much.
// What stays outside it: per open table file a few hundred bytes of
// metadata and its pinned top-level index, RocksDB's own threads, and the
// iterators' pinned blocks while a scan runs. The process's other memory
// (in-memory indexes of the lots and recall services, Kafka fetch buffers,
// gRPC) is budgeted by the host (docs/operations.md, "Memory").
//
// Thread-safety: immutable after Create; usage() from any thread. Every
// store holding it keeps it alive.
#ifndef LOTLEDGER_LIBS_PROJECTION_MEMORY_BUDGET_H_
#define LOTLEDGER_LIBS_PROJECTION_MEMORY_BUDGET_H_

#include <cstddef>
#include <memory>

// RocksDB stays out of this header (as in projection_store.h).
namespace rocksdb {
class Cache;
class WriteBufferManager;
struct BlockBasedTableOptions;
struct DBOptions;
}  // namespace rocksdb

namespace lotledger::projection {

class MemoryBudget final {
 public:
  // The smallest budget Create accepts; smaller requests get this.
  static constexpr size_t kMinBytes = 16 << 20;

  static std::shared_ptr<MemoryBudget> Create(size_t bytes);

  MemoryBudget(const MemoryBudget&) = delete;
  MemoryBudget& operator=(const MemoryBudget&) = delete;
  ~MemoryBudget();

  // The cache's capacity.
  size_t bytes() const { return bytes_; }
  // The write buffers' share of it (bytes() / 4).
  size_t write_buffer_bytes() const { return write_buffer_bytes_; }

  struct Usage {
    size_t cache = 0;          // charged to the cache, write buffers included
    size_t pinned = 0;         // in use by readers now (cannot be evicted)
    size_t write_buffers = 0;  // memtables of every store
  };
  Usage usage() const;

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
  size_t bytes_;
  size_t write_buffer_bytes_;
  std::shared_ptr<rocksdb::Cache> cache_;
  std::shared_ptr<rocksdb::WriteBufferManager> write_buffers_;
};

}  // namespace lotledger::projection

#endif  // LOTLEDGER_LIBS_PROJECTION_MEMORY_BUDGET_H_
