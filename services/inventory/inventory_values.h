// The value side of the inventory projection (issue 19): standard unit
// costs, the facts the value KPIs need that the rest of the projection
// does not keep, and the value KPIs of GetKpis (docs/inventory.md "Value
// KPIs" defines each one; this file computes exactly that).
//
// Column families (keys join parts with '\0'):
//   unit_costs      item \0 YYYYMMDD (effective_from) -> UnitCostSet (the
//                   latest event for that day); an item's keys in order
//                   are its cost history (values.h: FoldUnitCost, CostOn)
//   value_expiries  YYYYMMDD (expiry) \0 lot id -> two flags: 'E' when a
//                   LotExpired for that expiry was folded ('-' else), 'A'
//                   when an ExpiryThresholdCrossed for that expiry was
//                   evaluated at least 90 days before it ('-' else)
//   value_recalls   recall id -> Recall as the recall domain's Evolve
//                   folds the recall topic (initiation, scope, responses)
// The per-day received, shipped and scrapped amounts are the projection's
// `activity` family (inventory_projection.h).
//
// Thread-safety: FoldValues runs on the projector thread only; the reads
// are const reads of a thread-safe store.
#ifndef LOTLEDGER_SERVICES_INVENTORY_INVENTORY_VALUES_H_
#define LOTLEDGER_SERVICES_INVENTORY_INVENTORY_VALUES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/domain/inventory/values.h"
#include "libs/projection/projection_store.h"
#include "lotledger/v1/events.pb.h"
#include "lotledger/v1/inventory.pb.h"
#include "services/inventory/inventory_projection.h"

namespace lotledger::inventory {

std::vector<std::string> ValueColumnFamilies();

// Folds UnitCostSet, ExpiryThresholdCrossed, LotExpired and the recall
// topic's events into the families above; ignores every other event.
absl::Status FoldValues(const v1::Event& event,
                        projection::ProjectionStore::Batch& batch);

// The cost history of `item` (empty when it has none), oldest first.
absl::StatusOr<UnitCostHistory> LoadUnitCosts(
    const projection::ProjectionStore& store, std::string_view item);

// Adds the value KPIs to `resp`, whose quantity KPIs (on hand, near
// expiry, expired by item) GetKpis has computed for `req` over the
// `period` days ending `today`.
absl::Status AddValueKpis(const InventoryQueries& queries,
                          const v1::GetKpisRequest& req, const v1::Date& today,
                          int32_t period, v1::GetKpisResponse& resp);

}  // namespace lotledger::inventory

#endif  // LOTLEDGER_SERVICES_INVENTORY_INVENTORY_VALUES_H_
