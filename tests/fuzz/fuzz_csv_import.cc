// libFuzzer target: `lotctl import` of a CSV file (tools/lotctl csv.h and
// import.h). Any file must give records or InvalidArgument naming the
// line, never a crash or a sanitizer report. Properties:
//  * what parses reads back the same when written out again (every field
//    quoted, quotes doubled);
//  * the import plan accounts for every data row, and every good row has
//    the content-derived request id "import-" + 32 hex digits;
//  * a product row the plan passes also passes the lots domain's
//    ValidateProduct (no row is planned that the server must refuse).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "libs/domain/lots/decider.h"
#include "tests/fuzz/fuzz_check.h"
#include "tools/lotctl/csv.h"
#include "tools/lotctl/import.h"

namespace lotledger::lotctl {
namespace {

std::string WriteCsv(const std::vector<CsvRecord>& records) {
  std::string out;
  for (const CsvRecord& r : records) {
    for (size_t i = 0; i < r.fields.size(); ++i) {
      if (i > 0) out += ',';
      out += '"';
      for (char c : r.fields[i]) {
        if (c == '"') out += '"';
        out += c;
      }
      out += '"';
    }
    out += "\r\n";
  }
  return out;
}

void CheckPlan(ImportKind kind, std::string_view text) {
  absl::StatusOr<ImportPlan> plan = PlanImport(kind, text);
  if (!plan.ok()) {
    FUZZ_CHECK(absl::IsInvalidArgument(plan.status()),
               plan.status().ToString());
    return;
  }
  FUZZ_CHECK(
      static_cast<int>(plan->good.size()) + plan->bad_rows == plan->data_rows,
      "good ", plan->good.size(), " + bad ", plan->bad_rows, " != data rows ",
      plan->data_rows);
  FUZZ_CHECK(plan->bad_rows <= static_cast<int>(plan->problems.size()),
             "bad rows without a problem");
  for (const RowProblem& p : plan->problems) {
    FUZZ_CHECK(p.row >= 2, "problem on row ", p.row, ": ", p.message);
    FUZZ_CHECK(!p.message.empty(), "problem without a message, row ", p.row);
  }
  for (const ImportRow& row : plan->good) {
    FUZZ_CHECK(
        row.request_id.size() == 39 && row.request_id.rfind("import-", 0) == 0,
        "request id ", row.request_id);
    if (kind == ImportKind::kProducts) {
      const absl::Status valid = lots::ValidateProduct(row.product);
      FUZZ_CHECK(valid.ok(), "row ", row.row,
                 " planned but refused: ", valid.ToString());
    } else {
      FUZZ_CHECK(row.lot.request_id() == row.request_id, "row ", row.row);
    }
  }
}

void FuzzOne(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<std::vector<CsvRecord>> records = ParseCsv(text);
  if (!records.ok()) {
    FUZZ_CHECK(absl::IsInvalidArgument(records.status()),
               records.status().ToString());
    FUZZ_CHECK(records.status().message().rfind("line ", 0) == 0,
               "error does not name the line: ", records.status().ToString());
  } else {
    const std::string written = WriteCsv(*records);
    absl::StatusOr<std::vector<CsvRecord>> again = ParseCsv(written);
    FUZZ_CHECK(again.ok(),
               "written form does not parse: ", again.status().ToString());
    FUZZ_CHECK(again->size() == records->size(), "record count ", again->size(),
               " != ", records->size());
    for (size_t i = 0; i < records->size(); ++i) {
      FUZZ_CHECK((*again)[i].fields == (*records)[i].fields, "record ", i,
                 " reads back differently");
    }
  }
  CheckPlan(ImportKind::kProducts, text);
  CheckPlan(ImportKind::kLots, text);
}

}  // namespace
}  // namespace lotledger::lotctl

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  lotledger::lotctl::FuzzOne(data, size);
  return 0;
}
