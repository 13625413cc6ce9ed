#include "tools/lotctl/kpi_values.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "lotledger/v1/inventory.grpc.pb.h"
#include "tools/lotctl/cli.h"
#include "tools/lotctl/commands_inventory.h"
#include "tools/lotctl/context.h"
#include "tools/lotctl/flags.h"
#include "tools/lotctl/values.h"

namespace lotledger::lotctl {
namespace {

using inventory_cli::ScrapReasonName;

// "1,234,567".
std::string Grouped(uint64_t n) {
  std::string digits = absl::StrCat(n);
  std::string out;
  const int first = static_cast<int>(digits.size()) % 3;
  for (int i = 0; i < static_cast<int>(digits.size()); ++i) {
    if (i > 0 && (i - first) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

std::string Percent(double share) {
  return absl::StrFormat("%.1f %%", 100.0 * share);
}

}  // namespace

std::string MoneyText(const v1::Money& money) {
  if (money.currency().empty()) return "-";
  const int64_t micros = money.micros();
  const uint64_t abs = micros < 0 ? 0 - static_cast<uint64_t>(micros)
                                  : static_cast<uint64_t>(micros);
  std::string fraction = absl::StrFormat("%06d", abs % 1000000);
  while (fraction.size() > 2 && fraction.back() == '0') fraction.pop_back();
  return absl::StrCat(money.currency(), " ", micros < 0 ? "-" : "",
                      Grouped(abs / 1000000), ".", fraction);
}

absl::StatusOr<v1::Money> ParseMoneyText(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", std::string(text), "\": ", std::string(why),
                     "; expected e.g. \"EUR 12.50\""));
  };
  const size_t space = text.find(' ');
  if (space != 3) return bad("a currency code of three letters first");
  v1::Money money;
  for (char c : text.substr(0, 3)) {
    if (c < 'A' || c > 'Z')
      return bad("the currency is three upper-case letters");
    money.mutable_currency()->push_back(c);
  }
  std::string_view amount = text.substr(4);
  uint64_t whole = 0, fraction = 0;
  int decimals = -1;  // -1: before the point
  bool digits = false;
  for (char c : amount) {
    if (c == ',' && decimals < 0) continue;
    if (c == '.' && decimals < 0) {
      decimals = 0;
      continue;
    }
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return bad("the amount is digits with an optional decimal point");
    }
    digits = true;
    if (decimals < 0) {
      whole = whole * 10 + static_cast<uint64_t>(c - '0');
      if (whole > 9'000'000'000'000ULL) return bad("the amount is too large");
    } else {
      if (++decimals > 6) return bad("at most six decimals");
      fraction = fraction * 10 + static_cast<uint64_t>(c - '0');
    }
  }
  if (!digits) return bad("an amount is required");
  for (int d = std::max(decimals, 0); d < 6; ++d) fraction *= 10;
  money.set_micros(static_cast<int64_t>(whole * 1'000'000 + fraction));
  return money;
}

void PrintValueKpis(std::ostream& out, const v1::GetKpisResponse& resp) {
  std::vector<std::vector<std::string>> items, months;
  for (const v1::ItemKpis& k : resp.items()) {
    if (k.unit_cost().currency().empty() &&
        k.received_value().currency().empty()) {
      continue;
    }
    std::vector<std::string> near;
    for (const v1::ThresholdValue& t : k.near_expiry_value()) {
      near.push_back(
          absl::StrCat("<=", t.threshold_days(), "d:", MoneyText(t.value())));
    }
    items.push_back(
        {k.item(), MoneyText(k.unit_cost()), absl::StrJoin(near, " "),
         MoneyText(k.expired_value()), MoneyText(k.received_value()),
         MoneyText(k.expired_written_off()), Percent(k.expiry_loss_rate())});
    for (const v1::MonthlyValue& m : k.written_off()) {
      months.push_back({m.month(), k.item(), ScrapReasonName(m.reason()),
                        MoneyText(m.value())});
    }
  }
  if (!items.empty()) {
    out << "\nvalues at standard unit cost\n";
    PrintTable(out,
               {"ITEM", "UNIT COST", "NEAR EXPIRY", "EXPIRED", "RECEIVED",
                "EXPIRED WRITTEN OFF", "EXPIRY LOSS"},
               items);
  }
  if (!months.empty()) {
    std::sort(months.begin(), months.end());
    out << "\nwritten off by month\n";
    PrintTable(out, {"MONTH", "ITEM", "REASON", "VALUE"}, months);
  }
  out << "\nlots expired in the period: " << resp.lots_expired()
      << ", alerted 90+ days before: " << resp.lots_alerted_90_days();
  if (resp.lots_expired() > 0) {
    out << " (" << Percent(resp.alerted_90_days_share()) << ")";
  }
  out << "\n";
  if (resp.recalls_size() > 0) {
    std::vector<std::vector<std::string>> recalls;
    for (const v1::RecallKpis& r : resp.recalls()) {
      std::vector<std::string> cost;
      for (const v1::Money& m : r.cost()) cost.push_back(MoneyText(m));
      recalls.push_back(
          {r.recall_id(), DateText(r.initiated_on()),
           absl::StrCat(r.units_in_scope()),
           cost.empty() ? "-" : absl::StrJoin(cost, " + "),
           r.has_effective_on() ? DateText(r.effective_on()) : "not yet",
           r.days_to_95() < 0 ? "-" : absl::StrCat(r.days_to_95())});
    }
    out << "\nrecalls initiated in the period\n";
    PrintTable(
        out,
        {"RECALL", "INITIATED", "UNITS", "COST", "95 % ON", "DAYS TO 95 %"},
        recalls);
  }
}

namespace inventory_cli {

int SetCost(Context& ctx, ParsedArgs& args) {
  const std::string cmd = "inventory set-cost";
  absl::StatusOr<Flags> flags =
      TakeCommandFlags(args,
                       {{"cost", FlagKind::kValue},
                        {"from", FlagKind::kValue},
                        {"reason", FlagKind::kValue},
                        {"request-id", FlagKind::kValue}},
                       cmd, 1,
                       "inventory set-cost ITEM --cost=\"EUR 12.50\" "
                       "--from=YYYY-MM-DD --reason=TEXT");
  if (!flags.ok()) return ctx.Usage(flags.status());
  v1::SetUnitCostRequest req;
  req.set_request_id(ctx.RequestId(*flags));
  req.set_item(args.positional[0]);
  absl::StatusOr<v1::Money> cost =
      ParseMoneyText(flags->Get("cost").value_or(""));
  if (!cost.ok()) {
    return ctx.Usage(absl::InvalidArgumentError(
        absl::StrCat("--cost: ", cost.status().message())));
  }
  *req.mutable_unit_cost() = *cost;
  absl::StatusOr<v1::Date> from =
      ParseDateText(flags->Get("from").value_or(""));
  if (!from.ok()) {
    return ctx.Usage(absl::InvalidArgumentError(
        absl::StrCat("--from: ", from.status().message())));
  }
  *req.mutable_effective_from() = *from;
  req.set_reason(flags->Get("reason").value_or(""));
  auto stub = v1::InventoryService::NewStub(ctx.channel());
  v1::SetUnitCostResponse resp;
  grpc::Status s = stub->SetUnitCost(ctx.Call().get(), req, &resp);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.json()) {
    ctx.PrintJson(resp);
    return kExitOk;
  }
  ctx.out() << req.item() << " costs " << MoneyText(req.unit_cost()) << " from "
            << DateText(req.effective_from())
            << (resp.changed() ? "" : " (already so; nothing written)") << "\n";
  return kExitOk;
}

}  // namespace inventory_cli
}  // namespace lotledger::lotctl
