// A small RFC 4180 CSV reader for `lotctl import`: quoted fields, "" as an
// escaped quote inside a quoted field, commas and line breaks (LF or CRLF)
// inside quoted fields, CRLF or LF record ends, and a UTF-8 byte-order mark
// at the start (Excel writes one). It is strict where guessing would import
// the wrong data: a quote inside an unquoted field, text after a closing
// quote, or an unterminated quoted field is an error naming the line.
// Records may have different field counts ("ragged"): the caller decides
// what a short or long row means, because it can name the row and column.
//
// Thread-safety: pure functions; safe to call concurrently.
#ifndef LOTLEDGER_TOOLS_LOTCTL_CSV_H_
#define LOTLEDGER_TOOLS_LOTCTL_CSV_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace lotledger::lotctl {

struct CsvRecord {
  // 1-based line of the file on which the record starts. Differs from the
  // record number once a quoted field has spanned a line break.
  int line = 0;
  std::vector<std::string> fields;
};

// Splits `text` into records. A line break at the very end does not start
// an empty record; blank lines elsewhere come back as records with one
// empty field (callers usually skip them, see IsBlank).
// InvalidArgument "line N: ..." for malformed quoting.
absl::StatusOr<std::vector<CsvRecord>> ParseCsv(std::string_view text);

// True for a record that is one empty field: a blank line.
bool IsBlank(const CsvRecord& record);

}  // namespace lotledger::lotctl

#endif  // LOTLEDGER_TOOLS_LOTCTL_CSV_H_
