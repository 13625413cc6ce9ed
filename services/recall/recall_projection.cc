#include "services/recall/recall_projection.h"

#include <algorithm>
#include <limits>
#include <map>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/common/status_macros.h"
#include "libs/common/trace_context.h"
#include "libs/common/wire.h"
#include "libs/domain/recall/decider.h"
#include "libs/domain/serials/serials.h"
#include "libs/projection/stored_message.h"

namespace lotledger::recall {
namespace {

constexpr char kLots[] = "rc_lots";
constexpr char kMade[] = "rc_made";
constexpr char kCustomers[] = "rc_customers";
constexpr char kRecalls[] = "recalls";
constexpr char kIndex[] = "recall_index";
constexpr char kDrills[] = "drills";
constexpr char kMarks[] = "rc_scope_marks";
constexpr char kPending[] = "rc_pending";
constexpr char kSerialItems[] = "rc_serial_items";
constexpr char kSerials[] = "rc_serials";
constexpr char kSerialHoldings[] = "rc_serial_holdings";
constexpr char kSerialStock[] = "rc_serial_stock";

std::string Joined(std::string_view a, std::string_view b) {
  std::string out;
  out.reserve(a.size() + 1 + b.size());
  out.append(a).push_back('\0');
  out.append(b);
  return out;
}
std::string Joined(std::string_view a, std::string_view b, std::string_view c) {
  return Joined(Joined(a, b), c);
}

std::string DateKey(const v1::Date& d) {
  return absl::StrFormat("%04d%02d%02d", d.year(), d.month(), d.day());
}

std::string MadeKey(const std::string& item, const v1::Date& made,
                    const std::string& lot_id) {
  return absl::StrCat(item, std::string(1, '\0'), DateKey(made),
                      std::string(1, '\0'), lot_id);
}

v1::RecallSummary Summarize(const v1::Recall& r) {
  v1::RecallSummary s;
  s.set_recall_id(r.recall_id());
  s.set_status(r.status());
  s.set_classification(r.classification());
  s.set_title(r.title());
  s.set_lots_in_scope(r.lots_in_scope());
  *s.mutable_initiated_at() = r.initiated_at();
  s.set_initiated_by(r.initiated_by());
  if (r.has_closed_at()) *s.mutable_closed_at() = r.closed_at();
  return s;
}

// ---- Lots made later
// --------------------------------------------------------- A recall that
// includes derived lots covers every lot made from a lot in its scope, also one
// made after it was initiated. The projection marks, per lot, the recalls whose
// scope includes it (kMarks), and keeps per recall the lots that must join its
// scope and are not recorded yet (kPending); the service's reactor records them
// (RecallScopeExtended), and queries show them meanwhile. The result depends
// only on which events were applied, not on how the topics interleave: a lot
// made before the recall's initiation was folded is found by the walk at its
// last part, one folded after it by its LotCreated.

absl::StatusOr<v1::LotScopeMarks> MarksOf(
    projection::ProjectionStore::Batch& batch, const std::string& lot_id) {
  ASSIGN_OR_RETURN(std::optional<v1::LotScopeMarks> marks,
                   projection::ParseStored<v1::LotScopeMarks>(
                       batch.Get(kMarks, lot_id), "lot scope marks"));
  return marks.value_or(v1::LotScopeMarks());
}

const v1::LotScopeMark* FindMark(const v1::LotScopeMarks& marks,
                                 const std::string& recall_id) {
  for (const v1::LotScopeMark& m : marks.marks()) {
    if (m.recall_id() == recall_id) return &m;
  }
  return nullptr;
}

// Sets the mark of `recall_id` on `lot_id` (kept sorted by recall id).
absl::Status SetMark(projection::ProjectionStore::Batch& batch,
                     const std::string& lot_id, const std::string& recall_id,
                     bool pending, int32_t depth) {
  ASSIGN_OR_RETURN(v1::LotScopeMarks marks, MarksOf(batch, lot_id));
  auto* all = marks.mutable_marks();
  auto it =
      std::lower_bound(all->begin(), all->end(), recall_id,
                       [](const v1::LotScopeMark& m, const std::string& id) {
                         return m.recall_id() < id;
                       });
  if (it == all->end() || it->recall_id() != recall_id) {
    const int index = static_cast<int>(it - all->begin());
    all->Add()->set_recall_id(recall_id);
    for (int i = all->size() - 1; i > index; --i) all->SwapElements(i, i - 1);
    it = all->begin() + index;
  }
  it->set_pending(pending);
  it->set_depth(depth);
  batch.Put(kMarks, lot_id, marks.SerializeAsString());
  return absl::OkStatus();
}

absl::StatusOr<v1::PendingScope> PendingOf(
    projection::ProjectionStore::Batch& batch, const std::string& recall_id) {
  ASSIGN_OR_RETURN(std::optional<v1::PendingScope> pending,
                   projection::ParseStored<v1::PendingScope>(
                       batch.Get(kPending, recall_id), "pending scope"));
  return pending.value_or(v1::PendingScope());
}

void PutPending(projection::ProjectionStore::Batch& batch,
                const std::string& recall_id, const v1::PendingScope& p) {
  if (p.lots().empty()) {
    batch.Delete(kPending, recall_id);
  } else {
    batch.Put(kPending, recall_id, p.SerializeAsString());
  }
}

absl::StatusOr<std::optional<v1::RecallLotNode>> NodeOf(
    projection::ProjectionStore::Batch& batch, const std::string& lot_id) {
  return projection::ParseStored<v1::RecallLotNode>(batch.Get(kLots, lot_id),
                                                    "recall lot node");
}

// The ScopedLot of a lot made from `via`, from its node (only the id while
// its LotCreated has not been applied).
v1::ScopedLot Derived(const std::string& lot_id,
                      const std::optional<v1::RecallLotNode>& node,
                      const std::string& via, int32_t depth) {
  v1::ScopedLot s;
  s.set_lot_id(lot_id);
  s.set_reason(v1::SCOPE_REASON_DERIVED);
  s.set_via_lot_id(via);
  s.set_depth(depth);
  if (node.has_value() && node->created()) {
    s.set_item(node->item());
    s.set_lot_number(node->lot_number());
    *s.mutable_manufactured_on() = node->manufactured_on();
    *s.mutable_expires_on() = node->expires_on();
    s.set_uom(node->uom());
  }
  return s;
}

// Adds (or refreshes) `lot` among the recall's pending lots.
absl::Status AddPending(projection::ProjectionStore::Batch& batch,
                        const std::string& recall_id,
                        const v1::ScopedLot& lot) {
  ASSIGN_OR_RETURN(v1::PendingScope pending, PendingOf(batch, recall_id));
  // The projector applies each event under that event's trace.
  if (const TraceContext& trace = CurrentTrace(); trace.valid()) {
    (*pending.mutable_traceparent_by_lot())[lot.lot_id()] =
        trace.ToTraceparent();
  }
  for (v1::ScopedLot& s : *pending.mutable_lots()) {
    if (s.lot_id() != lot.lot_id()) continue;
    s = lot;
    PutPending(batch, recall_id, pending);
    return absl::OkStatus();
  }
  *pending.add_lots() = lot;
  PutPending(batch, recall_id, pending);
  return absl::OkStatus();
}

absl::Status RemovePending(projection::ProjectionStore::Batch& batch,
                           const std::string& recall_id,
                           const std::string& lot_id) {
  ASSIGN_OR_RETURN(v1::PendingScope pending, PendingOf(batch, recall_id));
  auto* lots = pending.mutable_lots();
  const int before = lots->size();
  lots->erase(std::remove_if(
                  lots->begin(), lots->end(),
                  [&](const v1::ScopedLot& s) { return s.lot_id() == lot_id; }),
              lots->end());
  if (lots->size() != before) {
    pending.mutable_traceparent_by_lot()->erase(lot_id);
    PutPending(batch, recall_id, pending);
  }
  return absl::OkStatus();
}

// Every lot made from `lot_id` (at `depth`), at any depth, that does not
// carry the recall's mark yet: marked pending and added to its pending
// lots, breadth first.
absl::Status PropagateFrom(projection::ProjectionStore::Batch& batch,
                           const std::string& recall_id,
                           const std::string& lot_id, int32_t depth) {
  std::vector<std::pair<std::string, int32_t>> level = {{lot_id, depth}};
  while (!level.empty()) {
    std::vector<std::pair<std::string, int32_t>> next;
    for (const auto& [parent, d] : level) {
      ASSIGN_OR_RETURN(std::optional<v1::RecallLotNode> node,
                       NodeOf(batch, parent));
      if (!node.has_value()) continue;
      for (const std::string& child : node->used_in()) {
        ASSIGN_OR_RETURN(v1::LotScopeMarks marks, MarksOf(batch, child));
        if (FindMark(marks, recall_id) != nullptr) continue;
        RETURN_IF_ERROR(SetMark(batch, child, recall_id, true, d + 1));
        ASSIGN_OR_RETURN(std::optional<v1::RecallLotNode> child_node,
                         NodeOf(batch, child));
        RETURN_IF_ERROR(AddPending(batch, recall_id,
                                   Derived(child, child_node, parent, d + 1)));
        next.emplace_back(child, d + 1);
      }
    }
    level = std::move(next);
  }
  return absl::OkStatus();
}

// True when `recall` grows with the lots made from its scope now: open,
// including derived lots, every part of its initiation applied (its scope
// holds as many lots as part 0 announced, or more once extended).
bool Grows(const v1::Recall& recall) {
  return recall.status() == v1::RECALL_STATUS_OPEN &&
         recall.criteria().include_derived() && recall.lots_in_scope() > 0 &&
         recall.lots_in_scope() <= recall.scope_size();
}

// Marks of the recall-topic event that changed `recall`.
absl::Status MarkScope(const v1::Event& event, const v1::Recall& recall,
                       projection::ProjectionStore::Batch& batch) {
  const std::string& id = recall.recall_id();
  if (!recall.criteria().include_derived()) return absl::OkStatus();
  if (event.has_recall_initiated()) {
    for (const v1::ScopedLot& s : event.recall_initiated().lots()) {
      RETURN_IF_ERROR(SetMark(batch, s.lot_id(), id, false, s.depth()));
    }
    // Once the whole scope is in: lots made from it that the scope walk
    // did not see (applied after the initiation was decided).
    if (Grows(recall)) {
      for (const v1::ScopedLot& s : recall.scope()) {
        RETURN_IF_ERROR(PropagateFrom(batch, id, s.lot_id(), s.depth()));
      }
    }
    return absl::OkStatus();
  }
  if (event.has_recall_scope_extended()) {
    for (const v1::ScopedLot& s : event.recall_scope_extended().lots()) {
      RETURN_IF_ERROR(SetMark(batch, s.lot_id(), id, false, s.depth()));
      RETURN_IF_ERROR(RemovePending(batch, id, s.lot_id()));
      if (Grows(recall)) {
        RETURN_IF_ERROR(PropagateFrom(batch, id, s.lot_id(), s.depth()));
      }
    }
    return absl::OkStatus();
  }
  if (event.has_recall_closed() && event.recall_closed().part_index() == 0) {
    batch.Delete(kPending, id);  // a closed recall's scope does not grow
  }
  return absl::OkStatus();
}

// A LotCreated: the new lot joins the scope of every growing recall whose
// scope includes one of its inputs.
absl::Status MarkCreatedLot(const v1::LotCreated& created,
                            projection::ProjectionStore::Batch& batch) {
  std::map<std::string, std::optional<v1::Recall>> recalls;
  for (const v1::LotInput& in : created.inputs()) {
    ASSIGN_OR_RETURN(v1::LotScopeMarks marks, MarksOf(batch, in.lot_id()));
    for (const v1::LotScopeMark& m : marks.marks()) {
      auto it = recalls.find(m.recall_id());
      if (it == recalls.end()) {
        ASSIGN_OR_RETURN(std::optional<v1::Recall> r,
                         projection::ParseStored<v1::Recall>(
                             batch.Get(kRecalls, m.recall_id()), "recall"));
        it = recalls.emplace(m.recall_id(), std::move(r)).first;
      }
      if (!it->second.has_value() || !Grows(*it->second)) continue;
      ASSIGN_OR_RETURN(v1::LotScopeMarks own, MarksOf(batch, created.lot_id()));
      const v1::LotScopeMark* mine = FindMark(own, m.recall_id());
      ASSIGN_OR_RETURN(std::optional<v1::RecallLotNode> node,
                       NodeOf(batch, created.lot_id()));
      if (mine != nullptr) {
        // Found earlier through a forward edge: now with its own facts.
        if (mine->pending()) {
          ASSIGN_OR_RETURN(v1::PendingScope pending,
                           PendingOf(batch, m.recall_id()));
          for (const v1::ScopedLot& s : pending.lots()) {
            if (s.lot_id() != created.lot_id()) continue;
            RETURN_IF_ERROR(AddPending(
                batch, m.recall_id(),
                Derived(created.lot_id(), node, s.via_lot_id(), s.depth())));
          }
        }
        continue;
      }
      RETURN_IF_ERROR(
          SetMark(batch, created.lot_id(), m.recall_id(), true, m.depth() + 1));
      RETURN_IF_ERROR(AddPending(
          batch, m.recall_id(),
          Derived(created.lot_id(), node, in.lot_id(), m.depth() + 1)));
      RETURN_IF_ERROR(
          PropagateFrom(batch, m.recall_id(), created.lot_id(), m.depth() + 1));
    }
  }
  return absl::OkStatus();
}

absl::Status ApplyRecallTopic(const v1::Event& event,
                              projection::ProjectionStore::Batch& batch) {
  if (event.has_recall_drill_completed()) {
    if (event.recall_drill_completed().part_index() == 0) {
      batch.Put(kDrills, event.aggregate_id(), event.SerializeAsString());
    }
    return absl::OkStatus();
  }
  const std::string& id = event.aggregate_id();
  ASSIGN_OR_RETURN(
      std::optional<v1::Recall> before,
      projection::ParseStored<v1::Recall>(batch.Get(kRecalls, id), "recall"));
  v1::Recall recall = before.value_or(v1::Recall());
  Evolve(recall, event);
  batch.Put(kRecalls, id, recall.SerializeAsString());
  batch.Put(kIndex, id, Summarize(recall).SerializeAsString());
  return MarkScope(event, recall, batch);
}

// ---- Serials
// ----------------------------------------------------------------- Serialised
// products (ProductDefined), the serial register (SerialsAssigned) and where
// each serial of a lot is: at a customer (shipped, returned, used) or in own
// stock (by location). Keyed by the lot, each fact comes from one topic, so the
// result does not depend on how the topics interleave.

// Changes the customer's holding of each serial of `ranges` by `change`.
template <typename Change>
absl::Status ChangeHoldings(projection::ProjectionStore::Batch& batch,
                            const std::string& lot_id,
                            const std::string& customer_id,
                            const domain::SerialRanges& ranges,
                            Change&& change) {
  for (const std::string& serial : domain::SerialsOf(ranges)) {
    const std::string key = Joined(lot_id, customer_id, serial);
    ASSIGN_OR_RETURN(std::optional<v1::SerialHolding> before,
                     projection::ParseStored<v1::SerialHolding>(
                         batch.Get(kSerialHoldings, key), "serial holding"));
    v1::SerialHolding h = before.value_or(v1::SerialHolding());
    change(h);
    batch.Put(kSerialHoldings, key, h.SerializeAsString());
  }
  return absl::OkStatus();
}

// Adds `delta` to the count of each serial of `ranges` at `location_id`:
// sums, so the result does not depend on the order the lot's movements
// are applied in (as RecallLotNode's stock).
absl::Status CountSerials(projection::ProjectionStore::Batch& batch,
                          const std::string& lot_id,
                          const domain::SerialRanges& ranges,
                          const std::string& location_id, int64_t delta) {
  if (location_id.empty()) return absl::OkStatus();
  for (const std::string& serial : domain::SerialsOf(ranges)) {
    const std::string key = Joined(lot_id, serial, location_id);
    ASSIGN_OR_RETURN(std::optional<std::string> before,
                     batch.Get(kSerialStock, key));
    int64_t count = 0;
    if (before.has_value() && !absl::SimpleAtoi(*before, &count)) {
      return absl::DataLossError(
          absl::StrCat("stored serial stock of ", lot_id, " is not a number"));
    }
    count += delta;
    if (count == 0) {
      batch.Delete(kSerialStock, key);
    } else {
      batch.Put(kSerialStock, key, absl::StrCat(count));
    }
  }
  return absl::OkStatus();
}

absl::Status ApplySerials(const v1::Event& event,
                          projection::ProjectionStore::Batch& batch) {
  switch (event.payload_case()) {
    case v1::Event::kProductDefined: {
      const v1::Product& p = event.product_defined().product();
      if (p.item().empty()) return absl::OkStatus();
      if (p.tracking() == v1::TRACKING_SERIAL) {
        batch.Put(kSerialItems, p.item(), "");
      } else {
        batch.Delete(kSerialItems, p.item());
      }
      return absl::OkStatus();
    }
    case v1::Event::kSerialsAssigned: {
      const v1::SerialsAssigned& a = event.serials_assigned();
      for (const std::string& serial : domain::SerialsOf(a.serials())) {
        batch.Put(kSerials, Joined(a.item(), serial), a.lot_id());
      }
      return absl::OkStatus();
    }
    case v1::Event::kStockReceived: {
      const v1::StockReceived& e = event.stock_received();
      return CountSerials(batch, e.lot_id(), e.serials(), e.location_id(), 1);
    }
    case v1::Event::kStockTransferred: {
      const v1::StockTransferred& e = event.stock_transferred();
      RETURN_IF_ERROR(CountSerials(batch, e.lot_id(), e.serials(),
                                   e.from_location_id(), -1));
      return CountSerials(batch, e.lot_id(), e.serials(), e.to_location_id(),
                          1);
    }
    case v1::Event::kStockShipped: {
      const v1::StockShipped& e = event.stock_shipped();
      RETURN_IF_ERROR(CountSerials(batch, e.lot_id(), e.serials(),
                                   e.from_location_id(), -1));
      return ChangeHoldings(
          batch, e.lot_id(), e.customer().customer_id(), e.serials(),
          [](v1::SerialHolding& h) { h.set_shipped(h.shipped() + 1); });
    }
    case v1::Event::kStockReturned: {
      const v1::StockReturned& e = event.stock_returned();
      RETURN_IF_ERROR(
          CountSerials(batch, e.lot_id(), e.serials(), e.to_location_id(), 1));
      return ChangeHoldings(
          batch, e.lot_id(), e.customer_id(), e.serials(),
          [](v1::SerialHolding& h) { h.set_returned(h.returned() + 1); });
    }
    case v1::Event::kDeviceUsageReported: {
      const v1::DeviceUsageReported& e = event.device_usage_reported();
      return ChangeHoldings(batch, e.lot_id(), e.customer_id(), e.serials(),
                            [](v1::SerialHolding& h) { h.set_used(true); });
    }
    case v1::Event::kStockScrapped: {
      const v1::StockScrapped& e = event.stock_scrapped();
      return CountSerials(batch, e.lot_id(), e.serials(), e.location_id(), -1);
    }
    case v1::Event::kStockAdjusted: {
      const v1::StockAdjusted& e = event.stock_adjusted();
      RETURN_IF_ERROR(CountSerials(batch, e.lot_id(), e.serials_found(),
                                   e.location_id(), 1));
      return CountSerials(batch, e.lot_id(), e.serials_missing(),
                          e.location_id(), -1);
    }
    default:
      return absl::OkStatus();
  }
}

}  // namespace

std::vector<std::string> RecallColumnFamilies() {
  return {kLots,        kMade,    kCustomers,      kRecalls,
          kIndex,       kDrills,  kMarks,          kPending,
          kSerialItems, kSerials, kSerialHoldings, kSerialStock};
}

std::set<std::string> RecallUncompressedColumnFamilies() { return {kLots}; }

namespace {

// ApplyRecallEvent; each lot node it leaves in the batch is added to
// `changed` when given.
absl::Status ApplyTo(const v1::Event& event,
                     projection::ProjectionStore::Batch& batch,
                     std::vector<RecallIndex::ChangedNode>* changed) {
  switch (event.payload_case()) {
    case v1::Event::kRecallInitiated:
    case v1::Event::kRecallNotificationIssued:
    case v1::Event::kRecallResponseRecorded:
    case v1::Event::kRecallClosed:
    case v1::Event::kRecallDrillCompleted:
    case v1::Event::kRecallScopeExtended:
      return ApplyRecallTopic(event, batch);
    default:
      break;
  }
  RETURN_IF_ERROR(ApplySerials(event, batch));
  if (event.has_stock_shipped()) {
    const v1::Customer& c = event.stock_shipped().customer();
    if (!c.customer_id().empty()) {
      batch.Put(kCustomers, c.customer_id(), c.SerializeAsString());
    }
  }
  for (const std::string& lot_id : NodeLotIds(event)) {
    if (lot_id.empty()) continue;
    ASSIGN_OR_RETURN(std::optional<v1::RecallLotNode> before,
                     projection::ParseStored<v1::RecallLotNode>(
                         batch.Get(kLots, lot_id), "recall lot node"));
    v1::RecallLotNode node = before.value_or(v1::RecallLotNode());
    EvolveLotNode(node, lot_id, event);
    const std::string after = node.SerializeAsString();
    if (!before.has_value() || before->SerializeAsString() != after) {
      const bool was_indexed = before.has_value() && before->created();
      if (was_indexed && (before->item() != node.item() ||
                          DateKey(before->manufactured_on()) !=
                              DateKey(node.manufactured_on()))) {
        batch.Delete(
            kMade, MadeKey(before->item(), before->manufactured_on(), lot_id));
      }
      if (node.created()) {
        batch.Put(kMade, MadeKey(node.item(), node.manufactured_on(), lot_id),
                  "");
      }
      batch.Put(kLots, lot_id, after);
    }
    if (changed != nullptr) changed->emplace_back(lot_id, std::move(node));
  }
  // After the nodes: a lot made from a lot in a growing recall's scope
  // joins it (its node, and its inputs' forward edges, are in place).
  if (event.has_lot_created()) {
    RETURN_IF_ERROR(MarkCreatedLot(event.lot_created(), batch));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ApplyRecallEvent(const eventlog::Record& /*record*/,
                              const v1::Event& event,
                              projection::ProjectionStore::Batch& batch) {
  return ApplyTo(event, batch, nullptr);
}

absl::Status IndexedRecallApply::operator()(
    const eventlog::Record& record, const v1::Event& event,
    projection::ProjectionStore::Batch& batch) const {
  std::vector<RecallIndex::ChangedNode> changed;
  RETURN_IF_ERROR(ApplyTo(event, batch, &changed));
  return index->Observe(record, event, changed);
}

absl::StatusOr<std::optional<v1::Recall>> RecallQueries::FindRecall(
    std::string_view recall_id, bool with_pending) const {
  ASSIGN_OR_RETURN(std::optional<v1::Recall> recall,
                   projection::ParseStored<v1::Recall>(
                       store_->Get(kRecalls, recall_id), "recall"));
  if (!recall.has_value() || !with_pending) return recall;
  RETURN_IF_ERROR(AppendPending(recall_id, &*recall));
  return recall;
}

absl::Status RecallQueries::AppendPending(std::string_view recall_id,
                                          v1::Recall* recall) const {
  ASSIGN_OR_RETURN(std::optional<v1::PendingScope> pending,
                   projection::ParseStored<v1::PendingScope>(
                       store_->Get(kPending, recall_id), "pending scope"));
  if (pending.has_value()) {
    for (const v1::ScopedLot& s : pending->lots()) *recall->add_scope() = s;
    recall->set_lots_in_scope(recall->lots_in_scope() + pending->lots_size());
  }
  return absl::OkStatus();
}

absl::Status RecallQueries::ScanPending(
    const std::function<bool(const std::string& recall_id,
                             const v1::ScopedLot& lot,
                             const std::string& traceparent)>& fn) const {
  absl::Status inner;
  RETURN_IF_ERROR(store_->Scan(
      kPending, "", "", [&](std::string_view key, std::string_view value) {
        v1::PendingScope pending;
        if (!pending.ParseFromArray(value.data(),
                                    static_cast<int>(value.size()))) {
          inner = absl::DataLossError(absl::StrCat(
              "stored pending scope of ", Sv(key), " cannot be decoded"));
          return false;
        }
        const std::string recall_id(key);
        for (const v1::ScopedLot& lot : pending.lots()) {
          const auto tp = pending.traceparent_by_lot().find(lot.lot_id());
          if (!fn(recall_id, lot,
                  tp == pending.traceparent_by_lot().end() ? std::string()
                                                           : tp->second)) {
            return false;
          }
        }
        return true;
      }));
  return inner;
}

absl::StatusOr<v1::Recall> RecallQueries::GetRecall(
    std::string_view recall_id) const {
  ASSIGN_OR_RETURN(std::optional<v1::Recall> recall, FindRecall(recall_id));
  if (!recall.has_value() ||
      recall->status() == v1::RECALL_STATUS_UNSPECIFIED) {
    return absl::NotFoundError(
        absl::StrCat("recall ", Sv(recall_id), " does not exist"));
  }
  return *std::move(recall);
}

absl::StatusOr<v1::Recall*> RecallQueries::GetRecall(
    std::string_view recall_id, google::protobuf::Arena* arena) const {
  ASSIGN_OR_RETURN(std::optional<std::string> value,
                   store_->Get(kRecalls, recall_id));
  auto* recall = google::protobuf::Arena::CreateMessage<v1::Recall>(arena);
  if (value.has_value() && !recall->ParseFromString(*value)) {
    return absl::DataLossError("stored recall cannot be decoded");
  }
  if (!value.has_value() || recall->status() == v1::RECALL_STATUS_UNSPECIFIED) {
    return absl::NotFoundError(
        absl::StrCat("recall ", Sv(recall_id), " does not exist"));
  }
  // As FindRecall: the lots waiting to join the scope follow it.
  RETURN_IF_ERROR(AppendPending(recall_id, recall));
  return recall;
}

absl::Status RecallQueries::ReadScope(std::string_view recall_id,
                                      StoredScope* scope) const {
  scope->values.clear();
  scope->rows.clear();
  scope->lot_ids.clear();
  scope->values.reserve(2);  // the rows point into them
  ASSIGN_OR_RETURN(std::optional<std::string> value,
                   store_->Get(kRecalls, recall_id));
  uint64_t status = 0;
  if (value.has_value() &&
      !LastWireVarint(*value, v1::Recall::kStatusFieldNumber, &status)) {
    return absl::DataLossError("stored recall cannot be decoded");
  }
  if (!value.has_value() || status == v1::RECALL_STATUS_UNSPECIFIED) {
    return absl::NotFoundError(
        absl::StrCat("recall ", Sv(recall_id), " does not exist"));
  }
  scope->values.push_back(*std::move(value));
  if (!scope->AddRows(0, v1::Recall::kScopeFieldNumber)) {
    return absl::DataLossError("stored recall cannot be decoded");
  }
  ASSIGN_OR_RETURN(std::optional<std::string> pending,
                   store_->Get(kPending, recall_id));
  if (pending.has_value()) {
    scope->values.push_back(*std::move(pending));
    if (!scope->AddRows(1, v1::PendingScope::kLotsFieldNumber)) {
      return absl::DataLossError("stored pending scope cannot be decoded");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<v1::Event>> RecallQueries::FindDrill(
    std::string_view drill_id) const {
  return projection::ParseStored<v1::Event>(store_->Get(kDrills, drill_id),
                                            "drill");
}

absl::StatusOr<v1::ListRecallsResponse> RecallQueries::ListRecalls(
    const v1::ListRecallsRequest& request) const {
  const int page_size = request.page_size() == 0 ? 100 : request.page_size();
  if (page_size < 0 || page_size > 1000) {
    return absl::InvalidArgumentError("page_size: must be 1..1000");
  }
  v1::ListRecallsResponse out;
  absl::Status inner;
  std::string last;
  RETURN_IF_ERROR(store_->Scan(
      kIndex, "", request.page_token(),
      [&](std::string_view key, std::string_view value) {
        v1::RecallSummary s;
        if (!s.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          inner = absl::DataLossError(absl::StrCat(
              "stored recall summary ", Sv(key), " cannot be decoded"));
          return false;
        }
        if (s.status() == v1::RECALL_STATUS_UNSPECIFIED) return true;
        if (request.status() != v1::RECALL_STATUS_UNSPECIFIED &&
            s.status() != request.status()) {
          return true;
        }
        if (out.recalls_size() == page_size) {
          out.set_next_page_token(last);
          return false;
        }
        *out.add_recalls() = std::move(s);
        last.assign(key);
        return true;
      }));
  RETURN_IF_ERROR(inner);
  return out;
}

FetchNodes RecallQueries::Fetcher(google::protobuf::Arena* arena) const {
  return [store = store_, arena](
             const std::vector<std::string>& ids,
             std::vector<const v1::RecallLotNode*>* out) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<std::optional<std::string>> values,
                     store->MultiGet(kLots, ids));
    out->assign(ids.size(), nullptr);
    for (size_t i = 0; i < ids.size(); ++i) {
      if (!values[i].has_value()) continue;
      auto* node =
          google::protobuf::Arena::CreateMessage<v1::RecallLotNode>(arena);
      if (!node->ParseFromString(*values[i])) {
        return absl::DataLossError(absl::StrCat("stored recall lot node ",
                                                ids[i], " cannot be decoded"));
      }
      (*out)[i] = node;
    }
    return absl::OkStatus();
  };
}

absl::StatusOr<std::vector<std::string>> RecallQueries::LotsMadeInRange(
    const std::string& item, const v1::Date& from, const v1::Date& to) const {
  const std::string prefix = absl::StrCat(item, std::string(1, '\0'));
  const std::string first = DateKey(from), last = DateKey(to);
  std::string start_after = absl::StrCat(prefix, first);
  start_after.back()--;  // sorts just before the first day's keys
  std::vector<std::string> out;
  RETURN_IF_ERROR(store_->Scan(
      kMade, prefix, start_after, [&](std::string_view key, std::string_view) {
        std::string_view rest = key.substr(prefix.size());
        if (rest.substr(0, 8) > last) return false;
        if (rest.substr(0, 8) >= first) out.emplace_back(rest.substr(9));
        return true;
      }));
  return out;
}

absl::StatusOr<CustomerMap> RecallQueries::Customers(
    const std::vector<std::string>& ids) const {
  CustomerMap out;
  if (ids.empty()) return out;
  ASSIGN_OR_RETURN(std::vector<std::optional<std::string>> values,
                   store_->MultiGet(kCustomers, ids));
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!values[i].has_value()) continue;
    v1::Customer c;
    if (!c.ParseFromString(*values[i])) {
      return absl::DataLossError(
          absl::StrCat("stored customer ", ids[i], " cannot be decoded"));
    }
    out.emplace(ids[i], std::move(c));
  }
  return out;
}

absl::StatusOr<bool> RecallQueries::IsSerialised(
    const std::string& item) const {
  ASSIGN_OR_RETURN(std::optional<std::string> v,
                   store_->Get(kSerialItems, item));
  return v.has_value();
}

absl::StatusOr<bool> RecallQueries::AnySerialised() const {
  bool any = false;
  RETURN_IF_ERROR(store_->Scan(kSerialItems, "", "",
                               [&](std::string_view, std::string_view) {
                                 any = true;
                                 return false;
                               }));
  return any;
}

absl::StatusOr<std::vector<std::string>> RecallQueries::SerialisedItems()
    const {
  std::vector<std::string> out;
  RETURN_IF_ERROR(store_->Scan(kSerialItems, "", "",
                               [&](std::string_view key, std::string_view) {
                                 out.emplace_back(key);
                                 return true;
                               }));
  return out;
}

absl::StatusOr<std::vector<std::string>> RecallQueries::LotsOfSerials(
    const std::string& item, const std::vector<std::string>& serials) const {
  std::vector<std::string> keys;
  keys.reserve(serials.size());
  for (const std::string& serial : serials)
    keys.push_back(Joined(item, serial));
  ASSIGN_OR_RETURN(std::vector<std::optional<std::string>> values,
                   store_->MultiGet(kSerials, keys));
  std::vector<std::string> out;
  out.reserve(values.size());
  for (std::optional<std::string>& v : values) {
    out.push_back(v.has_value() ? *std::move(v) : std::string());
  }
  return out;
}

absl::StatusOr<SerialDetail> RecallQueries::SerialDetailOf(
    const ScopeList& scope) const {
  SerialDetail out;
  std::vector<std::string> items;
  {
    absl::flat_hash_set<std::string_view> seen;
    for (const v1::ScopedLot& s : scope) {
      if (seen.insert(s.item()).second) items.emplace_back(s.item());
    }
  }
  if (items.empty()) return out;
  ASSIGN_OR_RETURN(std::vector<std::optional<std::string>> serialised,
                   store_->MultiGet(kSerialItems, items));
  absl::flat_hash_set<std::string_view> by_serial;
  for (size_t i = 0; i < items.size(); ++i) {
    if (serialised[i].has_value()) by_serial.insert(items[i]);
  }
  if (by_serial.empty()) return out;
  absl::Status inner;
  for (const v1::ScopedLot& s : scope) {
    if (!by_serial.contains(s.item())) continue;
    auto [it, fresh] = out.try_emplace(s.lot_id());
    if (!fresh) continue;
    LotSerials& lot = it->second;
    const std::string prefix = Joined(s.lot_id(), "");
    RETURN_IF_ERROR(store_->Scan(
        kSerialHoldings, prefix, "",
        [&](std::string_view key, std::string_view value) {
          std::string_view rest = key.substr(prefix.size());
          const size_t sep = rest.find('\0');
          v1::SerialHolding h;
          if (sep == std::string_view::npos ||
              !h.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
            inner = absl::DataLossError(absl::StrCat(
                "stored serial holding of ", s.lot_id(), " cannot be decoded"));
            return false;
          }
          lot.holdings.push_back(
              {.customer_id = std::string(rest.substr(0, sep)),
               .serial = std::string(rest.substr(sep + 1)),
               .shipped = h.shipped(),
               .returned = h.returned(),
               .used = h.used()});
          return true;
        }));
    RETURN_IF_ERROR(inner);
    RETURN_IF_ERROR(store_->Scan(
        kSerialStock, prefix, "",
        [&](std::string_view key, std::string_view value) {
          std::string_view rest = key.substr(prefix.size());
          const size_t sep = rest.find('\0');
          int64_t count = 0;
          if (sep == std::string_view::npos ||
              !absl::SimpleAtoi(Sv(value), &count)) {
            inner = absl::DataLossError(absl::StrCat(
                "stored serial stock of ", s.lot_id(), " cannot be decoded"));
            return false;
          }
          if (count > 0) {
            lot.stock.push_back(
                {.serial = std::string(rest.substr(0, sep)),
                 .location_id = std::string(rest.substr(sep + 1))});
          }
          return true;
        }));
    RETURN_IF_ERROR(inner);
  }
  return out;
}

absl::Status RecallQueries::ScopeAndImpactFromStore(
    const v1::RecallCriteria& criteria, ScopeList* scope,
    v1::RecallImpact* impact) const {
  std::vector<std::string> in_range;
  if (!criteria.item().empty()) {
    ASSIGN_OR_RETURN(in_range,
                     LotsMadeInRange(criteria.item(), criteria.made_from(),
                                     criteria.made_to()));
  }
  // The walk's lot nodes live on one arena, freed at once: a 16,000-lot
  // scope is ~200,000 small allocations otherwise.
  google::protobuf::Arena arena;
  NodeMap nodes;
  RETURN_IF_ERROR(
      ComputeScope(criteria, in_range, Fetcher(&arena), &nodes, scope));
  ASSIGN_OR_RETURN(CustomerMap customers,
                   Customers(AffectedCustomerIds(*scope, nodes)));
  ComputeImpact(*scope, nodes, customers, impact);
  return absl::OkStatus();
}

absl::Status RecallQueries::ImpactFromStore(const ScopeList& scope,
                                            v1::RecallImpact* impact) const {
  std::vector<std::string> ids;
  ids.reserve(scope.size());
  for (const v1::ScopedLot& s : scope) ids.push_back(s.lot_id());
  google::protobuf::Arena arena;
  std::vector<const v1::RecallLotNode*> got;
  RETURN_IF_ERROR(Fetcher(&arena)(ids, &got));
  NodeMap nodes;
  nodes.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    if (got[i] != nullptr) nodes.emplace(ids[i], got[i]);
  }
  ASSIGN_OR_RETURN(CustomerMap customers,
                   Customers(AffectedCustomerIds(scope, nodes)));
  ComputeImpact(scope, nodes, customers, impact);
  return absl::OkStatus();
}

}  // namespace lotledger::recall
