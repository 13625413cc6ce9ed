// `lotctl import stock FILE.csv`: opening stock (the stock on hand when
// lotledger starts, e.g. moving from another system) from a CSV file
// (csv.h's dialect), one receipt per row. Columns, by name in any order
// (* required):
//   lot_id*       a lot known to the lots service ("ITEM:LOT")
//   location_id*  a warehouse or bin
//   quantity      units, in the lot's unit; required for a product tracked
//                 by lot; for one tracked by serial it may be left empty
//                 (the number of serials) and must equal it when given
//   serials       empty for a product tracked by lot; else the serials at
//                 that location: "SN0001..SN0100" or "SN0001 SN0005
//                 SN0007" (ranges and single serials, separated by spaces
//                 or commas)
//   reference     e.g. "opening stock 2026-12-01" (recorded on the event)
//   source        production (default) or supplier: opening stock is
//                 counted as received from the maker's own production
//                 unless a row says it was bought in
//
// Like the other imports (import.h), two phases. PlanStockImport checks
// every row offline — required cells, whole quantities > 0, serials as
// domain/serials reads them (malformed ranges, a serial twice in a row,
// quantity against the number of serials), a serial on two rows of the
// same item, the same row twice — and reports every problem with row and
// column; with any bad row nothing is written. Then each row is one
// ReceiveStock (the service's rules apply: the lot must exist, serials
// must be assigned to the lot and not in stock) whose request id is
// derived from the row's content, so a re-run writes nothing new. The
// summary counts rows, units and serials received, and rows refused.
//
// Thread-safety: PlanStockImport is pure; RunImportStock is one command at
// a time, as Context.
#ifndef LOTLEDGER_TOOLS_LOTCTL_IMPORT_STOCK_H_
#define LOTLEDGER_TOOLS_LOTCTL_IMPORT_STOCK_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lotledger/v1/inventory.pb.h"
#include "tools/lotctl/context.h"
#include "tools/lotctl/flags.h"
#include "tools/lotctl/import.h"

namespace lotledger::lotctl {

struct StockImportRow {
  int row = 0;  // row 1 is the header
  // request_id: "import-" + 32 hex digits of SHA-256 of "stock" and the
  // row's trimmed values by column name.
  v1::ReceiveStockRequest receive;
  int64_t serials = 0;  // how many serials the row names
};

struct StockImportPlan {
  int data_rows = 0;
  std::vector<StockImportRow> good;
  std::vector<RowProblem> problems;  // in row order
  int bad_rows = 0;
};

// Parses and checks `csv`. InvalidArgument for a file that is not a table
// of these columns (quoting, header, unknown or missing required column).
absl::StatusOr<StockImportPlan> PlanStockImport(absl::string_view csv);

// `lotctl import stock FILE.csv [--dry-run]`; `args` are the words after
// `import`. Exit 0, or 4 when a row was bad or refused.
int RunImportStock(Context& ctx, ParsedArgs& args);

}  // namespace lotledger::lotctl

#endif  // LOTLEDGER_TOOLS_LOTCTL_IMPORT_STOCK_H_
