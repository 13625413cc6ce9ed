#include "services/recall/recall_index.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"
#include "libs/common/wire.h"
#include "libs/domain/common/refusals.h"

namespace lotledger::recall {
namespace {

// The recall projection's families the index reads (recall_projection.h).
constexpr char kLots[] = "rc_lots";
constexpr char kCustomers[] = "rc_customers";

template <typename T>
size_t Bytes(const std::vector<T>& v) {
  return v.capacity() * sizeof(T);
}

// rc_made orders a product's lots by "%04d%02d%02d" of the manufacture date,
// then by id: for dates whose parts fit those widths (every date Decide
// accepts) that is the order of this number. -1 for any other.
int64_t DateOrder(int32_t year, int32_t month, int32_t day) {
  if (year < 0 || year > 9999 || month < 0 || month > 99 || day < 0 ||
      day > 99) {
    return -1;
  }
  return int64_t{year} * 10000 + month * 100 + day;
}

}  // namespace

uint32_t RecallIndex::Names::Intern(std::string_view name) {
  auto [it, added] =
      ids.try_emplace(std::string(name), static_cast<uint32_t>(names.size()));
  if (added) names.emplace_back(name);
  return it->second;
}

int64_t RecallIndex::Names::Find(std::string_view name) const {
  auto it = ids.find(Sv(name));
  return it == ids.end() ? -1 : static_cast<int64_t>(it->second);
}

size_t RecallIndex::Names::Bytes() const {
  size_t b = names.capacity() * sizeof(std::string);
  for (const std::string& n : names) {
    // Twice: the vector's copy and the map's key (short ones are inline).
    if (n.capacity() > 15) b += 2 * (n.capacity() + 1);
  }
  return b + ids.capacity() * (sizeof(std::pair<std::string, uint32_t>) + 1);
}

RecallIndex::RecallIndex()
    : customers_(1),
      customer_known_(1, 0),
      customer_folded_(1, 0),
      lots_of_item_(1) {}

std::string_view RecallIndex::IdOf(uint32_t lot) const {
  return ids_.Text(lot);
}

std::string_view RecallIndex::LotNumberOf(uint32_t lot) const {
  if (flags_[lot] & kNumberFromId) {
    return IdOf(lot).substr(items_.names[item_[lot]].size() + 1);
  }
  auto it = odd_numbers_.find(lot);
  return it == odd_numbers_.end() ? std::string_view() : it->second;
}

std::span<const uint32_t> RecallIndex::ParentsOf(uint32_t lot) const {
  if (flags_[lot] & kOneParent) return std::span<const uint32_t>(&fwd_[lot], 1);
  if (flags_[lot] & kManyParents) return fwd_many_[fwd_[lot]];
  return {};
}

bool RecallIndex::AnyOfItems(const StoredScope& scope,
                             const std::vector<std::string>& items) const {
  absl::ReaderMutexLock l(&mu_);
  absl::flat_hash_set<uint32_t> wanted;
  for (const std::string& item : items) {
    const int64_t id = items_.Find(item);
    if (id >= 0) wanted.insert(static_cast<uint32_t>(id));
  }
  if (wanted.empty()) return false;
  for (const std::string_view id : scope.lot_ids) {
    const int64_t lot = Find(id);
    if (lot >= 0 && wanted.contains(item_[lot])) return true;
  }
  return false;
}

int64_t RecallIndex::Find(std::string_view lot_id) const {
  const std::optional<uint32_t> lot = ids_.Find(lot_id);
  return lot.has_value() ? static_cast<int64_t>(*lot) : -1;
}

absl::StatusOr<uint32_t> RecallIndex::Intern(std::string_view lot_id) {
  const uint32_t before = ids_.size();
  const std::optional<uint32_t> lot = ids_.Intern(lot_id);
  if (!lot.has_value()) {
    return absl::ResourceExhaustedError(
        "recall index: lot ids exceed 4 GiB; recall needs a larger index");
  }
  if (*lot < before) return *lot;
  flags_.push_back(0);
  item_.push_back(0);
  uom_.push_back(0);
  made_.emplace_back();
  expires_.emplace_back();
  fwd_.push_back(0);
  dist_of_.push_back(kNone);
  return *lot;
}

void RecallIndex::SetItem(uint32_t lot, uint32_t item, bool created) {
  const uint32_t old = item_[lot];
  const bool was_created = (flags_[lot] & kCreated) != 0;
  if (was_created && created && old == item) return;
  if (was_created) {
    std::vector<uint32_t>& of_old = lots_of_item_[old];
    auto it = std::find(of_old.begin(), of_old.end(), lot);
    if (it != of_old.end()) {
      *it = of_old.back();
      of_old.pop_back();
    }
  }
  item_[lot] = item;
  if (created) {
    if (lots_of_item_.size() <= item) lots_of_item_.resize(item + 1);
    lots_of_item_[item].push_back(lot);
    flags_[lot] |= kCreated;
  } else {
    flags_[lot] &= ~kCreated;
  }
}

void RecallIndex::SetNode(uint32_t lot, const v1::RecallLotNode& node) {
  const std::string& item = node.item();
  const std::string& number = node.lot_number();
  SetItem(lot, items_.Intern(item), node.created());
  const std::string_view id = IdOf(lot);
  const bool from_id = id.size() == item.size() + 1 + number.size() &&
                       id.starts_with(item) && id[item.size()] == ':' &&
                       id.ends_with(number);
  if (from_id) {
    flags_[lot] |= kNumberFromId;
    odd_numbers_.erase(lot);
  } else {
    flags_[lot] &= ~kNumberFromId;
    if (number.empty()) {
      odd_numbers_.erase(lot);
    } else {
      odd_numbers_[lot] = number;
    }
  }
  uom_[lot] = uoms_.Intern(node.uom());
  made_[lot] = {node.manufactured_on().year(), node.manufactured_on().month(),
                node.manufactured_on().day()};
  expires_[lot] = {node.expires_on().year(), node.expires_on().month(),
                   node.expires_on().day()};
  SetDistribution(lot, node);
}

void RecallIndex::SetDistribution(uint32_t lot, const v1::RecallLotNode& node) {
  if (dist_of_[lot] == kNone) {
    if (node.customers().empty() && node.stock().empty() &&
        node.on_hand() == 0) {
      return;
    }
    dist_of_[lot] = static_cast<uint32_t>(dists_.size());
    dists_.emplace_back();
  }
  Distribution& d = dists_[dist_of_[lot]];
  d.on_hand = node.on_hand();
  // The node's holdings unpacked. Both lists are sorted by customer id and
  // a node gains one customer at a time, so each customer is matched with
  // the lot's previous holding of it by a string compare, and interned
  // (hashed) only when new to the lot. Unsorted input only costs lookups.
  const uint32_t old_n = HoldingCount(d);
  auto old_customer = [&](uint32_t j) {
    return d.wide != kNone ? wide_[d.wide][j].customer
                           : PackedAt(d, j).customer;
  };
  std::vector<Holding>& now = unpacked_;
  now.clear();
  bool packs = true;
  uint32_t j = 0;
  for (const v1::CustomerHolding& h : node.customers()) {
    uint32_t customer = kNone;
    while (j < old_n) {
      const int order =
          customer_ids_.names[old_customer(j)].compare(h.customer_id());
      if (order < 0) {
        ++j;
        continue;
      }
      if (order == 0) customer = old_customer(j++);
      break;
    }
    if (customer == kNone) {
      customer = customer_ids_.Intern(h.customer_id());
      if (customers_.size() <= customer) {
        customers_.resize(customer + 1);
        customer_known_.resize(customer + 1, 0);
        customer_folded_.resize(customer + 1, 0);
      }
    }
    const v1::Date& last = h.last_shipped_on();
    now.push_back({customer,
                   {last.year(), last.month(), last.day()},
                   h.shipped(),
                   h.returned()});
    uint16_t date;
    packs = packs && PackDate(now.back().last_shipped_on, &date) &&
            h.shipped() >= std::numeric_limits<int32_t>::min() &&
            h.shipped() <= std::numeric_limits<int32_t>::max() &&
            h.returned() >= std::numeric_limits<int16_t>::min() &&
            h.returned() <= std::numeric_limits<int16_t>::max();
  }
  // The holdings go wide (all of them) when one does not pack, and back
  // when all do again.
  if (packs && d.wide != kNone) {
    std::vector<Holding>().swap(wide_[d.wide]);
    free_wide_.push_back(d.wide);
    d.wide = kNone;
  } else if (!packs) {
    if (d.wide == kNone && !free_wide_.empty()) {
      d.wide = free_wide_.back();
      free_wide_.pop_back();
    } else if (d.wide == kNone) {
      d.wide = static_cast<uint32_t>(wide_.size());
      wide_.emplace_back();
    }
    std::vector<Holding>& wide = wide_[d.wide];
    if (now.size() > wide.capacity()) {
      // Exactly the size needed: the old block goes back to the allocator.
      std::vector<Holding> fresh;
      fresh.reserve(now.size());
      wide.swap(fresh);
    }
    wide.assign(now.begin(), now.end());
  }
  // The block is rewritten whole; replaced by one of exactly the size
  // needed when a count changed (the allocator hands the old one to the
  // next lot growing to its size).
  const uint32_t holdings = packs ? static_cast<uint32_t>(now.size()) : 0;
  const uint32_t stock = static_cast<uint32_t>(node.stock_size());
  if (holdings != d.holdings || stock != d.stock) {
    const size_t words = kWords * (size_t{holdings} + stock);
    d.words = words == 0 ? nullptr
                         : std::make_unique_for_overwrite<uint32_t[]>(words);
    d.holdings = holdings;
    d.stock = stock;
  }
  uint32_t* w = d.words.get();
  for (uint32_t i = 0; i < holdings; ++i, w += kWords) {
    const Holding& h = now[i];
    PackedHolding p;
    p.customer = h.customer;
    p.shipped = static_cast<int32_t>(h.shipped);
    PackDate(h.last_shipped_on, &p.last_shipped_on);
    p.returned = static_cast<int16_t>(h.returned);
    std::memcpy(w, &p, sizeof(p));
  }
  for (const v1::LocationStock& s : node.stock()) {
    const uint64_t amount = static_cast<uint64_t>(s.amount());
    w[0] = locations_.Intern(s.location_id());
    w[1] = static_cast<uint32_t>(amount);
    w[2] = static_cast<uint32_t>(amount >> 32);
    w += kWords;
  }
}

RecallIndex::PackedHolding RecallIndex::PackedAt(const Distribution& d,
                                                 uint32_t i) {
  PackedHolding p;
  std::memcpy(&p, d.words.get() + kWords * i, sizeof(p));
  return p;
}

RecallIndex::Stock RecallIndex::StockAt(const Distribution& d, uint32_t i) {
  const uint32_t* w = d.words.get() + kWords * (d.holdings + i);
  return {w[0], static_cast<int64_t>(uint64_t{w[2]} << 32 | w[1])};
}

uint32_t RecallIndex::HoldingCount(const Distribution& d) const {
  return d.wide != kNone ? static_cast<uint32_t>(wide_[d.wide].size())
                         : d.holdings;
}

RecallIndex::Holding RecallIndex::HoldingAt(const Distribution& d,
                                            uint32_t i) const {
  if (d.wide != kNone) return wide_[d.wide][i];
  const PackedHolding p = PackedAt(d, i);
  return {p.customer, UnpackDate(p.last_shipped_on), p.shipped, p.returned};
}

bool RecallIndex::PackDate(const Date& date, uint16_t* packed) {
  if (date.year == 0 && date.month == 0 && date.day == 0) {
    *packed = 0;
    return true;
  }
  if (date.year < 1970 || date.year > 2097 || date.month < 1 ||
      date.month > 12 || date.day < 1 || date.day > 31) {
    return false;
  }
  *packed = static_cast<uint16_t>((date.year - 1970) << 9 | date.month << 5 |
                                  date.day);
  return true;
}

RecallIndex::Date RecallIndex::UnpackDate(uint16_t packed) {
  if (packed == 0) return {};
  return {1970 + (packed >> 9), (packed >> 5) & 0xf, packed & 0x1f};
}

uint32_t RecallIndex::SetCustomer(std::string_view id,
                                  const v1::Customer& customer) {
  const uint32_t c = customer_ids_.Intern(id);
  if (customers_.size() <= c) {
    customers_.resize(c + 1);
    customer_known_.resize(c + 1, 0);
    customer_folded_.resize(c + 1, 0);
  }
  customers_[c] = customer;
  customer_known_[c] = 1;
  return c;
}

void RecallIndex::AddParent(uint32_t lot, uint32_t parent) {
  // Sorted by id bytes, as RecallLotNode.used_in is.
  const std::string_view id = IdOf(parent);
  auto less = [this](uint32_t a, std::string_view b) { return IdOf(a) < b; };
  if (flags_[lot] & kManyParents) {
    std::vector<uint32_t>& parents = fwd_many_[fwd_[lot]];
    auto at = std::lower_bound(parents.begin(), parents.end(), id, less);
    if (at != parents.end() && *at == parent) return;
    parents.insert(at, parent);
  } else if (flags_[lot] & kOneParent) {
    const uint32_t other = fwd_[lot];
    if (other == parent) return;
    std::vector<uint32_t> parents = {other, parent};
    if (id < IdOf(other)) std::swap(parents[0], parents[1]);
    fwd_[lot] = static_cast<uint32_t>(fwd_many_.size());
    fwd_many_.push_back(std::move(parents));
    flags_[lot] = (flags_[lot] & ~kOneParent) | kManyParents;
  } else {
    fwd_[lot] = parent;
    flags_[lot] |= kOneParent;
  }
  ++forward_edges_;
}

absl::Status RecallIndex::Observe(const eventlog::Record& record,
                                  const v1::Event& event,
                                  std::span<const ChangedNode> nodes) {
  const bool shipped = event.has_stock_shipped() &&
                       !event.stock_shipped().customer().customer_id().empty();
  if (nodes.empty() && !shipped) return absl::OkStatus();
  return fold_once_.Fold(record, [&]() -> absl::Status {
    absl::WriterMutexLock l(&mu_);
    const v1::LotCreated* created =
        event.has_lot_created() ? &event.lot_created() : nullptr;
    for (const auto& [lot_id, node] : nodes) {
      ASSIGN_OR_RETURN(const uint32_t lot, Intern(lot_id));
      SetNode(lot, node);
      flags_[lot] |= kFolded;
      // As EvolveLotNode: an input of the created lot gains the edge.
      if (created == nullptr || created->lot_id() == lot_id) continue;
      const bool consumed = std::any_of(
          created->inputs().begin(), created->inputs().end(),
          [&](const v1::LotInput& in) { return in.lot_id() == lot_id; });
      if (consumed) {
        ASSIGN_OR_RETURN(const uint32_t parent, Intern(created->lot_id()));
        AddParent(lot, parent);
      }
    }
    if (shipped) {
      const v1::Customer& c = event.stock_shipped().customer();
      customer_folded_[SetCustomer(c.customer_id(), c)] = 1;
    }
    return absl::OkStatus();
  });
}

absl::Status RecallIndex::Load(const projection::ProjectionStore& store) {
  // Held for the whole scan: facts the projector commits meanwhile were
  // folded before they committed (see the header comment).
  absl::WriterMutexLock l(&mu_);
  if (loaded()) return absl::OkStatus();
  absl::Status inner;
  RETURN_IF_ERROR(store.Scan(
      kLots, "", "", [&](std::string_view key, std::string_view value) {
        v1::RecallLotNode node;
        if (!node.ParseFromArray(value.data(),
                                 static_cast<int>(value.size()))) {
          inner = absl::DataLossError(absl::StrCat(
              "stored recall lot node ", Sv(key), " cannot be decoded"));
          return false;
        }
        absl::StatusOr<uint32_t> lot = Intern(key);
        if (!lot.ok()) {
          inner = lot.status();
          return false;
        }
        if (!(flags_[*lot] & kFolded)) SetNode(*lot, node);
        for (const std::string& parent : node.used_in()) {
          absl::StatusOr<uint32_t> p = Intern(parent);
          if (!p.ok()) {
            inner = p.status();
            return false;
          }
          AddParent(*lot, *p);
        }
        return true;
      }));
  RETURN_IF_ERROR(inner);
  RETURN_IF_ERROR(store.Scan(
      kCustomers, "", "", [&](std::string_view key, std::string_view value) {
        v1::Customer customer;
        if (!customer.ParseFromArray(value.data(),
                                     static_cast<int>(value.size()))) {
          inner = absl::DataLossError(
              absl::StrCat("stored customer ", Sv(key), " cannot be decoded"));
          return false;
        }
        const int64_t c = customer_ids_.Find(key);
        if (c >= 0 && customer_folded_[c]) return true;
        SetCustomer(key, customer);
        return true;
      }));
  RETURN_IF_ERROR(inner);
  loaded_.store(true, std::memory_order_release);
  return absl::OkStatus();
}

std::vector<uint32_t> RecallIndex::MadeInRange(const std::string& item,
                                               const v1::Date& from,
                                               const v1::Date& to) const {
  std::vector<uint32_t> out;
  const int64_t id = items_.Find(item);
  if (id < 0 || static_cast<size_t>(id) >= lots_of_item_.size()) return out;
  const int64_t first = DateOrder(from.year(), from.month(), from.day());
  const int64_t last = DateOrder(to.year(), to.month(), to.day());
  std::vector<std::pair<int64_t, uint32_t>> found;
  for (const uint32_t lot : lots_of_item_[id]) {
    const Date& d = made_[lot];
    const int64_t at = DateOrder(d.year, d.month, d.day);
    if (at >= 0 && at >= first && at <= last) found.emplace_back(at, lot);
  }
  std::sort(found.begin(), found.end(), [this](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first < b.first;
    return IdOf(a.second) < IdOf(b.second);
  });
  out.reserve(found.size());
  for (const auto& [at, lot] : found) out.push_back(lot);
  return out;
}

void RecallIndex::Scoped(uint32_t lot, v1::ScopeReason reason,
                         std::string_view via, int depth,
                         v1::ScopedLot* s) const {
  auto set = [](std::string* out, std::string_view v) {
    out->assign(v.data(), v.size());
  };
  set(s->mutable_lot_id(), IdOf(lot));
  set(s->mutable_item(), items_.names[item_[lot]]);
  set(s->mutable_lot_number(), LotNumberOf(lot));
  s->set_reason(reason);
  if (!via.empty()) set(s->mutable_via_lot_id(), via);
  s->set_depth(depth);
  v1::Date* made = s->mutable_manufactured_on();
  made->set_year(made_[lot].year);
  made->set_month(made_[lot].month);
  made->set_day(made_[lot].day);
  v1::Date* expires = s->mutable_expires_on();
  expires->set_year(expires_[lot].year);
  expires->set_month(expires_[lot].month);
  expires->set_day(expires_[lot].day);
  set(s->mutable_uom(), uoms_.names[uom_[lot]]);
}

absl::Status RecallIndex::ScopeAndImpact(const v1::RecallCriteria& criteria,
                                         ScopeList* out,
                                         v1::RecallImpact* impact) const {
  absl::ReaderMutexLock l(&mu_);
  ScopeList& scope = *out;
  scope.Clear();
  // The same walk as ComputeScope over the store, on dense ids.
  const size_t n = ids_.size();
  std::vector<uint64_t> seen((n + 63) / 64, 0);
  auto first_time = [&seen](uint32_t lot) {
    uint64_t& word = seen[lot / 64];
    const uint64_t bit = uint64_t{1} << (lot % 64);
    if (word & bit) return false;
    word |= bit;
    return true;
  };
  auto created = [this](uint32_t lot) { return (flags_[lot] & kCreated) != 0; };
  std::vector<uint32_t> in_range;
  if (!criteria.item().empty()) {
    in_range =
        MadeInRange(criteria.item(), criteria.made_from(), criteria.made_to());
  }
  std::vector<int64_t> rows;  // the dense id of each scope row
  std::vector<uint32_t> level;
  const size_t listed_n = criteria.lot_ids_size();
  for (size_t i = 0; i < listed_n + in_range.size(); ++i) {
    const bool listed = i < listed_n;
    const int64_t lot =
        listed ? Find(criteria.lot_ids(i)) : in_range[i - listed_n];
    if (lot < 0 || !created(lot)) {
      if (listed) {
        return domain::Refuse("lot ", criteria.lot_ids(i),
                              " is not known to the recall service (no "
                              "LotCreated seen); check the lot id or pass the "
                              "lots service's token as `after`");
      }
      continue;
    }
    if (!first_time(lot)) continue;
    Scoped(lot,
           listed ? v1::SCOPE_REASON_LISTED : v1::SCOPE_REASON_MADE_IN_RANGE,
           "", 0, scope.Add());
    rows.push_back(lot);
    level.push_back(lot);
  }
  if (criteria.include_derived()) {
    std::vector<uint32_t> next;
    for (int depth = 1; !level.empty(); ++depth) {
      next.clear();
      for (const uint32_t lot : level) {
        const std::string_view via = IdOf(lot);
        for (const uint32_t parent : ParentsOf(lot)) {
          // A parent known only as an edge (its LotCreated not applied
          // yet) cannot be described; it joins when it is.
          if (!first_time(parent) || !created(parent)) continue;
          Scoped(parent, v1::SCOPE_REASON_DERIVED, via, depth, scope.Add());
          rows.push_back(parent);
          next.push_back(parent);
        }
      }
      std::swap(level, next);
    }
  }
  // On one arena the impact's lots share the scope's rows instead of
  // copying them (16,000 messages and their strings for a large recall).
  // Safe there: arena messages are never deleted one by one, and clearing
  // an impact on an arena drops its pointers without touching the rows.
  const bool share =
      scope.GetArena() != nullptr && scope.GetArena() == impact->GetArena();
  ImpactLocked(scope, rows, share, impact);
  return absl::OkStatus();
}

void RecallIndex::Impact(const ScopeList& scope,
                         v1::RecallImpact* impact) const {
  absl::ReaderMutexLock l(&mu_);
  std::vector<int64_t> rows;
  rows.reserve(scope.size());
  for (const v1::ScopedLot& s : scope) rows.push_back(Find(s.lot_id()));
  ImpactLocked(scope, rows, false, impact);
}

void RecallIndex::ImpactLocked(const ScopeList& scope,
                               const std::vector<int64_t>& lots,
                               bool share_rows, v1::RecallImpact* out) const {
  // As ComputeImpact: customers in first-seen order, sorted by id at the
  // end by moving pointers only; lines per customer sorted by lot id.
  out->Clear();
  std::vector<int32_t> customer_index(customer_ids_.names.size(), -1);
  std::vector<int64_t> by_location(locations_.names.size(), 0);
  std::vector<uint8_t> location_seen(locations_.names.size(), 0);
  std::vector<uint32_t> locations;
  auto set = [](std::string* to, std::string_view v) {
    to->assign(v.data(), v.size());
  };
  out->mutable_lots()->Reserve(scope.size());
  int64_t distributed = 0, returned_all = 0, on_hand_all = 0;
  int32_t lots_distributed = 0;
  for (int row = 0; row < scope.size(); ++row) {
    const v1::ScopedLot& s = scope.Get(row);
    const int64_t lot = lots[row];
    const Distribution* d =
        lot >= 0 && dist_of_[lot] != kNone ? &dists_[dist_of_[lot]] : nullptr;
    v1::LotImpact* li = out->add_lots();
    if (share_rows) {
      li->unsafe_arena_set_allocated_lot(const_cast<v1::ScopedLot*>(&s));
    } else {
      *li->mutable_lot() = s;
    }
    int64_t shipped = 0, returned = 0;
    int customers_of_lot = 0;
    if (d != nullptr) {
      for (uint32_t i = 0, n = HoldingCount(*d); i < n; ++i) {
        const Holding h = HoldingAt(*d, i);
        if (h.shipped <= 0) continue;
        ++customers_of_lot;
        shipped += h.shipped;
        returned += h.returned;
        int32_t& ci = customer_index[h.customer];
        if (ci < 0) {
          ci = out->customers_size();
          v1::CustomerImpact* c = out->add_customers();
          if (customer_known_[h.customer]) {
            *c->mutable_customer() = customers_[h.customer];
          } else {
            c->mutable_customer()->set_customer_id(
                customer_ids_.names[h.customer]);
          }
        }
        v1::CustomerImpact& c = *out->mutable_customers(ci);
        v1::CustomerLotImpact* line = c.add_lots();
        line->set_lot_id(s.lot_id());
        line->set_item(s.item());
        line->set_lot_number(s.lot_number());
        line->set_uom(s.uom());
        line->set_shipped(h.shipped);
        line->set_returned(h.returned);
        line->set_held(h.shipped - h.returned);
        v1::Date* last = line->mutable_last_shipped_on();
        last->set_year(h.last_shipped_on.year);
        last->set_month(h.last_shipped_on.month);
        last->set_day(h.last_shipped_on.day);
        c.set_shipped(c.shipped() + h.shipped);
        c.set_returned(c.returned() + h.returned);
        c.set_held(c.held() + h.shipped - h.returned);
      }
      for (uint32_t i = 0; i < d->stock; ++i) {
        const Stock st = StockAt(*d, i);
        v1::LocationStock* ls = li->add_stock();
        set(ls->mutable_location_id(), locations_.names[st.location]);
        ls->set_amount(st.amount);
        by_location[st.location] += st.amount;
        if (!location_seen[st.location]) {
          location_seen[st.location] = 1;
          locations.push_back(st.location);
        }
      }
    }
    const int64_t on_hand = d != nullptr ? d->on_hand : 0;
    li->set_shipped(shipped);
    li->set_returned(returned);
    li->set_outstanding(shipped - returned);
    li->set_on_hand(on_hand);
    li->set_customers(customers_of_lot);
    distributed += shipped;
    returned_all += returned;
    on_hand_all += on_hand;
    if (shipped > 0) ++lots_distributed;
  }
  out->set_distributed(distributed);
  out->set_returned(returned_all);
  out->set_on_hand(on_hand_all);
  out->set_lots_distributed(lots_distributed);
  out->set_outstanding(distributed - returned_all);
  out->set_lots_in_scope(scope.size());
  out->set_customers_affected(out->customers_size());
  auto* cs = out->mutable_customers();
  std::sort(cs->pointer_begin(), cs->pointer_end(),
            [](const v1::CustomerImpact* a, const v1::CustomerImpact* b) {
              return a->customer().customer_id() < b->customer().customer_id();
            });
  for (v1::CustomerImpact& c : *cs) {
    std::sort(
        c.mutable_lots()->pointer_begin(), c.mutable_lots()->pointer_end(),
        [](const v1::CustomerLotImpact* a, const v1::CustomerLotImpact* b) {
          return a->lot_id() < b->lot_id();
        });
  }
  std::sort(locations.begin(), locations.end(), [this](uint32_t a, uint32_t b) {
    return locations_.names[a] < locations_.names[b];
  });
  for (const uint32_t loc : locations) {
    if (by_location[loc] == 0) continue;
    v1::LocationStock* st = out->add_on_hand_by_location();
    set(st->mutable_location_id(), locations_.names[loc]);
    st->set_amount(by_location[loc]);
  }
}

void StoredScope::Assign(const ScopeList& scope) {
  values.clear();
  rows.clear();
  lot_ids.clear();
  // The rows as field 1 (lots) of a PendingScope.
  v1::PendingScope holder;
  *holder.mutable_lots() = scope;
  values.push_back(holder.SerializeAsString());
  AddRows(0, 1);
}

bool StoredScope::AddRows(size_t i, int field) {
  bool rows_parse = true;
  const bool parses = ForEachWireField(values[i], [&](const WireField& f) {
    if (f.number != field || f.type != WireField::kLengthDelimited) {
      return true;
    }
    std::string_view id;
    if (!FirstWireBytes(f.bytes, 1, &id)) {
      rows_parse = false;
      return false;
    }
    rows.push_back(f.bytes);
    lot_ids.push_back(id);
    return true;
  });
  return parses && rows_parse;
}

bool StoredScope::Parse(size_t i, v1::ScopedLot* out) const {
  return out->ParseFromArray(rows[i].data(), static_cast<int>(rows[i].size()));
}

void RecallIndex::Impact(const StoredScope& scope, const ImpactSlice& slice,
                         v1::RecallImpact* impact, ImpactNext* next) const {
  absl::ReaderMutexLock l(&mu_);
  std::vector<int64_t> rows;
  rows.reserve(scope.lot_ids.size());
  for (const std::string_view id : scope.lot_ids) rows.push_back(Find(id));
  SliceLocked(scope, rows, slice, impact, next);
}

void RecallIndex::SliceLocked(const StoredScope& scope,
                              const std::vector<int64_t>& lots,
                              const ImpactSlice& slice, v1::RecallImpact* out,
                              ImpactNext* next) const {
  out->Clear();
  *next = ImpactNext();
  auto set = [](std::string* to, std::string_view v) {
    to->assign(v.data(), v.size());
  };
  auto dist = [this](int64_t lot) -> const Distribution* {
    return lot >= 0 && dist_of_[lot] != kNone ? &dists_[dist_of_[lot]]
                                              : nullptr;
  };
  // The totals and per-customer sums over every row: flat arrays indexed
  // by dense ids, no message built.
  struct Sums {
    int64_t shipped = 0, returned = 0;
  };
  std::vector<Sums> sums(customer_ids_.names.size());
  std::vector<uint8_t> affected_seen(customer_ids_.names.size(), 0);
  std::vector<uint32_t> affected;
  std::vector<int64_t> by_location(locations_.names.size(), 0);
  std::vector<uint8_t> location_seen(locations_.names.size(), 0);
  std::vector<uint32_t> locations;
  int64_t distributed = 0, returned_all = 0, on_hand_all = 0;
  int32_t lots_distributed = 0;
  for (size_t row = 0; row < lots.size(); ++row) {
    const Distribution* d = dist(lots[row]);
    if (d == nullptr) continue;
    int64_t shipped = 0;
    for (uint32_t i = 0, n = HoldingCount(*d); i < n; ++i) {
      const Holding h = HoldingAt(*d, i);
      if (h.shipped <= 0) continue;
      shipped += h.shipped;
      returned_all += h.returned;
      sums[h.customer].shipped += h.shipped;
      sums[h.customer].returned += h.returned;
      if (!affected_seen[h.customer]) {
        affected_seen[h.customer] = 1;
        affected.push_back(h.customer);
      }
    }
    for (uint32_t i = 0; i < d->stock; ++i) {
      const Stock st = StockAt(*d, i);
      by_location[st.location] += st.amount;
      if (!location_seen[st.location]) {
        location_seen[st.location] = 1;
        locations.push_back(st.location);
      }
    }
    distributed += shipped;
    on_hand_all += d->on_hand;
    if (shipped > 0) ++lots_distributed;
  }
  out->set_distributed(distributed);
  out->set_returned(returned_all);
  out->set_on_hand(on_hand_all);
  out->set_lots_distributed(lots_distributed);
  out->set_outstanding(distributed - returned_all);
  out->set_lots_in_scope(static_cast<int32_t>(scope.rows.size()));
  out->set_customers_affected(static_cast<int32_t>(affected.size()));
  std::sort(locations.begin(), locations.end(), [this](uint32_t a, uint32_t b) {
    return locations_.names[a] < locations_.names[b];
  });
  for (const uint32_t loc : locations) {
    if (by_location[loc] == 0) continue;
    v1::LocationStock* st = out->add_on_hand_by_location();
    set(st->mutable_location_id(), locations_.names[loc]);
    st->set_amount(by_location[loc]);
  }

  if (slice.view == v1::IMPACT_VIEW_LOTS) {
    const int64_t n = static_cast<int64_t>(scope.rows.size());
    const int64_t first = std::min(slice.first_lot, n);
    const int64_t end = slice.limit > 0 ? std::min(n, first + slice.limit) : n;
    out->mutable_lots()->Reserve(static_cast<int>(end - first));
    for (int64_t row = first; row < end; ++row) {
      const Distribution* d = dist(lots[row]);
      v1::LotImpact* li = out->add_lots();
      scope.Parse(row, li->mutable_lot());
      int64_t shipped = 0, returned = 0;
      int customers_of_lot = 0;
      if (d != nullptr) {
        for (uint32_t i = 0, n = HoldingCount(*d); i < n; ++i) {
          const Holding h = HoldingAt(*d, i);
          if (h.shipped <= 0) continue;
          ++customers_of_lot;
          shipped += h.shipped;
          returned += h.returned;
        }
        for (uint32_t i = 0; i < d->stock; ++i) {
          const Stock st = StockAt(*d, i);
          v1::LocationStock* ls = li->add_stock();
          set(ls->mutable_location_id(), locations_.names[st.location]);
          ls->set_amount(st.amount);
        }
      }
      li->set_shipped(shipped);
      li->set_returned(returned);
      li->set_outstanding(shipped - returned);
      li->set_on_hand(d != nullptr ? d->on_hand : 0);
      li->set_customers(customers_of_lot);
    }
    if (end < n) {
      next->more = true;
      next->lot = end;
    }
    return;
  }

  // SUMMARY and CUSTOMERS: the page of customers by id.
  auto name = [this](uint32_t c) -> const std::string& {
    return customer_ids_.names[c];
  };
  std::sort(affected.begin(), affected.end(),
            [&](uint32_t a, uint32_t b) { return name(a) < name(b); });
  auto begin = std::upper_bound(
      affected.begin(), affected.end(), slice.after_customer,
      [&](const std::string& id, uint32_t c) { return id < name(c); });
  auto end = affected.end();
  if (slice.limit > 0 && end - begin > slice.limit) {
    end = begin + slice.limit;
    next->more = true;
    next->customer = name(*(end - 1));
  }
  std::vector<int32_t> slot;  // CUSTOMERS: customer -> its page index
  const bool lines = slice.view == v1::IMPACT_VIEW_CUSTOMERS;
  if (lines) slot.assign(customer_ids_.names.size(), -1);
  out->mutable_customers()->Reserve(static_cast<int>(end - begin));
  for (auto it = begin; it != end; ++it) {
    const uint32_t c = *it;
    if (lines) slot[c] = out->customers_size();
    v1::CustomerImpact* ci = out->add_customers();
    if (customer_known_[c]) {
      *ci->mutable_customer() = customers_[c];
    } else {
      set(ci->mutable_customer()->mutable_customer_id(), name(c));
    }
    ci->set_shipped(sums[c].shipped);
    ci->set_returned(sums[c].returned);
    ci->set_held(sums[c].shipped - sums[c].returned);
  }
  if (!lines || begin == end) return;
  for (size_t row = 0; row < lots.size(); ++row) {
    const Distribution* d = dist(lots[row]);
    if (d == nullptr) continue;
    v1::ScopedLot s;  // parsed when a customer of the page holds it
    bool parsed = false;
    for (uint32_t i = 0, n = HoldingCount(*d); i < n; ++i) {
      const Holding h = HoldingAt(*d, i);
      if (h.shipped <= 0 || slot[h.customer] < 0) continue;
      if (!parsed) parsed = scope.Parse(row, &s);
      v1::CustomerLotImpact* line =
          out->mutable_customers(slot[h.customer])->add_lots();
      line->set_lot_id(s.lot_id());
      line->set_item(s.item());
      line->set_lot_number(s.lot_number());
      line->set_uom(s.uom());
      line->set_shipped(h.shipped);
      line->set_returned(h.returned);
      line->set_held(h.shipped - h.returned);
      v1::Date* last = line->mutable_last_shipped_on();
      last->set_year(h.last_shipped_on.year);
      last->set_month(h.last_shipped_on.month);
      last->set_day(h.last_shipped_on.day);
    }
  }
  for (v1::CustomerImpact& c : *out->mutable_customers()) {
    std::sort(
        c.mutable_lots()->pointer_begin(), c.mutable_lots()->pointer_end(),
        [](const v1::CustomerLotImpact* a, const v1::CustomerLotImpact* b) {
          return a->lot_id() < b->lot_id();
        });
  }
}

RecallIndex::Stats RecallIndex::stats() const {
  absl::ReaderMutexLock l(&mu_);
  Stats s;
  s.lots = ids_.size();
  s.forward_edges = forward_edges_;
  s.distributed_lots = dists_.size();
  for (const Distribution& d : dists_) {
    s.holdings += HoldingCount(d);
    s.bytes += sizeof(uint32_t) * kWords * (size_t{d.holdings} + d.stock);
  }
  for (const auto& wide : wide_) s.bytes += Bytes(wide);
  s.customers = customer_ids_.names.size() - 1;
  s.bytes += ids_.bytes() + Bytes(flags_) + Bytes(item_) + Bytes(uom_) +
             Bytes(made_) + Bytes(expires_) + Bytes(fwd_) + Bytes(fwd_many_) +
             Bytes(dist_of_) + Bytes(dists_) + Bytes(wide_) +
             Bytes(free_wide_) + Bytes(unpacked_) + Bytes(customers_) +
             Bytes(customer_known_) + Bytes(customer_folded_) +
             Bytes(lots_of_item_) + items_.Bytes() + uoms_.Bytes() +
             locations_.Bytes() + customer_ids_.Bytes();
  for (const auto& parents : fwd_many_) s.bytes += Bytes(parents);
  for (const auto& lots : lots_of_item_) s.bytes += Bytes(lots);
  for (const v1::Customer& c : customers_) {
    s.bytes += c.SpaceUsedLong() - sizeof(v1::Customer);
  }
  for (const auto& [lot, number] : odd_numbers_) {
    s.bytes += sizeof(lot) + sizeof(number) + number.capacity() + 1;
  }
  s.bytes +=
      odd_numbers_.capacity() * (sizeof(std::pair<uint32_t, std::string>) + 1);
  return s;
}

}  // namespace lotledger::recall
