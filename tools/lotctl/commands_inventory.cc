// The shared helpers of the inventory verbs and `lotctl inventory`'s
// dispatcher (see commands_inventory.h).
#include "tools/lotctl/commands_inventory.h"

#include <functional>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/common/status_macros.h"
#include "libs/domain/serials/serials.h"
#include "tools/lotctl/commands_inventory_customers.h"
#include "tools/lotctl/kpi_values.h"
#include "tools/lotctl/values.h"

namespace lotledger::lotctl {
namespace inventory_cli {

absl::Status Invalid(const std::string& message) {
  return absl::InvalidArgumentError(message);
}

absl::StatusOr<v1::Quantity> QuantityFlag(const Flags& flags,
                                          const std::string& name,
                                          const std::string& command,
                                          int64_t min) {
  ASSIGN_OR_RETURN(std::string text, RequiredFlag(flags, name, command));
  ASSIGN_OR_RETURN(int64_t n,
                   ParseInt(text, "--" + name, min, INT64_C(1) << 53));
  v1::Quantity q;
  q.set_amount(n);
  q.set_uom(flags.Get("uom").value_or(""));
  return q;
}

absl::Status SerialsFlag(
    const Flags& flags,
    google::protobuf::RepeatedPtrField<v1::SerialRange>* out) {
  for (const std::string& value : flags.GetAll("serials")) {
    for (absl::string_view word :
         absl::StrSplit(value, absl::ByAnyChar(" ,\t"), absl::SkipEmpty())) {
      ASSIGN_OR_RETURN(*out->Add(),
                       domain::ParseSerialRangeText(word, "--serials"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Quantity> QuantityOrSerials(
    const Flags& flags, const std::string& name, const std::string& command,
    const google::protobuf::RepeatedPtrField<v1::SerialRange>& serials,
    int64_t min) {
  if (serials.empty() || flags.Get(name).has_value()) {
    return QuantityFlag(flags, name, command, min);
  }
  v1::Quantity q;
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

const std::vector<FlagSpec>& CustomerSpecs() {
  static const auto* specs =
      new std::vector<FlagSpec>{{"customer", FlagKind::kValue},
                                {"customer-name", FlagKind::kValue},
                                {"customer-address", FlagKind::kValue},
                                {"customer-region", FlagKind::kValue},
                                {"min-shelf-life-days", FlagKind::kValue}};
  return *specs;
}

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

}  // namespace inventory_cli

int RunInventory(Context& ctx, ParsedArgs& args) {
  using inventory_cli::Invalid;
  namespace cli = inventory_cli;
  if (args.positional.empty()) {
    return ctx.Usage(Invalid(
        "usage: lotctl inventory SUBVERB ... (see: lotctl help inventory)"));
  }
  const std::string sub = args.positional[0];
  args.positional.erase(args.positional.begin());
  static const auto* verbs =
      new std::map<std::string, std::function<int(Context&, ParsedArgs&)>>{
          {"location-create", cli::LocationCreate},
          {"locations", cli::Locations},
          {"receive", cli::Receive},
          {"transfer", cli::Transfer},
          {"ship", cli::Ship},
          {"return", cli::Return},
          {"scrap", cli::Scrap},
          {"adjust", cli::Adjust},
          {"get", cli::Get},
          {"fefo", cli::Fefo},
          {"stock", cli::List},
          {"where", cli::Where},
          {"movements", cli::Movements},
          {"near-expiry", cli::NearExpiry},
          {"kpis", cli::Kpis},
          {"set-cost", cli::SetCost},
          {"alerts", cli::Alerts},
          {"usage", cli::Usage},
          {"serial", cli::Serial},
          {"customer", cli::Customer},
          {"customers", cli::Customers}};
  auto it = verbs->find(sub);
  if (it == verbs->end()) {
    return ctx.Usage(Invalid(absl::StrCat("unknown inventory subverb '", sub,
                                          "' (see: lotctl help inventory)")));
  }
  return it->second(ctx, args);
}

}  // namespace lotledger::lotctl
