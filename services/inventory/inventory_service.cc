#include "services/inventory/inventory_service.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <tuple>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "libs/common/hash.h"
#include "libs/common/ids.h"
#include "libs/common/proto_time.h"
#include "libs/common/status_macros.h"
#include "libs/common/topics.h"
#include "libs/domain/inventory/decider.h"
#include "libs/domain/inventory/expiry.h"
#include "libs/domain/inventory/fefo.h"
#include "libs/domain/inventory/gate.h"
#include "libs/gs1/element_string.h"
#include "libs/server/rpc.h"
#include "services/inventory/inventory_reports.h"

namespace lotledger::inventory {
namespace {

constexpr char kService[] = "/lotledger.v1.InventoryService/";
// How often a waiting sweep checks whether the service is stopping.
constexpr absl::Duration kStopCheck = absl::Milliseconds(200);
// The actor of the alerts the expiry sweep writes.
constexpr char kSweepActor[] = "system:expiry-sweep";

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
  return spec;
}

InventoryServiceImpl::InventoryServiceImpl(command::ServiceCore* core,
                                           const server::Guard* guard,
                                           const Clock* clock,
                                           InventoryServiceOptions options)
    : core_(core),
      guard_(guard),
      clock_(clock),
      options_(options),
      queries_(&core->store()) {
  if (options_.sweep_interval > absl::ZeroDuration()) {
    sweeper_ = std::thread([this] { SweepLoop(); });
  }
}

InventoryServiceImpl::~InventoryServiceImpl() { Stop(); }

void InventoryServiceImpl::Stop() {
  {
    absl::MutexLock l(&mu_);
    stopping_ = true;
  }
  if (sweeper_.joinable()) sweeper_.join();
}

bool InventoryServiceImpl::WaitUnlessStopped(absl::Duration d) {
  absl::MutexLock l(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(&stopping_), d);
  return !stopping_;
}

std::string InventoryServiceImpl::OwnTopic() const {
  for (const auto& [tp, offset] : core_->projector().Applied()) {
    if (absl::EndsWith(tp.topic, topics::kInventory)) return tp.topic;
  }
  return topics::kInventory;
}

absl::Status InventoryServiceImpl::CatchUp(absl::Time deadline) {
  if (options_.log == nullptr) return absl::OkStatus();
  const std::string topic = OwnTopic();
  ASSIGN_OR_RETURN(const int32_t partitions,
                   options_.log->PartitionCount(topic));
  eventlog::Offsets target;
  for (int32_t p = 0; p < partitions; ++p) {
    ASSIGN_OR_RETURN(const int64_t end, options_.log->EndOffset(topic, p));
    target[{topic, p}] = end;
  }
  // In short steps, so that Stop() is not held up by a long catch-up.
  while (true) {
    const absl::Time step = std::min(deadline, absl::Now() + kStopCheck);
    absl::Status s = core_->projector().WaitFor(target, step);
    if (s.code() != absl::StatusCode::kDeadlineExceeded || step == deadline) {
      return s;
    }
    if (Stopping()) return absl::CancelledError("the service is stopping");
  }
}

bool InventoryServiceImpl::Stopping() {
  absl::MutexLock l(&mu_);
  return stopping_;
}

absl::StatusOr<SweepResult> InventoryServiceImpl::SweepExpiry() {
  absl::MutexLock sweep(&sweep_mu_);
  const absl::Time now = clock_->Now();
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  RETURN_IF_ERROR(CatchUp(deadline));
  google::protobuf::Timestamp now_ts;
  ToTimestamp(now, &now_ts);
  const v1::Date today = BusinessDay(now_ts, 0);
  ASSIGN_OR_RETURN(const auto products, queries_.LoadProducts());
  int64_t widest = 0;
  for (const auto& [item, product] : products) {
    for (int32_t t : product.policy().alert_thresholds_days()) {
      widest = std::max<int64_t>(widest, t);
    }
  }
  const absl::CivilDay last =
      absl::CivilDay(today.year(), today.month(), today.day()) + widest;
  const std::string last_key =
      absl::StrFormat("%04d%02d%02d", last.year(), last.month(), last.day());
  // Lots with stock whose expiry is inside the widest alert window.
  std::vector<std::string> ids;
  RETURN_IF_ERROR(queries_.ScanStockByExpiry(
      [&](std::string_view expiry, std::string_view lot_id) {
        if (expiry > last_key) return false;
        ids.emplace_back(lot_id);
        return true;
      }));
  SweepResult result;
  result.lots_checked = static_cast<int>(ids.size());
  ASSIGN_OR_RETURN(std::vector<v1::LotInventory> lots, queries_.LoadLots(ids));
  for (const v1::LotInventory& lot : lots) {
    if (Stopping()) return absl::CancelledError("the service is stopping");
    auto product = products.find(lot.item());
    const std::vector<v1::Event> due =
        DueExpiryAlerts(lot,
                        product == products.end() ? v1::ShelfLifePolicy()
                                                  : product->second.policy(),
                        today);
    if (due.empty()) continue;
    // The same alerts due for the same expiry get the same request id:
    // however many sweeps (or processes) find them, they are written once.
    std::string request_id =
        absl::StrCat("expiry:", lot.lot_id(), ":", ExpiryKey(lot));
    for (const v1::Event& e : due) {
      absl::StrAppend(&request_id, ":",
                      e.has_lot_expired()
                          ? 0
                          : e.expiry_threshold_crossed().threshold_days());
    }
    if (request_id.size() > 128) {
      request_id =
          absl::StrCat("expiry:", absl::BytesToHexString(Sha256(request_id)));
    }
    v1::InventoryCommand cmd;
    cmd.mutable_evaluate_expiry()->set_lot_id(lot.lot_id());
    ToTimestamp(now, cmd.mutable_now());
    cmd.set_actor(kSweepActor);
    cmd.set_utc_offset_minutes(0);
    command::CommandContext cc;
    cc.request_id = request_id;
    cc.actor = kSweepActor;
    cc.now = now;
    cc.deadline = deadline;
    const std::vector<std::string> lot_ids = {lot.lot_id()};
    ASSIGN_OR_RETURN(command::CommandResult r,
                     core_->runner().Run(cc, lot_ids, [&]() {
                       return DecideWithState(lot_ids, cmd);
                     }));
    result.alerts_raised += static_cast<int>(r.events.size());
  }
  return result;
}

void InventoryServiceImpl::SweepLoop() {
  absl::Duration next = options_.sweep_interval;
  do {
    absl::StatusOr<SweepResult> r = SweepExpiry();
    next = options_.sweep_interval;
    if (!r.ok()) {
      if (Stopping()) return;
      // Typically the projection still catching up after a start: try
      // again soon rather than a whole period later.
      next = std::min(next, absl::Minutes(1));
      std::fprintf(stderr,
                   "{\"level\":\"warn\",\"msg\":\"expiry sweep failed; "
                   "retrying\",\"retry_seconds\":%lld,\"error\":\"%s\"}\n",
                   static_cast<long long>(absl::ToInt64Seconds(next)),
                   std::string(r.status().message()).c_str());
    } else if (r->alerts_raised > 0) {
      std::fprintf(stderr,
                   "{\"level\":\"info\",\"msg\":\"expiry sweep\","
                   "\"lots_checked\":%d,\"alerts_raised\":%d}\n",
                   r->lots_checked, r->alerts_raised);
    }
  } while (WaitUnlessStopped(next));
}

absl::StatusOr<command::CommandResult> InventoryServiceImpl::RunCommand(
    const grpc::ServerContext& ctx, const server::Principal& principal,
    const std::string& request_id, const v1::ConsistencyToken& after,
    std::vector<std::string> aggregates, std::vector<std::string> lot_ids,
    v1::InventoryCommand cmd) {
  const absl::Time now = clock_->Now();
  ToTimestamp(now, cmd.mutable_now());
  cmd.set_actor(principal.name);
  cmd.set_utc_offset_minutes(0);
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
  return Decide(state, cmd);
}

v1::Date InventoryServiceImpl::Today() const {
  google::protobuf::Timestamp now;
  ToTimestamp(clock_->Now(), &now);
  return BusinessDay(now, 0);
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
        if (req->lines().empty()) {
          return absl::InvalidArgumentError("ship.lines: at least one");
        }
        std::vector<std::string> lot_ids;
        for (int i = 0; i < req->lines_size(); ++i) {
          if (req->lines(i).lot_id().empty()) {
            return absl::InvalidArgumentError(
                absl::StrCat("ship.lines[", i, "].lot_id: required"));
          }
          lot_ids.push_back(req->lines(i).lot_id());
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
        // Every lot of the shipment is locked and the lines are appended
        // in one batch: all lines or none.
        ASSIGN_OR_RETURN(command::CommandResult r,
                         RunCommand(*ctx, p, req->request_id(), req->after(),
                                    lot_ids, lot_ids, std::move(cmd)));
        v1::Shipment* s = resp->mutable_shipment();
        s->set_shipment_id(shipment_id);
        *s->mutable_customer() = req->customer();
        *s->mutable_lines() = req->lines();
        // As written: each line's quantity in the lot's unit.
        for (const v1::Event& e : r.events) {
          const v1::StockShipped& line = e.stock_shipped();
          if (line.line_index() >= 0 && line.line_index() < s->lines_size()) {
            *s->mutable_lines(line.line_index())->mutable_quantity() =
                line.quantity();
          }
        }
        s->set_reference(req->reference());
        google::protobuf::Timestamp when;
        if (req->has_occurred_at()) {
          when = req->occurred_at();
        } else if (!r.events.empty()) {
          when = r.events.front().occurred_at();
        } else {
          ToTimestamp(clock_->Now(), &when);
        }
        *s->mutable_ship_date() = BusinessDay(when, 0);
        *resp->mutable_token() = command::ToToken(r.token);
        return absl::OkStatus();
      });
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
        ASSIGN_OR_RETURN(*resp, AllocateFefoFromStock(queries_, *req, Today()));
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
  return server::Serve(
      *guard_, *ctx, Method("WatchAlerts"),
      [&](const server::Principal&) -> absl::Status {
        const std::string topic = OwnTopic();
        // Next offset to look at per partition of the inventory topic.
        std::map<int32_t, int64_t> cursor;
        for (const auto& [tp, offset] : core_->projector().Applied()) {
          if (tp.topic == topic) cursor[tp.partition] = offset;
        }
        if (req->resume_after().offsets_size() > 0) {
          for (auto& [p, offset] : cursor) offset = 0;
          for (const v1::TopicOffset& o : req->resume_after().offsets()) {
            if (o.topic() != topic) continue;
            if (o.offset() < 0) {
              return absl::InvalidArgumentError(absl::StrCat(
                  "resume_after.offsets: negative offset ", o.offset()));
            }
            cursor[o.partition()] = o.offset();
          }
        }
        LocationMap locations;
        auto matches =
            [&](const v1::InventoryAlert& a) -> absl::StatusOr<bool> {
          const bool expired = a.has_expired();
          const std::string& item =
              expired ? a.expired().item() : a.threshold_crossed().item();
          if (!req->item().empty() && item != req->item()) return false;
          if (req->region_id().empty()) return true;
          const auto& stock =
              expired ? a.expired().stock() : a.threshold_crossed().stock();
          for (const v1::LocationStock& s : stock) {
            if (!locations.contains(s.location_id())) {
              locations.clear();
              RETURN_IF_ERROR(queries_.LoadLocations(&locations));
            }
            auto it = locations.find(s.location_id());
            if (it != locations.end() &&
                it->second.region_id() == req->region_id()) {
              return true;
            }
          }
          return false;
        };
        while (!ctx->IsCancelled()) {
          // New alerts of every partition, in record-time order.
          std::vector<std::tuple<int64_t, int32_t, int64_t, v1::InventoryAlert>>
              fresh;
          for (const auto& [p, from] : cursor) {
            const int32_t partition = p;
            RETURN_IF_ERROR(queries_.ScanAlerts(
                partition, from,
                [&](int64_t offset, const v1::InventoryAlert& a) {
                  fresh.emplace_back(a.recorded_at().seconds() * 1000000000 +
                                         a.recorded_at().nanos(),
                                     partition, offset, a);
                  return true;
                }));
          }
          std::sort(
              fresh.begin(), fresh.end(), [](const auto& a, const auto& b) {
                return std::tie(std::get<0>(a), std::get<1>(a),
                                std::get<2>(a)) <
                       std::tie(std::get<0>(b), std::get<1>(b), std::get<2>(b));
              });
          for (auto& [time, partition, offset, alert] : fresh) {
            cursor[partition] = offset + 1;
            ASSIGN_OR_RETURN(const bool wanted, matches(alert));
            if (!wanted) continue;
            for (const auto& [p, next] : cursor) {
              v1::TopicOffset* o = alert.mutable_position()->add_offsets();
              o->set_topic(topic);
              o->set_partition(p);
              o->set_offset(next);
            }
            // The client went away: the stream is over.
            if (!writer->Write(alert)) return absl::OkStatus();
          }
          if (!WaitUnlessStopped(absl::Milliseconds(100))) break;
        }
        return absl::OkStatus();
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

}  // namespace lotledger::inventory
