// Evolve, NodeLotIds and EvolveLotNode of decider.h: how a recall and the
// recall view of a lot fold the recall, lots and inventory topics. Pure and
// total; Decide is in decider.cc.
#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/timestamp.pb.h"
#include "libs/domain/common/sorted_entries.h"
#include "libs/domain/lots/correction.h"
#include "libs/domain/lots/dates.h"
#include "libs/domain/recall/decider.h"

namespace lotledger::recall {
namespace {

using google::protobuf::Timestamp;

const Timestamp& BusinessTime(const v1::Event& event) {
  return event.has_occurred_at() ? event.occurred_at() : event.recorded_at();
}

// Adds `delta` at `location_id` (see domain::AddLocationStock) and to the
// lot's stock on hand.
void AddStock(v1::RecallLotNode& node, const std::string& location_id,
              int64_t delta) {
  domain::AddLocationStock(node.mutable_stock(), location_id, delta);
  node.set_on_hand(node.on_hand() + delta);
}

// What customer `id` was shipped and returned of the lot.
v1::CustomerHolding& Holding(v1::RecallLotNode& node, const std::string& id) {
  return domain::SortedEntry(
      node.mutable_customers(), id,
      [](const v1::CustomerHolding& h) -> const std::string& {
        return h.customer_id();
      },
      [](v1::CustomerHolding& h, const std::string& x) {
        h.set_customer_id(x);
      });
}

}  // namespace

void Evolve(v1::Recall& recall, const v1::Event& event) {
  switch (event.payload_case()) {
    case v1::Event::kRecallInitiated: {
      const v1::RecallInitiated& r = event.recall_initiated();
      recall.set_recall_id(r.recall_id());
      if (r.part_index() == 0) {
        recall.set_status(v1::RECALL_STATUS_OPEN);
        recall.set_classification(r.classification());
        recall.set_title(r.title());
        recall.set_reason(r.reason());
        recall.set_health_hazard(r.health_hazard());
        recall.set_instructions(r.instructions());
        *recall.mutable_criteria() = r.criteria();
        *recall.mutable_initiated_at() = BusinessTime(event);
        recall.set_initiated_by(event.actor());
        recall.set_lots_in_scope(r.lots_in_scope());
        recall.set_customers_at_initiation(r.customers_affected());
        recall.set_distributed_at_initiation(r.distributed());
        recall.set_outstanding_at_initiation(r.outstanding());
        recall.set_on_hand_at_initiation(r.on_hand());
        if (r.has_signature()) {
          *recall.mutable_initiation_signature() = r.signature();
        }
      }
      for (const v1::ScopedLot& s : r.lots()) *recall.add_scope() = s;
      recall.set_parts_applied(recall.parts_applied() + 1);
      return;
    }
    case v1::Event::kRecallNotificationIssued: {
      const v1::RecallNotificationIssued& n =
          event.recall_notification_issued();
      v1::RecallNotification rn;
      *rn.mutable_notice() = n;
      rn.set_issued_by(event.actor());
      *rn.mutable_issued_at() = BusinessTime(event);
      // One notification per customer, sorted: a reissue replaces it.
      domain::SortedEntry(
          recall.mutable_notifications(), n.customer().customer_id(),
          [](const v1::RecallNotification& a) -> const std::string& {
            return a.notice().customer().customer_id();
          },
          [](v1::RecallNotification& a, const std::string& id) {
            a.mutable_notice()->mutable_customer()->set_customer_id(id);
          }) = std::move(rn);
      return;
    }
    case v1::Event::kRecallScopeExtended: {
      // Each lot once: a second writer's copy of an extension adds nothing.
      for (const v1::ScopedLot& lot : event.recall_scope_extended().lots()) {
        const bool known = std::any_of(
            recall.scope().begin(), recall.scope().end(),
            [&](const v1::ScopedLot& s) { return s.lot_id() == lot.lot_id(); });
        if (known) continue;
        *recall.add_scope() = lot;
        recall.set_lots_in_scope(recall.lots_in_scope() + 1);
      }
      return;
    }
    case v1::Event::kRecallResponseRecorded: {
      v1::CustomerResponse* r = recall.add_responses();
      *r->mutable_response() = event.recall_response_recorded();
      r->set_recorded_by(event.actor());
      *r->mutable_recorded_at() = BusinessTime(event);
      return;
    }
    case v1::Event::kRecallClosed: {
      const v1::RecallClosed& c = event.recall_closed();
      if (c.part_index() != 0) return;
      recall.set_status(v1::RECALL_STATUS_CLOSED);
      *recall.mutable_closed_at() = BusinessTime(event);
      recall.set_closed_by(event.actor());
      recall.set_summary(c.summary());
      recall.set_unanswered_reason(c.unanswered_reason());
      *recall.mutable_unanswered_customer_ids() = c.unanswered_customer_ids();
      if (c.has_signature())
        *recall.mutable_closure_signature() = c.signature();
      return;
    }
    default:
      return;
  }
}

std::vector<std::string> NodeLotIds(const v1::Event& event) {
  switch (event.payload_case()) {
    case v1::Event::kLotCreated:
    case v1::Event::kLotCorrected:
      return {event.lot_ids().begin(), event.lot_ids().end()};
    case v1::Event::kStockReceived:
      return {event.stock_received().lot_id()};
    case v1::Event::kStockTransferred:
      return {event.stock_transferred().lot_id()};
    case v1::Event::kStockShipped:
      return {event.stock_shipped().lot_id()};
    case v1::Event::kStockReturned:
      return {event.stock_returned().lot_id()};
    case v1::Event::kStockScrapped:
      return {event.stock_scrapped().lot_id()};
    case v1::Event::kStockAdjusted:
      return {event.stock_adjusted().lot_id()};
    default:
      return {};
  }
}

void EvolveLotNode(v1::RecallLotNode& node, const std::string& lot_id,
                   const v1::Event& event) {
  switch (event.payload_case()) {
    case v1::Event::kLotCreated: {
      const v1::LotCreated& c = event.lot_created();
      if (c.lot_id() == lot_id) {
        node.set_created(true);
        node.set_item(c.item());
        node.set_lot_number(c.lot_number());
        *node.mutable_manufactured_on() = c.manufactured_on();
        *node.mutable_expires_on() = c.expires_on();
        node.set_uom(c.quantity().uom());
        return;
      }
      for (const v1::LotInput& in : c.inputs()) {
        if (in.lot_id() != lot_id) continue;
        auto* used = node.mutable_used_in();
        auto it = std::lower_bound(used->begin(), used->end(), c.lot_id());
        if (it != used->end() && *it == c.lot_id()) return;
        const int index = static_cast<int>(it - used->begin());
        used->Add(std::string(c.lot_id()));
        for (int i = used->size() - 1; i > index; --i) {
          used->SwapElements(i, i - 1);
        }
        return;
      }
      return;
    }
    case v1::Event::kLotCorrected: {
      const v1::LotCorrected& c = event.lot_corrected();
      if (c.lot_id() != lot_id) return;
      lots::ApplyCorrectedDate(c, node.mutable_expires_on(),
                               node.mutable_manufactured_on());
      return;
    }
    case v1::Event::kStockReceived: {
      const v1::StockReceived& e = event.stock_received();
      if (e.lot_id() == lot_id)
        AddStock(node, e.location_id(), e.quantity().amount());
      return;
    }
    case v1::Event::kStockTransferred: {
      const v1::StockTransferred& e = event.stock_transferred();
      if (e.lot_id() != lot_id) return;
      AddStock(node, e.from_location_id(), -e.quantity().amount());
      AddStock(node, e.to_location_id(), e.quantity().amount());
      return;
    }
    case v1::Event::kStockShipped: {
      const v1::StockShipped& e = event.stock_shipped();
      if (e.lot_id() != lot_id) return;
      AddStock(node, e.from_location_id(), -e.quantity().amount());
      v1::CustomerHolding& h = Holding(node, e.customer().customer_id());
      h.set_shipped(h.shipped() + e.quantity().amount());
      if (!h.has_last_shipped_on() ||
          (lots::IsValidDate(e.ship_date()) &&
           lots::CompareDates(e.ship_date(), h.last_shipped_on()) > 0)) {
        *h.mutable_last_shipped_on() = e.ship_date();
      }
      return;
    }
    case v1::Event::kStockReturned: {
      const v1::StockReturned& e = event.stock_returned();
      if (e.lot_id() != lot_id) return;
      AddStock(node, e.to_location_id(), e.quantity().amount());
      v1::CustomerHolding& h = Holding(node, e.customer_id());
      h.set_returned(h.returned() + e.quantity().amount());
      return;
    }
    case v1::Event::kStockScrapped: {
      const v1::StockScrapped& e = event.stock_scrapped();
      if (e.lot_id() != lot_id) return;
      AddStock(node, e.location_id(), -e.quantity().amount());
      node.set_scrapped(node.scrapped() + e.quantity().amount());
      return;
    }
    case v1::Event::kStockAdjusted: {
      const v1::StockAdjusted& e = event.stock_adjusted();
      if (e.lot_id() == lot_id) AddStock(node, e.location_id(), e.delta());
      return;
    }
    default:
      return;
  }
}

}  // namespace lotledger::recall
