#include "tools/lotctl/import.h"

#include <algorithm>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "libs/common/hash.h"
#include "libs/common/ids.h"
#include "libs/common/status_macros.h"
#include "libs/domain/lots/dates.h"
#include "libs/domain/lots/decider.h"
#include "libs/gs1/element_string.h"
#include "tools/lotctl/context.h"
#include "tools/lotctl/csv.h"
#include "tools/lotctl/flags.h"
#include "tools/lotctl/import_customers.h"
#include "tools/lotctl/import_serials.h"
#include "tools/lotctl/import_stock.h"
#include "tools/lotctl/values.h"

namespace lotledger::lotctl {
namespace {

// Canonical column order: it is also the order in which a row's values
// enter its request id, so it must never change for existing columns (add
// new columns at the end).
const std::vector<ImportColumn>& Columns(ImportKind kind) {
  static const auto* products = new std::vector<ImportColumn>{
      {"item", true},
      {"name", true},
      {"uom", true},
      {"kind", true},
      {"shelf_life_days", false},
      {"alert_days", false},
      {"min_ship_days", false},
      {"cap_expiry_by_components", false},
      {"require_released_components", false},
      {"tracking", false},
  };
  static const auto* lots = new std::vector<ImportColumn>{
      {"item", true},
      {"lot_number", true},
      {"manufactured_on", true},
      {"expires_on", false},
      {"quantity", true},
      {"uom", true},
      {"site", false},
      {"production_order", false},
      {"inputs", false},
      {"supplier", false},
      {"supplier_lot", false},
  };
  return kind == ImportKind::kProducts ? *products : *lots;
}

const char* KindName(ImportKind kind) {
  return kind == ImportKind::kProducts ? "products" : "lots";
}

// One row's values by column name (absent columns read as empty), and the
// problems found in it.
class RowReader {
 public:
  RowReader(int row, std::map<std::string, std::string> values,
            std::vector<RowProblem>& problems)
      : row_(row), values_(std::move(values)), problems_(problems) {}

  const std::string& Text(const std::string& column) const {
    static const std::string* empty = new std::string();
    auto it = values_.find(column);
    return it == values_.end() ? *empty : it->second;
  }
  void Problem(const std::string& column, std::string message) {
    problems_.push_back({row_, column, std::move(message)});
    ++count_;
  }
  int problem_count() const { return count_; }

  // Required text: a problem when empty.
  std::string Required(const std::string& column) {
    const std::string& v = Text(column);
    if (v.empty()) Problem(column, "is required");
    return v;
  }
  template <typename T>
  std::optional<T> Check(const std::string& column, absl::StatusOr<T> value) {
    if (!value.ok()) {
      Problem(column, std::string(value.status().message()));
      return std::nullopt;
    }
    return *std::move(value);
  }
  // An integer in [min, max]; `fallback` when the cell is empty.
  std::optional<int64_t> Int(const std::string& column, int64_t min,
                             int64_t max, std::optional<int64_t> fallback) {
    const std::string& v = Text(column);
    if (v.empty()) {
      if (!fallback.has_value()) Problem(column, "is required");
      return fallback;
    }
    absl::StatusOr<int64_t> n = ParseInt(v, "x", min, max);
    if (!n.ok()) {
      Problem(column, absl::StrCat("\"", v, "\" is not a whole number in ", min,
                                   "..", max));
      return std::nullopt;
    }
    return *n;
  }

 private:
  int row_;
  std::map<std::string, std::string> values_;
  std::vector<RowProblem>& problems_;
  int count_ = 0;
};

std::string RequestIdFor(ImportKind kind, const RowReader& row) {
  std::string canonical = KindName(kind);
  for (const ImportColumn& c : Columns(kind)) {
    // An empty tracking (added later) leaves the ids of older files as
    // they were.
    if (std::string_view(c.name) == "tracking" && row.Text(c.name).empty()) {
      continue;
    }
    absl::StrAppend(&canonical, "\n", c.name, "=", row.Text(c.name));
  }
  return absl::StrCat("import-", HexEncode(Sha256(canonical)).substr(0, 32));
}

std::string GtinProblem(const std::string& item) {
  const bool digits = item.size() == 14 &&
                      std::all_of(item.begin(), item.end(),
                                  [](char c) { return c >= '0' && c <= '9'; });
  if (!digits) {
    return absl::StrCat("\"", item,
                        "\" is not a GTIN-14 (14 digits), required for a "
                        "finished device");
  }
  return absl::StrCat("\"", item, "\" is not a valid GTIN-14: check digit is ",
                      item.substr(13), ", expected ",
                      gs1::CheckDigit(item.substr(0, 13)));
}

void CheckProductRow(RowReader& r, ImportRow& out) {
  v1::Product& p = out.product;
  p.set_item(r.Required("item"));
  p.set_name(r.Required("name"));
  p.set_uom(r.Required("uom"));
  if (!r.Text("kind").empty()) {
    if (auto kind = r.Check("kind", ParseKind(r.Text("kind")))) {
      p.set_kind(*kind);
    }
  } else {
    r.Required("kind");
  }
  if (p.kind() == v1::ITEM_KIND_FINISHED_DEVICE && !p.item().empty() &&
      !gs1::IsValidGtin14(p.item())) {
    r.Problem("item", GtinProblem(p.item()));
  }
  v1::ShelfLifePolicy* policy = p.mutable_policy();
  if (auto d = r.Int("shelf_life_days", 0, 36500, 0)) {
    policy->set_shelf_life_days(static_cast<int32_t>(*d));
  }
  if (auto days = r.Check("alert_days", ParseDayList(r.Text("alert_days")))) {
    // The server keeps thresholds longest first; so does the comparison
    // with what is already there.
    std::sort(days->begin(), days->end(), std::greater<int32_t>());
    for (int32_t d : *days) policy->add_alert_thresholds_days(d);
  }
  if (auto d = r.Int("min_ship_days", 0, 36500, 0)) {
    policy->set_min_remaining_days_to_ship(static_cast<int32_t>(*d));
  }
  if (auto b = r.Check("cap_expiry_by_components",
                       ParseBool(r.Text("cap_expiry_by_components")))) {
    policy->set_cap_expiry_by_components(*b);
  }
  if (auto b = r.Check("require_released_components",
                       ParseBool(r.Text("require_released_components")))) {
    policy->set_require_released_components(*b);
  }
  if (!r.Text("tracking").empty()) {
    if (auto t = r.Check("tracking", ParseTrackingText(r.Text("tracking")))) {
      p.set_tracking(*t);
    }
  }
  // The rules the server checks (item codes of components and raw
  // materials, name and uom), so that a planned row is never refused.
  if (r.problem_count() == 0) {
    const absl::Status valid = lots::ValidateProduct(p);
    if (!valid.ok()) {
      std::string message(valid.message());
      std::string column;
      for (const char* c : {"item", "name", "uom"}) {
        const std::string prefix = absl::StrCat("product.", c, ": ");
        if (absl::StartsWith(message, prefix)) {
          column = c;
          message.erase(0, prefix.size());
          break;
        }
      }
      r.Problem(column, message);
    }
  }
  out.key = p.item();
}

void CheckLotRow(RowReader& r, ImportRow& out) {
  v1::CreateLotRequest& lot = out.lot;
  lot.set_item(r.Required("item"));
  lot.set_lot_number(r.Required("lot_number"));
  if (lot.lot_number().size() > 20) {
    r.Problem("lot_number",
              absl::StrCat("\"", lot.lot_number(),
                           "\" is longer than 20 characters (GS1 AI 10)"));
  }
  std::optional<v1::Date> made;
  if (!r.Required("manufactured_on").empty()) {
    made = r.Check("manufactured_on", ParseDateText(r.Text("manufactured_on")));
    if (made) *lot.mutable_manufactured_on() = *made;
  }
  if (!r.Text("expires_on").empty()) {
    auto expires = r.Check("expires_on", ParseDateText(r.Text("expires_on")));
    if (expires) {
      *lot.mutable_expires_on() = *expires;
      if (made && lots::CompareDates(*expires, *made) < 0) {
        r.Problem("expires_on", absl::StrCat("\"", r.Text("expires_on"),
                                             "\" is before manufactured_on ",
                                             r.Text("manufactured_on")));
      }
    }
  }
  if (auto q = r.Int("quantity", 1, INT64_MAX, std::nullopt)) {
    lot.mutable_quantity()->set_amount(*q);
  }
  lot.mutable_quantity()->set_uom(r.Required("uom"));
  lot.set_site(r.Text("site"));
  lot.set_production_order(r.Text("production_order"));
  lot.set_supplier(r.Text("supplier"));
  lot.set_supplier_lot(r.Text("supplier_lot"));
  const std::string self = MakeLotId(lot.item(), lot.lot_number());
  for (absl::string_view part :
       absl::StrSplit(r.Text("inputs"), ';', absl::SkipWhitespace())) {
    const std::string text(absl::StripAsciiWhitespace(part));
    if (auto in = r.Check("inputs", ParseLotInput(text))) {
      if (in->lot_id() == self) {
        r.Problem("inputs",
                  absl::StrCat("\"", text, "\": a lot cannot consume itself"));
      }
      *lot.add_inputs() = *in;
    }
  }
  out.key = self;
}

// Draws "rows done/total, rows/s" on a terminal, at most ten times a
// second; does nothing when the error stream is not a terminal.
class Progress {
 public:
  Progress(Context& ctx, int total)
      : ctx_(ctx), total_(total), start_(ctx.env().now()) {}
  void Update(int done) {
    if (!ctx_.env().err_is_tty) return;
    const absl::Time now = ctx_.env().now();
    if (done < total_ && now - last_ < absl::Milliseconds(100)) return;
    last_ = now;
    const double seconds = absl::ToDoubleSeconds(now - start_);
    constexpr int kWidth = 30;
    const int filled = total_ == 0 ? kWidth : done * kWidth / total_;
    ctx_.err() << "\r[" << std::string(filled, '#')
               << std::string(kWidth - filled, '.') << "] " << done << "/"
               << total_ << " rows"
               << absl::StrFormat("  %.1f rows/s",
                                  seconds > 0 ? done / seconds : 0.0)
               << std::flush;
    drawn_ = true;
  }
  // Ends the bar's line so later messages start on their own.
  void Clear() {
    if (drawn_) ctx_.err() << "\n";
    drawn_ = false;
  }

 private:
  Context& ctx_;
  int total_;
  absl::Time start_;
  absl::Time last_ = absl::InfinitePast();
  bool drawn_ = false;
};

// kWritten covers "already present" too: the tally tells them apart.
enum class Outcome { kWritten, kRefused, kStop };

struct Tally {
  int imported = 0;
  int already = 0;
  int refused = 0;
  std::vector<RowProblem> refusals;
};

bool IsRowRefusal(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::OUT_OF_RANGE:
      return true;
    default:  // auth, transport and server faults concern every row
      return false;
  }
}

class Writer {
 public:
  explicit Writer(Context& ctx)
      : ctx_(ctx), lots_(v1::LotsService::NewStub(ctx.channel())) {}

  // Writes one row. On kStop, `stop` holds the status that ends the run.
  Outcome Write(ImportKind kind, const ImportRow& row, Tally& tally,
                grpc::Status& stop) {
    grpc::Status s = kind == ImportKind::kProducts ? WriteProduct(row, tally)
                                                   : WriteLot(row, tally);
    if (s.ok()) return Outcome::kWritten;
    if (IsRowRefusal(s.error_code())) {
      ++tally.refused;
      tally.refusals.push_back(
          {row.row, "",
           absl::StrCat("refused: ", CodeName(s.error_code()), ": ",
                        s.error_message())});
      ctx_.err() << FormatProblem(tally.refusals.back()) << "\n";
      return Outcome::kRefused;
    }
    stop = s;
    return Outcome::kStop;
  }

 private:
  grpc::Status WriteProduct(const ImportRow& row, Tally& tally) {
    using google::protobuf::util::MessageDifferencer;
    v1::GetProductRequest get;
    get.set_item(row.product.item());
    v1::GetProductResponse before;
    grpc::Status s = lots_->GetProduct(ctx_.Call().get(), get, &before);
    const bool existed = s.ok();
    if (!existed && s.error_code() != grpc::StatusCode::NOT_FOUND) return s;
    if (existed && MessageDifferencer::Equals(before.product(), row.product)) {
      ++tally.already;
      return grpc::Status::OK;
    }
    v1::DefineProductRequest req;
    req.set_request_id(row.request_id);
    *req.mutable_product() = row.product;
    v1::DefineProductResponse resp;
    s = lots_->DefineProduct(ctx_.Call().get(), req, &resp);
    if (!s.ok()) return s;
    // A retried request id answers with the first definition: when that
    // equals what is there, this run changed nothing.
    if (existed &&
        MessageDifferencer::Equals(before.product(), resp.product())) {
      ++tally.already;
    } else {
      ++tally.imported;
    }
    return grpc::Status::OK;
  }

  grpc::Status WriteLot(const ImportRow& row, Tally& tally) {
    v1::GetLotRequest get;
    get.set_lot_id(row.key);
    v1::GetLotResponse existing;
    grpc::Status s = lots_->GetLot(ctx_.Call().get(), get, &existing);
    if (s.ok()) {
      ++tally.already;
      return grpc::Status::OK;
    }
    if (s.error_code() != grpc::StatusCode::NOT_FOUND) return s;
    v1::CreateLotRequest req = row.lot;
    req.set_request_id(row.request_id);
    s = FillInputUnits(ctx_, *lots_, req.quantity().uom(), req.mutable_inputs(),
                       units_);
    if (!s.ok()) return s;
    v1::CreateLotResponse resp;
    s = lots_->CreateLot(ctx_.Call().get(), req, &resp);
    if (!s.ok()) return s;
    ++tally.imported;
    return grpc::Status::OK;
  }

  Context& ctx_;
  std::unique_ptr<v1::LotsService::Stub> lots_;
  std::map<std::string, std::string> units_;  // input lot -> its unit
};

void PrintJsonSummary(Context& ctx, const ImportPlan& plan, const Tally& t,
                      bool written) {
  google::protobuf::Struct summary;
  auto& f = *summary.mutable_fields();
  f["rows"].set_number_value(plan.data_rows);
  f["written"].set_bool_value(written);
  f["imported"].set_number_value(t.imported);
  f["alreadyPresent"].set_number_value(t.already);
  f["refused"].set_number_value(t.refused);
  f["badRows"].set_number_value(plan.bad_rows);
  auto* problems = f["problems"].mutable_list_value();
  std::vector<RowProblem> all = plan.problems;
  all.insert(all.end(), t.refusals.begin(), t.refusals.end());
  for (const RowProblem& p : all) {
    auto& pf =
        *problems->add_values()->mutable_struct_value()->mutable_fields();
    pf["row"].set_number_value(p.row);
    if (!p.column.empty()) pf["column"].set_string_value(p.column);
    pf["message"].set_string_value(p.message);
  }
  ctx.PrintJson(summary);
}

}  // namespace

std::string FormatProblem(const RowProblem& p) {
  if (p.column.empty()) return absl::StrCat("row ", p.row, ": ", p.message);
  return absl::StrCat("row ", p.row, ", column ", p.column, ": ", p.message);
}

absl::StatusOr<std::vector<ImportTableRow>> ReadImportTable(
    std::string_view csv, const std::vector<ImportColumn>& columns,
    std::string_view what) {
  ASSIGN_OR_RETURN(std::vector<CsvRecord> records, ParseCsv(csv));
  if (records.empty() || IsBlank(records[0])) {
    return absl::InvalidArgumentError(
        "the file has no header row (the first line names the columns)");
  }
  std::vector<std::string> header;
  for (const std::string& raw : records[0].fields) {
    std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(raw));
    if (std::none_of(columns.begin(), columns.end(),
                     [&](const ImportColumn& c) { return name == c.name; })) {
      std::vector<std::string> known;
      for (const ImportColumn& c : columns) known.push_back(c.name);
      return absl::InvalidArgumentError(absl::StrCat(
          "header: unknown column \"", raw, "\" for ", std::string(what),
          " (columns: ", absl::StrJoin(known, ", "), ")"));
    }
    if (std::find(header.begin(), header.end(), name) != header.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("header: column ", name, " appears twice"));
    }
    header.push_back(std::move(name));
  }
  for (const ImportColumn& c : columns) {
    if (c.required &&
        std::find(header.begin(), header.end(), c.name) == header.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("header: required column ", c.name, " is missing"));
    }
  }
  std::vector<ImportTableRow> rows;
  for (size_t i = 1; i < records.size(); ++i) {
    const CsvRecord& record = records[i];
    if (IsBlank(record)) continue;
    ImportTableRow& out = rows.emplace_back();
    out.row = static_cast<int>(i) + 1;
    if (record.fields.size() != header.size()) {
      out.malformed = RowProblem{
          out.row, "",
          absl::StrCat("has ", record.fields.size(), " fields, the header has ",
                       header.size(), " (line ", record.line, ")")};
      continue;
    }
    for (size_t c = 0; c < header.size(); ++c) {
      out.values[header[c]] =
          std::string(absl::StripAsciiWhitespace(record.fields[c]));
    }
  }
  return rows;
}

absl::StatusOr<ImportPlan> PlanImport(ImportKind kind, std::string_view csv) {
  ASSIGN_OR_RETURN(std::vector<ImportTableRow> rows,
                   ReadImportTable(csv, Columns(kind), KindName(kind)));
  ImportPlan plan;
  plan.kind = kind;
  std::map<std::string, int> first_row_of;  // item or lot id -> row
  for (ImportTableRow& table_row : rows) {
    const int row = table_row.row;
    ++plan.data_rows;
    if (table_row.malformed.has_value()) {
      plan.problems.push_back(*std::move(table_row.malformed));
      ++plan.bad_rows;
      continue;
    }
    RowReader reader(row, std::move(table_row.values), plan.problems);
    ImportRow out;
    out.row = row;
    if (kind == ImportKind::kProducts) {
      CheckProductRow(reader, out);
    } else {
      CheckLotRow(reader, out);
    }
    const char* key_column =
        kind == ImportKind::kProducts ? "item" : "lot_number";
    if (!out.key.empty()) {
      auto [it, inserted] = first_row_of.emplace(out.key, row);
      if (!inserted) {
        reader.Problem(
            key_column,
            absl::StrCat("\"", out.key, "\" is also on row ", it->second));
      }
    }
    if (reader.problem_count() > 0) {
      ++plan.bad_rows;
      continue;
    }
    out.request_id = RequestIdFor(kind, reader);
    if (kind == ImportKind::kLots) out.lot.set_request_id(out.request_id);
    plan.good.push_back(std::move(out));
  }
  return plan;
}

int RunImport(Context& ctx, ParsedArgs& args) {
  // Customers are inventory master data: import_customers.h.
  if (!args.positional.empty() && args.positional[0] == "customers") {
    return RunImportCustomers(ctx, args);
  }
  // The serial register of existing lots: import_serials.h.
  if (!args.positional.empty() && args.positional[0] == "serials") {
    return RunImportSerials(ctx, args);
  }
  // Opening stock: import_stock.h.
  if (!args.positional.empty() && args.positional[0] == "stock") {
    return RunImportStock(ctx, args);
  }
  absl::StatusOr<Flags> flags = Flags::Take(
      args, {{"partial", FlagKind::kSwitch}, {"dry-run", FlagKind::kSwitch}});
  if (!flags.ok()) return ctx.Usage(flags.status());
  if (auto s = RejectUnknown(args, "import"); !s.ok()) return ctx.Usage(s);
  if (args.positional.size() != 2 ||
      (args.positional[0] != "products" && args.positional[0] != "lots")) {
    return ctx.Usage(absl::InvalidArgumentError(
        "usage: lotctl import products|lots FILE.csv [--partial] [--dry-run]"));
  }
  const ImportKind kind = args.positional[0] == "products"
                              ? ImportKind::kProducts
                              : ImportKind::kLots;
  const std::string& path = args.positional[1];
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return ctx.Usage(
        absl::InvalidArgumentError(absl::StrCat("cannot read ", path)));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  absl::StatusOr<ImportPlan> plan = PlanImport(kind, buffer.str());
  if (!plan.ok()) {
    return ctx.Usage(absl::InvalidArgumentError(
        absl::StrCat(path, ": ", plan.status().message())));
  }
  for (const RowProblem& p : plan->problems) {
    ctx.err() << FormatProblem(p) << "\n";
  }

  Tally tally;
  const bool bad = plan->bad_rows > 0;
  const bool write = !flags->Has("dry-run") && (!bad || flags->Has("partial"));
  grpc::Status stop;
  if (write) {
    Writer writer(ctx);
    Progress progress(ctx, static_cast<int>(plan->good.size()));
    int done = 0;
    for (const ImportRow& row : plan->good) {
      Outcome outcome = writer.Write(kind, row, tally, stop);
      if (outcome == Outcome::kStop) break;
      progress.Update(++done);
    }
    progress.Clear();
  }

  if (ctx.json()) {
    PrintJsonSummary(ctx, *plan, tally, write);
  } else if (!write && !flags->Has("dry-run")) {
    ctx.out() << "nothing written: " << plan->bad_rows << " bad of "
              << plan->data_rows << " rows (fix them, or --partial to import "
              << plan->good.size() << " good rows)\n";
  } else if (flags->Has("dry-run")) {
    ctx.out() << "checked " << plan->data_rows << " rows: " << plan->good.size()
              << " good, " << plan->bad_rows << " bad\n";
  } else {
    ctx.out() << "imported " << tally.imported << ", already present "
              << tally.already << ", refused " << tally.refused;
    if (bad) ctx.out() << ", bad " << plan->bad_rows << " (not written)";
    ctx.out() << "\n";
  }
  if (!stop.ok()) {
    const int code = ctx.Fail(stop);
    ctx.err() << "stopped after "
              << tally.imported + tally.already + tally.refused << " of "
              << plan->good.size()
              << " rows; re-run the same command to resume (rows already "
                 "imported are skipped)\n";
    return code;
  }
  return bad || tally.refused > 0 ? kExitBadRows : kExitOk;
}

absl::StatusOr<ImportFile> ReadImportFile(ParsedArgs& args,
                                          absl::string_view kind) {
  const std::string command = absl::StrCat("import ", kind);
  ASSIGN_OR_RETURN(Flags flags,
                   Flags::Take(args, {{"dry-run", FlagKind::kSwitch}}));
  RETURN_IF_ERROR(RejectUnknown(args, command));
  if (args.positional.size() != 2 || args.positional[0] != kind) {
    return absl::InvalidArgumentError(
        absl::StrCat("usage: lotctl ", command, " FILE.csv [--dry-run]"));
  }
  ImportFile file;
  file.path = args.positional[1];
  file.dry_run = flags.Has("dry-run");
  std::ifstream in(file.path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(absl::StrCat("cannot read ", file.path));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  file.text = buffer.str();
  return file;
}

std::optional<int> StopBeforeWriting(Context& ctx,
                                     const std::vector<RowProblem>& problems,
                                     int bad_rows, int data_rows, bool dry_run,
                                     std::string_view checked) {
  for (const RowProblem& p : problems) {
    ctx.err() << FormatProblem(p) << "\n";
  }
  if (bad_rows > 0) {
    ctx.out() << "nothing written: " << bad_rows << " bad of " << data_rows
              << " rows\n";
    return kExitBadRows;
  }
  if (dry_run) {
    ctx.out() << checked << "\n";
    return kExitOk;
  }
  return std::nullopt;
}

}  // namespace lotledger::lotctl
