// The inventory verbs that read: a lot's inventory, FEFO picking, stock
// lists, where a lot is, its movements, the near-expiry report, KPIs and the
// alert stream. See commands_inventory.h.
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
#include "libs/domain/serials/serials.h"
#include "tools/lotctl/commands_inventory.h"
#include "tools/lotctl/kpi_values.h"
#include "tools/lotctl/values.h"

namespace lotledger::lotctl::inventory_cli {
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
  absl::StatusOr<Flags> flags = TakeCommandFlags(
      args, specs, cmd, 0, "inventory fefo --item=ITEM --quantity=N ...");
  if (!flags.ok()) return ctx.Usage(flags.status());
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

namespace {

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

// --page-size and --page-token into `req`.
template <typename Req>
absl::Status PagingFlags(const Flags& flags, Req* req) {
  ASSIGN_OR_RETURN(int64_t n, IntFlag(flags, "page-size", 1, 1000));
  req->set_page_size(static_cast<int32_t>(n));
  req->set_page_token(flags.Get("page-token").value_or(""));
  return absl::OkStatus();
}

void MoreHint(Context& ctx, const std::string& token) {
  if (!token.empty()) {
    ctx.out() << "more with --page-token=" << token << " (or --all)\n";
  }
}

}  // namespace

int List(Context& ctx, ParsedArgs& args) {
  const std::string cmd = "inventory stock";
  absl::StatusOr<Flags> flags =
      TakeCommandFlags(args,
                       {{"lot", FlagKind::kValue},
                        {"location", FlagKind::kValue},
                        {"exclude-children", FlagKind::kSwitch},
                        {"item", FlagKind::kValue},
                        {"region", FlagKind::kValue},
                        {"page-size", FlagKind::kValue},
                        {"page-token", FlagKind::kValue},
                        {"all", FlagKind::kSwitch}},
                       cmd, 0,
                       "inventory stock [--lot=..] [--location=..] [--item=..] "
                       "[--region=..]");
  if (!flags.ok()) return ctx.Usage(flags.status());
  v1::ListStockRequest req;
  req.set_lot_id(flags->Get("lot").value_or(""));
  req.set_location_id(flags->Get("location").value_or(""));
  req.set_exclude_children(flags->Has("exclude-children"));
  req.set_item(flags->Get("item").value_or(""));
  req.set_region_id(flags->Get("region").value_or(""));
  if (auto s = PagingFlags(*flags, &req); !s.ok()) return ctx.Usage(s);
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

namespace {

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
    case v1::Event::kDeviceUsageReported:
      return absl::StrCat("used ", e.device_usage_reported().count(), " at ",
                          e.device_usage_reported().customer_id(), " on ",
                          DateText(e.device_usage_reported().used_on()),
                          e.device_usage_reported().site().empty() ? "" : " (",
                          e.device_usage_reported().site(),
                          e.device_usage_reported().site().empty() ? "" : ")");
    default:
      return "-";
  }
}

// " [SN0001..SN0003]" of a movement naming serials; "" otherwise.
std::string SerialsOf(const v1::Event& e) {
  const google::protobuf::RepeatedPtrField<v1::SerialRange>* serials = nullptr;
  switch (e.payload_case()) {
    case v1::Event::kStockReceived:
      serials = &e.stock_received().serials();
      break;
    case v1::Event::kStockTransferred:
      serials = &e.stock_transferred().serials();
      break;
    case v1::Event::kStockShipped:
      serials = &e.stock_shipped().serials();
      break;
    case v1::Event::kStockReturned:
      serials = &e.stock_returned().serials();
      break;
    case v1::Event::kStockScrapped:
      serials = &e.stock_scrapped().serials();
      break;
    case v1::Event::kDeviceUsageReported:
      serials = &e.device_usage_reported().serials();
      break;
    default:
      break;
  }
  if (serials == nullptr || serials->empty()) return "";
  return absl::StrCat(" [", domain::FormatSerials(*serials), "]");
}

std::string PlaceName(v1::SerialPlace place) {
  switch (place) {
    case v1::SERIAL_PLACE_IN_STOCK:
      return "in stock";
    case v1::SERIAL_PLACE_AT_CUSTOMER:
      return "at customer";
    case v1::SERIAL_PLACE_USED:
      return "used";
    case v1::SERIAL_PLACE_SCRAPPED:
      return "scrapped";
    case v1::SERIAL_PLACE_MISSING:
      return "missing";
    default:
      return "never received";
  }
}

std::string TimeText(const google::protobuf::Timestamp& t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S",
                          absl::FromUnixSeconds(t.seconds()),
                          absl::UTCTimeZone());
}

}  // namespace

int Movements(Context& ctx, ParsedArgs& args) {
  const std::string cmd = "inventory movements";
  absl::StatusOr<Flags> flags =
      TakeCommandFlags(args,
                       {{"page-size", FlagKind::kValue},
                        {"page-token", FlagKind::kValue},
                        {"all", FlagKind::kSwitch}},
                       cmd, 1, "inventory movements LOT_ID [--all]");
  if (!flags.ok()) return ctx.Usage(flags.status());
  v1::ListMovementsRequest req;
  req.set_lot_id(args.positional[0]);
  if (auto s = PagingFlags(*flags, &req); !s.ok()) return ctx.Usage(s);
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
    rows.push_back(
        {TimeText(e.occurred_at()), e.actor(), EventWhat(e) + SerialsOf(e)});
  }
  PrintTable(ctx.out(), {"WHEN (UTC)", "ACTOR", "WHAT"}, rows);
  MoreHint(ctx, merged.next_page_token());
  return kExitOk;
}

int NearExpiry(Context& ctx, ParsedArgs& args) {
  const std::string cmd = "inventory near-expiry";
  absl::StatusOr<Flags> flags = TakeCommandFlags(
      args,
      {{"within-days", FlagKind::kValue},
       {"expired", FlagKind::kSwitch},
       {"item", FlagKind::kValue},
       {"region", FlagKind::kValue},
       {"location", FlagKind::kValue},
       {"page-size", FlagKind::kValue},
       {"page-token", FlagKind::kValue},
       {"all", FlagKind::kSwitch}},
      cmd, 0, "inventory near-expiry [--within-days=N] [--expired]");
  if (!flags.ok()) return ctx.Usage(flags.status());
  v1::NearExpiryReportRequest req;
  absl::StatusOr<int64_t> within = IntFlag(*flags, "within-days", 1, 100000);
  if (!within.ok()) return ctx.Usage(within.status());
  req.set_within_days(static_cast<int32_t>(*within));
  req.set_expired_only(flags->Has("expired"));
  req.set_item(flags->Get("item").value_or(""));
  req.set_region_id(flags->Get("region").value_or(""));
  req.set_location_id(flags->Get("location").value_or(""));
  if (auto s = PagingFlags(*flags, &req); !s.ok()) return ctx.Usage(s);
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
      TakeCommandFlags(args,
                       {{"item", FlagKind::kValue},
                        {"region", FlagKind::kValue},
                        {"period-days", FlagKind::kValue}},
                       cmd, 0, "inventory kpis [--item=..] [--region=..]");
  if (!flags.ok()) return ctx.Usage(flags.status());
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
  PrintValueKpis(ctx.out(), resp);
  return kExitOk;
}

int Alerts(Context& ctx, ParsedArgs& args) {
  const std::string cmd = "inventory alerts";
  absl::StatusOr<Flags> flags =
      TakeCommandFlags(args,
                       {{"item", FlagKind::kValue},
                        {"region", FlagKind::kValue},
                        {"resume-after", FlagKind::kValue},
                        {"limit", FlagKind::kValue}},
                       cmd, 0,
                       "inventory alerts [--resume-after=POSITION] "
                       "[--limit=N]");
  if (!flags.ok()) return ctx.Usage(flags.status());
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

int Serial(Context& ctx, ParsedArgs& args) {
  const std::string cmd = "inventory serial";
  absl::StatusOr<Flags> flags =
      TakeCommandFlags(args, {}, cmd, 2, "inventory serial ITEM SERIAL");
  if (!flags.ok()) return ctx.Usage(flags.status());
  v1::GetSerialStatusRequest req;
  req.set_item(args.positional[0]);
  req.set_serial(args.positional[1]);
  auto stub = v1::InventoryService::NewStub(ctx.channel());
  v1::GetSerialStatusResponse resp;
  grpc::Status s = stub->GetSerialStatus(ctx.Call().get(), req, &resp);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.json()) {
    ctx.PrintJson(resp);
    return kExitOk;
  }
  const v1::SerialStatus& st = resp.status();
  std::vector<std::pair<std::string, std::string>> fields = {
      {"serial", absl::StrCat(st.item(), " ", st.serial())},
      {"lot", st.lot_id()},
      {"place", PlaceName(st.place())}};
  if (!st.location_id().empty())
    fields.push_back({"location", st.location_id()});
  if (!st.customer_id().empty())
    fields.push_back({"customer", st.customer_id()});
  if (!st.shipment_id().empty())
    fields.push_back({"shipment", st.shipment_id()});
  if (st.place() == v1::SERIAL_PLACE_USED) {
    fields.push_back({"used on", DateText(st.used_on())});
    if (!st.used_site().empty()) fields.push_back({"site", st.used_site()});
  }
  PrintFields(ctx.out(), fields);
  std::vector<std::vector<std::string>> rows;
  for (const v1::Event& e : resp.movements()) {
    rows.push_back(
        {TimeText(e.has_occurred_at() ? e.occurred_at() : e.recorded_at()),
         e.actor(), EventWhat(e)});
  }
  if (!rows.empty()) {
    ctx.out() << "\n";
    PrintTable(ctx.out(), {"TIME", "ACTOR", "WHAT"}, rows);
  }
  return kExitOk;
}

}  // namespace lotledger::lotctl::inventory_cli
