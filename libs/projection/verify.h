// VerifyProjectionFiles: RocksDB's own checks of a closed projection, run
// before it is opened for writing (libs/command/projection_check.h decides
// what to do about damage).
//
// Thread-safety: a free function; the database at `path` must not be open
// for writing (by this process or another) while it runs.
#ifndef LOTLEDGER_LIBS_PROJECTION_VERIFY_H_
#define LOTLEDGER_LIBS_PROJECTION_VERIFY_H_

#include <string>

#include "absl/status/status.h"

namespace lotledger::projection {

// Opens the RocksDB database at `path` read-only with paranoid checks (the
// MANIFEST, every live table file's presence and size, the WAL's records)
// and, when `read_every_block`, reads every block of every table file
// against its checksum (DB::VerifyChecksum: I/O of the whole database).
// Writes nothing. OK when there is no database at `path` yet; DataLoss
// naming what RocksDB found damaged; other errors (I/O, a lock) as
// FromRocks maps them.
absl::Status VerifyProjectionFiles(const std::string& path,
                                   bool read_every_block);

}  // namespace lotledger::projection

#endif  // LOTLEDGER_LIBS_PROJECTION_VERIFY_H_
