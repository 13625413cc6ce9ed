// Recall impact and effectiveness arithmetic, pure over the scope, the
// projection's lot nodes and the recall's own record.
//
// Impact: per lot in scope what was shipped to customers, returned, is
// still out there (outstanding = shipped - returned) and is in own stock
// (by location); per customer the lots and quantities; totals. A view
// of it (ImpactSlice) holds the totals and one list, or a page of it.
//
// Effectiveness, per (lot, customer): distributed = shipped; returned as
// the inventory service recorded it; destroyed as the customer reported
// it (all its responses added up); recovered = min(distributed, returned
// + destroyed); outstanding = distributed - recovered. Per lot, per
// customer and overall are sums of those; percent = 100 * recovered /
// distributed (100 when nothing was distributed). Returns from before the
// recall count as recovered: what matters is what is still in the field.
//
// Serialised lots (Product.tracking TRACKING_SERIAL): ApplySerialDetail
// refines an impact computed at lot level with what the recall projection
// keeps per serial. Every customer line of such a lot names the serials
// the customer holds (shipped more often than returned) and how many of
// them it reported used / not used; the lot row sums used / unused. For a
// lot in scope by serial (ScopedLot.serials not empty) only those serials
// count: shipped, returned, held and on hand (and own stock by location)
// are counted in serials of the scope, a customer that never received one
// of them has no line for the lot (nor is affected through it), and the
// totals are summed again from the rows. last_shipped_on stays the lot's.
//
// Thread-safety: pure functions; safe to call from any thread.
#ifndef LOTLEDGER_LIBS_DOMAIN_RECALL_IMPACT_H_
#define LOTLEDGER_LIBS_DOMAIN_RECALL_IMPACT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "google/protobuf/timestamp.pb.h"
#include "libs/domain/recall/scope.h"
#include "lotledger/v1/recall.pb.h"

namespace lotledger::recall {

using CustomerMap = std::unordered_map<std::string, v1::Customer>;

// Every customer that received a lot of `scope` (ids sorted, each once).
// `nodes` must hold every lot of the scope.
std::vector<std::string> AffectedCustomerIds(const ScopeList& scope,
                                             const NodeMap& nodes);

// The impact of `scope`. `customers` gives names and regions (a customer
// missing there is shown by id only). Lots missing from `nodes` count as
// never shipped or stocked.
v1::RecallImpact ComputeImpact(const ScopeList& scope, const NodeMap& nodes,
                               const CustomerMap& customers);
// The same into `out` (cleared first), so a caller can keep it on an arena.
void ComputeImpact(const ScopeList& scope, const NodeMap& nodes,
                   const CustomerMap& customers, v1::RecallImpact* out);

// One serial of a serialised lot as a customer holds it.
struct SerialHoldingRow {
  std::string customer_id;
  std::string serial;
  int64_t shipped = 0;
  int64_t returned = 0;
  bool used = false;
};
// One serial of a serialised lot in own stock.
struct SerialStockRow {
  std::string serial;
  std::string location_id;
};
// What the recall projection keeps per serial of one lot.
struct LotSerials {
  std::vector<SerialHoldingRow> holdings;  // by customer id, then serial
  std::vector<SerialStockRow> stock;       // by serial
};
// By lot id: the serialised lots of a scope (a lot absent here is one
// tracked by lot and keeps its lot-level impact).
using SerialDetail = absl::flat_hash_map<std::string, LotSerials>;

// Refines `impact` (ComputeImpact's, or the index's, over `scope`, rows in
// scope order) with `detail` as the header says. `customers` names a
// customer that gains a line it did not have (none does when detail and
// nodes agree). Does nothing when no lot of the scope is in `detail`.
void ApplySerialDetail(const ScopeList& scope, const SerialDetail& detail,
                       const CustomerMap& customers, v1::RecallImpact* impact);

// A view of an impact and its page (AnalyzeImpactRequest.view, page_size,
// page_token; recall.proto says what each view holds).
struct ImpactSlice {
  v1::ImpactView view = v1::IMPACT_VIEW_FULL;  // never UNSPECIFIED
  int64_t first_lot = 0;       // LOTS: the first scope row of the page
  std::string after_customer;  // SUMMARY, CUSTOMERS: ids sorting after it
  int64_t limit = 0;           // rows or customers per page; 0: no limit
};
// Where the next page starts; `more` is false on the last page.
struct ImpactNext {
  bool more = false;
  int64_t lot = 0;       // LOTS: the next scope row
  std::string customer;  // SUMMARY, CUSTOMERS: the page's last customer id
};

// The slice a request asks for; INVALID_ARGUMENT naming view, page_size or
// page_token (a token of another recall or view, or none of ours).
absl::StatusOr<ImpactSlice> ImpactSliceOf(const v1::AnalyzeImpactRequest& req);
// The next_page_token of a page of `recall_id` in `view` ("" when
// !next.more); opaque to clients, read back by ImpactSliceOf.
std::string ImpactPageToken(std::string_view recall_id, v1::ImpactView view,
                            const ImpactNext& next);
// The page of `slice` cut from a full impact (ComputeImpact's) into `out`
// (cleared first): the totals and on_hand_by_location always, then the
// view's list, customers without lines for SUMMARY.
void SliceImpact(const v1::RecallImpact& full, const ImpactSlice& slice,
                 v1::RecallImpact* out, ImpactNext* next);

// Effectiveness of `recall` given its impact now. A customer is unanswered
// when no response was recorded; it is listed in unanswered_customer_ids
// once `unanswered_after_days` whole days have passed since it was
// notified (or, never notified, since the recall was initiated).
v1::Effectiveness ComputeEffectiveness(const v1::Recall& recall,
                                       const v1::RecallImpact& impact,
                                       const google::protobuf::Timestamp& now,
                                       int unanswered_after_days);

// Affected customers without any recorded response, by id.
std::vector<std::string> UnansweredCustomers(const v1::Recall& recall,
                                             const v1::RecallImpact& impact);

}  // namespace lotledger::recall

#endif  // LOTLEDGER_LIBS_DOMAIN_RECALL_IMPACT_H_
