// ProjectionStore is a service's projection (docs/design.md, "Projections"): a
// RocksDB database of column families holding state derived from the log,
// plus the offsets of the input topics that state reflects. A Batch of state
// changes and the offsets it brings the projection to is committed in one
// RocksDB WriteBatch, so after a crash (even SIGKILL mid-write) the store
// holds either both or neither: the projector resumes from Offsets() and
// never applies an event twice or skips one. The log is the system of
// record; a projection is a cache that Destroy() + replay from offset 0
// rebuilds, byte for byte (Digest() proves it).
//
// Column families are named by the service (Options::column_families). The
// store keeps the offsets in its own column family, kOffsetsColumnFamily,
// which is readable but not writable through Put/Delete. Naming a column
// family the store does not have is InvalidArgument, never a crash.
//
// Errors: RocksDB failures map to absl codes: disk full -> ResourceExhausted,
// corruption -> DataLoss, busy/timed out/try again -> Unavailable (the caller
// may retry), other I/O errors -> Unavailable, anything else -> Internal.
//
// Thread-safety: Get, Scan, Offsets and Digest are const and may be called
// from any number of threads at once, concurrently with Commit. Commit is
// safe to call from several threads (commits are serialized internally), but
// the projector model is one committing thread: a Batch's read-through Get
// sees the store as of the read, so batches built concurrently do not see
// each other and their read-modify-writes may race. A Batch is used by one
// thread at a time and must not outlive the store that made it.
//
// SwapIn replaces the database under a live store (a projection rebuilt
// next to it, libs/command/rebuild.h) while the object keeps its identity:
// every read holds a reference to the database it started on, so a read
// in flight during a swap finishes on the old database, which closes when
// the last such read ends; reads that start after the swap see the new one.
#ifndef LOTLEDGER_LIBS_PROJECTION_PROJECTION_STORE_H_
#define LOTLEDGER_LIBS_PROJECTION_PROJECTION_STORE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "libs/eventlog/event_log.h"
#include "libs/projection/memory_budget.h"

// RocksDB stays out of this header: only lotledger_projection links it.
namespace rocksdb {
class ColumnFamilyHandle;
class DB;
}  // namespace rocksdb

namespace lotledger::projection {

// One open RocksDB database and its column family handles (defined in the
// .cc): what SwapIn replaces.
struct Db;

// The store's own column family: key = topic + '\0' + partition (4 bytes,
// big endian), value = next offset to read (8 bytes, big endian).
inline constexpr std::string_view kOffsetsColumnFamily = "__offsets";

class ProjectionStore final {
 public:
  struct Options {
    // Directory of the RocksDB database; created when missing.
    std::string path;
    // Service-defined column families, besides "default" and
    // kOffsetsColumnFamily. Missing ones are created; existing ones not
    // listed here are opened anyway (and stay readable and writable).
    std::vector<std::string> column_families;
    // fsync the WAL on every Commit. Off by default: the log is the system
    // of record, so a lost unsynced tail (power loss, not process crash) is
    // simply replayed. Atomicity of a Commit holds either way.
    bool sync_writes = false;
    // Families stored without compression: small values read by hopping
    // from key to key (a genealogy), where decompressing a block per hop
    // costs more than the disk saved.
    std::set<std::string> uncompressed_column_families = {};
    // The RocksDB memory this store shares with the process's other
    // stores (memory_budget.h); null: a budget of its own of
    // kOwnBudgetBytes.
    std::shared_ptr<MemoryBudget> memory = nullptr;
  };
  static constexpr size_t kOwnBudgetBytes = 192 << 20;

  // Opens (creating if needed) the projection at options.path and loads the
  // committed offsets. InvalidArgument for an empty path or a column family
  // name that is empty or reserved; DataLoss for undecodable offsets.
  static absl::StatusOr<std::unique_ptr<ProjectionStore>> Open(
      const Options& options);

  // Deletes the projection at `path` (which must not be open); OK when there
  // is none. Rebuild = Destroy + Open + replay from offset 0.
  static absl::Status Destroy(const std::string& path);

  ~ProjectionStore();
  ProjectionStore(const ProjectionStore&) = delete;
  ProjectionStore& operator=(const ProjectionStore&) = delete;

  // The options it was opened with; `path` is the current database's.
  Options options() const;

  // Makes `other`'s database (a store opened with the same column
  // families, at another path) this store's database, with its offsets,
  // and leaves `other` empty: it may only be destroyed. Returns once the
  // previous database is closed (reads in flight on it finish first), so
  // its directory may then be moved or deleted. No Batch of either store
  // may be alive meanwhile (stop the projector first): a batch keeps its
  // database open, and SwapIn would wait for it.
  //
  // With `closed`, SwapIn returns at once and notifies `closed` when the
  // previous database is closed (the caller waits for it before touching
  // its directory, and before destroying `closed`).
  void SwapIn(ProjectionStore& other, absl::Notification* closed = nullptr);

  // The committed value of `key`, nullopt when absent.
  absl::StatusOr<std::optional<std::string>> Get(std::string_view cf,
                                                 std::string_view key) const;

  // The committed values of `keys`, in the same order (nullopt when
  // absent), looked up in one batch: cheaper than a Get per key when a
  // query hops over many keys at once.
  absl::StatusOr<std::vector<std::optional<std::string>>> MultiGet(
      std::string_view cf, const std::vector<std::string>& keys) const;

  // Calls fn on the committed keys starting with `prefix`, in key order,
  // beginning after `start_after` when it is not empty (paging: pass the
  // last key seen). fn returns false to stop. The scan reads one snapshot.
  absl::Status Scan(
      std::string_view cf, std::string_view prefix,
      std::string_view start_after,
      const std::function<bool(std::string_view key, std::string_view value)>&
          fn) const;

  // Next offset to read per input partition, as committed. Partitions never
  // committed are absent (start them at 0).
  eventlog::Offsets Offsets() const;

  // State changes plus offsets, applied atomically by Commit. Reads through
  // the batch see its own pending writes over the committed state, so
  // Evolve over several events touching one key works within one batch.
  // Put/Delete/SetOffset do not fail on the spot: the first bad call
  // (unknown or reserved column family, topic containing '\0') makes Commit
  // return InvalidArgument without writing anything.
  class Batch {
   public:
    Batch(Batch&&) noexcept;
    Batch& operator=(Batch&&) noexcept;
    ~Batch();

    void Put(std::string_view cf, std::string_view key, std::string_view value);
    void Delete(std::string_view cf, std::string_view key);
    // The offset the projection is at once this batch commits: every record
    // of `tp` below `next_offset` has been applied. The last call per
    // partition wins.
    void SetOffset(const eventlog::TopicPartition& tp, int64_t next_offset);

    // The value of `key` as this batch would leave it.
    absl::StatusOr<std::optional<std::string>> Get(std::string_view cf,
                                                   std::string_view key) const;

    // True when there is nothing to commit (no writes, no offsets).
    bool empty() const;

   private:
    friend class ProjectionStore;
    explicit Batch(const ProjectionStore* store);

    const ProjectionStore* store_;
    // The database the batch reads through and must commit to.
    std::shared_ptr<const Db> db_;
    // Pending writes, the latest per key (nullopt: a delete), so a key an
    // apply function rewrites for many records of the batch reaches RocksDB
    // once; in key order, which the memtable inserts fastest.
    absl::btree_map<std::pair<rocksdb::ColumnFamilyHandle*, std::string>,
                    std::optional<std::string>>
        writes_;
    eventlog::Offsets offsets_;
    absl::Status error_;  // first bad call, reported by Commit
  };

  Batch NewBatch() const;

  // Applies the batch's state changes and offsets in one RocksDB WriteBatch
  // (WAL-logged, across column families): after a crash either both are
  // there or neither. An empty batch is a no-op. `batch` must come from this
  // store's NewBatch().
  absl::Status Commit(Batch batch);

  // Flushes memtables and fully compacts every column family. Optional:
  // after a rebuild it leaves the fewest, tidiest files. Logical contents
  // (and Digest) do not change. Safe concurrently with everything else.
  absl::Status Compact();

  // Hex SHA-256 over the logical contents: every non-empty column family in
  // name order (including the offsets), each key and value length-prefixed,
  // read from one snapshot. Independent of RocksDB's file layout (flushes,
  // compactions), so two projections with equal digests hold identical
  // keys and values. See ProjectionStore::Digest in the .cc for the exact
  // encoding.
  absl::StatusOr<std::string> Digest() const;

  // Digest() of the store as it is now (a RocksDB snapshot taken by this
  // call), computed when the returned function is called, from any thread,
  // also after a SwapIn: the function keeps that database open until it
  // and its copies are destroyed.
  std::function<absl::StatusOr<std::string>()> DigestLater() const;

  // Size of the projection, summed over column families, from RocksDB's
  // properties (for the size metric). Safe from any thread.
  struct Size {
    uint64_t sst_files_bytes = 0;  // rocksdb.total-sst-files-size
    uint64_t live_data_bytes = 0;  // rocksdb.estimate-live-data-size
    uint64_t memtable_bytes = 0;   // rocksdb.cur-size-all-mem-tables
  };
  Size ApproximateSize() const;

 private:
  ProjectionStore(std::shared_ptr<Db> db, eventlog::Offsets offsets,
                  Options options);

  // The current database, held for the duration of one read.
  std::shared_ptr<const Db> db() const;

  mutable absl::Mutex db_mu_;
  std::shared_ptr<const Db> db_ ABSL_GUARDED_BY(db_mu_);
  // As opened; `path` is that of the first database (see options()).
  const Options options_;

  // Serializes Commit so the cached offsets change in write order.
  absl::Mutex commit_mu_;
  mutable absl::Mutex offsets_mu_;
  eventlog::Offsets offsets_ ABSL_GUARDED_BY(offsets_mu_);
};

}  // namespace lotledger::projection

#endif  // LOTLEDGER_LIBS_PROJECTION_PROJECTION_STORE_H_
