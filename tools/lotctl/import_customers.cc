#include "tools/lotctl/import_customers.h"

#include <algorithm>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/message_differencer.h"
#include "libs/common/hash.h"
#include "libs/common/status_macros.h"
#include "libs/domain/inventory/customers.h"
#include "lotledger/v1/inventory.grpc.pb.h"
#include "tools/lotctl/cli.h"
#include "tools/lotctl/csv.h"

namespace lotledger::lotctl {
namespace {

// Canonical order: also the order in which a row's values enter its
// request ids, so it never changes for existing columns (add at the end).
const std::vector<ImportColumn>& Columns() {
  static const auto* columns = new std::vector<ImportColumn>{
      {"customer_id", true},       {"name", true},
      {"region", false},           {"addresses", true},
      {"contacts", true},          {"default_min_days", false},
      {"product_min_days", false}, {"group_min_days", false},
      {"reason", false},
  };
  return *columns;
}

std::vector<std::string> SplitList(const std::string& text, char sep) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  for (absl::string_view part : absl::StrSplit(text, sep)) {
    out.emplace_back(absl::StripAsciiWhitespace(part));
  }
  return out;
}

// Whole days >= 0; false when `text` is not one.
bool ParseDays(const std::string& text, int32_t* days) {
  return absl::SimpleAtoi(text, days) && *days >= 0;
}

// The column a domain validation message's field path belongs to:
// "customer.shelf_life.products[1].item: ..." -> product_min_days.
std::string ColumnOfField(absl::string_view message) {
  absl::ConsumePrefix(&message, "customer.");
  if (absl::StartsWith(message, "shelf_life.products")) {
    return "product_min_days";
  }
  if (absl::StartsWith(message, "shelf_life.groups")) return "group_min_days";
  if (absl::StartsWith(message, "shelf_life.")) return "default_min_days";
  for (const ImportColumn& c : Columns()) {
    if (absl::StartsWith(message, c.name)) return c.name;
  }
  return "";
}

void CheckRow(int row, const std::map<std::string, std::string>& values,
              std::vector<RowProblem>& problems, CustomerImportRow& out) {
  auto text = [&](const std::string& column) -> const std::string& {
    static const std::string* empty = new std::string();
    auto it = values.find(column);
    return it == values.end() ? *empty : it->second;
  };
  const size_t before = problems.size();
  auto problem = [&](const std::string& column, std::string message) {
    problems.push_back({row, column, std::move(message)});
  };
  v1::CustomerRecord& r = out.customer;
  r.set_customer_id(text("customer_id"));
  r.set_name(text("name"));
  r.set_region(text("region"));
  for (std::string& a : SplitList(text("addresses"), '|')) {
    r.add_addresses(std::move(a));
  }
  int i = 0;
  for (const std::string& c : SplitList(text("contacts"), '|')) {
    std::vector<std::string> parts = SplitList(c, ';');
    if (parts.size() != 4) {
      problem("contacts",
              absl::StrCat("contact ", i + 1, " \"", c, "\" has ", parts.size(),
                           " parts; write NAME;ROLE;EMAIL;PHONE (leave a "
                           "part empty, keep the ';')"));
    } else {
      v1::CustomerContact& contact = *r.add_contacts();
      contact.set_name(parts[0]);
      contact.set_role(parts[1]);
      contact.set_email(parts[2]);
      contact.set_phone(parts[3]);
    }
    ++i;
  }
  v1::ShelfLifeContract& s = *r.mutable_shelf_life();
  if (!text("default_min_days").empty()) {
    int32_t days = 0;
    if (!ParseDays(text("default_min_days"), &days)) {
      problem("default_min_days",
              absl::StrCat("\"", text("default_min_days"),
                           "\" is not a whole number of days >= 0"));
    }
    s.set_default_min_remaining_days(days);
  }
  for (const std::string& entry : SplitList(text("product_min_days"), '|')) {
    std::vector<std::string> kv = SplitList(entry, '=');
    int32_t days = 0;
    if (kv.size() != 2 || kv[0].empty() || !ParseDays(kv[1], &days)) {
      problem("product_min_days",
              absl::StrCat("\"", entry,
                           "\" is not ITEM=DAYS (days a whole number >= 0)"));
      continue;
    }
    v1::ProductShelfLife& p = *s.add_products();
    p.set_item(kv[0]);
    p.set_min_remaining_days(days);
  }
  for (const std::string& entry : SplitList(text("group_min_days"), '|')) {
    std::vector<std::string> kv = SplitList(entry, '=');
    std::vector<std::string> group =
        kv.empty() ? std::vector<std::string>() : SplitList(kv[0], ':');
    int32_t days = 0;
    if (kv.size() != 2 || group.size() != 2 || group[0].empty() ||
        !ParseDays(kv[1], &days)) {
      problem("group_min_days",
              absl::StrCat("\"", entry,
                           "\" is not GROUP:ITEM+ITEM=DAYS (days a whole "
                           "number >= 0)"));
      continue;
    }
    v1::ProductGroupShelfLife& g = *s.add_groups();
    g.set_group(group[0]);
    for (std::string& item : SplitList(group[1], '+')) {
      g.add_items(std::move(item));
    }
    g.set_min_remaining_days(days);
  }
  out.reason = text("reason").empty() ? "lotctl import" : text("reason");
  if (problems.size() != before) return;
  // The server's own rules, offline: the same sentence it would answer.
  absl::Status valid = inventory::ValidateCustomerRecord(r, "customer");
  if (!valid.ok()) {
    const std::string column = ColumnOfField(valid.message());
    problem(column, std::string(valid.message()));
  }
}

std::string RequestIdFor(absl::string_view action,
                         const std::map<std::string, std::string>& values) {
  std::string canonical = absl::StrCat("customers/", action);
  for (const ImportColumn& c : Columns()) {
    auto it = values.find(c.name);
    absl::StrAppend(&canonical, "\n", c.name, "=",
                    it == values.end() ? "" : it->second);
  }
  return absl::StrCat("import-", HexEncode(Sha256(canonical)).substr(0, 32));
}

struct Tally {
  int created = 0;
  int unchanged = 0;
  int updated = 0;
  int refused = 0;
};

bool IsRowRefusal(grpc::StatusCode code) {
  return code == grpc::StatusCode::INVALID_ARGUMENT ||
         code == grpc::StatusCode::FAILED_PRECONDITION;
}

// Writes one row; a non-OK status that is not a refusal of the row ends
// the run.
grpc::Status WriteRow(Context& ctx, v1::InventoryService::Stub& stub,
                      const CustomerImportRow& row, Tally& tally) {
  using google::protobuf::util::MessageDifferencer;
  v1::GetCustomerRequest get;
  get.set_customer_id(row.customer.customer_id());
  v1::GetCustomerResponse current;
  grpc::Status s = stub.GetCustomer(ctx.Call().get(), get, &current);
  if (s.error_code() == grpc::StatusCode::NOT_FOUND) {
    v1::RegisterCustomerRequest req;
    req.set_request_id(row.register_request_id);
    *req.mutable_customer() = row.customer;
    req.set_reason(row.reason);
    v1::RegisterCustomerResponse resp;
    s = stub.RegisterCustomer(ctx.Call().get(), req, &resp);
    if (s.ok()) ++(resp.created() ? tally.created : tally.unchanged);
    return s;
  }
  if (!s.ok()) return s;
  if (MessageDifferencer::Equals(current.customer().customer(), row.customer)) {
    ++tally.unchanged;
    return grpc::Status::OK;
  }
  v1::UpdateCustomerRequest req;
  req.set_request_id(row.update_request_id);
  *req.mutable_customer() = row.customer;
  req.set_reason(row.reason);
  v1::UpdateCustomerResponse resp;
  s = stub.UpdateCustomer(ctx.Call().get(), req, &resp);
  if (s.ok()) ++(resp.changed() ? tally.updated : tally.unchanged);
  return s;
}

}  // namespace

absl::StatusOr<CustomerImportPlan> PlanCustomerImport(absl::string_view csv) {
  ASSIGN_OR_RETURN(std::vector<ImportTableRow> rows,
                   ReadImportTable(std::string_view(csv.data(), csv.size()),
                                   Columns(), "customers"));
  CustomerImportPlan plan;
  std::map<std::string, int> first_row_of;
  for (ImportTableRow& table_row : rows) {
    const int row = table_row.row;
    ++plan.data_rows;
    if (table_row.malformed.has_value()) {
      plan.problems.push_back(*std::move(table_row.malformed));
      ++plan.bad_rows;
      continue;
    }
    const std::map<std::string, std::string>& values = table_row.values;
    const size_t before = plan.problems.size();
    CustomerImportRow out;
    out.row = row;
    CheckRow(row, values, plan.problems, out);
    const std::string& id = out.customer.customer_id();
    if (!id.empty()) {
      auto [it, added] = first_row_of.emplace(id, row);
      if (!added) {
        plan.problems.push_back(
            {row, "customer_id",
             absl::StrCat("\"", id, "\" is also on row ", it->second)});
      }
    }
    if (plan.problems.size() != before) {
      ++plan.bad_rows;
      continue;
    }
    out.register_request_id = RequestIdFor("register", values);
    out.update_request_id = RequestIdFor("update", values);
    plan.good.push_back(std::move(out));
  }
  return plan;
}

int RunImportCustomers(Context& ctx, ParsedArgs& args) {
  absl::StatusOr<ImportFile> file = ReadImportFile(args, "customers");
  if (!file.ok()) return ctx.Usage(file.status());
  absl::StatusOr<CustomerImportPlan> plan = PlanCustomerImport(file->text);
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
  Tally tally;
  for (const CustomerImportRow& row : plan->good) {
    grpc::Status s = WriteRow(ctx, *stub, row, tally);
    if (s.ok()) continue;
    if (IsRowRefusal(s.error_code())) {
      ++tally.refused;
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
                 "imported are unchanged)\n";
    return code;
  }
  ctx.out() << "customers: new " << tally.created << ", unchanged "
            << tally.unchanged << ", updated " << tally.updated << ", refused "
            << tally.refused << "\n";
  return tally.refused > 0 ? kExitBadRows : kExitOk;
}

}  // namespace lotledger::lotctl
