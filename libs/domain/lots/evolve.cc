// Evolve, EvolveProduct and EvolveStanding of decider.h: how the lots view
// folds lot, product, quality and recall events. Pure and total.
#include <algorithm>
#include <string>
#include <vector>

#include "libs/domain/common/recall_standing.h"
#include "libs/domain/lots/correction.h"
#include "libs/domain/lots/decider.h"

namespace lotledger::lots {
namespace {

void ApplyCreated(v1::Lot& lot, const v1::LotCreated& created,
                  const v1::Event& event) {
  lot.set_lot_id(created.lot_id());
  lot.set_item(created.item());
  lot.set_lot_number(created.lot_number());
  *lot.mutable_manufactured_on() = created.manufactured_on();
  *lot.mutable_expires_on() = created.expires_on();
  lot.set_expiry_source(created.expiry_source());
  lot.set_expiry_set_by_lot_id(created.expiry_set_by_lot_id());
  *lot.mutable_quantity() = created.quantity();
  // Consumption may already have been folded in (see Evolve): keep it.
  lot.mutable_consumed()->set_uom(created.quantity().uom());
  lot.set_site(created.site());
  lot.set_production_order(created.production_order());
  *lot.mutable_inputs() = created.inputs();
  lot.set_supplier(created.supplier());
  lot.set_supplier_lot(created.supplier_lot());
  *lot.mutable_created_at() =
      event.has_occurred_at() ? event.occurred_at() : event.recorded_at();
  lot.set_created_by(event.actor());
}

}  // namespace

void Evolve(v1::Lot& lot, const v1::Event& event) {
  if (event.has_lot_created()) {
    const v1::LotCreated& created = event.lot_created();
    if (lot.lot_id().empty() || lot.lot_id() == created.lot_id()) {
      ApplyCreated(lot, created, event);
      return;
    }
    // A parent is created once and lists an input once; the used_in check
    // keeps a redelivered event from counting twice.
    const auto& used_in = lot.used_in();
    if (std::find(used_in.begin(), used_in.end(), created.lot_id()) !=
        used_in.end()) {
      return;
    }
    for (const v1::LotInput& in : created.inputs()) {
      if (in.lot_id() != lot.lot_id()) continue;
      v1::Quantity& consumed = *lot.mutable_consumed();
      consumed.set_amount(consumed.amount() + in.quantity().amount());
      if (consumed.uom().empty()) consumed.set_uom(in.quantity().uom());
      // Sorted, not in arrival order: parents in other partitions arrive in
      // a different order on a rebuild, and the view must not depend on it.
      auto* parents = lot.mutable_used_in();
      parents->Add(std::string(created.lot_id()));
      std::sort(parents->begin(), parents->end());
      return;
    }
    return;
  }
  if (event.has_lot_corrected()) {
    const v1::LotCorrected& corrected = event.lot_corrected();
    if (lot.lot_id().empty() || lot.lot_id() != corrected.lot_id()) return;
    // A value that does not parse (never written by Decide) is skipped;
    // the correction stays in the history either way.
    absl::StatusOr<CorrectionValue> value = CorrectedNewValue(corrected);
    if (value.ok()) ApplyCorrectionValue(lot, *value);
    v1::LotCorrection& entry = *lot.add_corrections();
    *entry.mutable_correction() = corrected;
    entry.set_actor(event.actor());
    *entry.mutable_recorded_at() = event.recorded_at();
    return;
  }
  if (event.has_serials_assigned()) {
    const v1::SerialsAssigned& assigned = event.serials_assigned();
    if (lot.lot_id().empty() || lot.lot_id() != assigned.lot_id()) return;
    // The largest total seen, not a sum: a lot's serials only grow, so a
    // redelivered event, even an older one, changes nothing.
    lot.set_serial_count(std::max(lot.serial_count(), assigned.lot_total()));
  }
}

void EvolveStanding(v1::LotStanding& standing, const std::string& lot_id,
                    const v1::Event& event) {
  if (event.has_disposition_changed()) {
    const v1::DispositionChanged& changed = event.disposition_changed();
    if (changed.lot_id() != lot_id) return;
    standing.set_disposition(changed.to());
    *standing.mutable_disposition_since() =
        event.has_occurred_at() ? event.occurred_at() : event.recorded_at();
    standing.set_disposition_by(changed.signature().signer());
    standing.set_disposition_reason(changed.signature().reason());
    return;
  }
  const std::vector<std::string> added = domain::ScopeAdditions(event);
  if (std::find(added.begin(), added.end(), lot_id) != added.end()) {
    domain::AddSorted(standing.mutable_recall_ids(), domain::RecallIdOf(event));
  }
}

void EvolveProduct(v1::Product& product, const v1::Event& event) {
  if (!event.has_product_defined()) return;
  const v1::Product& defined = event.product_defined().product();
  if (!product.item().empty() && product.item() != defined.item()) return;
  product = defined;
}

}  // namespace lotledger::lots
