// The inventory queries that read many lots at once: stock lists, where a
// lot went, the near-expiry report and the KPIs. Each reads the projection
// through InventoryQueries and answers the proto response; the service
// adds authorization and the consistency-token wait.
//
// Paged answers (ListStock, NearExpiryReport) are sorted by a row key;
// next_page_token is that key of the last row sent (web-safe base64), so a
// page continues after it even when stock moved in between.
//
// Thread-safety: pure functions over a thread-safe store; call from any
// thread.
#ifndef LOTLEDGER_SERVICES_INVENTORY_INVENTORY_REPORTS_H_
#define LOTLEDGER_SERVICES_INVENTORY_INVENTORY_REPORTS_H_

#include <functional>

#include "absl/status/statusor.h"
#include "lotledger/v1/common.pb.h"
#include "lotledger/v1/inventory.pb.h"
#include "services/inventory/inventory_projection.h"

namespace lotledger::inventory {

// Default and largest page size of paged queries.
inline constexpr int kDefaultPageSize = 100;
inline constexpr int kMaxPageSize = 1000;

// A request's page size: the default for 0, at most kMaxPageSize;
// InvalidArgument when negative.
absl::StatusOr<int> PageSize(int32_t requested);

// The FEFO pick list of inventory::AllocateFefo (fefo.h), read from the
// item's expiry-ordered stock index in small chunks and stopped as soon as
// the quantity is allocated: the cost grows with the lots picked (and
// skipped before them), not with the lots of the item. Should a lot change
// its expiry between the index read and the lot read, it falls back to
// sorting all the item's lots, so the answer is always that of
// inventory::AllocateFefo.
// `adjust_lot` (may be empty) rewrites each candidate lot before it is
// offered: the serial FEFO (inventory_serials.h) leaves only the stock of
// serials that may ship.
absl::StatusOr<v1::AllocateFefoResponse> AllocateFefoFromStock(
    const InventoryQueries& queries, const v1::AllocateFefoRequest& req,
    const v1::Date& today, const v1::CustomerRecord* registered = nullptr,
    const std::function<absl::Status(v1::LotInventory&)>& adjust_lot = {});

// InvalidArgument: at least one filter; NotFound for an unknown location
// or region.
absl::StatusOr<v1::ListStockResponse> ListStock(
    const InventoryQueries& queries, const v1::ListStockRequest& req);

// NotFound for a lot inventory never heard of.
absl::StatusOr<v1::TraceLotDistributionResponse> TraceLotDistribution(
    const InventoryQueries& queries, const std::string& lot_id);

// Days left are counted from `today` (the warehouse calendar).
absl::StatusOr<v1::NearExpiryReportResponse> NearExpiryReport(
    const InventoryQueries& queries, const v1::NearExpiryReportRequest& req,
    const v1::Date& today);

absl::StatusOr<v1::GetKpisResponse> GetKpis(const InventoryQueries& queries,
                                            const v1::GetKpisRequest& req,
                                            const v1::Date& today);

}  // namespace lotledger::inventory

#endif  // LOTLEDGER_SERVICES_INVENTORY_INVENTORY_REPORTS_H_
