// Damage to a projection found at start: RocksDB's checks and a digest
// stored at the last clean close (issue 8, "Corruption"; docs/security.md
// "Faults"). A projection is a cache of the log, so a damaged one is moved
// aside for an operator to inspect and rebuilt by replaying the log from
// offset 0.
//
// At a clean close (ServiceCore::Stop, after the projector stopped) the
// store's Digest() and offsets go into kCleanCloseFile inside the
// projection directory (kFull only). At the next open:
//   1. RocksDB opens the database read-only with paranoid checks (MANIFEST,
//      table files present with their sizes, WAL records) and reads every
//      block of every table file against its checksum (kQuick, kFull).
//   2. With a clean-close file (kFull), the store's digest and offsets are
//      recomputed and compared: this catches a changed value whose
//      checksums are intact (an edit behind our back, a tool that wrote to
//      it, a lost or resurrected table file the MANIFEST agrees with).
//   3. The file is removed before anything is written: after a crash there
//      is none, and only step 1 applies.
// Before step 2, the projection's format (see kProjectionFormatKey) is
// compared with the service's: a projection of another format, or a
// non-empty one that records none (written before formats were recorded),
// is moved aside and rebuilt like a damaged one (reason "format"), never
// read.
// Damage (DataLoss from RocksDB, or a digest or offsets that differ): one
// JSON log line (service, reason, directory, where it was moved), the
// counter lotledger_projection_rebuilds_total{service,reason} (reason
// "rocksdb" or "digest"), the directory renamed to
// <dir>.damaged-<UTC yyyymmddThhmmssZ> (when <dir> is a symbolic link to a
// rebuilt projection, the directory it leads to, and the link removed),
// and an empty projection opened in its place (its projector starts at
// offset 0).
//
// Cost (docs/security.md): step 1 is about 0.1-0.3 s for 240 MB of table
// files; the digest reads and hashes every key and value, about 2.5-8 s
// for the same projection, once at close and once at open.
//
// Thread-safety: free functions; the projection directory must not be open
// elsewhere while they run.
#ifndef LOTLEDGER_LIBS_COMMAND_PROJECTION_CHECK_H_
#define LOTLEDGER_LIBS_COMMAND_PROJECTION_CHECK_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "libs/projection/projection_store.h"

namespace lotledger::command {

enum class ProjectionVerify {
  kOff,    // no checks; the clean-close digest is neither written nor read
  kQuick,  // RocksDB's checks: paranoid open, every table block's checksum
  kFull,   // kQuick + the digest stored at the last clean close
};

// "off", "quick" or "full"; InvalidArgument otherwise.
absl::StatusOr<ProjectionVerify> ParseProjectionVerify(const std::string& text);

// From env LOTLEDGER_VERIFY_PROJECTION; kFull when unset. An unknown value
// is logged and kFull is used (a typo must not switch checks off).
ProjectionVerify ProjectionVerifyFromEnv();

// Inside the projection directory: "digest <hex>\n" then one
// "offset <partition> <next offset> <topic>\n" per input partition.
inline constexpr char kCleanCloseFile[] = "LOTLEDGER_CLEAN_CLOSE";

// Writes kCleanCloseFile for `store` (atomically: a temporary file, fsync,
// rename). Call only once nothing commits to the store any more.
absl::Status RecordCleanClose(const projection::ProjectionStore& store);

// The projection format: how a service's apply() lays out what it stores.
// A service bumps ServiceSpec::projection_format when that changes, and
// every projection of an older format is rebuilt at its next start. Kept
// in the default column family under this key, as decimal text; written
// into a projection while it is still empty.
inline constexpr char kProjectionFormatKey[] = "lotledger.projection_format";

// Records `format` in `store` (which must not have applied anything yet);
// no-op for format 0 (unchecked).
absl::Status StampProjectionFormat(projection::ProjectionStore& store,
                                   int format);

struct CheckedProjection {
  std::unique_ptr<projection::ProjectionStore> store;
  // Empty when the projection was fine; else "rocksdb" or "digest", and
  // where the damaged directory went.
  std::string rebuilt_reason;
  std::string damaged_dir;
};

// Checks the projection at options.path as `mode` says and opens it; on
// damage moves it aside and opens an empty one (see above). Errors that
// are not damage (I/O, a lock held by another process) are returned as
// they are and nothing is moved.
absl::StatusOr<CheckedProjection> OpenCheckedProjection(
    const std::string& service,
    const projection::ProjectionStore::Options& options, ProjectionVerify mode,
    int format = 0);

}  // namespace lotledger::command

#endif  // LOTLEDGER_LIBS_COMMAND_PROJECTION_CHECK_H_
