// EmbeddedEventLog: the EventLog on a local RocksDB database, for a single
// machine (lotledgerd) with no broker. Same topics, partitions and offsets
// as Kafka; offsets are contiguous here.
//
// Durability: Append returns only after its records are in the RocksDB WAL
// and the WAL is fsynced. Concurrent appenders share one fsync (group
// commit): the first waiting appender becomes the leader, writes every
// queued append in one WriteBatch, syncs once, and wakes the others.
//
// Backup (docs/backup.md): CheckpointEmbeddedEventLog takes a consistent
// copy of a live log without stopping its appends; AddEmbeddedBackup keeps
// copies of a log in a backup directory (RocksDB BackupEngine) where files
// unchanged since an earlier backup are shared, not copied again;
// RestoreEmbeddedBackup writes one back as a database directory.
//
// Memory: with EmbeddedOptions::memory, the log's RocksDB is charged to the
// process's one budget (libs/projection/memory_budget.h): its blocks and
// partitioned index and filter blocks in the shared cache, its memtables
// in the shared write buffers. Without, RocksDB's defaults (its own small
// cache; index and filter blocks beside the table files).
//
// Thread-safety: all methods may be called from any thread. Readers must be
// destroyed before the log. The backup functions may run while the log
// serves; two backups into one backup directory must not run at once.
#ifndef LOTLEDGER_LIBS_EVENTLOG_EMBEDDED_EMBEDDED_EVENT_LOG_H_
#define LOTLEDGER_LIBS_EVENTLOG_EMBEDDED_EMBEDDED_EVENT_LOG_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/eventlog/event_log.h"
#include "libs/projection/memory_budget.h"

namespace lotledger::eventlog {

struct EmbeddedOptions {
  std::string path;  // directory of the database; created when missing
  // Sync the WAL before an append returns. Only tests of throughput limits
  // turn this off.
  bool sync = true;
  // Background compactions. Off for a copy that is only read and backed up
  // (a checkpoint): compacting it would write files no backup shares.
  bool auto_compactions = true;
  // The process's memory budget, shared with its projections; null: none
  // (tools and copies that open a log briefly).
  std::shared_ptr<projection::MemoryBudget> memory = nullptr;
};

absl::StatusOr<std::unique_ptr<EventLog>> OpenEmbeddedEventLog(
    const EmbeddedOptions& options);

// Writes a point-in-time copy of the embedded `log` into `dir` (which must
// not exist; its parent must): an openable database holding exactly the
// appends committed before the copy, none half. Files are hard links when
// `dir` is on the log's filesystem, so this takes about a memtable flush.
// FailedPrecondition when `log` is not an embedded log.
absl::Status CheckpointEmbeddedEventLog(EventLog& log, const std::string& dir);

// The database directory of an embedded log; empty for any other log.
std::string EmbeddedEventLogPath(EventLog& log);

// One backup in a backup directory.
struct EmbeddedBackupInfo {
  uint32_t id = 0;
  int64_t timestamp = 0;    // Unix seconds
  uint64_t size_bytes = 0;  // of every file it needs, shared ones included
  uint32_t files = 0;
  std::string metadata;  // as given to AddEmbeddedBackup
};

// Adds a backup of the embedded `log` to `backup_dir` (created when
// missing) and keeps `metadata` with it. Table files already in the
// directory (from an earlier backup of the same log) are shared, not
// copied. `progress` is called after every `progress_bytes` bytes copied.
// Meant for a checkpoint's log (CheckpointEmbeddedEventLog): the live one
// would be backed up as of a moment the caller cannot name.
absl::StatusOr<EmbeddedBackupInfo> AddEmbeddedBackup(
    EventLog& log, const std::string& backup_dir, const std::string& metadata,
    uint64_t progress_bytes = 4 << 20,
    const std::function<void()>& progress = [] {});

// The backups in `backup_dir`, oldest first. NotFound when it holds none.
absl::StatusOr<std::vector<EmbeddedBackupInfo>> ListEmbeddedBackups(
    const std::string& backup_dir);

// Writes backup `id` (0: the latest) of `backup_dir` as the database
// directory `db_dir` (replacing what it holds), after checking every file
// against its recorded checksum (DataLoss when one differs).
absl::Status RestoreEmbeddedBackup(const std::string& backup_dir, uint32_t id,
                                   const std::string& db_dir);

}  // namespace lotledger::eventlog

#endif  // LOTLEDGER_LIBS_EVENTLOG_EMBEDDED_EMBEDDED_EVENT_LOG_H_
