// The customer verbs of `lotctl inventory` (customers as inventory master
// data, docs/inventory.md "Customers"): reading a customer as of a time
// with its versions, and listing customers. Registering and updating is
// `lotctl import customers` (import_customers.h). Internal to lotctl;
// dispatched by RunInventory (commands_inventory.cc). --json prints each
// response as protobuf JSON.
//
// Thread-safety: as Context; one command at a time.
#ifndef LOTLEDGER_TOOLS_LOTCTL_COMMANDS_INVENTORY_CUSTOMERS_H_
#define LOTLEDGER_TOOLS_LOTCTL_COMMANDS_INVENTORY_CUSTOMERS_H_

#include "tools/lotctl/context.h"
#include "tools/lotctl/flags.h"

namespace lotledger::lotctl::inventory_cli {

// lotctl inventory customer ID [--at=RFC3339] [--axis=business|record]
int Customer(Context& ctx, ParsedArgs& args);
// lotctl inventory customers [--region=REGION]
int Customers(Context& ctx, ParsedArgs& args);

}  // namespace lotledger::lotctl::inventory_cli

#endif  // LOTLEDGER_TOOLS_LOTCTL_COMMANDS_INVENTORY_CUSTOMERS_H_
