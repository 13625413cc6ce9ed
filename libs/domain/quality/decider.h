// The quality domain: inspections and the disposition of lots (release,
// hold, reject) with electronic signatures, and the release gate, as pure
// functions over the generated protobuf messages (docs/design.md "Domain
// code"). Decide is written in decider.cc, Evolve in evolve.cc.
//
// Decide(state, command) answers a command with the events to append, or
// refuses it:
//   * InvalidArgument: the command is malformed; the message names the
//     field ("record_inspection.sample_size: must be at least 1, got 0").
//   * FailedPrecondition: a rule says no, naming the lot and the rule
//     ("lot X has no final inspection").
// Asking for the disposition a lot already has, or repeating an
// inspection already recorded with the same id and content, returns no
// events.
//
// Returned events carry aggregate_id (the lot id), lot_ids ([lot id]),
// occurred_at when the request gave one, and the payload. The caller fills
// in event_id, actor (the inspector or signer), recorded_at and request
// ids.
//
// Release rules (ChangeDisposition to RELEASED), in this order:
//   0. The lot is under no open recall, and no lot of its genealogy, at
//      any depth (its components, their components, ... down to the raw
//      materials), is under an open recall, rejected or on hold. Not
//      overridable.
//   1. When the lot's product requires released components
//      (QualityLotState.require_released_components), every component lot
//      must be RELEASED. Not overridable.
//   2. The latest FINAL inspection (for a purchased lot also INCOMING)
//      must exist and have passed, unless the request carries a deviation
//      approved by a second, different person with the qa_approver role;
//      the event then records the deviation and the overridden rule.
//      "Latest" is the last one recorded (log order): an inspection's
//      occurred_at is business time supplied by the client and does not
//      rank it.
//
// Thread-safety: every function is pure (no clock, no I/O, no shared
// mutable state) and may be called concurrently.
#ifndef LOTLEDGER_LIBS_DOMAIN_QUALITY_DECIDER_H_
#define LOTLEDGER_LIBS_DOMAIN_QUALITY_DECIDER_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lotledger/v1/domain.pb.h"
#include "lotledger/v1/events.pb.h"

namespace lotledger::quality {

// The role a deviation's approver must hold.
inline constexpr absl::string_view kApproverRole = "qa_approver";

// Values of DispositionChanged.overridden_rule: stable ids a report can
// filter on; the sentence the rule would have refused with follows after
// ": ".
inline constexpr absl::string_view kRuleFinalInspectionMissing =
    "final_inspection_missing";
inline constexpr absl::string_view kRuleFinalInspectionFailed =
    "final_inspection_failed";

// What the service must load into `state`:
//   * state.lot: the lot's QualityLotState (exists = a LotCreated was seen),
//     with require_released_components set from the lot's product (see
//     EvolvePolicy);
//   * for a release, state.components: the QualityLotState of every lot of
//     the genealogy at any depth, reached through component_lot_ids (a
//     missing direct component counts as not released), and
//     state.recalls: the RecallStanding of every recall id named by the
//     recall_ids of the lot and of those components.
// The command carries the verified caller: cmd.signature for a
// disposition (signer = the re-authenticated caller), and for a deviation
// cmd.deviation_approval with cmd.deviation_approver_roles.
absl::StatusOr<std::vector<v1::Event>> Decide(
    const v1::QualityDecisionState& state, const v1::QualityCommand& cmd);

// Folds an event into the quality view of one lot:
//   * LotCreated of this lot: exists, item, component_lot_ids (its inputs);
//     inspections and disposition folded in earlier are kept, since the
//     lots and quality topics may be replayed in any interleaving.
//   * InspectionRecorded: appends an Inspection (inspector = the event's
//     actor).
//   * DispositionChanged: disposition, since (occurred_at, else
//     recorded_at), by (signature.signer), reason (signature.reason), and
//     appends the SignedDisposition. The last one folded (log order) is
//     the disposition, whatever its occurred_at says.
//   * RecallInitiated part / RecallScopeExtended listing this lot: the
//     recall id joins recall_ids (sorted; only into a view whose lot_id is
//     preset, as a recall lists many lots).
// "This lot" is state.lot_id(); preset it on an empty state to fold events
// in any order. With an empty lot_id, the first event about a lot claims
// the state for that lot. Events about other lots (e.g. the LotCreated of
// a parent that consumed this lot) are ignored.
void Evolve(v1::QualityLotState& state, const v1::Event& event);

// Sets require_released_components, and purchased for raw materials,
// from the lot's product (ProductDefined
// is a lots-topic fact; the latest definition wins). Ignored when
// `product` is for another item than state.item(). Call it when a
// ProductDefined is folded and, to be independent of replay order, on the
// state loaded for Decide.
void EvolvePolicy(v1::QualityLotState& state, const v1::Product& product);

}  // namespace lotledger::quality

#endif  // LOTLEDGER_LIBS_DOMAIN_QUALITY_DECIDER_H_
