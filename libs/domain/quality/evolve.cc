// Evolve and EvolvePolicy of decider.h: how the quality view of a lot
// folds the lots, quality and recall topics. Pure and total; Decide is in
// decider.cc.
#include <string>

#include "google/protobuf/timestamp.pb.h"
#include "libs/domain/common/recall_standing.h"
#include "libs/domain/quality/decider.h"

namespace lotledger::quality {
namespace {

// True when `state` is (or, being empty, becomes) the view of `lot_id`.
bool Claims(v1::QualityLotState& state, const std::string& lot_id) {
  if (state.lot_id().empty()) state.set_lot_id(lot_id);
  return state.lot_id() == lot_id;
}

const google::protobuf::Timestamp& BusinessTime(const v1::Event& event) {
  return event.has_occurred_at() ? event.occurred_at() : event.recorded_at();
}

}  // namespace

void Evolve(v1::QualityLotState& state, const v1::Event& event) {
  switch (event.payload_case()) {
    case v1::Event::kLotCreated: {
      const v1::LotCreated& created = event.lot_created();
      // A parent's creation also lists this lot (as an input): not ours.
      if (!Claims(state, created.lot_id())) return;
      state.set_exists(true);
      state.set_item(created.item());
      state.set_purchased(!created.supplier().empty());
      state.clear_component_lot_ids();
      for (const v1::LotInput& in : created.inputs()) {
        state.add_component_lot_ids(in.lot_id());
      }
      return;
    }
    case v1::Event::kInspectionRecorded: {
      const v1::InspectionRecorded& rec = event.inspection_recorded();
      if (!Claims(state, rec.lot_id())) return;
      v1::Inspection& inspection = *state.add_inspections();
      *inspection.mutable_inspection() = rec;
      inspection.set_inspector(event.actor());
      *inspection.mutable_occurred_at() = BusinessTime(event);
      return;
    }
    case v1::Event::kDispositionChanged: {
      const v1::DispositionChanged& changed = event.disposition_changed();
      if (!Claims(state, changed.lot_id())) return;
      state.set_disposition(changed.to());
      *state.mutable_disposition_since() = BusinessTime(event);
      state.set_disposition_by(changed.signature().signer());
      state.set_disposition_reason(changed.signature().reason());
      v1::SignedDisposition& signed_change = *state.add_signatures();
      *signed_change.mutable_change() = changed;
      *signed_change.mutable_occurred_at() = BusinessTime(event);
      return;
    }
    case v1::Event::kRecallInitiated:
    case v1::Event::kRecallScopeExtended: {
      // A recall lists many lots: it folds into a view whose lot is known.
      if (state.lot_id().empty()) return;
      const std::vector<std::string> added = domain::ScopeAdditions(event);
      if (std::find(added.begin(), added.end(), state.lot_id()) !=
          added.end()) {
        domain::AddSorted(state.mutable_recall_ids(),
                          domain::RecallIdOf(event));
      }
      return;
    }
    default:
      return;  // Other areas' events do not change a lot's quality view.
  }
}

void EvolvePolicy(v1::QualityLotState& state, const v1::Product& product) {
  if (state.item().empty() || product.item() != state.item()) return;
  state.set_require_released_components(
      product.policy().require_released_components());
  if (product.kind() == v1::ITEM_KIND_RAW_MATERIAL) state.set_purchased(true);
}

}  // namespace lotledger::quality
