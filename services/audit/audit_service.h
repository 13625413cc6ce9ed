// AuditServiceImpl: the read-only audit API (proto/lotledger/v1/audit.proto)
// over the audit projection (audit_index.h). It writes nothing: its
// ServiceCore has a projector and no command runner.
//
// Thread-safety: handlers run on many threads; state lives in the
// thread-safe ServiceCore.
#ifndef LOTLEDGER_SERVICES_AUDIT_AUDIT_SERVICE_H_
#define LOTLEDGER_SERVICES_AUDIT_AUDIT_SERVICE_H_

#include <optional>
#include <string>
#include <vector>

#include "libs/command/service_core.h"
#include "libs/server/auth.h"
#include "lotledger/v1/audit.grpc.pb.h"
#include "services/audit/audit_index.h"

namespace lotledger::audit {

class AuditServiceImpl final : public v1::AuditService::Service {
 public:
  // `topic_prefix`: the deployment's topic prefix, left out of the topic
  // names the API returns.
  AuditServiceImpl(command::ServiceCore* core, const server::Guard* guard,
                   std::string topic_prefix);

  grpc::Status LotHistory(grpc::ServerContext* ctx,
                          const v1::LotHistoryRequest* req,
                          grpc::ServerWriter<v1::HistoryEntry>* out) override;
  grpc::Status GetLotHistory(grpc::ServerContext* ctx,
                             const v1::GetLotHistoryRequest* req,
                             v1::GetLotHistoryResponse* resp) override;
  grpc::Status VerifyLot(grpc::ServerContext* ctx,
                         const v1::VerifyLotRequest* req,
                         v1::VerifyLotResponse* resp) override;
  grpc::Status AsOf(grpc::ServerContext* ctx, const v1::AsOfRequest* req,
                    v1::AsOfResponse* resp) override;
  grpc::Status ExportEpcis(grpc::ServerContext* ctx,
                           const v1::ExportEpcisRequest* req,
                           v1::ExportEpcisResponse* resp) override;

 private:
  // The records of `scope` once the projection has reached `after`;
  // scope.lot_id and scope.depth as the request gave them (checked here;
  // depth 0 means 10).
  absl::StatusOr<std::vector<ScopedRecord>> LoadScope(
      const grpc::ServerContext& ctx, Scope scope,
      const v1::ConsistencyToken& after) const;
  // LoadScope for a LotHistoryRequest, its serial filter applied (the
  // page's limit then does not apply: the filter may drop any record).
  absl::StatusOr<std::vector<ScopedRecord>> LoadHistory(
      const grpc::ServerContext& ctx, const v1::LotHistoryRequest& req,
      const std::optional<HistoryPosition>& page_after = std::nullopt,
      size_t page_limit = 0) const;
  // Moves the record's event into the entry.
  v1::HistoryEntry ToEntry(ScopedRecord r) const;

  command::ServiceCore* core_;
  const server::Guard* guard_;
  const std::string topic_prefix_;
  AuditIndex index_;
};

}  // namespace lotledger::audit

#endif  // LOTLEDGER_SERVICES_AUDIT_AUDIT_SERVICE_H_
