// rocksdb::Status -> absl::Status, the same way for every module that
// stores in RocksDB (the embedded log, projections). Header-only: include
// it only from code that links RocksDB. Thread-safe.
#ifndef LOTLEDGER_LIBS_STORAGE_ROCKSDB_STATUS_H_
#define LOTLEDGER_LIBS_STORAGE_ROCKSDB_STATUS_H_

#include <rocksdb/status.h>

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"

namespace lotledger {

// `what` says what was being done ("append to embedded log"). A full disk
// is ResourceExhausted, damaged data DataLoss, a busy or failing device
// Unavailable (the caller may retry).
inline absl::Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return absl::OkStatus();
  const std::string msg = absl::StrCat(Sv(what), ": ", s.ToString());
  if (s.IsNoSpace()) return absl::ResourceExhaustedError(msg);
  if (s.IsCorruption()) return absl::DataLossError(msg);
  if (s.IsBusy() || s.IsTimedOut() || s.IsTryAgain() || s.IsIOError()) {
    return absl::UnavailableError(msg);
  }
  if (s.IsInvalidArgument()) return absl::InvalidArgumentError(msg);
  return absl::InternalError(msg);
}

}  // namespace lotledger

#endif  // LOTLEDGER_LIBS_STORAGE_ROCKSDB_STATUS_H_
