#include "libs/projection/projection_store.h"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "libs/common/check.h"
#include "libs/common/hash.h"
#include "libs/common/status_macros.h"
#include "libs/storage/rocksdb_logger.h"
#include "libs/storage/rocksdb_status.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"

namespace lotledger::projection {
namespace {

rocksdb::Slice ToSlice(std::string_view s) {
  return rocksdb::Slice(s.data(), s.size());
}
std::string_view ToView(const rocksdb::Slice& s) {
  return std::string_view(s.data(), s.size());
}

void PutBigEndian(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) {
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
}
uint64_t GetBigEndian(std::string_view in) {
  uint64_t v = 0;
  for (char c : in) v = (v << 8) | static_cast<uint8_t>(c);
  return v;
}

std::string OffsetKey(const eventlog::TopicPartition& tp) {
  std::string key = tp.topic;
  key.push_back('\0');
  PutBigEndian(key, static_cast<uint32_t>(tp.partition), 4);
  return key;
}

absl::Status DecodeOffset(std::string_view key, std::string_view value,
                          eventlog::Offsets& out) {
  if (key.size() < 5 || key[key.size() - 5] != '\0' || value.size() != 8) {
    return absl::DataLossError(
        absl::StrCat("undecodable offset entry of ", key.size(), "+",
                     value.size(), " bytes in ", Sv(kOffsetsColumnFamily)));
  }
  eventlog::TopicPartition tp{
      std::string(key.substr(0, key.size() - 5)),
      static_cast<int32_t>(GetBigEndian(key.substr(key.size() - 4)))};
  out[std::move(tp)] = static_cast<int64_t>(GetBigEndian(value));
  return absl::OkStatus();
}

// Every column family gets the same options: the service decides which
// families are point-lookup state and which are scanned indexes, and the
// settings below cost little for the other kind.
rocksdb::ColumnFamilyOptions CfOptions(const MemoryBudget& memory) {
  rocksdb::BlockBasedTableOptions table;
  // Projectors read-modify-write state by key (Evolve), often for keys that
  // do not exist yet: a bloom filter answers most misses without touching a
  // data block. Whole-key filters are ignored by iterators, so scanned
  // index families pay only ~10 bits per key of space.
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  // Blocks, and index and filter partitions, in the process's one cache
  // (memory_budget.h).
  memory.ApplyTo(table);
  rocksdb::ColumnFamilyOptions cf;
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // A memtable takes memory in arena blocks of this size, so every family
  // with anything in it holds at least one: with RocksDB's 1 MiB default,
  // the ~40 families of an all-in-one process would hold ~40 MiB of the
  // budget's write-buffer share while nearly empty, and flush tiny files.
  cf.arena_block_size = 256 << 10;
  // LZ4 decompresses several times faster than Snappy for a similar ratio;
  // queries that hop from key to key (a genealogy trace) pay it per block.
  cf.compression = rocksdb::kLZ4Compression;
  // Bounds space amplification at ~1.1x for a store that is rewritten as
  // state evolves.
  cf.level_compaction_dynamic_level_bytes = true;
  return cf;
}

rocksdb::DBOptions DbOptions(const MemoryBudget& memory) {
  rocksdb::DBOptions db;
  // The memtables of every store of the process together stay within the
  // budget's write-buffer share; table files read through the cache
  // (memory_budget.h).
  memory.ApplyTo(db);
  db.create_if_missing = true;
  // Not a LOG file on the same disk: RocksDB aborts in it when the disk
  // fills (see rocksdb_logger.h).
  db.info_log = RocksLogger("projection");
  db.create_missing_column_families = true;
  // Flushes and compactions share two threads: services run on small nodes
  // (2 cores) next to the projector and gRPC threads.
  db.max_background_jobs = 2;
  // Spread write-back of SST and WAL files instead of bursts at fsync.
  db.bytes_per_sync = 1 << 20;
  db.wal_bytes_per_sync = 1 << 20;
  // After a power loss, keep the consistent prefix of the WAL and drop a
  // torn tail: the lost commits (and their offsets) are replayed from the
  // log. Stated explicitly because atomicity depends on it.
  db.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  // RocksDB's own LOG files would otherwise accumulate forever.
  db.keep_log_file_num = 3;
  return db;
}

}  // namespace

struct Db {
  struct ColumnFamily {
    rocksdb::ColumnFamilyHandle* handle;
    bool writable;
  };

  Db(std::unique_ptr<rocksdb::DB> db_in,
     std::vector<rocksdb::ColumnFamilyHandle*> handles_in, std::string path_in)
      : db(std::move(db_in)),
        handles(std::move(handles_in)),
        path(std::move(path_in)) {
    for (rocksdb::ColumnFamilyHandle* h : handles) {
      bool is_offsets = h->GetName() == kOffsetsColumnFamily;
      by_name.emplace(h->GetName(), ColumnFamily{h, !is_offsets});
      if (is_offsets) offsets_cf = h;
    }
  }
  ~Db() {
    for (rocksdb::ColumnFamilyHandle* h : handles) {
      db->DestroyColumnFamilyHandle(h);
    }
    // Close reports errors of a final flush; the WAL already holds every
    // commit, so there is nothing to add on failure.
    db->Close().PermitUncheckedError();
    if (closed != nullptr) closed->Notify();
  }

  // InvalidArgument when `cf` is unknown (or reserved and `for_write`).
  absl::StatusOr<rocksdb::ColumnFamilyHandle*> Handle(std::string_view cf,
                                                      bool for_write) const {
    auto it = by_name.find(cf);
    if (it == by_name.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown column family \"", Sv(cf), "\""));
    }
    if (for_write && !it->second.writable) {
      return absl::InvalidArgumentError(absl::StrCat(
          "column family \"", Sv(cf), "\" is written only through SetOffset"));
    }
    return it->second.handle;
  }

  std::unique_ptr<rocksdb::DB> db;
  // Owned; destroyed before db. Immutable after construction, so lookups
  // need no lock.
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  std::map<std::string, ColumnFamily, std::less<>> by_name;
  rocksdb::ColumnFamilyHandle* offsets_cf = nullptr;
  const std::string path;
  // Set by SwapIn on the database it replaces: notified once closed.
  // Mutable: the last reader's reference, a pointer to const, closes it.
  mutable absl::Notification* closed = nullptr;
};

absl::StatusOr<std::unique_ptr<ProjectionStore>> ProjectionStore::Open(
    const Options& options) {
  if (options.path.empty()) {
    return absl::InvalidArgumentError("ProjectionStore: empty path");
  }
  std::vector<std::string> names = {rocksdb::kDefaultColumnFamilyName,
                                    std::string(kOffsetsColumnFamily)};
  for (const std::string& name : options.column_families) {
    if (name.empty() || name == kOffsetsColumnFamily) {
      return absl::InvalidArgumentError(absl::StrCat(
          "ProjectionStore: column family name \"", name, "\" is reserved"));
    }
    names.push_back(name);
  }
  const std::shared_ptr<MemoryBudget> memory =
      options.memory != nullptr ? options.memory
                                : MemoryBudget::Create(kOwnBudgetBytes);
  rocksdb::DBOptions db_options = DbOptions(*memory);
  // options() names the budget in use, so a store opened with them (a
  // rebuild's) shares it.
  Options resolved = options;
  resolved.memory = memory;
  // Open every family the database already has: RocksDB refuses to open a
  // subset, and a service that stopped using a family must still open.
  std::error_code ec;
  if (std::filesystem::exists(std::filesystem::path(options.path) / "CURRENT",
                              ec)) {
    std::vector<std::string> existing;
    absl::Status s = FromRocks(
        rocksdb::DB::ListColumnFamilies(db_options, options.path, &existing),
        absl::StrCat("listing column families of ", options.path));
    if (!s.ok()) return s;
    names.insert(names.end(), existing.begin(), existing.end());
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names) {
    rocksdb::ColumnFamilyOptions cf = CfOptions(*memory);
    if (options.uncompressed_column_families.contains(name)) {
      cf.compression = rocksdb::kNoCompression;
    }
    descriptors.emplace_back(name, std::move(cf));
  }
  rocksdb::DB* raw_db = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  absl::Status s = FromRocks(rocksdb::DB::Open(db_options, options.path,
                                               descriptors, &handles, &raw_db),
                             absl::StrCat("opening projection ", options.path));
  if (!s.ok()) return s;
  std::unique_ptr<rocksdb::DB> db(raw_db);

  // Load the committed offsets.
  eventlog::Offsets offsets;
  rocksdb::ColumnFamilyHandle* offsets_cf = nullptr;
  for (rocksdb::ColumnFamilyHandle* h : handles) {
    if (h->GetName() == kOffsetsColumnFamily) offsets_cf = h;
  }
  CHECK(offsets_cf != nullptr);
  {
    std::unique_ptr<rocksdb::Iterator> it(
        db->NewIterator(rocksdb::ReadOptions(), offsets_cf));
    for (it->SeekToFirst(); it->Valid() && s.ok(); it->Next()) {
      s = DecodeOffset(ToView(it->key()), ToView(it->value()), offsets);
    }
    if (s.ok()) s = FromRocks(it->status(), "reading offsets");
  }
  if (!s.ok()) {
    for (rocksdb::ColumnFamilyHandle* h : handles) {
      db->DestroyColumnFamilyHandle(h);
    }
    return s;
  }
  return std::unique_ptr<ProjectionStore>(new ProjectionStore(
      std::make_shared<Db>(std::move(db), std::move(handles), options.path),
      std::move(offsets), std::move(resolved)));
}

absl::Status ProjectionStore::Destroy(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return absl::OkStatus();
  absl::Status s = FromRocks(rocksdb::DestroyDB(path, rocksdb::Options()),
                             absl::StrCat("destroying projection ", path));
  if (!s.ok()) return s;
  // DestroyDB leaves the directory when something else is in it; a
  // projection directory holds nothing else worth keeping.
  std::filesystem::remove_all(path, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("removing ", path, ": ", ec.message()));
  }
  return absl::OkStatus();
}

ProjectionStore::ProjectionStore(std::shared_ptr<Db> db,
                                 eventlog::Offsets offsets, Options options)
    : db_(std::move(db)),
      options_(std::move(options)),
      offsets_(std::move(offsets)) {}

// The database closes when the last reference (this store's or a read's)
// goes.
ProjectionStore::~ProjectionStore() = default;

std::shared_ptr<const Db> ProjectionStore::db() const {
  absl::ReaderMutexLock lock(&db_mu_);
  return db_;
}

ProjectionStore::Options ProjectionStore::options() const {
  Options o = options_;
  const std::shared_ptr<const Db> d = db();
  o.path = d != nullptr ? d->path : "";
  return o;
}

void ProjectionStore::SwapIn(ProjectionStore& other,
                             absl::Notification* closed_out) {
  CHECK(&other != this);
  absl::Notification closed_here;
  absl::Notification* closed =
      closed_out != nullptr ? closed_out : &closed_here;
  {
    // No commit may run on either store while the databases change hands.
    absl::MutexLock commit_lock(&commit_mu_);
    absl::MutexLock other_commit_lock(&other.commit_mu_);
    std::shared_ptr<const Db> old;
    {
      absl::MutexLock lock(&db_mu_);
      absl::MutexLock other_lock(&other.db_mu_);
      CHECK(other.db_ != nullptr);
      old = std::move(db_);
      db_ = std::move(other.db_);
      other.db_ = nullptr;
    }
    {
      absl::MutexLock lock(&offsets_mu_);
      absl::MutexLock other_lock(&other.offsets_mu_);
      offsets_ = std::move(other.offsets_);
      other.offsets_.clear();
    }
    old->closed = closed;
    // `old` goes out of scope here; a read still holding the database
    // closes it when it ends.
  }
  if (closed_out == nullptr) closed_here.WaitForNotification();
}

ProjectionStore::Size ProjectionStore::ApproximateSize() const {
  Size size;
  const std::shared_ptr<const Db> d = db();
  for (rocksdb::ColumnFamilyHandle* h : d->handles) {
    uint64_t v = 0;
    if (d->db->GetIntProperty(h, "rocksdb.total-sst-files-size", &v)) {
      size.sst_files_bytes += v;
    }
    if (d->db->GetIntProperty(h, "rocksdb.estimate-live-data-size", &v)) {
      size.live_data_bytes += v;
    }
    if (d->db->GetIntProperty(h, "rocksdb.cur-size-all-mem-tables", &v)) {
      size.memtable_bytes += v;
    }
  }
  return size;
}

absl::StatusOr<std::optional<std::string>> ProjectionStore::Get(
    std::string_view cf, std::string_view key) const {
  const std::shared_ptr<const Db> d = db();
  absl::StatusOr<rocksdb::ColumnFamilyHandle*> h = d->Handle(cf, false);
  if (!h.ok()) return h.status();
  rocksdb::PinnableSlice value;
  rocksdb::Status s =
      d->db->Get(rocksdb::ReadOptions(), *h, ToSlice(key), &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) return FromRocks(s, absl::StrCat("get in ", Sv(cf)));
  return std::string(ToView(value));
}

absl::StatusOr<std::vector<std::optional<std::string>>>
ProjectionStore::MultiGet(std::string_view cf,
                          const std::vector<std::string>& keys) const {
  const std::shared_ptr<const Db> d = db();
  absl::StatusOr<rocksdb::ColumnFamilyHandle*> h = d->Handle(cf, false);
  if (!h.ok()) return h.status();
  std::vector<rocksdb::Slice> slices;
  slices.reserve(keys.size());
  for (const std::string& k : keys) slices.emplace_back(k);
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  // One batched lookup: RocksDB groups the keys by table file and block.
  d->db->MultiGet(rocksdb::ReadOptions(), *h, keys.size(), slices.data(),
                  values.data(), statuses.data());
  std::vector<std::optional<std::string>> out(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    if (!statuses[i].ok()) {
      return FromRocks(statuses[i], absl::StrCat("multi-get in ", Sv(cf)));
    }
    out[i] = std::string(ToView(values[i]));
  }
  return out;
}

absl::Status ProjectionStore::Scan(
    std::string_view cf, std::string_view prefix, std::string_view start_after,
    const std::function<bool(std::string_view key, std::string_view value)>& fn)
    const {
  // `d` outlives the iterator (declared first, destroyed last).
  const std::shared_ptr<const Db> d = db();
  absl::StatusOr<rocksdb::ColumnFamilyHandle*> h = d->Handle(cf, false);
  if (!h.ok()) return h.status();
  // An iterator reads one implicit snapshot, so a page is consistent even
  // while the projector commits.
  std::unique_ptr<rocksdb::Iterator> it(
      d->db->NewIterator(rocksdb::ReadOptions(), *h));
  std::string_view target = std::max(prefix, start_after);
  it->Seek(ToSlice(target));
  if (!start_after.empty() && it->Valid() && ToView(it->key()) == start_after) {
    it->Next();
  }
  for (; it->Valid(); it->Next()) {
    std::string_view key = ToView(it->key());
    if (!key.starts_with(prefix)) break;
    if (!fn(key, ToView(it->value()))) break;
  }
  return FromRocks(it->status(), absl::StrCat("scan of ", Sv(cf)));
}

eventlog::Offsets ProjectionStore::Offsets() const {
  absl::MutexLock lock(&offsets_mu_);
  return offsets_;
}

ProjectionStore::Batch ProjectionStore::NewBatch() const { return Batch(this); }

ProjectionStore::Batch::Batch(const ProjectionStore* store)
    : store_(store), db_(store->db()) {}
ProjectionStore::Batch::Batch(Batch&&) noexcept = default;
ProjectionStore::Batch& ProjectionStore::Batch::operator=(Batch&&) noexcept =
    default;
ProjectionStore::Batch::~Batch() = default;

void ProjectionStore::Batch::Put(std::string_view cf, std::string_view key,
                                 std::string_view value) {
  CHECK(db_ != nullptr);  // used after move
  absl::StatusOr<rocksdb::ColumnFamilyHandle*> h = db_->Handle(cf, true);
  if (!h.ok()) {
    if (error_.ok()) error_ = h.status();
    return;
  }
  writes_.insert_or_assign({*h, std::string(key)}, std::string(value));
}

void ProjectionStore::Batch::Delete(std::string_view cf, std::string_view key) {
  CHECK(db_ != nullptr);
  absl::StatusOr<rocksdb::ColumnFamilyHandle*> h = db_->Handle(cf, true);
  if (!h.ok()) {
    if (error_.ok()) error_ = h.status();
    return;
  }
  writes_.insert_or_assign({*h, std::string(key)}, std::nullopt);
}

void ProjectionStore::Batch::SetOffset(const eventlog::TopicPartition& tp,
                                       int64_t next_offset) {
  CHECK(db_ != nullptr);
  // The key encoding uses '\0' as the topic terminator; Kafka topic names
  // cannot contain it, so this is bad input rather than a broken invariant.
  if (tp.topic.find('\0') != std::string::npos || next_offset < 0 ||
      tp.partition < 0) {
    if (error_.ok()) {
      error_ = absl::InvalidArgumentError(absl::StrCat(
          "bad offset ", next_offset, " for partition ", tp.partition,
          " of topic of ", tp.topic.size(), " bytes"));
    }
    return;
  }
  offsets_[tp] = next_offset;
}

absl::StatusOr<std::optional<std::string>> ProjectionStore::Batch::Get(
    std::string_view cf, std::string_view key) const {
  CHECK(db_ != nullptr);
  absl::StatusOr<rocksdb::ColumnFamilyHandle*> h = db_->Handle(cf, false);
  if (!h.ok()) return h.status();
  if (auto it = writes_.find({*h, std::string(key)}); it != writes_.end()) {
    return it->second;
  }
  rocksdb::PinnableSlice value;
  rocksdb::Status s =
      db_->db->Get(rocksdb::ReadOptions(), *h, ToSlice(key), &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) return FromRocks(s, absl::StrCat("batch get in ", Sv(cf)));
  return std::string(ToView(value));
}

bool ProjectionStore::Batch::empty() const {
  CHECK(db_ != nullptr);
  return error_.ok() && offsets_.empty() && writes_.empty();
}

absl::Status ProjectionStore::Commit(Batch batch) {
  CHECK(batch.store_ == this);  // a batch of another store: a caller bug
  if (!batch.error_.ok()) return batch.error_;
  if (batch.empty()) return absl::OkStatus();
  rocksdb::WriteBatch writes;
  for (const auto& [where, value] : batch.writes_) {
    const auto& [cf, key] = where;
    rocksdb::Status s = value.has_value()
                            ? writes.Put(cf, ToSlice(key), ToSlice(*value))
                            : writes.Delete(cf, ToSlice(key));
    if (!s.ok()) return FromRocks(s, "batch write");
  }
  // The offsets ride in the same WriteBatch as the state: this is what
  // makes "applied" and "consumed" one fact after a crash.
  for (const auto& [tp, offset] : batch.offsets_) {
    std::string value;
    PutBigEndian(value, static_cast<uint64_t>(offset), 8);
    rocksdb::Status s = writes.Put(batch.db_->offsets_cf, OffsetKey(tp), value);
    if (!s.ok()) return FromRocks(s, "batch offsets");
  }
  rocksdb::WriteOptions write_options;
  write_options.sync = options_.sync_writes;
  absl::MutexLock commit_lock(&commit_mu_);
  if (batch.db_ != db()) {
    return absl::FailedPreconditionError(
        "the projection's database was switched after this batch was made");
  }
  absl::Status s = FromRocks(batch.db_->db->Write(write_options, &writes),
                             "committing projection batch");
  if (!s.ok()) return s;
  absl::MutexLock lock(&offsets_mu_);
  for (const auto& [tp, offset] : batch.offsets_) offsets_[tp] = offset;
  return absl::OkStatus();
}

absl::Status ProjectionStore::Compact() {
  rocksdb::CompactRangeOptions options;
  // Rewrite the bottommost level too, so the result does not depend on
  // which files happened to be there.
  options.bottommost_level_compaction =
      rocksdb::BottommostLevelCompaction::kForceOptimized;
  const std::shared_ptr<const Db> d = db();
  for (rocksdb::ColumnFamilyHandle* h : d->handles) {
    absl::Status s =
        FromRocks(d->db->CompactRange(options, h, nullptr, nullptr),
                  absl::StrCat("compacting ", h->GetName()));
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

// Encoding hashed, per non-empty column family in name order:
//   'C' u32be(len(name)) name, then per key in order:
//   'R' u32be(len(key)) key u32be(len(value)) value.
// The stream is hashed in chunks that end after the first record reaching
// 1 MiB: h = SHA-256(h || chunk), h starting empty, and always once more
// at the end (SHA-256 of "" for an empty store). Chunk boundaries depend
// only on the contents, so the result is a function of the keys and values.
// (lotledger_common offers one-shot SHA-256 only; chaining keeps memory flat.)
namespace {

// Digest() over `d` as of `snapshot`.
absl::StatusOr<std::string> DigestOf(const Db& d,
                                     const rocksdb::Snapshot* snapshot) {
  constexpr size_t kChunk = 1 << 20;
  rocksdb::ReadOptions read_options;
  read_options.snapshot = snapshot;
  // A digest reads everything once; don't evict the projector's working set.
  read_options.fill_cache = false;
  std::string h;
  std::string chunk;
  for (const auto& [name, cf] : d.by_name) {
    std::unique_ptr<rocksdb::Iterator> it(
        d.db->NewIterator(read_options, cf.handle));
    bool first = true;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (first) {
        chunk.push_back('C');
        PutBigEndian(chunk, name.size(), 4);
        chunk.append(name);
        first = false;
      }
      chunk.push_back('R');
      PutBigEndian(chunk, it->key().size(), 4);
      chunk.append(it->key().data(), it->key().size());
      PutBigEndian(chunk, it->value().size(), 4);
      chunk.append(it->value().data(), it->value().size());
      if (chunk.size() >= kChunk) {
        h = Sha256(h + chunk);
        chunk.clear();
      }
    }
    absl::Status status =
        FromRocks(it->status(), absl::StrCat("digest of ", name));
    if (!status.ok()) return status;
  }
  return HexEncode(Sha256(h + chunk));
}

// A snapshot of a database, released with the last reference.
struct PinnedSnapshot {
  explicit PinnedSnapshot(std::shared_ptr<const Db> d)
      : db(std::move(d)), snapshot(db->db->GetSnapshot()) {}
  ~PinnedSnapshot() { db->db->ReleaseSnapshot(snapshot); }
  std::shared_ptr<const Db> db;
  const rocksdb::Snapshot* snapshot;
};

}  // namespace

absl::StatusOr<std::string> ProjectionStore::Digest() const {
  PinnedSnapshot pinned(db());
  return DigestOf(*pinned.db, pinned.snapshot);
}

std::function<absl::StatusOr<std::string>()> ProjectionStore::DigestLater()
    const {
  auto pinned = std::make_shared<PinnedSnapshot>(db());
  return [pinned] { return DigestOf(*pinned->db, pinned->snapshot); };
}

}  // namespace lotledger::projection
