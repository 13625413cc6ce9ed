// Standard unit costs of products (issue 19): the decision to set one and
// the rule that prices a day. The value KPIs (docs/inventory.md "Value
// KPIs") price stock and movements with CostOn; Decide (decider.h) calls
// DecideSetUnitCost.
//
// SetUnitCost rules (InvalidArgument naming the field, FailedPrecondition
// in a sentence):
//   * item: required, and a product the inventory service knows
//     (state.products[item], from ProductDefined);
//   * unit_cost.currency: three upper-case letters (ISO 4217 form);
//     unit_cost.micros >= 0;
//   * effective_from: required, a real calendar day;
//   * reason: required;
//   * a product's costs share one currency: a cost in another currency
//     than the ones already set is refused, naming both;
//   * the same cost for the same day again is a no-op (no event); another
//     cost for a day already set replaces it from then on (the latest
//     event for a day wins).
// The event is UnitCostSet keyed "cost/<item>" (UnitCostAggregateId), with
// no lot_ids.
//
// The cost of a day: of the entries whose effective_from is on or before
// the day, the one with the latest effective_from; none before the first.
//
// Thread-safety: pure functions; safe to call from any thread.
#ifndef LOTLEDGER_LIBS_DOMAIN_INVENTORY_VALUES_H_
#define LOTLEDGER_LIBS_DOMAIN_INVENTORY_VALUES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "lotledger/v1/events.pb.h"
#include "lotledger/v1/inventory.pb.h"
#include "lotledger/v1/inventory_domain.pb.h"

namespace lotledger::inventory {

using UnitCostHistory = google::protobuf::RepeatedPtrField<v1::UnitCostSet>;

// The record key of a product's cost events: "cost/<item>".
std::string UnitCostAggregateId(absl::string_view item);

// SetUnitCost over state.products[item] (when known) and
// state.unit_costs (the item's history, as FoldUnitCost keeps it).
absl::StatusOr<std::vector<v1::Event>> DecideSetUnitCost(
    const v1::InventoryDecisionState& state, const v1::SetUnitCostRequest& req);

// Folds `cost` into `history` (sorted by effective_from, one entry per
// day): an entry for the same day is replaced, else it is inserted in
// order.
void FoldUnitCost(UnitCostHistory& history, const v1::UnitCostSet& cost);

// The cost of `day` in `history` (sorted as FoldUnitCost keeps it); null
// when the first entry is effective after `day` or there is none.
const v1::UnitCostSet* CostOn(const UnitCostHistory& history,
                              const v1::Date& day);

}  // namespace lotledger::inventory

#endif  // LOTLEDGER_LIBS_DOMAIN_INVENTORY_VALUES_H_
