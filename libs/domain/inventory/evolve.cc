// Evolve, InheritRecall and EventLotId of decider.h: how the inventory
// view of a lot folds the lots, quality, recall and inventory topics. Pure
// and total; Decide is in decider.cc.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>

#include "absl/status/statusor.h"
#include "google/protobuf/timestamp.pb.h"
#include "libs/common/ids.h"
#include "libs/domain/common/recall_standing.h"
#include "libs/domain/common/sorted_entries.h"
#include "libs/domain/inventory/customers.h"
#include "libs/domain/inventory/decider.h"
#include "libs/domain/inventory/serial_places.h"
#include "libs/domain/lots/correction.h"
#include "libs/domain/serials/serials.h"

namespace lotledger::inventory {
namespace {

using google::protobuf::Timestamp;

// True when `lot` is (or, being empty, becomes) the view of `lot_id`.
bool Claims(v1::LotInventory& lot, const std::string& lot_id) {
  if (lot.lot_id().empty()) lot.set_lot_id(lot_id);
  return lot.lot_id() == lot_id;
}

// True when `lot_id` is one of the lots the event lists.
bool NamesLot(const v1::Event& event, const std::string& lot_id) {
  return !lot_id.empty() &&
         std::find(event.lot_ids().begin(), event.lot_ids().end(), lot_id) !=
             event.lot_ids().end();
}

const Timestamp& BusinessTime(const v1::Event& event) {
  return event.has_occurred_at() ? event.occurred_at() : event.recorded_at();
}

// Adds `delta` at `location_id` (see domain::AddLocationStock) and to the
// lot's stock on hand.
void AddStock(v1::LotInventory& lot, const std::string& location_id,
              int64_t delta) {
  domain::AddLocationStock(lot.mutable_stock(), location_id, delta);
  lot.set_on_hand(lot.on_hand() + delta);
}

// What `customer_id` was shipped and returned of the lot.
v1::CustomerBalance& Balance(v1::LotInventory& lot,
                             const std::string& customer_id) {
  return domain::SortedEntry(
      lot.mutable_customers(), customer_id,
      [](const v1::CustomerBalance& b) -> const std::string& {
        return b.customer_id();
      },
      [](v1::CustomerBalance& b, const std::string& id) {
        b.set_customer_id(id);
      });
}

}  // namespace

std::string EventLotId(const v1::Event& event) {
  switch (event.payload_case()) {
    case v1::Event::kLotCreated:
      return event.lot_created().lot_id();
    case v1::Event::kLotCorrected:
      return event.lot_corrected().lot_id();
    case v1::Event::kInspectionRecorded:
      return event.inspection_recorded().lot_id();
    case v1::Event::kDispositionChanged:
      return event.disposition_changed().lot_id();
    case v1::Event::kStockReceived:
      return event.stock_received().lot_id();
    case v1::Event::kStockTransferred:
      return event.stock_transferred().lot_id();
    case v1::Event::kStockShipped:
      return event.stock_shipped().lot_id();
    case v1::Event::kStockReturned:
      return event.stock_returned().lot_id();
    case v1::Event::kStockScrapped:
      return event.stock_scrapped().lot_id();
    case v1::Event::kStockAdjusted:
      return event.stock_adjusted().lot_id();
    case v1::Event::kExpiryThresholdCrossed:
      return event.expiry_threshold_crossed().lot_id();
    case v1::Event::kLotExpired:
      return event.lot_expired().lot_id();
    case v1::Event::kDeviceUsageReported:
      return event.device_usage_reported().lot_id();
    default:
      return "";
  }
}

void Evolve(v1::LotInventory& lot, const v1::Event& event) {
  const std::string lot_id = EventLotId(event);
  if (!lot_id.empty()) {
    if (!Claims(lot, lot_id)) return;
  } else if (!NamesLot(event, lot.lot_id())) {
    // An event about several lots at once (a recall) folds into each lot
    // it lists in lot_ids; the view must already know its lot id.
    return;
  }
  switch (event.payload_case()) {
    case v1::Event::kLotCreated: {
      const v1::LotCreated& created = event.lot_created();
      lot.set_exists(true);
      lot.set_item(created.item());
      lot.set_lot_number(created.lot_number());
      *lot.mutable_manufactured_on() = created.manufactured_on();
      *lot.mutable_expires_on() = created.expires_on();
      lot.set_uom(created.quantity().uom());
      return;
    }
    case v1::Event::kLotCorrected: {
      lots::ApplyCorrectedDate(event.lot_corrected(), lot.mutable_expires_on(),
                               lot.mutable_manufactured_on());
      return;
    }
    case v1::Event::kDispositionChanged: {
      const v1::DispositionChanged& changed = event.disposition_changed();
      lot.set_disposition(changed.to());
      *lot.mutable_disposition_since() = BusinessTime(event);
      lot.set_disposition_by(changed.signature().signer());
      lot.set_disposition_reason(changed.signature().reason());
      return;
    }
    case v1::Event::kStockReceived: {
      const v1::StockReceived& e = event.stock_received();
      AddStock(lot, e.location_id(), e.quantity().amount());
      lot.set_received(lot.received() + e.quantity().amount());
      return;
    }
    case v1::Event::kStockTransferred: {
      const v1::StockTransferred& e = event.stock_transferred();
      AddStock(lot, e.from_location_id(), -e.quantity().amount());
      AddStock(lot, e.to_location_id(), e.quantity().amount());
      return;
    }
    case v1::Event::kStockShipped: {
      const v1::StockShipped& e = event.stock_shipped();
      AddStock(lot, e.from_location_id(), -e.quantity().amount());
      lot.set_shipped(lot.shipped() + e.quantity().amount());
      v1::CustomerBalance& b = Balance(lot, e.customer().customer_id());
      b.set_shipped(b.shipped() + e.quantity().amount());
      return;
    }
    case v1::Event::kStockReturned: {
      const v1::StockReturned& e = event.stock_returned();
      AddStock(lot, e.to_location_id(), e.quantity().amount());
      lot.set_returned(lot.returned() + e.quantity().amount());
      v1::CustomerBalance& b = Balance(lot, e.customer_id());
      b.set_returned(b.returned() + e.quantity().amount());
      return;
    }
    case v1::Event::kStockScrapped: {
      const v1::StockScrapped& e = event.stock_scrapped();
      AddStock(lot, e.location_id(), -e.quantity().amount());
      lot.set_scrapped(lot.scrapped() + e.quantity().amount());
      return;
    }
    case v1::Event::kStockAdjusted: {
      const v1::StockAdjusted& e = event.stock_adjusted();
      AddStock(lot, e.location_id(), e.delta());
      return;
    }
    case v1::Event::kExpiryThresholdCrossed: {
      const v1::ExpiryThresholdCrossed& e = event.expiry_threshold_crossed();
      v1::RaisedExpiryAlert& raised = *lot.add_alerts();
      raised.set_threshold_days(e.threshold_days());
      *raised.mutable_expires_on() = e.expires_on();
      *raised.mutable_raised_on() = e.evaluated_on();
      return;
    }
    case v1::Event::kLotExpired: {
      const v1::LotExpired& e = event.lot_expired();
      v1::RaisedExpiryAlert& raised = *lot.add_alerts();
      raised.set_threshold_days(0);
      *raised.mutable_expires_on() = e.expires_on();
      *raised.mutable_raised_on() = e.evaluated_on();
      return;
    }
    case v1::Event::kRecallInitiated: {
      // Each part of an initiation lists its lots. The first recall to
      // reach a lot stays the one named; drills write other events and
      // block nothing. A recall of some serials of the lot blocks those
      // serials only (Evolve of the decision state, serial_recalls).
      if (lot.recalled()) return;
      if (domain::ScopedSerialsOf(event, lot.lot_id()) != nullptr) return;
      lot.set_recalled(true);
      lot.set_recall_id(event.recall_initiated().recall_id());
      *lot.mutable_recalled_since() = BusinessTime(event);
      lot.set_recall_reason(event.recall_initiated().reason());
      return;
    }
    case v1::Event::kRecallScopeExtended: {
      // A lot made later from a lot in scope joined the recall's scope.
      if (lot.recalled()) return;
      if (domain::ScopedSerialsOf(event, lot.lot_id()) != nullptr) return;
      lot.set_recalled(true);
      lot.set_recall_id(event.recall_scope_extended().recall_id());
      *lot.mutable_recalled_since() = BusinessTime(event);
      lot.set_recall_reason(event.recall_scope_extended().reason());
      return;
    }
    default:
      return;  // inspections and others do not change the inventory view
  }
}

void InheritRecall(v1::LotInventory& lot, const v1::RecallStanding& recall,
                   const Timestamp& since) {
  if (lot.recalled() || !recall.open() || !recall.include_derived()) return;
  lot.set_recalled(true);
  lot.set_recall_id(recall.recall_id());
  *lot.mutable_recalled_since() = since;
  lot.set_recall_reason(recall.reason());
}

void Evolve(v1::InventoryDecisionState& state, const v1::Event& event) {
  if (event.has_location_created()) {
    const v1::Location& location = event.location_created().location();
    (*state.mutable_locations())[location.location_id()] = location;
    return;
  }
  if (event.has_product_defined()) {
    const v1::Product& product = event.product_defined().product();
    (*state.mutable_products())[product.item()] = product;
    return;
  }
  if (event.has_customer_registered() || event.has_customer_updated()) {
    const v1::CustomerRecord& record =
        event.has_customer_registered() ? event.customer_registered().customer()
                                        : event.customer_updated().customer();
    // The current version only, as the service loads it.
    v1::CustomerHistory history;
    auto it = state.customers().find(record.customer_id());
    if (it != state.customers().end()) {
      for (int i = 1; i < it->second.version(); ++i) history.add_versions();
      *history.add_versions() = it->second;
    }
    EvolveCustomer(history, event);
    (*state.mutable_customers())[record.customer_id()] =
        history.versions(history.versions_size() - 1);
    return;
  }
  if (event.has_serials_assigned()) {
    const v1::SerialsAssigned& a = event.serials_assigned();
    for (const std::string& s : domain::SerialsOf(a.serials())) {
      (*state.mutable_serial_lots())[domain::SerialKey(a.item(), s)] =
          a.lot_id();
    }
    return;
  }
  for (const SerialMove& move : SerialMovesOf(event)) {
    for (const std::string& s : move.serials) {
      ApplySerialMove(
          (*state.mutable_serials())[domain::SerialKey(move.item, s)], move, s);
    }
  }
  const std::string lot_id = EventLotId(event);
  if (!lot_id.empty()) {
    Evolve((*state.mutable_lots())[lot_id], event);
    return;
  }
  for (const std::string& id : event.lot_ids()) {
    v1::LotInventory& lot = (*state.mutable_lots())[id];
    if (lot.lot_id().empty()) lot.set_lot_id(id);
    Evolve(lot, event);
    if (const auto* serials = domain::ScopedSerialsOf(event, id);
        serials != nullptr) {
      AddSerialRecall((*state.mutable_serial_recalls())[id], event, *serials);
    }
  }
}

void AddSerialRecall(
    v1::LotSerialRecalls& recalls, const v1::Event& event,
    const google::protobuf::RepeatedPtrField<v1::SerialRange>& serials) {
  v1::RecallStanding recall;
  recall.set_open(true);
  *recall.mutable_since() = BusinessTime(event);
  if (event.has_recall_initiated()) {
    recall.set_recall_id(event.recall_initiated().recall_id());
    recall.set_reason(event.recall_initiated().reason());
  } else {
    recall.set_recall_id(event.recall_scope_extended().recall_id());
    recall.set_reason(event.recall_scope_extended().reason());
  }
  for (v1::RecalledSerials& r : *recalls.mutable_recalls()) {
    if (r.recall().recall_id() != recall.recall_id()) continue;
    // Another part of the same recall: its serials join the entry.
    std::vector<std::string> all = domain::SerialsOf(r.serials());
    const std::vector<std::string> add = domain::SerialsOf(serials);
    all.insert(all.end(), add.begin(), add.end());
    std::sort(all.begin(), all.end());
    all.erase(std::unique(all.begin(), all.end()), all.end());
    *r.mutable_serials() = domain::CompressSerials(all);
    return;
  }
  v1::RecalledSerials& r = *recalls.add_recalls();
  *r.mutable_recall() = recall;
  *r.mutable_serials() = serials;
}

}  // namespace lotledger::inventory
