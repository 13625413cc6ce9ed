// lotctl verbs on the lots service, plus health and the offline gs1 parser.
#include <functional>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "libs/common/ids.h"
#include "libs/domain/serials/serials.h"
#include "libs/gs1/element_string.h"
#include "libs/gs1/format.h"
#include "lotledger/v1/lots.grpc.pb.h"
#include "tools/lotctl/context.h"
#include "tools/lotctl/import_serials.h"
#include "tools/lotctl/values.h"

namespace lotledger::lotctl {
namespace {

using HealthStatus = grpc::health::v1::HealthCheckResponse;

std::string TimeText(const google::protobuf::Timestamp& ts) {
  if (ts.seconds() == 0 && ts.nanos() == 0) return "";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC",
                          absl::FromUnixSeconds(ts.seconds()),
                          absl::UTCTimeZone());
}

std::string ExpirySourceText(const v1::Lot& lot) {
  switch (lot.expiry_source()) {
    case v1::EXPIRY_SOURCE_GIVEN:
      return "given";
    case v1::EXPIRY_SOURCE_SHELF_LIFE:
      return "from shelf life";
    case v1::EXPIRY_SOURCE_COMPONENT_CAP:
      return absl::StrCat("capped by component ", lot.expiry_set_by_lot_id());
    default:
      return "";
  }
}

void PrintProduct(std::ostream& out, const v1::Product& p) {
  const v1::ShelfLifePolicy& policy = p.policy();
  std::vector<std::string> rules;
  if (policy.cap_expiry_by_components()) {
    rules.push_back("expiry capped by components");
  }
  if (policy.require_released_components()) {
    rules.push_back("release requires released components");
  }
  PrintFields(
      out,
      {{"item", p.item()},
       {"name", p.name()},
       {"kind", KindText(p.kind())},
       {"uom", p.uom()},
       {"shelf life", policy.shelf_life_days() > 0
                          ? absl::StrCat(policy.shelf_life_days(), " days")
                          : "none (every lot needs an expiry)"},
       {"alerts",
        policy.alert_thresholds_days().empty()
            ? ""
            : absl::StrCat(absl::StrJoin(policy.alert_thresholds_days(), ", "),
                           " days before expiry")},
       {"min. to ship",
        policy.min_remaining_days_to_ship() > 0
            ? absl::StrCat(policy.min_remaining_days_to_ship(), " days left")
            : ""},
       {"rules", absl::StrJoin(rules, "; ")},
       {"tracking", p.tracking() == v1::TRACKING_SERIAL
                        ? "by serial (serial register)"
                        : ""}});
}

void PrintLot(std::ostream& out, const v1::Lot& lot) {
  std::string expires = DateText(lot.expires_on());
  if (const std::string source = ExpirySourceText(lot); !source.empty()) {
    absl::StrAppend(&expires, " (", source, ")");
  }
  std::string quantity = QuantityText(lot.quantity());
  if (lot.consumed().amount() > 0) {
    absl::StrAppend(&quantity, ", consumed ", QuantityText(lot.consumed()));
  }
  if (lot.serial_count() > 0) {
    absl::StrAppend(&quantity, ", ", lot.serial_count(), " serials assigned");
  }
  std::vector<std::pair<std::string, std::string>> rows = {
      {"lot", lot.lot_id()},
      {"item", lot.item()},
      {"lot number", lot.lot_number()},
      {"manufactured", DateText(lot.manufactured_on())},
      {"expires", expires},
      {"quantity", quantity},
      {"site", lot.site()},
      {"order", lot.production_order()},
      {"supplier", lot.supplier()},
      {"supplier lot", lot.supplier_lot()},
  };
  for (int i = 0; i < lot.inputs_size(); ++i) {
    rows.emplace_back(i == 0 ? "inputs" : "",
                      absl::StrCat(lot.inputs(i).lot_id(), "  ",
                                   QuantityText(lot.inputs(i).quantity())));
  }
  rows.emplace_back("used in", absl::StrJoin(lot.used_in(), ", "));
  const std::string created = TimeText(lot.created_at());
  rows.emplace_back("created",
                    created.empty() && lot.created_by().empty()
                        ? ""
                        : absl::StrCat(created, " by ", lot.created_by()));
  for (int i = 0; i < lot.corrections_size(); ++i) {
    const v1::LotCorrection& c = lot.corrections(i);
    rows.emplace_back(
        i == 0 ? "corrections" : "",
        absl::StrCat(TimeText(c.recorded_at()), " by ", c.actor(), ": ",
                     c.correction().field(), " ", c.correction().old_value(),
                     " -> ", c.correction().new_value(), " (",
                     c.correction().reason(), ")"));
  }
  // Continuation rows (empty key) belong to the previous key: print them
  // aligned under it.
  size_t width = 0;
  for (const auto& [key, value] : rows) {
    if (!value.empty()) width = std::max(width, key.size());
  }
  for (const auto& [key, value] : rows) {
    if (value.empty()) continue;
    out << key << std::string(width - key.size() + 2, ' ') << value << "\n";
  }
}

int ProductDefine(Context& ctx, ParsedArgs& args) {
  const std::string cmd = "product define";
  absl::StatusOr<Flags> flags =
      TakeCommandFlags(args,
                       {{"item", FlagKind::kValue},
                        {"name", FlagKind::kValue},
                        {"uom", FlagKind::kValue},
                        {"kind", FlagKind::kValue},
                        {"shelf-life-days", FlagKind::kValue},
                        {"alert-days", FlagKind::kValue},
                        {"min-ship-days", FlagKind::kValue},
                        {"cap-expiry-by-components", FlagKind::kSwitch},
                        {"require-released-components", FlagKind::kSwitch},
                        {"tracking", FlagKind::kValue},
                        {"request-id", FlagKind::kValue}},
                       cmd, 0, "product define --item=.. ...");
  if (!flags.ok()) return ctx.Usage(flags.status());
  v1::DefineProductRequest req;
  req.set_request_id(ctx.RequestId(*flags));
  v1::Product* p = req.mutable_product();
  for (const char* name : {"item", "name", "uom", "kind"}) {
    absl::StatusOr<std::string> v = RequiredFlag(*flags, name, cmd);
    if (!v.ok()) return ctx.Usage(v.status());
  }
  p->set_item(*flags->Get("item"));
  p->set_name(*flags->Get("name"));
  p->set_uom(*flags->Get("uom"));
  absl::StatusOr<v1::ItemKind> kind = ParseKind(*flags->Get("kind"));
  if (!kind.ok()) {
    return ctx.Usage(FlagValueError("kind", kind.status()));
  }
  p->set_kind(*kind);
  if (auto v = flags->Get("tracking")) {
    absl::StatusOr<v1::Tracking> tracking = ParseTrackingText(*v);
    if (!tracking.ok()) {
      return ctx.Usage(FlagValueError("tracking", tracking.status()));
    }
    p->set_tracking(*tracking);
  }
  v1::ShelfLifePolicy* policy = p->mutable_policy();
  if (auto v = flags->Get("shelf-life-days")) {
    absl::StatusOr<int64_t> d = ParseInt(*v, "--shelf-life-days", 0, 36500);
    if (!d.ok()) return ctx.Usage(d.status());
    policy->set_shelf_life_days(static_cast<int32_t>(*d));
  }
  if (auto v = flags->Get("alert-days")) {
    absl::StatusOr<std::vector<int32_t>> days = ParseDayList(*v);
    if (!days.ok()) {
      return ctx.Usage(FlagValueError("alert-days", days.status()));
    }
    for (int32_t d : *days) policy->add_alert_thresholds_days(d);
  }
  if (auto v = flags->Get("min-ship-days")) {
    absl::StatusOr<int64_t> d = ParseInt(*v, "--min-ship-days", 0, 36500);
    if (!d.ok()) return ctx.Usage(d.status());
    policy->set_min_remaining_days_to_ship(static_cast<int32_t>(*d));
  }
  policy->set_cap_expiry_by_components(flags->Has("cap-expiry-by-components"));
  policy->set_require_released_components(
      flags->Has("require-released-components"));

  auto stub = v1::LotsService::NewStub(ctx.channel());
  v1::DefineProductResponse resp;
  grpc::Status s = stub->DefineProduct(ctx.Call().get(), req, &resp);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.json()) {
    ctx.PrintJson(resp);
  } else {
    ctx.out() << "defined product " << resp.product().item() << "\n";
    PrintProduct(ctx.out(), resp.product());
  }
  return kExitOk;
}

int ProductGet(Context& ctx, ParsedArgs& args) {
  if (auto s = RejectUnknown(args, "product get"); !s.ok()) return ctx.Usage(s);
  if (auto s = ExpectPositional(args, 1, "product get ITEM"); !s.ok()) {
    return ctx.Usage(s);
  }
  auto stub = v1::LotsService::NewStub(ctx.channel());
  v1::GetProductRequest req;
  req.set_item(args.positional[0]);
  v1::GetProductResponse resp;
  grpc::Status s = stub->GetProduct(ctx.Call().get(), req, &resp);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.json()) {
    ctx.PrintJson(resp);
  } else {
    PrintProduct(ctx.out(), resp.product());
  }
  return kExitOk;
}

}  // namespace

grpc::Status FillInputUnits(
    Context& ctx, v1::LotsService::Stub& stub, const std::string& fallback,
    google::protobuf::RepeatedPtrField<v1::LotInput>* inputs,
    std::map<std::string, std::string>& unit_cache) {
  for (v1::LotInput& in : *inputs) {
    if (!in.quantity().uom().empty()) continue;
    auto cached = unit_cache.find(in.lot_id());
    if (cached == unit_cache.end()) {
      v1::GetLotRequest req;
      req.set_lot_id(in.lot_id());
      v1::GetLotResponse resp;
      grpc::Status s = stub.GetLot(ctx.Call().get(), req, &resp);
      if (s.error_code() == grpc::StatusCode::NOT_FOUND) {
        in.mutable_quantity()->set_uom(fallback);
        continue;
      }
      if (!s.ok()) return s;
      cached =
          unit_cache.emplace(in.lot_id(), resp.lot().quantity().uom()).first;
    }
    in.mutable_quantity()->set_uom(cached->second);
  }
  return grpc::Status::OK;
}

namespace {

int LotCreate(Context& ctx, ParsedArgs& args) {
  const std::string cmd = "lot create";
  absl::StatusOr<Flags> flags =
      TakeCommandFlags(args,
                       {{"item", FlagKind::kValue},
                        {"lot", FlagKind::kValue},
                        {"manufactured", FlagKind::kValue},
                        {"expires", FlagKind::kValue},
                        {"quantity", FlagKind::kValue},
                        {"uom", FlagKind::kValue},
                        {"site", FlagKind::kValue},
                        {"order", FlagKind::kValue},
                        {"input", FlagKind::kRepeated},
                        {"supplier", FlagKind::kValue},
                        {"supplier-lot", FlagKind::kValue},
                        {"request-id", FlagKind::kValue}},
                       cmd, 0, "lot create --item=.. --lot=.. ...");
  if (!flags.ok()) return ctx.Usage(flags.status());
  for (const char* name : {"item", "lot", "manufactured", "quantity", "uom"}) {
    absl::StatusOr<std::string> v = RequiredFlag(*flags, name, cmd);
    if (!v.ok()) return ctx.Usage(v.status());
  }
  v1::CreateLotRequest req;
  req.set_request_id(ctx.RequestId(*flags));
  req.set_item(*flags->Get("item"));
  req.set_lot_number(*flags->Get("lot"));
  absl::StatusOr<v1::Date> made = DateFlag(*flags, "manufactured");
  if (!made.ok()) return ctx.Usage(made.status());
  *req.mutable_manufactured_on() = *made;
  if (flags->Has("expires")) {
    absl::StatusOr<v1::Date> expires = DateFlag(*flags, "expires");
    if (!expires.ok()) return ctx.Usage(expires.status());
    *req.mutable_expires_on() = *expires;
  }
  absl::StatusOr<int64_t> amount =
      ParseInt(*flags->Get("quantity"), "--quantity", 1, INT64_MAX);
  if (!amount.ok()) return ctx.Usage(amount.status());
  req.mutable_quantity()->set_amount(*amount);
  req.mutable_quantity()->set_uom(*flags->Get("uom"));
  req.set_site(flags->Get("site").value_or(""));
  req.set_production_order(flags->Get("order").value_or(""));
  req.set_supplier(flags->Get("supplier").value_or(""));
  req.set_supplier_lot(flags->Get("supplier-lot").value_or(""));
  for (const std::string& text : flags->GetAll("input")) {
    absl::StatusOr<v1::LotInput> in = ParseLotInput(text);
    if (!in.ok()) {
      return ctx.Usage(FlagValueError("input", in.status()));
    }
    *req.add_inputs() = *in;
  }
  auto stub = v1::LotsService::NewStub(ctx.channel());
  std::map<std::string, std::string> units;
  if (grpc::Status s = FillInputUnits(ctx, *stub, req.quantity().uom(),
                                      req.mutable_inputs(), units);
      !s.ok()) {
    return ctx.Fail(s);
  }
  v1::CreateLotResponse resp;
  grpc::Status s = stub->CreateLot(ctx.Call().get(), req, &resp);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.json()) {
    ctx.PrintJson(resp);
  } else {
    ctx.out() << "created lot " << resp.lot().lot_id() << "\n";
    PrintLot(ctx.out(), resp.lot());
  }
  return kExitOk;
}

int LotGet(Context& ctx, ParsedArgs& args) {
  if (auto s = RejectUnknown(args, "lot get"); !s.ok()) return ctx.Usage(s);
  if (auto s = ExpectPositional(args, 1, "lot get LOT_ID"); !s.ok()) {
    return ctx.Usage(s);
  }
  auto stub = v1::LotsService::NewStub(ctx.channel());
  v1::GetLotRequest req;
  req.set_lot_id(args.positional[0]);
  v1::GetLotResponse resp;
  grpc::Status s = stub->GetLot(ctx.Call().get(), req, &resp);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.json()) {
    ctx.PrintJson(resp);
  } else {
    PrintLot(ctx.out(), resp.lot());
  }
  return kExitOk;
}

int LotCorrect(Context& ctx, ParsedArgs& args) {
  const std::string cmd = "lot correct";
  absl::StatusOr<Flags> flags = TakeCommandFlags(
      args,
      {{"field", FlagKind::kValue},
       {"value", FlagKind::kValue},
       {"reason", FlagKind::kValue},
       {"request-id", FlagKind::kValue}},
      cmd, 1, "lot correct LOT_ID --field=.. --value=.. --reason=..");
  if (!flags.ok()) return ctx.Usage(flags.status());
  for (const char* name : {"field", "reason"}) {
    absl::StatusOr<std::string> v = RequiredFlag(*flags, name, cmd);
    if (!v.ok()) return ctx.Usage(v.status());
  }
  if (!flags->Has("value")) {
    return ctx.Usage(absl::InvalidArgumentError(
        absl::StrCat("--value is required for '", cmd, "'")));
  }
  v1::CorrectLotRequest req;
  req.set_request_id(ctx.RequestId(*flags));
  req.set_lot_id(args.positional[0]);
  req.set_field(*flags->Get("field"));
  req.set_new_value(*flags->Get("value"));
  req.set_reason(*flags->Get("reason"));
  auto stub = v1::LotsService::NewStub(ctx.channel());
  v1::CorrectLotResponse resp;
  grpc::Status s = stub->CorrectLot(ctx.Call().get(), req, &resp);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.json()) {
    ctx.PrintJson(resp);
  } else {
    ctx.out() << "corrected lot " << resp.lot().lot_id() << "\n";
    PrintLot(ctx.out(), resp.lot());
  }
  return kExitOk;
}

int LotAssignSerials(Context& ctx, ParsedArgs& args) {
  const std::string cmd = "lot assign-serials";
  absl::StatusOr<Flags> flags =
      Flags::Take(args, {{"request-id", FlagKind::kValue}});
  if (!flags.ok()) return ctx.Usage(flags.status());
  if (auto s = RejectUnknown(args, cmd); !s.ok()) return ctx.Usage(s);
  if (args.positional.size() < 2) {
    return ctx.Usage(absl::InvalidArgumentError(
        "usage: lotctl lot assign-serials LOT_ID SERIAL|FIRST..LAST ..."));
  }
  v1::AssignSerialsRequest req;
  req.set_request_id(ctx.RequestId(*flags));
  req.set_lot_id(args.positional[0]);
  for (size_t i = 1; i < args.positional.size(); ++i) {
    absl::StatusOr<v1::SerialRange> range = domain::ParseSerialRangeText(
        args.positional[i], absl::StrCat("serial argument ", i));
    if (!range.ok()) return ctx.Usage(range.status());
    *req.add_serials() = *std::move(range);
  }
  auto stub = v1::LotsService::NewStub(ctx.channel());
  v1::AssignSerialsResponse resp;
  grpc::Status s = stub->AssignSerials(ctx.Call().get(), req, &resp);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.json()) {
    ctx.PrintJson(resp);
  } else {
    ctx.out() << "assigned " << resp.assigned()
              << (resp.assigned() == 1 ? " serial" : " serials") << " to lot "
              << req.lot_id() << " (the lot has " << resp.lot_total() << ")\n";
  }
  return kExitOk;
}

int LotSerial(Context& ctx, ParsedArgs& args) {
  absl::StatusOr<Flags> flags =
      TakeCommandFlags(args, {}, "lot serial", 2, "lot serial ITEM SERIAL");
  if (!flags.ok()) return ctx.Usage(flags.status());
  v1::GetSerialRequest req;
  req.set_item(args.positional[0]);
  req.set_serial(args.positional[1]);
  auto stub = v1::LotsService::NewStub(ctx.channel());
  v1::GetSerialResponse resp;
  grpc::Status s = stub->GetSerial(ctx.Call().get(), req, &resp);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.json()) {
    ctx.PrintJson(resp);
  } else {
    PrintFields(
        ctx.out(),
        {{"serial", req.serial()},
         {"item", req.item()},
         {"lot", resp.lot_id()},
         {"lot serials",
          absl::StrCat(domain::FormatSerials(resp.lot_serials(), 10), " (",
                       domain::CountSerials(resp.lot_serials()), ")")}});
  }
  return kExitOk;
}

int LotList(Context& ctx, ParsedArgs& args) {
  absl::StatusOr<Flags> flags =
      TakeCommandFlags(args,
                       {{"item", FlagKind::kValue},
                        {"expires-from", FlagKind::kValue},
                        {"expires-to", FlagKind::kValue},
                        {"page-size", FlagKind::kValue},
                        {"page-token", FlagKind::kValue},
                        {"all", FlagKind::kSwitch}},
                       "lot list", 0, "lot list [--item=..] ...");
  if (!flags.ok()) return ctx.Usage(flags.status());
  v1::ListLotsRequest req;
  req.set_item(flags->Get("item").value_or(""));
  for (const char* name : {"expires-from", "expires-to"}) {
    if (!flags->Has(name)) continue;
    absl::StatusOr<v1::Date> d = DateFlag(*flags, name);
    if (!d.ok()) return ctx.Usage(d.status());
    *(std::string(name) == "expires-from" ? req.mutable_expires_from()
                                          : req.mutable_expires_to()) = *d;
  }
  if (auto v = flags->Get("page-size")) {
    absl::StatusOr<int64_t> n = ParseInt(*v, "--page-size", 1, 1000);
    if (!n.ok()) return ctx.Usage(n.status());
    req.set_page_size(static_cast<int32_t>(*n));
  }
  req.set_page_token(flags->Get("page-token").value_or(""));
  const bool all = flags->Has("all");

  auto stub = v1::LotsService::NewStub(ctx.channel());
  v1::ListLotsResponse merged;
  while (true) {
    v1::ListLotsResponse page;
    grpc::Status s = stub->ListLots(ctx.Call().get(), req, &page);
    if (!s.ok()) return ctx.Fail(s);
    for (v1::Lot& lot : *page.mutable_lots())
      *merged.add_lots() = std::move(lot);
    merged.set_next_page_token(page.next_page_token());
    if (!all || page.next_page_token().empty()) break;
    req.set_page_token(page.next_page_token());
  }
  if (ctx.json()) {
    ctx.PrintJson(merged);
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const v1::Lot& lot : merged.lots()) {
    rows.push_back({lot.lot_id(), DateText(lot.manufactured_on()),
                    DateText(lot.expires_on()), QuantityText(lot.quantity()),
                    lot.site()});
  }
  PrintTable(ctx.out(), {"LOT", "MANUFACTURED", "EXPIRES", "QUANTITY", "SITE"},
             rows);
  ctx.out() << merged.lots_size()
            << (merged.lots_size() == 1 ? " lot" : " lots");
  if (!merged.next_page_token().empty()) {
    ctx.out() << "; more with --page-token=" << merged.next_page_token()
              << " (or --all)";
  }
  ctx.out() << "\n";
  return kExitOk;
}

}  // namespace

int RunHealth(Context& ctx, ParsedArgs& args) {
  if (auto s = RejectUnknown(args, "health"); !s.ok()) return ctx.Usage(s);
  if (auto s = ExpectPositional(args, 0, "health"); !s.ok())
    return ctx.Usage(s);
  auto stub = grpc::health::v1::Health::NewStub(ctx.channel());
  std::vector<std::vector<std::string>> rows;
  int code = kExitOk;
  for (const std::string service :
       {"", "lotledger.v1.LotsService", "lotledger.v1.QualityService",
        "lotledger.v1.InventoryService"}) {
    grpc::health::v1::HealthCheckRequest req;
    req.set_service(service);
    grpc::health::v1::HealthCheckResponse resp;
    grpc::Status s = stub->Check(ctx.Call().get(), req, &resp);
    const std::string name = service.empty() ? "(server)" : service;
    if (s.error_code() == grpc::StatusCode::NOT_FOUND && !service.empty()) {
      rows.push_back({name, "not hosted"});  // a single-service binary
      continue;
    }
    if (!s.ok()) return ctx.Fail(s);
    const bool serving = resp.status() == HealthStatus::SERVING;
    rows.push_back(
        {name, serving ? "SERVING"
                       : HealthStatus::ServingStatus_Name(resp.status())});
    if (!serving) code = kExitUnavailable;
  }
  PrintTable(ctx.out(), {"SERVICE", "STATUS"}, rows);
  return code;
}

int RunGs1(Context& ctx, ParsedArgs& args) {
  if (auto s = RejectUnknown(args, "gs1 parse"); !s.ok()) return ctx.Usage(s);
  if (args.positional.size() != 2 || args.positional[0] != "parse") {
    return ctx.Usage(
        absl::InvalidArgumentError("usage: lotctl gs1 parse SCAN"));
  }
  gs1::ParseOptions options;
  options.reference_year =
      absl::ToCivilYear(ctx.env().now(), absl::UTCTimeZone()).year();
  absl::StatusOr<std::vector<gs1::Element>> elements =
      gs1::Parse(UnescapeGroupSeparators(args.positional[1]), options);
  if (!elements.ok()) return ctx.Usage(elements.status());
  ctx.out() << (ctx.json() ? gs1::FormatJson(*elements) + "\n"
                           : gs1::FormatText(*elements));
  return kExitOk;
}

int RunProduct(Context& ctx, ParsedArgs& args) {
  const std::string sub = args.positional.empty() ? "" : args.positional[0];
  if (!args.positional.empty()) args.positional.erase(args.positional.begin());
  if (sub == "define") return ProductDefine(ctx, args);
  if (sub == "get") return ProductGet(ctx, args);
  return ctx.Usage(
      absl::InvalidArgumentError("usage: lotctl product define|get ..."));
}

int RunLot(Context& ctx, ParsedArgs& args) {
  const std::string sub = args.positional.empty() ? "" : args.positional[0];
  if (!args.positional.empty()) args.positional.erase(args.positional.begin());
  if (sub == "create") return LotCreate(ctx, args);
  if (sub == "get") return LotGet(ctx, args);
  if (sub == "correct") return LotCorrect(ctx, args);
  if (sub == "list") return LotList(ctx, args);
  if (sub == "assign-serials") return LotAssignSerials(ctx, args);
  if (sub == "serial") return LotSerial(ctx, args);
  return ctx.Usage(absl::InvalidArgumentError(
      "usage: lotctl lot create|get|correct|list|assign-serials|serial ..."));
}

int RunTrace(Context& ctx, ParsedArgs& args) {
  absl::StatusOr<Flags> flags =
      Flags::Take(args, {{"backward", FlagKind::kSwitch},
                         {"forward", FlagKind::kSwitch},
                         {"serial", FlagKind::kValue},
                         {"depth", FlagKind::kValue}});
  if (!flags.ok()) return ctx.Usage(flags.status());
  if (auto s = RejectUnknown(args, "trace"); !s.ok()) return ctx.Usage(s);
  const std::optional<std::string> unit = flags->Get("serial");
  if (auto s = ExpectPositional(
          args, unit.has_value() ? 0 : 1,
          "trace (LOT_ID | --serial=ITEM:SERIAL) [--backward|--forward]");
      !s.ok()) {
    return ctx.Usage(s);
  }
  if (flags->Has("backward") && flags->Has("forward")) {
    return ctx.Usage(absl::InvalidArgumentError(
        "--backward and --forward: give one of them"));
  }
  const bool forward = flags->Has("forward");
  v1::TraceRequest req;
  if (unit.has_value()) {
    // An item code never holds ':', a serial may.
    const size_t colon = unit->find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == unit->size()) {
      return ctx.Usage(absl::InvalidArgumentError(
          absl::StrCat("--serial: \"", *unit, "\" is not ITEM:SERIAL")));
    }
    req.set_item(unit->substr(0, colon));
    req.set_serial(unit->substr(colon + 1));
  } else {
    req.set_lot_id(args.positional[0]);
  }
  req.set_direction(forward ? v1::TRACE_DIRECTION_FORWARD
                            : v1::TRACE_DIRECTION_BACKWARD);
  if (auto v = flags->Get("depth")) {
    absl::StatusOr<int64_t> d = ParseInt(*v, "--depth", 1, 64);
    if (!d.ok()) return ctx.Usage(d.status());
    req.set_max_depth(static_cast<int32_t>(*d));
  }
  auto stub = v1::LotsService::NewStub(ctx.channel());
  v1::TraceResponse resp;
  grpc::Status s = stub->Trace(ctx.Call().get(), req, &resp);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.json()) {
    ctx.PrintJson(resp);
    return kExitOk;
  }
  std::map<std::string, const v1::TraceNode*> nodes;
  for (const v1::TraceNode& n : resp.nodes()) nodes[n.lot_id()] = &n;
  // Next hop from a lot: backward, the lots it consumed; forward, the lots
  // that consumed it.
  std::map<std::string, std::vector<const v1::TraceEdge*>> next;
  for (const v1::TraceEdge& e : resp.edges()) {
    next[forward ? e.child_lot_id() : e.parent_lot_id()].push_back(&e);
  }
  const auto describe = [&](const std::string& lot_id) {
    auto it = nodes.find(lot_id);
    if (it == nodes.end()) return lot_id;
    const v1::TraceNode& n = *it->second;
    std::string text = absl::StrCat(lot_id, "  ", KindText(n.kind()));
    if (n.has_expires_on()) {
      absl::StrAppend(&text, "  expires ", DateText(n.expires_on()));
    }
    return text;
  };
  // A lot reached twice (a shared component) is expanded once; the second
  // mention says so instead of repeating its subtree.
  std::set<std::string> expanded;
  std::ostream& out = ctx.out();
  std::function<void(const std::string&, const std::string&)> walk =
      [&](const std::string& lot_id, const std::string& prefix) {
        if (!expanded.insert(lot_id).second) return;
        const auto& hops = next[lot_id];
        for (size_t i = 0; i < hops.size(); ++i) {
          const bool last = i + 1 == hops.size();
          const std::string& to =
              forward ? hops[i]->parent_lot_id() : hops[i]->child_lot_id();
          const bool seen = expanded.contains(to);
          out << prefix << (last ? "└─ " : "├─ ")
              << QuantityText(hops[i]->quantity())
              << (forward ? " into " : " of ") << describe(to)
              << (seen && !next[to].empty() ? "  (see above)" : "") << "\n";
          walk(to, prefix + (last ? "   " : "│  "));
        }
      };
  const std::string root =
      resp.nodes().empty() ? req.lot_id() : resp.nodes(0).lot_id();
  if (!resp.serial().empty()) {
    out << "serial " << resp.serial() << " of " << req.item() << " is in lot "
        << root << "\n";
  }
  out << describe(root) << "\n";
  walk(root, "");
  if (resp.truncated()) {
    out << "(the depth limit stopped the walk; more with a larger --depth)\n";
  }
  return kExitOk;
}

int RunUdi(Context& ctx, ParsedArgs& args) {
  if (auto s = RejectUnknown(args, "udi resolve"); !s.ok()) return ctx.Usage(s);
  if (args.positional.size() != 2 || args.positional[0] != "resolve") {
    return ctx.Usage(
        absl::InvalidArgumentError("usage: lotctl udi resolve SCAN"));
  }
  auto stub = v1::LotsService::NewStub(ctx.channel());
  v1::ResolveUdiRequest req;
  req.set_scan(UnescapeGroupSeparators(args.positional[1]));
  v1::ResolveUdiResponse resp;
  grpc::Status s = stub->ResolveUdi(ctx.Call().get(), req, &resp);
  if (!s.ok()) return ctx.Fail(s);
  const bool known = !resp.lot().lot_id().empty();
  if (ctx.json()) {
    ctx.PrintJson(resp);
  } else {
    std::vector<gs1::Element> elements;
    for (const v1::UdiElement& e : resp.elements()) {
      elements.push_back({e.ai(), e.title(), e.value()});
    }
    ctx.out() << gs1::FormatText(elements) << "\n";
    if (known) {
      PrintLot(ctx.out(), resp.lot());
    } else {
      ctx.out() << "lot  unknown: no lot "
                << MakeLotId(resp.gtin(), resp.lot_number()) << "\n";
    }
    for (const std::string& m : resp.mismatches()) {
      ctx.out() << "mismatch: " << m << "\n";
    }
  }
  if (!known) {
    ctx.err() << "error: scan rejected: no lot "
              << MakeLotId(resp.gtin(), resp.lot_number()) << "\n";
    return kExitRefused;
  }
  if (!resp.mismatches().empty()) {
    ctx.err() << "error: scan rejected: " << resp.mismatches_size()
              << (resp.mismatches_size() == 1 ? " mismatch" : " mismatches")
              << " with master data\n";
    return kExitRefused;
  }
  return kExitOk;
}

}  // namespace lotledger::lotctl
