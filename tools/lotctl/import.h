// `lotctl import products|lots FILE.csv`: bulk master data and lots from a
// CSV file (see csv.h for the dialect and `lotctl help import` for the
// columns).
//
// Two phases. PlanImport checks every row offline — required columns,
// dates, integers, kinds, GTIN-14 check digits of finished devices,
// duplicates within the file — and reports every problem with its row and
// column, so one run shows everything to fix. RunImport then writes the
// good rows in file order (nothing at all when a row is bad, unless
// --partial), one command per row whose request id is derived from the
// row's content: re-running a file, after a crash or on purpose, writes
// nothing twice.
//
// Thread-safety: PlanImport is a pure function, safe to call concurrently.
#ifndef LOTLEDGER_TOOLS_LOTCTL_IMPORT_H_
#define LOTLEDGER_TOOLS_LOTCTL_IMPORT_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lotledger/v1/events.pb.h"
#include "lotledger/v1/lots.pb.h"

namespace lotledger::lotctl {

enum class ImportKind { kProducts, kLots };

// One bad value (or a bad row when `column` is empty).
struct RowProblem {
  int row = 0;  // row 1 is the header, as a spreadsheet numbers them
  std::string column;
  std::string message;  // quotes the value and names the rule
};

// `row 7, column expires_on: "2026-02-30" is not a valid date (YYYY-MM-DD)`
// or `row 5: ...` for a problem with the whole row.
std::string FormatProblem(const RowProblem& problem);

// A column of an import file, and whether every row must fill it.
struct ImportColumn {
  const char* name;
  bool required;
};

// One non-blank data row of an import file: its values by column name
// (trimmed), or, when it has another number of fields than the header, the
// problem that says so (values then empty).
struct ImportTableRow {
  int row = 0;
  std::map<std::string, std::string> values;
  std::optional<RowProblem> malformed;
};

// Reads `csv` as a table of `columns`: a header row naming known columns
// (any case, any order), each once, every required one present; then the
// data rows in order, blank ones skipped. InvalidArgument for a file that
// is not such a table (quoting, no header, an unknown, repeated or missing
// column); `what` ("products", "customers") names the kind in the error.
absl::StatusOr<std::vector<ImportTableRow>> ReadImportTable(
    std::string_view csv, const std::vector<ImportColumn>& columns,
    std::string_view what);

// A row that passed the offline checks, ready to send.
struct ImportRow {
  int row = 0;
  // "import-" + the first 32 hex digits of SHA-256 of the kind and the
  // row's trimmed values by column name: the same row content gives the
  // same id whatever its position, column order or line endings.
  std::string request_id;
  std::string key;           // the item or lot id, for messages
  v1::Product product;       // kProducts
  v1::CreateLotRequest lot;  // kLots; request_id set, input units may be
                             // empty (filled from the input lots)
};

struct ImportPlan {
  ImportKind kind = ImportKind::kProducts;
  int data_rows = 0;  // rows after the header, blank lines not counted
  std::vector<ImportRow> good;
  std::vector<RowProblem> problems;  // in row order
  int bad_rows = 0;                  // rows with at least one problem
};

// Parses and checks `csv`. InvalidArgument for a file that cannot be read
// as a table at all: malformed quoting, no header, an unknown or repeated
// column, a required column missing.
absl::StatusOr<ImportPlan> PlanImport(ImportKind kind, std::string_view csv);

// ---- What `lotctl import customers|serials|stock` share
// ----------------------

class Context;
struct ParsedArgs;

// The file of `lotctl import KIND FILE.csv [--dry-run]`, read whole.
struct ImportFile {
  std::string path;
  std::string text;
  bool dry_run = false;
};

// Takes the flags and arguments of `lotctl import KIND FILE.csv
// [--dry-run]` and reads the file. InvalidArgument (a usage error) for
// another flag, other arguments or a file that cannot be read.
absl::StatusOr<ImportFile> ReadImportFile(ParsedArgs& args,
                                          absl::string_view kind);

// After every row was checked: prints each problem, then returns the exit
// code when nothing is to be written — kExitBadRows with "nothing written:
// N bad of M rows" when a row is bad, kExitOk with `checked` ("checked 6
// rows: all good") on a dry run — and nullopt when the rows are to be
// written.
std::optional<int> StopBeforeWriting(Context& ctx,
                                     const std::vector<RowProblem>& problems,
                                     int bad_rows, int data_rows, bool dry_run,
                                     std::string_view checked);

}  // namespace lotledger::lotctl

#endif  // LOTLEDGER_TOOLS_LOTCTL_IMPORT_H_
