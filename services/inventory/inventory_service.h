// InventoryServiceImpl: the gRPC face of the inventory service
// (proto/lotledger/v1/inventory.proto). Commands go through the shared
// command path (libs/command); the rules are the pure inventory::Decide
// (libs/domain/inventory); queries read the projection
// (inventory_projection.h).
//
// Built: locations, receive (by lot id or GS1 scan), transfer, ship (one
// atomic append for all lines), return, scrap, adjust, GetLotInventory,
// ListLocations, AllocateFefo. Not built yet, answered UNIMPLEMENTED:
// WatchAlerts, NearExpiryReport, ListStock, TraceLotDistribution,
// ListMovements, GetKpis, and the expiry sweep (no ExpiryThresholdCrossed
// or LotExpired is written yet).
//
// The warehouse calendar is UTC (utc_offset_minutes 0) for now.
//
// Thread-safety: gRPC calls the handlers from many threads at once; all
// state is in the ServiceCore, which is thread-safe.
#ifndef LOTLEDGER_SERVICES_INVENTORY_INVENTORY_SERVICE_H_
#define LOTLEDGER_SERVICES_INVENTORY_INVENTORY_SERVICE_H_

#include <string>
#include <vector>

#include "libs/command/service_core.h"
#include "libs/common/clock.h"
#include "libs/server/auth.h"
#include "lotledger/v1/inventory.grpc.pb.h"
#include "lotledger/v1/inventory_domain.pb.h"
#include "services/inventory/inventory_projection.h"

namespace lotledger::inventory {

// What the inventory service is made of: its topic, inputs (lots and
// quality topics) and projection.
command::ServiceSpec InventoryServiceSpec(int32_t partitions);

class InventoryServiceImpl final : public v1::InventoryService::Service {
 public:
  InventoryServiceImpl(command::ServiceCore* core, const server::Guard* guard,
                       const Clock* clock);

  grpc::Status CreateLocation(grpc::ServerContext* ctx,
                              const v1::CreateLocationRequest* req,
                              v1::CreateLocationResponse* resp) override;
  grpc::Status ListLocations(grpc::ServerContext* ctx,
                             const v1::ListLocationsRequest* req,
                             v1::ListLocationsResponse* resp) override;
  grpc::Status ReceiveStock(grpc::ServerContext* ctx,
                            const v1::ReceiveStockRequest* req,
                            v1::ReceiveStockResponse* resp) override;
  grpc::Status TransferStock(grpc::ServerContext* ctx,
                             const v1::TransferStockRequest* req,
                             v1::TransferStockResponse* resp) override;
  grpc::Status ShipStock(grpc::ServerContext* ctx,
                         const v1::ShipStockRequest* req,
                         v1::ShipStockResponse* resp) override;
  grpc::Status ReturnStock(grpc::ServerContext* ctx,
                           const v1::ReturnStockRequest* req,
                           v1::ReturnStockResponse* resp) override;
  grpc::Status ScrapStock(grpc::ServerContext* ctx,
                          const v1::ScrapStockRequest* req,
                          v1::ScrapStockResponse* resp) override;
  grpc::Status AdjustStock(grpc::ServerContext* ctx,
                           const v1::AdjustStockRequest* req,
                           v1::AdjustStockResponse* resp) override;
  grpc::Status AllocateFefo(grpc::ServerContext* ctx,
                            const v1::AllocateFefoRequest* req,
                            v1::AllocateFefoResponse* resp) override;
  grpc::Status GetLotInventory(grpc::ServerContext* ctx,
                               const v1::GetLotInventoryRequest* req,
                               v1::GetLotInventoryResponse* resp) override;

  // Not built yet: UNIMPLEMENTED after authorization.
  grpc::Status WatchAlerts(
      grpc::ServerContext* ctx, const v1::WatchAlertsRequest* req,
      grpc::ServerWriter<v1::InventoryAlert>* writer) override;
  grpc::Status NearExpiryReport(grpc::ServerContext* ctx,
                                const v1::NearExpiryReportRequest* req,
                                v1::NearExpiryReportResponse* resp) override;
  grpc::Status ListStock(grpc::ServerContext* ctx,
                         const v1::ListStockRequest* req,
                         v1::ListStockResponse* resp) override;
  grpc::Status TraceLotDistribution(
      grpc::ServerContext* ctx, const v1::TraceLotDistributionRequest* req,
      v1::TraceLotDistributionResponse* resp) override;
  grpc::Status ListMovements(grpc::ServerContext* ctx,
                             const v1::ListMovementsRequest* req,
                             v1::ListMovementsResponse* resp) override;
  grpc::Status GetKpis(grpc::ServerContext* ctx, const v1::GetKpisRequest* req,
                       v1::GetKpisResponse* resp) override;

 private:
  // Runs an inventory command that locks `aggregates` (lot ids, or the
  // location id) and names `lot_ids` (loaded into the decision state).
  absl::StatusOr<command::CommandResult> RunCommand(
      const grpc::ServerContext& ctx, const server::Principal& principal,
      const std::string& request_id, const v1::ConsistencyToken& after,
      std::vector<std::string> aggregates, std::vector<std::string> lot_ids,
      v1::InventoryCommand cmd);
  // A movement of one lot's stock: runs `cmd` on `lot_id` and answers with
  // the lot's inventory and the consistency token. `field` names the
  // request in the error for a missing lot id.
  absl::Status MoveOneLot(const grpc::ServerContext& ctx,
                          const server::Principal& principal,
                          const std::string& field, const std::string& lot_id,
                          const std::string& request_id,
                          const v1::ConsistencyToken& after,
                          v1::InventoryCommand cmd, v1::LotInventory* lot,
                          v1::ConsistencyToken* token);
  // Loads what Decide needs for `cmd` from the projection, then decides.
  absl::StatusOr<std::vector<v1::Event>> DecideWithState(
      const std::vector<std::string>& lot_ids,
      const v1::InventoryCommand& cmd) const;
  // Parses a GS1 scan into the label Decide checks.
  absl::StatusOr<v1::ScannedLabel> ParseScan(std::string_view scan) const;

  command::ServiceCore* core_;
  const server::Guard* guard_;
  const Clock* clock_;
  InventoryQueries queries_;
};

}  // namespace lotledger::inventory

#endif  // LOTLEDGER_SERVICES_INVENTORY_INVENTORY_SERVICE_H_
