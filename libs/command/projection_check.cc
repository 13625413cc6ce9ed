#include "libs/command/projection_check.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "libs/common/json_log.h"
#include "libs/common/status_macros.h"
#include "libs/metrics/metrics.h"
#include "libs/projection/verify.h"

namespace lotledger::command {
namespace {

// RocksDB's default column family, which every projection has and no
// service uses: the projection's own metadata lives there.
constexpr char kDefaultCf[] = "default";

namespace fs = std::filesystem;

const metrics::CounterFamily& Rebuilds() {
  static const auto* family =
      new metrics::CounterFamily(metrics::Default().Counter(
          "lotledger_projection_rebuilds_total",
          "Projections found damaged at start, moved aside and rebuilt from "
          "the log, by service and reason (rocksdb, digest)"));
  return *family;
}

// The clean-close text of a digest and offsets.
std::string CleanCloseText(const std::string& digest,
                           const eventlog::Offsets& offsets) {
  std::string text = absl::StrCat("digest ", digest, "\n");
  for (const auto& [tp, next] : offsets) {
    absl::StrAppend(&text, "offset ", tp.partition, " ", next, " ", tp.topic,
                    "\n");
  }
  return text;
}

absl::Status SyncDirectory(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return absl::UnavailableError("cannot open " + dir.string());
  const int r = ::fsync(fd);
  ::close(fd);
  if (r != 0) return absl::UnavailableError("cannot sync " + dir.string());
  return absl::OkStatus();
}

// Removes the clean-close file (durably): from now on the store changes.
absl::Status ForgetCleanClose(const std::string& dir) {
  std::error_code ec;
  if (!fs::remove(fs::path(dir) / kCleanCloseFile, ec)) {
    if (ec) {
      return absl::UnavailableError(absl::StrCat(
          "cannot remove ", kCleanCloseFile, " in ", dir, ": ", ec.message()));
    }
    return absl::OkStatus();  // there was none
  }
  return SyncDirectory(dir);
}

// Why the store differs from its clean-close record; empty when it does not.
absl::StatusOr<std::string> CompareWithCleanClose(
    const projection::ProjectionStore& store, const std::string& recorded) {
  ASSIGN_OR_RETURN(const std::string digest, store.Digest());
  const std::string now = CleanCloseText(digest, store.Offsets());
  if (now == recorded) return std::string();
  const std::string first_line = recorded.substr(0, recorded.find('\n'));
  return absl::StrCat(
      "the projection's digest and offsets differ from the "
      "ones stored at its last clean close (recorded ",
      first_line, ", now digest ", digest, ")");
}

}  // namespace

absl::StatusOr<ProjectionVerify> ParseProjectionVerify(
    const std::string& text) {
  const std::string t = absl::AsciiStrToLower(text);
  if (t == "off") return ProjectionVerify::kOff;
  if (t == "quick") return ProjectionVerify::kQuick;
  if (t == "full") return ProjectionVerify::kFull;
  return absl::InvalidArgumentError(absl::StrCat(
      "LOTLEDGER_VERIFY_PROJECTION: \"", text, "\": use off, quick or full"));
}

ProjectionVerify ProjectionVerifyFromEnv() {
  const char* env = std::getenv("LOTLEDGER_VERIFY_PROJECTION");
  if (env == nullptr || *env == '\0') return ProjectionVerify::kFull;
  absl::StatusOr<ProjectionVerify> mode = ParseProjectionVerify(env);
  if (mode.ok()) return *mode;
  LogJson("error", "bad setting; verifying projections fully",
          {{"error", std::string(mode.status().message())}});
  return ProjectionVerify::kFull;
}

absl::Status RecordCleanClose(const projection::ProjectionStore& store) {
  const fs::path dir = store.options().path;
  ASSIGN_OR_RETURN(const std::string digest, store.Digest());
  const std::string text = CleanCloseText(digest, store.Offsets());
  const fs::path tmp = dir / absl::StrCat(kCleanCloseFile, ".tmp");
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return absl::UnavailableError("cannot create " + tmp.string());
  const bool written = ::write(fd, text.data(), text.size()) ==
                           static_cast<ssize_t>(text.size()) &&
                       ::fsync(fd) == 0;
  ::close(fd);
  std::error_code ec;
  if (written) fs::rename(tmp, dir / kCleanCloseFile, ec);
  if (!written || ec) {
    fs::remove(tmp, ec);
    return absl::UnavailableError("cannot write " +
                                  (dir / kCleanCloseFile).string());
  }
  return SyncDirectory(dir);
}

absl::StatusOr<CheckedProjection> OpenCheckedProjection(
    const std::string& service,
    const projection::ProjectionStore::Options& options, ProjectionVerify mode,
    int format) {
  const fs::path dir = options.path;
  CheckedProjection out;
  std::string reason, detail;
  // 1. RocksDB's checks, before the database is opened for writing.
  if (mode != ProjectionVerify::kOff) {
    absl::Status s = projection::VerifyProjectionFiles(
        options.path, /*read_every_block=*/true);
    if (absl::IsDataLoss(s)) {
      reason = "rocksdb";
      detail = std::string(s.message());
    } else if (!s.ok()) {
      return s;
    }
  }
  if (reason.empty()) {
    absl::StatusOr<std::unique_ptr<projection::ProjectionStore>> store =
        projection::ProjectionStore::Open(options);
    if (absl::IsDataLoss(store.status())) {
      reason = "rocksdb";
      detail = std::string(store.status().message());
    } else if (!store.ok()) {
      return store.status();
    } else {
      out.store = *std::move(store);
    }
  }
  // The format it was written in (read only: stamping waits until the
  // clean-close record is gone, step 3).
  bool stamp = false;
  if (reason.empty() && format > 0) {
    ASSIGN_OR_RETURN(std::optional<std::string> stored,
                     out.store->Get(kDefaultCf, kProjectionFormatKey));
    const std::string want = std::to_string(format);
    if (!stored.has_value() && out.store->Offsets().empty()) {
      stamp = true;
    } else if (stored != want) {
      reason = "format";
      detail = absl::StrCat("projection format ", stored.value_or("none"),
                            ", this build reads format ", want);
    }
  }
  // 2. The digest stored at the last clean close.
  std::error_code ec;
  if (reason.empty() && mode == ProjectionVerify::kFull &&
      fs::exists(dir / kCleanCloseFile, ec)) {
    std::ifstream in(dir / kCleanCloseFile);
    std::stringstream recorded;
    recorded << in.rdbuf();
    absl::StatusOr<std::string> differs =
        CompareWithCleanClose(*out.store, recorded.str());
    if (absl::IsDataLoss(differs.status())) {
      reason = "rocksdb";
      detail = std::string(differs.status().message());
    } else if (!differs.ok()) {
      return differs.status();
    } else if (!differs->empty()) {
      reason = "digest";
      detail = *differs;
    }
  }
  if (reason.empty()) {
    // 3. From here on the store changes: the record no longer holds.
    RETURN_IF_ERROR(ForgetCleanClose(options.path));
    if (stamp) RETURN_IF_ERROR(StampProjectionFormat(*out.store, format));
    return out;
  }
  // Damaged: keep it for an operator, rebuild from the log.
  out.store.reset();
  out.rebuilt_reason = reason;
  const std::string aside = absl::StrCat(
      options.path, ".damaged-",
      absl::FormatTime("%Y%m%dT%H%M%SZ", absl::Now(), absl::UTCTimeZone()));
  out.damaged_dir = aside;
  for (int n = 2; fs::exists(out.damaged_dir, ec); ++n) {
    out.damaged_dir = absl::StrCat(aside, "-", n);
  }
  // A projection switched by an online rebuild (rebuild.h) is a symbolic
  // link to <dir>.rebuild-<n>: move the directory it leads to, so the
  // damaged files stay out of the way of the next rebuild's clean-up.
  fs::path damaged = dir;
  if (fs::is_symlink(dir, ec)) {
    const fs::path target = fs::read_symlink(dir, ec);
    damaged = target.is_relative() ? dir.parent_path() / target : target;
  }
  if (!ec) fs::rename(damaged, out.damaged_dir, ec);
  if (!ec && damaged != dir) fs::remove(dir, ec);
  if (ec) {
    return absl::DataLossError(
        absl::StrCat("projection ", options.path, " is damaged (", detail,
                     ") and cannot be moved aside to ", out.damaged_dir, ": ",
                     ec.message()));
  }
  LogJson(reason == "format" ? "warn" : "error",
          reason == "format"
              ? "projection of another format; moved aside and rebuilt from "
                "the log"
              : "projection damaged; moved aside and rebuilt from the log",
          {{"service", service},
           {"reason", reason},
           {"directory", options.path},
           {"moved_to", out.damaged_dir},
           {"detail", detail}});
  Rebuilds().Increment({{"service", service}, {"reason", reason}});
  fs::create_directories(dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create projection directory ", options.path, ": ",
                     ec.message()));
  }
  ASSIGN_OR_RETURN(out.store, projection::ProjectionStore::Open(options));
  RETURN_IF_ERROR(StampProjectionFormat(*out.store, format));
  return out;
}

absl::Status StampProjectionFormat(projection::ProjectionStore& store,
                                   int format) {
  if (format <= 0) return absl::OkStatus();
  projection::ProjectionStore::Batch batch = store.NewBatch();
  batch.Put(kDefaultCf, kProjectionFormatKey, std::to_string(format));
  return store.Commit(std::move(batch));
}

}  // namespace lotledger::command
