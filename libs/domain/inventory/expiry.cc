#include "libs/domain/inventory/expiry.h"

#include <algorithm>
#include <cstdint>
#include <functional>

#include "google/protobuf/util/message_differencer.h"
#include "libs/domain/inventory/gate.h"

namespace lotledger::inventory {
namespace {

using google::protobuf::util::MessageDifferencer;

bool Raised(const v1::LotInventory& lot, int32_t threshold_days) {
  for (const v1::RaisedExpiryAlert& a : lot.alerts()) {
    if (a.threshold_days() == threshold_days &&
        MessageDifferencer::Equals(a.expires_on(), lot.expires_on())) {
      return true;
    }
  }
  return false;
}

v1::Event NewAlert(const v1::LotInventory& lot) {
  v1::Event event;
  event.set_aggregate_id(lot.lot_id());
  event.add_lot_ids(lot.lot_id());
  return event;
}

}  // namespace

std::vector<v1::Event> DueExpiryAlerts(const v1::LotInventory& lot,
                                       const v1::ShelfLifePolicy& policy,
                                       const v1::Date& today) {
  std::vector<v1::Event> due;
  if (!lot.exists() || !HasExpiry(lot)) return due;
  const int64_t on_hand = OnHand(lot);
  if (on_hand <= 0) return due;
  const int64_t left = DaysLeft(lot.expires_on(), today);

  // Threshold 0 is the LotExpired marker in `alerts`; a policy should not
  // hold it (lots::ValidateProduct refuses it), and a duplicate would
  // otherwise alert twice in one sweep.
  std::vector<int32_t> thresholds;
  for (int32_t t : policy.alert_thresholds_days()) {
    if (t > 0) thresholds.push_back(t);
  }
  std::sort(thresholds.begin(), thresholds.end(), std::greater<>());
  thresholds.erase(std::unique(thresholds.begin(), thresholds.end()),
                   thresholds.end());

  v1::Quantity total;
  total.set_amount(on_hand);
  total.set_uom(lot.uom());
  for (int32_t t : thresholds) {
    if (left > t || Raised(lot, t)) continue;
    v1::Event event = NewAlert(lot);
    v1::ExpiryThresholdCrossed& crossed =
        *event.mutable_expiry_threshold_crossed();
    crossed.set_lot_id(lot.lot_id());
    crossed.set_item(lot.item());
    crossed.set_threshold_days(t);
    *crossed.mutable_expires_on() = lot.expires_on();
    crossed.set_days_left(static_cast<int32_t>(left));
    *crossed.mutable_evaluated_on() = today;
    *crossed.mutable_on_hand() = total;
    *crossed.mutable_stock() = lot.stock();
    due.push_back(std::move(event));
  }
  if (left <= 0 && !Raised(lot, 0)) {
    v1::Event event = NewAlert(lot);
    v1::LotExpired& expired = *event.mutable_lot_expired();
    expired.set_lot_id(lot.lot_id());
    expired.set_item(lot.item());
    *expired.mutable_expires_on() = lot.expires_on();
    *expired.mutable_evaluated_on() = today;
    *expired.mutable_on_hand() = total;
    *expired.mutable_stock() = lot.stock();
    due.push_back(std::move(event));
  }
  return due;
}

}  // namespace lotledger::inventory
