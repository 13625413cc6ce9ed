// How lotctl reads and prints amounts of money, the value KPIs of `lotctl
// inventory kpis` (GetKpisResponse; docs/inventory.md "Value KPIs"), and
// `lotctl inventory set-cost`.
//
// Thread-safety: pure functions; safe to call concurrently.
#ifndef LOTLEDGER_TOOLS_LOTCTL_KPI_VALUES_H_
#define LOTLEDGER_TOOLS_LOTCTL_KPI_VALUES_H_

#include <ostream>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "lotledger/v1/common.pb.h"
#include "lotledger/v1/inventory.pb.h"
#include "tools/lotctl/context.h"

namespace lotledger::lotctl {

// "EUR 1,234.56": the currency, thousands separated by commas, two
// decimals, more (up to six) only when the amount has fractions of a
// cent ("EUR 0.0125"); "-" for an unset amount (no currency).
std::string MoneyText(const v1::Money& money);

// "EUR 12.50" (also "EUR 1,234.5", "USD 0.0125"): a currency of three
// upper-case letters, a space, an amount >= 0 with at most six decimals
// (commas between thousands allowed). InvalidArgument quoting the text.
absl::StatusOr<v1::Money> ParseMoneyText(std::string_view text);

// The value KPIs of `resp` after the quantity table: per item (unit cost,
// near-expiry value per threshold, expired value, received value,
// written off as expired, expiry loss rate), written off by month and
// reason, the share of expired lots alerted 90 days before, and per
// recall its units, cost and days to 95 %. Prints nothing for an item
// without a unit cost; a section without rows is left out.
void PrintValueKpis(std::ostream& out, const v1::GetKpisResponse& resp);

namespace inventory_cli {
// lotctl inventory set-cost ITEM --cost="EUR 12.50" --from=YYYY-MM-DD
//     --reason=TEXT: SetUnitCost (role admin).
int SetCost(Context& ctx, ParsedArgs& args);
}  // namespace inventory_cli

}  // namespace lotledger::lotctl

#endif  // LOTLEDGER_TOOLS_LOTCTL_KPI_VALUES_H_
