// `lotctl import customers FILE.csv`: registers customers (inventory
// master data, docs/inventory.md "Customers") from a CSV file (csv.h's
// dialect), one customer per row. Columns, by name in any order (*
// required; lists separated by '|'):
//   customer_id*, name*, region,
//   addresses*        "Dock 3, Main St 1|Pharmacy, Main St 1" (first =
//                     default ship-to),
//   contacts*         "NAME;ROLE;EMAIL;PHONE|..." (each with an email or a
//                     phone),
//   default_min_days  the contracted default minimum shelf life,
//   product_min_days  "ITEM=DAYS|ITEM=DAYS",
//   group_min_days    "GROUP:ITEM+ITEM=DAYS|...",
//   reason            why (recorded on the event; default "lotctl import").
//
// Like `import products|lots` (import.h), two phases. PlanCustomerImport
// checks every row offline with the inventory domain's own rules
// (ValidateCustomerRecord) plus the cells' syntax and duplicate ids, and
// reports every problem with row and column; with any bad row nothing is
// written. Then each row is compared with the registered record
// (GetCustomer): not registered -> RegisterCustomer ("new"), the same ->
// nothing ("unchanged"), different -> UpdateCustomer with the row's reason
// ("updated"); each write's request id is derived from the row's content,
// so a re-run (after a crash or on purpose) writes nothing twice.
//
// Thread-safety: PlanCustomerImport is pure; RunImportCustomers is one
// command at a time, as Context.
#ifndef LOTLEDGER_TOOLS_LOTCTL_IMPORT_CUSTOMERS_H_
#define LOTLEDGER_TOOLS_LOTCTL_IMPORT_CUSTOMERS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lotledger/v1/events.pb.h"
#include "tools/lotctl/context.h"
#include "tools/lotctl/flags.h"
#include "tools/lotctl/import.h"

namespace lotledger::lotctl {

struct CustomerImportRow {
  int row = 0;  // row 1 is the header
  // "import-" + 32 hex digits of SHA-256 of the action ("register" or
  // "update") and the row's trimmed values by column name.
  std::string register_request_id;
  std::string update_request_id;
  v1::CustomerRecord customer;
  std::string reason;
};

struct CustomerImportPlan {
  int data_rows = 0;
  std::vector<CustomerImportRow> good;
  std::vector<RowProblem> problems;  // in row order
  int bad_rows = 0;
};

// Parses and checks `csv`. InvalidArgument for a file that is not a table
// of these columns (quoting, header, unknown or missing required column).
absl::StatusOr<CustomerImportPlan> PlanCustomerImport(absl::string_view csv);

// `lotctl import customers FILE.csv [--dry-run]`; `args` are the words
// after `import`. Exit 0, or 4 when a row was bad or refused.
int RunImportCustomers(Context& ctx, ParsedArgs& args);

}  // namespace lotledger::lotctl

#endif  // LOTLEDGER_TOOLS_LOTCTL_IMPORT_CUSTOMERS_H_
