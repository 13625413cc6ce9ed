// The inventory domain: locations, stock movements of lots (receive,
// transfer, ship, return, scrap, count) and the expiry sweep, as pure
// functions over the generated protobuf messages (docs/design.md "Domain
// code"). The shipping gate is in gate.h, FEFO in fefo.h, the alert rules
// in expiry.h. Decide is written in decider.cc, Evolve in evolve.cc.
//
// Decide(state, command) answers a command with the events to append, or
// refuses it:
//   * InvalidArgument: the command is malformed; the message names the
//     field ("transfer.quantity.amount: must be positive, got 0").
//   * FailedPrecondition: a rule says no, naming the lot and the rule in a
//     sentence a quality manager understands ("lot X has 40 EA at
//     FRA-WH1-B07; cannot scrap 50: stock never goes negative").
// Creating a location that exists with the same data, counting what the
// book already says, or a sweep with no alert due returns no events.
//
// Rules:
//   * Quantities are positive (a count may be 0) and in the lot's unit (an
//     empty unit means the lot's); no movement takes more than is at its
//     source.
//   * Stock lives in known warehouses and bins; locations form the
//     hierarchy site -> region -> warehouse -> bin, each created under a
//     known location of the level directly above.
//   * Receive: the lot must be known (LotCreated seen). By GS1 scan, the
//     label's expiry must equal the lot's (a label without expiry is
//     refused when the lot has one), and a production date on the label
//     must equal the lot's; messages give both dates.
//   * Transfer: between two different stock locations; allowed whatever
//     the lot's disposition, recall or expiry (quarantine moves).
//   * Ship: all lines or none. Every line passes CheckShippable (released,
//     not on hold, rejected or recalled, not expired, enough shelf life for
//     the customer and the product, both counted on the later of the ship
//     date and the day the shipment is recorded) and
//     CheckPickLocation (known, not quarantine); lines of one lot and
//     location together take no more than is there. Every refused line is
//     named in one message.
//     Customers (customers.h): a registered customer's record is what
//     the StockShipped events carry, and its contracted minimum for each
//     line's product is the customer's minimum; a typed-in field that
//     contradicts the record is refused naming the field. A customer id
//     that is not registered ships with its typed-in fields, unless
//     cmd.require_registered_customers. A shelf_life_override replaces the
//     customer's minimum (never the product's) and needs the verified
//     signature (cmd.shelf_life_override_signature), recorded on every
//     line.
//   * RegisterCustomer / UpdateCustomer: see customers.h.
//   * Return: at most what the customer holds of the lot (shipped minus
//     returned); damaged or recalled goods only into a quarantine location.
//   * Scrap: with a reason (notes required for "other").
//   * Adjust: a count >= 0 with a reason.
//   * Serials (issue 19; serial_places.h says where each one is). For a
//     product tracked by serial (Product.tracking) every movement names
//     its serials (ExpandSerials, InvalidArgument naming the field, e.g.
//     "ship.lines[1].serials"); a quantity given equals their number, an
//     omitted one (0) is it. A product tracked by lot refuses serials
//     ("product X is tracked by lot; receive.serials must be empty").
//     Receive: each serial assigned to this lot by the register
//     (state.serial_lots) and not in stock or at a customer; by GS1 scan
//     with (21) and no serials named, the scan's serial. Transfer, ship,
//     scrap: each serial in stock at the source, else refused naming where
//     it is ("serial 4711 of lot X is at customer H-12 (shipment SHP-1),
//     not at MUC-WH1"); a shipment names a serial once; a serial a recall
//     by serial names (state.serial_recalls) does not ship. Return and
//     ReportUsage: each serial at that customer and not reported used;
//     used_on not after today. Adjust: the serials are every serial of
//     the lot found at the location: found ones the book did not have
//     there become serials_found (one in stock elsewhere is refused),
//     those it had and were not found serials_missing. Events carry
//     CompressSerials of the sorted serials.
//
// Returned events carry aggregate_id (the lot id; the location id for
// LocationCreated), lot_ids ([lot id]) and occurred_at when the request
// gave one. A shipment gives one StockShipped per line, in line order,
// sharing shipment_id: the caller appends them atomically. The caller
// fills in event_id, actor, recorded_at and the request ids.
//
// Thread-safety: every function is pure (no clock, no I/O, no shared
// mutable state) and may be called concurrently.
#ifndef LOTLEDGER_LIBS_DOMAIN_INVENTORY_DECIDER_H_
#define LOTLEDGER_LIBS_DOMAIN_INVENTORY_DECIDER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/timestamp.pb.h"
#include "lotledger/v1/domain.pb.h"
#include "lotledger/v1/events.pb.h"
#include "lotledger/v1/inventory.pb.h"
#include "lotledger/v1/inventory_domain.pb.h"

namespace lotledger::inventory {

// What the service must load into `state`:
//   * always: state.locations = every location.
//   * receive: state.lots[the lot id] (for a scan, MakeLotId(gtin, lot
//     number) of cmd.scanned_label, which the service fills in by parsing
//     receive.gs1_scan with libs/gs1).
//   * transfer, return_stock, scrap, adjust: state.lots[lot_id].
//   * ship: state.lots[id] for every line's lot, state.products[item] for
//     those lots' items (the product's minimum shelf life);
//     ship.shipment_id filled in (the service makes one when empty).
//   * evaluate_expiry: state.lots[lot_id] and state.products[its item].
//   * ship, register_customer, update_customer: also
//     state.customers[customer id], the current version when registered.
//   * a movement or report_usage of a lot of a product tracked by serial:
//     state.serials[SerialKey(item, serial)] for every serial it names,
//     and for receive and adjust state.serial_lots of them; adjust also
//     the status of every serial of the lot; ship also
//     state.serial_recalls[lot id].
// A LotInventory is as Evolve folds it, plus the recall fields
// (recalled, recall_id, recalled_since, recall_reason), which the service
// sets from the recall topic.
absl::StatusOr<std::vector<v1::Event>> Decide(
    const v1::InventoryDecisionState& state, const v1::InventoryCommand& cmd);

// Folds an event into the inventory view of one lot:
//   * lots topic: LotCreated (exists, item, lot number, dates, unit from
//     its quantity); LotCorrected of expires_on / manufactured_on.
//   * quality topic: DispositionChanged (disposition, since = business
//     time, by = signer, reason = signature reason); the last one folded
//     (log order) is the disposition, whatever its occurred_at says.
//   * recall topic: RecallInitiated and RecallScopeExtended listing the
//     lot block it (recalled, recall id, since, reason); the first recall
//     to reach a lot stays the one named. One that lists only serials of
//     the lot (ScopedLot.serials) leaves the lot unblocked: those serials
//     are blocked (AddSerialRecall).
//   * own topic: every stock event moves stock and the totals; shipments
//     and returns update the customer's balance; ExpiryThresholdCrossed and
//     LotExpired append to `alerts`.
// Total: never fails, ignores events about other lots. "This lot" is
// lot.lot_id(); preset it to fold events in any order, or leave it empty
// and the first event about a lot claims the view. An event about one lot
// (EventLotId not empty) folds only into that lot, whatever else its
// lot_ids list (a LotCreated lists its inputs); an event about several
// lots at once (EventLotId empty, e.g. a recall) folds into every lot of
// its lot_ids, and only into a view whose lot id is preset. Facts of other
// topics folded before LotCreated are kept (topics replay in any interleaving).
// Stock entries stay sorted by location id with only positive amounts,
// so a rebuilt view is byte-identical to the live one.
void Evolve(v1::LotInventory& lot, const v1::Event& event);

// A lot made from a lot in the scope of `recall` (an open recall that
// includes derived lots) is in its scope too: blocks `lot` as the recall's
// own events would, with `since` = the business time of the lot's
// LotCreated. No change when the recall is closed or does not include
// derived lots, or when the lot is already recalled (the first recall to
// reach it stays named). The projection calls it when it folds the
// LotCreated; the recall service later records the lot in the recall's
// scope (RecallScopeExtended), which folds the same way.
void InheritRecall(v1::LotInventory& lot, const v1::RecallStanding& recall,
                   const google::protobuf::Timestamp& since);

// Folds an event into a whole decision state: LocationCreated into
// `locations`, ProductDefined into `products`, customer events into
// `customers` (the current version), SerialsAssigned into `serial_lots`,
// the serials of movements into `serials`, recalls by serial into
// `serial_recalls`, lot events into
// lots[the lot's id] (events about several lots into each of their
// lot_ids). For tests and small in-memory projections.
void Evolve(v1::InventoryDecisionState& state, const v1::Event& event);

// The lot an event is about ("" when none: locations, products).
std::string EventLotId(const v1::Event& event);

// Adds the serials a recall event (RecallInitiated or RecallScopeExtended)
// puts in scope of one lot (domain::ScopedSerialsOf) to the lot's serial
// recalls: a new entry naming the recall (id, reason, since = business
// time), or, for a later part of the same recall, into its entry
// (canonical serials). Deterministic; the projection keeps the result.
void AddSerialRecall(
    v1::LotSerialRecalls& recalls, const v1::Event& event,
    const google::protobuf::RepeatedPtrField<v1::SerialRange>& serials);

}  // namespace lotledger::inventory

#endif  // LOTLEDGER_LIBS_DOMAIN_INVENTORY_DECIDER_H_
