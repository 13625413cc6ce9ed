#include "services/admin/admin_service.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/command/rebuild.h"
#include "libs/server/rpc.h"

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

}  // namespace lotledger::admin
