#include "libs/domain/inventory/decider.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/message_differencer.h"
#include "libs/common/ids.h"
#include "libs/common/status_macros.h"
#include "libs/domain/common/recall_standing.h"
#include "libs/domain/common/refusals.h"
#include "libs/domain/inventory/customers.h"
#include "libs/domain/inventory/expiry.h"
#include "libs/domain/inventory/gate.h"
#include "libs/domain/inventory/serial_places.h"
#include "libs/domain/inventory/values.h"
#include "libs/domain/lots/dates.h"
#include "libs/domain/serials/serials.h"

namespace lotledger::inventory {
namespace {

using domain::Invalid;
using domain::IsBlank;
using domain::Refuse;

using google::protobuf::Timestamp;
using google::protobuf::util::MessageDifferencer;

const v1::LotInventory* FindLot(const v1::InventoryDecisionState& state,
                                const std::string& lot_id) {
  auto it = state.lots().find(lot_id);
  return it == state.lots().end() ? nullptr : &it->second;
}

const v1::Product* FindProduct(const v1::InventoryDecisionState& state,
                               const std::string& item) {
  auto it = state.products().find(item);
  return it == state.products().end() ? nullptr : &it->second;
}

// The lot, which must be known to inventory (its LotCreated was seen).
absl::StatusOr<const v1::LotInventory*> KnownLot(
    const v1::InventoryDecisionState& state, const std::string& lot_id) {
  const v1::LotInventory* lot = FindLot(state, lot_id);
  if (lot == nullptr || !lot->exists()) {
    return Refuse("lot ", lot_id,
                  " does not exist; create it in the lots service first");
  }
  return lot;
}

// A lot the command moves stock of: known, or at least holding stock (an
// inventory view can exist before its LotCreated replays).
const v1::LotInventory& LotOrEmpty(const v1::InventoryDecisionState& state,
                                   const std::string& lot_id) {
  static const v1::LotInventory* const kEmpty = new v1::LotInventory();
  const v1::LotInventory* lot = FindLot(state, lot_id);
  return lot == nullptr ? *kEmpty : *lot;
}

// A warehouse or bin that exists, named by request field `field`.
absl::StatusOr<const v1::Location*> StockLocation(
    const v1::InventoryDecisionState& state, absl::string_view field,
    const std::string& id) {
  if (id.empty()) return Invalid(field, ": required");
  auto it = state.locations().find(id);
  if (it == state.locations().end()) {
    return Refuse("location ", id, " does not exist; create it first");
  }
  if (!IsStockLocation(it->second)) {
    return Refuse("location ", id,
                  " is a site or region; stock is held only in a warehouse "
                  "or a bin");
  }
  return &it->second;
}

// The amount of `q` in the lot's unit. `allow_zero` for counts.
absl::StatusOr<v1::Quantity> LotQuantity(absl::string_view field,
                                         const v1::Quantity& q,
                                         const v1::LotInventory& lot,
                                         const std::string& lot_id,
                                         bool allow_zero = false) {
  if (allow_zero ? q.amount() < 0 : q.amount() <= 0) {
    return Invalid(
        field, ".amount: ",
        allow_zero ? "a count cannot be negative" : "must be positive",
        ", got ", q.amount());
  }
  v1::Quantity out = q;
  if (out.uom().empty()) out.set_uom(lot.uom());
  if (!lot.uom().empty() && out.uom() != lot.uom()) {
    return Refuse("lot ", lot_id, " is counted in ", lot.uom(), ", not ",
                  out.uom());
  }
  return out;
}

// Refuses taking `amount` of the lot from `location_id` when less is there.
absl::Status CheckTake(const v1::LotInventory& lot, const std::string& lot_id,
                       const std::string& location_id, int64_t amount,
                       absl::string_view verb) {
  const int64_t there = StockAt(lot, location_id);
  if (amount <= there) return absl::OkStatus();
  const std::string uom = lot.uom().empty() ? "" : absl::StrCat(" ", lot.uom());
  return Refuse("lot ", lot_id, " has ", there, uom, " at ", location_id,
                "; cannot ", verb, " ", amount, ": stock never goes negative");
}

v1::Event NewEvent(const std::string& aggregate_id, bool is_lot,
                   const Timestamp* occurred_at) {
  v1::Event event;
  event.set_aggregate_id(aggregate_id);
  if (is_lot) event.add_lot_ids(aggregate_id);
  if (occurred_at != nullptr) *event.mutable_occurred_at() = *occurred_at;
  return event;
}

template <typename Request>
v1::Event NewLotEvent(const std::string& lot_id, const Request& req) {
  return NewEvent(lot_id, true,
                  req.has_occurred_at() ? &req.occurred_at() : nullptr);
}

// The warehouse-calendar day of the request's business time.
template <typename Request>
v1::Date DayOf(const v1::InventoryCommand& cmd, const Request& req) {
  return BusinessDay(req.has_occurred_at() ? req.occurred_at() : cmd.now(),
                     cmd.utc_offset_minutes());
}

std::string RegionOf(const v1::InventoryDecisionState& state,
                     const std::string& location_id) {
  auto it = state.locations().find(location_id);
  return it == state.locations().end() ? "" : it->second.region_id();
}

// ---- Serials
// -----------------------------------------------------------------

// True when the lot's product is tracked by serial (an unknown product is
// tracked by lot).
bool IsSerialised(const v1::InventoryDecisionState& state,
                  const v1::LotInventory& lot) {
  const v1::Product* product = FindProduct(state, lot.item());
  return product != nullptr && product->tracking() == v1::TRACKING_SERIAL;
}

// The item of a lot: its master data, else the item in its id.
std::string ItemOf(const v1::LotInventory& lot, const std::string& lot_id) {
  return lot.item().empty() ? std::string(ItemOfLotId(lot_id)) : lot.item();
}

const v1::SerialStatus* FindSerial(const v1::InventoryDecisionState& state,
                                   const std::string& item,
                                   const std::string& serial) {
  auto it = state.serials().find(domain::SerialKey(item, serial));
  return it == state.serials().end() ? nullptr : &it->second;
}

// "p1; p2; ...", at most five and then how many more.
std::string JoinProblems(const std::vector<std::string>& problems) {
  constexpr size_t kShown = 5;
  if (problems.size() <= kShown) return absl::StrJoin(problems, "; ");
  std::vector<std::string> shown(problems.begin(), problems.begin() + kShown);
  return absl::StrCat(absl::StrJoin(shown, "; "), "; and ",
                      problems.size() - kShown, " more");
}

// The serials a movement of `lot` names (`field`, e.g.
// "ship.lines[1].serials"), checked against the product's tracking: for a
// product tracked by serial they are required (unless `allow_empty`) and
// their number is the quantity (`quantity_field`): an omitted quantity
// (unset or 0) becomes it, a given one must equal it. For a product
// tracked by lot they are refused. Sorted; empty for a lot-tracked one.
absl::StatusOr<std::vector<std::string>> MovementSerials(
    const v1::InventoryDecisionState& state, const v1::LotInventory& lot,
    const std::string& lot_id, const domain::SerialRanges& ranges,
    const std::string& field, const std::string& quantity_field,
    v1::Quantity* quantity, bool allow_empty = false) {
  if (!IsSerialised(state, lot)) {
    if (!ranges.empty()) {
      return Refuse("product ", ItemOf(lot, lot_id), " is tracked by lot; ",
                    field, " must be empty");
    }
    return std::vector<std::string>();
  }
  ASSIGN_OR_RETURN(
      std::vector<std::string> serials,
      domain::ExpandSerials(ranges, field, domain::kMaxSerialsPerRequest,
                            /*required=*/!allow_empty));
  const int64_t n = static_cast<int64_t>(serials.size());
  if (quantity->amount() == 0 && (allow_empty || n > 0)) {
    quantity->set_amount(n);
  } else if (quantity->amount() != n) {
    return Invalid(quantity_field, ".amount: ", quantity->amount(), ", but ",
                   field, " names ", n, n == 1 ? " serial" : " serials",
                   "; for a product tracked by serial they are equal");
  }
  return serials;
}

// Refusals for serials of lot `lot_id` that are not in stock at
// `location_id` (transfer, ship, scrap), naming where each one is.
void CheckSerialsAt(const v1::InventoryDecisionState& state,
                    const std::string& item, const std::string& lot_id,
                    const std::vector<std::string>& serials,
                    const std::string& location_id,
                    std::vector<std::string>* problems) {
  for (const std::string& serial : serials) {
    const v1::SerialStatus* s = FindSerial(state, item, serial);
    if (s != nullptr && !s->lot_id().empty() && s->lot_id() != lot_id) {
      problems->push_back(absl::StrCat("serial ", serial, " is of lot ",
                                       s->lot_id(), ", not of lot ", lot_id));
      continue;
    }
    if (s != nullptr && s->place() == v1::SERIAL_PLACE_IN_STOCK &&
        s->location_id() == location_id) {
      continue;
    }
    problems->push_back(absl::StrCat("serial ", serial, " of lot ", lot_id,
                                     " is ", SerialPlaceText(s), ", not at ",
                                     location_id));
  }
}

// Refusals for serials a receipt names: each assigned to this lot by the
// lots service's register and not in stock or at a customer.
void CheckSerialsReceivable(const v1::InventoryDecisionState& state,
                            const std::string& item, const std::string& lot_id,
                            const std::vector<std::string>& serials,
                            std::vector<std::string>* problems) {
  for (const std::string& serial : serials) {
    const std::string key = domain::SerialKey(item, serial);
    auto assigned = state.serial_lots().find(key);
    if (assigned == state.serial_lots().end()) {
      problems->push_back(absl::StrCat("serial ", serial,
                                       " is not assigned to lot ", lot_id,
                                       " (lots service AssignSerials)"));
      continue;
    }
    if (assigned->second != lot_id) {
      problems->push_back(absl::StrCat("serial ", serial, " belongs to lot ",
                                       assigned->second, ", not to lot ",
                                       lot_id));
      continue;
    }
    const v1::SerialStatus* s = FindSerial(state, item, serial);
    if (s == nullptr) continue;
    switch (s->place()) {
      case v1::SERIAL_PLACE_IN_STOCK:
        problems->push_back(absl::StrCat("serial ", serial, " of lot ", lot_id,
                                         " is already in stock at ",
                                         s->location_id()));
        break;
      case v1::SERIAL_PLACE_AT_CUSTOMER:
      case v1::SERIAL_PLACE_USED:
        problems->push_back(absl::StrCat("serial ", serial, " of lot ", lot_id,
                                         " is ", SerialPlaceText(s),
                                         "; a return takes it back"));
        break;
      default:  // scrapped, missing: found again
        break;
    }
  }
}

// Refusals for serials of lot `lot_id` that `customer_id` does not hold
// unused (return, usage report), naming where each one is.
void CheckSerialsAtCustomer(const v1::InventoryDecisionState& state,
                            const std::string& item, const std::string& lot_id,
                            const std::vector<std::string>& serials,
                            const std::string& customer_id,
                            absl::string_view verb,
                            std::vector<std::string>* problems) {
  for (const std::string& serial : serials) {
    const v1::SerialStatus* s = FindSerial(state, item, serial);
    if (s != nullptr && !s->lot_id().empty() && s->lot_id() != lot_id) {
      problems->push_back(absl::StrCat("serial ", serial, " is of lot ",
                                       s->lot_id(), ", not of lot ", lot_id));
      continue;
    }
    if (s != nullptr && s->customer_id() == customer_id) {
      if (s->place() == v1::SERIAL_PLACE_AT_CUSTOMER) continue;
      if (s->place() == v1::SERIAL_PLACE_USED) {
        problems->push_back(absl::StrCat("serial ", serial, " of lot ", lot_id,
                                         " was reported used at "
                                         "customer ",
                                         customer_id, " on ",
                                         DateText(s->used_on()),
                                         "; a used device cannot be ", verb));
        continue;
      }
    }
    problems->push_back(absl::StrCat("serial ", serial, " of lot ", lot_id,
                                     " is ", SerialPlaceText(s),
                                     ", not at customer ", customer_id));
  }
}

// The lot's recalls by serial, by recalled serial (the first recall to
// name each one); expanded once per lot a shipment names.
using SerialRecallIndex = std::map<std::string, const v1::RecalledSerials*>;
SerialRecallIndex IndexSerialRecalls(const v1::InventoryDecisionState& state,
                                     const std::string& lot_id) {
  SerialRecallIndex index;
  auto it = state.serial_recalls().find(lot_id);
  if (it == state.serial_recalls().end()) return index;
  for (const v1::RecalledSerials& r : it->second.recalls()) {
    for (std::string& serial : domain::SerialsOf(r.serials())) {
      index.emplace(std::move(serial), &r);
    }
  }
  return index;
}

// ---- CreateLocation ---------------------------------------------------------

bool IsLocationId(absl::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' ||
           c == '_' || c == '-';
  });
}

absl::string_view KindName(v1::LocationKind kind) {
  switch (kind) {
    case v1::LOCATION_KIND_SITE:
      return "site";
    case v1::LOCATION_KIND_REGION:
      return "region";
    case v1::LOCATION_KIND_WAREHOUSE:
      return "warehouse";
    case v1::LOCATION_KIND_BIN:
      return "bin";
    default:
      return "location";
  }
}

absl::StatusOr<std::vector<v1::Event>> DecideCreateLocation(
    const v1::InventoryDecisionState& state,
    const v1::CreateLocationRequest& req) {
  if (!IsLocationId(req.location_id())) {
    return Invalid("create_location.location_id: \"", req.location_id(),
                   "\" must be 1-64 of letters, digits, '.', '_', '-'");
  }
  if (IsBlank(req.name())) return Invalid("create_location.name: required");
  if (req.kind() == v1::LOCATION_KIND_UNSPECIFIED ||
      !v1::LocationKind_IsValid(req.kind())) {
    return Invalid(
        "create_location.kind: required: site, region, warehouse or bin");
  }
  v1::Location location;
  location.set_location_id(req.location_id());
  location.set_name(req.name());
  location.set_kind(req.kind());
  location.set_quarantine(req.quarantine());
  location.set_address(req.address());
  if (req.kind() == v1::LOCATION_KIND_SITE) {
    if (!req.parent_id().empty()) {
      return Invalid(
          "create_location.parent_id: a site is the top level "
          "and has no parent");
    }
    location.set_site_id(req.location_id());
  } else {
    if (req.parent_id().empty()) {
      return Invalid("create_location.parent_id: required for a ",
                     KindName(req.kind()));
    }
    auto parent = state.locations().find(req.parent_id());
    if (parent == state.locations().end()) {
      return Refuse("parent location ", req.parent_id(),
                    " does not exist; create it before ", req.location_id());
    }
    const v1::LocationKind above =
        static_cast<v1::LocationKind>(req.kind() - 1);
    if (parent->second.kind() != above) {
      return Refuse("a ", KindName(req.kind()), " belongs under a ",
                    KindName(above), "; ", req.parent_id(), " is a ",
                    KindName(parent->second.kind()));
    }
    location.set_parent_id(req.parent_id());
    location.set_site_id(parent->second.site_id());
    location.set_region_id(req.kind() == v1::LOCATION_KIND_REGION
                               ? req.location_id()
                               : parent->second.region_id());
    // Everything in a quarantine warehouse is quarantined: a bin there
    // cannot be a way out.
    if (parent->second.quarantine() && req.kind() == v1::LOCATION_KIND_BIN) {
      location.set_quarantine(true);
    }
  }
  if (auto existing = state.locations().find(req.location_id());
      existing != state.locations().end()) {
    if (MessageDifferencer::Equals(existing->second, location)) {
      return std::vector<v1::Event>();
    }
    return Refuse("location ", req.location_id(), " already exists as ",
                  KindName(existing->second.kind()), " \"",
                  existing->second.name(), "\"",
                  existing->second.parent_id().empty()
                      ? ""
                      : absl::StrCat(" under ", existing->second.parent_id()),
                  "; locations are not redefined");
  }
  v1::Event event =
      NewEvent(req.location_id(), false,
               req.has_occurred_at() ? &req.occurred_at() : nullptr);
  *event.mutable_location_created()->mutable_location() = std::move(location);
  return std::vector<v1::Event>{std::move(event)};
}

// ---- Receive
// ------------------------------------------------------------------

// The label's dates against the lot's master data (the lots service's scan
// firewall): a wrong label in stock would later mislead every reader.
absl::Status CheckLabel(const v1::ScannedLabel& label,
                        const v1::LotInventory& lot) {
  if (HasExpiry(lot)) {
    if (!label.has_expires_on()) {
      return Refuse("the label of lot ", lot.lot_id(),
                    " carries no expiry date (AI 17), but the lot expires "
                    "on ",
                    DateText(lot.expires_on()), "; relabel before receiving");
    }
    if (!MessageDifferencer::Equals(label.expires_on(), lot.expires_on())) {
      return Refuse("expiry on the label of lot ", lot.lot_id(), " is ",
                    DateText(label.expires_on()), ", the lot's expiry is ",
                    DateText(lot.expires_on()),
                    "; relabel or correct the lot before receiving");
    }
  }
  if (label.has_produced_on() && lot.has_manufactured_on() &&
      !MessageDifferencer::Equals(label.produced_on(), lot.manufactured_on())) {
    return Refuse("production date on the label of lot ", lot.lot_id(), " is ",
                  DateText(label.produced_on()),
                  ", the lot's manufacture date is ",
                  DateText(lot.manufactured_on()),
                  "; relabel or correct the lot before receiving");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::Event>> DecideReceive(
    const v1::InventoryDecisionState& state, const v1::InventoryCommand& cmd) {
  const v1::ReceiveStockRequest& req = cmd.receive();
  std::string lot_id;
  switch (req.lot_case()) {
    case v1::ReceiveStockRequest::kLotId:
      if (req.lot_id().empty()) return Invalid("receive.lot_id: required");
      lot_id = req.lot_id();
      break;
    case v1::ReceiveStockRequest::kGs1Scan: {
      if (req.gs1_scan().empty()) return Invalid("receive.gs1_scan: empty");
      // The service parses the scan; a missing parse is its bug, but name
      // the field so it is found.
      if (!cmd.has_scanned_label()) {
        return Invalid("receive.gs1_scan: not parsed (scanned_label unset)");
      }
      const v1::ScannedLabel& label = cmd.scanned_label();
      if (label.gtin().empty()) {
        return Invalid("receive.gs1_scan: has no GTIN (AI 01)");
      }
      if (label.lot_number().empty()) {
        return Invalid("receive.gs1_scan: has no lot number (AI 10)");
      }
      lot_id = MakeLotId(label.gtin(), label.lot_number());
      break;
    }
    case v1::ReceiveStockRequest::LOT_NOT_SET:
      return Invalid("receive.lot: required: lot_id or gs1_scan");
  }
  if (req.source() == v1::RECEIPT_SOURCE_UNSPECIFIED ||
      !v1::ReceiptSource_IsValid(req.source())) {
    return Invalid("receive.source: required: production or supplier");
  }
  ASSIGN_OR_RETURN(
      const v1::Location* to,
      StockLocation(state, "receive.location_id", req.location_id()));
  ASSIGN_OR_RETURN(const v1::LotInventory* lot, KnownLot(state, lot_id));
  // With a scan carrying (21) and no serials named: the scan's serial.
  domain::SerialRanges named = req.serials();
  if (named.empty() && req.has_gs1_scan() &&
      !cmd.scanned_label().serial().empty()) {
    named.Add()->set_first(cmd.scanned_label().serial());
  }
  v1::Quantity given = req.quantity();
  ASSIGN_OR_RETURN(
      const std::vector<std::string> serials,
      MovementSerials(state, *lot, lot_id, named, "receive.serials",
                      "receive.quantity", &given));
  ASSIGN_OR_RETURN(v1::Quantity quantity,
                   LotQuantity("receive.quantity", given, *lot, lot_id));
  if (req.has_gs1_scan())
    RETURN_IF_ERROR(CheckLabel(cmd.scanned_label(), *lot));
  std::vector<std::string> problems;
  CheckSerialsReceivable(state, ItemOf(*lot, lot_id), lot_id, serials,
                         &problems);
  if (!problems.empty()) {
    return Refuse("cannot receive into lot ", lot_id, ": ",
                  JoinProblems(problems));
  }

  v1::Event event = NewLotEvent(lot_id, req);
  v1::StockReceived& received = *event.mutable_stock_received();
  received.set_lot_id(lot_id);
  received.set_location_id(to->location_id());
  *received.mutable_quantity() = std::move(quantity);
  received.set_source(req.source());
  received.set_supplier(req.supplier());
  received.set_reference(req.reference());
  if (req.has_gs1_scan()) received.set_gs1_scan(req.gs1_scan());
  if (HasExpiry(*lot)) *received.mutable_expires_on() = lot->expires_on();
  *received.mutable_serials() = domain::CompressSerials(serials);
  return std::vector<v1::Event>{std::move(event)};
}

// ---- Transfer
// -----------------------------------------------------------------

absl::StatusOr<std::vector<v1::Event>> DecideTransfer(
    const v1::InventoryDecisionState& state,
    const v1::TransferStockRequest& req) {
  if (req.lot_id().empty()) return Invalid("transfer.lot_id: required");
  if (req.from_location_id().empty()) {
    return Invalid("transfer.from_location_id: required");
  }
  if (req.from_location_id() == req.to_location_id()) {
    return Invalid("transfer.to_location_id: same as from_location_id (",
                   req.from_location_id(), ")");
  }
  ASSIGN_OR_RETURN(const v1::Location* from,
                   StockLocation(state, "transfer.from_location_id",
                                 req.from_location_id()));
  ASSIGN_OR_RETURN(
      const v1::Location* to,
      StockLocation(state, "transfer.to_location_id", req.to_location_id()));
  const v1::LotInventory& lot = LotOrEmpty(state, req.lot_id());
  v1::Quantity given = req.quantity();
  ASSIGN_OR_RETURN(
      const std::vector<std::string> serials,
      MovementSerials(state, lot, req.lot_id(), req.serials(),
                      "transfer.serials", "transfer.quantity", &given));
  ASSIGN_OR_RETURN(v1::Quantity quantity,
                   LotQuantity("transfer.quantity", given, lot, req.lot_id()));
  RETURN_IF_ERROR(CheckTake(lot, req.lot_id(), from->location_id(),
                            quantity.amount(), "transfer"));
  std::vector<std::string> problems;
  CheckSerialsAt(state, ItemOf(lot, req.lot_id()), req.lot_id(), serials,
                 from->location_id(), &problems);
  if (!problems.empty()) {
    return Refuse("cannot transfer: ", JoinProblems(problems));
  }

  v1::Event event = NewLotEvent(req.lot_id(), req);
  v1::StockTransferred& moved = *event.mutable_stock_transferred();
  moved.set_lot_id(req.lot_id());
  moved.set_from_location_id(from->location_id());
  moved.set_to_location_id(to->location_id());
  *moved.mutable_quantity() = std::move(quantity);
  moved.set_reason(req.reason());
  moved.set_from_region_id(from->region_id());
  moved.set_to_region_id(to->region_id());
  *moved.mutable_serials() = domain::CompressSerials(serials);
  return std::vector<v1::Event>{std::move(event)};
}

// ---- Ship
// -----------------------------------------------------------------------

absl::Status ValidateShipShape(const v1::ShipStockRequest& req) {
  if (req.shipment_id().empty()) {
    return Invalid(
        "ship.shipment_id: required (the service makes one when "
        "the client gives none)");
  }
  if (IsBlank(req.customer().customer_id())) {
    return Invalid("ship.customer.customer_id: required");
  }
  if (req.customer().min_remaining_shelf_life_days() < 0) {
    return Invalid(
        "ship.customer.min_remaining_shelf_life_days: must not be negative, "
        "got ",
        req.customer().min_remaining_shelf_life_days());
  }
  if (req.lines().empty()) return Invalid("ship.lines: at least one line");
  for (int i = 0; i < req.lines_size(); ++i) {
    const v1::ShipmentLine& line = req.lines(i);
    if (line.lot_id().empty()) {
      return Invalid("ship.lines[", i, "].lot_id: required");
    }
    if (line.location_id().empty()) {
      return Invalid("ship.lines[", i, "].location_id: required");
    }
    // A serialised line may leave the quantity to its serials.
    if (line.quantity().amount() <= 0 &&
        !(line.serials_size() > 0 && line.quantity().amount() == 0)) {
      return Invalid("ship.lines[", i,
                     "].quantity.amount: must be positive, got ",
                     line.quantity().amount());
    }
  }
  return absl::OkStatus();
}

// The registered customer a shipment names, checked against what the
// request typed in; null for a customer that is not registered (refused
// when the service requires registered customers).
absl::StatusOr<const v1::CustomerVersion*> ShipCustomer(
    const v1::InventoryDecisionState& state, const v1::InventoryCommand& cmd) {
  const v1::ShipStockRequest& req = cmd.ship();
  auto it = state.customers().find(req.customer().customer_id());
  if (it == state.customers().end()) {
    if (cmd.require_registered_customers()) {
      return Refuse("customer ", req.customer().customer_id(),
                    " is not registered; this service ships only to "
                    "registered customers (RegisterCustomer first)");
    }
    return nullptr;
  }
  std::vector<std::string> items;
  for (const v1::ShipmentLine& line : req.lines()) {
    const v1::LotInventory& lot = LotOrEmpty(state, line.lot_id());
    if (!lot.item().empty() &&
        std::find(items.begin(), items.end(), lot.item()) == items.end()) {
      items.push_back(lot.item());
    }
  }
  RETURN_IF_ERROR(CheckTypedCustomer(req.customer(), it->second.customer(),
                                     items, "ship.customer"));
  return &it->second;
}

// The override's shape and signature; null without an override.
absl::StatusOr<const v1::ShelfLifeOverrideRequest*> ShipOverride(
    const v1::InventoryCommand& cmd) {
  const v1::ShipStockRequest& req = cmd.ship();
  if (!req.has_shelf_life_override()) return nullptr;
  const v1::ShelfLifeOverrideRequest& o = req.shelf_life_override();
  if (o.min_remaining_days() < 0) {
    return Invalid(
        "ship.shelf_life_override.min_remaining_days: must not be negative, "
        "got ",
        o.min_remaining_days());
  }
  if (cmd.shelf_life_override_signature().signer().empty()) {
    return Refuse(
        "ship.shelf_life_override.signature: required: overriding the "
        "customer's minimum shelf life is an electronic signature (who, "
        "meaning, reason, when); shipment ",
        req.shipment_id(), " not shipped");
  }
  return &o;
}

absl::StatusOr<std::vector<v1::Event>> DecideShip(
    const v1::InventoryDecisionState& state, const v1::InventoryCommand& cmd) {
  const v1::ShipStockRequest& req = cmd.ship();
  RETURN_IF_ERROR(ValidateShipShape(req));
  ASSIGN_OR_RETURN(const v1::CustomerVersion* registered,
                   ShipCustomer(state, cmd));
  ASSIGN_OR_RETURN(const v1::ShelfLifeOverrideRequest* override_req,
                   ShipOverride(cmd));
  const v1::Signature& override_signature = cmd.shelf_life_override_signature();
  // The ship date is business time (the request's occurred_at, else now);
  // the gate checks dates on the later of it and the day it is recorded.
  const v1::Date ship_date = DayOf(cmd, req);
  const v1::Date recorded_on = BusinessDay(cmd.now(), cmd.utc_offset_minutes());
  const v1::Date gate_day = LaterDay(ship_date, recorded_on);

  // Every refused line is reported at once, so a picker fixes the whole
  // shipment in one go; any refusal means nothing ships.
  std::vector<std::string> refused;
  std::vector<v1::Quantity> quantities(req.lines_size());
  std::vector<ShelfLifeRequirement> required(req.lines_size());
  // Per line: the customer minimum an override replaced.
  std::vector<ShelfLifeRequirement> overridden(req.lines_size());
  // Demand per (lot, location), to check the lines together.
  std::map<std::pair<std::string, std::string>, int64_t> demand;
  // Per line: its serials (sorted; empty for a lot-tracked product).
  std::vector<std::vector<std::string>> line_serials(req.lines_size());
  // (item, serial) -> the first line (1-based) naming it.
  std::map<std::pair<std::string, std::string>, int> serial_line;
  // Per lot id: its recalled serials.
  std::map<std::string, SerialRecallIndex> recalled;
  for (int i = 0; i < req.lines_size(); ++i) {
    const v1::ShipmentLine& line = req.lines(i);
    auto refuse_line = [&](const absl::Status& status) {
      refused.push_back(absl::StrCat("line ", i + 1, ": ", status.message()));
    };
    const v1::LotInventory& lot = LotOrEmpty(state, line.lot_id());
    v1::Quantity given = line.quantity();
    absl::StatusOr<std::vector<std::string>> serials =
        MovementSerials(state, lot, line.lot_id(), line.serials(),
                        absl::StrCat("ship.lines[", i, "].serials"),
                        absl::StrCat("ship.lines[", i, "].quantity"), &given);
    if (!serials.ok()) {
      if (absl::IsInvalidArgument(serials.status())) return serials.status();
      refuse_line(serials.status());
      continue;
    }
    line_serials[i] = *std::move(serials);
    const std::string item = ItemOf(lot, line.lot_id());
    std::vector<std::string> problems;
    auto [index, fresh] = recalled.try_emplace(line.lot_id());
    if (fresh) index->second = IndexSerialRecalls(state, line.lot_id());
    for (const std::string& serial : line_serials[i]) {
      auto [it, added] = serial_line.emplace(std::pair(item, serial), i + 1);
      if (!added) {
        problems.push_back(absl::StrCat("serial ", serial, " is named on line ",
                                        it->second,
                                        " too; a serial ships once"));
      }
      if (auto r = index->second.find(serial); r != index->second.end()) {
        problems.push_back(
            absl::StrCat("serial ", serial, " of lot ", line.lot_id(), " ",
                         domain::UnderRecall(r->second->recall()),
                         "; recalled serials cannot ship"));
      }
    }
    CheckSerialsAt(state, item, line.lot_id(), line_serials[i],
                   line.location_id(), &problems);
    if (!problems.empty()) {
      refuse_line(absl::FailedPreconditionError(JoinProblems(problems)));
      continue;
    }
    v1::LotInventory named;
    const v1::LotInventory* gated = &lot;
    if (lot.lot_id().empty()) {  // never heard of: name it in the message
      named.set_lot_id(line.lot_id());
      gated = &named;
    }
    ShelfLifeRequirement customer_min = CustomerMinimum(
        req.customer(),
        registered == nullptr ? nullptr : &registered->customer(), lot.item());
    if (override_req != nullptr) {
      overridden[i] = std::move(customer_min);
      customer_min.days = override_req->min_remaining_days();
      customer_min.by =
          absl::StrCat("the override signed by ", override_signature.signer());
    }
    required[i] =
        RequiredShelfLife(customer_min, FindProduct(state, lot.item()));
    if (absl::Status s =
            CheckShippable(*gated, ship_date, recorded_on, required[i]);
        !s.ok()) {
      refuse_line(s);
      continue;
    }
    if (absl::Status s = CheckPickLocation(state.locations(), line.lot_id(),
                                           line.location_id());
        !s.ok()) {
      refuse_line(s);
      continue;
    }
    absl::StatusOr<v1::Quantity> q =
        LotQuantity(absl::StrCat("ship.lines[", i, "].quantity"), given, lot,
                    line.lot_id());
    if (!q.ok()) {
      refuse_line(q.status());
      continue;
    }
    quantities[i] = *std::move(q);
    demand[{line.lot_id(), line.location_id()}] += quantities[i].amount();
  }
  for (const auto& [key, amount] : demand) {
    const auto& [lot_id, location_id] = key;
    if (absl::Status s = CheckTake(LotOrEmpty(state, lot_id), lot_id,
                                   location_id, amount, "ship");
        !s.ok()) {
      refused.push_back(std::string(s.message()));
    }
  }
  if (!refused.empty()) {
    return Refuse("shipment ", req.shipment_id(), " to customer ",
                  req.customer().customer_id(),
                  " refused, nothing shipped: ", absl::StrJoin(refused, "; "));
  }

  std::vector<v1::Event> events;
  events.reserve(req.lines_size());
  for (int i = 0; i < req.lines_size(); ++i) {
    const v1::ShipmentLine& line = req.lines(i);
    const v1::LotInventory& lot = LotOrEmpty(state, line.lot_id());
    v1::Event event = NewLotEvent(line.lot_id(), req);
    v1::StockShipped& shipped = *event.mutable_stock_shipped();
    shipped.set_shipment_id(req.shipment_id());
    shipped.set_line_index(i);
    shipped.set_line_count(req.lines_size());
    shipped.set_lot_id(line.lot_id());
    shipped.set_from_location_id(line.location_id());
    *shipped.mutable_quantity() = std::move(quantities[i]);
    *shipped.mutable_customer() =
        registered == nullptr
            ? req.customer()
            : ShipmentCustomer(req.customer(), *registered, lot.item());
    if (override_req != nullptr) {
      v1::ShelfLifeOverride& o = *shipped.mutable_shelf_life_override();
      o.set_min_remaining_days(override_req->min_remaining_days());
      o.set_overridden_days(overridden[i].days);
      o.set_overridden_by(overridden[i].by);
      *o.mutable_signature() = override_signature;
    }
    shipped.set_reference(req.reference());
    *shipped.mutable_ship_date() = ship_date;
    if (HasExpiry(lot)) {
      *shipped.mutable_expires_on() = lot.expires_on();
      // What the gate checked: the days left on the gate day.
      shipped.set_remaining_shelf_life_days(
          static_cast<int32_t>(DaysLeft(lot.expires_on(), gate_day)));
    }
    shipped.set_required_shelf_life_days(required[i].days);
    shipped.set_from_region_id(RegionOf(state, line.location_id()));
    *shipped.mutable_serials() = domain::CompressSerials(line_serials[i]);
    events.push_back(std::move(event));
  }
  return events;
}

// ---- Return
// ---------------------------------------------------------------------

absl::string_view ConditionName(v1::ReturnCondition condition) {
  return condition == v1::RETURN_CONDITION_DAMAGED ? "damaged" : "recalled";
}

absl::StatusOr<std::vector<v1::Event>> DecideReturn(
    const v1::InventoryDecisionState& state,
    const v1::ReturnStockRequest& req) {
  if (req.lot_id().empty()) return Invalid("return_stock.lot_id: required");
  if (IsBlank(req.customer_id())) {
    return Invalid("return_stock.customer_id: required");
  }
  if (req.condition() == v1::RETURN_CONDITION_UNSPECIFIED ||
      !v1::ReturnCondition_IsValid(req.condition())) {
    return Invalid(
        "return_stock.condition: required: resaleable, damaged or recalled");
  }
  ASSIGN_OR_RETURN(
      const v1::Location* to,
      StockLocation(state, "return_stock.location_id", req.location_id()));
  const v1::LotInventory& lot = LotOrEmpty(state, req.lot_id());
  v1::Quantity given = req.quantity();
  ASSIGN_OR_RETURN(
      const std::vector<std::string> serials,
      MovementSerials(state, lot, req.lot_id(), req.serials(),
                      "return_stock.serials", "return_stock.quantity", &given));
  ASSIGN_OR_RETURN(
      v1::Quantity quantity,
      LotQuantity("return_stock.quantity", given, lot, req.lot_id()));
  const v1::CustomerBalance* balance = nullptr;
  for (const v1::CustomerBalance& b : lot.customers()) {
    if (b.customer_id() == req.customer_id()) balance = &b;
  }
  if (balance == nullptr || balance->shipped() == 0) {
    return Refuse("customer ", req.customer_id(), " was never shipped lot ",
                  req.lot_id(), "; nothing of it can come back from them");
  }
  const int64_t held = balance->shipped() - balance->returned();
  if (quantity.amount() > held) {
    return Refuse("customer ", req.customer_id(), " holds ", held, " ",
                  quantity.uom(), " of lot ", req.lot_id(), " (shipped ",
                  balance->shipped(), ", returned ", balance->returned(),
                  "); cannot take back ", quantity.amount());
  }
  std::vector<std::string> problems;
  CheckSerialsAtCustomer(state, ItemOf(lot, req.lot_id()), req.lot_id(),
                         serials, req.customer_id(), "returned", &problems);
  if (!problems.empty()) {
    return Refuse("cannot take back from customer ", req.customer_id(), ": ",
                  JoinProblems(problems));
  }
  if (req.condition() != v1::RETURN_CONDITION_RESALEABLE && !to->quarantine()) {
    return Refuse(ConditionName(req.condition()), " goods of lot ",
                  req.lot_id(), " must be returned into a quarantine area; ",
                  to->location_id(), " is not one");
  }

  v1::Event event = NewLotEvent(req.lot_id(), req);
  v1::StockReturned& returned = *event.mutable_stock_returned();
  returned.set_lot_id(req.lot_id());
  returned.set_customer_id(req.customer_id());
  returned.set_shipment_id(req.shipment_id());
  returned.set_to_location_id(to->location_id());
  *returned.mutable_quantity() = std::move(quantity);
  returned.set_condition(req.condition());
  returned.set_notes(req.notes());
  returned.set_return_id(req.return_id());
  *returned.mutable_serials() = domain::CompressSerials(serials);
  return std::vector<v1::Event>{std::move(event)};
}

// ---- Scrap and count
// ------------------------------------------------------------

// `signature` is the scrapper's verified electronic signature (the service
// checks the credential); it goes into the event as it is.
absl::StatusOr<std::vector<v1::Event>> DecideScrap(
    const v1::InventoryDecisionState& state, const v1::ScrapStockRequest& req,
    const v1::Signature& signature) {
  if (req.lot_id().empty()) return Invalid("scrap.lot_id: required");
  if (req.reason() == v1::SCRAP_REASON_UNSPECIFIED ||
      !v1::ScrapReason_IsValid(req.reason())) {
    return Invalid(
        "scrap.reason: required: expired, damaged, recalled, "
        "quality_rejected or other");
  }
  if (req.reason() == v1::SCRAP_REASON_OTHER && IsBlank(req.notes())) {
    return Invalid("scrap.notes: required when the reason is other");
  }
  ASSIGN_OR_RETURN(
      const v1::Location* at,
      StockLocation(state, "scrap.location_id", req.location_id()));
  const v1::LotInventory& lot = LotOrEmpty(state, req.lot_id());
  v1::Quantity given = req.quantity();
  ASSIGN_OR_RETURN(const std::vector<std::string> serials,
                   MovementSerials(state, lot, req.lot_id(), req.serials(),
                                   "scrap.serials", "scrap.quantity", &given));
  ASSIGN_OR_RETURN(v1::Quantity quantity,
                   LotQuantity("scrap.quantity", given, lot, req.lot_id()));
  RETURN_IF_ERROR(CheckTake(lot, req.lot_id(), at->location_id(),
                            quantity.amount(), "scrap"));
  std::vector<std::string> problems;
  CheckSerialsAt(state, ItemOf(lot, req.lot_id()), req.lot_id(), serials,
                 at->location_id(), &problems);
  if (!problems.empty()) {
    return Refuse("cannot scrap: ", JoinProblems(problems));
  }

  v1::Event event = NewLotEvent(req.lot_id(), req);
  v1::StockScrapped& scrapped = *event.mutable_stock_scrapped();
  scrapped.set_lot_id(req.lot_id());
  scrapped.set_location_id(at->location_id());
  *scrapped.mutable_quantity() = std::move(quantity);
  scrapped.set_reason(req.reason());
  scrapped.set_notes(req.notes());
  if (!signature.signer().empty()) *scrapped.mutable_signature() = signature;
  *scrapped.mutable_serials() = domain::CompressSerials(serials);
  return std::vector<v1::Event>{std::move(event)};
}

absl::StatusOr<std::vector<v1::Event>> DecideAdjust(
    const v1::InventoryDecisionState& state,
    const v1::AdjustStockRequest& req) {
  if (req.lot_id().empty()) return Invalid("adjust.lot_id: required");
  if (IsBlank(req.reason())) {
    return Invalid("adjust.reason: required, e.g. \"cycle count\"");
  }
  ASSIGN_OR_RETURN(
      const v1::Location* at,
      StockLocation(state, "adjust.location_id", req.location_id()));
  ASSIGN_OR_RETURN(const v1::LotInventory* lot, KnownLot(state, req.lot_id()));
  v1::Quantity given = req.counted();
  ASSIGN_OR_RETURN(const std::vector<std::string> found,
                   MovementSerials(state, *lot, req.lot_id(), req.serials(),
                                   "adjust.serials", "adjust.counted", &given,
                                   /*allow_empty=*/true));
  ASSIGN_OR_RETURN(v1::Quantity counted,
                   LotQuantity("adjust.counted", given, *lot, req.lot_id(),
                               /*allow_zero=*/true));
  const int64_t book = StockAt(*lot, at->location_id());
  // A serialised lot: the serials found against those the book has here
  // (the service loads every serial of the lot).
  std::vector<std::string> serials_found, serials_missing;
  if (IsSerialised(state, *lot)) {
    const std::string item = ItemOf(*lot, req.lot_id());
    std::vector<std::string> problems;
    std::set<std::string> here;
    for (const auto& [key, status] : state.serials()) {
      if (status.lot_id() == req.lot_id() &&
          status.place() == v1::SERIAL_PLACE_IN_STOCK &&
          status.location_id() == at->location_id()) {
        here.insert(status.serial());
      }
    }
    for (const std::string& serial : found) {
      auto assigned = state.serial_lots().find(domain::SerialKey(item, serial));
      if (assigned == state.serial_lots().end() ||
          assigned->second != req.lot_id()) {
        problems.push_back(absl::StrCat(
            "serial ", serial, " is not assigned to lot ", req.lot_id(),
            assigned == state.serial_lots().end()
                ? " (lots service AssignSerials)"
                : absl::StrCat(" (it belongs to lot ", assigned->second, ")")));
        continue;
      }
      if (here.contains(serial)) continue;
      const v1::SerialStatus* s = FindSerial(state, item, serial);
      if (s != nullptr && s->place() == v1::SERIAL_PLACE_IN_STOCK) {
        problems.push_back(absl::StrCat(
            "serial ", serial, " of lot ", req.lot_id(), " is in stock at ",
            s->location_id(), " by the book; transfer it (or count ",
            s->location_id(), ") first"));
        continue;
      }
      serials_found.push_back(serial);
    }
    if (!problems.empty()) {
      return Refuse("count of lot ", req.lot_id(), " at ", at->location_id(),
                    " refused: ", JoinProblems(problems));
    }
    for (const std::string& serial : here) {
      if (!std::binary_search(found.begin(), found.end(), serial)) {
        serials_missing.push_back(serial);
      }
    }
  }
  if (book == counted.amount() && serials_found.empty() &&
      serials_missing.empty()) {
    return std::vector<v1::Event>();
  }

  v1::Event event = NewLotEvent(req.lot_id(), req);
  v1::StockAdjusted& adjusted = *event.mutable_stock_adjusted();
  adjusted.set_lot_id(req.lot_id());
  adjusted.set_location_id(at->location_id());
  adjusted.mutable_previous()->set_amount(book);
  adjusted.mutable_previous()->set_uom(counted.uom());
  adjusted.set_delta(counted.amount() - book);
  *adjusted.mutable_counted() = std::move(counted);
  adjusted.set_reason(req.reason());
  *adjusted.mutable_serials_found() = domain::CompressSerials(serials_found);
  *adjusted.mutable_serials_missing() =
      domain::CompressSerials(serials_missing);
  return std::vector<v1::Event>{std::move(event)};
}

// ---- Usage reports
// -----------------------------------------------------------------

absl::StatusOr<std::vector<v1::Event>> DecideReportUsage(
    const v1::InventoryDecisionState& state, const v1::InventoryCommand& cmd) {
  const v1::ReportUsageRequest& req = cmd.report_usage();
  if (req.lot_id().empty()) return Invalid("report_usage.lot_id: required");
  if (IsBlank(req.customer_id())) {
    return Invalid("report_usage.customer_id: required");
  }
  ASSIGN_OR_RETURN(
      const std::vector<std::string> serials,
      domain::ExpandSerials(req.serials(), "report_usage.serials"));
  if (!req.has_used_on()) return Invalid("report_usage.used_on: required");
  if (!lots::IsValidDate(req.used_on())) {
    return Invalid("report_usage.used_on: not a calendar day");
  }
  const v1::Date today = BusinessDay(cmd.now(), cmd.utc_offset_minutes());
  if (DaysLeft(req.used_on(), today) > 0) {
    return Invalid("report_usage.used_on: ", DateText(req.used_on()),
                   " is after today (", DateText(today), ")");
  }
  const v1::LotInventory& lot = LotOrEmpty(state, req.lot_id());
  if (!IsSerialised(state, lot)) {
    return Refuse("product ", ItemOf(lot, req.lot_id()),
                  " is tracked by lot; usage is reported by serial for "
                  "products tracked by serial only");
  }
  std::vector<std::string> problems;
  CheckSerialsAtCustomer(state, ItemOf(lot, req.lot_id()), req.lot_id(),
                         serials, req.customer_id(), "reported used again",
                         &problems);
  if (!problems.empty()) {
    return Refuse("usage at customer ", req.customer_id(),
                  " refused: ", JoinProblems(problems));
  }
  v1::Event event = NewLotEvent(req.lot_id(), req);
  v1::DeviceUsageReported& used = *event.mutable_device_usage_reported();
  used.set_lot_id(req.lot_id());
  used.set_customer_id(req.customer_id());
  *used.mutable_serials() = domain::CompressSerials(serials);
  used.set_count(static_cast<int64_t>(serials.size()));
  *used.mutable_used_on() = req.used_on();
  used.set_site(req.site());
  used.set_report_id(req.report_id());
  return std::vector<v1::Event>{std::move(event)};
}

// ---- Expiry sweep
// ---------------------------------------------------------------

absl::StatusOr<std::vector<v1::Event>> DecideEvaluateExpiry(
    const v1::InventoryDecisionState& state, const v1::InventoryCommand& cmd) {
  const std::string& lot_id = cmd.evaluate_expiry().lot_id();
  if (lot_id.empty()) return Invalid("evaluate_expiry.lot_id: required");
  const v1::LotInventory* lot = FindLot(state, lot_id);
  if (lot == nullptr) return std::vector<v1::Event>();
  const v1::Product* product = FindProduct(state, lot->item());
  return DueExpiryAlerts(
      *lot, product == nullptr ? v1::ShelfLifePolicy() : product->policy(),
      BusinessDay(cmd.now(), cmd.utc_offset_minutes()));
}

}  // namespace

absl::StatusOr<std::vector<v1::Event>> Decide(
    const v1::InventoryDecisionState& state, const v1::InventoryCommand& cmd) {
  switch (cmd.command_case()) {
    case v1::InventoryCommand::kCreateLocation:
      return DecideCreateLocation(state, cmd.create_location());
    case v1::InventoryCommand::kReceive:
      return DecideReceive(state, cmd);
    case v1::InventoryCommand::kTransfer:
      return DecideTransfer(state, cmd.transfer());
    case v1::InventoryCommand::kShip:
      return DecideShip(state, cmd);
    case v1::InventoryCommand::kReturnStock:
      return DecideReturn(state, cmd.return_stock());
    case v1::InventoryCommand::kScrap:
      return DecideScrap(state, cmd.scrap(), cmd.scrap_signature());
    case v1::InventoryCommand::kAdjust:
      return DecideAdjust(state, cmd.adjust());
    case v1::InventoryCommand::kReportUsage:
      return DecideReportUsage(state, cmd);
    case v1::InventoryCommand::kEvaluateExpiry:
      return DecideEvaluateExpiry(state, cmd);
    case v1::InventoryCommand::kRegisterCustomer:
      return DecideRegisterCustomer(state, cmd.register_customer());
    case v1::InventoryCommand::kUpdateCustomer:
      return DecideUpdateCustomer(state, cmd.update_customer());
    case v1::InventoryCommand::kSetUnitCost:
      return DecideSetUnitCost(state, cmd.set_unit_cost());
    case v1::InventoryCommand::COMMAND_NOT_SET:
      break;
  }
  return Invalid("command: required");
}

}  // namespace lotledger::inventory
