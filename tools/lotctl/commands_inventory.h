// The inventory verbs of lotctl (`lotctl inventory SUBVERB`) and what they
// share: the value names, the quantity and customer flags, how a lot's
// inventory is printed. Internal to lotctl: commands_inventory.cc holds the
// shared helpers and the dispatcher (RunInventory in context.h),
// commands_inventory_stock.cc the verbs that write (locations and stock
// movements), commands_inventory_reports.cc the queries, reports and the
// alert stream. --json prints each response as protobuf JSON.
//
// Thread-safety: as Context; one command at a time.
#ifndef LOTLEDGER_TOOLS_LOTCTL_COMMANDS_INVENTORY_H_
#define LOTLEDGER_TOOLS_LOTCTL_COMMANDS_INVENTORY_H_

#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lotledger/v1/inventory.grpc.pb.h"
#include "tools/lotctl/context.h"
#include "tools/lotctl/flags.h"

namespace lotledger::lotctl::inventory_cli {

using Stub = v1::InventoryService::Stub;

// The values the enum flags accept, by the name people type.
extern const std::map<std::string, v1::LocationKind> kKinds;
extern const std::map<std::string, v1::ReceiptSource> kSources;
extern const std::map<std::string, v1::ReturnCondition> kConditions;
extern const std::map<std::string, v1::ScrapReason> kScrapReasons;

std::string KindName(v1::LocationKind k);
std::string ScrapReasonName(v1::ScrapReason r);
std::string DispositionName(v1::Disposition d);
// "40 EA" ("40" without a unit).
std::string Amount(int64_t n, const std::string& uom);

absl::Status Invalid(const std::string& message);

// --NAME=N (and --uom) as a quantity of `command`; `min` 0 for counts.
absl::StatusOr<v1::Quantity> QuantityFlag(const Flags& flags,
                                          const std::string& name,
                                          const std::string& command,
                                          int64_t min = 1);

// The flags naming a customer (--customer, --customer-name, ...,
// --min-shelf-life-days) and the Customer they give; --customer required
// when `required`.
const std::vector<FlagSpec>& CustomerSpecs();
absl::StatusOr<v1::Customer> CustomerFlags(const Flags& flags, bool required,
                                           const std::string& command);

// --serials (repeatable; each value one or more of "SN0001..SN0100" or
// "SN0042", separated by spaces or commas) into `out`; none is no error.
absl::Status SerialsFlag(
    const Flags& flags,
    google::protobuf::RepeatedPtrField<v1::SerialRange>* out);
// QuantityFlag, except that with serials an absent --NAME is the number of
// serials (the service counts them; amount 0).
absl::StatusOr<v1::Quantity> QuantityOrSerials(
    const Flags& flags, const std::string& name, const std::string& command,
    const google::protobuf::RepeatedPtrField<v1::SerialRange>& serials,
    int64_t min = 1);

// A lot's inventory: stock by location, totals, gating, alerts.
void PrintLot(std::ostream& out, const v1::LotInventory& lot);

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

// The verbs; each parses `args` (the words after the subverb).
// commands_inventory_stock.cc:
int LocationCreate(Context& ctx, ParsedArgs& args);
int Locations(Context& ctx, ParsedArgs& args);
int Receive(Context& ctx, ParsedArgs& args);
int Transfer(Context& ctx, ParsedArgs& args);
int Ship(Context& ctx, ParsedArgs& args);
int Return(Context& ctx, ParsedArgs& args);
int Scrap(Context& ctx, ParsedArgs& args);
int Adjust(Context& ctx, ParsedArgs& args);
// commands_inventory_reports.cc:
int Get(Context& ctx, ParsedArgs& args);
int Fefo(Context& ctx, ParsedArgs& args);
int List(Context& ctx, ParsedArgs& args);
int Where(Context& ctx, ParsedArgs& args);
int Movements(Context& ctx, ParsedArgs& args);
int NearExpiry(Context& ctx, ParsedArgs& args);
int Kpis(Context& ctx, ParsedArgs& args);
int Alerts(Context& ctx, ParsedArgs& args);
// Serials: a customer's usage report, where one serial is.
int Usage(Context& ctx, ParsedArgs& args);
int Serial(Context& ctx, ParsedArgs& args);

}  // namespace lotledger::lotctl::inventory_cli

#endif  // LOTLEDGER_TOOLS_LOTCTL_COMMANDS_INVENTORY_H_
