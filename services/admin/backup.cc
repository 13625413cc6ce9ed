#include "services/admin/backup.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <system_error>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "libs/audit/topics.h"
#include "libs/common/hash.h"
#include "libs/common/json_log.h"
#include "libs/common/status_macros.h"
#include "libs/eventlog/embedded/embedded_event_log.h"

namespace lotledger::admin {
namespace {

namespace fs = std::filesystem;

uint64_t DirectoryBytes(const fs::path& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec)) total += it->file_size(ec);
  }
  return total;
}

// Removes `dir` when it exists; an error names it.
absl::Status RemoveAll(const fs::path& dir) {
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("cannot remove ", dir.string(), ": ", ec.message()));
  }
  return absl::OkStatus();
}

// End offset of every partition of the audited topics present in `log`.
absl::StatusOr<eventlog::Offsets> AuditedEnds(eventlog::EventLog& log,
                                              const std::string& prefix) {
  eventlog::Offsets ends;
  for (const std::string& topic : audit::AuditedTopics()) {
    absl::StatusOr<int32_t> parts = log.PartitionCount(prefix + topic);
    if (parts.status().code() == absl::StatusCode::kNotFound) continue;
    RETURN_IF_ERROR(parts.status());
    for (int32_t p = 0; p < *parts; ++p) {
      ASSIGN_OR_RETURN(int64_t end, log.EndOffset(prefix + topic, p));
      ends[{prefix + topic, p}] = end;
    }
  }
  return ends;
}

std::string Manifest(uint32_t id, const std::string& source,
                     const std::string& prefix, const BackupResult& r) {
  std::map<std::pair<std::string, int32_t>, const audit::Anchor*> latest;
  for (const audit::TopicVerification& t : r.verification.topics) {
    for (const audit::Anchor& a : t.latest) {
      latest[{a.topic, a.partition}] = &a;
    }
  }
  std::string out = absl::StrCat(
      "{\n  \"format\": \"lotledger-backup/1\",\n  \"backup_id\": ", id,
      ",\n  \"created_at\": ",
      JsonString(absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(),
                                  absl::UTCTimeZone())),
      ",\n  \"source\": ", JsonString(source),
      ",\n  \"topic_prefix\": ", JsonString(prefix),
      ",\n  \"records\": ", r.verification.records(),
      ",\n  \"chains_intact\": ", r.verification.ok() ? "true" : "false",
      ",\n  \"first_break\": ", JsonString(r.first_break),
      ",\n  \"partitions\": [");
  bool first = true;
  for (const auto& [tp, end] : r.ends) {
    const std::string topic = audit::StripPrefix(tp.topic, prefix);
    absl::StrAppend(
        &out, first ? "\n" : ",\n", "    {\"topic\": ", JsonString(tp.topic),
        ", \"partition\": ", tp.partition, ", \"end_offset\": ", end);
    first = false;
    auto it = latest.find({topic, tp.partition});
    if (it != latest.end()) {
      const audit::Anchor& a = *it->second;
      absl::StrAppend(&out, ", \"checkpoint\": {\"end_offset\": ", a.end_offset,
                      ", \"records\": ", a.records,
                      ", \"digest\": ", JsonString(HexEncode(a.digest)), "}");
    } else {
      absl::StrAppend(&out, ", \"checkpoint\": null");
    }
    absl::StrAppend(&out, "}");
  }
  absl::StrAppend(&out, "\n  ],\n  \"topics\": [");
  first = true;
  for (const audit::TopicVerification& t : r.verification.topics) {
    if (!t.present) continue;
    absl::StrAppend(
        &out, first ? "\n" : ",\n", "    {\"topic\": ", JsonString(t.topic),
        ", \"records\": ", t.records, ", \"checkpoints\": ", t.checkpoints,
        ", \"uncovered_records\": ", t.uncovered, "}");
    first = false;
  }
  absl::StrAppend(&out, "\n  ]\n}\n");
  return out;
}

absl::Status WriteFile(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    out.flush();
    if (!out) {
      return absl::InternalError(absl::StrCat("cannot write ", tmp.string()));
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("cannot write ", path.string(), ": ", ec.message()));
  }
  return absl::OkStatus();
}

}  // namespace

std::string DescribeBreak(const eventlog::ChainVerifier::Break& b) {
  std::string out =
      absl::StrCat(b.topic, "/", b.partition, " offset ", b.offset);
  if (!b.aggregate_id.empty()) {
    absl::StrAppend(&out, " (aggregate ", b.aggregate_id, ")");
  }
  absl::StrAppend(&out, ": ", b.what);
  return out;
}

absl::StatusOr<BackupResult> BackupEmbeddedLog(
    eventlog::EventLog& log, const std::string& out_dir,
    const std::string& topic_prefix,
    const std::function<void(const BackupProgress&)>& progress) {
  const absl::Time start = absl::Now();
  const std::string source = eventlog::EmbeddedEventLogPath(log);
  if (source.empty()) {
    return absl::FailedPreconditionError(
        "this process does not run on the embedded log; a Kafka log is "
        "backed up by mirroring its topics (docs/backup.md)");
  }
  if (!fs::path(out_dir).is_absolute()) {
    return absl::InvalidArgumentError(
        absl::StrCat("out_dir: ", out_dir,
                     " is not an absolute path (it is on the server)"));
  }
  BackupProgress p;
  auto report = [&](BackupPhase phase) {
    p.phase = phase;
    p.elapsed = absl::Now() - start;
    progress(p);
  };
  report(BackupPhase::kCheckpoint);
  // Next to the live log, so the checkpoint is hard links. Left over by a
  // crash of an earlier backup: it is only a copy.
  const fs::path staging = source + ".backup-staging";
  RETURN_IF_ERROR(RemoveAll(staging));
  RETURN_IF_ERROR(eventlog::CheckpointEmbeddedEventLog(log, staging.string()));
  BackupResult r;
  {
    absl::StatusOr<std::unique_ptr<eventlog::EventLog>> copy =
        eventlog::OpenEmbeddedEventLog(
            {.path = staging.string(), .auto_compactions = false});
    if (!copy.ok()) {
      (void)RemoveAll(staging);
      return copy.status();
    }
    p.bytes_total = DirectoryBytes(staging);
    report(BackupPhase::kVerifying);
    absl::Status s = [&]() -> absl::Status {
      ASSIGN_OR_RETURN(r.ends, AuditedEnds(**copy, topic_prefix));
      ASSIGN_OR_RETURN(r.verification,
                       audit::VerifyLog(**copy, topic_prefix, {}));
      for (const audit::TopicVerification& t : r.verification.topics) {
        if (t.first_break.has_value()) {
          r.first_break = DescribeBreak(*t.first_break);
          break;
        }
      }
      // The metadata kept inside the backup: the end offsets, one
      // partition a line, so a restore can check it got all of them.
      std::string metadata;
      for (const auto& [tp, end] : r.ends) {
        absl::StrAppend(&metadata, "end ", tp.topic, " ", tp.partition, " ",
                        end, "\n");
      }
      const uint64_t before = DirectoryBytes(out_dir);
      report(BackupPhase::kCopying);
      constexpr uint64_t kStep = 4 << 20;
      ASSIGN_OR_RETURN(
          eventlog::EmbeddedBackupInfo info,
          eventlog::AddEmbeddedBackup(**copy, out_dir, metadata, kStep, [&] {
            p.bytes_copied += kStep;
            report(BackupPhase::kCopying);
          }));
      r.backup_id = info.id;
      r.size_bytes = info.size_bytes;
      r.files = info.files;
      const uint64_t after = DirectoryBytes(out_dir);
      r.added_bytes = after > before ? after - before : 0;
      return absl::OkStatus();
    }();
    copy->reset();
    if (!s.ok()) {
      (void)RemoveAll(staging);
      return s;
    }
  }
  RETURN_IF_ERROR(RemoveAll(staging));
  const fs::path dir(out_dir);
  r.manifest_path =
      (dir / absl::StrCat("manifest-", r.backup_id, ".json")).string();
  r.checkpoints_path =
      (dir / absl::StrCat("checkpoints-", r.backup_id, ".txt")).string();
  r.elapsed = absl::Now() - start;
  const std::string manifest = Manifest(r.backup_id, source, topic_prefix, r);
  RETURN_IF_ERROR(WriteFile(r.manifest_path, manifest));
  RETURN_IF_ERROR(WriteFile(dir / "manifest.json", manifest));
  RETURN_IF_ERROR(WriteFile(r.checkpoints_path,
                            audit::FormatAnchors(r.verification.anchors())));
  report(BackupPhase::kDone);
  return r;
}

absl::StatusOr<RestoreResult> RestoreEmbeddedLog(const RestoreRequest& req) {
  const absl::Time start = absl::Now();
  const fs::path data(req.data_dir);
  const fs::path target = data / "log";
  if (fs::exists(target / "CURRENT")) {
    return absl::AlreadyExistsError(absl::StrCat(
        "--data-dir ", req.data_dir,
        " already holds a log; restore into a fresh data directory"));
  }
  ASSIGN_OR_RETURN(std::vector<eventlog::EmbeddedBackupInfo> backups,
                   eventlog::ListEmbeddedBackups(req.backup_dir));
  const eventlog::EmbeddedBackupInfo* chosen = &backups.back();
  if (req.backup_id != 0) {
    chosen = nullptr;
    for (const auto& b : backups) {
      if (b.id == req.backup_id) chosen = &b;
    }
    if (chosen == nullptr) {
      return absl::NotFoundError(
          absl::StrCat(req.backup_dir, " holds no backup ", req.backup_id,
                       " (latest is ", backups.back().id, ")"));
    }
  }
  const fs::path staging = data / "log.restoring";
  RETURN_IF_ERROR(RemoveAll(staging));
  std::error_code ec;
  fs::create_directories(data, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("--data-dir ", req.data_dir, ": ", ec.message()));
  }
  RestoreResult out;
  out.backup_id = chosen->id;
  absl::Status s = [&]() -> absl::Status {
    RETURN_IF_ERROR(eventlog::RestoreEmbeddedBackup(req.backup_dir, chosen->id,
                                                    staging.string()));
    ASSIGN_OR_RETURN(
        std::unique_ptr<eventlog::EventLog> log,
        eventlog::OpenEmbeddedEventLog({.path = staging.string()}));
    // Every partition the backup recorded must be there, to its end.
    ASSIGN_OR_RETURN(eventlog::Offsets ends,
                     AuditedEnds(*log, req.topic_prefix));
    for (absl::string_view line :
         absl::StrSplit(chosen->metadata, '\n', absl::SkipEmpty())) {
      std::vector<std::string> f = absl::StrSplit(line, ' ');
      int32_t partition = 0;
      int64_t end = 0;
      if (f.size() != 4 || f[0] != "end" ||
          !absl::SimpleAtoi(f[2], &partition) ||
          !absl::SimpleAtoi(f[3], &end)) {
        return absl::DataLossError(absl::StrCat("backup ", chosen->id,
                                                ": unreadable metadata line \"",
                                                line, "\""));
      }
      auto it = ends.find({f[1], partition});
      const int64_t have = it == ends.end() ? 0 : it->second;
      if (have != end) {
        return absl::FailedPreconditionError(absl::StrCat(
            "restored log refused: ", f[1], "/", partition, " ends at offset ",
            have, " but backup ", chosen->id, " recorded ", end));
      }
    }
    audit::VerifyOptions options;
    options.keys = req.keys;
    options.anchors = req.required;
    ASSIGN_OR_RETURN(audit::LogVerification v,
                     audit::VerifyLog(*log, req.topic_prefix, options));
    for (const audit::TopicVerification& t : v.topics) {
      if (t.first_break.has_value()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "restored log refused: ", DescribeBreak(*t.first_break)));
      }
    }
    out.records = v.records();
    for (const audit::TopicVerification& t : v.topics) {
      out.checkpoints += t.checkpoints;
    }
    return absl::OkStatus();
  }();
  if (!s.ok()) {
    (void)RemoveAll(staging);
    return s;
  }
  // Projections of another log must not survive: they are rebuilt from
  // the restored one when the services open.
  RETURN_IF_ERROR(RemoveAll(data / "projections"));
  RETURN_IF_ERROR(RemoveAll(target));
  fs::rename(staging, target, ec);
  if (ec) {
    return absl::InternalError(absl::StrCat("cannot move ", staging.string(),
                                            " to ", target.string(), ": ",
                                            ec.message()));
  }
  out.elapsed = absl::Now() - start;
  return out;
}

}  // namespace lotledger::admin
