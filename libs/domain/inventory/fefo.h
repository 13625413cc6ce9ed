// FEFO (first expiry, first out) allocation: a pick list for a quantity of
// an item from the lots that would pass the shipping gate (gate.h) for the
// customer on the ship date, earliest expiry first, ties by lot number (then
// lot id), within a lot by location id; spread over as many lots and
// locations as needed; with the shortfall when there is not enough.
// Stock in a quarantine area or outside the requested location is never
// picked. Lots without an expiry come last: they never expire.
//
// Two ways in:
//   * AllocateFefo(state, request, today): the candidates are
//     state.lots (any order; other items ignored); convenient for tests
//     and small item ranges.
//   * FefoAllocator: the caller offers lots already in FefoLess order (from
//     an expiry-ordered index) and stops as soon as Offer returns false, so
//     an allocation reads only the lots it needs however many exist.
// Both give the same answer for the same lots.
//
// Thread-safety: AllocateFefo and FefoLess are pure. A FefoAllocator is
// not thread-safe; use one per allocation.
#ifndef LOTLEDGER_LIBS_DOMAIN_INVENTORY_FEFO_H_
#define LOTLEDGER_LIBS_DOMAIN_INVENTORY_FEFO_H_

#include <cstdint>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "libs/domain/inventory/gate.h"
#include "lotledger/v1/inventory.pb.h"
#include "lotledger/v1/inventory_domain.pb.h"

namespace lotledger::inventory {

// At most this many FefoSkip entries are reported.
inline constexpr int kMaxFefoSkips = 50;

// FEFO order: expiry (none last), then lot number, then lot id.
bool FefoLess(const v1::LotInventory& a, const v1::LotInventory& b);

class FefoAllocator {
 public:
  // Validates the request (InvalidArgument naming the field: item,
  // quantity.amount > 0, customer.min_remaining_shelf_life_days >= 0) and
  // resolves the scope: FailedPrecondition when from_location_id is not a
  // known location, or the quantity's unit is not the product's.
  // `locations` must hold every location (scope and quarantine come from
  // it) and outlive the allocator; `product` (may be null when unknown)
  // gives the unit and the product's minimum shelf life. The ship date is
  // the later of request.ship_date and `today` (a day in the past counts
  // as today, as it does for ShipStock), else `today`.
  // `registered` (may be null) is the customer's registered record when
  // request.customer.customer_id is registered: its contracted minimum for
  // the item is the customer's minimum (customers.h), and a typed-in
  // min_remaining_shelf_life_days that contradicts it is refused
  // (FailedPrecondition naming the field), as ShipStock refuses it.
  static absl::StatusOr<FefoAllocator> Create(
      const v1::AllocateFefoRequest& request, const LocationMap& locations,
      const v1::Product* product, const v1::Date& today,
      const v1::CustomerRecord* registered = nullptr);

  // Considers the next lot (CHECKs that lots come in FefoLess order).
  // Returns false once the requested quantity is allocated: offering more
  // changes nothing.
  bool Offer(const v1::LotInventory& lot);

  // The pick list so far, with the shortfall.
  v1::AllocateFefoResponse Finish() &&;

  // The earliest expiry a lot can have and still be picked: the ship date
  // plus the shelf life required (at least one day). Every lot expiring
  // earlier is skipped by the gate.
  v1::Date EarliestPickableExpiry() const;
  // True once the skip list is full: offering more lots that the gate
  // refuses changes nothing but skipped_truncated (already set), so a
  // caller reading an expiry-ordered index may jump to
  // EarliestPickableExpiry().
  bool SkipsFull() const { return out_.skipped_truncated(); }

 private:
  FefoAllocator(const LocationMap* locations, int64_t wanted,
                ShelfLifeRequirement required, v1::AllocateFefoResponse out);
  void Skip(const std::string& lot_id, const std::string& location_id,
            int64_t amount, std::string reason);

  const LocationMap* locations_;
  // Empty when every location is in scope.
  absl::flat_hash_set<std::string> scope_;
  bool scoped_ = false;
  std::string item_;
  int64_t remaining_;
  ShelfLifeRequirement required_;
  v1::AllocateFefoResponse out_;
  // The last lot offered, to check the order without copying it.
  v1::LotInventory last_key_;
  bool has_last_ = false;
};

// Validates, then offers state.lots in FefoLess order. The product is
// state.products[request.item]; state.locations must hold every location;
// the registered customer, if any, is state.customers[its id].
absl::StatusOr<v1::AllocateFefoResponse> AllocateFefo(
    const v1::InventoryDecisionState& state,
    const v1::AllocateFefoRequest& request, const v1::Date& today);

}  // namespace lotledger::inventory

#endif  // LOTLEDGER_LIBS_DOMAIN_INVENTORY_FEFO_H_
