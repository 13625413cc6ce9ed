#include "tools/lotctl/commands_inventory_customers.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "libs/common/proto_time.h"
#include "lotledger/v1/inventory.grpc.pb.h"
#include "tools/lotctl/cli.h"
#include "tools/lotctl/values.h"

namespace lotledger::lotctl::inventory_cli {
namespace {

std::string TimeText(const google::protobuf::Timestamp& t) {
  return absl::FormatTime(absl::RFC3339_sec, FromTimestamp(t),
                          absl::UTCTimeZone());
}

std::string ContractText(const v1::ShelfLifeContract& s) {
  std::vector<std::string> parts;
  if (s.default_min_remaining_days() > 0) {
    parts.push_back(
        absl::StrCat("default ", s.default_min_remaining_days(), " days"));
  }
  for (const v1::ProductShelfLife& p : s.products()) {
    parts.push_back(
        absl::StrCat(p.item(), " ", p.min_remaining_days(), " days"));
  }
  for (const v1::ProductGroupShelfLife& g : s.groups()) {
    parts.push_back(absl::StrCat("group ", g.group(), " (",
                                 absl::StrJoin(g.items(), ", "), ") ",
                                 g.min_remaining_days(), " days"));
  }
  return absl::StrJoin(parts, "; ");
}

}  // namespace

int Customer(Context& ctx, ParsedArgs& args) {
  absl::StatusOr<Flags> flags =
      Flags::Take(args, {{"at", FlagKind::kValue}, {"axis", FlagKind::kValue}});
  if (!flags.ok()) return ctx.Usage(flags.status());
  if (auto s = RejectUnknown(args, "inventory customer"); !s.ok()) {
    return ctx.Usage(s);
  }
  if (args.positional.size() != 1) {
    return ctx.Usage(absl::InvalidArgumentError(
        "usage: lotctl inventory customer ID [--at=RFC3339] "
        "[--axis=business|record]"));
  }
  v1::GetCustomerRequest req;
  req.set_customer_id(args.positional[0]);
  if (flags->Has("at")) {
    absl::StatusOr<absl::Time> at = ParseAtFlag(*flags->Get("at"));
    if (!at.ok()) return ctx.Usage(at.status());
    ToTimestamp(*at, req.mutable_as_of());
  }
  absl::StatusOr<bool> record =
      ParseRecordAxisFlag(flags->Get("axis").value_or("business"));
  if (!record.ok()) return ctx.Usage(record.status());
  req.set_record_time(*record);
  auto stub = v1::InventoryService::NewStub(ctx.channel());
  v1::GetCustomerResponse resp;
  grpc::Status s = stub->GetCustomer(ctx.Call().get(), req, &resp);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.json()) {
    ctx.PrintJson(resp);
    return kExitOk;
  }
  const v1::CustomerVersion& v = resp.customer();
  const v1::CustomerRecord& c = v.customer();
  PrintFields(
      ctx.out(),
      {{"customer", c.customer_id()},
       {"name", c.name()},
       {"region", c.region()},
       {"ship-to", absl::StrJoin(c.addresses(), " | ")},
       {"shelf life", ContractText(c.shelf_life())},
       {"version", absl::StrCat(v.version(), " of ", resp.versions_size())}});
  std::vector<std::vector<std::string>> rows;
  for (const v1::CustomerContact& k : c.contacts()) {
    rows.push_back({k.name(), k.role(), k.email(), k.phone()});
  }
  ctx.out() << "\n";
  PrintTable(ctx.out(), {"CONTACT", "ROLE", "EMAIL", "PHONE"}, rows);
  rows.clear();
  for (const v1::CustomerVersion& h : resp.versions()) {
    rows.push_back({absl::StrCat(h.version()), TimeText(h.occurred_at()),
                    TimeText(h.recorded_at()), h.actor(), h.reason()});
  }
  ctx.out() << "\n";
  PrintTable(ctx.out(), {"VERSION", "EFFECTIVE", "RECORDED", "BY", "REASON"},
             rows);
  return kExitOk;
}

int Customers(Context& ctx, ParsedArgs& args) {
  absl::StatusOr<Flags> flags =
      Flags::Take(args, {{"region", FlagKind::kValue}});
  if (!flags.ok()) return ctx.Usage(flags.status());
  if (auto s = RejectUnknown(args, "inventory customers"); !s.ok()) {
    return ctx.Usage(s);
  }
  if (!args.positional.empty()) {
    return ctx.Usage(absl::InvalidArgumentError(
        "usage: lotctl inventory customers [--region=REGION]"));
  }
  auto stub = v1::InventoryService::NewStub(ctx.channel());
  v1::ListCustomersRequest req;
  req.set_region(flags->Get("region").value_or(""));
  req.set_page_size(1000);
  std::vector<std::vector<std::string>> rows;
  v1::ListCustomersResponse all;
  do {
    v1::ListCustomersResponse resp;
    grpc::Status s = stub->ListCustomers(ctx.Call().get(), req, &resp);
    if (!s.ok()) return ctx.Fail(s);
    for (const v1::CustomerVersion& v : resp.customers()) {
      *all.add_customers() = v;
      rows.push_back({v.customer().customer_id(), v.customer().name(),
                      v.customer().region(), absl::StrCat(v.version()),
                      ContractText(v.customer().shelf_life())});
    }
    req.set_page_token(resp.next_page_token());
  } while (!req.page_token().empty());
  if (ctx.json()) {
    ctx.PrintJson(all);
    return kExitOk;
  }
  PrintTable(ctx.out(), {"CUSTOMER", "NAME", "REGION", "VERSION", "SHELF LIFE"},
             rows);
  return kExitOk;
}

}  // namespace lotledger::lotctl::inventory_cli
