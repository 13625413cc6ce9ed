// Recall scope: which lots a recall (or a drill) covers and how each got
// there. Pure: the genealogy is read through a fetch function the caller
// supplies (the service reads its projection, tests a map), one call per
// level of the walk, so a level is one batched read.
//
// Thread-safety: pure functions; safe to call from any thread (the fetch
// function must be, if shared).
#ifndef LOTLEDGER_LIBS_DOMAIN_RECALL_SCOPE_H_
#define LOTLEDGER_LIBS_DOMAIN_RECALL_SCOPE_H_

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "lotledger/v1/events.pb.h"
#include "lotledger/v1/recall_domain.pb.h"

namespace lotledger::recall {

// An event lists at most this many lots; more are written in parts.
inline constexpr int kLotsPerPart = 1000;

// Lot id -> its node; the nodes are owned by whoever fetched them (the
// service parses them onto the arena of one request, so a 16,000-lot walk
// frees its memory at once).
using NodeMap = absl::flat_hash_map<std::string, const v1::RecallLotNode*>;
using ScopeList = google::protobuf::RepeatedPtrField<v1::ScopedLot>;

// Reads the nodes of `lot_ids`, in the same order, into `out` (nullptr
// when absent). The nodes must outlive the NodeMap they are put in.
using FetchNodes =
    std::function<absl::Status(const std::vector<std::string>& lot_ids,
                               std::vector<const v1::RecallLotNode*>* out)>;

// The shape of criteria: lot_ids, or item with made_from <= made_to (valid
// dates), or item with serials (valid ranges, not with made_from/made_to
// nor include_derived), or lot_ids with one of the two; no empty lot id.
// InvalidArgument names `field`.
absl::Status ValidateCriteria(const v1::RecallCriteria& criteria,
                              std::string_view field);

// Recall by serial (criteria.serials): the serials named, grouped by the
// lot each belongs to, lots in the order of their first serial.
struct SerialLots {
  std::vector<std::string> lot_ids;
  // By lot id: its serials in the criteria, sorted.
  absl::flat_hash_map<std::string, std::vector<std::string>> serials;
};

// Groups `serials` (ExpandSerials of criteria.serials) of `item` by lot:
// lot_of[i] is the lot serials[i] is assigned to ("" when none).
// FailedPrecondition "serial 4711 of X is not assigned to any lot" (the
// first few such serials) when any is not assigned.
absl::StatusOr<SerialLots> GroupSerialsByLot(
    std::string_view item, const std::vector<std::string>& serials,
    const std::vector<std::string>& lot_of);

// The criteria the lot walk (ComputeScope, RecallIndex::ScopeAndImpact)
// takes for serial criteria: lot_ids are the listed lots, then the
// serials' lots not listed; no item, serials nor dates.
v1::RecallCriteria LotCriteriaOf(const v1::RecallCriteria& criteria,
                                 const SerialLots& lots);

// After that walk: each row of `scope` that is in `lots` and not listed
// whole in criteria.lot_ids (a lot listed whole and by serial is whole)
// gets reason SCOPE_REASON_SERIAL_LISTED and serials = its serials in the
// criteria (CompressSerials).
void MarkSerialScope(const v1::RecallCriteria& criteria, const SerialLots& lots,
                     ScopeList* scope);

// A lot of a product with its manufacture date (from the service's index).
struct MadeLot {
  std::string lot_id;
  v1::Date manufactured_on;
};

// The lots of `lots` made in [from, to], in the order given.
std::vector<std::string> MadeInRange(const std::vector<MadeLot>& lots,
                                     const v1::Date& from, const v1::Date& to);

// The scope of `criteria`: the listed lots (in the order given, each once),
// then `in_range` (the product's lots made in the range, not already
// listed), then, with include_derived, every lot made from those through
// the genealogy's forward edges, level by level, each once, recording the
// lot it was reached through and its depth. Every node fetched is left in
// `nodes` (an impact needs them again). FailedPrecondition when a listed
// lot is unknown; the scope may be empty (the caller refuses).
absl::StatusOr<ScopeList> ComputeScope(const v1::RecallCriteria& criteria,
                                       const std::vector<std::string>& in_range,
                                       const FetchNodes& fetch, NodeMap* nodes);
// The same into `scope` (cleared first), e.g. a field of an arena message.
absl::Status ComputeScope(const v1::RecallCriteria& criteria,
                          const std::vector<std::string>& in_range,
                          const FetchNodes& fetch, NodeMap* nodes,
                          ScopeList* scope);

// The genealogy path of `lot_id` within `scope`: from the listed (or in
// range) lot down to it, e.g. ["RM:R1", "CMP:C4", "DEV:F9"].
std::vector<std::string> ScopePath(const ScopeList& scope,
                                   const std::string& lot_id);

}  // namespace lotledger::recall

#endif  // LOTLEDGER_LIBS_DOMAIN_RECALL_SCOPE_H_
