#include "tools/lotctl/import_stock.h"

#include <map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/common/hash.h"
#include "libs/common/ids.h"
#include "libs/common/status_macros.h"
#include "libs/domain/serials/serials.h"
#include "lotledger/v1/inventory.grpc.pb.h"
#include "tools/lotctl/cli.h"
#include "tools/lotctl/csv.h"

namespace lotledger::lotctl {
namespace {

// Canonical order: also the order in which a row's values enter its
// request id, so it never changes for existing columns (add at the end).
const std::vector<ImportColumn>& Columns() {
  static const auto* columns = new std::vector<ImportColumn>{
      {"lot_id", true},   {"location_id", true}, {"quantity", false},
      {"serials", false}, {"reference", false},  {"source", false},
  };
  return *columns;
}

std::string RequestIdFor(const std::map<std::string, std::string>& values) {
  std::string canonical = "stock";
  for (const ImportColumn& c : Columns()) {
    auto it = values.find(c.name);
    absl::StrAppend(&canonical, "\n", c.name, "=",
                    it == values.end() ? "" : it->second);
  }
  return absl::StrCat("import-", HexEncode(Sha256(canonical)).substr(0, 32));
}

// The row's serials, sorted; problems into `problems`.
std::vector<std::string> RowSerials(int row, const std::string& text,
                                    v1::ReceiveStockRequest& req,
                                    std::vector<RowProblem>& problems) {
  if (text.empty()) return {};
  for (absl::string_view word :
       absl::StrSplit(text, absl::ByAnyChar(" ,\t"), absl::SkipEmpty())) {
    absl::StatusOr<v1::SerialRange> range =
        domain::ParseSerialRangeText(word, "serials");
    if (!range.ok()) {
      problems.push_back(
          {row, "serials", std::string(range.status().message())});
      return {};
    }
    *req.add_serials() = *std::move(range);
  }
  absl::StatusOr<std::vector<std::string>> serials =
      domain::ExpandSerials(req.serials(), "serials");
  if (!serials.ok()) {
    problems.push_back(
        {row, "serials", std::string(serials.status().message())});
    return {};
  }
  return *std::move(serials);
}

}  // namespace

absl::StatusOr<StockImportPlan> PlanStockImport(absl::string_view csv) {
  ASSIGN_OR_RETURN(std::vector<ImportTableRow> rows,
                   ReadImportTable(std::string_view(csv.data(), csv.size()),
                                   Columns(), "stock"));
  StockImportPlan plan;
  // "<item> <serial>" -> the first row naming it; request id -> its row.
  std::map<std::string, int> serial_row;
  std::map<std::string, int> same_row;
  for (ImportTableRow& table_row : rows) {
    const int row = table_row.row;
    ++plan.data_rows;
    if (table_row.malformed.has_value()) {
      plan.problems.push_back(*std::move(table_row.malformed));
      ++plan.bad_rows;
      continue;
    }
    const std::map<std::string, std::string>& values = table_row.values;
    auto text = [&](const std::string& column) {
      auto it = values.find(column);
      return it == values.end() ? std::string() : it->second;
    };
    const size_t before = plan.problems.size();
    auto problem = [&](const std::string& column, std::string message) {
      plan.problems.push_back({row, column, std::move(message)});
    };
    StockImportRow out;
    out.row = row;
    v1::ReceiveStockRequest& req = out.receive;
    req.set_lot_id(text("lot_id"));
    req.set_location_id(text("location_id"));
    req.set_reference(text("reference"));
    if (req.lot_id().empty()) problem("lot_id", "required");
    if (req.location_id().empty()) problem("location_id", "required");
    const std::string source = absl::AsciiStrToLower(text("source"));
    if (source.empty() || source == "production") {
      req.set_source(v1::RECEIPT_SOURCE_PRODUCTION);
    } else if (source == "supplier") {
      req.set_source(v1::RECEIPT_SOURCE_SUPPLIER);
    } else {
      problem("source", absl::StrCat("\"", text("source"),
                                     "\" is not production or supplier"));
    }
    const std::vector<std::string> serials =
        RowSerials(row, text("serials"), req, plan.problems);
    out.serials = static_cast<int64_t>(serials.size());
    const std::string quantity = text("quantity");
    int64_t n = 0;
    if (!quantity.empty()) {
      if (!absl::SimpleAtoi(quantity, &n) || n <= 0) {
        problem("quantity",
                absl::StrCat("\"", quantity, "\" is not a whole number > 0"));
      } else if (!serials.empty() && n != out.serials) {
        problem("quantity",
                absl::StrCat(n, " but the row names ", out.serials,
                             " serials; for serials they are equal (or "
                             "leave quantity empty)"));
      }
      req.mutable_quantity()->set_amount(n);
    } else if (text("serials").empty()) {
      problem("quantity", "required when the row names no serials");
    }
    const std::string item(ItemOfLotId(req.lot_id()));
    for (const std::string& s : serials) {
      auto [it, added] = serial_row.emplace(domain::SerialKey(item, s), row);
      if (!added) {
        problem("serials", absl::StrCat("serial ", s, " of item ", item,
                                        " is also on row ", it->second));
        break;
      }
    }
    req.set_request_id(RequestIdFor(values));
    if (auto [it, added] = same_row.emplace(req.request_id(), row); !added) {
      problem("", absl::StrCat("the same as row ", it->second));
    }
    if (plan.problems.size() != before) {
      ++plan.bad_rows;
      continue;
    }
    plan.good.push_back(std::move(out));
  }
  return plan;
}

int RunImportStock(Context& ctx, ParsedArgs& args) {
  absl::StatusOr<ImportFile> file = ReadImportFile(args, "stock");
  if (!file.ok()) return ctx.Usage(file.status());
  absl::StatusOr<StockImportPlan> plan = PlanStockImport(file->text);
  if (!plan.ok()) {
    return ctx.Usage(absl::InvalidArgumentError(
        absl::StrCat(file->path, ": ", plan.status().message())));
  }
  if (std::optional<int> stop = StopBeforeWriting(
          ctx, plan->problems, plan->bad_rows, plan->data_rows, file->dry_run,
          absl::StrCat("checked ", plan->data_rows, " rows: all good"))) {
    return *stop;
  }
  auto stub = v1::InventoryService::NewStub(ctx.channel());
  int received = 0, refused = 0;
  int64_t units = 0, serials = 0;
  for (const StockImportRow& row : plan->good) {
    v1::ReceiveStockResponse resp;
    grpc::Status s = stub->ReceiveStock(ctx.Call().get(), row.receive, &resp);
    if (s.ok()) {
      ++received;
      units += row.serials > 0 ? row.serials : row.receive.quantity().amount();
      serials += row.serials;
      continue;
    }
    if (s.error_code() == grpc::StatusCode::INVALID_ARGUMENT ||
        s.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
      ++refused;
      ctx.err() << FormatProblem(
                       {row.row, "",
                        absl::StrCat("refused: ", CodeName(s.error_code()),
                                     ": ", s.error_message())})
                << "\n";
      continue;
    }
    const int code = ctx.Fail(s);
    ctx.err() << "stopped at row " << row.row
              << "; re-run the same command to resume (rows already "
                 "imported are not received twice)\n";
    return code;
  }
  ctx.out() << "stock: rows received " << received << " (" << units
            << " units, " << serials << " serials), refused " << refused
            << "\n";
  return refused > 0 ? kExitBadRows : kExitOk;
}

}  // namespace lotledger::lotctl
