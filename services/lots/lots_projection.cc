#include "services/lots/lots_projection.h"

#include <deque>
#include <limits>
#include <map>
#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/common/status_macros.h"
#include "libs/domain/common/recall_standing.h"
#include "libs/domain/lots/decider.h"
#include "libs/domain/serials/serials.h"
#include "libs/projection/stored_message.h"
#include "lotledger/v1/domain.pb.h"

namespace lotledger::lots {
namespace {

constexpr char kProducts[] = "products";
constexpr char kLots[] = "lots";
constexpr char kLotsByItem[] = "lots_by_item";
constexpr char kLotsByExpiry[] = "lots_by_expiry";
constexpr char kGenealogy[] = "genealogy";
constexpr char kUsedIn[] = "used_in";
constexpr char kStanding[] = "lot_standing";
constexpr char kRecalls[] = "lot_recalls";
constexpr char kSerialLots[] = "serial_lots";
constexpr char kLotSerials[] = "lot_serials";
constexpr char kSerialAssignments[] = "serial_assignments";

// used_in key of the forward edge "input went into parent". The lot's
// used_in list is kept as these keys, not inside the stored Lot: a raw
// material lot goes into thousands of lots, and rewriting a growing list
// with every one made replay quadratic in the fan-out.
std::string UsedInKey(std::string_view input, std::string_view parent) {
  return absl::StrCat(Sv(input), std::string(1, '\0'), Sv(parent));
}

// "<a>\0<b>": the register's keys (item \0 serial, lot id \0 serial, lot
// id \0 event id).
std::string PairKey(std::string_view a, std::string_view b) {
  return absl::StrCat(Sv(a), std::string(1, '\0'), Sv(b));
}

std::string DateKey(const v1::Date& d) {
  return absl::StrFormat("%04d%02d%02d", d.year(), d.month(), d.day());
}

std::string ItemIndexKey(const v1::Lot& lot) {
  return absl::StrCat(lot.item(), std::string(1, '\0'),
                      DateKey(lot.expires_on()), std::string(1, '\0'),
                      lot.lot_id());
}

std::string ExpiryIndexKey(const v1::Lot& lot) {
  return absl::StrCat(DateKey(lot.expires_on()), std::string(1, '\0'),
                      lot.lot_id());
}

v1::GenealogyNode ToNode(const v1::Lot& lot) {
  v1::GenealogyNode node;
  node.set_item(lot.item());
  node.set_lot_number(lot.lot_number());
  *node.mutable_expires_on() = lot.expires_on();
  *node.mutable_inputs() = lot.inputs();
  node.set_created(!lot.item().empty());
  return node;
}

}  // namespace

std::vector<std::string> LotsColumnFamilies() {
  return {kProducts,   kLots,       kLotsByItem,       kLotsByExpiry,
          kGenealogy,  kUsedIn,     kStanding,         kRecalls,
          kSerialLots, kLotSerials, kSerialAssignments};
}

namespace {

// Quality and recall events: what CreateLot's genealogy gate needs to know
// of component lots (their disposition and recalls) and of recalls.
absl::Status ApplyStandingEvent(const v1::Event& event,
                                projection::ProjectionStore::Batch& batch) {
  if (event.has_recall_initiated() || event.has_recall_closed()) {
    const std::string id = domain::RecallIdOf(event);
    ASSIGN_OR_RETURN(std::optional<v1::RecallStanding> recall,
                     projection::ParseStored<v1::RecallStanding>(
                         batch.Get(kRecalls, id), "recall standing"));
    v1::RecallStanding standing = recall.value_or(v1::RecallStanding());
    const std::string before = standing.SerializeAsString();
    domain::EvolveRecallStanding(standing, event);
    if (!recall.has_value() || standing.SerializeAsString() != before) {
      batch.Put(kRecalls, id, standing.SerializeAsString());
    }
  }
  std::vector<std::string> lots = domain::ScopeAdditions(event);
  if (event.has_disposition_changed()) {
    lots.push_back(event.disposition_changed().lot_id());
  }
  for (const std::string& lot_id : lots) {
    if (lot_id.empty()) continue;
    ASSIGN_OR_RETURN(std::optional<v1::LotStanding> stored,
                     projection::ParseStored<v1::LotStanding>(
                         batch.Get(kStanding, lot_id), "lot standing"));
    v1::LotStanding standing = stored.value_or(v1::LotStanding());
    EvolveStanding(standing, lot_id, event);
    batch.Put(kStanding, lot_id, standing.SerializeAsString());
  }
  return absl::OkStatus();
}

// SerialsAssigned: the register's keys of each serial (which lot it
// belongs to; which serials a lot has) and the assignment's counts. Every
// write is a Put of what the event says, so a redelivery changes nothing.
absl::Status ApplySerialsAssigned(const v1::Event& event,
                                  projection::ProjectionStore::Batch& batch) {
  const v1::SerialsAssigned& assigned = event.serials_assigned();
  absl::StatusOr<std::vector<std::string>> serials =
      domain::ExpandSerials(assigned.serials(), "serials_assigned.serials",
                            std::numeric_limits<int64_t>::max());
  if (!serials.ok()) {
    return absl::DataLossError(absl::StrCat("event ", event.event_id(), ": ",
                                            serials.status().message()));
  }
  for (const std::string& serial : *serials) {
    batch.Put(kSerialLots, PairKey(assigned.item(), serial), assigned.lot_id());
    batch.Put(kLotSerials, PairKey(assigned.lot_id(), serial), "");
  }
  v1::SerialsAssigned counts = assigned;
  counts.clear_serials();  // in lot_serials already
  batch.Put(kSerialAssignments, PairKey(assigned.lot_id(), event.event_id()),
            counts.SerializeAsString());
  return absl::OkStatus();
}

}  // namespace

absl::Status ApplyLotsEvent(const eventlog::Record& /*record*/,
                            const v1::Event& event,
                            projection::ProjectionStore::Batch& batch) {
  if (event.has_product_defined()) {
    const std::string& item = event.product_defined().product().item();
    ASSIGN_OR_RETURN(std::optional<v1::Product> product,
                     projection::ParseStored<v1::Product>(
                         batch.Get(kProducts, item), "product"));
    v1::Product p = product.value_or(v1::Product());
    EvolveProduct(p, event);
    batch.Put(kProducts, item, p.SerializeAsString());
    return absl::OkStatus();
  }
  if (event.has_serials_assigned()) {
    RETURN_IF_ERROR(ApplySerialsAssigned(event, batch));
  } else if (!event.has_lot_created() && !event.has_lot_corrected()) {
    // The quality and recall topics (and checkpoints): only standings.
    return ApplyStandingEvent(event, batch);
  }
  // Lot events: fold into every lot the event touches (the lot itself and,
  // for a LotCreated, each input lot it consumed; a SerialsAssigned sets
  // the lot's serial_count).
  for (const std::string& lot_id : event.lot_ids()) {
    ASSIGN_OR_RETURN(
        std::optional<v1::Lot> before,
        projection::ParseStored<v1::Lot>(batch.Get(kLots, lot_id), "lot"));
    v1::Lot lot = before.value_or(v1::Lot());
    // The id tells Evolve which lot this is, so a parent's LotCreated that
    // arrives before its input's own (another partition) only records the
    // consumption on the input instead of being taken for its creation.
    lot.set_lot_id(lot_id);
    if (event.has_lot_created() && event.lot_created().lot_id() != lot_id) {
      // Evolve's own "listed once" check sees an empty used_in here (the
      // edges are stored apart), so the edge key plays that part.
      const std::string edge = UsedInKey(lot_id, event.lot_created().lot_id());
      ASSIGN_OR_RETURN(std::optional<std::string> seen,
                       batch.Get(kUsedIn, edge));
      if (seen.has_value()) continue;
    }
    Evolve(lot, event);
    for (const std::string& parent : lot.used_in()) {
      batch.Put(kUsedIn, UsedInKey(lot_id, parent), "");
    }
    lot.clear_used_in();
    const bool indexed_before = before.has_value() && !before->item().empty();
    const bool keys_changed = !indexed_before ||
                              ItemIndexKey(*before) != ItemIndexKey(lot) ||
                              ExpiryIndexKey(*before) != ExpiryIndexKey(lot);
    if (indexed_before && keys_changed) {
      batch.Delete(kLotsByItem, ItemIndexKey(*before));
      batch.Delete(kLotsByExpiry, ExpiryIndexKey(*before));
    }
    // Only created lots are indexed; a consumption seen first is kept.
    if (!lot.item().empty() && keys_changed) {
      batch.Put(kLotsByItem, ItemIndexKey(lot), "");
      batch.Put(kLotsByExpiry, ExpiryIndexKey(lot), "");
    }
    batch.Put(kLots, lot_id, lot.SerializeAsString());
    // The node holds no forward edges, so a consumption leaves it as it was;
    // except in a projection written before the edges moved out, whose
    // lists move now (the node must lose its list along with the lot).
    const bool had_list = before.has_value() && before->used_in_size() > 0;
    const std::string node = ToNode(lot).SerializeAsString();
    if (!before.has_value() || had_list ||
        ToNode(*before).SerializeAsString() != node) {
      batch.Put(kGenealogy, lot_id, node);
    }
  }
  return absl::OkStatus();
}

absl::Status IndexedLotsApply::operator()(
    const eventlog::Record& record, const v1::Event& event,
    projection::ProjectionStore::Batch& batch) const {
  RETURN_IF_ERROR(ApplyLotsEvent(record, event, batch));
  return index->Observe(record, event);
}

absl::StatusOr<std::optional<v1::Lot>> LotsQueries::FindLot(
    std::string_view lot_id) const {
  ASSIGN_OR_RETURN(
      std::optional<v1::Lot> lot,
      projection::ParseStored<v1::Lot>(store_->Get(kLots, lot_id), "lot"));
  if (lot.has_value()) RETURN_IF_ERROR(UsedIn(lot_id, *lot->mutable_used_in()));
  return lot;
}

absl::Status LotsQueries::UsedIn(
    std::string_view lot_id,
    google::protobuf::RepeatedPtrField<std::string>& out) const {
  const std::string prefix = UsedInKey(lot_id, "");
  return store_->Scan(kUsedIn, prefix, "",
                      [&](std::string_view key, std::string_view) {
                        out.Add(std::string(key.substr(prefix.size())));
                        return true;
                      });
}

absl::StatusOr<std::optional<v1::Product>> LotsQueries::FindProduct(
    std::string_view item) const {
  return projection::ParseStored<v1::Product>(store_->Get(kProducts, item),
                                              "product");
}

absl::StatusOr<std::optional<v1::LotStanding>> LotsQueries::FindStanding(
    std::string_view lot_id) const {
  return projection::ParseStored<v1::LotStanding>(
      store_->Get(kStanding, lot_id), "lot standing");
}

absl::StatusOr<std::optional<v1::RecallStanding>> LotsQueries::FindRecall(
    std::string_view recall_id) const {
  return projection::ParseStored<v1::RecallStanding>(
      store_->Get(kRecalls, recall_id), "recall standing");
}

absl::StatusOr<int64_t> LotsQueries::CountLotsOfItem(
    std::string_view item) const {
  int64_t n = 0;
  RETURN_IF_ERROR(store_->Scan(kLotsByItem,
                               absl::StrCat(Sv(item), std::string(1, '\0')), "",
                               [&](std::string_view, std::string_view) {
                                 ++n;
                                 return true;
                               }));
  return n;
}

absl::StatusOr<std::optional<std::string>> LotsQueries::FindSerialLot(
    std::string_view item, std::string_view serial) const {
  return store_->Get(kSerialLots, PairKey(item, serial));
}

absl::StatusOr<std::map<std::string, std::string>> LotsQueries::SerialLots(
    std::string_view item, const std::vector<std::string>& serials) const {
  std::vector<std::string> keys;
  keys.reserve(serials.size());
  for (const std::string& serial : serials) {
    keys.push_back(PairKey(item, serial));
  }
  ASSIGN_OR_RETURN(std::vector<std::optional<std::string>> lots,
                   store_->MultiGet(kSerialLots, keys));
  std::map<std::string, std::string> out;
  for (size_t i = 0; i < serials.size(); ++i) {
    if (lots[i].has_value()) out.emplace(serials[i], *std::move(lots[i]));
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> LotsQueries::LotSerials(
    std::string_view lot_id) const {
  std::vector<std::string> out;
  const std::string prefix = PairKey(lot_id, "");
  RETURN_IF_ERROR(store_->Scan(kLotSerials, prefix, "",
                               [&](std::string_view key, std::string_view) {
                                 out.emplace_back(key.substr(prefix.size()));
                                 return true;
                               }));
  return out;
}

absl::StatusOr<std::optional<v1::SerialsAssigned>>
LotsQueries::FindSerialAssignment(std::string_view lot_id,
                                  std::string_view event_id) const {
  return projection::ParseStored<v1::SerialsAssigned>(
      store_->Get(kSerialAssignments, PairKey(lot_id, event_id)),
      "serial assignment");
}

absl::StatusOr<v1::Lot> LotsQueries::GetLot(std::string_view lot_id) const {
  ASSIGN_OR_RETURN(std::optional<v1::Lot> lot, FindLot(lot_id));
  // A lot known only as some parent's input (its own LotCreated not yet
  // applied) does not exist yet.
  if (!lot.has_value() || lot->item().empty()) {
    return absl::NotFoundError(
        absl::StrCat("lot ", Sv(lot_id), " does not exist"));
  }
  return *std::move(lot);
}

absl::StatusOr<v1::Product> LotsQueries::GetProduct(
    std::string_view item) const {
  ASSIGN_OR_RETURN(std::optional<v1::Product> product, FindProduct(item));
  if (!product.has_value()) {
    return absl::NotFoundError(
        absl::StrCat("product ", Sv(item), " does not exist"));
  }
  return *std::move(product);
}

absl::StatusOr<v1::ListLotsResponse> LotsQueries::ListLots(
    const v1::ListLotsRequest& request) const {
  int page_size = request.page_size() == 0 ? 100 : request.page_size();
  if (page_size < 0 || page_size > 1000) {
    return absl::InvalidArgumentError("page_size: must be 1..1000");
  }
  const std::string from =
      request.has_expires_from() ? DateKey(request.expires_from()) : "";
  const std::string to =
      request.has_expires_to() ? DateKey(request.expires_to()) : "99999999";
  // By item: scan the item's prefix in expiry order; else the expiry index.
  const bool by_item = !request.item().empty();
  const char* cf = by_item ? kLotsByItem : kLotsByExpiry;
  const std::string prefix =
      by_item ? absl::StrCat(request.item(), std::string(1, '\0')) : "";
  std::string start_after = request.page_token();
  if (start_after.empty() && !from.empty()) {
    // Start just before the first key of the window.
    start_after = absl::StrCat(prefix, from);
    start_after.back()--;  // "...20270101" -> "...20270100" sorts before
  }
  v1::ListLotsResponse out;
  absl::Status inner;
  std::string last_key;
  RETURN_IF_ERROR(store_->Scan(
      cf, prefix, start_after, [&](std::string_view key, std::string_view) {
        std::string_view rest = key.substr(prefix.size());
        if (rest.substr(0, 8) > to) return false;
        if (out.lots_size() == page_size) {
          out.set_next_page_token(last_key);
          return false;
        }
        const std::string lot_id(rest.substr(9));
        absl::StatusOr<v1::Lot> lot = GetLot(lot_id);
        if (!lot.ok()) {
          inner = lot.status();
          return false;
        }
        *out.add_lots() = *std::move(lot);
        last_key.assign(key);
        return true;
      }));
  RETURN_IF_ERROR(inner);
  return out;
}

namespace {

// The request's max_depth (default 64), or why the request is refused.
absl::StatusOr<int> CheckTraceRequest(const v1::TraceRequest& request) {
  if (request.lot_id().empty()) {
    return absl::InvalidArgumentError(
        "lot_id: required (or item and serial, for one serialised unit)");
  }
  if (request.direction() != v1::TRACE_DIRECTION_BACKWARD &&
      request.direction() != v1::TRACE_DIRECTION_FORWARD) {
    return absl::InvalidArgumentError(
        "direction: must be TRACE_DIRECTION_BACKWARD or "
        "TRACE_DIRECTION_FORWARD");
  }
  const int max_depth = request.max_depth() == 0 ? 64 : request.max_depth();
  if (max_depth < 1 || max_depth > 64) {
    return absl::InvalidArgumentError("max_depth: must be 1..64");
  }
  return max_depth;
}

}  // namespace

absl::StatusOr<v1::TraceRequest> LotsQueries::TraceStart(
    const v1::TraceRequest& request) const {
  if (request.serial().empty() && request.item().empty()) return request;
  if (!request.lot_id().empty()) {
    return absl::InvalidArgumentError(
        "lot_id: give a lot id, or item and serial, not both");
  }
  if (request.item().empty()) {
    return absl::InvalidArgumentError("item: required with serial");
  }
  if (request.serial().empty()) {
    return absl::InvalidArgumentError(
        "serial: required with item (a trace starts at a lot: give lot_id, "
        "or item and serial)");
  }
  RETURN_IF_ERROR(domain::ValidateSerial(request.serial(), "serial"));
  ASSIGN_OR_RETURN(std::optional<std::string> lot_id,
                   FindSerialLot(request.item(), request.serial()));
  if (!lot_id.has_value()) {
    return absl::NotFoundError(absl::StrCat("serial ", request.serial(), " of ",
                                            request.item(),
                                            " is not assigned to any lot"));
  }
  v1::TraceRequest start = request;
  start.set_lot_id(*lot_id);
  return start;
}

absl::StatusOr<v1::TraceResponse> LotsQueries::Trace(
    const v1::TraceRequest& request) const {
  if (index_ == nullptr || !index_->loaded()) return TraceFromStore(request);
  ASSIGN_OR_RETURN(const v1::TraceRequest start, TraceStart(request));
  ASSIGN_OR_RETURN(const int max_depth, CheckTraceRequest(start));
  ASSIGN_OR_RETURN(
      v1::TraceResponse out,
      index_->Trace(start.lot_id(),
                    start.direction() == v1::TRACE_DIRECTION_BACKWARD,
                    max_depth));
  out.set_serial(start.serial());
  return out;
}

absl::StatusOr<v1::TraceResponse> LotsQueries::TraceFromStore(
    const v1::TraceRequest& original) const {
  ASSIGN_OR_RETURN(const v1::TraceRequest request, TraceStart(original));
  ASSIGN_OR_RETURN(const int max_depth, CheckTraceRequest(request));
  const bool backward = request.direction() == v1::TRACE_DIRECTION_BACKWARD;
  // Every node fetched so far, by lot id. A level of the walk is fetched
  // with one MultiGet rather than a Get per lot.
  std::map<std::string, v1::GenealogyNode> nodes;
  auto fetch = [&](const std::vector<std::string>& ids) -> absl::Status {
    std::vector<std::string> missing;
    for (const std::string& id : ids) {
      if (!nodes.contains(id)) missing.push_back(id);
    }
    if (missing.empty()) return absl::OkStatus();
    ASSIGN_OR_RETURN(std::vector<std::optional<std::string>> values,
                     store_->MultiGet(kGenealogy, missing));
    for (size_t i = 0; i < missing.size(); ++i) {
      v1::GenealogyNode node;
      if (values[i].has_value() && !node.ParseFromString(*values[i])) {
        return absl::DataLossError(absl::StrCat(
            "stored genealogy node of ", missing[i], " cannot be decoded"));
      }
      // Absent, or known only as some parent's input: not created yet.
      if (!node.created()) {
        return absl::NotFoundError(
            absl::StrCat("lot ", missing[i], " does not exist"));
      }
      // A node with a list is from an older projection and not touched
      // since: its edges are all in the list, none under used_in yet.
      if (!backward && node.used_in_size() == 0) {
        RETURN_IF_ERROR(UsedIn(missing[i], *node.mutable_used_in()));
      }
      nodes.emplace(missing[i], std::move(node));
    }
    return absl::OkStatus();
  };
  // Item kinds, looked up once per item per trace (a rebuild may fold a
  // product after its lots, so kinds are not copied into the nodes).
  std::map<std::string, v1::ItemKind> kinds;
  auto kind_of = [&](const std::string& item) -> absl::StatusOr<v1::ItemKind> {
    auto it = kinds.find(item);
    if (it == kinds.end()) {
      ASSIGN_OR_RETURN(std::optional<v1::Product> p, FindProduct(item));
      it = kinds.emplace(item, p ? p->kind() : v1::ITEM_KIND_UNSPECIFIED).first;
    }
    return it->second;
  };

  v1::TraceResponse out;
  RETURN_IF_ERROR(fetch({request.lot_id()}));
  std::set<std::string> seen = {request.lot_id()};
  std::vector<std::string> level = {request.lot_id()};
  for (int depth = 0; !level.empty(); ++depth) {
    std::vector<std::string> next;
    for (const std::string& id : level) {
      const v1::GenealogyNode& node = nodes.at(id);
      v1::TraceNode* out_node = out.add_nodes();
      out_node->set_lot_id(id);
      out_node->set_item(node.item());
      out_node->set_lot_number(node.lot_number());
      ASSIGN_OR_RETURN(const v1::ItemKind kind, kind_of(node.item()));
      out_node->set_kind(kind);
      *out_node->mutable_expires_on() = node.expires_on();
      out_node->set_depth(depth);
      const bool has_next =
          backward ? node.inputs_size() > 0 : node.used_in_size() > 0;
      if (has_next && depth == max_depth) out.set_truncated(true);
      if (!has_next || depth == max_depth) continue;
      if (backward) {
        for (const v1::LotInput& in : node.inputs()) {
          v1::TraceEdge* e = out.add_edges();
          e->set_parent_lot_id(id);
          e->set_child_lot_id(in.lot_id());
          *e->mutable_quantity() = in.quantity();
          if (seen.insert(in.lot_id()).second) next.push_back(in.lot_id());
        }
      } else {
        for (const std::string& parent_id : node.used_in()) {
          next.push_back(parent_id);  // edges need every parent, seen or not
        }
      }
    }
    RETURN_IF_ERROR(fetch(next));
    if (!backward) {
      // The quantity of a forward edge lives on the parent's input line.
      std::vector<std::string> fresh;
      for (const std::string& id : level) {
        for (const std::string& parent_id : nodes.at(id).used_in()) {
          if (depth == max_depth) break;
          for (const v1::LotInput& in : nodes.at(parent_id).inputs()) {
            if (in.lot_id() != id) continue;
            v1::TraceEdge* e = out.add_edges();
            e->set_parent_lot_id(parent_id);
            e->set_child_lot_id(id);
            *e->mutable_quantity() = in.quantity();
          }
          if (seen.insert(parent_id).second) fresh.push_back(parent_id);
        }
      }
      next = std::move(fresh);
    }
    level = std::move(next);
  }
  out.set_serial(request.serial());
  return out;
}

}  // namespace lotledger::lots
