#include "libs/eventlog/embedded/embedded_event_log.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/backup_engine.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>

#include <deque>
#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "libs/common/check.h"
#include "libs/common/hash.h"
#include "libs/common/status_macros.h"
#include "libs/eventlog/commit_observers.h"
#include "libs/storage/rocksdb_logger.h"
#include "libs/storage/rocksdb_status.h"
#include "lotledger/v1/embedded_log.pb.h"

namespace lotledger::eventlog {
namespace {

// Key layout. Records: 'r' topic '\0' partition(4, BE) offset(8, BE), so a
// partition's records sort by offset. Topics: 't' topic -> partitions(4, BE).
constexpr char kRecordPrefix = 'r';
constexpr char kTopicPrefix = 't';

void PutBigEndian(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i)
    out.push_back(static_cast<char>(v >> (8 * i)));
}

uint64_t GetBigEndian(std::string_view in) {
  uint64_t v = 0;
  for (unsigned char c : in) v = (v << 8) | c;
  return v;
}

std::string PartitionPrefix(std::string_view topic, int32_t partition) {
  std::string k;
  k.reserve(topic.size() + 6);
  k.push_back(kRecordPrefix);
  k.append(topic);
  k.push_back('\0');
  PutBigEndian(k, static_cast<uint32_t>(partition), 4);
  return k;
}

std::string RecordKey(std::string_view topic, int32_t partition,
                      int64_t offset) {
  std::string k = PartitionPrefix(topic, partition);
  PutBigEndian(k, static_cast<uint64_t>(offset), 8);
  return k;
}

std::string TopicKey(std::string_view topic) {
  std::string k(1, kTopicPrefix);
  k.append(topic);
  return k;
}

// State shared by the log and its readers.
struct Core {
  std::unique_ptr<rocksdb::DB> db;
  std::string path;
  bool sync = true;

  absl::Mutex mu;
  // Committed end offset per partition; readers never read past it.
  std::map<TopicPartition, int64_t> end ABSL_GUARDED_BY(mu);
  std::map<std::string, int32_t, std::less<>> partitions ABSL_GUARDED_BY(mu);
};

class EmbeddedLogReader final : public LogReader {
 public:
  EmbeddedLogReader(std::shared_ptr<Core> core, Offsets next)
      : core_(std::move(core)), next_(std::move(next)) {}

  absl::StatusOr<PollResult> Poll(size_t max_records,
                                  absl::Duration timeout) override {
    const absl::Time deadline = absl::Now() + timeout;
    Offsets limit;
    {
      absl::MutexLock l(&core_->mu);
      // Evaluated by whichever thread releases the mutex (a commit), so a
      // reader is woken only when one of its own partitions grew: a commit
      // to one topic does not wake the readers of every other topic.
      auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(core_->mu) {
        return Available(limit) || woken_;
      };
      core_->mu.AwaitWithDeadline(absl::Condition(&ready), deadline);
      Available(limit);  // the ends as of now, whoever evaluated it last
      woken_ = false;
    }
    PollResult result;
    // Share one poll between the partitions that have records, so a busy
    // partition cannot starve the others (a consumer of all of them waits
    // for the slowest).
    size_t ready = 0;
    for (const auto& [tp, next] : next_) ready += next < limit[tp] ? 1 : 0;
    const size_t share =
        std::max<size_t>(1, max_records / std::max<size_t>(1, ready));
    for (auto& [tp, next] : next_) {
      const int64_t end = limit[tp];
      if (next < end && result.records.size() < max_records) {
        const size_t cap = std::min(max_records, result.records.size() + share);
        ASSIGN_OR_RETURN(next, ReadRange(tp, next, end, cap, result.records));
      }
      result.next_offsets[tp] = next;
    }
    return result;
  }

  void Wakeup() override {
    absl::MutexLock l(&core_->mu);
    woken_ = true;
  }

 private:
  // Snapshot of each assigned partition's committed end; true when any has
  // records beyond our position.
  bool Available(Offsets& limit) ABSL_EXCLUSIVE_LOCKS_REQUIRED(core_->mu) {
    bool any = false;
    for (const auto& [tp, next] : next_) {
      auto it = core_->end.find(tp);
      const int64_t end = it == core_->end.end() ? 0 : it->second;
      limit[tp] = end;
      any |= next < end;
    }
    return any;
  }

  // Appends the records of `tp` from `from` (below `end`) to `out` until it
  // holds `max_records`; returns the offset after the last one read.
  absl::StatusOr<int64_t> ReadRange(const TopicPartition& tp, int64_t from,
                                    int64_t end, size_t max_records,
                                    std::vector<Record>& out) {
    const std::string upper = RecordKey(tp.topic, tp.partition, end);
    rocksdb::Slice upper_slice(upper);
    rocksdb::ReadOptions ro;
    ro.iterate_upper_bound = &upper_slice;
    // A reader passes over each block once: keeping the blocks would only
    // evict what the cache (the process's, shared with the projections)
    // holds for lookups. The iterator keeps its current block meanwhile.
    ro.fill_cache = false;
    std::unique_ptr<rocksdb::Iterator> it(core_->db->NewIterator(ro));
    const size_t prefix_len = PartitionPrefix(tp.topic, tp.partition).size();
    int64_t expected = from;
    for (it->Seek(RecordKey(tp.topic, tp.partition, from));
         it->Valid() && out.size() < max_records; it->Next()) {
      const rocksdb::Slice key = it->key();
      const int64_t offset = static_cast<int64_t>(GetBigEndian(
          std::string_view(key.data() + prefix_len, key.size() - prefix_len)));
      if (offset != expected) {
        return absl::DataLossError(absl::StrCat(
            "embedded log ", tp.topic, "/", tp.partition, ": offset ", expected,
            " is missing (found ", offset, ")"));
      }
      v1::EmbeddedRecord stored;
      if (!stored.ParseFromArray(it->value().data(),
                                 static_cast<int>(it->value().size()))) {
        return absl::DataLossError(
            absl::StrCat("embedded log ", tp.topic, "/", tp.partition,
                         " offset ", offset, ": stored record is unreadable"));
      }
      Record r;
      r.topic = tp.topic;
      r.partition = tp.partition;
      r.offset = offset;
      r.key = std::move(*stored.mutable_key());
      r.value = std::move(*stored.mutable_value());
      for (auto& h : *stored.mutable_headers()) {
        r.headers.push_back(
            {std::move(*h.mutable_key()), std::move(*h.mutable_value())});
      }
      r.timestamp = absl::FromUnixMicros(stored.timestamp_micros());
      out.push_back(std::move(r));
      ++expected;
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "read embedded log"));
    if (expected == from && from < end) {
      return absl::DataLossError(absl::StrCat("embedded log ", tp.topic, "/",
                                              tp.partition, ": offset ", from,
                                              " is missing"));
    }
    return expected;
  }

  std::shared_ptr<Core> core_;
  Offsets next_;
  bool woken_ ABSL_GUARDED_BY(core_->mu) = false;
};

class EmbeddedEventLog final : public EventLog {
 public:
  explicit EmbeddedEventLog(std::shared_ptr<Core> core)
      : core_(std::move(core)) {}

  rocksdb::DB* db() { return core_->db.get(); }
  const std::string& path() const { return core_->path; }

  absl::Status EnsureTopic(std::string_view topic,
                           int32_t partitions) override {
    if (topic.empty()) return absl::InvalidArgumentError("topic: empty");
    if (partitions < 1) {
      return absl::InvalidArgumentError("partitions: must be at least 1");
    }
    absl::MutexLock l(&core_->mu);
    auto it = core_->partitions.find(topic);
    if (it != core_->partitions.end()) {
      if (it->second != partitions) {
        return absl::FailedPreconditionError(absl::StrCat(
            "topic ", Sv(topic), " has ", it->second, " partitions, not ",
            partitions, "; changing it would move keys between partitions"));
      }
      return absl::OkStatus();
    }
    std::string value;
    PutBigEndian(value, static_cast<uint32_t>(partitions), 4);
    rocksdb::WriteOptions wo;
    wo.sync = true;
    RETURN_IF_ERROR(
        FromRocks(core_->db->Put(wo, TopicKey(topic), value), "create topic"));
    core_->partitions.emplace(std::string(topic), partitions);
    for (int32_t p = 0; p < partitions; ++p) {
      core_->end.emplace(TopicPartition{std::string(topic), p}, 0);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<int32_t> PartitionCount(std::string_view topic) override {
    absl::MutexLock l(&core_->mu);
    auto it = core_->partitions.find(topic);
    if (it == core_->partitions.end()) {
      return absl::NotFoundError(
          absl::StrCat("topic ", Sv(topic), " does not exist"));
    }
    return it->second;
  }

  absl::StatusOr<std::vector<Position>> Append(
      std::string_view topic, std::vector<OutgoingRecord> records) override {
    if (records.empty()) {
      return absl::InvalidArgumentError("records: at least one is required");
    }
    for (const auto& r : records) {
      if (r.key.empty()) {
        return absl::InvalidArgumentError("record key: must not be empty");
      }
    }
    Pending me{std::string(topic), std::move(records)};
    absl::MutexLock l(&commit_mu_);
    queue_.push_back(&me);
    // Wait until a leader has committed us, or until we can lead.
    auto done_or_can_lead = [&]() { return me.done || !committing_; };
    commit_mu_.Await(absl::Condition(&done_or_can_lead));
    if (me.done) return std::move(me.result);
    LeadCommit();
    CHECK(me.done);
    return std::move(me.result);
  }

  absl::StatusOr<int64_t> EndOffset(std::string_view topic,
                                    int32_t partition) override {
    absl::MutexLock l(&core_->mu);
    auto it = core_->end.find(TopicPartition{std::string(topic), partition});
    if (it == core_->end.end()) {
      return absl::NotFoundError(absl::StrCat("partition ", Sv(topic), "/",
                                              partition, " does not exist"));
    }
    return it->second;
  }

  // Under one lock: every release of core_->mu evaluates each waiting
  // reader's condition, so a read barrier over twelve partitions would pay
  // that twelve times.
  absl::StatusOr<Offsets> EndOffsets(
      const std::vector<TopicPartition>& partitions,
      absl::Time deadline) override {
    (void)deadline;
    Offsets ends;
    absl::MutexLock l(&core_->mu);
    for (const TopicPartition& tp : partitions) {
      auto it = core_->end.find(tp);
      if (it == core_->end.end()) {
        return absl::NotFoundError(absl::StrCat(
            "partition ", tp.topic, "/", tp.partition, " does not exist"));
      }
      ends.emplace(tp, it->second);
    }
    return ends;
  }

  bool ObserveCommits(const std::string& topic,
                      CommitObserver observer) override {
    observers_.Set(topic, std::move(observer));
    return true;
  }

  absl::StatusOr<std::unique_ptr<LogReader>> OpenReader(
      const Offsets& start) override {
    absl::MutexLock l(&core_->mu);
    for (const auto& [tp, offset] : start) {
      if (!core_->end.contains(tp)) {
        return absl::NotFoundError(absl::StrCat(
            "partition ", tp.topic, "/", tp.partition, " does not exist"));
      }
      if (offset < 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "start offset for ", tp.topic, "/", tp.partition, ": negative"));
      }
    }
    return std::unique_ptr<LogReader>(new EmbeddedLogReader(core_, start));
  }

 private:
  struct Pending {
    std::string topic;
    std::vector<OutgoingRecord> records;
    bool done = false;
    absl::StatusOr<std::vector<Position>> result =
        absl::InternalError("not committed");
  };

  // Commits every queued append in one synced WriteBatch. Called with
  // commit_mu_ held and no other leader; releases it during the write so
  // new appenders can queue for the next round.
  void LeadCommit() ABSL_EXCLUSIVE_LOCKS_REQUIRED(commit_mu_) {
    committing_ = true;
    std::vector<Pending*> group(queue_.begin(), queue_.end());
    queue_.clear();

    rocksdb::WriteBatch batch;
    std::map<TopicPartition, int64_t> end;
    std::vector<Record> observed;  // for the commit observers
    {
      absl::MutexLock l(&core_->mu);
      end = core_->end;
      const int64_t now_us = absl::ToUnixMicros(absl::Now());
      for (Pending* p : group) {
        auto parts = core_->partitions.find(p->topic);
        if (parts == core_->partitions.end()) {
          p->result = absl::NotFoundError(
              absl::StrCat("topic ", p->topic, " does not exist"));
          continue;
        }
        std::vector<Position> positions;
        for (const OutgoingRecord& r : p->records) {
          const int32_t partition = PartitionForKey(r.key, parts->second);
          int64_t& next = end[TopicPartition{p->topic, partition}];
          v1::EmbeddedRecord stored;
          stored.set_key(r.key);
          stored.set_value(r.value);
          for (const Header& h : r.headers) {
            auto* sh = stored.add_headers();
            sh->set_key(h.key);
            sh->set_value(h.value);
          }
          stored.set_timestamp_micros(now_us);
          batch.Put(RecordKey(p->topic, partition, next),
                    stored.SerializeAsString());
          if (observers_.Observed(p->topic)) {
            observed.push_back(
                Record{.topic = p->topic,
                       .partition = partition,
                       .offset = next,
                       .key = r.key,
                       .value = r.value,
                       .headers = r.headers,
                       .timestamp = absl::FromUnixMicros(now_us)});
          }
          positions.push_back({partition, next});
          ++next;
        }
        p->result = std::move(positions);
      }
    }

    commit_mu_.Unlock();
    rocksdb::WriteOptions wo;
    wo.sync = core_->sync;
    absl::Status written;
    if (resume_needed_) {
      // A failed write (disk full, I/O error) leaves RocksDB read-only
      // until resumed: it switches to a fresh WAL once there is room, so
      // appends work again without a restart. Nothing of the failed write
      // was acknowledged or becomes readable. Busy: RocksDB's own recovery
      // is waiting for free space; the write below then reports the
      // original error (a full disk stays ResourceExhausted).
      const rocksdb::Status resumed = core_->db->Resume();
      if (!resumed.ok() && !resumed.IsBusy()) {
        written = FromRocks(resumed, "append to embedded log");
      }
    }
    if (written.ok()) {
      written =
          FromRocks(core_->db->Write(wo, &batch), "append to embedded log");
    }
    resume_needed_ = !written.ok();
    // Still the only leader: the next group's records cannot reach the
    // observers before these.
    if (written.ok()) observers_.Notify(std::move(observed));
    commit_mu_.Lock();

    if (written.ok()) {
      absl::MutexLock l(&core_->mu);
      core_->end = std::move(end);  // wakes the readers it concerns
    }
    for (Pending* p : group) {
      if (!written.ok() && p->result.ok()) p->result = written;
      p->done = true;
    }
    committing_ = false;
  }

  std::shared_ptr<Core> core_;
  CommitObservers observers_;
  absl::Mutex commit_mu_;
  std::deque<Pending*> queue_ ABSL_GUARDED_BY(commit_mu_);
  bool committing_ ABSL_GUARDED_BY(commit_mu_) = false;
  // The last write failed; the next leader resumes the database first.
  // Only the leader (committing_) touches it.
  bool resume_needed_ = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<EventLog>> OpenEmbeddedEventLog(
    const EmbeddedOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(options.path, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create embedded log directory ", options.path,
                     ": ", ec.message()));
  }
  auto core = std::make_shared<Core>();
  core->sync = options.sync;
  core->path = options.path;
  rocksdb::Options ro;
  ro.create_if_missing = true;
  ro.disable_auto_compactions = !options.auto_compactions;
  // Appends are sequential per partition and readers scan forward: favour
  // write throughput and keep the WAL as the durability point.
  ro.IncreaseParallelism(2);
  ro.enable_pipelined_write = true;
  // Not a LOG file on the same disk: RocksDB aborts in it when the disk
  // fills (see rocksdb_logger.h); a full disk must fail appends cleanly.
  ro.info_log = RocksLogger("embedded log");
  if (options.memory != nullptr) {
    // Under the process's budget (memory_budget.h). It changes where
    // blocks and memtables are held, never when an append is durable: the
    // WAL is written and synced per append as without it.
    rocksdb::BlockBasedTableOptions table;
    options.memory->ApplyTo(table);
    ro.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    options.memory->ApplyTo(static_cast<rocksdb::DBOptions&>(ro));
  }
  rocksdb::DB* db = nullptr;
  RETURN_IF_ERROR(FromRocks(rocksdb::DB::Open(ro, options.path, &db),
                            absl::StrCat("open embedded log ", options.path)));
  core->db.reset(db);

  // Recover topics and each partition's end offset.
  absl::MutexLock l(&core->mu);
  std::unique_ptr<rocksdb::Iterator> it(
      db->NewIterator(rocksdb::ReadOptions()));
  const std::string topic_prefix(1, kTopicPrefix);
  for (it->Seek(topic_prefix);
       it->Valid() && it->key().starts_with(topic_prefix); it->Next()) {
    std::string topic = it->key().ToString().substr(1);
    if (it->value().size() != 4) {
      return absl::DataLossError(
          absl::StrCat("embedded log: topic entry for ", topic, " is damaged"));
    }
    const auto parts =
        static_cast<int32_t>(GetBigEndian(it->value().ToStringView()));
    core->partitions[topic] = parts;
    for (int32_t p = 0; p < parts; ++p) {
      std::unique_ptr<rocksdb::Iterator> last(
          db->NewIterator(rocksdb::ReadOptions()));
      const std::string prefix = PartitionPrefix(topic, p);
      last->SeekForPrev(RecordKey(topic, p, INT64_MAX));
      int64_t end = 0;
      if (last->Valid() && last->key().starts_with(prefix)) {
        end = static_cast<int64_t>(GetBigEndian(
                  last->key().ToStringView().substr(prefix.size()))) +
              1;
      }
      RETURN_IF_ERROR(FromRocks(last->status(), "recover embedded log"));
      core->end[TopicPartition{topic, p}] = end;
    }
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "recover embedded log"));
  return std::unique_ptr<EventLog>(
      std::make_unique<EmbeddedEventLog>(std::move(core)));
}

namespace {

absl::StatusOr<EmbeddedEventLog*> AsEmbedded(EventLog& log) {
  auto* embedded = dynamic_cast<EmbeddedEventLog*>(&log);
  if (embedded == nullptr) {
    return absl::FailedPreconditionError(
        "not an embedded log: a Kafka log is backed up by mirroring its "
        "topics (docs/backup.md)");
  }
  return embedded;
}

// Every backup directory is opened with these options (BackupEngine wants
// the same ones each time): table files shared between backups and named
// by their checksum, so two different files never share a name.
absl::StatusOr<std::unique_ptr<rocksdb::BackupEngine>> OpenBackupEngine(
    const std::string& backup_dir, uint64_t progress_bytes = 4 << 20) {
  rocksdb::BackupEngineOptions options(backup_dir);
  options.share_table_files = true;
  options.share_files_with_checksum = true;
  options.max_background_operations = 2;
  options.callback_trigger_interval_size =
      std::max<uint64_t>(1, progress_bytes);
  rocksdb::BackupEngine* engine = nullptr;
  RETURN_IF_ERROR(FromRocks(
      rocksdb::BackupEngine::Open(options, rocksdb::Env::Default(), &engine),
      absl::StrCat("open backup directory ", backup_dir)));
  return std::unique_ptr<rocksdb::BackupEngine>(engine);
}

EmbeddedBackupInfo ToInfo(const rocksdb::BackupInfo& b) {
  return EmbeddedBackupInfo{.id = b.backup_id,
                            .timestamp = b.timestamp,
                            .size_bytes = b.size,
                            .files = b.number_files,
                            .metadata = b.app_metadata};
}

}  // namespace

absl::Status CheckpointEmbeddedEventLog(EventLog& log, const std::string& dir) {
  ASSIGN_OR_RETURN(EmbeddedEventLog * embedded, AsEmbedded(log));
  rocksdb::Checkpoint* checkpoint = nullptr;
  RETURN_IF_ERROR(
      FromRocks(rocksdb::Checkpoint::Create(embedded->db(), &checkpoint),
                "checkpoint embedded log"));
  std::unique_ptr<rocksdb::Checkpoint> owned(checkpoint);
  // 0: flush the memtable first, so the copy is table files (shared by
  // later backups) and no write-ahead log to replay.
  return FromRocks(owned->CreateCheckpoint(dir, /*log_size_for_flush=*/0),
                   absl::StrCat("checkpoint embedded log into ", dir));
}

std::string EmbeddedEventLogPath(EventLog& log) {
  auto* embedded = dynamic_cast<EmbeddedEventLog*>(&log);
  return embedded == nullptr ? "" : embedded->path();
}

absl::StatusOr<EmbeddedBackupInfo> AddEmbeddedBackup(
    EventLog& log, const std::string& backup_dir, const std::string& metadata,
    uint64_t progress_bytes, const std::function<void()>& progress) {
  ASSIGN_OR_RETURN(EmbeddedEventLog * embedded, AsEmbedded(log));
  std::error_code ec;
  std::filesystem::create_directories(backup_dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot create backup directory ", backup_dir, ": ", ec.message()));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<rocksdb::BackupEngine> engine,
                   OpenBackupEngine(backup_dir, progress_bytes));
  rocksdb::CreateBackupOptions create;
  create.flush_before_backup = true;
  create.progress_callback = progress;
  rocksdb::BackupID id = 0;
  RETURN_IF_ERROR(FromRocks(engine->CreateNewBackupWithMetadata(
                                create, embedded->db(), metadata, &id),
                            absl::StrCat("back up into ", backup_dir)));
  rocksdb::BackupInfo info;
  RETURN_IF_ERROR(FromRocks(engine->GetBackupInfo(id, &info),
                            absl::StrCat("read backup ", id)));
  return ToInfo(info);
}

absl::StatusOr<std::vector<EmbeddedBackupInfo>> ListEmbeddedBackups(
    const std::string& backup_dir) {
  if (!std::filesystem::exists(std::filesystem::path(backup_dir) / "meta")) {
    return absl::NotFoundError(
        absl::StrCat(backup_dir, " holds no backup (no meta/ directory)"));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<rocksdb::BackupEngine> engine,
                   OpenBackupEngine(backup_dir));
  std::vector<rocksdb::BackupInfo> infos;
  engine->GetBackupInfo(&infos);
  if (infos.empty()) {
    return absl::NotFoundError(absl::StrCat(backup_dir, " holds no backup"));
  }
  std::vector<EmbeddedBackupInfo> out;
  for (const rocksdb::BackupInfo& b : infos) out.push_back(ToInfo(b));
  return out;
}

absl::Status RestoreEmbeddedBackup(const std::string& backup_dir, uint32_t id,
                                   const std::string& db_dir) {
  ASSIGN_OR_RETURN(std::vector<EmbeddedBackupInfo> backups,
                   ListEmbeddedBackups(backup_dir));
  if (id == 0) id = backups.back().id;
  ASSIGN_OR_RETURN(std::unique_ptr<rocksdb::BackupEngine> engine,
                   OpenBackupEngine(backup_dir));
  absl::Status verified =
      FromRocks(engine->VerifyBackup(id, /*verify_with_checksum=*/true),
                absl::StrCat("verify backup ", id, " in ", backup_dir));
  if (!verified.ok()) {
    if (verified.code() == absl::StatusCode::kNotFound) return verified;
    return absl::DataLossError(verified.message());
  }
  return FromRocks(engine->RestoreDBFromBackup(rocksdb::RestoreOptions(), id,
                                               db_dir, db_dir),
                   absl::StrCat("restore backup ", id, " into ", db_dir));
}

}  // namespace lotledger::eventlog
