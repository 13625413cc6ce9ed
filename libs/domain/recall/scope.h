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
// dates), or both; no empty lot id. InvalidArgument names `field`.
absl::Status ValidateCriteria(const v1::RecallCriteria& criteria,
                              std::string_view field);

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
