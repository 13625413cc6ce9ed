// Online backup and verified restore of the embedded log (docs/backup.md).
//
// BackupEmbeddedLog: a consistent copy of the live log (a RocksDB
// checkpoint of hard links), its chains and signed checkpoints verified
// (libs/audit/log_verify.h), added as an incremental backup to a backup
// directory, with a manifest and a checkpoints file beside it.
//
// RestoreEmbeddedLog: writes a backup back as `<data dir>/log` of a fresh
// lotledgerd data directory and refuses it, deleting what it wrote, when
// the restored log's chains break or when it ends before a signed
// checkpoint the operator kept (a cut-off tail); the projections are then
// rebuilt from it when lotledgerd starts.
//
// Thread-safety: both functions may run while other threads use the log;
// one backup per backup directory at a time.
#ifndef LOTLEDGER_SERVICES_ADMIN_BACKUP_H_
#define LOTLEDGER_SERVICES_ADMIN_BACKUP_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/audit/checkpoint.h"
#include "libs/audit/log_verify.h"
#include "libs/eventlog/event_log.h"

namespace lotledger::admin {

enum class BackupPhase { kCheckpoint, kVerifying, kCopying, kDone };

struct BackupProgress {
  BackupPhase phase = BackupPhase::kCheckpoint;
  absl::Duration elapsed;
  uint64_t bytes_copied = 0;
  uint64_t bytes_total = 0;  // of the consistent copy
};

struct BackupResult {
  uint32_t backup_id = 0;
  uint64_t size_bytes = 0;
  uint32_t files = 0;
  uint64_t added_bytes = 0;
  absl::Duration elapsed;
  audit::LogVerification verification;
  eventlog::Offsets ends;  // end offset of every audited partition
  std::string manifest_path;
  std::string checkpoints_path;
  // "topic/partition offset N (aggregate A): what"; empty when intact.
  std::string first_break;
};

// Backs up the embedded `log` into `out_dir` (absolute, on this machine).
// `topic_prefix` is the deployment's topic prefix. `progress` is called at
// each phase and while copying. FailedPrecondition when `log` is not
// embedded.
absl::StatusOr<BackupResult> BackupEmbeddedLog(
    eventlog::EventLog& log, const std::string& out_dir,
    const std::string& topic_prefix,
    const std::function<void(const BackupProgress&)>& progress);

struct RestoreRequest {
  std::string backup_dir;
  uint32_t backup_id = 0;  // 0: the latest
  std::string data_dir;    // lotledgerd --data-dir; must hold no log yet
  std::string topic_prefix;
  // Signed checkpoints the restored log must still hold (the operator's
  // newest, from a later backup or `lotctl audit verify
  // --save-checkpoints`).
  std::vector<audit::Anchor> required;
  const audit::PublicKeys* keys = nullptr;  // null: signatures unchecked
};

struct RestoreResult {
  uint32_t backup_id = 0;
  uint64_t records = 0;
  uint64_t checkpoints = 0;
  absl::Duration elapsed;
};

// FailedPrecondition, naming the topic, partition, offset and aggregate,
// when the restored log is refused (nothing is left in data_dir then);
// AlreadyExists when data_dir already holds a log; NotFound when
// backup_dir holds no such backup; DataLoss when a backup file is damaged.
absl::StatusOr<RestoreResult> RestoreEmbeddedLog(const RestoreRequest& req);

// "topic/partition offset N (aggregate A): what".
std::string DescribeBreak(const eventlog::ChainVerifier::Break& b);

}  // namespace lotledger::admin

#endif  // LOTLEDGER_SERVICES_ADMIN_BACKUP_H_
