// LotsServiceImpl: the gRPC face of the lots service (proto/lotledger/v1/
// lots.proto). Commands go through the shared command path
// (libs/command); the rules are the pure lots::Decide; queries read the
// projection (lots_projection.h).
//
// Trace answers from the in-memory genealogy (genealogy_index.h), which the
// service's apply function keeps current and the constructor loads from the
// projection before the service serves.
//
// Thread-safety: gRPC calls the handlers from many threads at once; all
// state is in the ServiceCore and the genealogy index, both thread-safe.
#ifndef LOTLEDGER_SERVICES_LOTS_LOTS_SERVICE_H_
#define LOTLEDGER_SERVICES_LOTS_LOTS_SERVICE_H_

#include <memory>

#include "libs/command/service_core.h"
#include "libs/common/clock.h"
#include "libs/server/auth.h"
#include "lotledger/v1/domain.pb.h"
#include "lotledger/v1/lots.grpc.pb.h"
#include "services/lots/lots_projection.h"

namespace lotledger::lots {

// What the lots service is made of: its topic, inputs and projection. Its
// apply function (IndexedLotsApply) holds a new genealogy index.
command::ServiceSpec LotsServiceSpec(int32_t partitions);

// The genealogy index the apply function of `core` feeds (a core opened
// with LotsServiceSpec); null for a core opened with another function.
std::shared_ptr<GenealogyIndex> GenealogyIndexOf(
    const command::ServiceCore& core);

class LotsServiceImpl final : public v1::LotsService::Service {
 public:
  // Loads the core's genealogy index from the projection (GenealogyIndexOf;
  // a failure is logged and Trace reads RocksDB instead). Env
  // LOTLEDGER_GENEALOGY_INDEX=off leaves it unloaded, so traces read
  // RocksDB (to compare the two, e.g. in the lots_trace bench).
  LotsServiceImpl(command::ServiceCore* core, const server::Guard* guard,
                  const Clock* clock);

  grpc::Status DefineProduct(grpc::ServerContext* ctx,
                             const v1::DefineProductRequest* req,
                             v1::DefineProductResponse* resp) override;
  grpc::Status GetProduct(grpc::ServerContext* ctx,
                          const v1::GetProductRequest* req,
                          v1::GetProductResponse* resp) override;
  grpc::Status CreateLot(grpc::ServerContext* ctx,
                         const v1::CreateLotRequest* req,
                         v1::CreateLotResponse* resp) override;
  grpc::Status GetLot(grpc::ServerContext* ctx, const v1::GetLotRequest* req,
                      v1::GetLotResponse* resp) override;
  grpc::Status CorrectLot(grpc::ServerContext* ctx,
                          const v1::CorrectLotRequest* req,
                          v1::CorrectLotResponse* resp) override;
  grpc::Status ListLots(grpc::ServerContext* ctx,
                        const v1::ListLotsRequest* req,
                        v1::ListLotsResponse* resp) override;
  grpc::Status Trace(grpc::ServerContext* ctx, const v1::TraceRequest* req,
                     v1::TraceResponse* resp) override;
  grpc::Status ResolveUdi(grpc::ServerContext* ctx,
                          const v1::ResolveUdiRequest* req,
                          v1::ResolveUdiResponse* resp) override;
  // The serial register (role admin for AssignSerials). A retried request
  // id answers what the first attempt assigned.
  grpc::Status AssignSerials(grpc::ServerContext* ctx,
                             const v1::AssignSerialsRequest* req,
                             v1::AssignSerialsResponse* resp) override;
  grpc::Status GetSerial(grpc::ServerContext* ctx,
                         const v1::GetSerialRequest* req,
                         v1::GetSerialResponse* resp) override;

 private:
  // Runs a lots command on `aggregates` and returns the runner's result.
  absl::StatusOr<command::CommandResult> RunCommand(
      const grpc::ServerContext& ctx, const server::Principal& principal,
      const std::string& request_id, std::vector<std::string> aggregates,
      v1::LotsCommand cmd);
  // Loads what Decide needs for `cmd` from the projection, then decides.
  absl::StatusOr<std::vector<v1::Event>> DecideWithState(
      const v1::LotsCommand& cmd) const;
  absl::StatusOr<v1::ResolveUdiResponse> ResolveScan(
      std::string_view scan) const;

  command::ServiceCore* core_;
  const server::Guard* guard_;
  const Clock* clock_;
  std::shared_ptr<GenealogyIndex> index_;
  LotsQueries queries_;
};

}  // namespace lotledger::lots

#endif  // LOTLEDGER_SERVICES_LOTS_LOTS_SERVICE_H_
