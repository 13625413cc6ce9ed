// AdminServiceImpl: the gRPC face of AdminService (proto/lotledger/v1/
// admin.proto) for the services one process hosts: a projection rebuild
// without downtime (libs/command/rebuild.h) and an online backup of the
// embedded log (backup.h). Only the role `admin` may call it
// (libs/server/auth.cc).
//
// Thread-safety: gRPC calls the handlers from many threads at once; the
// sets of request ids seen and the running backup are guarded, the rest is
// immutable.
#ifndef LOTLEDGER_SERVICES_ADMIN_ADMIN_SERVICE_H_
#define LOTLEDGER_SERVICES_ADMIN_ADMIN_SERVICE_H_

#include <map>
#include <set>
#include <string>

#include "absl/synchronization/mutex.h"
#include "libs/command/service_core.h"
#include "libs/server/auth.h"
#include "lotledger/v1/admin.grpc.pb.h"

namespace lotledger::admin {

class AdminServiceImpl final : public v1::AdminService::Service {
 public:
  // `cores`: the hosted services by name ("lots"); they and `guard`
  // outlive this.
  AdminServiceImpl(std::map<std::string, command::ServiceCore*> cores,
                   const server::Guard* guard);

  grpc::Status RebuildProjection(
      grpc::ServerContext* ctx, const v1::RebuildProjectionRequest* req,
      grpc::ServerWriter<v1::RebuildProgress>* writer) override;

  grpc::Status Backup(grpc::ServerContext* ctx, const v1::BackupRequest* req,
                      grpc::ServerWriter<v1::BackupProgress>* writer) override;

 private:
  const std::map<std::string, command::ServiceCore*> cores_;
  const server::Guard* guard_;
  absl::Mutex mu_;
  std::set<std::string> request_ids_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> backup_request_ids_ ABSL_GUARDED_BY(mu_);
  bool backup_running_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace lotledger::admin

#endif  // LOTLEDGER_SERVICES_ADMIN_ADMIN_SERVICE_H_
