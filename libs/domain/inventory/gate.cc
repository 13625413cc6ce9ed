#include "libs/domain/inventory/gate.h"

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "libs/domain/lots/dates.h"

namespace lotledger::inventory {
namespace {

bool IsSet(const google::protobuf::Timestamp& t) {
  return t.seconds() != 0 || t.nanos() != 0;
}

// "2026-03-02" (UTC) of a recorded time, as people read it in a message.
std::string Day(const google::protobuf::Timestamp& t) {
  return absl::FormatTime("%Y-%m-%d", absl::FromUnixSeconds(t.seconds()),
                          absl::UTCTimeZone());
}

// " since 2026-03-02 by qa.li: sterility retest", leaving out what is
// unknown.
std::string SinceByWhy(absl::string_view since_word,
                       const google::protobuf::Timestamp& since,
                       const std::string& by, const std::string& why) {
  std::string out;
  if (IsSet(since)) absl::StrAppend(&out, " ", since_word, " ", Day(since));
  if (!by.empty()) absl::StrAppend(&out, " by ", by);
  if (!why.empty()) absl::StrAppend(&out, ": ", why);
  return out;
}

// "1 day", "19 days".
std::string Days(int64_t n) {
  return absl::StrCat(n, n == 1 ? " day" : " days");
}

absl::Status Refuse(const std::string& message) {
  return absl::FailedPreconditionError(message);
}

}  // namespace

v1::Date BusinessDay(const google::protobuf::Timestamp& t,
                     int32_t utc_offset_minutes) {
  const absl::Time time =
      absl::FromUnixSeconds(t.seconds()) + absl::Minutes(utc_offset_minutes);
  return lots::FromCivilDay(absl::ToCivilDay(time, absl::UTCTimeZone()));
}

int64_t DaysLeft(const v1::Date& expires_on, const v1::Date& day) {
  return lots::ToCivilDay(expires_on) - lots::ToCivilDay(day);
}

bool HasExpiry(const v1::LotInventory& lot) {
  return lot.has_expires_on() && lots::IsValidDate(lot.expires_on());
}

int64_t StockAt(const v1::LotInventory& lot, const std::string& location_id) {
  for (const v1::LocationStock& s : lot.stock()) {
    if (s.location_id() == location_id) return s.amount();
  }
  return 0;
}

int64_t OnHand(const v1::LotInventory& lot) {
  int64_t total = 0;
  for (const v1::LocationStock& s : lot.stock()) total += s.amount();
  return total;
}

ShelfLifeRequirement RequiredShelfLife(const v1::Customer& customer,
                                       const v1::Product* product) {
  ShelfLifeRequirement typed;
  typed.days = customer.min_remaining_shelf_life_days();
  if (typed.days > 0)
    typed.by = absl::StrCat("customer ", customer.customer_id());
  return RequiredShelfLife(typed, product);
}

ShelfLifeRequirement RequiredShelfLife(const ShelfLifeRequirement& customer,
                                       const v1::Product* product) {
  const int32_t by_product =
      product == nullptr ? 0 : product->policy().min_remaining_days_to_ship();
  if (customer.days > 0 && customer.days >= by_product) return customer;
  if (by_product > 0) {
    return {by_product, absl::StrCat("product ", product->item())};
  }
  return {};
}

v1::Date LaterDay(const v1::Date& a, const v1::Date& b) {
  return lots::CompareDates(a, b) >= 0 ? a : b;
}

absl::Status CheckShippable(const v1::LotInventory& lot,
                            const v1::Date& ship_date,
                            const ShelfLifeRequirement& required) {
  return CheckShippable(lot, ship_date, ship_date, required);
}

absl::Status CheckShippable(const v1::LotInventory& lot,
                            const v1::Date& ship_date,
                            const v1::Date& recorded_on,
                            const ShelfLifeRequirement& required) {
  const std::string& id = lot.lot_id();
  if (!lot.exists()) {
    return Refuse(absl::StrCat("lot ", id,
                               " does not exist (no lot record); only "
                               "known lots can ship"));
  }
  if (lot.recalled()) {
    return Refuse(absl::StrCat(
        "lot ", id, " is under recall",
        lot.recall_id().empty() ? "" : absl::StrCat(" ", lot.recall_id()),
        SinceByWhy("since", lot.recalled_since(), "", lot.recall_reason()),
        "; recalled stock cannot ship"));
  }
  switch (lot.disposition()) {
    case v1::DISPOSITION_RELEASED:
      break;
    case v1::DISPOSITION_REJECTED:
      return Refuse(absl::StrCat(
          "lot ", id, " was rejected",
          SinceByWhy("on", lot.disposition_since(), lot.disposition_by(),
                     lot.disposition_reason()),
          "; rejected stock never ships"));
    case v1::DISPOSITION_ON_HOLD:
      return Refuse(absl::StrCat(
          "lot ", id, " is on hold",
          SinceByWhy("since", lot.disposition_since(), lot.disposition_by(),
                     lot.disposition_reason()),
          "; held stock cannot ship"));
    default:
      return Refuse(absl::StrCat(
          "lot ", id,
          " is not released by quality; unreleased stock cannot ship"));
  }
  if (!HasExpiry(lot)) return absl::OkStatus();
  // Business time cannot open the gate: a back-dated shipment is checked
  // on the day it is recorded.
  const bool back_dated = lots::CompareDates(recorded_on, ship_date) > 0;
  const v1::Date& day = back_dated ? recorded_on : ship_date;
  const int64_t left = DaysLeft(lot.expires_on(), day);
  if (left < 0) {
    return Refuse(absl::StrCat(
        "lot ", id, " expired on ", DateText(lot.expires_on()), " (ship date ",
        DateText(ship_date),
        back_dated ? absl::StrCat(", recorded on ", DateText(recorded_on),
                                  ": dates are checked on the later day")
                   : "",
        "); expired stock cannot ship"));
  }
  if (left == 0) {
    return Refuse(absl::StrCat(
        "lot ", id,
        back_dated
            ? absl::StrCat(" expires on ", DateText(day),
                           ", the day the shipment is recorded (ship date ",
                           DateText(ship_date), ")")
            : absl::StrCat(" expires on the ship date ", DateText(day)),
        "; expired stock cannot ship"));
  }
  if (left < required.days) {
    return Refuse(absl::StrCat(
        "lot ", id, " has ", Days(left), " of shelf life left on ",
        DateText(day),
        back_dated ? absl::StrCat(", the day the shipment is recorded (ship "
                                  "date ",
                                  DateText(ship_date), "; ")
                   : " (",
        "expires ", DateText(lot.expires_on()), "); ", required.by,
        " requires at least ", Days(required.days)));
  }
  return absl::OkStatus();
}

bool IsStockLocation(const v1::Location& location) {
  return location.kind() == v1::LOCATION_KIND_WAREHOUSE ||
         location.kind() == v1::LOCATION_KIND_BIN;
}

bool IsUnder(const LocationMap& locations, const std::string& location_id,
             const std::string& ancestor_id) {
  // The hierarchy has four levels; the bound also stops a corrupt cycle.
  const std::string* id = &location_id;
  for (int depth = 0; depth < 8; ++depth) {
    auto it = locations.find(*id);
    if (it == locations.end()) return false;
    if (*id == ancestor_id) return true;
    if (it->second.parent_id().empty()) return false;
    id = &it->second.parent_id();
  }
  return false;
}

absl::Status CheckPickLocation(const LocationMap& locations,
                               const std::string& lot_id,
                               const std::string& location_id) {
  auto it = locations.find(location_id);
  if (it == locations.end()) {
    return Refuse(absl::StrCat("location ", location_id,
                               " does not exist; cannot pick lot ", lot_id,
                               " there"));
  }
  if (it->second.quarantine()) {
    return Refuse(absl::StrCat("stock of lot ", lot_id, " at ", location_id,
                               " is in a quarantine area; move it out "
                               "before it can ship"));
  }
  if (!IsStockLocation(it->second)) {
    return Refuse(absl::StrCat("location ", location_id,
                               " is not a warehouse or bin; no stock of lot ",
                               lot_id, " is held there"));
  }
  return absl::OkStatus();
}

std::string DateText(const v1::Date& date) {
  return lots::IsValidDate(date) ? lots::FormatDate(date) : "(no date)";
}

}  // namespace lotledger::inventory
