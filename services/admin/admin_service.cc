#include "services/admin/admin_service.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/audit/topics.h"
#include "libs/command/rebuild.h"
#include "libs/server/rpc.h"
#include "services/admin/backup.h"

namespace lotledger::admin {
namespace {

v1::RebuildProgress::Phase ToProto(command::RebuildPhase phase) {
  switch (phase) {
    case command::RebuildPhase::kReplaying:
      return v1::RebuildProgress::PHASE_REPLAYING;
    case command::RebuildPhase::kCatchingUp:
      return v1::RebuildProgress::PHASE_CATCHING_UP;
    case command::RebuildPhase::kVerifying:
      return v1::RebuildProgress::PHASE_VERIFYING;
    case command::RebuildPhase::kSwitched:
      return v1::RebuildProgress::PHASE_SWITCHED;
  }
  return v1::RebuildProgress::PHASE_UNSPECIFIED;
}

v1::RebuildProgress ToProto(const std::string& service,
                            const command::RebuildProgress& p) {
  v1::RebuildProgress out;
  out.set_service(service);
  out.set_phase(ToProto(p.phase));
  out.set_records_applied(p.records_applied);
  out.set_records_total(p.records_total);
  out.set_records_per_second(p.records_per_second);
  out.set_eta_seconds(p.eta_seconds);
  out.set_elapsed_seconds(absl::ToDoubleSeconds(p.elapsed));
  out.set_directory(p.directory);
  out.set_old_healthy(p.old_healthy);
  if (p.phase == command::RebuildPhase::kSwitched) {
    out.set_old_digest(p.old_digest);
    out.set_new_digest(p.new_digest);
    out.set_digests_match(p.old_digest == p.new_digest);
    out.set_pause_seconds(absl::ToDoubleSeconds(p.pause));
  }
  return out;
}

v1::BackupProgress::Phase ToProto(BackupPhase phase) {
  switch (phase) {
    case BackupPhase::kCheckpoint:
      return v1::BackupProgress::PHASE_CHECKPOINT;
    case BackupPhase::kVerifying:
      return v1::BackupProgress::PHASE_VERIFYING;
    case BackupPhase::kCopying:
      return v1::BackupProgress::PHASE_COPYING;
    case BackupPhase::kDone:
      return v1::BackupProgress::PHASE_DONE;
  }
  return v1::BackupProgress::PHASE_UNSPECIFIED;
}

// The deployment's topic prefix, read off a hosted service's own topic
// (prefix + an audited topic name).
std::string TopicPrefix(const command::ServiceCore& core) {
  const std::string& own = core.setup().projector.own_topic;
  for (const std::string& topic : audit::AuditedTopics()) {
    if (own.size() >= topic.size() && own.ends_with(topic)) {
      return own.substr(0, own.size() - topic.size());
    }
  }
  return "";
}

}  // namespace

AdminServiceImpl::AdminServiceImpl(
    std::map<std::string, command::ServiceCore*> cores,
    const server::Guard* guard)
    : cores_(std::move(cores)), guard_(guard) {}

grpc::Status AdminServiceImpl::RebuildProjection(
    grpc::ServerContext* ctx, const v1::RebuildProjectionRequest* req,
    grpc::ServerWriter<v1::RebuildProgress>* writer) {
  return server::Serve(
      *guard_, *ctx, "/lotledger.v1.AdminService/RebuildProjection",
      [&](const server::Principal& principal) -> absl::Status {
        if (req->request_id().empty()) {
          return absl::InvalidArgumentError("request_id: required");
        }
        if (req->service().empty()) {
          return absl::InvalidArgumentError(
              "service: required (the service whose projection to rebuild)");
        }
        auto it = cores_.find(req->service());
        if (it == cores_.end()) {
          std::vector<std::string> hosted;
          for (const auto& [name, core] : cores_) hosted.push_back(name);
          return absl::NotFoundError(absl::StrCat(
              "service: this process does not host \"", req->service(),
              "\" (it hosts ", absl::StrJoin(hosted, ", "), ")"));
        }
        {
          absl::MutexLock l(&mu_);
          if (!request_ids_.insert(req->request_id()).second) {
            return absl::AlreadyExistsError(
                absl::StrCat("request ", req->request_id(),
                             " already started a rebuild of the ",
                             req->service(), " projection"));
          }
        }
        server::LogLine(
            "info", "projection rebuild requested",
            {{"service", server::JsonString(req->service())},
             {"actor", server::JsonString(principal.name)},
             {"request_id", server::JsonString(req->request_id())}});
        absl::StatusOr<command::RebuildProgress> done =
            command::RebuildProjection(
                *it->second, {}, [&](const command::RebuildProgress& p) {
                  if (ctx->IsCancelled()) return false;
                  return writer->Write(ToProto(req->service(), p));
                });
        return done.status();
      });
}

grpc::Status AdminServiceImpl::Backup(
    grpc::ServerContext* ctx, const v1::BackupRequest* req,
    grpc::ServerWriter<v1::BackupProgress>* writer) {
  return server::Serve(
      *guard_, *ctx, "/lotledger.v1.AdminService/Backup",
      [&](const server::Principal& principal) -> absl::Status {
        if (req->request_id().empty()) {
          return absl::InvalidArgumentError("request_id: required");
        }
        if (req->out_dir().empty()) {
          return absl::InvalidArgumentError(
              "out_dir: required (a directory on the server)");
        }
        if (cores_.empty()) {
          return absl::FailedPreconditionError("this process hosts no log");
        }
        const command::ServiceCore& core = *cores_.begin()->second;
        {
          absl::MutexLock l(&mu_);
          if (!backup_request_ids_.insert(req->request_id()).second) {
            return absl::AlreadyExistsError(absl::StrCat(
                "request ", req->request_id(), " already started a backup"));
          }
          if (backup_running_) {
            return absl::FailedPreconditionError(
                "a backup is already running in this process");
          }
          backup_running_ = true;
        }
        server::LogLine(
            "info", "backup requested",
            {{"out_dir", server::JsonString(req->out_dir())},
             {"actor", server::JsonString(principal.name)},
             {"request_id", server::JsonString(req->request_id())}});
        bool streaming = true;
        absl::StatusOr<BackupResult> r = BackupEmbeddedLog(
            *core.setup().log, req->out_dir(), TopicPrefix(core),
            [&](const BackupProgress& p) {
              if (!streaming || p.phase == BackupPhase::kDone) return;
              v1::BackupProgress out;
              out.set_phase(ToProto(p.phase));
              out.set_elapsed_seconds(absl::ToDoubleSeconds(p.elapsed));
              out.set_bytes_copied(static_cast<int64_t>(p.bytes_copied));
              out.set_bytes_total(static_cast<int64_t>(p.bytes_total));
              // A caller gone (cancelled) stops the stream, not the backup.
              streaming = !ctx->IsCancelled() && writer->Write(out);
            });
        {
          absl::MutexLock l(&mu_);
          backup_running_ = false;
        }
        if (!r.ok()) {
          server::LogLine("error", "backup failed",
                          {{"out_dir", server::JsonString(req->out_dir())},
                           {"error", server::JsonString(
                                         std::string(r.status().message()))}});
          return r.status();
        }
        v1::BackupProgress done;
        done.set_phase(v1::BackupProgress::PHASE_DONE);
        done.set_elapsed_seconds(absl::ToDoubleSeconds(r->elapsed));
        done.set_backup_id(r->backup_id);
        done.set_size_bytes(static_cast<int64_t>(r->size_bytes));
        done.set_files(r->files);
        done.set_added_bytes(static_cast<int64_t>(r->added_bytes));
        done.set_bytes_copied(static_cast<int64_t>(r->added_bytes));
        done.set_records(static_cast<int64_t>(r->verification.records()));
        int64_t checkpoints = 0;
        int64_t uncovered = 0;
        for (const audit::TopicVerification& t : r->verification.topics) {
          checkpoints += static_cast<int64_t>(t.checkpoints);
          uncovered += static_cast<int64_t>(t.uncovered);
        }
        done.set_checkpoints(checkpoints);
        done.set_uncovered_records(uncovered);
        done.set_chains_intact(r->verification.ok());
        done.set_first_break(r->first_break);
        done.set_manifest_path(r->manifest_path);
        done.set_checkpoints_path(r->checkpoints_path);
        for (const auto& [tp, end] : r->ends) {
          v1::BackupPartition* p = done.add_partitions();
          p->set_topic(tp.topic);
          p->set_partition(tp.partition);
          p->set_end_offset(end);
        }
        server::LogLine(
            "info", "backup done",
            {{"out_dir", server::JsonString(req->out_dir())},
             {"backup_id", absl::StrCat(r->backup_id)},
             {"records", absl::StrCat(r->verification.records())},
             {"added_bytes", absl::StrCat(r->added_bytes)},
             {"seconds", absl::StrCat(absl::ToDoubleSeconds(r->elapsed))}});
        if (streaming) writer->Write(done);
        return absl::OkStatus();
      });
}

}  // namespace lotledger::admin
