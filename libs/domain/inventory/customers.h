// Customers as master data of the inventory service: the rules for a
// customer record, the decisions to register and update one, how its
// history folds, which version was in force at a time, and what a
// registered customer means for a shipment (the contracted minimum shelf
// life, the customer a StockShipped carries, typed-in fields that
// contradict the record). Decide (decider.h) calls the Decide* functions
// here; the service and the FEFO allocator call the shipment helpers.
//
// Rules of a record (InvalidArgument naming the field and the rule, under
// the request's prefix, e.g. "register_customer.customer.addresses: at
// least one ship-to address"):
//   * customer_id: 1-64 of [A-Za-z0-9._-]; name: not blank;
//   * addresses: at least one, none blank;
//   * contacts: at least one; each has a name and an email or a phone;
//     an email has text on both sides of one '@'; at least one contact
//     must be reachable (email or phone);
//   * shelf_life: every minimum >= 0; a product entry names an item, and
//     an item has at most one product entry; a group has a name (unique)
//     and at least one item, and an item is in at most one group.
//
// The contracted minimum for a product (ContractedShelfLife): the
// product's own entry, else the entry of the group that lists it, else the
// default. The product's own minimum (ShelfLifePolicy) applies whenever
// it is larger (RequiredShelfLife in gate.h).
//
// Thread-safety: pure functions; safe to call from any thread.
#ifndef LOTLEDGER_LIBS_DOMAIN_INVENTORY_CUSTOMERS_H_
#define LOTLEDGER_LIBS_DOMAIN_INVENTORY_CUSTOMERS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/timestamp.pb.h"
#include "libs/domain/inventory/gate.h"
#include "lotledger/v1/events.pb.h"
#include "lotledger/v1/inventory.pb.h"
#include "lotledger/v1/inventory_domain.pb.h"

namespace lotledger::inventory {

// The record key of a customer's events: "customer/<customer id>".
std::string CustomerAggregateId(absl::string_view customer_id);

// InvalidArgument naming `field` + the offending part when `record`
// breaks a rule above.
absl::Status ValidateCustomerRecord(const v1::CustomerRecord& record,
                                    absl::string_view field);

// RegisterCustomer: state.customers[id] is the current version when
// registered. No events for the same record again; FailedPrecondition when
// registered with another record.
absl::StatusOr<std::vector<v1::Event>> DecideRegisterCustomer(
    const v1::InventoryDecisionState& state,
    const v1::RegisterCustomerRequest& req);

// UpdateCustomer: a reason is required; FailedPrecondition when the
// customer is not registered; no events when the record is unchanged.
absl::StatusOr<std::vector<v1::Event>> DecideUpdateCustomer(
    const v1::InventoryDecisionState& state,
    const v1::UpdateCustomerRequest& req);

// Appends the version a CustomerRegistered or CustomerUpdated records
// (version = its position, 1-based; occurred_at = business time, else
// record time); ignores any other event.
void EvolveCustomer(v1::CustomerHistory& history, const v1::Event& event);

// The version in force at `at`: of the versions whose business time
// (record time when `record_time`) is at or before `at`, the last in log
// order; null when there is none.
const v1::CustomerVersion* CustomerAsOf(const v1::CustomerHistory& history,
                                        const google::protobuf::Timestamp& at,
                                        bool record_time);

// The customer's contracted minimum for `item` and the rule that sets it:
// "customer H-12 (St. Mary) contracted minimum for product X", "... for
// group catheters (product X)", "... contracted default minimum"; days 0
// and an empty rule when the contract asks for nothing.
ShelfLifeRequirement ContractedShelfLife(const v1::CustomerRecord& customer,
                                         const std::string& item);

// The customer's minimum for a shipment of `item`: the registered
// contract when `registered` is set, else the typed-in
// min_remaining_shelf_life_days ("customer H-12").
ShelfLifeRequirement CustomerMinimum(const v1::Customer& typed,
                                     const v1::CustomerRecord* registered,
                                     const std::string& item);

// FailedPrecondition naming `field` + the typed-in field that contradicts
// the registered record: name, region, address (must be one of the
// ship-to addresses), contacts, and min_remaining_shelf_life_days (must
// equal the contracted minimum of every one of `items`). Empty fields
// never contradict.
absl::Status CheckTypedCustomer(const v1::Customer& typed,
                                const v1::CustomerRecord& registered,
                                const std::vector<std::string>& items,
                                absl::string_view field);

// The customer a StockShipped of `item` carries for a registered
// customer: id, name, region, the typed-in address when it is one of the
// ship-to addresses (else the first), the contracted minimum for `item`,
// the contacts and the version.
v1::Customer ShipmentCustomer(const v1::Customer& typed,
                              const v1::CustomerVersion& registered,
                              const std::string& item);

}  // namespace lotledger::inventory

#endif  // LOTLEDGER_LIBS_DOMAIN_INVENTORY_CUSTOMERS_H_
