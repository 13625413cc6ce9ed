#include "libs/projection/verify.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include <filesystem>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/storage/rocksdb_logger.h"
#include "libs/storage/rocksdb_status.h"

namespace lotledger::projection {

absl::Status VerifyProjectionFiles(const std::string& path,
                                   bool read_every_block) {
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::path(path) / "CURRENT", ec)) {
    return absl::OkStatus();
  }
  rocksdb::DBOptions options;
  options.info_log = std::make_shared<StderrRocksLogger>("projection check");
  options.paranoid_checks = true;
  // As the projection opens it: a torn WAL tail is a crash, not damage.
  options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  std::vector<std::string> names;
  absl::Status s =
      FromRocks(rocksdb::DB::ListColumnFamilies(options, path, &names),
                absl::StrCat("listing column families of ", path));
  if (!s.ok()) return s;
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names) {
    descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  }
  rocksdb::DB* raw = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  s = FromRocks(
      rocksdb::DB::OpenForReadOnly(options, path, descriptors, &handles, &raw),
      absl::StrCat("opening projection ", path, " to check it"));
  if (!s.ok()) return s;
  std::unique_ptr<rocksdb::DB> db(raw);
  if (read_every_block) {
    s = FromRocks(db->VerifyChecksum(rocksdb::ReadOptions()),
                  absl::StrCat("verifying the checksums of projection ", path));
  }
  for (rocksdb::ColumnFamilyHandle* h : handles) {
    db->DestroyColumnFamilyHandle(h);
  }
  db->Close().PermitUncheckedError();
  return s;
}

}  // namespace lotledger::projection
