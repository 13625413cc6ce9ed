#include "libs/audit/as_of.h"

#include <algorithm>
#include <numeric>

#include "libs/audit/topics.h"
#include "libs/common/proto_time.h"
#include "libs/domain/inventory/decider.h"
#include "libs/domain/lots/decider.h"
#include "libs/domain/quality/decider.h"

namespace lotledger::audit {

absl::Time EffectiveTime(const v1::Event& event, v1::TimeAxis axis,
                         absl::Time lot_created_business_time) {
  if (axis == v1::TIME_AXIS_RECORD) return RecordTime(event);
  const absl::Time business = BusinessTime(event);
  if (event.has_lot_corrected()) {
    return std::min(business, lot_created_business_time);
  }
  return business;
}

v1::LotAsOf FoldAsOf(const std::string& lot_id,
                     const std::vector<v1::Event>& events, absl::Time at,
                     v1::TimeAxis axis) {
  if (axis == v1::TIME_AXIS_UNSPECIFIED) axis = v1::TIME_AXIS_BUSINESS;
  absl::Time created = absl::InfiniteFuture();
  for (const v1::Event& e : events) {
    if (e.has_lot_created() && e.lot_created().lot_id() == lot_id) {
      created = std::min(created, BusinessTime(e));
    }
  }
  std::vector<absl::Time> when(events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    when[i] = EffectiveTime(events[i], axis, created);
  }
  // By effective time; ties keep the given (log) order, so a correction
  // that takes effect at creation folds after the creation.
  std::vector<size_t> order(events.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return when[a] < when[b]; });

  v1::Lot lot;
  lot.set_lot_id(lot_id);
  v1::QualityLotState quality;
  quality.set_lot_id(lot_id);
  v1::LotInventory inventory;
  inventory.set_lot_id(lot_id);
  v1::LotAsOf out;
  for (size_t i : order) {
    if (when[i] > at) break;
    const v1::Event& e = events[i];
    lots::Evolve(lot, e);
    quality::Evolve(quality, e);
    inventory::Evolve(inventory, e);
    out.set_events_folded(out.events_folded() + 1);
    out.set_last_event_id(e.event_id());
  }
  out.set_lot_id(lot_id);
  ToTimestamp(at, out.mutable_at());
  out.set_axis(axis);
  out.set_exists(quality.exists() || inventory.exists());
  *out.mutable_lot() = lot;
  out.set_disposition(quality.disposition());
  if (quality.has_disposition_since()) {
    *out.mutable_disposition_since() = quality.disposition_since();
  }
  out.set_disposition_by(quality.disposition_by());
  out.set_disposition_reason(quality.disposition_reason());
  *out.mutable_stock() = inventory.stock();
  out.set_on_hand(inventory.on_hand());
  *out.mutable_customers() = inventory.customers();
  for (const v1::CustomerBalance& c : inventory.customers()) {
    if (c.shipped() > c.returned()) out.add_customers_holding(c.customer_id());
  }
  out.set_recalled(inventory.recalled());
  out.set_recall_id(inventory.recall_id());
  if (inventory.has_recalled_since()) {
    *out.mutable_recalled_since() = inventory.recalled_since();
  }
  out.set_recall_reason(inventory.recall_reason());
  return out;
}

}  // namespace lotledger::audit
