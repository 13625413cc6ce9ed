// The recall domain: a recall's life (initiate, notify, record responses,
// close) and drills, as pure functions over the generated protobuf
// messages (docs/design.md "Domain code"). Scope is in scope.h, impact and
// effectiveness in impact.h. Decide is written in decider.cc, Evolve in
// evolve.cc.
//
// Decide(state, command) answers a command with the events to append, or
// refuses it:
//   * InvalidArgument: the command is malformed, naming the field.
//   * FailedPrecondition: a rule says no, in one sentence ("recall R-7 is
//     closed since 2026-05-02 by qa.li; a closed recall is read-only").
// Notifying when every affected customer is notified returns no events.
//
// Rules:
//   * Initiate: a new recall id; class, title, reason and health hazard
//     given; a non-empty scope (the service computes it with
//     ComputeScope). One RecallInitiated per kLotsPerPart lots of scope.
//   * A closed recall is read-only: notify, respond and close are refused.
//   * Notify: one RecallNotificationIssued per affected customer (in
//     impact) not notified yet, with what it received and still holds
//     (of a serialised lot: its serials in scope, and how many it reported
//     used) and the recall's instructions.
//   * Respond: for an affected customer; says something (acknowledged,
//     nothing found, or lines); lines name lots in scope the customer
//     received, quantities >= 0; destroyed in total at most what the
//     customer holds (shipped - returned); nothing found with quantities
//     destroyed is contradictory.
//   * Close: a summary; while affected customers have not answered, an
//     unanswered_reason (they are recorded in the event).
//   * Initiate and close carry cmd.signature, the caller's electronic
//     signature the service verified (Guard::Sign); part 0 of the events
//     records it. The domain does not require it (events written before
//     signing existed have none); the service always supplies it.
//   * Drill: as initiate (scope non-empty), under the drill id, with the
//     elapsed time the service measured; blocks nothing (the inventory
//     service reacts to RecallInitiated and RecallScopeExtended only).
//   * Extend scope (the recall service's own command, docs/recall.md
//     "Lots made later"): a lot made from a lot in the scope of an open
//     recall that includes derived lots joins the scope
//     (RecallScopeExtended, one lot); refused for a closed recall, a recall
//     without include_derived, or a lot whose via_lot_id is not in scope;
//     a lot already in scope gives no events.
//
// Returned events carry aggregate_id (recall or drill id), lot_ids and
// occurred_at when the request gave one; the caller fills the rest.
//
// Thread-safety: every function is pure and may be called concurrently.
#ifndef LOTLEDGER_LIBS_DOMAIN_RECALL_DECIDER_H_
#define LOTLEDGER_LIBS_DOMAIN_RECALL_DECIDER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lotledger/v1/events.pb.h"
#include "lotledger/v1/recall.pb.h"
#include "lotledger/v1/recall_domain.pb.h"

namespace lotledger::recall {

// What the service loads into `state`:
//   * initiate, drill: exists/recall for cmd.id (initiate), scope =
//     ComputeScope(...), impact = ComputeImpact(scope, ...); cmd.id set
//     (and cmd.elapsed_us for a drill).
//   * notify, respond, close: recall (exists), scope = recall.scope,
//     impact now.
//   * extend_scope: recall (exists) and scope = recall.scope as its events
//     recorded it (without lots still waiting to be added).
absl::StatusOr<std::vector<v1::Event>> Decide(
    const v1::RecallDecisionState& state, const v1::RecallCommand& cmd);

// The shape of an initiation (class, title, reason, health hazard,
// criteria), checked before any scope is computed.
absl::Status ValidateInitiate(const v1::InitiateRequest& req);

// Folds a recall-topic event into the recall it is about (drill events
// leave it unchanged); a RecallScopeExtended appends its lots to the
// scope, each once. Total: never fails.
void Evolve(v1::Recall& recall, const v1::Event& event);

// The lots whose RecallLotNode an event changes: every lot of a lots-topic
// event (a LotCreated lists the lot and its inputs), the lot of a stock
// movement; none for anything else.
std::vector<std::string> NodeLotIds(const v1::Event& event);

// Folds a lots- or inventory-topic event into the node of `lot_id`:
// LotCreated (the lot's own facts; on an input, the forward edge to the
// new lot, kept sorted), LotCorrected of dates, and stock movements
// (stock by location, what each customer was shipped and returned).
// Total: events about other lots leave it unchanged.
void EvolveLotNode(v1::RecallLotNode& node, const std::string& lot_id,
                   const v1::Event& event);

// How reports, lotctl and the console name a recall's class ("Class I",
// ..., "Unclassified") and why a lot is in its scope ("listed", "made in
// range", "derived"; "" for none).
std::string ClassName(v1::RecallClass c);
std::string ScopeReasonName(v1::ScopeReason r);

}  // namespace lotledger::recall

#endif  // LOTLEDGER_LIBS_DOMAIN_RECALL_DECIDER_H_
