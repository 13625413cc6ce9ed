#include "services/inventory/inventory_service.h"

#include <algorithm>
#include <cstdlib>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "libs/common/ids.h"
#include "libs/common/proto_time.h"
#include "libs/common/status_macros.h"
#include "libs/common/topics.h"
#include "libs/domain/inventory/customers.h"
#include "libs/domain/inventory/decider.h"
#include "libs/domain/inventory/fefo.h"
#include "libs/domain/inventory/gate.h"
#include "libs/domain/serials/serials.h"
#include "libs/gs1/element_string.h"
#include "libs/server/rpc.h"
#include "services/inventory/inventory_reports.h"
#include "services/inventory/inventory_values.h"

namespace lotledger::inventory {
namespace {

constexpr char kService[] = "/lotledger.v1.InventoryService/";

std::string Method(const char* name) { return absl::StrCat(kService, name); }

v1::Date ToDate(const gs1::Date& d) {
  v1::Date out;
  out.set_year(d.year);
  out.set_month(d.month);
  out.set_day(d.day);
  return out;
}

absl::Status BadPageToken() {
  return absl::InvalidArgumentError(
      "page_token: not a token this query returned; pass next_page_token "
      "as it came");
}

// The aggregates to lock: each once, so no stripe is taken twice.
std::vector<std::string> Unique(std::vector<std::string> ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

// LOTLEDGER_REQUIRE_REGISTERED_CUSTOMERS=true (or 1): refuse shipments
// to customer ids that are not registered, in every inventory process.
bool RequireRegisteredFromEnv() {
  const char* v = std::getenv("LOTLEDGER_REQUIRE_REGISTERED_CUSTOMERS");
  if (v == nullptr) return false;
  const std::string value = absl::AsciiStrToLower(v);
  return value == "1" || value == "true";
}

}  // namespace

command::ServiceSpec InventoryServiceSpec(int32_t partitions) {
  command::ServiceSpec spec;
  spec.name = "inventory";
  spec.own_topic = topics::WrittenBy(spec.name);
  spec.partitions = partitions;
  // Recalls (RecallInitiated) block every lot in their scope.
  spec.input_topics = topics::ReadBy(spec.name);
  spec.column_families = InventoryColumnFamilies();
  spec.apply = ApplyInventoryEvent;
  // 2: shipped and scrapped quantities per item and day (KPIs) counted from
  // the lot id, so a rebuild counts what the live projection did.
  // 3: a lot's customer balances are keys of their own in inv_lots (lot
  // id \0 customer id), out of the lot's row.
  // 4: no lot_shipments family; a lot's shipment lines are read from its
  // movements.
  // 5: the serial register, where each serial is and recalls by serial
  // (inventory_serials.h); usage reports among a lot's movements.
  // 6: receipts per item and day in `activity` ("recv") and the value
  // KPIs' families (inventory_values.h), for the value KPIs.
  spec.projection_format = 6;
  return spec;
}

InventoryServiceImpl::InventoryServiceImpl(command::ServiceCore* core,
                                           const server::Guard* guard,
                                           const Clock* clock,
                                           InventoryServiceOptions options)
    : core_(core),
      guard_(guard),
      clock_(clock),
      require_registered_customers_(options.require_registered_customers ||
                                    RequireRegisteredFromEnv()),
      queries_(&core->store()),
      serials_(&core->store()),
      alerts_(core, &queries_),
      sweeper_(core, &queries_, clock,
               [this](const std::vector<std::string>& lot_ids,
                      const v1::InventoryCommand& cmd) {
                 return DecideWithState(lot_ids, cmd);
               },
               {.log = options.log, .sweep_interval = options.sweep_interval}) {
  sweeper_.Start();
}

InventoryServiceImpl::~InventoryServiceImpl() { Stop(); }

void InventoryServiceImpl::Stop() {
  alerts_.Stop();
  sweeper_.Stop();
}

absl::StatusOr<SweepResult> InventoryServiceImpl::SweepExpiry() {
  return sweeper_.SweepExpiry();
}

absl::StatusOr<command::CommandResult> InventoryServiceImpl::RunCommand(
    const grpc::ServerContext& ctx, const server::Principal& principal,
    const std::string& request_id, const v1::ConsistencyToken& after,
    std::vector<std::string> aggregates, std::vector<std::string> lot_ids,
    v1::InventoryCommand cmd) {
  const absl::Time now = clock_->Now();
  ToTimestamp(now, cmd.mutable_now());
  cmd.set_actor(principal.name);
  cmd.set_utc_offset_minutes(kWarehouseUtcOffsetMinutes);
  cmd.set_require_registered_customers(require_registered_customers_);
  command::CommandContext cc =
      server::MakeCommandContext(ctx, principal, request_id, after, now);
  return core_->runner().Run(cc, Unique(std::move(aggregates)),
                             [&]() { return DecideWithState(lot_ids, cmd); });
}

absl::Status InventoryServiceImpl::MoveOneLot(
    const grpc::ServerContext& ctx, const server::Principal& principal,
    const std::string& field, const std::string& lot_id,
    const std::string& request_id, const v1::ConsistencyToken& after,
    v1::InventoryCommand cmd, v1::LotInventory* lot,
    v1::ConsistencyToken* token) {
  if (lot_id.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".lot_id: required"));
  }
  ASSIGN_OR_RETURN(command::CommandResult r,
                   RunCommand(ctx, principal, request_id, after, {lot_id},
                              {lot_id}, std::move(cmd)));
  ASSIGN_OR_RETURN(*lot, queries_.GetLot(lot_id));
  *token = command::ToToken(r.token);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::Event>> InventoryServiceImpl::DecideWithState(
    const std::vector<std::string>& lot_ids,
    const v1::InventoryCommand& cmd) const {
  v1::InventoryDecisionState state;
  ASSIGN_OR_RETURN(InventoryQueries::LocationsLease locations,
                   queries_.LeaseLocations());
  // Lent for the decision only: swapped in, and back out on every path.
  state.mutable_locations()->swap(locations.map());
  struct SwapBack {
    v1::InventoryDecisionState& state;
    InventoryQueries::LocationsLease& lease;
    ~SwapBack() { state.mutable_locations()->swap(lease.map()); }
  } swap_back{state, locations};
  for (const std::string& id : lot_ids) {
    if (state.lots().contains(id)) continue;
    ASSIGN_OR_RETURN(std::optional<v1::LotInventory> lot, queries_.FindLot(id));
    if (!lot.has_value()) continue;
    if (!lot->item().empty() && !state.products().contains(lot->item())) {
      ASSIGN_OR_RETURN(std::optional<v1::Product> product,
                       queries_.FindProduct(lot->item()));
      if (product.has_value()) {
        (*state.mutable_products())[lot->item()] = *std::move(product);
      }
    }
    (*state.mutable_lots())[id] = *std::move(lot);
  }
  // The customer the command names, when registered: its current version.
  std::string customer_id;
  if (cmd.has_ship()) customer_id = cmd.ship().customer().customer_id();
  if (cmd.has_register_customer()) {
    customer_id = cmd.register_customer().customer().customer_id();
  }
  if (cmd.has_update_customer()) {
    customer_id = cmd.update_customer().customer().customer_id();
  }
  if (!customer_id.empty()) {
    ASSIGN_OR_RETURN(std::optional<v1::CustomerVersion> current,
                     queries_.CurrentCustomer(customer_id));
    if (current.has_value()) {
      (*state.mutable_customers())[customer_id] = *std::move(current);
    }
  }
  // The serials the command names: where each is, its lot by the
  // register; a shipment's recalls by serial.
  RETURN_IF_ERROR(serials_.LoadForCommand(cmd, state));
  // SetUnitCost: the product and its cost history.
  if (cmd.has_set_unit_cost() && !cmd.set_unit_cost().item().empty()) {
    const std::string& item = cmd.set_unit_cost().item();
    ASSIGN_OR_RETURN(std::optional<v1::Product> product,
                     queries_.FindProduct(item));
    if (product.has_value()) (*state.mutable_products())[item] = *product;
    ASSIGN_OR_RETURN(*state.mutable_unit_costs(),
                     LoadUnitCosts(queries_.store(), item));
  }
  return Decide(state, cmd);
}

v1::Date InventoryServiceImpl::Today() const {
  google::protobuf::Timestamp now;
  ToTimestamp(clock_->Now(), &now);
  return BusinessDay(now, kWarehouseUtcOffsetMinutes);
}

absl::StatusOr<v1::ScannedLabel> InventoryServiceImpl::ParseScan(
    std::string_view scan) const {
  gs1::ParseOptions options;
  options.reference_year =
      absl::ToCivilYear(clock_->Now(), absl::UTCTimeZone()).year();
  absl::StatusOr<gs1::Udi> udi = gs1::ParseUdi(scan, options);
  if (!udi.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("receive.gs1_scan: ", udi.status().message()));
  }
  if (udi->gtin.empty()) {
    return absl::InvalidArgumentError("receive.gs1_scan: has no GTIN (AI 01)");
  }
  if (udi->lot.empty()) {
    return absl::InvalidArgumentError(
        "receive.gs1_scan: has no lot number (AI 10)");
  }
  v1::ScannedLabel label;
  label.set_gtin(udi->gtin);
  label.set_lot_number(udi->lot);
  if (udi->expiry.has_value())
    *label.mutable_expires_on() = ToDate(*udi->expiry);
  if (udi->produced.has_value()) {
    *label.mutable_produced_on() = ToDate(*udi->produced);
  }
  label.set_serial(udi->serial);
  return label;
}

grpc::Status InventoryServiceImpl::CreateLocation(
    grpc::ServerContext* ctx, const v1::CreateLocationRequest* req,
    v1::CreateLocationResponse* resp) {
  return server::Serve(
      *guard_, *ctx, Method("CreateLocation"),
      [&](const server::Principal& p) -> absl::Status {
        if (req->location_id().empty()) {
          return absl::InvalidArgumentError("location_id: required");
        }
        v1::InventoryCommand cmd;
        *cmd.mutable_create_location() = *req;
        // Locked by its own id and its parent's, so a child is never
        // created beside a parent being created differently.
        std::vector<std::string> aggregates = {req->location_id()};
        if (!req->parent_id().empty()) aggregates.push_back(req->parent_id());
        ASSIGN_OR_RETURN(command::CommandResult r,
                         RunCommand(*ctx, p, req->request_id(), req->after(),
                                    std::move(aggregates), {}, std::move(cmd)));
        ASSIGN_OR_RETURN(std::optional<v1::Location> location,
                         queries_.FindLocation(req->location_id()));
        if (!location.has_value()) {
          return absl::InternalError(
              absl::StrCat("location ", req->location_id(), " was not stored"));
        }
        *resp->mutable_location() = *std::move(location);
        *resp->mutable_token() = command::ToToken(r.token);
        return absl::OkStatus();
      });
}

grpc::Status InventoryServiceImpl::ListLocations(
    grpc::ServerContext* ctx, const v1::ListLocationsRequest* req,
    v1::ListLocationsResponse* resp) {
  return server::Serve(
      *guard_, *ctx, Method("ListLocations"),
      [&](const server::Principal&) -> absl::Status {
        RETURN_IF_ERROR(
            server::WaitForToken(core_->projector(), *ctx, req->after()));
        LocationMap all;
        RETURN_IF_ERROR(queries_.LoadLocations(&all));
        if (!req->under_location_id().empty() &&
            !all.contains(req->under_location_id())) {
          return absl::NotFoundError(absl::StrCat(
              "location ", req->under_location_id(), " does not exist"));
        }
        std::vector<std::string> ids;
        for (const auto& [id, location] : all) {
          if (req->under_location_id().empty() ||
              IsUnder(all, id, req->under_location_id())) {
            ids.push_back(id);
          }
        }
        std::sort(ids.begin(), ids.end());
        for (const std::string& id : ids) *resp->add_locations() = all.at(id);
        return absl::OkStatus();
      });
}

grpc::Status InventoryServiceImpl::ReceiveStock(
    grpc::ServerContext* ctx, const v1::ReceiveStockRequest* req,
    v1::ReceiveStockResponse* resp) {
  return server::Serve(
      *guard_, *ctx, Method("ReceiveStock"),
      [&](const server::Principal& p) -> absl::Status {
        v1::InventoryCommand cmd;
        *cmd.mutable_receive() = *req;
        std::string lot_id;
        if (req->has_gs1_scan()) {
          if (req->gs1_scan().empty()) {
            return absl::InvalidArgumentError("receive.gs1_scan: required");
          }
          ASSIGN_OR_RETURN(*cmd.mutable_scanned_label(),
                           ParseScan(req->gs1_scan()));
          lot_id = MakeLotId(cmd.scanned_label().gtin(),
                             cmd.scanned_label().lot_number());
        } else {
          lot_id = req->lot_id();
        }
        if (lot_id.empty()) {
          return absl::InvalidArgumentError(
              "receive: lot_id or gs1_scan required");
        }
        return MoveOneLot(*ctx, p, "receive", lot_id, req->request_id(),
                          req->after(), std::move(cmd), resp->mutable_lot(),
                          resp->mutable_token());
      });
}

grpc::Status InventoryServiceImpl::TransferStock(
    grpc::ServerContext* ctx, const v1::TransferStockRequest* req,
    v1::TransferStockResponse* resp) {
  return server::Serve(*guard_, *ctx, Method("TransferStock"),
                       [&](const server::Principal& p) -> absl::Status {
                         v1::InventoryCommand cmd;
                         *cmd.mutable_transfer() = *req;
                         return MoveOneLot(*ctx, p, "transfer", req->lot_id(),
                                           req->request_id(), req->after(),
                                           std::move(cmd), resp->mutable_lot(),
                                           resp->mutable_token());
                       });
}

grpc::Status InventoryServiceImpl::ShipStock(grpc::ServerContext* ctx,
                                             const v1::ShipStockRequest* req,
                                             v1::ShipStockResponse* resp) {
  return server::Serve(
      *guard_, *ctx, Method("ShipStock"),
      [&](const server::Principal& p) -> absl::Status {
        // The lots to lock; the shape of the request (lines, lot ids,
        // quantities) is the decider's to check (ValidateShipShape).
        std::vector<std::string> lot_ids;
        for (const v1::ShipmentLine& line : req->lines()) {
          if (!line.lot_id().empty()) lot_ids.push_back(line.lot_id());
        }
        lot_ids = Unique(std::move(lot_ids));
        v1::InventoryCommand cmd;
        *cmd.mutable_ship() = *req;
        if (req->shipment_id().empty()) {
          // Derived from the request id, so a retry names the same shipment.
          cmd.mutable_ship()->set_shipment_id(
              absl::StrCat("SHP-", req->request_id()));
        }
        const std::string shipment_id = cmd.ship().shipment_id();
        // A shelf-life override is the caller's electronic signature; the
        // credential never reaches the event. Without a signature the
        // decider refuses the override.
        if (req->has_shelf_life_override() &&
            req->shelf_life_override().has_signature()) {
          ASSIGN_OR_RETURN(
              *cmd.mutable_shelf_life_override_signature(),
              guard_->Sign(p,
                           server::SignatureInputOf(
                               req->shelf_life_override().signature(),
                               "shelf_life_override.signature"),
                           {.method = Method("ShipStock"),
                            .aggregate_id = shipment_id,
                            .request_id = req->request_id()},
                           clock_->Now()));
          cmd.mutable_ship()->mutable_shelf_life_override()->clear_signature();
        }
        // Every lot of the shipment is locked, and the customer, so that
        // an update of its record is not decided beside it; the lines are
        // appended in one batch: all lines or none.
        std::vector<std::string> aggregates = lot_ids;
        if (!req->customer().customer_id().empty()) {
          aggregates.push_back(
              CustomerAggregateId(req->customer().customer_id()));
        }
        ASSIGN_OR_RETURN(
            command::CommandResult r,
            RunCommand(*ctx, p, req->request_id(), req->after(),
                       std::move(aggregates), lot_ids, std::move(cmd)));
        // The answer is the shipment as recorded: the lines this call
        // wrote, or on a retry those the first attempt wrote (its ship
        // date, not today's).
        std::vector<v1::StockShipped> lines;
        for (const v1::Event& e : r.events) {
          if (e.has_stock_shipped()) lines.push_back(e.stock_shipped());
        }
        if (r.replayed) {
          ASSIGN_OR_RETURN(lines, RecordedShipment(shipment_id, lot_ids));
        }
        *resp->mutable_shipment() = ShipmentOf(shipment_id, lines);
        *resp->mutable_token() = command::ToToken(r.token);
        return absl::OkStatus();
      });
}

absl::StatusOr<std::vector<v1::StockShipped>>
InventoryServiceImpl::RecordedShipment(
    const std::string& shipment_id,
    const std::vector<std::string>& lot_ids) const {
  constexpr int kPage = 1000;
  std::vector<v1::StockShipped> lines;
  for (const std::string& lot_id : lot_ids) {
    int64_t after = -1;
    bool more = true;
    while (more) {
      std::vector<v1::Event> events;
      std::vector<int64_t> offsets;
      RETURN_IF_ERROR(queries_.ListMovements(lot_id, after, kPage, &events,
                                             &offsets, &more));
      for (const v1::Event& e : events) {
        if (e.has_stock_shipped() &&
            e.stock_shipped().shipment_id() == shipment_id) {
          lines.push_back(e.stock_shipped());
        }
      }
      if (!offsets.empty()) after = offsets.back();
    }
  }
  if (lines.empty()) {
    return absl::InternalError(
        absl::StrCat("shipment ", shipment_id,
                     " was recorded, but its lines are not in the projection"));
  }
  return lines;
}

v1::Shipment InventoryServiceImpl::ShipmentOf(
    const std::string& shipment_id,
    const std::vector<v1::StockShipped>& lines) {
  v1::Shipment s;
  s.set_shipment_id(shipment_id);
  if (lines.empty()) return s;
  // Every line carries the shipment's customer, reference and ship date.
  const v1::StockShipped& first = lines.front();
  *s.mutable_customer() = first.customer();
  s.set_reference(first.reference());
  *s.mutable_ship_date() = first.ship_date();
  for (int i = 0; i < first.line_count(); ++i) s.add_lines();
  for (const v1::StockShipped& line : lines) {
    if (line.line_index() < 0 || line.line_index() >= s.lines_size()) continue;
    v1::ShipmentLine* out = s.mutable_lines(line.line_index());
    out->set_lot_id(line.lot_id());
    out->set_location_id(line.from_location_id());
    // As written: the quantity in the lot's unit.
    *out->mutable_quantity() = line.quantity();
  }
  return s;
}

grpc::Status InventoryServiceImpl::ReturnStock(
    grpc::ServerContext* ctx, const v1::ReturnStockRequest* req,
    v1::ReturnStockResponse* resp) {
  return server::Serve(*guard_, *ctx, Method("ReturnStock"),
                       [&](const server::Principal& p) -> absl::Status {
                         v1::InventoryCommand cmd;
                         *cmd.mutable_return_stock() = *req;
                         return MoveOneLot(
                             *ctx, p, "return_stock", req->lot_id(),
                             req->request_id(), req->after(), std::move(cmd),
                             resp->mutable_lot(), resp->mutable_token());
                       });
}

grpc::Status InventoryServiceImpl::ScrapStock(grpc::ServerContext* ctx,
                                              const v1::ScrapStockRequest* req,
                                              v1::ScrapStockResponse* resp) {
  return server::Serve(
      *guard_, *ctx, Method("ScrapStock"),
      [&](const server::Principal& p) -> absl::Status {
        v1::InventoryCommand cmd;
        *cmd.mutable_scrap() = *req;
        if (req->lot_id().empty()) {
          return absl::InvalidArgumentError("lot_id: required");
        }
        // Scrapping is an electronic signature of the
        // caller; the credential never reaches the event.
        v1::SignatureRequest sig = req->signature();
        if (sig.meaning().empty()) sig.set_meaning("scrapped");
        if (sig.reason().empty()) {
          sig.set_reason(absl::StrCat(v1::ScrapReason_Name(req->reason()),
                                      req->notes().empty() ? "" : ": ",
                                      req->notes()));
        }
        ASSIGN_OR_RETURN(
            *cmd.mutable_scrap_signature(),
            guard_->Sign(p, server::SignatureInputOf(sig, "signature"),
                         {.method = Method("ScrapStock"),
                          .aggregate_id = req->lot_id(),
                          .request_id = req->request_id()},
                         clock_->Now()));
        cmd.mutable_scrap()->clear_signature();
        return MoveOneLot(*ctx, p, "scrap", req->lot_id(), req->request_id(),
                          req->after(), std::move(cmd), resp->mutable_lot(),
                          resp->mutable_token());
      });
}

grpc::Status InventoryServiceImpl::AdjustStock(
    grpc::ServerContext* ctx, const v1::AdjustStockRequest* req,
    v1::AdjustStockResponse* resp) {
  return server::Serve(*guard_, *ctx, Method("AdjustStock"),
                       [&](const server::Principal& p) -> absl::Status {
                         v1::InventoryCommand cmd;
                         *cmd.mutable_adjust() = *req;
                         return MoveOneLot(*ctx, p, "adjust", req->lot_id(),
                                           req->request_id(), req->after(),
                                           std::move(cmd), resp->mutable_lot(),
                                           resp->mutable_token());
                       });
}

grpc::Status InventoryServiceImpl::AllocateFefo(
    grpc::ServerContext* ctx, const v1::AllocateFefoRequest* req,
    v1::AllocateFefoResponse* resp) {
  return server::Serve(
      *guard_, *ctx, Method("AllocateFefo"),
      [&](const server::Principal&) -> absl::Status {
        if (req->item().empty()) {
          return absl::InvalidArgumentError("item: required");
        }
        RETURN_IF_ERROR(
            server::WaitForToken(core_->projector(), *ctx, req->after()));
        std::optional<v1::CustomerRecord> registered;
        if (!req->customer().customer_id().empty()) {
          ASSIGN_OR_RETURN(
              std::optional<v1::CustomerVersion> current,
              queries_.CurrentCustomer(req->customer().customer_id()));
          if (current.has_value()) registered = current->customer();
        }
        // An item tracked by serial: only serials that may ship are
        // picked, and each line names its serials.
        ASSIGN_OR_RETURN(std::optional<v1::Product> product,
                         queries_.FindProduct(req->item()));
        const bool by_serial =
            product.has_value() && product->tracking() == v1::TRACKING_SERIAL;
        SerialFefo serial_fefo(&serials_);
        std::function<absl::Status(v1::LotInventory&)> adjust;
        if (by_serial) {
          adjust = [&](v1::LotInventory& lot) {
            return serial_fefo.Adjust(lot);
          };
        }
        ASSIGN_OR_RETURN(
            *resp,
            AllocateFefoFromStock(
                queries_, *req, Today(),
                registered.has_value() ? &*registered : nullptr, adjust));
        if (by_serial) serial_fefo.AssignSerials(*resp);
        return absl::OkStatus();
      });
}

grpc::Status InventoryServiceImpl::GetLotInventory(
    grpc::ServerContext* ctx, const v1::GetLotInventoryRequest* req,
    v1::GetLotInventoryResponse* resp) {
  return server::Serve(
      *guard_, *ctx, Method("GetLotInventory"),
      [&](const server::Principal&) -> absl::Status {
        if (req->lot_id().empty()) {
          return absl::InvalidArgumentError("lot_id: required");
        }
        RETURN_IF_ERROR(
            server::WaitForToken(core_->projector(), *ctx, req->after()));
        ASSIGN_OR_RETURN(*resp->mutable_lot(), queries_.GetLot(req->lot_id()));
        return absl::OkStatus();
      });
}

grpc::Status InventoryServiceImpl::WatchAlerts(
    grpc::ServerContext* ctx, const v1::WatchAlertsRequest* req,
    grpc::ServerWriter<v1::InventoryAlert>* writer) {
  return server::Serve(*guard_, *ctx, Method("WatchAlerts"),
                       [&](const server::Principal&) -> absl::Status {
                         return alerts_.Serve(*ctx, *req, writer);
                       });
}

grpc::Status InventoryServiceImpl::NearExpiryReport(
    grpc::ServerContext* ctx, const v1::NearExpiryReportRequest* req,
    v1::NearExpiryReportResponse* resp) {
  return server::Serve(*guard_, *ctx, Method("NearExpiryReport"),
                       [&](const server::Principal&) -> absl::Status {
                         RETURN_IF_ERROR(server::WaitForToken(
                             core_->projector(), *ctx, req->after()));
                         ASSIGN_OR_RETURN(*resp, inventory::NearExpiryReport(
                                                     queries_, *req, Today()));
                         return absl::OkStatus();
                       });
}

grpc::Status InventoryServiceImpl::ListStock(grpc::ServerContext* ctx,
                                             const v1::ListStockRequest* req,
                                             v1::ListStockResponse* resp) {
  return server::Serve(
      *guard_, *ctx, Method("ListStock"),
      [&](const server::Principal&) -> absl::Status {
        RETURN_IF_ERROR(
            server::WaitForToken(core_->projector(), *ctx, req->after()));
        ASSIGN_OR_RETURN(*resp, inventory::ListStock(queries_, *req));
        return absl::OkStatus();
      });
}

grpc::Status InventoryServiceImpl::TraceLotDistribution(
    grpc::ServerContext* ctx, const v1::TraceLotDistributionRequest* req,
    v1::TraceLotDistributionResponse* resp) {
  return server::Serve(
      *guard_, *ctx, Method("TraceLotDistribution"),
      [&](const server::Principal&) -> absl::Status {
        if (req->lot_id().empty()) {
          return absl::InvalidArgumentError("lot_id: required");
        }
        RETURN_IF_ERROR(
            server::WaitForToken(core_->projector(), *ctx, req->after()));
        ASSIGN_OR_RETURN(
            *resp, inventory::TraceLotDistribution(queries_, req->lot_id()));
        return absl::OkStatus();
      });
}

grpc::Status InventoryServiceImpl::ListMovements(
    grpc::ServerContext* ctx, const v1::ListMovementsRequest* req,
    v1::ListMovementsResponse* resp) {
  return server::Serve(
      *guard_, *ctx, Method("ListMovements"),
      [&](const server::Principal&) -> absl::Status {
        if (req->lot_id().empty()) {
          return absl::InvalidArgumentError("lot_id: required");
        }
        ASSIGN_OR_RETURN(const int limit, PageSize(req->page_size()));
        int64_t after = -1;
        if (!req->page_token().empty()) {
          uint64_t parsed = 0;
          if (!absl::SimpleHexAtoi(req->page_token(), &parsed)) {
            return BadPageToken();
          }
          after = static_cast<int64_t>(parsed);
        }
        RETURN_IF_ERROR(
            server::WaitForToken(core_->projector(), *ctx, req->after()));
        std::vector<v1::Event> events;
        std::vector<int64_t> offsets;
        bool more = false;
        RETURN_IF_ERROR(queries_.ListMovements(req->lot_id(), after, limit,
                                               &events, &offsets, &more));
        if (events.empty() && after < 0) {
          ASSIGN_OR_RETURN(std::optional<v1::LotInventory> lot,
                           queries_.FindLot(req->lot_id()));
          if (!lot.has_value()) {
            return absl::NotFoundError(
                absl::StrCat("lot ", req->lot_id(), " does not exist"));
          }
        }
        for (v1::Event& e : events) *resp->add_events() = std::move(e);
        if (more) {
          resp->set_next_page_token(
              absl::StrFormat("%016x", static_cast<uint64_t>(offsets.back())));
        }
        return absl::OkStatus();
      });
}

grpc::Status InventoryServiceImpl::GetKpis(grpc::ServerContext* ctx,
                                           const v1::GetKpisRequest* req,
                                           v1::GetKpisResponse* resp) {
  return server::Serve(
      *guard_, *ctx, Method("GetKpis"),
      [&](const server::Principal&) -> absl::Status {
        RETURN_IF_ERROR(
            server::WaitForToken(core_->projector(), *ctx, req->after()));
        ASSIGN_OR_RETURN(*resp, inventory::GetKpis(queries_, *req, Today()));
        return absl::OkStatus();
      });
}

absl::Status InventoryServiceImpl::RunCustomerCommand(
    const grpc::ServerContext& ctx, const server::Principal& principal,
    const std::string& request_id, const v1::ConsistencyToken& after,
    const std::string& customer_id, v1::InventoryCommand cmd,
    v1::CustomerVersion* version, bool* wrote, v1::ConsistencyToken* token) {
  if (customer_id.empty()) {
    return absl::InvalidArgumentError("customer.customer_id: required");
  }
  ASSIGN_OR_RETURN(
      command::CommandResult r,
      RunCommand(ctx, principal, request_id, after,
                 {CustomerAggregateId(customer_id)}, {}, std::move(cmd)));
  // The version this request wrote (on a retry: the first attempt's).
  const std::string event_id = r.replayed         ? r.first.event_id()
                               : r.events.empty() ? std::string()
                                                  : r.events.back().event_id();
  ASSIGN_OR_RETURN(std::optional<v1::CustomerHistory> history,
                   queries_.FindCustomer(customer_id));
  if (!history.has_value() || history->versions().empty()) {
    return absl::InternalError(
        absl::StrCat("customer ", customer_id, " was not stored"));
  }
  *version = history->versions(history->versions_size() - 1);
  for (const v1::CustomerVersion& v : history->versions()) {
    if (!event_id.empty() && v.event_id() == event_id) *version = v;
  }
  *wrote = !event_id.empty();
  *token = command::ToToken(r.token);
  return absl::OkStatus();
}

grpc::Status InventoryServiceImpl::RegisterCustomer(
    grpc::ServerContext* ctx, const v1::RegisterCustomerRequest* req,
    v1::RegisterCustomerResponse* resp) {
  return server::Serve(
      *guard_, *ctx, Method("RegisterCustomer"),
      [&](const server::Principal& p) -> absl::Status {
        v1::InventoryCommand cmd;
        *cmd.mutable_register_customer() = *req;
        bool created = false;
        RETURN_IF_ERROR(RunCustomerCommand(
            *ctx, p, req->request_id(), req->after(),
            req->customer().customer_id(), std::move(cmd),
            resp->mutable_customer(), &created, resp->mutable_token()));
        resp->set_created(created);
        return absl::OkStatus();
      });
}

grpc::Status InventoryServiceImpl::UpdateCustomer(
    grpc::ServerContext* ctx, const v1::UpdateCustomerRequest* req,
    v1::UpdateCustomerResponse* resp) {
  return server::Serve(
      *guard_, *ctx, Method("UpdateCustomer"),
      [&](const server::Principal& p) -> absl::Status {
        v1::InventoryCommand cmd;
        *cmd.mutable_update_customer() = *req;
        bool changed = false;
        RETURN_IF_ERROR(RunCustomerCommand(
            *ctx, p, req->request_id(), req->after(),
            req->customer().customer_id(), std::move(cmd),
            resp->mutable_customer(), &changed, resp->mutable_token()));
        resp->set_changed(changed);
        return absl::OkStatus();
      });
}

grpc::Status InventoryServiceImpl::GetCustomer(
    grpc::ServerContext* ctx, const v1::GetCustomerRequest* req,
    v1::GetCustomerResponse* resp) {
  return server::Serve(
      *guard_, *ctx, Method("GetCustomer"),
      [&](const server::Principal&) -> absl::Status {
        if (req->customer_id().empty()) {
          return absl::InvalidArgumentError("customer_id: required");
        }
        RETURN_IF_ERROR(
            server::WaitForToken(core_->projector(), *ctx, req->after()));
        ASSIGN_OR_RETURN(std::optional<v1::CustomerHistory> history,
                         queries_.FindCustomer(req->customer_id()));
        if (!history.has_value() || history->versions().empty()) {
          return absl::NotFoundError(absl::StrCat(
              "customer ", req->customer_id(), " is not registered"));
        }
        const v1::CustomerVersion* version =
            &history->versions(history->versions_size() - 1);
        if (req->has_as_of()) {
          version = CustomerAsOf(*history, req->as_of(), req->record_time());
          if (version == nullptr) {
            return absl::NotFoundError(absl::StrCat(
                "customer ", req->customer_id(), " was not registered yet at ",
                absl::FormatTime(absl::RFC3339_sec, FromTimestamp(req->as_of()),
                                 absl::UTCTimeZone()),
                req->record_time() ? " (record time)" : " (business time)"));
          }
        }
        *resp->mutable_customer() = *version;
        *resp->mutable_versions() = history->versions();
        return absl::OkStatus();
      });
}

grpc::Status InventoryServiceImpl::ListCustomers(
    grpc::ServerContext* ctx, const v1::ListCustomersRequest* req,
    v1::ListCustomersResponse* resp) {
  return server::Serve(
      *guard_, *ctx, Method("ListCustomers"),
      [&](const server::Principal&) -> absl::Status {
        ASSIGN_OR_RETURN(const int limit, PageSize(req->page_size()));
        RETURN_IF_ERROR(
            server::WaitForToken(core_->projector(), *ctx, req->after()));
        // The page token is the last customer id of the previous page.
        std::vector<v1::CustomerHistory> page;
        bool more = false;
        RETURN_IF_ERROR(queries_.ListCustomers(req->region(), req->page_token(),
                                               limit, &page, &more));
        for (const v1::CustomerHistory& h : page) {
          *resp->add_customers() = h.versions(h.versions_size() - 1);
        }
        if (more && !page.empty()) {
          resp->set_next_page_token(resp->customers(resp->customers_size() - 1)
                                        .customer()
                                        .customer_id());
        }
        return absl::OkStatus();
      });
}

grpc::Status InventoryServiceImpl::ReportUsage(
    grpc::ServerContext* ctx, const v1::ReportUsageRequest* req,
    v1::ReportUsageResponse* resp) {
  return server::Serve(
      *guard_, *ctx, Method("ReportUsage"),
      [&](const server::Principal& p) -> absl::Status {
        if (req->lot_id().empty()) {
          return absl::InvalidArgumentError("report_usage.lot_id: required");
        }
        v1::InventoryCommand cmd;
        *cmd.mutable_report_usage() = *req;
        ASSIGN_OR_RETURN(
            command::CommandResult r,
            RunCommand(*ctx, p, req->request_id(), req->after(),
                       {req->lot_id()}, {req->lot_id()}, std::move(cmd)));
        // Decide accepted the serials (or, on a retry, the first attempt).
        resp->set_used(domain::CountSerials(req->serials()));
        *resp->mutable_token() = command::ToToken(r.token);
        return absl::OkStatus();
      });
}

grpc::Status InventoryServiceImpl::GetSerialStatus(
    grpc::ServerContext* ctx, const v1::GetSerialStatusRequest* req,
    v1::GetSerialStatusResponse* resp) {
  return server::Serve(*guard_, *ctx, Method("GetSerialStatus"),
                       [&](const server::Principal&) -> absl::Status {
                         RETURN_IF_ERROR(server::WaitForToken(
                             core_->projector(), *ctx, req->after()));
                         ASSIGN_OR_RETURN(*resp, inventory::GetSerialStatus(
                                                     serials_, queries_, *req));
                         return absl::OkStatus();
                       });
}

grpc::Status InventoryServiceImpl::SetUnitCost(
    grpc::ServerContext* ctx, const v1::SetUnitCostRequest* req,
    v1::SetUnitCostResponse* resp) {
  return server::Serve(
      *guard_, *ctx, Method("SetUnitCost"),
      [&](const server::Principal& p) -> absl::Status {
        if (req->item().empty()) {
          return absl::InvalidArgumentError("set_unit_cost.item: required");
        }
        v1::InventoryCommand cmd;
        *cmd.mutable_set_unit_cost() = *req;
        ASSIGN_OR_RETURN(
            command::CommandResult r,
            RunCommand(*ctx, p, req->request_id(), req->after(),
                       {UnitCostAggregateId(req->item())}, {}, std::move(cmd)));
        resp->set_changed(r.replayed || !r.events.empty());
        *resp->mutable_token() = command::ToToken(r.token);
        return absl::OkStatus();
      });
}

}  // namespace lotledger::inventory
