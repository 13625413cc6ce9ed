// InventoryServiceImpl: the gRPC face of the inventory service
// (proto/lotledger/v1/inventory.proto). Commands go through the shared
// command path (libs/command); the rules are the pure inventory::Decide
// (libs/domain/inventory); queries read the projection
// (inventory_projection.h).
//
// Every RPC of the proto is built: locations, receive (by lot id or GS1
// scan), transfer, ship (one atomic append for all lines), return, scrap,
// adjust, AllocateFefo, the queries (GetLotInventory, ListLocations,
// ListStock, TraceLotDistribution, ListMovements, NearExpiryReport,
// GetKpis), WatchAlerts, and customers as master data (RegisterCustomer,
// UpdateCustomer, GetCustomer as of a time, ListCustomers; a shipment and
// a pick list use the registered record, a shelf-life override is signed
// by the caller), and standard unit costs (SetUnitCost, admin) with the
// value KPIs of GetKpis (inventory_values.h).
//
// This file holds the handlers. The expiry sweep (expiry_sweeper.h)
// raises the expiry alerts through the same command path; WatchAlerts
// streams them (alert_stream.h). "Today" is the injected Clock's, in the
// warehouse calendar (kWarehouseUtcOffsetMinutes: UTC for now); the
// decider derives every business day from the command (ship date
// included), and the handlers answer with what the events recorded: a
// retried ShipStock answers the first attempt's shipment and ship date.
//
// Thread-safety: gRPC calls the handlers from many threads at once; all
// state is in the ServiceCore, which is thread-safe. SweepExpiry and Stop
// may be called from any thread; sweeps run one at a time.
#ifndef LOTLEDGER_SERVICES_INVENTORY_INVENTORY_SERVICE_H_
#define LOTLEDGER_SERVICES_INVENTORY_INVENTORY_SERVICE_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "libs/command/service_core.h"
#include "libs/common/clock.h"
#include "libs/eventlog/event_log.h"
#include "libs/server/auth.h"
#include "lotledger/v1/inventory.grpc.pb.h"
#include "lotledger/v1/inventory_domain.pb.h"
#include "services/inventory/alert_stream.h"
#include "services/inventory/expiry_sweeper.h"
#include "services/inventory/inventory_projection.h"
#include "services/inventory/inventory_serials.h"

namespace lotledger::inventory {

// What the inventory service is made of: its topic and inputs (the
// registry's, libs/common/topics.h) and its projection.
command::ServiceSpec InventoryServiceSpec(int32_t partitions);

struct InventoryServiceOptions {
  // The log the service writes: a sweep first waits until the projection
  // has applied the inventory topic up to its end, so alerts written
  // before a restart are seen. Null: sweeps decide on the projection as
  // it is (only safe when nothing else writes the topic).
  eventlog::EventLog* log = nullptr;
  // Period of the background expiry sweep (the first runs at start); zero
  // runs none.
  absl::Duration sweep_interval = absl::ZeroDuration();
  // Refuse a shipment to a customer id that is not registered
  // (RegisterCustomer). False (the default): such a shipment ships with
  // the customer fields typed into it, as before customers were master
  // data. LOTLEDGER_REQUIRE_REGISTERED_CUSTOMERS=true in the environment
  // sets it too.
  bool require_registered_customers = false;
};

class InventoryServiceImpl final : public v1::InventoryService::Service {
 public:
  InventoryServiceImpl(command::ServiceCore* core, const server::Guard* guard,
                       const Clock* clock,
                       InventoryServiceOptions options = {});
  ~InventoryServiceImpl() override;  // Stop()

  // Raises every expiry alert due today (by the clock) for lots with stock
  // on hand; returns what it did. Runs one sweep at a time.
  absl::StatusOr<SweepResult> SweepExpiry();

  // Ends WatchAlerts streams and the background sweep; call before the
  // gRPC server shuts down so that open streams do not hold it up.
  void Stop();

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

  grpc::Status RegisterCustomer(grpc::ServerContext* ctx,
                                const v1::RegisterCustomerRequest* req,
                                v1::RegisterCustomerResponse* resp) override;
  grpc::Status UpdateCustomer(grpc::ServerContext* ctx,
                              const v1::UpdateCustomerRequest* req,
                              v1::UpdateCustomerResponse* resp) override;
  grpc::Status GetCustomer(grpc::ServerContext* ctx,
                           const v1::GetCustomerRequest* req,
                           v1::GetCustomerResponse* resp) override;
  grpc::Status ListCustomers(grpc::ServerContext* ctx,
                             const v1::ListCustomersRequest* req,
                             v1::ListCustomersResponse* resp) override;
  grpc::Status ReportUsage(grpc::ServerContext* ctx,
                           const v1::ReportUsageRequest* req,
                           v1::ReportUsageResponse* resp) override;
  grpc::Status GetSerialStatus(grpc::ServerContext* ctx,
                               const v1::GetSerialStatusRequest* req,
                               v1::GetSerialStatusResponse* resp) override;
  grpc::Status SetUnitCost(grpc::ServerContext* ctx,
                           const v1::SetUnitCostRequest* req,
                           v1::SetUnitCostResponse* resp) override;

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
  // The lines of `shipment_id` as the projection recorded them, from the
  // movements of `lot_ids` (a retry's answer).
  absl::StatusOr<std::vector<v1::StockShipped>> RecordedShipment(
      const std::string& shipment_id,
      const std::vector<std::string>& lot_ids) const;
  // The shipment `lines` (StockShipped events of one shipment) describe.
  static v1::Shipment ShipmentOf(const std::string& shipment_id,
                                 const std::vector<v1::StockShipped>& lines);
  // Runs RegisterCustomer or UpdateCustomer (`cmd`) on the customer's
  // aggregate; answers with the version the command (or, on a retry, its
  // first attempt) wrote, else the current one, and whether it wrote one.
  absl::Status RunCustomerCommand(
      const grpc::ServerContext& ctx, const server::Principal& principal,
      const std::string& request_id, const v1::ConsistencyToken& after,
      const std::string& customer_id, v1::InventoryCommand cmd,
      v1::CustomerVersion* version, bool* wrote, v1::ConsistencyToken* token);
  // Today in the warehouse calendar, by the service's clock.
  v1::Date Today() const;
  // Parses a GS1 scan into the label Decide checks.
  absl::StatusOr<v1::ScannedLabel> ParseScan(std::string_view scan) const;

  command::ServiceCore* core_;
  const server::Guard* guard_;
  const Clock* clock_;
  const bool require_registered_customers_;
  InventoryQueries queries_;
  SerialQueries serials_;
  AlertStreams alerts_;
  ExpirySweeper sweeper_;
};

}  // namespace lotledger::inventory

#endif  // LOTLEDGER_SERVICES_INVENTORY_INVENTORY_SERVICE_H_
