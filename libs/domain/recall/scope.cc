#include "libs/domain/recall/scope.h"

#include <algorithm>
#include <string_view>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"
#include "libs/domain/common/refusals.h"
#include "libs/domain/lots/dates.h"
#include "libs/domain/serials/serials.h"

namespace lotledger::recall {
namespace {

using domain::Invalid;
using domain::Refuse;

// Fills `s` (a fresh element of the scope: built in place, never copied).
void Scoped(const std::string& lot_id, const v1::RecallLotNode& node,
            v1::ScopeReason reason, std::string_view via, int depth,
            v1::ScopedLot* s) {
  s->set_lot_id(lot_id);
  s->set_item(node.item());
  s->set_lot_number(node.lot_number());
  s->set_reason(reason);
  if (!via.empty()) s->set_via_lot_id(std::string(via));
  s->set_depth(depth);
  *s->mutable_manufactured_on() = node.manufactured_on();
  *s->mutable_expires_on() = node.expires_on();
  s->set_uom(node.uom());
}

// Fetches the nodes of `ids` not yet in `nodes`.
absl::Status FetchMissing(const std::vector<std::string>& ids,
                          const FetchNodes& fetch, NodeMap* nodes) {
  std::vector<std::string> missing;
  missing.reserve(ids.size());
  for (const std::string& id : ids) {
    if (!nodes->contains(id)) missing.push_back(id);
  }
  if (missing.empty()) return absl::OkStatus();
  std::vector<const v1::RecallLotNode*> got;
  RETURN_IF_ERROR(fetch(missing, &got));
  for (size_t i = 0; i < missing.size() && i < got.size(); ++i) {
    if (got[i] != nullptr) nodes->emplace(missing[i], got[i]);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateCriteria(const v1::RecallCriteria& c,
                              std::string_view field) {
  const std::string f(field);
  if (!c.serials().empty()) {
    for (int i = 0; i < c.lot_ids_size(); ++i) {
      if (c.lot_ids(i).empty()) {
        return Invalid(f, ".lot_ids[", i, "]: must not be empty");
      }
    }
    if (c.item().empty()) {
      return Invalid(f,
                     ".item: required with serials: the serialised product "
                     "whose units they are");
    }
    if (c.has_made_from() || c.has_made_to()) {
      return Invalid(f, c.has_made_from() ? ".made_from" : ".made_to",
                     ": not with serials: serials name units, a date range "
                     "names whole lots; recall the range in a recall of its "
                     "own");
    }
    if (c.include_derived()) {
      return Invalid(f,
                     ".include_derived: not with serials: a lot made from a "
                     "serialised unit does not carry its serial, so the "
                     "genealogy cannot be followed unit by unit; recall the "
                     "derived lots by lot_ids");
    }
    return domain::ExpandSerials(c.serials(), absl::StrCat(f, ".serials"))
        .status();
  }
  const bool by_range =
      !c.item().empty() || c.has_made_from() || c.has_made_to();
  if (c.lot_ids().empty() && !by_range) {
    return Invalid(f, ": give lot_ids, or item with made_from and made_to");
  }
  for (int i = 0; i < c.lot_ids_size(); ++i) {
    if (c.lot_ids(i).empty()) {
      return Invalid(f, ".lot_ids[", i, "]: must not be empty");
    }
  }
  if (by_range) {
    if (c.item().empty())
      return Invalid(f, ".item: required with a date range");
    if (!c.has_made_from() || !lots::IsValidDate(c.made_from())) {
      return Invalid(f, ".made_from: required, a valid date");
    }
    if (!c.has_made_to() || !lots::IsValidDate(c.made_to())) {
      return Invalid(f, ".made_to: required, a valid date");
    }
    if (lots::CompareDates(c.made_from(), c.made_to()) > 0) {
      return Invalid(f, ".made_to: ", lots::FormatDate(c.made_to()),
                     " is before made_from ", lots::FormatDate(c.made_from()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<SerialLots> GroupSerialsByLot(
    std::string_view item, const std::vector<std::string>& serials,
    const std::vector<std::string>& lot_of) {
  SerialLots out;
  std::vector<std::string> unassigned;
  for (size_t i = 0; i < serials.size(); ++i) {
    const std::string& lot = i < lot_of.size() ? lot_of[i] : std::string();
    if (lot.empty()) {
      unassigned.push_back(serials[i]);
      continue;
    }
    auto [it, fresh] = out.serials.try_emplace(lot);
    if (fresh) out.lot_ids.push_back(lot);
    it->second.push_back(serials[i]);
  }
  if (unassigned.size() == 1) {
    return Refuse("serial ", unassigned[0], " of ", std::string(item),
                  " is not assigned to any lot; check the serial, or pass "
                  "the lots service's token as `after`");
  }
  if (!unassigned.empty()) {
    std::sort(unassigned.begin(), unassigned.end());
    return Refuse("serials ",
                  domain::FormatSerials(domain::CompressSerials(unassigned)),
                  " of ", std::string(item),
                  " are not assigned to any lot; check the serials, or pass "
                  "the lots service's token as `after`");
  }
  for (auto& [lot, list] : out.serials) std::sort(list.begin(), list.end());
  return out;
}

v1::RecallCriteria LotCriteriaOf(const v1::RecallCriteria& criteria,
                                 const SerialLots& lots) {
  v1::RecallCriteria out;
  *out.mutable_lot_ids() = criteria.lot_ids();
  absl::flat_hash_set<std::string_view> listed(criteria.lot_ids().begin(),
                                               criteria.lot_ids().end());
  for (const std::string& id : lots.lot_ids) {
    if (!listed.contains(id)) out.add_lot_ids(id);
  }
  return out;
}

void MarkSerialScope(const v1::RecallCriteria& criteria, const SerialLots& lots,
                     ScopeList* scope) {
  absl::flat_hash_set<std::string_view> listed(criteria.lot_ids().begin(),
                                               criteria.lot_ids().end());
  for (v1::ScopedLot& s : *scope) {
    if (listed.contains(s.lot_id())) continue;
    auto it = lots.serials.find(s.lot_id());
    if (it == lots.serials.end()) continue;
    s.set_reason(v1::SCOPE_REASON_SERIAL_LISTED);
    *s.mutable_serials() = domain::CompressSerials(it->second);
  }
}

std::vector<std::string> MadeInRange(const std::vector<MadeLot>& lots,
                                     const v1::Date& from, const v1::Date& to) {
  std::vector<std::string> out;
  for (const MadeLot& l : lots) {
    if (!lots::IsValidDate(l.manufactured_on)) continue;
    if (lots::CompareDates(l.manufactured_on, from) >= 0 &&
        lots::CompareDates(l.manufactured_on, to) <= 0) {
      out.push_back(l.lot_id);
    }
  }
  return out;
}

absl::StatusOr<ScopeList> ComputeScope(const v1::RecallCriteria& criteria,
                                       const std::vector<std::string>& in_range,
                                       const FetchNodes& fetch,
                                       NodeMap* nodes) {
  ScopeList scope;
  RETURN_IF_ERROR(ComputeScope(criteria, in_range, fetch, nodes, &scope));
  return scope;
}

absl::Status ComputeScope(const v1::RecallCriteria& criteria,
                          const std::vector<std::string>& in_range,
                          const FetchNodes& fetch, NodeMap* nodes,
                          ScopeList* out) {
  ScopeList& scope = *out;
  scope.Clear();
  // Views into the seeds and into the fetched nodes' edges: both outlive
  // the walk, so no lot id is copied to remember it.
  absl::flat_hash_set<std::string_view> seen;
  std::vector<std::string> seeds(criteria.lot_ids().begin(),
                                 criteria.lot_ids().end());
  seeds.insert(seeds.end(), in_range.begin(), in_range.end());
  RETURN_IF_ERROR(FetchMissing(seeds, fetch, nodes));
  // The lots of the current level with their nodes.
  std::vector<const v1::RecallLotNode*> level;
  for (size_t i = 0; i < seeds.size(); ++i) {
    const std::string& id = seeds[i];
    const bool listed = i < static_cast<size_t>(criteria.lot_ids_size());
    auto it = nodes->find(id);
    if (it == nodes->end() || !it->second->created()) {
      if (listed) {
        return Refuse("lot ", id,
                      " is not known to the recall service (no LotCreated "
                      "seen); check the lot id or pass the lots service's "
                      "token as `after`");
      }
      continue;
    }
    if (!seen.insert(id).second) continue;
    Scoped(id, *it->second,
           listed ? v1::SCOPE_REASON_LISTED : v1::SCOPE_REASON_MADE_IN_RANGE,
           "", 0, scope.Add());
    level.push_back(it->second);
  }
  if (!criteria.include_derived()) return absl::OkStatus();
  std::vector<int> level_rows;  // row in `scope` of each lot of `level`
  for (int i = 0; i < scope.size(); ++i) level_rows.push_back(i);
  for (int depth = 1; !level.empty(); ++depth) {
    // Parents of this level, each with the row of the lot that led to it.
    std::vector<std::string> next;
    std::vector<int> via;
    for (size_t l = 0; l < level.size(); ++l) {
      for (const std::string& parent : level[l]->used_in()) {
        if (seen.insert(parent).second) {
          next.push_back(parent);
          via.push_back(level_rows[l]);
        }
      }
    }
    RETURN_IF_ERROR(FetchMissing(next, fetch, nodes));
    std::vector<const v1::RecallLotNode*> kept;
    std::vector<int> kept_rows;
    kept.reserve(next.size());
    kept_rows.reserve(next.size());
    for (size_t i = 0; i < next.size(); ++i) {
      auto it = nodes->find(next[i]);
      // A parent known only as an edge (its LotCreated not applied yet)
      // cannot be described; it joins when it is.
      if (it == nodes->end() || !it->second->created()) continue;
      kept_rows.push_back(scope.size());
      // The via lot's id is read before Add: adding may move the rows.
      const std::string via_id = scope.Get(via[i]).lot_id();
      Scoped(next[i], *it->second, v1::SCOPE_REASON_DERIVED, via_id, depth,
             scope.Add());
      kept.push_back(it->second);
    }
    level = std::move(kept);
    level_rows = std::move(kept_rows);
  }
  return absl::OkStatus();
}

std::vector<std::string> ScopePath(const ScopeList& scope,
                                   const std::string& lot_id) {
  std::unordered_map<std::string, const v1::ScopedLot*> by_id;
  for (const v1::ScopedLot& s : scope) by_id.emplace(s.lot_id(), &s);
  std::vector<std::string> path;
  std::string at = lot_id;
  while (!at.empty() && path.size() <= by_id.size()) {
    path.push_back(at);
    auto it = by_id.find(at);
    if (it == by_id.end()) break;
    at = it->second->via_lot_id();
  }
  return std::vector<std::string>(path.rbegin(), path.rend());
}

}  // namespace lotledger::recall
