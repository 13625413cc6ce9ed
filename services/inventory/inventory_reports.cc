#include "services/inventory/inventory_reports.h"

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "libs/common/status_macros.h"
#include "libs/domain/inventory/fefo.h"
#include "libs/domain/inventory/gate.h"
#include "services/inventory/inventory_values.h"

namespace lotledger::inventory {
namespace {

std::string RowKey(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) {
    if (!out.empty()) out.push_back('\0');
    out.append(p.data(), p.size());
  }
  return out;
}

// The key after which a page starts ("" for the first page).
absl::StatusOr<std::string> PageStart(const std::string& token) {
  if (token.empty()) return std::string();
  std::string key;
  if (!absl::WebSafeBase64Unescape(token, &key) || key.empty()) {
    return absl::InvalidArgumentError(
        "page_token: not a token this query returned; pass next_page_token "
        "as it came");
  }
  return key;
}

std::string PageToken(const std::string& key) {
  std::string token;
  absl::WebSafeBase64Escape(key, &token);
  return token;
}

// Sorts `rows` by key, keeps those after `start` up to `limit`; returns the
// next page token ("" on the last page).
template <typename Row>
std::string Paginate(std::vector<std::pair<std::string, Row>>& rows,
                     const std::string& start, int limit,
                     std::vector<Row>* page) {
  std::sort(rows.begin(), rows.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  auto it = start.empty()
                ? rows.begin()
                : std::upper_bound(rows.begin(), rows.end(), start,
                                   [](const std::string& k, const auto& r) {
                                     return k < r.first;
                                   });
  for (; it != rows.end() && static_cast<int>(page->size()) < limit; ++it) {
    page->push_back(it->second);
  }
  return it == rows.end() || page->empty() ? "" : PageToken((it - 1)->first);
}

v1::Quantity Amount(int64_t amount, const std::string& uom) {
  v1::Quantity q;
  q.set_amount(amount);
  q.set_uom(uom);
  return q;
}

const v1::Location* FindIn(const LocationMap& all, const std::string& id) {
  auto it = all.find(id);
  return it == all.end() ? nullptr : &it->second;
}

absl::Status CheckLocation(const LocationMap& all, const std::string& id,
                           const char* what) {
  if (id.empty() || all.contains(id)) return absl::OkStatus();
  return absl::NotFoundError(absl::StrCat(what, " ", id, " does not exist"));
}

absl::StatusOr<std::vector<v1::LotInventory>> LoadUnique(
    const InventoryQueries& queries, std::vector<std::string> ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return queries.LoadLots(ids);
}

absl::CivilDay Civil(const v1::Date& d) {
  return absl::CivilDay(d.year(), d.month(), d.day());
}

std::string DayKey(absl::CivilDay d) {
  return absl::StrFormat("%04d%02d%02d", d.year(), d.month(), d.day());
}

// The product's alert thresholds, positive, largest first.
std::vector<int32_t> Thresholds(const v1::Product* product) {
  std::vector<int32_t> out;
  if (product == nullptr) return out;
  for (int32_t t : product->policy().alert_thresholds_days()) {
    if (t > 0) out.push_back(t);
  }
  std::sort(out.begin(), out.end(), std::greater<>());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

const v1::Product* ProductOf(const std::map<std::string, v1::Product>& all,
                             const std::string& item) {
  auto it = all.find(item);
  return it == all.end() ? nullptr : &it->second;
}

}  // namespace

absl::StatusOr<int> PageSize(int32_t requested) {
  if (requested < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size: cannot be negative, got ", requested));
  }
  if (requested == 0) return kDefaultPageSize;
  return std::min<int>(requested, kMaxPageSize);
}

absl::StatusOr<v1::AllocateFefoResponse> AllocateFefoFromStock(
    const InventoryQueries& queries, const v1::AllocateFefoRequest& req,
    const v1::Date& today, const v1::CustomerRecord* registered,
    const std::function<absl::Status(v1::LotInventory&)>& adjust_lot) {
  ASSIGN_OR_RETURN(InventoryQueries::LocationsLease locations,
                   queries.LeaseLocations());
  ASSIGN_OR_RETURN(std::optional<v1::Product> product,
                   queries.FindProduct(req.item()));
  ASSIGN_OR_RETURN(
      FefoAllocator allocator,
      FefoAllocator::Create(req, locations.map(),
                            product.has_value() ? &*product : nullptr, today,
                            registered));
  // Limited to a location within one region: the index's facts tell
  // which lots have no stock there, so those are passed over unread.
  std::string region;
  if (!req.from_location_id().empty()) {
    auto from = locations.map().find(req.from_location_id());
    if (from != locations.map().end()) region = from->second.region_id();
  }
  std::string after;
  bool consistent = true;
  bool jumped = false;
  absl::Status inner;
  while (consistent) {
    bool restart = false;
    RETURN_IF_ERROR(queries.ScanFefoCandidates(
        req.item(), after,
        [&](const InventoryQueries::FefoCandidate& c) -> bool {
          if (!jumped && allocator.SkipsFull()) {
            // Lots expiring before this can only be skipped, and the skip
            // list is full: go straight to the first lot that may be
            // picked.
            jumped = true;
            const std::string jump =
                RowKey({req.item(),
                        DayKey(Civil(allocator.EarliestPickableExpiry()) - 1),
                        "\xff"});
            if (jump > c.key) {
              after = jump;
              restart = true;
              return false;
            }
          }
          after = std::string(c.key);
          if (!region.empty() && !c.InRegion(region)) return true;
          v1::LotInventory lot;
          if (c.has_facts) {
            if (!lot.ParseFromArray(c.lot.data(),
                                    static_cast<int>(c.lot.size()))) {
              inner = absl::DataLossError(
                  absl::StrCat("stock index entry of lot ", Sv(c.lot_id),
                               " cannot be decoded"));
              return false;
            }
          } else {
            absl::StatusOr<std::optional<v1::LotInventory>> found =
                queries.FindLot(c.lot_id);
            if (!found.ok()) {
              inner = found.status();
              return false;
            }
            if (!found->has_value()) {
              consistent = false;
              return false;
            }
            lot = **std::move(found);
          }
          // The lot as read must still sit where the index put it:
          // otherwise offering it could break FEFO order.
          if (lot.lot_id() != c.lot_id || lot.item() != req.item() ||
              ExpiryKey(lot) != c.expiry) {
            consistent = false;
            return false;
          }
          if (adjust_lot) {
            inner = adjust_lot(lot);
            if (!inner.ok()) return false;
          }
          return allocator.Offer(lot);
        }));
    RETURN_IF_ERROR(inner);
    if (!restart) break;
  }
  if (consistent) return std::move(allocator).Finish();
  v1::InventoryDecisionState state;
  *state.mutable_locations() = locations.map();
  RETURN_IF_ERROR(queries.LoadLotsOfItem(req.item(), state.mutable_lots()));
  if (adjust_lot) {
    for (auto& [id, lot] : *state.mutable_lots()) {
      RETURN_IF_ERROR(adjust_lot(lot));
    }
  }
  if (product.has_value()) (*state.mutable_products())[req.item()] = *product;
  if (registered != nullptr) {
    *(*state.mutable_customers())[req.customer().customer_id()]
         .mutable_customer() = *registered;
  }
  return inventory::AllocateFefo(state, req, today);
}

absl::StatusOr<v1::ListStockResponse> ListStock(
    const InventoryQueries& queries, const v1::ListStockRequest& req) {
  if (req.lot_id().empty() && req.location_id().empty() && req.item().empty() &&
      req.region_id().empty()) {
    return absl::InvalidArgumentError(
        "lot_id, location_id, item, region_id: give at least one");
  }
  if (req.exclude_children() && req.location_id().empty()) {
    return absl::InvalidArgumentError("exclude_children: needs location_id");
  }
  ASSIGN_OR_RETURN(const int limit, PageSize(req.page_size()));
  ASSIGN_OR_RETURN(const std::string start, PageStart(req.page_token()));
  LocationMap all;
  RETURN_IF_ERROR(queries.LoadLocations(&all));
  RETURN_IF_ERROR(CheckLocation(all, req.location_id(), "location"));
  RETURN_IF_ERROR(CheckLocation(all, req.region_id(), "region"));

  // The narrowest index that covers the filters.
  std::vector<std::string> ids;
  if (!req.lot_id().empty()) {
    ids.push_back(req.lot_id());
  } else if (!req.item().empty()) {
    ASSIGN_OR_RETURN(ids, queries.StockedLotsOfItem(req.item()));
  } else {
    for (const auto& [id, location] : all) {
      if (!IsStockLocation(location)) continue;
      const bool in_scope =
          !req.location_id().empty()
              ? (req.exclude_children() ? id == req.location_id()
                                        : IsUnder(all, id, req.location_id()))
              : location.region_id() == req.region_id();
      if (!in_scope) continue;
      ASSIGN_OR_RETURN(std::vector<std::string> here,
                       queries.StockedLotsAt(id));
      ids.insert(ids.end(), here.begin(), here.end());
    }
  }
  ASSIGN_OR_RETURN(std::vector<v1::LotInventory> lots,
                   LoadUnique(queries, std::move(ids)));

  std::vector<std::pair<std::string, v1::StockRow>> rows;
  std::map<std::string, v1::Quantity> totals;
  for (const v1::LotInventory& lot : lots) {
    if (!req.item().empty() && lot.item() != req.item()) continue;
    const std::string expiry = ExpiryKey(lot);
    for (const v1::LocationStock& s : lot.stock()) {
      if (s.amount() <= 0) continue;
      const v1::Location* at = FindIn(all, s.location_id());
      if (!req.location_id().empty()) {
        if (req.exclude_children()
                ? s.location_id() != req.location_id()
                : !IsUnder(all, s.location_id(), req.location_id())) {
          continue;
        }
      }
      if (!req.region_id().empty() &&
          (at == nullptr || at->region_id() != req.region_id())) {
        continue;
      }
      v1::StockRow row;
      row.set_lot_id(lot.lot_id());
      row.set_item(lot.item());
      row.set_lot_number(lot.lot_number());
      row.set_location_id(s.location_id());
      if (at != nullptr) row.set_region_id(at->region_id());
      *row.mutable_quantity() = Amount(s.amount(), lot.uom());
      if (HasExpiry(lot)) *row.mutable_expires_on() = lot.expires_on();
      row.set_disposition(lot.disposition());
      row.set_recalled(lot.recalled());
      row.set_quarantine(at != nullptr && at->quarantine());
      v1::Quantity& total = totals[lot.item()];
      total.set_amount(total.amount() + s.amount());
      if (total.uom().empty()) total.set_uom(lot.uom());
      rows.emplace_back(
          RowKey({lot.item(), expiry, lot.lot_id(), s.location_id()}),
          std::move(row));
    }
  }
  v1::ListStockResponse resp;
  std::vector<v1::StockRow> page;
  resp.set_next_page_token(Paginate(rows, start, limit, &page));
  for (v1::StockRow& r : page) *resp.add_rows() = std::move(r);
  for (const auto& [item, total] : totals) {
    v1::ItemTotal* t = resp.add_totals();
    t->set_item(item);
    *t->mutable_on_hand() = total;
  }
  return resp;
}

absl::StatusOr<v1::TraceLotDistributionResponse> TraceLotDistribution(
    const InventoryQueries& queries, const std::string& lot_id) {
  if (lot_id.empty()) return absl::InvalidArgumentError("lot_id: required");
  ASSIGN_OR_RETURN(std::optional<v1::LotInventory> lot,
                   queries.FindLot(lot_id));
  if (!lot.has_value()) {
    return absl::NotFoundError(absl::StrCat("lot ", lot_id, " does not exist"));
  }
  ASSIGN_OR_RETURN(v1::TraceLotDistributionResponse resp,
                   queries.Distribution(lot_id));
  *resp.mutable_on_hand() = lot->stock();
  *resp.mutable_scrapped() = Amount(lot->scrapped(), lot->uom());
  return resp;
}

absl::StatusOr<v1::NearExpiryReportResponse> NearExpiryReport(
    const InventoryQueries& queries, const v1::NearExpiryReportRequest& req,
    const v1::Date& today) {
  if (req.within_days() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "within_days: cannot be negative, got ", req.within_days()));
  }
  ASSIGN_OR_RETURN(const int limit, PageSize(req.page_size()));
  ASSIGN_OR_RETURN(const std::string start, PageStart(req.page_token()));
  LocationMap all;
  RETURN_IF_ERROR(queries.LoadLocations(&all));
  RETURN_IF_ERROR(CheckLocation(all, req.location_id(), "location"));
  RETURN_IF_ERROR(CheckLocation(all, req.region_id(), "region"));
  ASSIGN_OR_RETURN(const auto products, queries.LoadProducts());

  // The widest window any lot may use bounds the scan of the expiry index.
  int64_t widest = 0;
  if (req.expired_only()) {
    widest = 0;
  } else if (req.within_days() > 0) {
    widest = req.within_days();
  } else {
    for (const auto& [item, product] : products) {
      for (int32_t t : Thresholds(&product))
        widest = std::max<int64_t>(widest, t);
    }
  }
  const absl::CivilDay last = Civil(today) + widest;
  const std::string last_key = DayKey(last);
  std::vector<std::string> ids;
  RETURN_IF_ERROR(queries.ScanStockByExpiry(
      [&](std::string_view expiry, std::string_view lot_id) {
        if (expiry > last_key || expiry == "99999999") return false;
        ids.emplace_back(lot_id);
        return true;
      }));
  ASSIGN_OR_RETURN(std::vector<v1::LotInventory> lots,
                   LoadUnique(queries, std::move(ids)));

  std::vector<std::pair<std::string, v1::NearExpiryRow>> rows;
  for (const v1::LotInventory& lot : lots) {
    if (!HasExpiry(lot)) continue;
    if (!req.item().empty() && lot.item() != req.item()) continue;
    const v1::Product* product = ProductOf(products, lot.item());
    const std::vector<int32_t> thresholds = Thresholds(product);
    const int64_t window =
        req.expired_only()
            ? 0
            : (req.within_days() > 0
                   ? req.within_days()
                   : (thresholds.empty() ? 0 : thresholds.front()));
    const int64_t left = DaysLeft(lot.expires_on(), today);
    if (left > window) continue;
    int32_t crossed = 0;
    if (left > 0) {
      for (int32_t t : thresholds) {
        if (left <= t) crossed = t;  // largest first: ends at the smallest
      }
    }
    for (const v1::LocationStock& s : lot.stock()) {
      if (s.amount() <= 0) continue;
      const v1::Location* at = FindIn(all, s.location_id());
      if (!req.location_id().empty() &&
          !IsUnder(all, s.location_id(), req.location_id())) {
        continue;
      }
      if (!req.region_id().empty() &&
          (at == nullptr || at->region_id() != req.region_id())) {
        continue;
      }
      v1::NearExpiryRow row;
      row.set_lot_id(lot.lot_id());
      row.set_item(lot.item());
      row.set_lot_number(lot.lot_number());
      *row.mutable_expires_on() = lot.expires_on();
      row.set_days_left(static_cast<int32_t>(left));
      row.set_location_id(s.location_id());
      if (at != nullptr) row.set_region_id(at->region_id());
      *row.mutable_quantity() = Amount(s.amount(), lot.uom());
      row.set_threshold_days(crossed);
      rows.emplace_back(RowKey({ExpiryKey(lot), lot.lot_id(), s.location_id()}),
                        std::move(row));
    }
  }
  v1::NearExpiryReportResponse resp;
  std::vector<v1::NearExpiryRow> page;
  resp.set_next_page_token(Paginate(rows, start, limit, &page));
  for (v1::NearExpiryRow& r : page) *resp.add_rows() = std::move(r);
  *resp.mutable_as_of() = today;
  return resp;
}

absl::StatusOr<v1::GetKpisResponse> GetKpis(const InventoryQueries& queries,
                                            const v1::GetKpisRequest& req,
                                            const v1::Date& today) {
  if (req.period_days() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "period_days: cannot be negative, got ", req.period_days()));
  }
  const int32_t period = req.period_days() == 0 ? 90 : req.period_days();
  LocationMap all;
  RETURN_IF_ERROR(queries.LoadLocations(&all));
  RETURN_IF_ERROR(CheckLocation(all, req.region_id(), "region"));
  ASSIGN_OR_RETURN(const auto products, queries.LoadProducts());

  std::vector<std::string> ids;
  if (!req.item().empty()) {
    ASSIGN_OR_RETURN(ids, queries.StockedLotsOfItem(req.item()));
  } else {
    RETURN_IF_ERROR(queries.ScanStockByExpiry(
        [&](std::string_view, std::string_view lot_id) {
          ids.emplace_back(lot_id);
          return true;
        }));
  }
  ASSIGN_OR_RETURN(std::vector<v1::LotInventory> lots,
                   LoadUnique(queries, std::move(ids)));

  struct Acc {
    v1::ItemKpis kpis;
    std::map<int32_t, int64_t> near;  // threshold -> amount
    std::map<int, int64_t> scrap;     // reason -> amount
  };
  std::map<std::string, Acc> by_item;
  auto entry = [&](const std::string& item) -> Acc& {
    auto [it, added] = by_item.try_emplace(item);
    if (added) {
      it->second.kpis.set_item(item);
      const v1::Product* product = ProductOf(products, item);
      if (product != nullptr) it->second.kpis.set_uom(product->uom());
      for (int32_t t : Thresholds(product)) it->second.near[t] = 0;
    }
    return it->second;
  };
  for (const v1::LotInventory& lot : lots) {
    if (lot.item().empty()) continue;
    if (!req.item().empty() && lot.item() != req.item()) continue;
    const bool expires = HasExpiry(lot);
    const int64_t left = expires ? DaysLeft(lot.expires_on(), today)
                                 : std::numeric_limits<int64_t>::max();
    for (const v1::LocationStock& s : lot.stock()) {
      if (s.amount() <= 0) continue;
      if (!req.region_id().empty()) {
        const v1::Location* at = FindIn(all, s.location_id());
        if (at == nullptr || at->region_id() != req.region_id()) continue;
      }
      Acc& acc = entry(lot.item());
      if (acc.kpis.uom().empty()) acc.kpis.set_uom(lot.uom());
      acc.kpis.set_on_hand(acc.kpis.on_hand() + s.amount());
      if (left <= 0) {
        acc.kpis.set_expired(acc.kpis.expired() + s.amount());
        continue;
      }
      for (auto& [t, amount] : acc.near) {
        if (left <= t) amount += s.amount();
      }
    }
  }
  const absl::CivilDay to = Civil(today);
  const absl::CivilDay from = to - (period - 1);
  RETURN_IF_ERROR(queries.ScanActivity(
      req.item(), req.region_id(), DayKey(from), DayKey(to),
      [&](std::string_view item, std::string_view, std::string_view kind,
          int64_t amount) {
        Acc& acc = entry(std::string(item));
        if (kind == "ship") {
          acc.kpis.set_shipped(acc.kpis.shipped() + amount);
        } else if (absl::StartsWith(Sv(kind), "scrap.")) {
          int reason = 0;
          if (absl::SimpleAtoi(Sv(kind.substr(6)), &reason)) {
            acc.scrap[reason] += amount;
          }
        }
      }));

  v1::GetKpisResponse resp;
  *resp.mutable_as_of() = today;
  resp.set_period_days(period);
  for (auto& [item, acc] : by_item) {
    v1::ItemKpis& k = acc.kpis;
    for (auto it = acc.near.rbegin(); it != acc.near.rend(); ++it) {
      v1::ThresholdQuantity* q = k.add_near_expiry();
      q->set_threshold_days(it->first);
      q->set_amount(it->second);
    }
    for (const auto& [reason, amount] : acc.scrap) {
      v1::ScrapQuantity* q = k.add_scrapped();
      q->set_reason(static_cast<v1::ScrapReason>(reason));
      q->set_amount(amount);
    }
    if (k.shipped() > 0) {
      k.set_turnover_days(static_cast<double>(k.on_hand()) * period /
                          static_cast<double>(k.shipped()));
    }
    *resp.add_items() = std::move(k);
  }
  RETURN_IF_ERROR(AddValueKpis(queries, req, today, period, resp));
  return resp;
}

}  // namespace lotledger::inventory
