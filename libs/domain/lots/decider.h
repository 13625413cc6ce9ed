// The lots domain: the rules for products (GTIN / item code, shelf-life
// policy), lots (lot number, dates, quantity) and their genealogy, as pure
// functions over the generated protobuf messages (docs/design.md "Domain
// code").
//
// Decide(state, command) answers a command with the events to append, or
// with the reason it is refused:
//   * InvalidArgument: the command is malformed; the message names the
//     field and the rule ("create_lot.lot_number: 21 characters, at most
//     20").
//   * FailedPrecondition: a business rule says no, in a sentence a quality
//     manager understands, naming the lot or item and the rule.
// A command that asks for what is already true (identical redefinition,
// identical CreateLot of an existing lot, correction to the current value)
// returns no events.
//
// Returned events carry aggregate_id, lot_ids, occurred_at (when the
// request gave one) and the payload. The caller fills in event_id, actor,
// recorded_at, request_id and the correlation ids.
//
// Decide is written in decider.cc, the Evolve functions in evolve.cc; both
// read correction values through correction.h.
//
// Evolve folds events into the read model. It is total: it never fails and
// ignores events that do not concern the message it is given, so a
// projector can apply every event of the topic in any order it receives
// them across partitions.
//
// Thread-safety: every function is pure (no clock, no I/O, no shared
// mutable state) and may be called concurrently.
#ifndef LOTLEDGER_LIBS_DOMAIN_LOTS_DECIDER_H_
#define LOTLEDGER_LIBS_DOMAIN_LOTS_DECIDER_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lotledger/v1/domain.pb.h"
#include "lotledger/v1/events.pb.h"
#include "lotledger/v1/lots.pb.h"

namespace lotledger::lots {

// Rules beyond the shape of a command (FailedPrecondition):
//   * DefineProduct of a product that has lots keeps its unit of measure,
//     its kind and its tracking ("product X has 3 lots; its unit cannot
//     change (unit EA, this definition says BOX) ..."); name, shelf-life
//     policy and the rest may change. TRACKING_UNSPECIFIED is by lot.
//   * CreateLot: the product is defined and counts in the lot's unit;
//     every component lot exists, counts in the input's unit and has
//     enough left, and is not under an open recall, rejected or on hold
//     ("component lot RM:R-88 is on hold since 2026-03-02 by qa.li:
//     supplier notice; lot X cannot consume it"); the expiry is given or
//     computed from the shelf life, and capped by the components when the
//     product says so.
//   * CorrectLot: dates stay in order (and under the component cap), a
//     quantity never drops below what was consumed nor below the lot's
//     serial count.
//   * AssignSerials (the serial register, issue 19): the lot exists and
//     its product is tracked by serial; no serial belongs to another lot
//     of the product (refused naming that lot); serials already on this
//     lot are skipped (all of them: no events); the lot's serials after
//     it are at most its quantity ("lot X has 100 EA and would have 101
//     serials ..."). The SerialsAssigned carries only the new serials,
//     in canonical form (libs/domain/serials), their count and the lot's
//     total.
//
// What the service must load into `state` for each command:
//   * define_product: `product` = the current definition of
//     define_product.product.item, if any; `product_lot_count` = how many
//     lots of it exist (only needed when unit or kind would change).
//   * create_lot: `product` = create_lot.item's product; `lot` = the lot
//     MakeLotId(item, lot_number) if it exists; `inputs` = every input lot
//     named by create_lot.inputs that exists, keyed by lot id;
//     `input_standing` = the LotStanding (quality disposition, recalls) of
//     those input lots that have one, and `recalls` = the RecallStanding of
//     every recall id they name.
//   * correct_lot: `lot` = the lot; and, so that an expiry correction keeps
//     the component cap, `product` = the lot's product and `inputs` = the
//     lot's own input lots (lot.inputs).
//   * assign_serials: `lot` = the lot, `product` = its product,
//     `serial_lots` = of the serials the request names, each one the
//     register already has, with its lot id; `lot_serial_count` = the
//     lot's serial_count.
absl::StatusOr<std::vector<v1::Event>> Decide(
    const v1::LotsDecisionState& state, const v1::LotsCommand& cmd);

// Applies a lot event to the view of one lot:
//   * LotCreated of this lot: sets the created facts (keeping any
//     consumption already folded in, for projectors that see a parent's
//     event before the input lot's own creation).
//   * LotCreated of a lot that consumed this one (this lot is among its
//     inputs): adds the quantity to `consumed` and appends the parent to
//     `used_in`.
//   * LotCorrected of this lot: sets the corrected field and appends a
//     LotCorrection (actor and recorded_at from the envelope). A corrected
//     expiry becomes EXPIRY_SOURCE_GIVEN: it was entered by a person.
//   * SerialsAssigned of this lot: serial_count becomes its lot_total (the
//     largest seen: a lot's serials only grow).
// "This lot" is `lot.lot_id()`. Preset it on an empty Lot to fold events
// into a lot whose creation may not have been seen yet; with an empty
// lot_id, a LotCreated initializes `lot` as the created lot.
void Evolve(v1::Lot& lot, const v1::Event& event);

// Applies ProductDefined of `product.item()` (or of any item when `product`
// is empty): the latest definition replaces the product.
void EvolveProduct(v1::Product& product, const v1::Event& event);

// Folds what the quality and recall topics say of lot `lot_id` into its
// standing: a DispositionChanged of the lot (disposition, since = business
// time, by = signer, reason = signature reason), and a recall-topic event
// that puts the lot in a recall's scope (RecallInitiated part,
// RecallScopeExtended: the recall id joins recall_ids). Whether those
// recalls are open is the RecallStanding's business
// (libs/domain/common/recall_standing.h). Total: other events leave it.
void EvolveStanding(v1::LotStanding& standing, const std::string& lot_id,
                    const v1::Event& event);

// Checks a product definition; InvalidArgument naming the field
// ("product.item: ...", "product.policy.shelf_life_days: ..."):
//   * item: a valid GTIN-14 for ITEM_KIND_FINISHED_DEVICE; for components
//     and raw materials an internal item code (1-40 of [A-Za-z0-9._-]),
//     which includes GTIN-14s;
//   * name, uom required; kind not UNSPECIFIED; tracking a known value;
//   * policy: shelf_life_days >= 0, alert thresholds positive and distinct,
//     min_remaining_days_to_ship >= 0.
absl::Status ValidateProduct(const v1::Product& product);

}  // namespace lotledger::lots

#endif  // LOTLEDGER_LIBS_DOMAIN_LOTS_DECIDER_H_
