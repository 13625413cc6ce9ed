// The inventory service's projection: how lots, quality, recall and
// inventory events fold into RocksDB, and the reads the service makes from
// it.
//
// Column families (keys join parts with '\0'; <expiry> is the lot's expiry
// as "YYYYMMDD", "99999999" for a lot without one, so keys sort in FEFO
// order; <offset> is 16 hex digits):
//   inv_lots           lot id -> LotInventory without customers (domain
//                      Evolve over lots-topic master data, quality
//                      dispositions, recalls and own stock events);
//                      lot id \0 customer id -> CustomerBalance (the
//                      lot's customers, written with `distribution`): a
//                      movement rewrites the small row and one balance,
//                      not a row that grows with every customer. The
//                      balances sort right after their lot's row, so a
//                      read takes the lot with its customers in one scan
//                      (one snapshot)
//   locations          location id -> Location (from LocationCreated);
//                      key "" (never a location id) -> decimal count of
//                      LocationCreated applied: the version that tells
//                      the in-memory copy of the locations when to reload
//   products           item -> Product (shelf-life policy)
//   lots_by_item       item \0 lot id -> "" (every lot whose item is known;
//                      AllocateFefo scans it)
//   stock_by_expiry    <expiry> \0 lot id -> "" (lots with stock on hand:
//                      the expiry sweep and the near-expiry report)
//   stock_by_item      item \0 <expiry> \0 lot id -> FEFO facts (lots with
//                      stock on hand, in ListStock order; the value holds
//                      the regions of the lot's stock and the lot without
//                      customers and alerts, so AllocateFefo reads no other
//                      key; "" in projections written before: read the lot)
//   stock_by_location  location id \0 lot id -> "" (where stock is)
//   movements          lot id \0 <offset> -> Event (the lot's inventory
//                      events as applied, usage reports included; one
//                      lot's events share a partition, so the offset
//                      orders them; its StockShipped are the lot's
//                      shipment lines)
//   distribution       lot id \0 customer id -> CustomerDistribution
//                      (shipped, returned, net held, the customer as on
//                      its latest shipment; no shipments)
//   activity           item \0 YYYYMMDD \0 region \0 kind -> decimal amount
//                      (kind "recv", "ship" or "scrap.<ScrapReason
//                      number>"; for KPIs over a period)
//   unit_costs, value_expiries, value_recalls: the value KPIs' own
//                      (inventory_values.h)
//   alerts             partition (4 bytes BE) offset (8 bytes BE) ->
//                      InventoryAlert without position (WatchAlerts)
//   inv_recalls        recall id -> RecallStanding (open, include_derived,
//                      reason; from the recall topic)
//   inv_lot_recalls    lot id -> LotStanding whose recall_ids are the
//                      recalls including derived lots whose scope includes
//                      the lot: listed by RecallInitiated or
//                      RecallScopeExtended, or inherited when the lot was
//                      made from a lot in their scope while they were open
//                      (the lot's view is then blocked at once, before the
//                      recall service records it in the recall's scope)
//   inv_serial_lots, inv_lot_serials, inv_serials, inv_serial_recalls:
//                      the serial register, where each serial is, and
//                      recalls by serial (inventory_serials.h)
//   customers          customer id -> CustomerHistory (every version of
//                      the record, from CustomerRegistered and
//                      CustomerUpdated, in log order)
//
// Every family is a pure function of the events applied, in log order, so
// a rebuilt projection is byte-identical to the live one. One exception
// depends on how the topics interleave: a lot inherits a recall's block
// only if its LotCreated is folded after the recall's lots; the recall
// service then records the lot in the recall's scope (RecallScopeExtended),
// which blocks it in any interleaving, so only recalled_since can differ.
//
// Thread-safety: ApplyInventoryEvent runs on the projector thread only;
// InventoryQueries methods are const reads of the store, safe from any
// thread.
#ifndef LOTLEDGER_SERVICES_INVENTORY_INVENTORY_PROJECTION_H_
#define LOTLEDGER_SERVICES_INVENTORY_INVENTORY_PROJECTION_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "libs/eventlog/event_log.h"
#include "libs/projection/projection_store.h"
#include "lotledger/v1/events.pb.h"
#include "lotledger/v1/inventory.pb.h"
#include "lotledger/v1/inventory_domain.pb.h"

namespace lotledger::inventory {

// The warehouse calendar every business day of the service is counted in
// (ship dates, today's alerts and reports, the activity days): UTC for
// now. Commands carry it to the decider (utc_offset_minutes).
inline constexpr int32_t kWarehouseUtcOffsetMinutes = 0;

std::vector<std::string> InventoryColumnFamilies();

// Folds one event of any input topic into the batch. Deterministic: the
// same events give byte-identical state (rebuilds are compared to live
// projections). An event is folded into its own lot and into every lot
// its lot_ids list (domain Evolve decides which of them it changes).
absl::Status ApplyInventoryEvent(const eventlog::Record& record,
                                 const v1::Event& event,
                                 projection::ProjectionStore::Batch& batch);

// "YYYYMMDD" of a lot's expiry; "99999999" when it has none.
std::string ExpiryKey(const v1::LotInventory& lot);

class InventoryQueries {
 public:
  explicit InventoryQueries(const projection::ProjectionStore* store);

  // Every location, lent out of an in-memory copy: commands and FEFO need
  // all of them on every call, and reading and parsing them from RocksDB
  // each time cost more than the rest of the decision. A copy is reloaded
  // when the stored version (bumped by every LocationCreated in the same
  // batch as the location) differs from the one it was loaded at, so a
  // lease sees every location committed before it was taken. Swap the map
  // into a state proto and back (O(1)); the lease returns it to the pool
  // when destroyed. A lease is used by one thread; leases are independent.
  class LocationsLease {
   public:
    LocationsLease(LocationsLease&& other) noexcept;
    LocationsLease& operator=(LocationsLease&&) = delete;
    ~LocationsLease();
    google::protobuf::Map<std::string, v1::Location>& map();

   private:
    friend class InventoryQueries;
    struct Copy;
    struct Pool;
    LocationsLease(std::shared_ptr<Pool> pool, std::unique_ptr<Copy> copy);
    std::shared_ptr<Pool> pool_;
    std::unique_ptr<Copy> copy_;
  };
  absl::StatusOr<LocationsLease> LeaseLocations() const;

  // Absent when no event about the lot was seen.
  absl::StatusOr<std::optional<v1::LotInventory>> FindLot(
      std::string_view lot_id) const;
  // NotFound naming the lot when it is unknown to inventory (no LotCreated
  // seen).
  absl::StatusOr<v1::LotInventory> GetLot(std::string_view lot_id) const;
  // The lots of `ids` that are known, in the order given.
  absl::StatusOr<std::vector<v1::LotInventory>> LoadLots(
      const std::vector<std::string>& ids) const;
  absl::StatusOr<std::optional<v1::Product>> FindProduct(
      std::string_view item) const;
  // Every product, by item.
  absl::StatusOr<std::map<std::string, v1::Product>> LoadProducts() const;
  absl::StatusOr<std::optional<v1::Location>> FindLocation(
      std::string_view location_id) const;
  // Every location, into `out` (keyed by location id).
  absl::Status LoadLocations(
      google::protobuf::Map<std::string, v1::Location>* out) const;
  // Every lot of `item` known to the projection, into `out`.
  absl::Status LoadLotsOfItem(
      std::string_view item,
      google::protobuf::Map<std::string, v1::LotInventory>* out) const;

  // Lot ids with stock on hand, earliest expiry first (no expiry last),
  // then by lot id. fn(expiry key, lot id) returns false to stop.
  absl::Status ScanStockByExpiry(
      const std::function<bool(std::string_view expiry,
                               std::string_view lot_id)>& fn) const;
  // Lot ids of `item` with stock on hand, in the same order.
  absl::StatusOr<std::vector<std::string>> StockedLotsOfItem(
      std::string_view item) const;
  // Up to `limit` (expiry key, lot id) of `item` with stock on hand, in
  // FEFO order, after index key `after_key` ("" = from the first);
  // `last_key` is the key of the last one, to continue from.
  absl::Status StockedLotsOfItemPage(
      std::string_view item, const std::string& after_key, int limit,
      std::vector<std::pair<std::string, std::string>>* out,
      std::string* last_key) const;
  // One entry of stock_by_item, as ScanFefoCandidates passes it; the
  // views are valid during the call only.
  struct FefoCandidate {
    std::string_view key;  // to continue after
    std::string_view expiry;
    std::string_view lot_id;
    // False when the entry predates the facts: read the lot instead.
    bool has_facts = false;
    std::string_view regions;  // region ids joined by '\0'
    std::string_view lot;      // serialized LotInventory (no customers)
    // False only when the facts say the lot has no stock in `region`.
    bool InRegion(std::string_view region) const;
  };
  // The stock_by_item entries of `item` after index key `after_key` (""
  // = from the first), in FEFO order, from one snapshot; fn returns false
  // to stop.
  absl::Status ScanFefoCandidates(
      std::string_view item, const std::string& after_key,
      const std::function<bool(const FefoCandidate&)>& fn) const;
  // Lot ids with stock at `location_id` (that location only), by lot id.
  absl::StatusOr<std::vector<std::string>> StockedLotsAt(
      std::string_view location_id) const;

  // Up to `limit` of the lot's inventory events after the event at
  // `after_offset` (-1: from the first), oldest first; `more` says whether
  // more follow.
  absl::Status ListMovements(std::string_view lot_id, int64_t after_offset,
                             int limit, std::vector<v1::Event>* events,
                             std::vector<int64_t>* offsets, bool* more) const;

  // The lot's customers and shipments (empty when never shipped).
  absl::StatusOr<v1::TraceLotDistributionResponse> Distribution(
      std::string_view lot_id) const;

  // Amounts in the activity family for days in [from, to] (YYYYMMDD),
  // of `item` (empty: every item), of region `region` (empty: every
  // region): fn(item, day (YYYYMMDD), kind, amount).
  absl::Status ScanActivity(
      std::string_view item, std::string_view region, std::string_view from,
      std::string_view to,
      const std::function<void(std::string_view item, std::string_view day,
                               std::string_view kind, int64_t amount)>& fn)
      const;

  // Every version of a registered customer; absent when not registered.
  absl::StatusOr<std::optional<v1::CustomerHistory>> FindCustomer(
      std::string_view customer_id) const;
  // The current version of a registered customer; absent when not
  // registered.
  absl::StatusOr<std::optional<v1::CustomerVersion>> CurrentCustomer(
      std::string_view customer_id) const;
  // Up to `limit` registered customers whose id sorts after `after_id`
  // ("" = from the first), by id, of `region` (empty: every region);
  // `more` says whether more follow.
  absl::Status ListCustomers(std::string_view region,
                             const std::string& after_id, int limit,
                             std::vector<v1::CustomerHistory>* out,
                             bool* more) const;

  // Alerts recorded on `partition` at or after `from_offset`, oldest
  // first; fn(offset, alert) returns false to stop.
  absl::Status ScanAlerts(
      int32_t partition, int64_t from_offset,
      const std::function<bool(int64_t offset, const v1::InventoryAlert&)>& fn)
      const;

  // The store, for the value KPIs' own families (inventory_values.h).
  const projection::ProjectionStore& store() const { return *store_; }

 private:
  const projection::ProjectionStore* store_;
  std::shared_ptr<LocationsLease::Pool> locations_;
};

}  // namespace lotledger::inventory

#endif  // LOTLEDGER_SERVICES_INVENTORY_INVENTORY_PROJECTION_H_
