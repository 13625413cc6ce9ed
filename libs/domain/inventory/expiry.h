// Rolling expiry alerts, as a pure function of a lot's inventory view, its
// product's alert thresholds and the day: which ExpiryThresholdCrossed and
// LotExpired events are due now.
//
// Exactly once: a raised alert is folded into LotInventory.alerts (by
// Evolve) with the threshold and the expiry date it was raised for, and an
// alert already there is never due again. Because that record lives in the
// projection built from the log, "once" survives restarts and rebuilds; a
// sweep run twice on the same day, or by a second process after the first
// one's events are applied, finds nothing due. An expiry corrected to a
// new date re-arms the thresholds for that date.
//
// Thread-safety: pure functions; safe to call from any thread.
#ifndef LOTLEDGER_LIBS_DOMAIN_INVENTORY_EXPIRY_H_
#define LOTLEDGER_LIBS_DOMAIN_INVENTORY_EXPIRY_H_

#include <vector>

#include "lotledger/v1/common.pb.h"
#include "lotledger/v1/events.pb.h"
#include "lotledger/v1/inventory.pb.h"

namespace lotledger::inventory {

// The alert events due for `lot` on `today`, in the order to append them:
// ExpiryThresholdCrossed for every positive threshold of `policy` the lot
// is within (days left <= threshold), largest threshold first, then
// LotExpired once the lot is expired (days left <= 0) - each only when not
// yet raised for the lot's current expiry date. After a long gap several
// are due at once; each carries the real days left.
//
// Nothing is due for a lot that is unknown (no LotCreated), has no expiry,
// or has no stock on hand: alerts are about stock someone must act on.
// Events carry aggregate_id and lot_ids (the lot) and the payload; the
// caller fills in the envelope (business time defaults to record time).
std::vector<v1::Event> DueExpiryAlerts(const v1::LotInventory& lot,
                                       const v1::ShelfLifePolicy& policy,
                                       const v1::Date& today);

}  // namespace lotledger::inventory

#endif  // LOTLEDGER_LIBS_DOMAIN_INVENTORY_EXPIRY_H_
