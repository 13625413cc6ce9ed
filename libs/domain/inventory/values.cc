#include "libs/domain/inventory/values.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "libs/domain/common/refusals.h"
#include "libs/domain/lots/dates.h"

namespace lotledger::inventory {
namespace {

using domain::Invalid;
using domain::IsBlank;
using domain::Refuse;

bool IsCurrencyCode(absl::string_view code) {
  if (code.size() != 3) return false;
  for (char c : code) {
    if (c < 'A' || c > 'Z') return false;
  }
  return true;
}

}  // namespace

std::string UnitCostAggregateId(absl::string_view item) {
  return absl::StrCat("cost/", item);
}

absl::StatusOr<std::vector<v1::Event>> DecideSetUnitCost(
    const v1::InventoryDecisionState& state,
    const v1::SetUnitCostRequest& req) {
  if (IsBlank(req.item())) return Invalid("set_unit_cost.item: required");
  if (!req.has_unit_cost()) {
    return Invalid("set_unit_cost.unit_cost: required, e.g. EUR 12.50");
  }
  const v1::Money& cost = req.unit_cost();
  if (!IsCurrencyCode(cost.currency())) {
    return Invalid(
        "set_unit_cost.unit_cost.currency: three upper-case letters (ISO "
        "4217, e.g. EUR), got \"",
        cost.currency(), "\"");
  }
  if (cost.micros() < 0) {
    return Invalid("set_unit_cost.unit_cost.micros: must not be negative, got ",
                   cost.micros());
  }
  if (!req.has_effective_from()) {
    return Invalid("set_unit_cost.effective_from: required");
  }
  if (!lots::IsValidDate(req.effective_from())) {
    return Invalid("set_unit_cost.effective_from: not a calendar day (",
                   req.effective_from().year(), "-",
                   req.effective_from().month(), "-",
                   req.effective_from().day(), ")");
  }
  if (IsBlank(req.reason())) {
    return Invalid(
        "set_unit_cost.reason: required, e.g. \"standard cost 2027\"");
  }
  if (!state.products().contains(req.item())) {
    return Refuse("product ", req.item(),
                  " is not defined; define it in the lots service before "
                  "setting its unit cost");
  }
  for (const v1::UnitCostSet& set : state.unit_costs()) {
    if (set.unit_cost().currency() != cost.currency()) {
      return Refuse("product ", req.item(), " is costed in ",
                    set.unit_cost().currency(), "; a cost in ", cost.currency(),
                    " cannot be set: a product's costs share one currency");
    }
  }
  for (const v1::UnitCostSet& set : state.unit_costs()) {
    if (lots::CompareDates(set.effective_from(), req.effective_from()) == 0 &&
        set.unit_cost().micros() == cost.micros()) {
      return std::vector<v1::Event>();
    }
  }
  v1::Event event;
  event.set_aggregate_id(UnitCostAggregateId(req.item()));
  if (req.has_occurred_at()) *event.mutable_occurred_at() = req.occurred_at();
  v1::UnitCostSet& set = *event.mutable_unit_cost_set();
  set.set_item(req.item());
  *set.mutable_unit_cost() = cost;
  *set.mutable_effective_from() = req.effective_from();
  set.set_reason(req.reason());
  return std::vector<v1::Event>{std::move(event)};
}

void FoldUnitCost(UnitCostHistory& history, const v1::UnitCostSet& cost) {
  int at = history.size();
  for (int i = 0; i < history.size(); ++i) {
    const int c =
        lots::CompareDates(history[i].effective_from(), cost.effective_from());
    if (c == 0) {
      history[i] = cost;
      return;
    }
    if (c > 0) {
      at = i;
      break;
    }
  }
  *history.Add() = cost;
  for (int i = history.size() - 1; i > at; --i) history.SwapElements(i, i - 1);
}

const v1::UnitCostSet* CostOn(const UnitCostHistory& history,
                              const v1::Date& day) {
  const v1::UnitCostSet* found = nullptr;
  for (const v1::UnitCostSet& set : history) {
    if (lots::CompareDates(set.effective_from(), day) > 0) break;
    found = &set;
  }
  return found;
}

}  // namespace lotledger::inventory
