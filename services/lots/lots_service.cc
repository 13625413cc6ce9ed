#include "services/lots/lots_service.h"

#include <cstdlib>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "libs/common/ids.h"
#include "libs/common/json_log.h"
#include "libs/common/proto_time.h"
#include "libs/common/status_macros.h"
#include "libs/common/topics.h"
#include "libs/domain/lots/decider.h"
#include "libs/domain/serials/serials.h"
#include "libs/gs1/element_string.h"
#include "libs/server/rpc.h"

namespace lotledger::lots {
namespace {

constexpr char kService[] = "/lotledger.v1.LotsService/";

std::string Method(const char* name) { return absl::StrCat(kService, name); }

}  // namespace

command::ServiceSpec LotsServiceSpec(int32_t partitions) {
  command::ServiceSpec spec;
  spec.name = "lots";
  spec.own_topic = topics::WrittenBy(spec.name);
  spec.partitions = partitions;
  // Dispositions and recalls: CreateLot never consumes a component lot
  // that is on hold, rejected or under an open recall.
  spec.input_topics = topics::ReadBy(spec.name);
  spec.column_families = LotsColumnFamilies();
  // Uncompressed, so a hop reads its block without decompressing it: the
  // genealogy (store-side trace) and the serial register (the first read
  // of a trace by serial).
  spec.uncompressed_column_families = {"genealogy", "serial_lots"};
  auto index = std::make_shared<GenealogyIndex>();
  spec.apply = IndexedLotsApply{index};
  // Charged to the process's memory budget (service_core.h).
  spec.indexes = {
      {.name = "genealogy", .bytes = [index] { return index->stats().bytes; }}};
  // 2: the serial register (serial_lots, lot_serials, serial_assignments,
  // Lot.serial_count). A projection of format 1 may have passed over
  // SerialsAssigned events (a replica of an older build following the
  // log), so it is rebuilt once.
  spec.projection_format = 2;
  return spec;
}

std::shared_ptr<GenealogyIndex> GenealogyIndexOf(
    const command::ServiceCore& core) {
  const auto* apply = core.setup().apply.target<IndexedLotsApply>();
  return apply != nullptr ? apply->index : nullptr;
}

namespace {

// The core's index, loaded; null when it has none or it cannot be loaded.
std::shared_ptr<GenealogyIndex> LoadedIndex(command::ServiceCore& core) {
  std::shared_ptr<GenealogyIndex> index = GenealogyIndexOf(core);
  if (index == nullptr || index->loaded()) return index;
  if (const char* env = std::getenv("LOTLEDGER_GENEALOGY_INDEX");
      env != nullptr && std::string_view(env) == "off") {
    LogJson("warn",
            "genealogy index off (LOTLEDGER_GENEALOGY_INDEX=off): traces "
            "read the projection; for comparing the two only",
            {{"service", "lots"}});
    return nullptr;
  }
  const absl::Time start = absl::Now();
  if (absl::Status s = index->Load(core.store()); !s.ok()) {
    LogJson("error",
            "genealogy index not loaded; traces read the projection instead",
            {{"service", "lots"}, {"error", std::string(s.message())}});
    return nullptr;
  }
  // The cache gives up what the index now holds at once.
  core.MeasureIndexes();
  const GenealogyIndex::Stats stats = index->stats();
  LogJson(
      "info", "genealogy index loaded",
      {{"service", "lots"},
       {"lots", absl::StrCat(stats.lots)},
       {"bytes", absl::StrCat(stats.bytes)},
       {"seconds", absl::StrCat(absl::ToDoubleSeconds(absl::Now() - start))}});
  return index;
}

}  // namespace

LotsServiceImpl::LotsServiceImpl(command::ServiceCore* core,
                                 const server::Guard* guard, const Clock* clock)
    : core_(core),
      guard_(guard),
      clock_(clock),
      index_(LoadedIndex(*core)),
      queries_(&core->store(), index_.get()) {}

absl::StatusOr<command::CommandResult> LotsServiceImpl::RunCommand(
    const grpc::ServerContext& ctx, const server::Principal& principal,
    const std::string& request_id, std::vector<std::string> aggregates,
    v1::LotsCommand cmd) {
  const absl::Time now = clock_->Now();
  ToTimestamp(now, cmd.mutable_now());
  command::CommandContext cc = server::MakeCommandContext(
      ctx, principal, request_id, v1::ConsistencyToken(), now);
  return core_->runner().Run(cc, std::move(aggregates),
                             [&]() { return DecideWithState(cmd); });
}

absl::StatusOr<std::vector<v1::Event>> LotsServiceImpl::DecideWithState(
    const v1::LotsCommand& cmd) const {
  v1::LotsDecisionState state;
  // Loads the lots Decide checks against (only lots that were created).
  auto load_inputs = [&](const auto& inputs) -> absl::Status {
    for (const v1::LotInput& in : inputs) {
      ASSIGN_OR_RETURN(std::optional<v1::Lot> input,
                       queries_.FindLot(in.lot_id()));
      if (input.has_value() && !input->item().empty()) {
        (*state.mutable_inputs())[in.lot_id()] = *std::move(input);
      }
    }
    return absl::OkStatus();
  };
  // The genealogy gate's facts of the input lots and their recalls.
  auto load_standing = [&](const auto& inputs) -> absl::Status {
    for (const v1::LotInput& in : inputs) {
      ASSIGN_OR_RETURN(std::optional<v1::LotStanding> standing,
                       queries_.FindStanding(in.lot_id()));
      if (!standing.has_value()) continue;
      for (const std::string& r : standing->recall_ids()) {
        if (state.recalls().contains(r)) continue;
        ASSIGN_OR_RETURN(std::optional<v1::RecallStanding> recall,
                         queries_.FindRecall(r));
        if (recall.has_value()) (*state.mutable_recalls())[r] = *recall;
      }
      (*state.mutable_input_standing())[in.lot_id()] = *std::move(standing);
    }
    return absl::OkStatus();
  };
  std::string item, lot_id;
  if (cmd.has_define_product()) item = cmd.define_product().product().item();
  if (cmd.has_create_lot()) {
    item = cmd.create_lot().item();
    lot_id = MakeLotId(cmd.create_lot().item(), cmd.create_lot().lot_number());
    RETURN_IF_ERROR(load_inputs(cmd.create_lot().inputs()));
    RETURN_IF_ERROR(load_standing(cmd.create_lot().inputs()));
  }
  if (cmd.has_correct_lot()) lot_id = cmd.correct_lot().lot_id();
  if (cmd.has_assign_serials()) lot_id = cmd.assign_serials().lot_id();
  if (!lot_id.empty()) {
    ASSIGN_OR_RETURN(std::optional<v1::Lot> lot, queries_.FindLot(lot_id));
    if (lot.has_value() && !lot->item().empty()) {
      if (item.empty()) item = lot->item();
      // A corrected expiry is checked against the inputs' expiries too.
      if (cmd.has_correct_lot()) RETURN_IF_ERROR(load_inputs(lot->inputs()));
      *state.mutable_lot() = *std::move(lot);
    }
  }
  if (!item.empty()) {
    ASSIGN_OR_RETURN(std::optional<v1::Product> product,
                     queries_.FindProduct(item));
    if (product.has_value()) *state.mutable_product() = *product;
    // Lots are counted only when the definition would change what they
    // mean (unit, kind): a scan of the product's lots.
    if (product.has_value() && cmd.has_define_product()) {
      const v1::Product& asked = cmd.define_product().product();
      auto by_serial = [](const v1::Product& p) {
        return p.tracking() == v1::TRACKING_SERIAL;
      };
      if (asked.uom() != product->uom() || asked.kind() != product->kind() ||
          by_serial(asked) != by_serial(*product)) {
        ASSIGN_OR_RETURN(const int64_t n, queries_.CountLotsOfItem(item));
        state.set_product_lot_count(n);
      }
    }
  }
  // The register's word on the serials the request names (a malformed
  // list loads nothing: Decide names what is wrong with it).
  if (cmd.has_assign_serials() && state.has_lot()) {
    state.set_lot_serial_count(state.lot().serial_count());
    absl::StatusOr<std::vector<std::string>> serials = domain::ExpandSerials(
        cmd.assign_serials().serials(), "assign_serials.serials");
    if (serials.ok()) {
      ASSIGN_OR_RETURN(auto lots,
                       queries_.SerialLots(state.lot().item(), *serials));
      state.mutable_serial_lots()->insert(lots.begin(), lots.end());
    }
  }
  return Decide(state, cmd);
}

grpc::Status LotsServiceImpl::DefineProduct(grpc::ServerContext* ctx,
                                            const v1::DefineProductRequest* req,
                                            v1::DefineProductResponse* resp) {
  return server::Serve(
      *guard_, *ctx, Method("DefineProduct"),
      [&](const server::Principal& p) -> absl::Status {
        if (req->product().item().empty()) {
          return absl::InvalidArgumentError("product.item: required");
        }
        v1::LotsCommand cmd;
        *cmd.mutable_define_product() = *req;
        ASSIGN_OR_RETURN(command::CommandResult r,
                         RunCommand(*ctx, p, req->request_id(),
                                    {req->product().item()}, cmd));
        ASSIGN_OR_RETURN(*resp->mutable_product(),
                         queries_.GetProduct(req->product().item()));
        *resp->mutable_token() = command::ToToken(r.token);
        return absl::OkStatus();
      });
}

grpc::Status LotsServiceImpl::GetProduct(grpc::ServerContext* ctx,
                                         const v1::GetProductRequest* req,
                                         v1::GetProductResponse* resp) {
  return server::Serve(*guard_, *ctx, Method("GetProduct"),
                       [&](const server::Principal&) -> absl::Status {
                         if (req->item().empty()) {
                           return absl::InvalidArgumentError("item: required");
                         }
                         ASSIGN_OR_RETURN(*resp->mutable_product(),
                                          queries_.GetProduct(req->item()));
                         return absl::OkStatus();
                       });
}

grpc::Status LotsServiceImpl::CreateLot(grpc::ServerContext* ctx,
                                        const v1::CreateLotRequest* req,
                                        v1::CreateLotResponse* resp) {
  return server::Serve(
      *guard_, *ctx, Method("CreateLot"),
      [&](const server::Principal& p) -> absl::Status {
        if (req->item().empty())
          return absl::InvalidArgumentError("item: required");
        if (req->lot_number().empty()) {
          return absl::InvalidArgumentError("lot_number: required");
        }
        const std::string lot_id = MakeLotId(req->item(), req->lot_number());
        // The lot and every input lot it consumes are locked together, so
        // two lots cannot both consume the last of a component.
        std::vector<std::string> aggregates = {lot_id};
        for (const v1::LotInput& in : req->inputs()) {
          aggregates.push_back(in.lot_id());
        }
        v1::LotsCommand cmd;
        *cmd.mutable_create_lot() = *req;
        ASSIGN_OR_RETURN(
            command::CommandResult r,
            RunCommand(*ctx, p, req->request_id(), std::move(aggregates), cmd));
        ASSIGN_OR_RETURN(*resp->mutable_lot(), queries_.GetLot(lot_id));
        *resp->mutable_token() = command::ToToken(r.token);
        return absl::OkStatus();
      });
}

grpc::Status LotsServiceImpl::GetLot(grpc::ServerContext* ctx,
                                     const v1::GetLotRequest* req,
                                     v1::GetLotResponse* resp) {
  return server::Serve(
      *guard_, *ctx, Method("GetLot"),
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

grpc::Status LotsServiceImpl::CorrectLot(grpc::ServerContext* ctx,
                                         const v1::CorrectLotRequest* req,
                                         v1::CorrectLotResponse* resp) {
  return server::Serve(
      *guard_, *ctx, Method("CorrectLot"),
      [&](const server::Principal& p) -> absl::Status {
        if (req->lot_id().empty()) {
          return absl::InvalidArgumentError("lot_id: required");
        }
        v1::LotsCommand cmd;
        *cmd.mutable_correct_lot() = *req;
        ASSIGN_OR_RETURN(
            command::CommandResult r,
            RunCommand(*ctx, p, req->request_id(), {req->lot_id()}, cmd));
        ASSIGN_OR_RETURN(*resp->mutable_lot(), queries_.GetLot(req->lot_id()));
        *resp->mutable_token() = command::ToToken(r.token);
        return absl::OkStatus();
      });
}

grpc::Status LotsServiceImpl::ListLots(grpc::ServerContext* ctx,
                                       const v1::ListLotsRequest* req,
                                       v1::ListLotsResponse* resp) {
  return server::Serve(*guard_, *ctx, Method("ListLots"),
                       [&](const server::Principal&) -> absl::Status {
                         RETURN_IF_ERROR(server::WaitForToken(
                             core_->projector(), *ctx, req->after()));
                         ASSIGN_OR_RETURN(*resp, queries_.ListLots(*req));
                         return absl::OkStatus();
                       });
}

grpc::Status LotsServiceImpl::Trace(grpc::ServerContext* ctx,
                                    const v1::TraceRequest* req,
                                    v1::TraceResponse* resp) {
  return server::Serve(*guard_, *ctx, Method("Trace"),
                       [&](const server::Principal&) -> absl::Status {
                         RETURN_IF_ERROR(server::WaitForToken(
                             core_->projector(), *ctx, req->after()));
                         ASSIGN_OR_RETURN(*resp, queries_.Trace(*req));
                         return absl::OkStatus();
                       });
}

grpc::Status LotsServiceImpl::AssignSerials(grpc::ServerContext* ctx,
                                            const v1::AssignSerialsRequest* req,
                                            v1::AssignSerialsResponse* resp) {
  return server::Serve(
      *guard_, *ctx, Method("AssignSerials"),
      [&](const server::Principal& p) -> absl::Status {
        if (req->lot_id().empty()) {
          return absl::InvalidArgumentError("lot_id: required");
        }
        // The item is locked with the lot: a serial belongs to one lot of
        // the item, so two assignments to lots of one item take turns.
        const std::string item(ItemOfLotId(req->lot_id()));
        v1::LotsCommand cmd;
        *cmd.mutable_assign_serials() = *req;
        std::vector<std::string> aggregates = {req->lot_id()};
        if (!item.empty()) aggregates.push_back(item);
        ASSIGN_OR_RETURN(command::CommandResult r,
                         RunCommand(*ctx, p, req->request_id(),
                                    std::move(aggregates), std::move(cmd)));
        // What this request assigned: its event, or on a retry the first
        // attempt's (as the projection keeps it).
        std::optional<v1::SerialsAssigned> assigned;
        for (const v1::Event& e : r.events) {
          if (e.has_serials_assigned()) assigned = e.serials_assigned();
        }
        if (r.replayed) {
          ASSIGN_OR_RETURN(assigned, queries_.FindSerialAssignment(
                                         req->lot_id(), r.first.event_id()));
        }
        if (assigned.has_value()) {
          resp->set_assigned(assigned->count());
          resp->set_lot_total(assigned->lot_total());
        } else {
          ASSIGN_OR_RETURN(const v1::Lot lot, queries_.GetLot(req->lot_id()));
          resp->set_lot_total(lot.serial_count());
        }
        *resp->mutable_token() = command::ToToken(r.token);
        return absl::OkStatus();
      });
}

grpc::Status LotsServiceImpl::GetSerial(grpc::ServerContext* ctx,
                                        const v1::GetSerialRequest* req,
                                        v1::GetSerialResponse* resp) {
  return server::Serve(
      *guard_, *ctx, Method("GetSerial"),
      [&](const server::Principal&) -> absl::Status {
        if (req->item().empty()) {
          return absl::InvalidArgumentError("item: required");
        }
        RETURN_IF_ERROR(domain::ValidateSerial(req->serial(), "serial"));
        RETURN_IF_ERROR(
            server::WaitForToken(core_->projector(), *ctx, req->after()));
        ASSIGN_OR_RETURN(std::optional<std::string> lot_id,
                         queries_.FindSerialLot(req->item(), req->serial()));
        if (!lot_id.has_value()) {
          return absl::NotFoundError(
              absl::StrCat("serial ", req->serial(), " of ", req->item(),
                           " is not assigned to any lot"));
        }
        ASSIGN_OR_RETURN(std::vector<std::string> serials,
                         queries_.LotSerials(*lot_id));
        resp->set_lot_id(*lot_id);
        *resp->mutable_lot_serials() = domain::CompressSerials(serials);
        return absl::OkStatus();
      });
}

grpc::Status LotsServiceImpl::ResolveUdi(grpc::ServerContext* ctx,
                                         const v1::ResolveUdiRequest* req,
                                         v1::ResolveUdiResponse* resp) {
  return server::Serve(*guard_, *ctx, Method("ResolveUdi"),
                       [&](const server::Principal&) -> absl::Status {
                         RETURN_IF_ERROR(server::WaitForToken(
                             core_->projector(), *ctx, req->after()));
                         ASSIGN_OR_RETURN(*resp, ResolveScan(req->scan()));
                         return absl::OkStatus();
                       });
}

absl::StatusOr<v1::ResolveUdiResponse> LotsServiceImpl::ResolveScan(
    std::string_view scan) const {
  if (scan.empty()) return absl::InvalidArgumentError("scan: required");
  gs1::ParseOptions options;
  options.reference_year =
      absl::ToCivilYear(clock_->Now(), absl::UTCTimeZone()).year();
  absl::StatusOr<gs1::Udi> udi = gs1::ParseUdi(scan, options);
  if (!udi.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("scan: ", udi.status().message()));
  }
  v1::ResolveUdiResponse out;
  for (const gs1::Element& e : udi->elements) {
    v1::UdiElement* o = out.add_elements();
    o->set_ai(e.ai);
    o->set_title(e.title);
    o->set_value(e.value);
  }
  out.set_gtin(udi->gtin);
  out.set_lot_number(udi->lot);
  out.set_serial(udi->serial);
  if (udi->gtin.empty()) {
    return absl::InvalidArgumentError("scan: has no GTIN (AI 01)");
  }
  ASSIGN_OR_RETURN(std::optional<v1::Product> product,
                   queries_.FindProduct(udi->gtin));
  if (!product.has_value()) {
    out.add_mismatches(
        absl::StrCat("GTIN ", udi->gtin, " is not a known product"));
  }
  // The serial register: a serialised product's label carries a serial
  // that belongs to the scanned lot; a product tracked by lot has none.
  const std::string scanned_lot = MakeLotId(udi->gtin, udi->lot);
  if (product.has_value() && product->tracking() == v1::TRACKING_SERIAL) {
    if (udi->serial.empty()) {
      out.add_mismatches(absl::StrCat("product ", udi->gtin,
                                      " is tracked by serial: the scan has "
                                      "no serial number (AI 21)"));
    } else {
      ASSIGN_OR_RETURN(std::optional<std::string> serial_lot,
                       queries_.FindSerialLot(udi->gtin, udi->serial));
      if (!serial_lot.has_value()) {
        out.add_mismatches(absl::StrCat("serial ", udi->serial, " of ",
                                        udi->gtin,
                                        " is not assigned to any lot"));
      } else if (*serial_lot != scanned_lot) {
        out.add_mismatches(absl::StrCat(
            "serial ", udi->serial, " belongs to lot ", *serial_lot,
            udi->lot.empty() ? "" : absl::StrCat(", not ", udi->lot)));
      } else {
        out.set_serial_assigned(true);
      }
    }
  } else if (product.has_value() && !udi->serial.empty()) {
    out.add_mismatches(absl::StrCat(
        "serial ", udi->serial, " on the label, but product ", udi->gtin,
        " is tracked by lot: it has no serial register"));
  }
  if (udi->lot.empty()) {
    out.add_mismatches("the scan has no lot number (AI 10)");
    return out;
  }
  ASSIGN_OR_RETURN(std::optional<v1::Lot> lot,
                   queries_.FindLot(MakeLotId(udi->gtin, udi->lot)));
  if (!lot.has_value()) {
    out.add_mismatches(absl::StrCat("lot ", udi->lot, " of GTIN ", udi->gtin,
                                    " is not a known lot"));
    return out;
  }
  auto date_text = [](int y, int m, int d) {
    return absl::StrFormat("%04d-%02d-%02d", y, m, d);
  };
  if (udi->expiry.has_value()) {
    const v1::Date& e = lot->expires_on();
    if (udi->expiry->year != e.year() || udi->expiry->month != e.month() ||
        udi->expiry->day != e.day()) {
      out.add_mismatches(absl::StrCat(
          "expiry on the label is ",
          date_text(udi->expiry->year, udi->expiry->month, udi->expiry->day),
          ", the lot's expiry is ", date_text(e.year(), e.month(), e.day())));
    }
  }
  if (udi->produced.has_value()) {
    const v1::Date& m = lot->manufactured_on();
    if (udi->produced->year != m.year() || udi->produced->month != m.month() ||
        udi->produced->day != m.day()) {
      out.add_mismatches(
          absl::StrCat("production date on the label is ",
                       date_text(udi->produced->year, udi->produced->month,
                                 udi->produced->day),
                       ", the lot's manufacture date is ",
                       date_text(m.year(), m.month(), m.day())));
    }
  }
  *out.mutable_lot() = *std::move(lot);
  return out;
}

}  // namespace lotledger::lots
