// GenealogyIndex: the lots service's genealogy in memory, so a trace walks
// arrays instead of reading RocksDB and parsing protobuf on every hop.
// RocksDB (the `genealogy`, `used_in` and `products` column families of
// lots_projection.h) stays the durable truth; the index is a cache of it,
// built at start and kept current by the projector.
//
// Layout. Lot ids are interned to dense uint32 ids: their bytes back to
// back in one arena, a hash set of dense ids looked up by the bytes. Per
// lot, in flat arrays: its item (interned), its expiry, flags (created,
// whether the lot number is the id's tail after "item:"), its backward
// edges (a range of a pool of {input, unit, amount}) and its forward edges
// (one parent inline, or a sorted vector of them). Lot numbers that are
// not the id's tail are kept in a side map.
//
// Memory (stats().bytes, capacities included; the lots_trace bench
// prints it as genealogy_index_load): 123 MiB for the bench genealogy of
// 10^6 lots (five levels, two inputs per lot above raw material, ids like
// "SUB-VALVE:L2-0012345"), 129 bytes per lot; 14.6 MiB at 10^5. It is
// linear in what it holds: per lot 33 bytes of arrays, its id's bytes and
// ~5-10 of hash set; 16 bytes per input line; 4 per forward edge, plus a
// vector (24 bytes and its heap block) for a lot used in two or more lots.
// Growing vectors double, so up to about half of it can be headroom. A
// rewritten input list that grows leaves its old range unused
// (redeliveries that differ only, which Decide never writes).
// Ids may total at most 4 GiB (Observe fails with ResourceExhausted past).
//
// Kept current. The lots service's apply function is IndexedLotsApply
// (lots_projection.h): ApplyLotsEvent into the batch, then Observe here.
// Every projector given that function feeds the same index: the live one
// and an online rebuild's (rebuild.h runs a second projector with the
// service's apply function, from offset 0). So Observe folds a record only
// if no record of its partition at or after its offset was folded before:
// the rebuild's replay of facts the live projector already folded changes
// nothing, each fact is folded once, and after the switch the live
// projector continues from exactly where the rebuild stopped (which is
// where the live projection was). Equal facts in the same order give the
// index the rebuilt projection would give: after a rebuild whose digests
// match (rebuild.h) the index equals one loaded from the rebuilt store. If
// the digests differ (the live projection had drifted from the log), the
// index still holds what the live one held; a restart reloads it.
//
// A fact is folded as it is applied into the projector's batch, before the
// batch commits: a trace may see a lot some milliseconds before GetLot
// does, never the other way round, and a consistency token waits for the
// commit either way. A batch that fails leaves its facts folded here; the
// projector then stops, so the index is only ahead by facts of the log.
//
// Loading. Load(store) scans the projection while the projector may run:
// it holds the writer lock for the scan (the projector waits meanwhile),
// so every fact committed by then was folded before; values a fact folded since
// the index was made (flags per lot and item) win over scanned ones, forward
// edges are a union. Loading takes 4.2 s per 10^6 lots (0.2 s per 10^5) on the
// 2-core bench machine while it was loaded by other builds (load average 2-5):
// RocksDB scans, a protobuf parse per node, interning. Until Load returns,
// loaded() is false and queries use the RocksDB walk.
//
// Trace answers exactly as LotsQueries::TraceFromStore does (the same
// nodes, edges, order, depth, truncation, kinds and NotFound text); the
// tests compare the two.
//
// Thread-safety: Observe is called by projectors (serialized here); Load
// once, from any thread; Trace, loaded and stats from any thread at once.
// Readers share an absl::Mutex, Observe takes it exclusively per event, so
// a reader sees an event wholly or not at all.
#ifndef LOTLEDGER_SERVICES_LOTS_GENEALOGY_INDEX_H_
#define LOTLEDGER_SERVICES_LOTS_GENEALOGY_INDEX_H_

#include <atomic>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "libs/common/dense_ids.h"
#include "libs/eventlog/event_log.h"
#include "libs/eventlog/fold_once.h"
#include "libs/projection/projection_store.h"
#include "lotledger/v1/events.pb.h"
#include "lotledger/v1/lots.pb.h"

namespace lotledger::lots {

class GenealogyIndex {
 public:
  GenealogyIndex();
  GenealogyIndex(const GenealogyIndex&) = delete;
  GenealogyIndex& operator=(const GenealogyIndex&) = delete;

  // Folds a LotCreated, LotCorrected or ProductDefined as ApplyLotsEvent
  // folds it into the genealogy, used_in and products families; other
  // events, and records at or below a position already folded, change
  // nothing. Call after ApplyLotsEvent succeeded for the same event.
  absl::Status Observe(const eventlog::Record& record, const v1::Event& event);

  // Reads the lots projection's genealogy, forward edges and product
  // kinds into the index (see the header comment), then serves. Once
  // loaded, a second call does nothing.
  absl::Status Load(const projection::ProjectionStore& store);
  bool loaded() const { return loaded_.load(std::memory_order_acquire); }

  // The trace of `lot_id` (request checked by the caller: max_depth
  // 1..64). NotFound "lot <id> does not exist" for a lot not created yet,
  // the traced one or one reached.
  absl::StatusOr<v1::TraceResponse> Trace(std::string_view lot_id,
                                          bool backward, int max_depth) const;

  struct Stats {
    size_t lots = 0;            // interned, created or only referenced
    size_t backward_edges = 0;  // live input lines
    size_t forward_edges = 0;
    size_t bytes = 0;  // heap held by the index's containers
  };
  Stats stats() const;

 private:
  // An input line: the input lot, the unit (interned) and the amount.
  struct InEdge {
    uint32_t child;
    uint32_t uom;
    int64_t amount;
  };
  struct Date {
    int32_t year = 0, month = 0, day = 0;
  };

  static constexpr uint8_t kCreated = 1;
  static constexpr uint8_t kNumberFromId = 2;  // "item:number" == id
  static constexpr uint8_t kFoldedNode = 4;    // a LotCreated was folded
  static constexpr uint8_t kFoldedExpiry = 8;  // a LotCorrected was folded
  static constexpr uint8_t kOneParent = 16;    // fwd_ holds the parent
  static constexpr uint8_t kManyParents = 32;  // fwd_ indexes fwd_many_

  std::string_view IdOf(uint32_t lot) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  std::string_view LotNumberOf(uint32_t lot) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  std::span<const InEdge> InputsOf(uint32_t lot) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  std::span<const uint32_t> ParentsOf(uint32_t lot) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // The dense id of `lot_id`, -1 when unknown.
  int64_t Find(std::string_view lot_id) const ABSL_SHARED_LOCKS_REQUIRED(mu_);

  // Writers.
  absl::StatusOr<uint32_t> Intern(std::string_view lot_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  uint32_t InternItem(std::string_view item) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  uint32_t InternUom(std::string_view uom) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Item, lot number, created and inputs of a node (not its expiry).
  absl::Status SetNode(
      uint32_t lot, std::string_view item, std::string_view lot_number,
      bool created,
      const google::protobuf::RepeatedPtrField<v1::LotInput>& inputs)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SetExpiry(uint32_t lot, const v1::Date& date)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Adds `parent` to the lot's sorted forward edges unless there.
  void AddParent(uint32_t lot, uint32_t parent)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Fold(const v1::Event& event) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Serializes Observe, and folds each log position once.
  eventlog::FoldOnce fold_once_;

  mutable absl::Mutex mu_;
  std::atomic<bool> loaded_ = false;
  // Lot ids and their dense ids (every per-lot array is indexed by them).
  DenseIds ids_ ABSL_GUARDED_BY(mu_);
  std::vector<uint32_t> item_ ABSL_GUARDED_BY(mu_);
  std::vector<Date> expiry_ ABSL_GUARDED_BY(mu_);
  std::vector<uint8_t> flags_ ABSL_GUARDED_BY(mu_);
  std::vector<uint32_t> in_start_ ABSL_GUARDED_BY(mu_);
  std::vector<uint32_t> in_count_ ABSL_GUARDED_BY(mu_);
  std::vector<InEdge> in_pool_ ABSL_GUARDED_BY(mu_);
  std::vector<uint32_t> fwd_ ABSL_GUARDED_BY(mu_);
  std::vector<std::vector<uint32_t>> fwd_many_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint32_t, std::string> odd_numbers_ ABSL_GUARDED_BY(mu_);
  // Items (0 is ""), their kinds, and whether a ProductDefined was folded.
  std::vector<std::string> items_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, uint32_t> item_ids_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::ItemKind> kinds_ ABSL_GUARDED_BY(mu_);
  std::vector<bool> kind_folded_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> uoms_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, uint32_t> uom_ids_ ABSL_GUARDED_BY(mu_);
  size_t forward_edges_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace lotledger::lots

#endif  // LOTLEDGER_SERVICES_LOTS_GENEALOGY_INDEX_H_
