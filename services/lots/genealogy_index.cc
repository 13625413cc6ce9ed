#include "services/lots/genealogy_index.h"

#include <algorithm>
#include <limits>
#include <optional>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"
#include "libs/domain/lots/correction.h"
#include "lotledger/v1/domain.pb.h"

namespace lotledger::lots {
namespace {

// The lots projection's families the index reads (lots_projection.h).
constexpr char kGenealogy[] = "genealogy";
constexpr char kUsedIn[] = "used_in";
constexpr char kProducts[] = "products";

absl::Status LotDoesNotExist(std::string_view lot_id) {
  return absl::NotFoundError(
      absl::StrCat("lot ", Sv(lot_id), " does not exist"));
}

template <typename T>
size_t Bytes(const std::vector<T>& v) {
  return v.capacity() * sizeof(T);
}

}  // namespace

GenealogyIndex::GenealogyIndex()
    : items_{""},
      item_ids_{{"", 0}},
      kinds_{v1::ITEM_KIND_UNSPECIFIED},
      kind_folded_{false} {}

std::string_view GenealogyIndex::IdOf(uint32_t lot) const {
  return ids_.Text(lot);
}

std::string_view GenealogyIndex::LotNumberOf(uint32_t lot) const {
  if (flags_[lot] & kNumberFromId) {
    return IdOf(lot).substr(items_[item_[lot]].size() + 1);
  }
  auto it = odd_numbers_.find(lot);
  return it == odd_numbers_.end() ? std::string_view() : it->second;
}

std::span<const GenealogyIndex::InEdge> GenealogyIndex::InputsOf(
    uint32_t lot) const {
  return std::span<const InEdge>(in_pool_.data() + in_start_[lot],
                                 in_count_[lot]);
}

std::span<const uint32_t> GenealogyIndex::ParentsOf(uint32_t lot) const {
  if (flags_[lot] & kOneParent) return std::span<const uint32_t>(&fwd_[lot], 1);
  if (flags_[lot] & kManyParents) return fwd_many_[fwd_[lot]];
  return {};
}

int64_t GenealogyIndex::Find(std::string_view lot_id) const {
  const std::optional<uint32_t> lot = ids_.Find(lot_id);
  return lot.has_value() ? static_cast<int64_t>(*lot) : -1;
}

absl::StatusOr<uint32_t> GenealogyIndex::Intern(std::string_view lot_id) {
  const uint32_t before = ids_.size();
  const std::optional<uint32_t> lot = ids_.Intern(lot_id);
  if (!lot.has_value()) {
    return absl::ResourceExhaustedError(
        "genealogy index: lot ids exceed 4 GiB; trace needs a larger index");
  }
  if (*lot < before) return *lot;
  item_.push_back(0);
  expiry_.emplace_back();
  flags_.push_back(0);
  in_start_.push_back(0);
  in_count_.push_back(0);
  fwd_.push_back(0);
  return *lot;
}

uint32_t GenealogyIndex::InternItem(std::string_view item) {
  auto [it, added] = item_ids_.try_emplace(
      std::string(item), static_cast<uint32_t>(items_.size()));
  if (added) {
    items_.emplace_back(item);
    kinds_.push_back(v1::ITEM_KIND_UNSPECIFIED);
    kind_folded_.push_back(false);
  }
  return it->second;
}

uint32_t GenealogyIndex::InternUom(std::string_view uom) {
  auto [it, added] = uom_ids_.try_emplace(std::string(uom),
                                          static_cast<uint32_t>(uoms_.size()));
  if (added) uoms_.emplace_back(uom);
  return it->second;
}

absl::Status GenealogyIndex::SetNode(
    uint32_t lot, std::string_view item, std::string_view lot_number,
    bool created,
    const google::protobuf::RepeatedPtrField<v1::LotInput>& inputs) {
  std::vector<InEdge> edges;
  edges.reserve(inputs.size());
  for (const v1::LotInput& in : inputs) {
    ASSIGN_OR_RETURN(const uint32_t child, Intern(in.lot_id()));
    edges.push_back(
        {child, InternUom(in.quantity().uom()), in.quantity().amount()});
  }
  item_[lot] = InternItem(item);
  const std::string_view id = IdOf(lot);
  const bool from_id = id.size() == item.size() + 1 + lot_number.size() &&
                       id.starts_with(item) && id[item.size()] == ':' &&
                       id.ends_with(lot_number);
  flags_[lot] &= ~(kCreated | kNumberFromId);
  if (created) flags_[lot] |= kCreated;
  if (from_id) {
    flags_[lot] |= kNumberFromId;
    odd_numbers_.erase(lot);
  } else {
    odd_numbers_[lot] = std::string(lot_number);
  }
  // A list no longer than the old one is written over it; a longer one
  // (a redelivery that differs, never written by Decide) goes to the end.
  if (edges.size() > in_count_[lot]) {
    in_start_[lot] = static_cast<uint32_t>(in_pool_.size());
    in_pool_.resize(in_pool_.size() + edges.size());
  }
  std::copy(edges.begin(), edges.end(), in_pool_.begin() + in_start_[lot]);
  in_count_[lot] = static_cast<uint32_t>(edges.size());
  return absl::OkStatus();
}

void GenealogyIndex::SetExpiry(uint32_t lot, const v1::Date& date) {
  expiry_[lot] = {date.year(), date.month(), date.day()};
}

void GenealogyIndex::AddParent(uint32_t lot, uint32_t parent) {
  // Sorted by id bytes, as the used_in keys are: the order a trace lists
  // the lots made from this one.
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

absl::Status GenealogyIndex::Fold(const v1::Event& event) {
  if (event.has_product_defined()) {
    const v1::Product& p = event.product_defined().product();
    const uint32_t item = InternItem(p.item());
    kinds_[item] = p.kind();
    kind_folded_[item] = true;
    return absl::OkStatus();
  }
  // As ApplyLotsEvent: every lot the event names gets a node (an empty one
  // when it is only named), the created lot its whole node, each input
  // the created lot as a parent, a corrected lot its corrected expiry.
  for (const std::string& lot_id : event.lot_ids()) {
    ASSIGN_OR_RETURN(const uint32_t lot, Intern(lot_id));
    if (event.has_lot_created()) {
      const v1::LotCreated& created = event.lot_created();
      if (created.lot_id() == lot_id) {
        RETURN_IF_ERROR(SetNode(lot, created.item(), created.lot_number(),
                                !created.item().empty(), created.inputs()));
        SetExpiry(lot, created.expires_on());
        flags_[lot] |= kFoldedNode;
        continue;
      }
      const bool consumed = std::any_of(
          created.inputs().begin(), created.inputs().end(),
          [&](const v1::LotInput& in) { return in.lot_id() == lot_id; });
      if (consumed) {
        ASSIGN_OR_RETURN(const uint32_t parent, Intern(created.lot_id()));
        AddParent(lot, parent);
      }
    } else if (event.has_lot_corrected()) {
      const v1::LotCorrected& corrected = event.lot_corrected();
      if (corrected.lot_id() != lot_id) continue;
      absl::StatusOr<CorrectionValue> value = CorrectedNewValue(corrected);
      if (value.ok() && value->field == "expires_on") {
        SetExpiry(lot, value->date);
        flags_[lot] |= kFoldedExpiry;
      }
    }
  }
  return absl::OkStatus();
}

absl::Status GenealogyIndex::Observe(const eventlog::Record& record,
                                     const v1::Event& event) {
  if (!event.has_lot_created() && !event.has_lot_corrected() &&
      !event.has_product_defined()) {
    return absl::OkStatus();
  }
  return fold_once_.Fold(record, [&] {
    absl::WriterMutexLock l(&mu_);
    return Fold(event);
  });
}

absl::Status GenealogyIndex::Load(const projection::ProjectionStore& store) {
  // Held for the whole scan: facts the projector commits meanwhile were
  // folded before they committed (see the header comment).
  absl::WriterMutexLock l(&mu_);
  if (loaded()) return absl::OkStatus();
  absl::Status inner;
  RETURN_IF_ERROR(store.Scan(
      kGenealogy, "", "", [&](std::string_view key, std::string_view value) {
        v1::GenealogyNode node;
        if (!node.ParseFromArray(value.data(),
                                 static_cast<int>(value.size()))) {
          inner = absl::DataLossError(absl::StrCat(
              "stored genealogy node of ", Sv(key), " cannot be decoded"));
          return false;
        }
        absl::StatusOr<uint32_t> lot = Intern(key);
        if (!lot.ok()) {
          inner = lot.status();
          return false;
        }
        if (!(flags_[*lot] & kFoldedNode)) {
          inner = SetNode(*lot, node.item(), node.lot_number(), node.created(),
                          node.inputs());
          if (!inner.ok()) return false;
          if (!(flags_[*lot] & kFoldedExpiry))
            SetExpiry(*lot, node.expires_on());
        }
        // A node written before the forward edges moved out holds them.
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
  RETURN_IF_ERROR(
      store.Scan(kUsedIn, "", "", [&](std::string_view key, std::string_view) {
        const size_t nul = key.find('\0');
        if (nul == std::string_view::npos) {
          inner = absl::DataLossError(
              absl::StrCat("used_in key ", Sv(key), " has no separator"));
          return false;
        }
        absl::StatusOr<uint32_t> input = Intern(key.substr(0, nul));
        absl::StatusOr<uint32_t> parent =
            input.ok() ? Intern(key.substr(nul + 1)) : input;
        if (!parent.ok()) {
          inner = parent.status();
          return false;
        }
        AddParent(*input, *parent);
        return true;
      }));
  RETURN_IF_ERROR(inner);
  RETURN_IF_ERROR(store.Scan(
      kProducts, "", "", [&](std::string_view key, std::string_view value) {
        v1::Product product;
        if (!product.ParseFromArray(value.data(),
                                    static_cast<int>(value.size()))) {
          inner = absl::DataLossError(
              absl::StrCat("stored product ", Sv(key), " cannot be decoded"));
          return false;
        }
        const uint32_t item = InternItem(key);
        if (!kind_folded_[item]) kinds_[item] = product.kind();
        return true;
      }));
  RETURN_IF_ERROR(inner);
  loaded_.store(true, std::memory_order_release);
  return absl::OkStatus();
}

absl::StatusOr<v1::TraceResponse> GenealogyIndex::Trace(std::string_view lot_id,
                                                        bool backward,
                                                        int max_depth) const {
  absl::ReaderMutexLock l(&mu_);
  const int64_t root = Find(lot_id);
  if (root < 0 || !(flags_[root] & kCreated)) return LotDoesNotExist(lot_id);
  auto created = [this](uint32_t lot) { return (flags_[lot] & kCreated) != 0; };
  auto set = [](std::string* out, std::string_view v) {
    out->assign(v.data(), v.size());
  };
  auto add_edge = [&](v1::TraceResponse& out, uint32_t parent, uint32_t child,
                      const InEdge& e) {
    v1::TraceEdge* edge = out.add_edges();
    set(edge->mutable_parent_lot_id(), IdOf(parent));
    set(edge->mutable_child_lot_id(), IdOf(child));
    v1::Quantity* q = edge->mutable_quantity();
    q->set_amount(e.amount);
    set(q->mutable_uom(), uoms_[e.uom]);
  };

  // The same walk as TraceFromStore, level by level.
  v1::TraceResponse out;
  absl::flat_hash_set<uint32_t> seen = {static_cast<uint32_t>(root)};
  std::vector<uint32_t> level = {static_cast<uint32_t>(root)};
  std::vector<uint32_t> next;
  for (int depth = 0; !level.empty(); ++depth) {
    next.clear();
    for (const uint32_t id : level) {
      v1::TraceNode* node = out.add_nodes();
      set(node->mutable_lot_id(), IdOf(id));
      set(node->mutable_item(), items_[item_[id]]);
      set(node->mutable_lot_number(), LotNumberOf(id));
      node->set_kind(kinds_[item_[id]]);
      v1::Date* expires = node->mutable_expires_on();
      expires->set_year(expiry_[id].year);
      expires->set_month(expiry_[id].month);
      expires->set_day(expiry_[id].day);
      node->set_depth(depth);
      const bool has_next =
          backward ? in_count_[id] > 0 : !ParentsOf(id).empty();
      if (has_next && depth == max_depth) out.set_truncated(true);
      if (!has_next || depth == max_depth) continue;
      if (backward) {
        for (const InEdge& in : InputsOf(id)) {
          add_edge(out, id, in.child, in);
          if (seen.insert(in.child).second) next.push_back(in.child);
        }
      } else {
        for (const uint32_t parent : ParentsOf(id)) next.push_back(parent);
      }
    }
    // What the store walk fetches next must exist; the first that does
    // not is named.
    for (const uint32_t id : next) {
      if (!created(id)) return LotDoesNotExist(IdOf(id));
    }
    if (!backward) {
      // A forward edge's quantity is on the parent's input line.
      std::vector<uint32_t> fresh;
      for (const uint32_t id : level) {
        if (depth == max_depth) break;
        for (const uint32_t parent : ParentsOf(id)) {
          for (const InEdge& in : InputsOf(parent)) {
            if (in.child == id) add_edge(out, parent, id, in);
          }
          if (seen.insert(parent).second) fresh.push_back(parent);
        }
      }
      next = std::move(fresh);
    }
    std::swap(level, next);
  }
  return out;
}

GenealogyIndex::Stats GenealogyIndex::stats() const {
  absl::ReaderMutexLock l(&mu_);
  Stats s;
  s.lots = ids_.size();
  for (const uint32_t n : in_count_) s.backward_edges += n;
  s.forward_edges = forward_edges_;
  s.bytes = ids_.bytes() + Bytes(item_) + Bytes(expiry_) + Bytes(flags_) +
            Bytes(in_start_) + Bytes(in_count_) + Bytes(in_pool_) +
            Bytes(fwd_) + Bytes(fwd_many_);
  for (const auto& parents : fwd_many_) s.bytes += Bytes(parents);
  for (const auto& [lot, number] : odd_numbers_) {
    s.bytes += sizeof(lot) + sizeof(number) + number.capacity() + 1;
  }
  return s;
}

}  // namespace lotledger::lots
