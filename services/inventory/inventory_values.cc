#include "services/inventory/inventory_values.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "libs/common/ids.h"
#include "libs/common/status_macros.h"
#include "libs/domain/inventory/gate.h"
#include "libs/domain/lots/dates.h"
#include "libs/domain/recall/decider.h"
#include "libs/domain/recall/impact.h"
#include "libs/projection/stored_message.h"
#include "lotledger/v1/recall.pb.h"

namespace lotledger::inventory {
namespace {

constexpr char kUnitCosts[] = "unit_costs";
constexpr char kExpiries[] = "value_expiries";
constexpr char kRecalls[] = "value_recalls";
constexpr char kSep = '\0';
// An alert this many days or more before the expiry is "alerted early".
constexpr int kAlertedDays = 90;

std::string DateKey(const v1::Date& d) {
  return absl::StrFormat("%04d%02d%02d", d.year(), d.month(), d.day());
}

std::string Join(std::string_view a, std::string_view b) {
  std::string out(a);
  out.push_back(kSep);
  out.append(b);
  return out;
}

const google::protobuf::Timestamp& BusinessTime(const v1::Event& event) {
  return event.has_occurred_at() ? event.occurred_at() : event.recorded_at();
}

v1::Date DayOf(const google::protobuf::Timestamp& t) {
  return BusinessDay(t, kWarehouseUtcOffsetMinutes);
}

// The recall a recall-topic event is about ("" for any other event).
std::string RecallIdOf(const v1::Event& e) {
  switch (e.payload_case()) {
    case v1::Event::kRecallInitiated:
      return e.recall_initiated().recall_id();
    case v1::Event::kRecallScopeExtended:
      return e.recall_scope_extended().recall_id();
    case v1::Event::kRecallNotificationIssued:
      return e.recall_notification_issued().recall_id();
    case v1::Event::kRecallResponseRecorded:
      return e.recall_response_recorded().recall_id();
    case v1::Event::kRecallClosed:
      return e.recall_closed().recall_id();
    default:
      return "";
  }
}

absl::Status FoldExpiry(const std::string& lot_id, const v1::Date& expires_on,
                        bool expired, bool alerted,
                        projection::ProjectionStore::Batch& batch) {
  const std::string key = Join(DateKey(expires_on), lot_id);
  ASSIGN_OR_RETURN(std::optional<std::string> stored,
                   batch.Get(kExpiries, key));
  std::string flags = stored.value_or("--");
  if (flags.size() != 2) {
    return absl::DataLossError(
        absl::StrCat("stored expiry flags of ", lot_id, " cannot be decoded"));
  }
  if (expired) flags[0] = 'E';
  if (alerted) flags[1] = 'A';
  batch.Put(kExpiries, key, flags);
  return absl::OkStatus();
}

// value * amount, exact; an amount of money beyond int64 micros (9.2
// trillion units of a currency) is refused rather than wrapped.
absl::Status AddProduct(int64_t* sum, int64_t amount, int64_t micros) {
  int64_t product = 0;
  if (__builtin_mul_overflow(amount, micros, &product) ||
      __builtin_add_overflow(*sum, product, sum)) {
    return absl::OutOfRangeError(
        "a value KPI exceeds the range of int64 micros");
  }
  return absl::OkStatus();
}

v1::Money MoneyOf(const std::string& currency, int64_t micros) {
  v1::Money m;
  m.set_currency(currency);
  m.set_micros(micros);
  return m;
}

// The inventory events of a lot, oldest first.
absl::StatusOr<std::vector<v1::Event>> Movements(
    const InventoryQueries& queries, const std::string& lot_id) {
  std::vector<v1::Event> all;
  int64_t after = -1;
  for (bool more = true; more;) {
    std::vector<v1::Event> events;
    std::vector<int64_t> offsets;
    RETURN_IF_ERROR(
        queries.ListMovements(lot_id, after, 1000, &events, &offsets, &more));
    if (offsets.empty()) break;
    after = offsets.back();
    for (v1::Event& e : events) all.push_back(std::move(e));
  }
  return all;
}

bool NotAfter(const google::protobuf::Timestamp& a,
              const google::protobuf::Timestamp& b) {
  return a.seconds() < b.seconds() ||
         (a.seconds() == b.seconds() && a.nanos() <= b.nanos());
}

// One recall's KPIs (docs/inventory.md "Value KPIs", recall cost and days
// to 95 %).
absl::StatusOr<v1::RecallKpis> RecallKpisOf(
    const InventoryQueries& queries, const projection::ProjectionStore& store,
    const v1::Recall& recall, const v1::Date& today) {
  v1::RecallKpis k;
  k.set_recall_id(recall.recall_id());
  const v1::Date initiated = DayOf(recall.initiated_at());
  *k.mutable_initiated_on() = initiated;
  std::map<std::string, int64_t> cost;  // currency -> micros
  // Shipments and returns of the scope's lots by business day:
  // day -> customer -> lot -> (shipped, returned) on that day.
  struct Moved {
    int64_t shipped = 0, returned = 0;
  };
  std::map<std::string, std::map<std::string, std::map<std::string, Moved>>>
      by_day;
  std::set<std::string> seen;
  for (const v1::ScopedLot& lot : recall.scope()) {
    if (!seen.insert(lot.lot_id()).second) continue;
    ASSIGN_OR_RETURN(std::vector<v1::Event> events,
                     Movements(queries, lot.lot_id()));
    int64_t on_hand = 0, shipped = 0;
    for (const v1::Event& e : events) {
      const bool before = NotAfter(BusinessTime(e), recall.initiated_at());
      const std::string day = DateKey(DayOf(BusinessTime(e)));
      switch (e.payload_case()) {
        case v1::Event::kStockReceived:
          if (before) on_hand += e.stock_received().quantity().amount();
          break;
        case v1::Event::kStockShipped: {
          const int64_t q = e.stock_shipped().quantity().amount();
          if (before) {
            on_hand -= q;
            shipped += q;
          }
          by_day[day][e.stock_shipped().customer().customer_id()][lot.lot_id()]
              .shipped += q;
          break;
        }
        case v1::Event::kStockReturned: {
          const int64_t q = e.stock_returned().quantity().amount();
          if (before) on_hand += q;
          by_day[day][e.stock_returned().customer_id()][lot.lot_id()]
              .returned += q;
          break;
        }
        case v1::Event::kStockScrapped:
          if (before) on_hand -= e.stock_scrapped().quantity().amount();
          break;
        case v1::Event::kStockAdjusted:
          if (before) on_hand += e.stock_adjusted().delta();
          break;
        default:
          break;
      }
    }
    const std::string item = lot.item().empty()
                                 ? std::string(ItemOfLotId(lot.lot_id()))
                                 : lot.item();
    k.set_units_in_scope(k.units_in_scope() + shipped + on_hand);
    ASSIGN_OR_RETURN(UnitCostHistory history, LoadUnitCosts(store, item));
    const v1::UnitCostSet* c = CostOn(history, initiated);
    if (c == nullptr) continue;
    RETURN_IF_ERROR(AddProduct(&cost[c->unit_cost().currency()],
                               shipped + on_hand, c->unit_cost().micros()));
  }
  for (const auto& [currency, micros] : cost) {
    *k.add_cost() = MoneyOf(currency, micros);
  }
  // Days to 95 %: the recall service's effectiveness at the end of each
  // day from the initiation on that something moved or was answered.
  std::set<std::string> days;
  days.insert(DateKey(initiated));
  for (const auto& [day, unused] : by_day) {
    if (day >= DateKey(initiated)) days.insert(day);
  }
  for (const v1::CustomerResponse& r : recall.responses()) {
    days.insert(std::max(DateKey(initiated), DateKey(DayOf(r.recorded_at()))));
  }
  k.set_days_to_95(-1);
  // Walked forward once: what each customer was shipped and returned of
  // each lot up to the end of the day looked at.
  std::map<std::string, std::map<std::string, Moved>> held;
  auto next = by_day.begin();
  v1::Recall answered = recall;
  for (const std::string& day : days) {
    if (day > DateKey(today)) break;
    for (; next != by_day.end() && next->first <= day; ++next) {
      for (const auto& [customer, lots] : next->second) {
        for (const auto& [lot_id, m] : lots) {
          held[customer][lot_id].shipped += m.shipped;
          held[customer][lot_id].returned += m.returned;
        }
      }
    }
    v1::RecallImpact impact;
    for (const auto& [customer, lots] : held) {
      v1::CustomerImpact* ci = impact.add_customers();
      ci->mutable_customer()->set_customer_id(customer);
      for (const auto& [lot_id, m] : lots) {
        v1::CustomerLotImpact* l = ci->add_lots();
        l->set_lot_id(lot_id);
        l->set_shipped(m.shipped);
        l->set_returned(m.returned);
      }
    }
    // The answers recorded up to the end of the day.
    answered.clear_responses();
    for (const v1::CustomerResponse& r : recall.responses()) {
      if (DateKey(DayOf(r.recorded_at())) <= day) *answered.add_responses() = r;
    }
    const v1::Effectiveness e = recall::ComputeEffectiveness(
        answered, impact, recall.initiated_at(), /*unanswered_after_days=*/0);
    if (e.overall().distributed() == 0 ||
        e.overall().recovered() * 100 >= e.overall().distributed() * 95) {
      absl::CivilDay civil;
      absl::ParseCivilTime(absl::StrFormat("%s-%s-%s", day.substr(0, 4),
                                           day.substr(4, 2), day.substr(6, 2)),
                           &civil);
      *k.mutable_effective_on() = lots::FromCivilDay(civil);
      k.set_days_to_95(
          static_cast<int32_t>(civil - lots::ToCivilDay(initiated)));
      break;
    }
  }
  return k;
}

}  // namespace

std::vector<std::string> ValueColumnFamilies() {
  return {kUnitCosts, kExpiries, kRecalls};
}

absl::Status FoldValues(const v1::Event& event,
                        projection::ProjectionStore::Batch& batch) {
  switch (event.payload_case()) {
    case v1::Event::kUnitCostSet: {
      const v1::UnitCostSet& c = event.unit_cost_set();
      batch.Put(kUnitCosts, Join(c.item(), DateKey(c.effective_from())),
                c.SerializeAsString());
      return absl::OkStatus();
    }
    case v1::Event::kLotExpired: {
      const v1::LotExpired& e = event.lot_expired();
      return FoldExpiry(e.lot_id(), e.expires_on(), /*expired=*/true,
                        /*alerted=*/false, batch);
    }
    case v1::Event::kExpiryThresholdCrossed: {
      const v1::ExpiryThresholdCrossed& e = event.expiry_threshold_crossed();
      if (!lots::IsValidDate(e.expires_on()) ||
          !lots::IsValidDate(e.evaluated_on())) {
        return absl::OkStatus();
      }
      const bool early = lots::ToCivilDay(e.expires_on()) -
                             lots::ToCivilDay(e.evaluated_on()) >=
                         kAlertedDays;
      if (!early) return absl::OkStatus();
      return FoldExpiry(e.lot_id(), e.expires_on(), /*expired=*/false,
                        /*alerted=*/true, batch);
    }
    default:
      break;
  }
  const std::string recall_id = RecallIdOf(event);
  if (recall_id.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::optional<v1::Recall> recall,
                   projection::ParseStored<v1::Recall>(
                       batch.Get(kRecalls, recall_id), "recall"));
  if (!recall.has_value()) recall.emplace();
  recall::Evolve(*recall, event);
  batch.Put(kRecalls, recall_id, recall->SerializeAsString());
  return absl::OkStatus();
}

absl::StatusOr<UnitCostHistory> LoadUnitCosts(
    const projection::ProjectionStore& store, std::string_view item) {
  UnitCostHistory history;
  absl::Status inner;
  RETURN_IF_ERROR(store.Scan(
      kUnitCosts, Join(item, ""), "",
      [&](std::string_view, std::string_view value) {
        v1::UnitCostSet c;
        if (!c.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          inner = absl::DataLossError("stored unit cost cannot be decoded");
          return false;
        }
        FoldUnitCost(history, c);
        return true;
      }));
  RETURN_IF_ERROR(inner);
  return history;
}

absl::Status AddValueKpis(const InventoryQueries& queries,
                          const v1::GetKpisRequest& req, const v1::Date& today,
                          int32_t period, v1::GetKpisResponse& resp) {
  const projection::ProjectionStore& store = queries.store();
  const absl::CivilDay to = lots::ToCivilDay(today);
  const absl::CivilDay from = to - (period - 1);
  const std::string from_key = DateKey(lots::FromCivilDay(from));
  const std::string to_key = DateKey(today);

  struct Values {
    UnitCostHistory history;
    int64_t received = 0, expired_written_off = 0;
    std::map<std::pair<std::string, int>, int64_t> written_off;
  };
  std::map<std::string, Values> by_item;
  for (const v1::ItemKpis& k : resp.items()) {
    ASSIGN_OR_RETURN(by_item[k.item()].history, LoadUnitCosts(store, k.item()));
  }
  absl::Status inner;
  RETURN_IF_ERROR(queries.ScanActivity(
      req.item(), req.region_id(), from_key, to_key,
      [&](std::string_view item, std::string_view day, std::string_view kind,
          int64_t amount) {
        auto it = by_item.find(std::string(item));
        if (it == by_item.end() || !inner.ok()) return;
        Values& v = it->second;
        v1::Date date;
        date.set_year(std::stoi(std::string(day.substr(0, 4))));
        date.set_month(std::stoi(std::string(day.substr(4, 2))));
        date.set_day(std::stoi(std::string(day.substr(6, 2))));
        const v1::UnitCostSet* c = CostOn(v.history, date);
        if (c == nullptr) return;
        const int64_t micros = c->unit_cost().micros();
        if (kind == "recv") {
          inner.Update(AddProduct(&v.received, amount, micros));
        } else if (kind.substr(0, 6) == "scrap.") {
          int reason = 0;
          if (!absl::SimpleAtoi(std::string(kind.substr(6)), &reason)) return;
          const std::string month =
              absl::StrFormat("%04d-%02d", date.year(), date.month());
          inner.Update(
              AddProduct(&v.written_off[{month, reason}], amount, micros));
          if (reason == v1::SCRAP_REASON_EXPIRED) {
            inner.Update(AddProduct(&v.expired_written_off, amount, micros));
          }
        }
      }));
  RETURN_IF_ERROR(inner);

  for (v1::ItemKpis& k : *resp.mutable_items()) {
    Values& v = by_item[k.item()];
    if (v.history.empty()) continue;
    const std::string& currency = v.history[0].unit_cost().currency();
    const v1::UnitCostSet* now = CostOn(v.history, today);
    if (now != nullptr) {
      *k.mutable_unit_cost() = now->unit_cost();
      for (const v1::ThresholdQuantity& q : k.near_expiry()) {
        v1::ThresholdValue* tv = k.add_near_expiry_value();
        tv->set_threshold_days(q.threshold_days());
        int64_t value = 0;
        RETURN_IF_ERROR(
            AddProduct(&value, q.amount(), now->unit_cost().micros()));
        *tv->mutable_value() = MoneyOf(currency, value);
      }
      int64_t expired = 0;
      RETURN_IF_ERROR(
          AddProduct(&expired, k.expired(), now->unit_cost().micros()));
      *k.mutable_expired_value() = MoneyOf(currency, expired);
    }
    for (const auto& [key, micros] : v.written_off) {
      v1::MonthlyValue* m = k.add_written_off();
      m->set_month(key.first);
      m->set_reason(static_cast<v1::ScrapReason>(key.second));
      *m->mutable_value() = MoneyOf(currency, micros);
    }
    *k.mutable_received_value() = MoneyOf(currency, v.received);
    *k.mutable_expired_written_off() = MoneyOf(currency, v.expired_written_off);
    if (v.received > 0) {
      k.set_expiry_loss_rate(static_cast<double>(v.expired_written_off) /
                             static_cast<double>(v.received));
    }
  }

  // Lots that reached their expiry in the period with stock, and those
  // alerted at least 90 days before it.
  int32_t expired = 0, alerted = 0;
  RETURN_IF_ERROR(store.Scan(
      kExpiries, "", "", [&](std::string_view key, std::string_view flags) {
        const std::string_view day = key.substr(0, 8);
        if (day < from_key) return true;
        if (day > to_key) return false;
        const std::string_view lot_id =
            key.substr(std::min<size_t>(9, key.size()));
        if (!req.item().empty() && ItemOfLotId(lot_id) != req.item()) {
          return true;
        }
        if (flags.size() != 2 || flags[0] != 'E') return true;
        ++expired;
        if (flags[1] == 'A') ++alerted;
        return true;
      }));
  resp.set_lots_expired(expired);
  resp.set_lots_alerted_90_days(alerted);
  if (expired > 0) {
    resp.set_alerted_90_days_share(static_cast<double>(alerted) /
                                   static_cast<double>(expired));
  }

  // Recalls initiated in the period (of `item`'s lots, when given).
  std::vector<v1::Recall> recalls;
  RETURN_IF_ERROR(store.Scan(
      kRecalls, "", "", [&](std::string_view, std::string_view value) {
        v1::Recall r;
        if (!r.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          inner = absl::DataLossError("stored recall cannot be decoded");
          return false;
        }
        if (!r.has_initiated_at()) return true;
        const std::string day = DateKey(DayOf(r.initiated_at()));
        if (day < from_key || day > to_key) return true;
        if (!req.item().empty() &&
            std::none_of(r.scope().begin(), r.scope().end(),
                         [&](const v1::ScopedLot& l) {
                           return l.item() == req.item();
                         })) {
          return true;
        }
        recalls.push_back(std::move(r));
        return true;
      }));
  RETURN_IF_ERROR(inner);
  for (const v1::Recall& r : recalls) {
    ASSIGN_OR_RETURN(*resp.add_recalls(),
                     RecallKpisOf(queries, store, r, today));
  }
  return absl::OkStatus();
}

}  // namespace lotledger::inventory
