#include "services/inventory/inventory_serials.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/common/ids.h"
#include "libs/common/status_macros.h"
#include "libs/domain/common/recall_standing.h"
#include "libs/domain/inventory/decider.h"
#include "libs/domain/inventory/serial_places.h"
#include "libs/domain/serials/serials.h"
#include "libs/projection/stored_message.h"

namespace lotledger::inventory {
namespace {

constexpr char kSerialLots[] = "inv_serial_lots";
constexpr char kLotSerials[] = "inv_lot_serials";
constexpr char kSerials[] = "inv_serials";
constexpr char kSerialRecalls[] = "inv_serial_recalls";

std::string Key(std::string_view a, std::string_view b) {
  std::string out(a);
  out.push_back('\0');
  out.append(b);
  return out;
}

// The serials a request names, read before Decide checks them (none when
// they do not expand: Decide says why).
std::vector<std::string> Expand(const domain::SerialRanges& ranges) {
  return domain::SerialsOf(ranges, domain::kMaxSerialsPerRequest);
}

absl::Status FoldAssigned(const v1::SerialsAssigned& a,
                          projection::ProjectionStore::Batch& batch) {
  for (const std::string& s : domain::SerialsOf(a.serials())) {
    batch.Put(kSerialLots, Key(a.item(), s), a.lot_id());
    batch.Put(kLotSerials, Key(a.lot_id(), s), "");
  }
  return absl::OkStatus();
}

absl::Status FoldRecall(const v1::Event& event,
                        projection::ProjectionStore::Batch& batch) {
  std::vector<std::string> lot_ids;
  for (const std::string& id : event.lot_ids()) {
    if (std::find(lot_ids.begin(), lot_ids.end(), id) == lot_ids.end()) {
      lot_ids.push_back(id);
    }
  }
  for (const std::string& lot_id : lot_ids) {
    const auto* serials = domain::ScopedSerialsOf(event, lot_id);
    if (serials == nullptr) continue;
    ASSIGN_OR_RETURN(std::optional<v1::LotSerialRecalls> stored,
                     projection::ParseStored<v1::LotSerialRecalls>(
                         batch.Get(kSerialRecalls, lot_id), "serial recalls"));
    v1::LotSerialRecalls recalls = stored.value_or(v1::LotSerialRecalls());
    AddSerialRecall(recalls, event, *serials);
    batch.Put(kSerialRecalls, lot_id, recalls.SerializeAsString());
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<std::string> SerialColumnFamilies() {
  return {kSerialLots, kLotSerials, kSerials, kSerialRecalls};
}

absl::Status FoldSerials(const v1::Event& event,
                         projection::ProjectionStore::Batch& batch) {
  if (event.has_serials_assigned()) {
    return FoldAssigned(event.serials_assigned(), batch);
  }
  if (event.has_recall_initiated() || event.has_recall_scope_extended()) {
    return FoldRecall(event, batch);
  }
  for (const SerialMove& move : SerialMovesOf(event)) {
    for (const std::string& serial : move.serials) {
      const std::string key = Key(move.item, serial);
      v1::SerialStatus status;
      // A use keeps where the serial was shipped; every other move sets
      // (or clears) every field, so it needs no read of the old status.
      if (move.place == v1::SERIAL_PLACE_USED) {
        ASSIGN_OR_RETURN(std::optional<v1::SerialStatus> stored,
                         projection::ParseStored<v1::SerialStatus>(
                             batch.Get(kSerials, key), "serial status"));
        if (stored.has_value()) status = *std::move(stored);
      }
      ApplySerialMove(status, move, serial);
      batch.Put(kSerials, key, status.SerializeAsString());
    }
  }
  return absl::OkStatus();
}

bool EventNamesSerial(const v1::Event& event, const std::string& serial) {
  for (const SerialMove& move : SerialMovesOf(event)) {
    if (std::binary_search(move.serials.begin(), move.serials.end(), serial)) {
      return true;
    }
  }
  return false;
}

SerialQueries::SerialQueries(const projection::ProjectionStore* store)
    : store_(store) {}

absl::StatusOr<std::optional<v1::SerialStatus>> SerialQueries::FindSerial(
    std::string_view item, std::string_view serial) const {
  return projection::ParseStored<v1::SerialStatus>(
      store_->Get(kSerials, Key(item, serial)), "serial status");
}

absl::StatusOr<std::optional<std::string>> SerialQueries::AssignedLot(
    std::string_view item, std::string_view serial) const {
  return store_->Get(kSerialLots, Key(item, serial));
}

absl::StatusOr<std::map<std::string, std::vector<std::string>>>
SerialQueries::ShippableSerials(const std::string& lot_id) const {
  std::vector<std::string> serials;
  const std::string prefix = Key(lot_id, "");
  RETURN_IF_ERROR(store_->Scan(
      kLotSerials, prefix, "", [&](std::string_view key, std::string_view) {
        serials.emplace_back(key.substr(prefix.size()));
        return true;
      }));
  std::vector<std::string> recalled;
  ASSIGN_OR_RETURN(std::optional<v1::LotSerialRecalls> recalls,
                   projection::ParseStored<v1::LotSerialRecalls>(
                       store_->Get(kSerialRecalls, lot_id), "serial recalls"));
  if (recalls.has_value()) {
    for (const v1::RecalledSerials& r : recalls->recalls()) {
      for (std::string& s : domain::SerialsOf(r.serials())) {
        recalled.push_back(std::move(s));
      }
    }
    std::sort(recalled.begin(), recalled.end());
  }
  const std::string item(ItemOfLotId(lot_id));
  std::map<std::string, std::vector<std::string>> out;
  for (const std::string& serial : serials) {  // sorted: the scan's order
    if (std::binary_search(recalled.begin(), recalled.end(), serial)) continue;
    ASSIGN_OR_RETURN(std::optional<v1::SerialStatus> status,
                     FindSerial(item, serial));
    if (status.has_value() && status->lot_id() == lot_id &&
        status->place() == v1::SERIAL_PLACE_IN_STOCK) {
      out[status->location_id()].push_back(serial);
    }
  }
  return out;
}

absl::Status SerialFefo::Adjust(v1::LotInventory& lot) {
  ASSIGN_OR_RETURN(auto by_location, serials_->ShippableSerials(lot.lot_id()));
  google::protobuf::RepeatedPtrField<v1::LocationStock> stock;
  int64_t on_hand = 0;
  for (const v1::LocationStock& s : lot.stock()) {
    auto it = by_location.find(s.location_id());
    const int64_t n =
        it == by_location.end()
            ? 0
            : std::min<int64_t>(s.amount(),
                                static_cast<int64_t>(it->second.size()));
    if (n <= 0) continue;
    v1::LocationStock& kept = *stock.Add();
    kept = s;
    kept.set_amount(n);
    on_hand += n;
  }
  *lot.mutable_stock() = std::move(stock);
  lot.set_on_hand(on_hand);
  shippable_[lot.lot_id()] = std::move(by_location);
  return absl::OkStatus();
}

void SerialFefo::AssignSerials(v1::AllocateFefoResponse& response) const {
  // Lines of one lot and location take consecutive serials.
  std::map<std::pair<std::string, std::string>, size_t> taken;
  for (v1::ShipmentLine& line : *response.mutable_lines()) {
    auto lot = shippable_.find(line.lot_id());
    if (lot == shippable_.end()) continue;
    auto at = lot->second.find(line.location_id());
    if (at == lot->second.end()) continue;
    size_t& from = taken[{line.lot_id(), line.location_id()}];
    const size_t n = std::min<size_t>(
        static_cast<size_t>(std::max<int64_t>(line.quantity().amount(), 0)),
        at->second.size() - from);
    std::vector<std::string> chosen(at->second.begin() + from,
                                    at->second.begin() + from + n);
    from += n;
    *line.mutable_serials() = domain::CompressSerials(chosen);
  }
}

absl::Status SerialQueries::LoadSerials(
    const std::string& lot_id, const std::vector<std::string>& serials,
    bool with_register, v1::InventoryDecisionState& state) const {
  const std::string item(ItemOfLotId(lot_id));
  // The serials not loaded yet (several lines may name one lot), by their
  // store key.
  std::vector<std::string> keys, state_keys;
  for (const std::string& serial : serials) {
    std::string key = domain::SerialKey(item, serial);
    if (state.serials().contains(key) || state.serial_lots().contains(key)) {
      continue;
    }
    keys.push_back(Key(item, serial));
    state_keys.push_back(std::move(key));
  }
  if (keys.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::vector<std::optional<std::string>> statuses,
                   store_->MultiGet(kSerials, keys));
  for (size_t i = 0; i < keys.size(); ++i) {
    ASSIGN_OR_RETURN(std::optional<v1::SerialStatus> status,
                     projection::ParseStored<v1::SerialStatus>(
                         statuses[i], "serial status"));
    if (status.has_value()) {
      (*state.mutable_serials())[state_keys[i]] = *std::move(status);
    }
  }
  if (!with_register) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::vector<std::optional<std::string>> lots,
                   store_->MultiGet(kSerialLots, keys));
  for (size_t i = 0; i < keys.size(); ++i) {
    if (lots[i].has_value()) {
      (*state.mutable_serial_lots())[state_keys[i]] = *std::move(lots[i]);
    }
  }
  return absl::OkStatus();
}

absl::Status SerialQueries::LoadForCommand(
    const v1::InventoryCommand& cmd, v1::InventoryDecisionState& state) const {
  switch (cmd.command_case()) {
    case v1::InventoryCommand::kReceive: {
      const v1::ReceiveStockRequest& r = cmd.receive();
      std::string lot_id = r.lot_id();
      domain::SerialRanges named = r.serials();
      if (r.has_gs1_scan()) {
        lot_id = MakeLotId(cmd.scanned_label().gtin(),
                           cmd.scanned_label().lot_number());
        if (named.empty() && !cmd.scanned_label().serial().empty()) {
          named.Add()->set_first(cmd.scanned_label().serial());
        }
      }
      return LoadSerials(lot_id, Expand(named), /*with_register=*/true, state);
    }
    case v1::InventoryCommand::kTransfer:
      return LoadSerials(cmd.transfer().lot_id(),
                         Expand(cmd.transfer().serials()), false, state);
    case v1::InventoryCommand::kReturnStock:
      return LoadSerials(cmd.return_stock().lot_id(),
                         Expand(cmd.return_stock().serials()), false, state);
    case v1::InventoryCommand::kScrap:
      return LoadSerials(cmd.scrap().lot_id(), Expand(cmd.scrap().serials()),
                         false, state);
    case v1::InventoryCommand::kReportUsage:
      return LoadSerials(cmd.report_usage().lot_id(),
                         Expand(cmd.report_usage().serials()), false, state);
    case v1::InventoryCommand::kShip:
      for (const v1::ShipmentLine& line : cmd.ship().lines()) {
        RETURN_IF_ERROR(
            LoadSerials(line.lot_id(), Expand(line.serials()), false, state));
        if (line.serials().empty() ||
            state.serial_recalls().contains(line.lot_id())) {
          continue;
        }
        ASSIGN_OR_RETURN(
            std::optional<v1::LotSerialRecalls> recalls,
            projection::ParseStored<v1::LotSerialRecalls>(
                store_->Get(kSerialRecalls, line.lot_id()), "serial recalls"));
        if (recalls.has_value()) {
          (*state.mutable_serial_recalls())[line.lot_id()] =
              *std::move(recalls);
        }
      }
      return absl::OkStatus();
    case v1::InventoryCommand::kAdjust: {
      const std::string& lot_id = cmd.adjust().lot_id();
      if (lot_id.empty()) return absl::OkStatus();
      // Every serial of the lot: those the book has at the location are
      // among them.
      std::vector<std::string> serials = Expand(cmd.adjust().serials());
      const std::string prefix = Key(lot_id, "");
      RETURN_IF_ERROR(store_->Scan(
          kLotSerials, prefix, "", [&](std::string_view key, std::string_view) {
            serials.emplace_back(key.substr(prefix.size()));
            return true;
          }));
      return LoadSerials(lot_id, serials, /*with_register=*/true, state);
    }
    default:
      return absl::OkStatus();
  }
}

absl::StatusOr<v1::GetSerialStatusResponse> GetSerialStatus(
    const SerialQueries& serials, const InventoryQueries& queries,
    const v1::GetSerialStatusRequest& req) {
  if (req.item().empty()) return absl::InvalidArgumentError("item: required");
  if (req.serial().empty()) {
    return absl::InvalidArgumentError("serial: required");
  }
  v1::GetSerialStatusResponse resp;
  ASSIGN_OR_RETURN(std::optional<v1::SerialStatus> status,
                   serials.FindSerial(req.item(), req.serial()));
  if (status.has_value()) {
    *resp.mutable_status() = *std::move(status);
  } else {
    ASSIGN_OR_RETURN(std::optional<std::string> lot,
                     serials.AssignedLot(req.item(), req.serial()));
    if (!lot.has_value()) {
      return absl::NotFoundError(
          absl::StrCat("serial ", req.serial(), " of item ", req.item(),
                       " is not assigned to a lot and was never received"));
    }
    v1::SerialStatus& s = *resp.mutable_status();
    s.set_item(req.item());
    s.set_serial(req.serial());
    s.set_lot_id(*lot);
    return resp;
  }
  constexpr int kPage = 1000;
  int64_t after = -1;
  bool more = true;
  while (more) {
    std::vector<v1::Event> events;
    std::vector<int64_t> offsets;
    RETURN_IF_ERROR(queries.ListMovements(resp.status().lot_id(), after, kPage,
                                          &events, &offsets, &more));
    for (v1::Event& e : events) {
      if (EventNamesSerial(e, req.serial())) {
        *resp.add_movements() = std::move(e);
      }
    }
    if (offsets.empty()) break;
    after = offsets.back();
  }
  return resp;
}

}  // namespace lotledger::inventory
