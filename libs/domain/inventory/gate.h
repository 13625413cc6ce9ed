// The shipping gate and what it counts with: the warehouse calendar, the
// shelf life a shipment needs, and where stock may be picked. Shared by
// Decide (ShipStock), the FEFO allocator and the expiry alerts, so that a
// pick list never proposes what a shipment would refuse.
//
// Thread-safety: pure functions; safe to call from any thread.
#ifndef LOTLEDGER_LIBS_DOMAIN_INVENTORY_GATE_H_
#define LOTLEDGER_LIBS_DOMAIN_INVENTORY_GATE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "google/protobuf/map.h"
#include "google/protobuf/timestamp.pb.h"
#include "lotledger/v1/common.pb.h"
#include "lotledger/v1/events.pb.h"
#include "lotledger/v1/inventory.pb.h"

namespace lotledger::inventory {

using LocationMap = google::protobuf::Map<std::string, v1::Location>;

// The calendar day of `t` in the warehouse calendar (minutes east of UTC).
// A fixed offset rather than a time zone name: loading zone rules reads
// files, and the domain does no I/O.
v1::Date BusinessDay(const google::protobuf::Timestamp& t,
                     int32_t utc_offset_minutes);

// Whole days from `day` to `expires_on`: 0 on the expiry date (the lot is
// expired), negative after it. Both must be valid dates.
int64_t DaysLeft(const v1::Date& expires_on, const v1::Date& day);

// True when the lot has a valid expiry date (some lots never expire).
bool HasExpiry(const v1::LotInventory& lot);

// Stock of `lot` at one location, and in total.
int64_t StockAt(const v1::LotInventory& lot, const std::string& location_id);
int64_t OnHand(const v1::LotInventory& lot);

// The shelf life a lot must have left on the ship date: the larger of the
// customer's contracted minimum and the product's minimum, and who asks
// for it ("customer H-12" / "product 09506000134352"; empty when 0).
struct ShelfLifeRequirement {
  int32_t days = 0;
  std::string by;
};
ShelfLifeRequirement RequiredShelfLife(const v1::Customer& customer,
                                       const v1::Product* product);
// The same for a customer minimum already resolved (a registered
// customer's contract or a signed override, customers.h): the larger of
// it and the product's minimum; the customer's when they are equal.
ShelfLifeRequirement RequiredShelfLife(const ShelfLifeRequirement& customer,
                                       const v1::Product* product);

// The later of two days: the day a date gate checks on. Business time
// (a request's occurred_at, supplied by the client) cannot open a gate:
// expiry and shelf life are checked on the later of the business day and
// the day the server records the command.
v1::Date LaterDay(const v1::Date& a, const v1::Date& b);

// OK when `lot` may ship on `ship_date` under `required`, else
// FailedPrecondition with the first rule that says no, in this order:
// unknown lot, recalled, rejected, on hold, not released, expired, short
// shelf life. Each sentence names the lot and the rule, e.g. "lot X is on
// hold since 2026-03-02 by qa.li: sterility retest; held stock cannot
// ship". Where the stock sits is checked separately (CheckPickLocation).
absl::Status CheckShippable(const v1::LotInventory& lot,
                            const v1::Date& ship_date,
                            const ShelfLifeRequirement& required);
// The same for a shipment recorded on `recorded_on` (the server's day):
// expiry and shelf life are checked on LaterDay(ship_date, recorded_on),
// so a back-dated shipment cannot ship what is expired or short-dated on
// the day it is recorded. When the record day is the later one the
// message says so: "lot X expired on 2021-01-01 (ship date 2020-06-01,
// recorded on 2026-12-06: dates are checked on the later day)".
absl::Status CheckShippable(const v1::LotInventory& lot,
                            const v1::Date& ship_date,
                            const v1::Date& recorded_on,
                            const ShelfLifeRequirement& required);

// True for the levels that hold stock: warehouses and bins.
bool IsStockLocation(const v1::Location& location);

// True when `location_id` is `ancestor_id` or lies below it. Unknown ids
// are under nothing.
bool IsUnder(const LocationMap& locations, const std::string& location_id,
             const std::string& ancestor_id);

// OK when stock may be picked for a shipment at `location_id`: a known
// warehouse or bin that is not a quarantine area. FailedPrecondition
// otherwise, naming the lot and the location.
absl::Status CheckPickLocation(const LocationMap& locations,
                               const std::string& lot_id,
                               const std::string& location_id);

// "YYYY-MM-DD", or "(no date)" for an unset or invalid one.
std::string DateText(const v1::Date& date);

}  // namespace lotledger::inventory

#endif  // LOTLEDGER_LIBS_DOMAIN_INVENTORY_GATE_H_
