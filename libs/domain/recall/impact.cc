#include "libs/domain/recall/impact.h"

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/common/proto_time.h"
#include "libs/common/status_macros.h"
#include "libs/domain/serials/serials.h"

namespace lotledger::recall {
namespace {

void SetPercent(v1::Recovery& r) {
  r.set_outstanding(r.distributed() - r.recovered());
  r.set_percent(r.distributed() == 0
                    ? 100.0
                    : 100.0 * static_cast<double>(r.recovered()) /
                          static_cast<double>(r.distributed()));
}

void Add(v1::Recovery& to, const v1::Recovery& from) {
  to.set_distributed(to.distributed() + from.distributed());
  to.set_returned(to.returned() + from.returned());
  to.set_destroyed(to.destroyed() + from.destroyed());
  to.set_recovered(to.recovered() + from.recovered());
}

constexpr int kMaxImpactPage = 10000;
constexpr char kTokenTag[] = "impact1:";

bool Paged(v1::ImpactView view) {
  return view == v1::IMPACT_VIEW_SUMMARY || view == v1::IMPACT_VIEW_LOTS ||
         view == v1::IMPACT_VIEW_CUSTOMERS;
}

// Reads the number before the next ':' of `*rest` and drops both.
bool TakeNumber(std::string_view* rest, int64_t* out) {
  const size_t colon = rest->find(':');
  if (colon == std::string_view::npos ||
      !absl::SimpleAtoi(Sv(rest->substr(0, colon)), out)) {
    return false;
  }
  rest->remove_prefix(colon + 1);
  return true;
}

// Totals and on_hand_by_location of `full` into `out`.
void CopyTotals(const v1::RecallImpact& full, v1::RecallImpact* out) {
  *out->mutable_on_hand_by_location() = full.on_hand_by_location();
  out->set_lots_in_scope(full.lots_in_scope());
  out->set_lots_distributed(full.lots_distributed());
  out->set_customers_affected(full.customers_affected());
  out->set_distributed(full.distributed());
  out->set_returned(full.returned());
  out->set_outstanding(full.outstanding());
  out->set_on_hand(full.on_hand());
}

}  // namespace

absl::StatusOr<ImpactSlice> ImpactSliceOf(const v1::AnalyzeImpactRequest& req) {
  ImpactSlice slice;
  if (!v1::ImpactView_IsValid(req.view())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "view: unknown value ", req.view(),
        "; IMPACT_VIEW_FULL, IMPACT_VIEW_SUMMARY, IMPACT_VIEW_LOTS or "
        "IMPACT_VIEW_CUSTOMERS"));
  }
  slice.view = req.view() == v1::IMPACT_VIEW_UNSPECIFIED ? v1::IMPACT_VIEW_FULL
                                                         : req.view();
  if (req.page_size() < 0 || req.page_size() > kMaxImpactPage) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size: must be 0..", kMaxImpactPage, " (0: all)"));
  }
  if (!Paged(slice.view)) {
    if (req.page_size() != 0 || !req.page_token().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          req.page_size() != 0 ? "page_size" : "page_token",
          ": IMPACT_VIEW_FULL is not paged; page the lot rows with "
          "IMPACT_VIEW_LOTS and the customers with IMPACT_VIEW_CUSTOMERS"));
    }
    return slice;
  }
  slice.limit = req.page_size();
  if (req.page_token().empty()) return slice;
  const auto malformed = [] {
    return absl::InvalidArgumentError(
        "page_token: not a next_page_token of AnalyzeImpact; pass the one "
        "the previous page returned, or none for the first page");
  };
  std::string raw;
  if (!absl::WebSafeBase64Unescape(req.page_token(), &raw) ||
      !raw.starts_with(kTokenTag)) {
    return malformed();
  }
  std::string_view rest(raw);
  rest.remove_prefix(sizeof(kTokenTag) - 1);
  int64_t view = 0, length = 0;
  if (!TakeNumber(&rest, &view) || !TakeNumber(&rest, &length) || length < 0 ||
      static_cast<size_t>(length) > rest.size() ||
      !v1::ImpactView_IsValid(static_cast<int>(view))) {
    return malformed();
  }
  const std::string_view recall_id = rest.substr(0, length);
  const std::string_view position = rest.substr(length);
  if (recall_id != req.recall_id()) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_token: a page of recall ", Sv(recall_id),
                     ", not of ", req.recall_id()));
  }
  if (view != slice.view) {
    return absl::InvalidArgumentError(absl::StrCat(
        "page_token: a page of ",
        v1::ImpactView_Name(static_cast<v1::ImpactView>(view)), ", not of ",
        v1::ImpactView_Name(slice.view), "; ask with the view it came from"));
  }
  if (slice.view == v1::IMPACT_VIEW_LOTS) {
    if (!absl::SimpleAtoi(Sv(position), &slice.first_lot) ||
        slice.first_lot < 0) {
      return malformed();
    }
  } else {
    if (position.empty()) return malformed();
    slice.after_customer.assign(position);
  }
  return slice;
}

std::string ImpactPageToken(std::string_view recall_id, v1::ImpactView view,
                            const ImpactNext& next) {
  if (!next.more) return "";
  return absl::WebSafeBase64Escape(absl::StrCat(
      kTokenTag, static_cast<int>(view), ":", recall_id.size(), ":",
      Sv(recall_id),
      view == v1::IMPACT_VIEW_LOTS ? absl::StrCat(next.lot) : next.customer));
}

void SliceImpact(const v1::RecallImpact& full, const ImpactSlice& slice,
                 v1::RecallImpact* out, ImpactNext* next) {
  out->Clear();
  *next = ImpactNext();
  if (slice.view == v1::IMPACT_VIEW_FULL) {
    *out = full;
    return;
  }
  CopyTotals(full, out);
  if (slice.view == v1::IMPACT_VIEW_LOTS) {
    const int64_t n = full.lots_size();
    const int64_t first = std::min(slice.first_lot, n);
    const int64_t end = slice.limit > 0 ? std::min(n, first + slice.limit) : n;
    for (int64_t i = first; i < end; ++i) *out->add_lots() = full.lots(i);
    if (end < n) {
      next->more = true;
      next->lot = end;
    }
    return;
  }
  const auto& cs = full.customers();
  auto it =
      std::upper_bound(cs.begin(), cs.end(), slice.after_customer,
                       [](const std::string& id, const v1::CustomerImpact& c) {
                         return id < c.customer().customer_id();
                       });
  for (; it != cs.end(); ++it) {
    if (slice.limit > 0 && out->customers_size() == slice.limit) {
      next->more = true;
      next->customer =
          out->customers(out->customers_size() - 1).customer().customer_id();
      break;
    }
    v1::CustomerImpact* c = out->add_customers();
    *c = *it;
    if (slice.view == v1::IMPACT_VIEW_SUMMARY) c->clear_lots();
  }
}

std::vector<std::string> AffectedCustomerIds(const ScopeList& scope,
                                             const NodeMap& nodes) {
  // Views into the nodes (which outlive the call), sorted once at the end.
  absl::flat_hash_set<std::string_view> ids;
  for (const v1::ScopedLot& s : scope) {
    auto it = nodes.find(s.lot_id());
    if (it == nodes.end()) continue;
    for (const v1::CustomerHolding& h : it->second->customers()) {
      if (h.shipped() > 0) ids.insert(h.customer_id());
    }
  }
  std::vector<std::string> out(ids.begin(), ids.end());
  std::sort(out.begin(), out.end());
  return out;
}

v1::RecallImpact ComputeImpact(const ScopeList& scope, const NodeMap& nodes,
                               const CustomerMap& customers) {
  v1::RecallImpact out;
  ComputeImpact(scope, nodes, customers, &out);
  return out;
}

void ComputeImpact(const ScopeList& scope, const NodeMap& nodes,
                   const CustomerMap& customers, v1::RecallImpact* out) {
  out->Clear();
  // Customers in first-seen order (index into out->customers()), sorted by
  // id at the end by moving pointers only.
  absl::flat_hash_map<std::string_view, int> customer_index;
  std::map<std::string, int64_t> by_location;
  static const v1::RecallLotNode kNever;
  out->mutable_lots()->Reserve(scope.size());
  for (const v1::ScopedLot& s : scope) {
    auto it = nodes.find(s.lot_id());
    const v1::RecallLotNode& node = it == nodes.end() ? kNever : *it->second;
    v1::LotImpact* lot = out->add_lots();
    *lot->mutable_lot() = s;
    int64_t shipped = 0, returned = 0;
    int customers_of_lot = 0;
    for (const v1::CustomerHolding& h : node.customers()) {
      if (h.shipped() <= 0) continue;
      ++customers_of_lot;
      shipped += h.shipped();
      returned += h.returned();
      auto [ci, fresh] =
          customer_index.emplace(h.customer_id(), out->customers_size());
      if (fresh) {
        v1::CustomerImpact* c = out->add_customers();
        auto known = customers.find(h.customer_id());
        if (known != customers.end()) {
          *c->mutable_customer() = known->second;
        } else {
          c->mutable_customer()->set_customer_id(h.customer_id());
        }
      }
      v1::CustomerImpact& c = *out->mutable_customers(ci->second);
      v1::CustomerLotImpact* line = c.add_lots();
      line->set_lot_id(s.lot_id());
      line->set_item(s.item());
      line->set_lot_number(s.lot_number());
      line->set_uom(s.uom());
      line->set_shipped(h.shipped());
      line->set_returned(h.returned());
      line->set_held(h.shipped() - h.returned());
      *line->mutable_last_shipped_on() = h.last_shipped_on();
      c.set_shipped(c.shipped() + h.shipped());
      c.set_returned(c.returned() + h.returned());
      c.set_held(c.held() + h.shipped() - h.returned());
    }
    lot->set_shipped(shipped);
    lot->set_returned(returned);
    lot->set_outstanding(shipped - returned);
    lot->set_on_hand(node.on_hand());
    *lot->mutable_stock() = node.stock();
    lot->set_customers(customers_of_lot);
    for (const v1::LocationStock& st : node.stock()) {
      by_location[st.location_id()] += st.amount();
    }
    out->set_distributed(out->distributed() + shipped);
    out->set_returned(out->returned() + returned);
    out->set_on_hand(out->on_hand() + node.on_hand());
    if (shipped > 0) out->set_lots_distributed(out->lots_distributed() + 1);
  }
  out->set_outstanding(out->distributed() - out->returned());
  out->set_lots_in_scope(scope.size());
  out->set_customers_affected(out->customers_size());
  auto* cs = out->mutable_customers();
  std::sort(cs->pointer_begin(), cs->pointer_end(),
            [](const v1::CustomerImpact* a, const v1::CustomerImpact* b) {
              return a->customer().customer_id() < b->customer().customer_id();
            });
  for (v1::CustomerImpact& c : *cs) {
    // Lines were added in scope order; sort the pointers by lot id.
    std::sort(
        c.mutable_lots()->pointer_begin(), c.mutable_lots()->pointer_end(),
        [](const v1::CustomerLotImpact* a, const v1::CustomerLotImpact* b) {
          return a->lot_id() < b->lot_id();
        });
  }
  for (const auto& [location, amount] : by_location) {
    if (amount == 0) continue;
    v1::LocationStock* st = out->add_on_hand_by_location();
    st->set_location_id(location);
    st->set_amount(amount);
  }
}

namespace {

// Keeps the elements of `field` for which keep(element) holds, in order.
template <typename T, typename Keep>
void KeepIf(google::protobuf::RepeatedPtrField<T>* field, Keep&& keep) {
  int w = 0;
  for (int r = 0; r < field->size(); ++r) {
    if (!keep(field->Get(r))) continue;
    if (w != r) field->SwapElements(w, r);
    ++w;
  }
  while (field->size() > w) field->RemoveLast();
}

// The totals and per-customer sums of `out` summed again from its rows.
void SumAgain(v1::RecallImpact* out) {
  std::map<std::string, int64_t> by_location;
  int64_t distributed = 0, returned = 0, on_hand = 0;
  int32_t lots_distributed = 0;
  for (const v1::LotImpact& l : out->lots()) {
    distributed += l.shipped();
    returned += l.returned();
    on_hand += l.on_hand();
    if (l.shipped() > 0) ++lots_distributed;
    for (const v1::LocationStock& st : l.stock()) {
      by_location[st.location_id()] += st.amount();
    }
  }
  out->set_distributed(distributed);
  out->set_returned(returned);
  out->set_outstanding(distributed - returned);
  out->set_on_hand(on_hand);
  out->set_lots_distributed(lots_distributed);
  out->clear_on_hand_by_location();
  for (const auto& [location, amount] : by_location) {
    if (amount == 0) continue;
    v1::LocationStock* st = out->add_on_hand_by_location();
    st->set_location_id(location);
    st->set_amount(amount);
  }
  for (v1::CustomerImpact& c : *out->mutable_customers()) {
    KeepIf(c.mutable_lots(),
           [](const v1::CustomerLotImpact& l) { return l.shipped() > 0; });
    int64_t shipped = 0, back = 0;
    for (const v1::CustomerLotImpact& l : c.lots()) {
      shipped += l.shipped();
      back += l.returned();
    }
    c.set_shipped(shipped);
    c.set_returned(back);
    c.set_held(shipped - back);
  }
  KeepIf(out->mutable_customers(),
         [](const v1::CustomerImpact& c) { return !c.lots().empty(); });
  out->set_customers_affected(out->customers_size());
}

}  // namespace

void ApplySerialDetail(const ScopeList& scope, const SerialDetail& detail,
                       const CustomerMap& customers, v1::RecallImpact* out) {
  if (detail.empty()) return;
  // Where each serialised lot's customer lines are: (customer, line).
  absl::flat_hash_map<std::string_view, std::vector<std::pair<int, int>>>
      lines_of;
  absl::flat_hash_map<std::string, int> customer_index;
  for (int i = 0; i < out->customers_size(); ++i) {
    const v1::CustomerImpact& c = out->customers(i);
    customer_index.emplace(c.customer().customer_id(), i);
    for (int j = 0; j < c.lots_size(); ++j) {
      if (detail.contains(c.lots(j).lot_id())) {
        lines_of[c.lots(j).lot_id()].emplace_back(i, j);
      }
    }
  }
  bool restricted = false;
  bool added = false;
  for (int row = 0; row < scope.size() && row < out->lots_size(); ++row) {
    const v1::ScopedLot& s = scope.Get(row);
    auto d = detail.find(s.lot_id());
    if (d == detail.end()) continue;
    const bool by_serial = !s.serials().empty();
    absl::flat_hash_set<std::string> in_scope;
    if (by_serial) {
      const std::vector<std::string> list = domain::SerialsOf(s.serials());
      in_scope.insert(list.begin(), list.end());
      restricted = true;
    }
    const auto counts = [&](const std::string& serial) {
      return !by_serial || in_scope.contains(serial);
    };
    struct Line {
      int64_t shipped = 0, returned = 0, used = 0;
      std::vector<std::string> held;
      bool seen = false;
    };
    std::map<std::string, Line> by_customer;
    for (const SerialHoldingRow& h : d->second.holdings) {
      if (!counts(h.serial)) continue;
      Line& l = by_customer[h.customer_id];
      l.shipped += h.shipped;
      l.returned += h.returned;
      if (h.shipped > h.returned) {
        l.held.push_back(h.serial);
        if (h.used) ++l.used;
      }
    }
    const auto fill = [&](Line& l, v1::CustomerLotImpact* line) {
      l.seen = true;
      std::sort(l.held.begin(), l.held.end());
      if (by_serial) {
        line->set_shipped(l.shipped);
        line->set_returned(l.returned);
        line->set_held(l.shipped - l.returned);
      }
      *line->mutable_serials() = domain::CompressSerials(l.held);
      line->set_used(l.used);
      line->set_unused(static_cast<int64_t>(l.held.size()) - l.used);
    };
    static const std::vector<std::pair<int, int>> kNoLines;
    auto at = lines_of.find(s.lot_id());
    for (const auto& [i, j] : at == lines_of.end() ? kNoLines : at->second) {
      v1::CustomerImpact* c = out->mutable_customers(i);
      Line& l = by_customer[c->customer().customer_id()];
      fill(l, c->mutable_lots(j));
    }
    // A customer the serials know and the lot's holdings do not (none
    // while both are folded from the same events) gains a line.
    for (auto& [customer_id, l] : by_customer) {
      if (l.seen || l.shipped <= 0) continue;
      auto [ci, fresh] =
          customer_index.emplace(customer_id, out->customers_size());
      if (fresh) {
        v1::CustomerImpact* c = out->add_customers();
        auto known = customers.find(customer_id);
        if (known != customers.end()) {
          *c->mutable_customer() = known->second;
        } else {
          c->mutable_customer()->set_customer_id(customer_id);
        }
      }
      v1::CustomerLotImpact* line =
          out->mutable_customers(ci->second)->add_lots();
      line->set_lot_id(s.lot_id());
      line->set_item(s.item());
      line->set_lot_number(s.lot_number());
      line->set_uom(s.uom());
      line->set_shipped(l.shipped);
      line->set_returned(l.returned);
      line->set_held(l.shipped - l.returned);
      fill(l, line);
      added = true;
    }
    v1::LotImpact* lot = out->mutable_lots(row);
    int64_t used = 0, unused = 0;
    for (const auto& [customer_id, l] : by_customer) {
      used += l.used;
      unused += static_cast<int64_t>(l.held.size()) - l.used;
    }
    lot->set_used(used);
    lot->set_unused(unused);
    if (!by_serial) continue;
    if (&lot->lot() != &s) *lot->mutable_lot() = s;
    int64_t shipped = 0, returned = 0;
    int32_t customers_of_lot = 0;
    for (const auto& [customer_id, l] : by_customer) {
      shipped += l.shipped;
      returned += l.returned;
      if (l.shipped > 0) ++customers_of_lot;
    }
    lot->set_shipped(shipped);
    lot->set_returned(returned);
    lot->set_outstanding(shipped - returned);
    lot->set_customers(customers_of_lot);
    std::map<std::string, int64_t> stock;
    int64_t on_hand = 0;
    for (const SerialStockRow& st : d->second.stock) {
      if (!counts(st.serial)) continue;
      ++stock[st.location_id];
      ++on_hand;
    }
    lot->set_on_hand(on_hand);
    lot->clear_stock();
    for (const auto& [location, amount] : stock) {
      v1::LocationStock* st = lot->add_stock();
      st->set_location_id(location);
      st->set_amount(amount);
    }
  }
  if (added) {
    auto* cs = out->mutable_customers();
    std::sort(cs->pointer_begin(), cs->pointer_end(),
              [](const v1::CustomerImpact* a, const v1::CustomerImpact* b) {
                return a->customer().customer_id() <
                       b->customer().customer_id();
              });
    for (v1::CustomerImpact& c : *cs) {
      std::sort(
          c.mutable_lots()->pointer_begin(), c.mutable_lots()->pointer_end(),
          [](const v1::CustomerLotImpact* a, const v1::CustomerLotImpact* b) {
            return a->lot_id() < b->lot_id();
          });
    }
  }
  if (restricted || added) SumAgain(out);
}

std::vector<std::string> UnansweredCustomers(const v1::Recall& recall,
                                             const v1::RecallImpact& impact) {
  std::set<std::string> answered;
  for (const v1::CustomerResponse& r : recall.responses()) {
    answered.insert(r.response().customer_id());
  }
  std::vector<std::string> out;
  for (const v1::CustomerImpact& c : impact.customers()) {
    if (!answered.contains(c.customer().customer_id())) {
      out.push_back(c.customer().customer_id());
    }
  }
  return out;
}

v1::Effectiveness ComputeEffectiveness(const v1::Recall& recall,
                                       const v1::RecallImpact& impact,
                                       const google::protobuf::Timestamp& now,
                                       int unanswered_after_days) {
  v1::Effectiveness out;
  *out.mutable_as_of() = now;
  out.set_unanswered_after_days(unanswered_after_days);
  // Destroyed per customer and lot, and each customer's answers.
  struct Answers {
    bool acknowledged = false;
    bool nothing_found = false;
    int64_t reported_returned = 0;
    std::map<std::string, int64_t> destroyed;
    const google::protobuf::Timestamp* last = nullptr;
  };
  std::unordered_map<std::string, Answers> answers;
  for (const v1::CustomerResponse& cr : recall.responses()) {
    const v1::RecallResponseRecorded& r = cr.response();
    Answers& a = answers[r.customer_id()];
    a.acknowledged = a.acknowledged || r.acknowledged();
    a.nothing_found = a.nothing_found || r.nothing_found();
    for (const v1::RecallResponseLine& l : r.lines()) {
      a.reported_returned += l.returned();
      a.destroyed[l.lot_id()] += l.destroyed();
    }
    a.last = &cr.recorded_at();
  }
  std::unordered_map<std::string, const v1::RecallNotification*> notified;
  for (const v1::RecallNotification& n : recall.notifications()) {
    notified.emplace(n.notice().customer().customer_id(), &n);
  }
  std::unordered_map<std::string, v1::Recovery> by_lot;
  const absl::Time at = FromTimestamp(now);
  for (const v1::CustomerImpact& c : impact.customers()) {
    const std::string& id = c.customer().customer_id();
    v1::CustomerEffectiveness* ce = out.add_customers();
    *ce->mutable_customer() = c.customer();
    auto a = answers.find(id);
    for (const v1::CustomerLotImpact& l : c.lots()) {
      v1::Recovery r;
      r.set_distributed(l.shipped());
      r.set_returned(l.returned());
      if (a != answers.end()) {
        auto d = a->second.destroyed.find(l.lot_id());
        if (d != a->second.destroyed.end()) r.set_destroyed(d->second);
      }
      r.set_recovered(std::min(r.distributed(), r.returned() + r.destroyed()));
      Add(*ce->mutable_recovery(), r);
      Add(by_lot[l.lot_id()], r);
    }
    SetPercent(*ce->mutable_recovery());
    Add(*out.mutable_overall(), ce->recovery());
    auto n = notified.find(id);
    ce->set_notified(n != notified.end());
    if (ce->notified())
      out.set_customers_notified(out.customers_notified() + 1);
    if (a != answers.end()) {
      ce->set_answered(true);
      ce->set_acknowledged(a->second.acknowledged);
      ce->set_nothing_found(a->second.nothing_found);
      ce->set_reported_returned(a->second.reported_returned);
      *ce->mutable_last_answer_at() = *a->second.last;
      out.set_customers_answered(out.customers_answered() + 1);
    } else {
      const absl::Time since = FromTimestamp(
          n != notified.end() ? n->second->issued_at() : recall.initiated_at());
      const int64_t days =
          std::max<int64_t>(0, absl::ToInt64Hours(at - since) / 24);
      ce->set_days_without_answer(static_cast<int32_t>(days));
      if (days >= unanswered_after_days) out.add_unanswered_customer_ids(id);
    }
  }
  SetPercent(*out.mutable_overall());
  out.set_customers_affected(impact.customers_size());
  for (const v1::LotImpact& l : impact.lots()) {
    v1::LotEffectiveness* le = out.add_lots();
    le->set_lot_id(l.lot().lot_id());
    auto r = by_lot.find(l.lot().lot_id());
    if (r != by_lot.end()) *le->mutable_recovery() = r->second;
    SetPercent(*le->mutable_recovery());
  }
  return out;
}

}  // namespace lotledger::recall
