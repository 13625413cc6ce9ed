#include "libs/domain/inventory/fefo.h"

#include <algorithm>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "libs/common/check.h"
#include "libs/common/status_macros.h"
#include "libs/domain/inventory/customers.h"
#include "libs/domain/lots/dates.h"

namespace lotledger::inventory {
namespace {

absl::Status Invalid(const std::string& message) {
  return absl::InvalidArgumentError(message);
}

}  // namespace

bool FefoLess(const v1::LotInventory& a, const v1::LotInventory& b) {
  const bool ea = HasExpiry(a);
  const bool eb = HasExpiry(b);
  if (ea != eb) return ea;  // a lot that never expires goes last
  if (ea) {
    const int c = lots::CompareDates(a.expires_on(), b.expires_on());
    if (c != 0) return c < 0;
  }
  return std::tie(a.lot_number(), a.lot_id()) <
         std::tie(b.lot_number(), b.lot_id());
}

absl::StatusOr<FefoAllocator> FefoAllocator::Create(
    const v1::AllocateFefoRequest& request, const LocationMap& locations,
    const v1::Product* product, const v1::Date& today,
    const v1::CustomerRecord* registered) {
  if (request.item().empty()) return Invalid("allocate_fefo.item: required");
  if (request.quantity().amount() <= 0) {
    return Invalid(
        absl::StrCat("allocate_fefo.quantity.amount: must be positive, got ",
                     request.quantity().amount()));
  }
  if (request.customer().min_remaining_shelf_life_days() < 0) {
    return Invalid(absl::StrCat(
        "allocate_fefo.customer.min_remaining_shelf_life_days: must not be "
        "negative, got ",
        request.customer().min_remaining_shelf_life_days()));
  }
  if (request.has_ship_date() && !lots::IsValidDate(request.ship_date())) {
    return Invalid("allocate_fefo.ship_date: not a calendar date");
  }
  const std::string uom = product != nullptr ? product->uom() : "";
  if (!request.quantity().uom().empty() && !uom.empty() &&
      request.quantity().uom() != uom) {
    return absl::FailedPreconditionError(
        absl::StrCat("item ", request.item(), " is counted in ", uom, ", not ",
                     request.quantity().uom()));
  }

  v1::AllocateFefoResponse out;
  const std::string out_uom = uom.empty() ? request.quantity().uom() : uom;
  out.mutable_requested()->set_amount(request.quantity().amount());
  out.mutable_requested()->set_uom(out_uom);
  out.mutable_allocated()->set_uom(out_uom);
  // Like a shipment, a pick list cannot count shelf life from a day before
  // today: it never proposes what ShipStock would refuse.
  *out.mutable_ship_date() =
      request.has_ship_date() ? LaterDay(request.ship_date(), today) : today;
  if (registered != nullptr) {
    RETURN_IF_ERROR(CheckTypedCustomer(request.customer(), *registered,
                                       {request.item()},
                                       "allocate_fefo.customer"));
  }
  const ShelfLifeRequirement required = RequiredShelfLife(
      CustomerMinimum(request.customer(), registered, request.item()), product);
  out.set_required_shelf_life_days(required.days);
  out.set_required_by(required.by);

  FefoAllocator allocator(&locations, request.quantity().amount(), required,
                          std::move(out));
  allocator.item_ = request.item();
  if (!request.from_location_id().empty()) {
    if (!locations.contains(request.from_location_id())) {
      return absl::FailedPreconditionError(
          absl::StrCat("location ", request.from_location_id(),
                       " does not exist; cannot pick from it"));
    }
    allocator.scoped_ = true;
    for (const auto& [id, location] : locations) {
      if (IsUnder(locations, id, request.from_location_id())) {
        allocator.scope_.insert(id);
      }
    }
  }
  return allocator;
}

FefoAllocator::FefoAllocator(const LocationMap* locations, int64_t wanted,
                             ShelfLifeRequirement required,
                             v1::AllocateFefoResponse out)
    : locations_(locations),
      remaining_(wanted),
      required_(std::move(required)),
      out_(std::move(out)) {}

v1::Date FefoAllocator::EarliestPickableExpiry() const {
  const v1::Date& d = out_.ship_date();
  const absl::CivilDay day = absl::CivilDay(d.year(), d.month(), d.day()) +
                             std::max<int32_t>(required_.days, 1);
  v1::Date out;
  out.set_year(static_cast<int32_t>(day.year()));
  out.set_month(day.month());
  out.set_day(day.day());
  return out;
}

void FefoAllocator::Skip(const std::string& lot_id,
                         const std::string& location_id, int64_t amount,
                         std::string reason) {
  if (out_.skipped_size() >= kMaxFefoSkips) {
    out_.set_skipped_truncated(true);
    return;
  }
  v1::FefoSkip& skip = *out_.add_skipped();
  skip.set_lot_id(lot_id);
  skip.set_location_id(location_id);
  skip.set_amount(amount);
  skip.set_reason(std::move(reason));
}

bool FefoAllocator::Offer(const v1::LotInventory& lot) {
  if (remaining_ <= 0) return false;
  if (has_last_) CHECK(!FefoLess(lot, last_key_));
  // Only the sort key is kept: copying whole lots would cost more than
  // the allocation itself.
  *last_key_.mutable_expires_on() = lot.expires_on();
  last_key_.set_lot_number(lot.lot_number());
  last_key_.set_lot_id(lot.lot_id());
  has_last_ = true;
  if (lot.item() != item_) return true;

  // The stock this allocation may consider, by location id (lot.stock is
  // sorted by it).
  std::vector<const v1::LocationStock*> in_scope;
  int64_t in_scope_total = 0;
  for (const v1::LocationStock& s : lot.stock()) {
    if (s.amount() <= 0) continue;
    if (scoped_ && !scope_.contains(s.location_id())) continue;
    in_scope.push_back(&s);
    in_scope_total += s.amount();
  }
  if (in_scope.empty()) return true;

  const absl::Status gate = CheckShippable(lot, out_.ship_date(), required_);
  if (!gate.ok()) {
    Skip(lot.lot_id(), "", in_scope_total, std::string(gate.message()));
    return true;
  }
  for (const v1::LocationStock* s : in_scope) {
    const absl::Status where =
        CheckPickLocation(*locations_, lot.lot_id(), s->location_id());
    if (!where.ok()) {
      Skip(lot.lot_id(), s->location_id(), s->amount(),
           std::string(where.message()));
      continue;
    }
    const int64_t take = std::min(remaining_, s->amount());
    v1::ShipmentLine& line = *out_.add_lines();
    line.set_lot_id(lot.lot_id());
    line.set_location_id(s->location_id());
    line.mutable_quantity()->set_amount(take);
    line.mutable_quantity()->set_uom(out_.requested().uom());
    if (HasExpiry(lot)) {
      *out_.add_expires_on() = lot.expires_on();
      out_.add_days_left(
          static_cast<int32_t>(DaysLeft(lot.expires_on(), out_.ship_date())));
    } else {
      out_.add_expires_on();
      out_.add_days_left(0);
    }
    remaining_ -= take;
    if (remaining_ == 0) return false;
  }
  return true;
}

v1::AllocateFefoResponse FefoAllocator::Finish() && {
  const int64_t requested = out_.requested().amount();
  out_.mutable_allocated()->set_amount(requested - remaining_);
  out_.mutable_shortfall()->set_amount(remaining_);
  out_.mutable_shortfall()->set_uom(out_.requested().uom());
  return std::move(out_);
}

absl::StatusOr<v1::AllocateFefoResponse> AllocateFefo(
    const v1::InventoryDecisionState& state,
    const v1::AllocateFefoRequest& request, const v1::Date& today) {
  auto product = state.products().find(request.item());
  auto customer = state.customers().find(request.customer().customer_id());
  absl::StatusOr<FefoAllocator> allocator = FefoAllocator::Create(
      request, state.locations(),
      product == state.products().end() ? nullptr : &product->second, today,
      customer == state.customers().end() ? nullptr
                                          : &customer->second.customer());
  if (!allocator.ok()) return allocator.status();
  std::vector<const v1::LotInventory*> lots;
  for (const auto& [id, lot] : state.lots()) {
    if (lot.item() == request.item()) lots.push_back(&lot);
  }
  std::sort(lots.begin(), lots.end(),
            [](const v1::LotInventory* a, const v1::LotInventory* b) {
              return FefoLess(*a, *b);
            });
  for (const v1::LotInventory* lot : lots) {
    if (!allocator->Offer(*lot)) break;
  }
  return std::move(*allocator).Finish();
}

}  // namespace lotledger::inventory
