// lotctl verbs on the inventory service: `lotctl inventory SUBVERB`, one per
// RPC — locations, stock movements, FEFO picking, the queries and the
// alert stream. --json prints each response as protobuf JSON.
#include <functional>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/json_util.h"
#include "libs/common/status_macros.h"
#include "lotledger/v1/inventory.grpc.pb.h"
#include "tools/lotctl/context.h"
#include "tools/lotctl/values.h"

namespace lotledger::lotctl {
namespace {

using Stub = v1::InventoryService::Stub;

absl::Status Invalid(const std::string& message) {
  return absl::InvalidArgumentError(message);
}

// --NAME=N (and --uom) as a quantity of `command`; `min` 0 for counts.
absl::StatusOr<v1::Quantity> QuantityFlag(const Flags& flags,
                                          const std::string& name,
                                          const std::string& command,
                                          int64_t min = 1) {
  ASSIGN_OR_RETURN(std::string text, RequiredFlag(flags, name, command));
  ASSIGN_OR_RETURN(int64_t n,
                   ParseInt(text, "--" + name, min, INT64_C(1) << 53));
  v1::Quantity q;
  q.set_amount(n);
  q.set_uom(flags.Get("uom").value_or(""));
  return q;
}

const std::map<std::string, v1::LocationKind> kKinds = {
    {"site", v1::LOCATION_KIND_SITE},
    {"region", v1::LOCATION_KIND_REGION},
    {"warehouse", v1::LOCATION_KIND_WAREHOUSE},
    {"bin", v1::LOCATION_KIND_BIN}};
const std::map<std::string, v1::ReceiptSource> kSources = {
    {"production", v1::RECEIPT_SOURCE_PRODUCTION},
    {"supplier", v1::RECEIPT_SOURCE_SUPPLIER}};
const std::map<std::string, v1::ReturnCondition> kConditions = {
    {"resaleable", v1::RETURN_CONDITION_RESALEABLE},
    {"damaged", v1::RETURN_CONDITION_DAMAGED},
    {"recalled", v1::RETURN_CONDITION_RECALLED}};
const std::map<std::string, v1::ScrapReason> kScrapReasons = {
    {"expired", v1::SCRAP_REASON_EXPIRED},
    {"damaged", v1::SCRAP_REASON_DAMAGED},
    {"recalled", v1::SCRAP_REASON_RECALLED},
    {"quality-rejected", v1::SCRAP_REASON_QUALITY_REJECTED},
    {"other", v1::SCRAP_REASON_OTHER}};

std::string KindName(v1::LocationKind k) {
  for (const auto& [name, kind] : kKinds) {
    if (kind == k) return name;
  }
  return "-";
}

std::string ScrapReasonName(v1::ScrapReason r) {
  for (const auto& [name, reason] : kScrapReasons) {
    if (reason == r) return name;
  }
  return "-";
}

std::string DispositionName(v1::Disposition d) {
  switch (d) {
    case v1::DISPOSITION_RELEASED:
      return "released";
    case v1::DISPOSITION_ON_HOLD:
      return "on hold";
    case v1::DISPOSITION_REJECTED:
      return "rejected";
    default:
      return "undecided";
  }
}

std::string Amount(int64_t n, const std::string& uom) {
  return uom.empty() ? absl::StrCat(n) : absl::StrCat(n, " ", uom);
}

// "LOT_ID@LOCATION:QTY": the lot id holds a colon itself, so the quantity
// is after the last colon and the location after the last '@'.
absl::StatusOr<v1::ShipmentLine> ParseLine(const std::string& text) {
  const size_t at = text.rfind('@');
  const size_t colon = text.rfind(':');
  if (at == std::string::npos || colon == std::string::npos || colon < at ||
      at == 0) {
    return Invalid(
        absl::StrCat("--line: \"", text, "\" is not LOT_ID@LOCATION:QUANTITY"));
  }
  v1::ShipmentLine line;
  line.set_lot_id(text.substr(0, at));
  line.set_location_id(text.substr(at + 1, colon - at - 1));
  int64_t n = 0;
  if (!absl::SimpleAtoi(text.substr(colon + 1), &n) || n <= 0) {
    return Invalid(absl::StrCat("--line: the quantity of \"", text,
                                "\" must be a positive integer"));
  }
  line.mutable_quantity()->set_amount(n);
  return line;
}

// The customer flags of `command`; --customer required when `required`.
absl::StatusOr<v1::Customer> CustomerFlags(const Flags& flags, bool required,
                                           const std::string& command) {
  v1::Customer c;
  if (required) {
    ASSIGN_OR_RETURN(*c.mutable_customer_id(),
                     RequiredFlag(flags, "customer", command));
  } else {
    c.set_customer_id(flags.Get("customer").value_or(""));
  }
  c.set_name(flags.Get("customer-name").value_or(""));
  c.set_address(flags.Get("customer-address").value_or(""));
  c.set_region(flags.Get("customer-region").value_or(""));
  ASSIGN_OR_RETURN(int64_t days,
                   IntFlag(flags, "min-shelf-life-days", 0, 100000));
  c.set_min_remaining_shelf_life_days(static_cast<int32_t>(days));
  return c;
}

void PrintLot(std::ostream& out, const v1::LotInventory& lot) {
  PrintFields(
      out, {{"lot", lot.lot_id()},
            {"item", lot.item()},
            {"expires", DateText(lot.expires_on())},
            {"disposition", DispositionName(lot.disposition())},
            {"recalled", lot.recalled() ? "yes (" + lot.recall_id() + ")" : ""},
            {"on hand", Amount(lot.on_hand(), lot.uom())},
            {"received", Amount(lot.received(), lot.uom())},
            {"shipped", Amount(lot.shipped(), lot.uom())},
            {"returned", Amount(lot.returned(), lot.uom())},
            {"scrapped", Amount(lot.scrapped(), lot.uom())}});
  std::vector<std::vector<std::string>> rows;
  for (const v1::LocationStock& s : lot.stock()) {
    rows.push_back({s.location_id(), Amount(s.amount(), lot.uom())});
  }
  if (!rows.empty()) {
    out << "\n";
    PrintTable(out, {"LOCATION", "QUANTITY"}, rows);
  }
  rows.clear();
  for (const v1::CustomerBalance& c : lot.customers()) {
    rows.push_back({c.customer_id(), absl::StrCat(c.shipped()),
                    absl::StrCat(c.returned())});
  }
  if (!rows.empty()) {
    out << "\n";
    PrintTable(out, {"CUSTOMER", "SHIPPED", "RETURNED"}, rows);
  }
  for (const v1::RaisedExpiryAlert& a : lot.alerts()) {
    out << (a.threshold_days() == 0
                ? std::string("expired")
                : absl::StrCat("within ", a.threshold_days(), " days"))
        << " (expiry " << DateText(a.expires_on()) << "), raised "
        << DateText(a.raised_on()) << "\n";
  }
}

// Runs a call that writes and answers with a lot's inventory.
template <typename Req, typename Resp>
int LotCall(Context& ctx, const Req& req,
            grpc::Status (Stub::*call)(grpc::ClientContext*, const Req&,
                                       Resp*)) {
  auto stub = v1::InventoryService::NewStub(ctx.channel());
  Resp resp;
  grpc::Status s = ((*stub).*call)(ctx.Call().get(), req, &resp);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.json()) {
    ctx.PrintJson(resp);
  } else {
    PrintLot(ctx.out(), resp.lot());
  }
  return kExitOk;
}

// ---- verbs
// -------------------------------------------------------------------

int LocationCreate(Context& ctx, ParsedArgs& args) {
  const std::string cmd = "inventory location-create";
  absl::StatusOr<Flags> flags =
      Flags::Take(args, {{"name", FlagKind::kValue},
                         {"kind", FlagKind::kValue},
                         {"parent", FlagKind::kValue},
                         {"quarantine", FlagKind::kSwitch},
                         {"address", FlagKind::kValue},
                         {"request-id", FlagKind::kValue}});
  if (!flags.ok()) return ctx.Usage(flags.status());
  if (auto s = RejectUnknown(args, cmd); !s.ok()) {
    return ctx.Usage(s);
  }
  if (auto s =
          ExpectPositional(args, 1,
                           "inventory location-create ID --name=.. "
                           "--kind=site|region|warehouse|bin [--parent=ID]");
      !s.ok()) {
    return ctx.Usage(s);
  }
  v1::CreateLocationRequest req;
  req.set_request_id(ctx.RequestId(*flags));
  req.set_location_id(args.positional[0]);
  req.set_name(flags->Get("name").value_or(""));
  absl::StatusOr<v1::LocationKind> kind = EnumFlag(*flags, "kind", kKinds, cmd);
  if (!kind.ok()) return ctx.Usage(kind.status());
  req.set_kind(*kind);
  req.set_parent_id(flags->Get("parent").value_or(""));
  req.set_quarantine(flags->Has("quarantine"));
  req.set_address(flags->Get("address").value_or(""));
  auto stub = v1::InventoryService::NewStub(ctx.channel());
  v1::CreateLocationResponse resp;
  grpc::Status s = stub->CreateLocation(ctx.Call().get(), req, &resp);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.json()) {
    ctx.PrintJson(resp);
  } else {
    ctx.out() << "location " << resp.location().location_id() << " ("
              << KindName(resp.location().kind()) << ")\n";
  }
  return kExitOk;
}

int Locations(Context& ctx, ParsedArgs& args) {
  const std::string cmd = "inventory locations";
  absl::StatusOr<Flags> flags =
      Flags::Take(args, {{"under", FlagKind::kValue}});
  if (!flags.ok()) return ctx.Usage(flags.status());
  if (auto s = RejectUnknown(args, cmd); !s.ok()) {
    return ctx.Usage(s);
  }
  if (auto s = ExpectPositional(args, 0, "inventory locations [--under=ID]");
      !s.ok()) {
    return ctx.Usage(s);
  }
  v1::ListLocationsRequest req;
  req.set_under_location_id(flags->Get("under").value_or(""));
  auto stub = v1::InventoryService::NewStub(ctx.channel());
  v1::ListLocationsResponse resp;
  grpc::Status s = stub->ListLocations(ctx.Call().get(), req, &resp);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.json()) {
    ctx.PrintJson(resp);
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const v1::Location& l : resp.locations()) {
    rows.push_back({l.location_id(), KindName(l.kind()), l.parent_id(),
                    l.region_id(), l.quarantine() ? "quarantine" : "",
                    l.name()});
  }
  PrintTable(ctx.out(),
             {"LOCATION", "KIND", "PARENT", "REGION", "AREA", "NAME"}, rows);
  return kExitOk;
}

int Receive(Context& ctx, ParsedArgs& args) {
  const std::string cmd = "inventory receive";
  absl::StatusOr<Flags> flags =
      Flags::Take(args, {{"scan", FlagKind::kValue},
                         {"location", FlagKind::kValue},
                         {"quantity", FlagKind::kValue},
                         {"uom", FlagKind::kValue},
                         {"source", FlagKind::kValue},
                         {"supplier", FlagKind::kValue},
                         {"reference", FlagKind::kValue},
                         {"request-id", FlagKind::kValue}});
  if (!flags.ok()) return ctx.Usage(flags.status());
  if (auto s = RejectUnknown(args, cmd); !s.ok()) {
    return ctx.Usage(s);
  }
  const size_t want = flags->Has("scan") ? 0 : 1;
  if (auto s = ExpectPositional(
          args, want,
          "inventory receive (LOT_ID | --scan=SCAN) --location=ID "
          "--quantity=N --source=production|supplier");
      !s.ok()) {
    return ctx.Usage(s);
  }
  v1::ReceiveStockRequest req;
  req.set_request_id(ctx.RequestId(*flags));
  if (want == 1) {
    req.set_lot_id(args.positional[0]);
  } else {
    req.set_gs1_scan(UnescapeGroupSeparators(*flags->Get("scan")));
  }
  req.set_location_id(flags->Get("location").value_or(""));
  absl::StatusOr<v1::Quantity> q = QuantityFlag(*flags, "quantity", cmd);
  if (!q.ok()) return ctx.Usage(q.status());
  *req.mutable_quantity() = *q;
  absl::StatusOr<v1::ReceiptSource> source =
      EnumFlag(*flags, "source", kSources, cmd);
  if (!source.ok()) return ctx.Usage(source.status());
  req.set_source(*source);
  req.set_supplier(flags->Get("supplier").value_or(""));
  req.set_reference(flags->Get("reference").value_or(""));
  return LotCall(ctx, req, &Stub::ReceiveStock);
}

int Transfer(Context& ctx, ParsedArgs& args) {
  const std::string cmd = "inventory transfer";
  absl::StatusOr<Flags> flags =
      Flags::Take(args, {{"from", FlagKind::kValue},
                         {"to", FlagKind::kValue},
                         {"quantity", FlagKind::kValue},
                         {"uom", FlagKind::kValue},
                         {"reason", FlagKind::kValue},
                         {"request-id", FlagKind::kValue}});
  if (!flags.ok()) return ctx.Usage(flags.status());
  if (auto s = RejectUnknown(args, cmd); !s.ok()) {
    return ctx.Usage(s);
  }
  if (auto s = ExpectPositional(
          args, 1, "inventory transfer LOT_ID --from=ID --to=ID --quantity=N");
      !s.ok()) {
    return ctx.Usage(s);
  }
  v1::TransferStockRequest req;
  req.set_request_id(ctx.RequestId(*flags));
  req.set_lot_id(args.positional[0]);
  req.set_from_location_id(flags->Get("from").value_or(""));
  req.set_to_location_id(flags->Get("to").value_or(""));
  absl::StatusOr<v1::Quantity> q = QuantityFlag(*flags, "quantity", cmd);
  if (!q.ok()) return ctx.Usage(q.status());
  *req.mutable_quantity() = *q;
  req.set_reason(flags->Get("reason").value_or(""));
  return LotCall(ctx, req, &Stub::TransferStock);
}

const std::vector<FlagSpec>& CustomerSpecs() {
  static const auto* specs =
      new std::vector<FlagSpec>{{"customer", FlagKind::kValue},
                                {"customer-name", FlagKind::kValue},
                                {"customer-address", FlagKind::kValue},
                                {"customer-region", FlagKind::kValue},
                                {"min-shelf-life-days", FlagKind::kValue}};
  return *specs;
}

int Ship(Context& ctx, ParsedArgs& args) {
  const std::string cmd = "inventory ship";
  std::vector<FlagSpec> specs = CustomerSpecs();
  specs.insert(specs.end(), {{"line", FlagKind::kRepeated},
                             {"shipment-id", FlagKind::kValue},
                             {"reference", FlagKind::kValue},
                             {"request-id", FlagKind::kValue}});
  absl::StatusOr<Flags> flags = Flags::Take(args, specs);
  if (!flags.ok()) return ctx.Usage(flags.status());
  if (auto s = RejectUnknown(args, cmd); !s.ok()) {
    return ctx.Usage(s);
  }
  if (auto s = ExpectPositional(
          args, 0, "inventory ship --customer=ID --line=LOT_ID@LOCATION:N ...");
      !s.ok()) {
    return ctx.Usage(s);
  }
  v1::ShipStockRequest req;
  req.set_request_id(ctx.RequestId(*flags));
  req.set_shipment_id(flags->Get("shipment-id").value_or(""));
  req.set_reference(flags->Get("reference").value_or(""));
  absl::StatusOr<v1::Customer> customer = CustomerFlags(*flags, true, cmd);
  if (!customer.ok()) return ctx.Usage(customer.status());
  *req.mutable_customer() = *customer;
  const std::vector<std::string> lines = flags->GetAll("line");
  if (lines.empty()) {
    return ctx.Usage(Invalid(
        "--line: at least one, e.g. --line=09506000134352:A17@FRA-WH1:30"));
  }
  for (const std::string& text : lines) {
    absl::StatusOr<v1::ShipmentLine> line = ParseLine(text);
    if (!line.ok()) return ctx.Usage(line.status());
    *req.add_lines() = *line;
  }
  auto stub = v1::InventoryService::NewStub(ctx.channel());
  v1::ShipStockResponse resp;
  grpc::Status s = stub->ShipStock(ctx.Call().get(), req, &resp);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.json()) {
    ctx.PrintJson(resp);
    return kExitOk;
  }
  const v1::Shipment& sh = resp.shipment();
  ctx.out() << "shipment " << sh.shipment_id() << " to "
            << sh.customer().customer_id() << " on " << DateText(sh.ship_date())
            << "\n";
  std::vector<std::vector<std::string>> rows;
  for (const v1::ShipmentLine& l : sh.lines()) {
    rows.push_back({l.lot_id(), l.location_id(), QuantityText(l.quantity())});
  }
  PrintTable(ctx.out(), {"LOT", "FROM", "QUANTITY"}, rows);
  return kExitOk;
}

int Return(Context& ctx, ParsedArgs& args) {
  const std::string cmd = "inventory return";
  absl::StatusOr<Flags> flags =
      Flags::Take(args, {{"customer", FlagKind::kValue},
                         {"shipment", FlagKind::kValue},
                         {"location", FlagKind::kValue},
                         {"quantity", FlagKind::kValue},
                         {"uom", FlagKind::kValue},
                         {"condition", FlagKind::kValue},
                         {"notes", FlagKind::kValue},
                         {"return-id", FlagKind::kValue},
                         {"request-id", FlagKind::kValue}});
  if (!flags.ok()) return ctx.Usage(flags.status());
  if (auto s = RejectUnknown(args, cmd); !s.ok()) {
    return ctx.Usage(s);
  }
  if (auto s = ExpectPositional(
          args, 1,
          "inventory return LOT_ID --customer=ID --location=ID "
          "--quantity=N --condition=resaleable|damaged|"
          "recalled");
      !s.ok()) {
    return ctx.Usage(s);
  }
  v1::ReturnStockRequest req;
  req.set_request_id(ctx.RequestId(*flags));
  req.set_lot_id(args.positional[0]);
  req.set_customer_id(flags->Get("customer").value_or(""));
  req.set_shipment_id(flags->Get("shipment").value_or(""));
  req.set_location_id(flags->Get("location").value_or(""));
  absl::StatusOr<v1::Quantity> q = QuantityFlag(*flags, "quantity", cmd);
  if (!q.ok()) return ctx.Usage(q.status());
  *req.mutable_quantity() = *q;
  absl::StatusOr<v1::ReturnCondition> condition =
      EnumFlag(*flags, "condition", kConditions, cmd);
  if (!condition.ok()) return ctx.Usage(condition.status());
  req.set_condition(*condition);
  req.set_notes(flags->Get("notes").value_or(""));
  req.set_return_id(flags->Get("return-id").value_or(""));
  return LotCall(ctx, req, &Stub::ReturnStock);
}

int Scrap(Context& ctx, ParsedArgs& args) {
  const std::string cmd = "inventory scrap";
  absl::StatusOr<Flags> flags =
      Flags::Take(args, {{"location", FlagKind::kValue},
                         {"quantity", FlagKind::kValue},
                         {"uom", FlagKind::kValue},
                         {"reason", FlagKind::kValue},
                         {"notes", FlagKind::kValue},
                         {"sign-token", FlagKind::kValue},
                         {"request-id", FlagKind::kValue}});
  if (!flags.ok()) return ctx.Usage(flags.status());
  if (auto s = RejectUnknown(args, cmd); !s.ok()) {
    return ctx.Usage(s);
  }
  if (auto s =
          ExpectPositional(args, 1,
                           "inventory scrap LOT_ID --location=ID --quantity=N "
                           "--reason=expired|damaged|recalled|"
                           "quality-rejected|other");
      !s.ok()) {
    return ctx.Usage(s);
  }
  v1::ScrapStockRequest req;
  req.set_request_id(ctx.RequestId(*flags));
  req.set_lot_id(args.positional[0]);
  req.set_location_id(flags->Get("location").value_or(""));
  absl::StatusOr<v1::Quantity> q = QuantityFlag(*flags, "quantity", cmd);
  if (!q.ok()) return ctx.Usage(q.status());
  *req.mutable_quantity() = *q;
  absl::StatusOr<v1::ScrapReason> reason =
      EnumFlag(*flags, "reason", kScrapReasons, cmd);
  if (!reason.ok()) return ctx.Usage(reason.status());
  req.set_reason(*reason);
  req.set_notes(flags->Get("notes").value_or(""));
  // Scrapping is an electronic signature: the fresh re-authentication
  // (default: the --token).
  req.mutable_signature()->set_credential(
      flags->Get("sign-token").value_or(ctx.options().token));
  return LotCall(ctx, req, &Stub::ScrapStock);
}

int Adjust(Context& ctx, ParsedArgs& args) {
  const std::string cmd = "inventory adjust";
  absl::StatusOr<Flags> flags =
      Flags::Take(args, {{"location", FlagKind::kValue},
                         {"counted", FlagKind::kValue},
                         {"uom", FlagKind::kValue},
                         {"reason", FlagKind::kValue},
                         {"request-id", FlagKind::kValue}});
  if (!flags.ok()) return ctx.Usage(flags.status());
  if (auto s = RejectUnknown(args, cmd); !s.ok()) {
    return ctx.Usage(s);
  }
  if (auto s =
          ExpectPositional(args, 1,
                           "inventory adjust LOT_ID --location=ID --counted=N "
                           "--reason=TEXT");
      !s.ok()) {
    return ctx.Usage(s);
  }
  v1::AdjustStockRequest req;
  req.set_request_id(ctx.RequestId(*flags));
  req.set_lot_id(args.positional[0]);
  req.set_location_id(flags->Get("location").value_or(""));
  absl::StatusOr<v1::Quantity> q = QuantityFlag(*flags, "counted", cmd, 0);
  if (!q.ok()) return ctx.Usage(q.status());
  *req.mutable_counted() = *q;
  req.set_reason(flags->Get("reason").value_or(""));
  return LotCall(ctx, req, &Stub::AdjustStock);
}

int Get(Context& ctx, ParsedArgs& args) {
  const std::string cmd = "inventory get";
  if (auto s = RejectUnknown(args, cmd); !s.ok()) {
    return ctx.Usage(s);
  }
  if (auto s = ExpectPositional(args, 1, "inventory get LOT_ID"); !s.ok())
    return ctx.Usage(s);
  v1::GetLotInventoryRequest req;
  req.set_lot_id(args.positional[0]);
  return LotCall(ctx, req, &Stub::GetLotInventory);
}

int Fefo(Context& ctx, ParsedArgs& args) {
  const std::string cmd = "inventory fefo";
  std::vector<FlagSpec> specs = CustomerSpecs();
  specs.insert(specs.end(), {{"item", FlagKind::kValue},
                             {"quantity", FlagKind::kValue},
                             {"uom", FlagKind::kValue},
                             {"from", FlagKind::kValue},
                             {"ship-date", FlagKind::kValue}});
  absl::StatusOr<Flags> flags = Flags::Take(args, specs);
  if (!flags.ok()) return ctx.Usage(flags.status());
  if (auto s = RejectUnknown(args, cmd); !s.ok()) {
    return ctx.Usage(s);
  }
  if (auto s = ExpectPositional(args, 0,
                                "inventory fefo --item=ITEM --quantity=N ...");
      !s.ok()) {
    return ctx.Usage(s);
  }
  v1::AllocateFefoRequest req;
  absl::StatusOr<std::string> item = RequiredFlag(*flags, "item", cmd);
  if (!item.ok()) return ctx.Usage(item.status());
  req.set_item(*item);
  absl::StatusOr<v1::Quantity> q = QuantityFlag(*flags, "quantity", cmd);
  if (!q.ok()) return ctx.Usage(q.status());
  *req.mutable_quantity() = *q;
  req.set_from_location_id(flags->Get("from").value_or(""));
  absl::StatusOr<v1::Customer> customer = CustomerFlags(*flags, false, cmd);
  if (!customer.ok()) return ctx.Usage(customer.status());
  *req.mutable_customer() = *customer;
  absl::StatusOr<v1::Date> ship_date = DateFlag(*flags, "ship-date");
  if (!ship_date.ok()) return ctx.Usage(ship_date.status());
  if (flags->Has("ship-date")) *req.mutable_ship_date() = *ship_date;
  auto stub = v1::InventoryService::NewStub(ctx.channel());
  v1::AllocateFefoResponse resp;
  grpc::Status s = stub->AllocateFefo(ctx.Call().get(), req, &resp);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.json()) {
    ctx.PrintJson(resp);
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (int i = 0; i < resp.lines_size(); ++i) {
    const v1::ShipmentLine& l = resp.lines(i);
    rows.push_back(
        {l.lot_id(), l.location_id(), QuantityText(l.quantity()),
         i < resp.expires_on_size() ? DateText(resp.expires_on(i)) : "-",
         i < resp.days_left_size() ? absl::StrCat(resp.days_left(i)) : "-"});
  }
  PrintTable(ctx.out(), {"LOT", "LOCATION", "QUANTITY", "EXPIRES", "DAYS LEFT"},
             rows);
  ctx.out() << "allocated " << QuantityText(resp.allocated()) << " of "
            << QuantityText(resp.requested());
  if (resp.shortfall().amount() > 0) {
    ctx.out() << "; SHORT " << QuantityText(resp.shortfall());
  }
  ctx.out() << "\n";
  for (const v1::FefoSkip& skip : resp.skipped()) {
    ctx.out() << "skipped " << skip.lot_id()
              << (skip.location_id().empty() ? "" : " at " + skip.location_id())
              << ": " << skip.reason() << "\n";
  }
  return kExitOk;
}

// Follows next_page_token to the end when --all; returns the merged
// response (the last page's token when not --all).
template <typename Req, typename Resp>
grpc::Status Pages(Context& ctx, Req req, bool all,
                   grpc::Status (Stub::*call)(grpc::ClientContext*, const Req&,
                                              Resp*),
                   const std::function<void(Resp&, Resp&)>& merge,
                   Resp* merged) {
  auto stub = v1::InventoryService::NewStub(ctx.channel());
  while (true) {
    Resp page;
    grpc::Status s = ((*stub).*call)(ctx.Call().get(), req, &page);
    if (!s.ok()) return s;
    merge(page, *merged);
    merged->set_next_page_token(page.next_page_token());
    if (!all || page.next_page_token().empty()) return grpc::Status::OK;
    req.set_page_token(page.next_page_token());
  }
}

absl::Status PagingFlags(const Flags& flags, int32_t* size,
                         std::string* token) {
  ASSIGN_OR_RETURN(int64_t n, IntFlag(flags, "page-size", 1, 1000));
  *size = static_cast<int32_t>(n);
  *token = flags.Get("page-token").value_or("");
  return absl::OkStatus();
}

void MoreHint(Context& ctx, const std::string& token) {
  if (!token.empty()) {
    ctx.out() << "more with --page-token=" << token << " (or --all)\n";
  }
}

int List(Context& ctx, ParsedArgs& args) {
  const std::string cmd = "inventory stock";
  absl::StatusOr<Flags> flags =
      Flags::Take(args, {{"lot", FlagKind::kValue},
                         {"location", FlagKind::kValue},
                         {"exclude-children", FlagKind::kSwitch},
                         {"item", FlagKind::kValue},
                         {"region", FlagKind::kValue},
                         {"page-size", FlagKind::kValue},
                         {"page-token", FlagKind::kValue},
                         {"all", FlagKind::kSwitch}});
  if (!flags.ok()) return ctx.Usage(flags.status());
  if (auto s = RejectUnknown(args, cmd); !s.ok()) {
    return ctx.Usage(s);
  }
  if (auto s = ExpectPositional(
          args, 0,
          "inventory stock [--lot=..] [--location=..] [--item=..] "
          "[--region=..]");
      !s.ok()) {
    return ctx.Usage(s);
  }
  v1::ListStockRequest req;
  req.set_lot_id(flags->Get("lot").value_or(""));
  req.set_location_id(flags->Get("location").value_or(""));
  req.set_exclude_children(flags->Has("exclude-children"));
  req.set_item(flags->Get("item").value_or(""));
  req.set_region_id(flags->Get("region").value_or(""));
  int32_t size = 0;
  std::string token;
  if (auto s = PagingFlags(*flags, &size, &token); !s.ok()) {
    return ctx.Usage(s);
  }
  req.set_page_size(size);
  req.set_page_token(token);
  v1::ListStockResponse merged;
  grpc::Status s = Pages<v1::ListStockRequest, v1::ListStockResponse>(
      ctx, req, flags->Has("all"), &Stub::ListStock,
      [](v1::ListStockResponse& page, v1::ListStockResponse& out) {
        for (auto& r : *page.mutable_rows()) *out.add_rows() = std::move(r);
        *out.mutable_totals() = page.totals();
      },
      &merged);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.json()) {
    ctx.PrintJson(merged);
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const v1::StockRow& r : merged.rows()) {
    std::string state = DispositionName(r.disposition());
    if (r.recalled()) state += ", recalled";
    if (r.quarantine()) state += ", quarantine";
    rows.push_back({r.lot_id(), r.location_id(), r.region_id(),
                    QuantityText(r.quantity()), DateText(r.expires_on()),
                    state});
  }
  PrintTable(ctx.out(),
             {"LOT", "LOCATION", "REGION", "QUANTITY", "EXPIRES", "STATE"},
             rows);
  for (const v1::ItemTotal& t : merged.totals()) {
    ctx.out() << "total " << t.item() << ": " << QuantityText(t.on_hand())
              << "\n";
  }
  MoreHint(ctx, merged.next_page_token());
  return kExitOk;
}

int Where(Context& ctx, ParsedArgs& args) {
  const std::string cmd = "inventory where";
  if (auto s = RejectUnknown(args, cmd); !s.ok()) {
    return ctx.Usage(s);
  }
  if (auto s = ExpectPositional(args, 1, "inventory where LOT_ID"); !s.ok()) {
    return ctx.Usage(s);
  }
  v1::TraceLotDistributionRequest req;
  req.set_lot_id(args.positional[0]);
  auto stub = v1::InventoryService::NewStub(ctx.channel());
  v1::TraceLotDistributionResponse resp;
  grpc::Status s = stub->TraceLotDistribution(ctx.Call().get(), req, &resp);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.json()) {
    ctx.PrintJson(resp);
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const v1::CustomerDistribution& c : resp.customers()) {
    rows.push_back({c.customer().customer_id(), c.customer().name(),
                    QuantityText(c.shipped()), QuantityText(c.returned()),
                    QuantityText(c.net_held()),
                    absl::StrCat(c.shipments_size())});
  }
  PrintTable(ctx.out(),
             {"CUSTOMER", "NAME", "SHIPPED", "RETURNED", "HELD", "SHIPMENTS"},
             rows);
  for (const v1::LocationStock& s : resp.on_hand()) {
    ctx.out() << "on hand at " << s.location_id() << ": " << s.amount() << "\n";
  }
  ctx.out() << "scrapped: " << QuantityText(resp.scrapped()) << "\n";
  return kExitOk;
}

std::string EventWhat(const v1::Event& e) {
  switch (e.payload_case()) {
    case v1::Event::kStockReceived:
      return absl::StrCat("received ",
                          QuantityText(e.stock_received().quantity()), " into ",
                          e.stock_received().location_id());
    case v1::Event::kStockTransferred:
      return absl::StrCat("moved ",
                          QuantityText(e.stock_transferred().quantity()), " ",
                          e.stock_transferred().from_location_id(), " -> ",
                          e.stock_transferred().to_location_id());
    case v1::Event::kStockShipped:
      return absl::StrCat("shipped ",
                          QuantityText(e.stock_shipped().quantity()), " from ",
                          e.stock_shipped().from_location_id(), " to ",
                          e.stock_shipped().customer().customer_id(), " (",
                          e.stock_shipped().shipment_id(), ")");
    case v1::Event::kStockReturned:
      return absl::StrCat("returned ",
                          QuantityText(e.stock_returned().quantity()), " by ",
                          e.stock_returned().customer_id(), " into ",
                          e.stock_returned().to_location_id());
    case v1::Event::kStockScrapped:
      return absl::StrCat("scrapped ",
                          QuantityText(e.stock_scrapped().quantity()), " at ",
                          e.stock_scrapped().location_id(), " (",
                          ScrapReasonName(e.stock_scrapped().reason()), ")");
    case v1::Event::kStockAdjusted:
      return absl::StrCat("counted ",
                          QuantityText(e.stock_adjusted().counted()), " at ",
                          e.stock_adjusted().location_id(), " (",
                          e.stock_adjusted().reason(), ")");
    case v1::Event::kExpiryThresholdCrossed:
      return absl::StrCat("alert: within ",
                          e.expiry_threshold_crossed().threshold_days(),
                          " days of expiry (",
                          e.expiry_threshold_crossed().days_left(), " left)");
    case v1::Event::kLotExpired:
      return "alert: expired";
    default:
      return "-";
  }
}

std::string TimeText(const google::protobuf::Timestamp& t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S",
                          absl::FromUnixSeconds(t.seconds()),
                          absl::UTCTimeZone());
}

int Movements(Context& ctx, ParsedArgs& args) {
  const std::string cmd = "inventory movements";
  absl::StatusOr<Flags> flags =
      Flags::Take(args, {{"page-size", FlagKind::kValue},
                         {"page-token", FlagKind::kValue},
                         {"all", FlagKind::kSwitch}});
  if (!flags.ok()) return ctx.Usage(flags.status());
  if (auto s = RejectUnknown(args, cmd); !s.ok()) {
    return ctx.Usage(s);
  }
  if (auto s = ExpectPositional(args, 1, "inventory movements LOT_ID [--all]");
      !s.ok()) {
    return ctx.Usage(s);
  }
  v1::ListMovementsRequest req;
  req.set_lot_id(args.positional[0]);
  int32_t size = 0;
  std::string token;
  if (auto s = PagingFlags(*flags, &size, &token); !s.ok()) {
    return ctx.Usage(s);
  }
  req.set_page_size(size);
  req.set_page_token(token);
  v1::ListMovementsResponse merged;
  grpc::Status s = Pages<v1::ListMovementsRequest, v1::ListMovementsResponse>(
      ctx, req, flags->Has("all"), &Stub::ListMovements,
      [](v1::ListMovementsResponse& page, v1::ListMovementsResponse& out) {
        for (auto& e : *page.mutable_events()) {
          *out.add_events() = std::move(e);
        }
      },
      &merged);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.json()) {
    ctx.PrintJson(merged);
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const v1::Event& e : merged.events()) {
    rows.push_back({TimeText(e.occurred_at()), e.actor(), EventWhat(e)});
  }
  PrintTable(ctx.out(), {"WHEN (UTC)", "ACTOR", "WHAT"}, rows);
  MoreHint(ctx, merged.next_page_token());
  return kExitOk;
}

int NearExpiry(Context& ctx, ParsedArgs& args) {
  const std::string cmd = "inventory near-expiry";
  absl::StatusOr<Flags> flags =
      Flags::Take(args, {{"within-days", FlagKind::kValue},
                         {"expired", FlagKind::kSwitch},
                         {"item", FlagKind::kValue},
                         {"region", FlagKind::kValue},
                         {"location", FlagKind::kValue},
                         {"page-size", FlagKind::kValue},
                         {"page-token", FlagKind::kValue},
                         {"all", FlagKind::kSwitch}});
  if (!flags.ok()) return ctx.Usage(flags.status());
  if (auto s = RejectUnknown(args, cmd); !s.ok()) {
    return ctx.Usage(s);
  }
  if (auto s = ExpectPositional(
          args, 0, "inventory near-expiry [--within-days=N] [--expired]");
      !s.ok()) {
    return ctx.Usage(s);
  }
  v1::NearExpiryReportRequest req;
  absl::StatusOr<int64_t> within = IntFlag(*flags, "within-days", 1, 100000);
  if (!within.ok()) return ctx.Usage(within.status());
  req.set_within_days(static_cast<int32_t>(*within));
  req.set_expired_only(flags->Has("expired"));
  req.set_item(flags->Get("item").value_or(""));
  req.set_region_id(flags->Get("region").value_or(""));
  req.set_location_id(flags->Get("location").value_or(""));
  int32_t size = 0;
  std::string token;
  if (auto s = PagingFlags(*flags, &size, &token); !s.ok()) {
    return ctx.Usage(s);
  }
  req.set_page_size(size);
  req.set_page_token(token);
  v1::NearExpiryReportResponse merged;
  grpc::Status s =
      Pages<v1::NearExpiryReportRequest, v1::NearExpiryReportResponse>(
          ctx, req, flags->Has("all"), &Stub::NearExpiryReport,
          [](v1::NearExpiryReportResponse& page,
             v1::NearExpiryReportResponse& out) {
            for (auto& r : *page.mutable_rows()) *out.add_rows() = std::move(r);
            *out.mutable_as_of() = page.as_of();
          },
          &merged);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.json()) {
    ctx.PrintJson(merged);
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const v1::NearExpiryRow& r : merged.rows()) {
    rows.push_back(
        {r.lot_id(), r.location_id(), r.region_id(), QuantityText(r.quantity()),
         DateText(r.expires_on()),
         r.days_left() <= 0 ? "EXPIRED" : absl::StrCat(r.days_left())});
  }
  ctx.out() << "as of " << DateText(merged.as_of()) << "\n";
  PrintTable(ctx.out(),
             {"LOT", "LOCATION", "REGION", "QUANTITY", "EXPIRES", "DAYS LEFT"},
             rows);
  MoreHint(ctx, merged.next_page_token());
  return kExitOk;
}

int Kpis(Context& ctx, ParsedArgs& args) {
  const std::string cmd = "inventory kpis";
  absl::StatusOr<Flags> flags =
      Flags::Take(args, {{"item", FlagKind::kValue},
                         {"region", FlagKind::kValue},
                         {"period-days", FlagKind::kValue}});
  if (!flags.ok()) return ctx.Usage(flags.status());
  if (auto s = RejectUnknown(args, cmd); !s.ok()) {
    return ctx.Usage(s);
  }
  if (auto s =
          ExpectPositional(args, 0, "inventory kpis [--item=..] [--region=..]");
      !s.ok()) {
    return ctx.Usage(s);
  }
  v1::GetKpisRequest req;
  req.set_item(flags->Get("item").value_or(""));
  req.set_region_id(flags->Get("region").value_or(""));
  absl::StatusOr<int64_t> period = IntFlag(*flags, "period-days", 1, 3660);
  if (!period.ok()) return ctx.Usage(period.status());
  req.set_period_days(static_cast<int32_t>(*period));
  auto stub = v1::InventoryService::NewStub(ctx.channel());
  v1::GetKpisResponse resp;
  grpc::Status s = stub->GetKpis(ctx.Call().get(), req, &resp);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.json()) {
    ctx.PrintJson(resp);
    return kExitOk;
  }
  ctx.out() << "as of " << DateText(resp.as_of()) << ", last "
            << resp.period_days() << " days\n";
  std::vector<std::vector<std::string>> rows;
  for (const v1::ItemKpis& k : resp.items()) {
    std::vector<std::string> near;
    for (const v1::ThresholdQuantity& t : k.near_expiry()) {
      near.push_back(absl::StrCat("<=", t.threshold_days(), "d:", t.amount()));
    }
    std::vector<std::string> scrap;
    for (const v1::ScrapQuantity& q : k.scrapped()) {
      scrap.push_back(
          absl::StrCat(ScrapReasonName(q.reason()), ":", q.amount()));
    }
    rows.push_back({k.item(), Amount(k.on_hand(), k.uom()),
                    absl::StrJoin(near, " "), absl::StrCat(k.expired()),
                    absl::StrJoin(scrap, " "), absl::StrCat(k.shipped()),
                    absl::StrFormat("%.1f", k.turnover_days())});
  }
  PrintTable(ctx.out(),
             {"ITEM", "ON HAND", "NEAR EXPIRY", "EXPIRED", "SCRAPPED",
              "SHIPPED", "TURNOVER DAYS"},
             rows);
  return kExitOk;
}

int Alerts(Context& ctx, ParsedArgs& args) {
  const std::string cmd = "inventory alerts";
  absl::StatusOr<Flags> flags =
      Flags::Take(args, {{"item", FlagKind::kValue},
                         {"region", FlagKind::kValue},
                         {"resume-after", FlagKind::kValue},
                         {"limit", FlagKind::kValue}});
  if (!flags.ok()) return ctx.Usage(flags.status());
  if (auto s = RejectUnknown(args, cmd); !s.ok()) {
    return ctx.Usage(s);
  }
  if (auto s = ExpectPositional(args, 0,
                                "inventory alerts [--resume-after=POSITION] "
                                "[--limit=N]");
      !s.ok()) {
    return ctx.Usage(s);
  }
  v1::WatchAlertsRequest req;
  req.set_item(flags->Get("item").value_or(""));
  req.set_region_id(flags->Get("region").value_or(""));
  if (auto v = flags->Get("resume-after")) {
    if (!google::protobuf::util::JsonStringToMessage(*v,
                                                     req.mutable_resume_after())
             .ok()) {
      return ctx.Usage(
          Invalid("--resume-after: not a position (the JSON of an alert's "
                  "\"position\", as --json prints it)"));
    }
  }
  absl::StatusOr<int64_t> limit = IntFlag(*flags, "limit", 1, INT32_MAX);
  if (!limit.ok()) return ctx.Usage(limit.status());
  auto stub = v1::InventoryService::NewStub(ctx.channel());
  std::unique_ptr<grpc::ClientContext> call = ctx.Call();
  auto reader = stub->WatchAlerts(call.get(), req);
  v1::InventoryAlert alert;
  int seen = 0;
  std::string last_position;
  while ((*limit == 0 || seen < *limit) && reader->Read(&alert)) {
    ++seen;
    if (ctx.json()) {
      ctx.PrintJson(alert);
      continue;
    }
    google::protobuf::util::MessageToJsonString(alert.position(),
                                                &last_position);
    if (alert.has_expired()) {
      const v1::LotExpired& e = alert.expired();
      ctx.out() << "EXPIRED  " << e.lot_id() << "  expired "
                << DateText(e.expires_on()) << ", " << QuantityText(e.on_hand())
                << " on hand\n";
    } else {
      const v1::ExpiryThresholdCrossed& e = alert.threshold_crossed();
      ctx.out() << "WITHIN " << e.threshold_days() << "d  " << e.lot_id()
                << "  expires " << DateText(e.expires_on()) << " ("
                << e.days_left() << " days left), " << QuantityText(e.on_hand())
                << " on hand\n";
    }
  }
  if (*limit != 0 && seen >= *limit) {
    call->TryCancel();
    while (reader->Read(&alert)) {
    }
    reader->Finish();
  } else {
    grpc::Status s = reader->Finish();
    // The watch ends at --timeout: that is how a bounded watch stops.
    if (!s.ok() && s.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
      return ctx.Fail(s);
    }
  }
  if (!ctx.json() && !last_position.empty()) {
    ctx.out() << "resume with --resume-after='" << last_position << "'\n";
  }
  return kExitOk;
}

}  // namespace

int RunInventory(Context& ctx, ParsedArgs& args) {
  if (args.positional.empty()) {
    return ctx.Usage(Invalid(
        "usage: lotctl inventory SUBVERB ... (see: lotctl help inventory)"));
  }
  const std::string sub = args.positional[0];
  args.positional.erase(args.positional.begin());
  static const auto* verbs =
      new std::map<std::string, std::function<int(Context&, ParsedArgs&)>>{
          {"location-create", LocationCreate},
          {"locations", Locations},
          {"receive", Receive},
          {"transfer", Transfer},
          {"ship", Ship},
          {"return", Return},
          {"scrap", Scrap},
          {"adjust", Adjust},
          {"get", Get},
          {"fefo", Fefo},
          {"stock", List},
          {"where", Where},
          {"movements", Movements},
          {"near-expiry", NearExpiry},
          {"kpis", Kpis},
          {"alerts", Alerts}};
  auto it = verbs->find(sub);
  if (it == verbs->end()) {
    return ctx.Usage(Invalid(absl::StrCat("unknown inventory subverb '", sub,
                                          "' (see: lotctl help inventory)")));
  }
  return it->second(ctx, args);
}

}  // namespace lotledger::lotctl
