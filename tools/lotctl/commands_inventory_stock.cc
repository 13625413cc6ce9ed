// The inventory verbs that write: locations and stock movements (receive,
// transfer, ship, return, scrap, adjust). See commands_inventory.h.
#include <functional>
#include <map>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/json_util.h"
#include "libs/common/status_macros.h"
#include "libs/domain/serials/serials.h"
#include "tools/lotctl/commands_inventory.h"
#include "tools/lotctl/values.h"

namespace lotledger::lotctl::inventory_cli {
namespace {

// "LOT_ID@LOCATION:QTY": the lot id holds a colon itself, so the quantity
// is after the last colon and the location after the last '@'. For a
// serialised product "LOT_ID@LOCATION:SN0001..SN0003,SN0007" names the
// serials instead, and "LOT_ID@LOCATION" leaves them to --serials.
absl::StatusOr<v1::ShipmentLine> ParseLine(const std::string& text) {
  const size_t at = text.rfind('@');
  const size_t colon = text.rfind(':');
  if (at == std::string::npos || at == 0) {
    return Invalid(
        absl::StrCat("--line: \"", text, "\" is not LOT_ID@LOCATION:QUANTITY"));
  }
  v1::ShipmentLine line;
  if (colon == std::string::npos || colon < at) {
    // LOT_ID@LOCATION: the serials come from --serials.
    line.set_lot_id(text.substr(0, at));
    line.set_location_id(text.substr(at + 1));
    return line;
  }
  line.set_lot_id(text.substr(0, at));
  line.set_location_id(text.substr(at + 1, colon - at - 1));
  int64_t n = 0;
  const std::string amount = text.substr(colon + 1);
  if (!amount.empty() && !absl::ascii_isdigit(amount[0])) {
    // LOT_ID@LOCATION:SN0001..SN0003,SN0007: the serials (their number is
    // the quantity).
    for (absl::string_view word :
         absl::StrSplit(amount, ',', absl::SkipEmpty())) {
      ASSIGN_OR_RETURN(*line.add_serials(),
                       domain::ParseSerialRangeText(word, "--line"));
    }
    return line;
  }
  if (!absl::SimpleAtoi(amount, &n) || n <= 0) {
    return Invalid(absl::StrCat("--line: the quantity of \"", text,
                                "\" must be a positive integer"));
  }
  line.mutable_quantity()->set_amount(n);
  return line;
}

}  // namespace

int LocationCreate(Context& ctx, ParsedArgs& args) {
  const std::string cmd = "inventory location-create";
  absl::StatusOr<Flags> flags =
      TakeCommandFlags(args,
                       {{"name", FlagKind::kValue},
                        {"kind", FlagKind::kValue},
                        {"parent", FlagKind::kValue},
                        {"quarantine", FlagKind::kSwitch},
                        {"address", FlagKind::kValue},
                        {"request-id", FlagKind::kValue}},
                       cmd, 1,
                       "inventory location-create ID --name=.. "
                       "--kind=site|region|warehouse|bin [--parent=ID]");
  if (!flags.ok()) return ctx.Usage(flags.status());
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
      TakeCommandFlags(args, {{"under", FlagKind::kValue}}, cmd, 0,
                       "inventory locations [--under=ID]");
  if (!flags.ok()) return ctx.Usage(flags.status());
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
                         {"serials", FlagKind::kRepeated},
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
  if (auto s = SerialsFlag(*flags, req.mutable_serials()); !s.ok()) {
    return ctx.Usage(s);
  }
  // A scan with (21) names its serial: no quantity needed either.
  const bool by_scan_serial =
      want == 0 && req.gs1_scan().find("(21)") != std::string::npos;
  if (!by_scan_serial || flags->Has("quantity")) {
    absl::StatusOr<v1::Quantity> q =
        QuantityOrSerials(*flags, "quantity", cmd, req.serials());
    if (!q.ok()) return ctx.Usage(q.status());
    *req.mutable_quantity() = *q;
  }
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
  absl::StatusOr<Flags> flags = TakeCommandFlags(
      args,
      {{"from", FlagKind::kValue},
       {"to", FlagKind::kValue},
       {"quantity", FlagKind::kValue},
       {"uom", FlagKind::kValue},
       {"reason", FlagKind::kValue},
       {"serials", FlagKind::kRepeated},
       {"request-id", FlagKind::kValue}},
      cmd, 1,
      "inventory transfer LOT_ID --from=ID --to=ID (--quantity=N | "
      "--serials=..)");
  if (!flags.ok()) return ctx.Usage(flags.status());
  v1::TransferStockRequest req;
  req.set_request_id(ctx.RequestId(*flags));
  req.set_lot_id(args.positional[0]);
  req.set_from_location_id(flags->Get("from").value_or(""));
  req.set_to_location_id(flags->Get("to").value_or(""));
  if (auto s = SerialsFlag(*flags, req.mutable_serials()); !s.ok()) {
    return ctx.Usage(s);
  }
  absl::StatusOr<v1::Quantity> q =
      QuantityOrSerials(*flags, "quantity", cmd, req.serials());
  if (!q.ok()) return ctx.Usage(q.status());
  *req.mutable_quantity() = *q;
  req.set_reason(flags->Get("reason").value_or(""));
  return LotCall(ctx, req, &Stub::TransferStock);
}

int Ship(Context& ctx, ParsedArgs& args) {
  const std::string cmd = "inventory ship";
  std::vector<FlagSpec> specs = CustomerSpecs();
  specs.insert(specs.end(), {{"line", FlagKind::kRepeated},
                             {"shipment-id", FlagKind::kValue},
                             {"reference", FlagKind::kValue},
                             {"override-min-days", FlagKind::kValue},
                             {"override-meaning", FlagKind::kValue},
                             {"override-reason", FlagKind::kValue},
                             {"sign-token", FlagKind::kValue},
                             {"serials", FlagKind::kRepeated},
                             {"request-id", FlagKind::kValue}});
  absl::StatusOr<Flags> flags = TakeCommandFlags(
      args, specs, cmd, 0,
      "inventory ship --customer=ID --line=LOT_ID@LOCATION:N ...");
  if (!flags.ok()) return ctx.Usage(flags.status());
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
  // --serials: the serials of the one line.
  if (flags->Has("serials")) {
    if (req.lines_size() != 1) {
      return ctx.Usage(Invalid(
          "--serials: with one --line only; name each line's serials in it "
          "(--line=LOT_ID@LOCATION:SN0001..SN0003,SN0007)"));
    }
    v1::ShipmentLine* line = req.mutable_lines(0);
    if (auto s = SerialsFlag(*flags, line->mutable_serials()); !s.ok()) {
      return ctx.Usage(s);
    }
  }
  // Shipping below the customer's minimum shelf life is an electronic
  // signature: the fresh re-authentication (default: the --token), what it
  // means and why.
  if (std::optional<std::string> days = flags->Get("override-min-days")) {
    int32_t n = 0;
    if (!absl::SimpleAtoi(*days, &n) || n < 0) {
      return ctx.Usage(
          Invalid(absl::StrCat("--override-min-days: \"", *days,
                               "\" is not a number of days >= 0")));
    }
    const std::optional<std::string> reason = flags->Get("override-reason");
    if (!reason.has_value() || reason->empty()) {
      return ctx.Usage(Invalid(
          "--override-reason: required with --override-min-days (why the "
          "customer's minimum shelf life is waived; it is signed)"));
    }
    v1::ShelfLifeOverrideRequest* o = req.mutable_shelf_life_override();
    o->set_min_remaining_days(n);
    o->mutable_signature()->set_meaning(
        flags->Get("override-meaning")
            .value_or("approved shipment below the customer's minimum shelf "
                      "life"));
    o->mutable_signature()->set_reason(*reason);
    o->mutable_signature()->set_credential(
        flags->Get("sign-token").value_or(ctx.options().token));
  } else if (flags->Get("override-reason") || flags->Get("override-meaning") ||
             flags->Get("sign-token")) {
    return ctx.Usage(Invalid(
        "--override-reason, --override-meaning and --sign-token go with "
        "--override-min-days"));
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
      TakeCommandFlags(args,
                       {{"customer", FlagKind::kValue},
                        {"shipment", FlagKind::kValue},
                        {"location", FlagKind::kValue},
                        {"quantity", FlagKind::kValue},
                        {"uom", FlagKind::kValue},
                        {"condition", FlagKind::kValue},
                        {"notes", FlagKind::kValue},
                        {"return-id", FlagKind::kValue},
                        {"serials", FlagKind::kRepeated},
                        {"request-id", FlagKind::kValue}},
                       cmd, 1,
                       "inventory return LOT_ID --customer=ID --location=ID "
                       "--quantity=N --condition=resaleable|damaged|"
                       "recalled");
  if (!flags.ok()) return ctx.Usage(flags.status());
  v1::ReturnStockRequest req;
  req.set_request_id(ctx.RequestId(*flags));
  req.set_lot_id(args.positional[0]);
  req.set_customer_id(flags->Get("customer").value_or(""));
  req.set_shipment_id(flags->Get("shipment").value_or(""));
  req.set_location_id(flags->Get("location").value_or(""));
  if (auto s = SerialsFlag(*flags, req.mutable_serials()); !s.ok()) {
    return ctx.Usage(s);
  }
  absl::StatusOr<v1::Quantity> q =
      QuantityOrSerials(*flags, "quantity", cmd, req.serials());
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
      TakeCommandFlags(args,
                       {{"location", FlagKind::kValue},
                        {"quantity", FlagKind::kValue},
                        {"uom", FlagKind::kValue},
                        {"reason", FlagKind::kValue},
                        {"notes", FlagKind::kValue},
                        {"sign-token", FlagKind::kValue},
                        {"serials", FlagKind::kRepeated},
                        {"request-id", FlagKind::kValue}},
                       cmd, 1,
                       "inventory scrap LOT_ID --location=ID --quantity=N "
                       "--reason=expired|damaged|recalled|"
                       "quality-rejected|other");
  if (!flags.ok()) return ctx.Usage(flags.status());
  v1::ScrapStockRequest req;
  req.set_request_id(ctx.RequestId(*flags));
  req.set_lot_id(args.positional[0]);
  req.set_location_id(flags->Get("location").value_or(""));
  if (auto s = SerialsFlag(*flags, req.mutable_serials()); !s.ok()) {
    return ctx.Usage(s);
  }
  absl::StatusOr<v1::Quantity> q =
      QuantityOrSerials(*flags, "quantity", cmd, req.serials());
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
      TakeCommandFlags(args,
                       {{"location", FlagKind::kValue},
                        {"counted", FlagKind::kValue},
                        {"uom", FlagKind::kValue},
                        {"reason", FlagKind::kValue},
                        {"serials", FlagKind::kRepeated},
                        {"request-id", FlagKind::kValue}},
                       cmd, 1,
                       "inventory adjust LOT_ID --location=ID (--counted=N "
                       "| --serials=..) --reason=TEXT");
  if (!flags.ok()) return ctx.Usage(flags.status());
  v1::AdjustStockRequest req;
  req.set_request_id(ctx.RequestId(*flags));
  req.set_lot_id(args.positional[0]);
  req.set_location_id(flags->Get("location").value_or(""));
  // By serial: every serial of the lot found there (--counted may go).
  if (auto s = SerialsFlag(*flags, req.mutable_serials()); !s.ok()) {
    return ctx.Usage(s);
  }
  if (!flags->Has("serials") || flags->Has("counted")) {
    absl::StatusOr<v1::Quantity> q = QuantityFlag(*flags, "counted", cmd, 0);
    if (!q.ok()) return ctx.Usage(q.status());
    *req.mutable_counted() = *q;
  }
  req.set_reason(flags->Get("reason").value_or(""));
  return LotCall(ctx, req, &Stub::AdjustStock);
}

int Usage(Context& ctx, ParsedArgs& args) {
  const std::string cmd = "inventory usage";
  absl::StatusOr<Flags> flags =
      TakeCommandFlags(args,
                       {{"customer", FlagKind::kValue},
                        {"serials", FlagKind::kRepeated},
                        {"used-on", FlagKind::kValue},
                        {"site", FlagKind::kValue},
                        {"report-id", FlagKind::kValue},
                        {"request-id", FlagKind::kValue}},
                       cmd, 1,
                       "inventory usage LOT_ID --customer=ID --serials=.. "
                       "--used-on=YYYY-MM-DD [--site=..] [--report-id=..]");
  if (!flags.ok()) return ctx.Usage(flags.status());
  v1::ReportUsageRequest req;
  req.set_request_id(ctx.RequestId(*flags));
  req.set_lot_id(args.positional[0]);
  req.set_customer_id(flags->Get("customer").value_or(""));
  if (auto s = SerialsFlag(*flags, req.mutable_serials()); !s.ok()) {
    return ctx.Usage(s);
  }
  if (flags->Has("used-on")) {
    absl::StatusOr<v1::Date> used_on = DateFlag(*flags, "used-on");
    if (!used_on.ok()) return ctx.Usage(used_on.status());
    *req.mutable_used_on() = *used_on;
  }
  req.set_site(flags->Get("site").value_or(""));
  req.set_report_id(flags->Get("report-id").value_or(""));
  auto stub = v1::InventoryService::NewStub(ctx.channel());
  v1::ReportUsageResponse resp;
  grpc::Status s = stub->ReportUsage(ctx.Call().get(), req, &resp);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.json()) {
    ctx.PrintJson(resp);
  } else {
    ctx.out() << "reported " << resp.used() << " used at " << req.customer_id()
              << " on " << DateText(req.used_on()) << "\n";
  }
  return kExitOk;
}

}  // namespace lotledger::lotctl::inventory_cli
