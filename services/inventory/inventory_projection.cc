#include "services/inventory/inventory_projection.h"

#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"
#include "libs/domain/inventory/decider.h"
#include "libs/projection/stored_message.h"

namespace lotledger::inventory {
namespace {

constexpr char kLots[] = "inv_lots";
constexpr char kLocations[] = "locations";
constexpr char kProducts[] = "products";
constexpr char kLotsByItem[] = "lots_by_item";

std::string ItemKey(std::string_view item, std::string_view lot_id) {
  return absl::StrCat(Sv(item), std::string(1, '\0'), Sv(lot_id));
}

}  // namespace

std::vector<std::string> InventoryColumnFamilies() {
  return {kLots, kLocations, kProducts, kLotsByItem};
}

absl::Status ApplyInventoryEvent(const eventlog::Record& /*record*/,
                                 const v1::Event& event,
                                 projection::ProjectionStore::Batch& batch) {
  if (event.has_location_created()) {
    const v1::Location& l = event.location_created().location();
    batch.Put(kLocations, l.location_id(), l.SerializeAsString());
    return absl::OkStatus();
  }
  if (event.has_product_defined()) {
    const v1::Product& p = event.product_defined().product();
    batch.Put(kProducts, p.item(), p.SerializeAsString());
    return absl::OkStatus();
  }
  const std::string lot_id = EventLotId(event);
  if (lot_id.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::optional<v1::LotInventory> before,
                   projection::ParseStored<v1::LotInventory>(
                       batch.Get(kLots, lot_id), "lot inventory"));
  v1::LotInventory lot = before.value_or(v1::LotInventory());
  lot.set_lot_id(lot_id);
  Evolve(lot, event);
  // Events inventory does not fold (inspections) leave no trace.
  if (before.has_value() &&
      before->SerializeAsString() == lot.SerializeAsString()) {
    return absl::OkStatus();
  }
  if (!lot.item().empty() &&
      (!before.has_value() || before->item() != lot.item())) {
    batch.Put(kLotsByItem, ItemKey(lot.item(), lot_id), "");
  }
  batch.Put(kLots, lot_id, lot.SerializeAsString());
  return absl::OkStatus();
}

absl::StatusOr<std::optional<v1::LotInventory>> InventoryQueries::FindLot(
    std::string_view lot_id) const {
  return projection::ParseStored<v1::LotInventory>(store_->Get(kLots, lot_id),
                                                   "lot inventory");
}

absl::StatusOr<v1::LotInventory> InventoryQueries::GetLot(
    std::string_view lot_id) const {
  ASSIGN_OR_RETURN(std::optional<v1::LotInventory> lot, FindLot(lot_id));
  if (!lot.has_value() || !lot->exists()) {
    return absl::NotFoundError(
        absl::StrCat("lot ", Sv(lot_id), " does not exist"));
  }
  return *std::move(lot);
}

absl::StatusOr<std::optional<v1::Product>> InventoryQueries::FindProduct(
    std::string_view item) const {
  return projection::ParseStored<v1::Product>(store_->Get(kProducts, item),
                                              "product");
}

absl::StatusOr<std::optional<v1::Location>> InventoryQueries::FindLocation(
    std::string_view location_id) const {
  return projection::ParseStored<v1::Location>(
      store_->Get(kLocations, location_id), "location");
}

absl::Status InventoryQueries::LoadLocations(
    google::protobuf::Map<std::string, v1::Location>* out) const {
  absl::Status inner;
  RETURN_IF_ERROR(store_->Scan(
      kLocations, "", "", [&](std::string_view key, std::string_view value) {
        v1::Location l;
        if (!l.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          inner = absl::DataLossError(
              absl::StrCat("stored location ", Sv(key), " cannot be decoded"));
          return false;
        }
        (*out)[std::string(key)] = std::move(l);
        return true;
      }));
  return inner;
}

absl::Status InventoryQueries::LoadLotsOfItem(
    std::string_view item,
    google::protobuf::Map<std::string, v1::LotInventory>* out) const {
  const std::string prefix = ItemKey(item, "");
  std::vector<std::string> ids;
  RETURN_IF_ERROR(store_->Scan(kLotsByItem, prefix, "",
                               [&](std::string_view key, std::string_view) {
                                 ids.emplace_back(key.substr(prefix.size()));
                                 return true;
                               }));
  if (ids.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::vector<std::optional<std::string>> values,
                   store_->MultiGet(kLots, ids));
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!values[i].has_value()) continue;
    v1::LotInventory lot;
    if (!lot.ParseFromString(*values[i])) {
      return absl::DataLossError(
          absl::StrCat("stored lot inventory ", ids[i], " cannot be decoded"));
    }
    (*out)[ids[i]] = std::move(lot);
  }
  return absl::OkStatus();
}

}  // namespace lotledger::inventory
