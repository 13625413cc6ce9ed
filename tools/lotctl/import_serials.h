// `lotctl import serials FILE.csv`: the serial register of lots made
// before it existed (issue 19), from a CSV file (csv.h's dialect). Columns,
// by name in any order (both required):
//   lot_id   "<item>:<lot number>" of a lot of a product tracked by serial;
//   serials  one serial or a range FIRST..LAST ("SN0001..SN0100").
// A lot may take several rows; its rows are merged.
//
// Like the other imports (import.h), two phases. PlanSerialImport checks
// every row offline — lot ids, serials and ranges by the rules every
// service reads them with (libs/domain/serials), a serial named twice in
// the file (also on two lots of one item) — and reports every problem with
// its row and column; with any bad row nothing is written. Then, per lot,
// the lot's serials in canonical order are sent in AssignSerials requests
// of at most kSerialsPerImportRequest serials, each with a request id
// derived from the lot id and its serials: a re-run (after a crash or on
// purpose) writes nothing new. Before each request the register is asked
// (GetSerial) which of them the lot has already, so the summary tells new
// serials from unchanged ones: "serials: new N, unchanged M, refused R
// (lots: K)".
//
// Thread-safety: PlanSerialImport is pure; RunImportSerials is one command
// at a time, as Context.
#ifndef LOTLEDGER_TOOLS_LOTCTL_IMPORT_SERIALS_H_
#define LOTLEDGER_TOOLS_LOTCTL_IMPORT_SERIALS_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "lotledger/v1/events.pb.h"
#include "tools/lotctl/context.h"
#include "tools/lotctl/flags.h"
#include "tools/lotctl/import.h"

namespace lotledger::lotctl {

// Serials per AssignSerials request: far below the server's 100,000 per
// request, so that even serials that do not form ranges stay within the
// request size limit.
inline constexpr size_t kSerialsPerImportRequest = 20'000;

// One AssignSerials request of the import.
struct SerialImportRequest {
  std::string lot_id;
  std::string item;
  std::vector<int> rows;  // the file rows its serials come from
  // "import-" + 32 hex digits of SHA-256 of the lot id and its ranges.
  std::string request_id;
  std::vector<std::string> serials;  // sorted
};

struct SerialImportPlan {
  int data_rows = 0;
  int lots = 0;
  std::vector<SerialImportRequest> requests;  // by lot id, then serials
  std::vector<RowProblem> problems;           // in row order
  int bad_rows = 0;
};

// Parses and checks `csv`. InvalidArgument for a file that is not a table
// of these columns (quoting, header, unknown or missing required column).
absl::StatusOr<SerialImportPlan> PlanSerialImport(std::string_view csv);

// `lotctl import serials FILE.csv [--dry-run]`; `args` are the words after
// `import`. Exit 0, or 4 when a row was bad or a lot refused.
int RunImportSerials(Context& ctx, ParsedArgs& args);

// "lot" or "serial" (any case) as a Tracking, for `product define
// --tracking` and the products import's tracking column.
absl::StatusOr<v1::Tracking> ParseTrackingText(std::string_view text);

}  // namespace lotledger::lotctl

#endif  // LOTLEDGER_TOOLS_LOTCTL_IMPORT_SERIALS_H_
