// The inventory service's projection: how lots, quality and inventory
// events fold into RocksDB, and the reads the service makes from it.
//
// Column families:
//   inv_lots      lot id -> LotInventory (domain Evolve over lots-topic
//                 master data, quality dispositions and own stock events)
//   locations     location id -> Location (from LocationCreated)
//   products      item -> Product (shelf-life policy, from ProductDefined)
//   lots_by_item  item \0 lot id -> ""  (every lot whose item is known;
//                 AllocateFefo scans it)
//
// Recall events (issue 5) are not read yet: LotInventory.recalled stays
// false until the recall topic exists.
//
// Thread-safety: ApplyInventoryEvent runs on the projector thread only;
// InventoryQueries methods are const reads of the store, safe from any
// thread.
#ifndef LOTLEDGER_SERVICES_INVENTORY_INVENTORY_PROJECTION_H_
#define LOTLEDGER_SERVICES_INVENTORY_INVENTORY_PROJECTION_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/eventlog/event_log.h"
#include "libs/projection/projection_store.h"
#include "lotledger/v1/events.pb.h"
#include "lotledger/v1/inventory.pb.h"
#include "lotledger/v1/inventory_domain.pb.h"

namespace lotledger::inventory {

inline constexpr char kInventoryTopic[] = "lotledger.inventory.v1";

std::vector<std::string> InventoryColumnFamilies();

// Folds one event of any input topic into the batch. Deterministic: the
// same events give byte-identical state (rebuilds are compared to live
// projections).
absl::Status ApplyInventoryEvent(const eventlog::Record& record,
                                 const v1::Event& event,
                                 projection::ProjectionStore::Batch& batch);

class InventoryQueries {
 public:
  explicit InventoryQueries(const projection::ProjectionStore* store)
      : store_(store) {}

  // Absent when no event about the lot was seen.
  absl::StatusOr<std::optional<v1::LotInventory>> FindLot(
      std::string_view lot_id) const;
  // NotFound naming the lot when it is unknown to inventory (no LotCreated
  // seen).
  absl::StatusOr<v1::LotInventory> GetLot(std::string_view lot_id) const;
  absl::StatusOr<std::optional<v1::Product>> FindProduct(
      std::string_view item) const;
  absl::StatusOr<std::optional<v1::Location>> FindLocation(
      std::string_view location_id) const;
  // Every location, into `out` (keyed by location id).
  absl::Status LoadLocations(
      google::protobuf::Map<std::string, v1::Location>* out) const;
  // Every lot of `item` known to the projection, into `out`.
  absl::Status LoadLotsOfItem(
      std::string_view item,
      google::protobuf::Map<std::string, v1::LotInventory>* out) const;

 private:
  const projection::ProjectionStore* store_;
};

}  // namespace lotledger::inventory

#endif  // LOTLEDGER_SERVICES_INVENTORY_INVENTORY_PROJECTION_H_
