// RecallIndex: what a recall's scope and impact read, in memory, so a
// 16,000-lot walk and its impact touch no RocksDB key, parse no protobuf and
// hash no string. RocksDB (the rc_lots and rc_customers families of
// recall_projection.h) stays the durable truth; the index is a cache of it,
// loaded at start and kept current by the projector.
//
// Layout. Lot ids are interned to dense uint32 ids (their bytes back to
// back in one arena, a hash set of dense ids looked up by the bytes), as in
// the lots service's genealogy index (services/lots/genealogy_index.h). Per
// lot, in flat arrays: flags (created), item and unit (interned), the lot
// number when it is not the id's tail after "item:", manufacture and expiry
// dates, and the forward edges (the lots made from it: one inline, or a
// vector sorted by id bytes, as RecallLotNode.used_in). A lot that was ever
// stocked or shipped has a distribution summary in a side table (32 bytes):
// its own stock on hand, its holdings {customer (interned), shipped,
// returned, last shipped on} sorted by customer id and its stock {location
// (interned), amount} sorted by location id, the two back to back in one
// heap block. A holding takes 12 bytes (the date in 16 bits for 1970-2097,
// shipped in 32 bits, returned in 16) unless one of the lot's values does
// not fit; such a lot keeps 32-byte holdings in a side table. A location's
// stock takes 12 bytes. Customers are interned with their Customer as on their
// latest shipment. Per item, its created lots (the date-range scope filters
// them).
//
// Memory (stats().bytes, capacities included, allocator headers not; the
// recall_drill bench prints it as recall_index_load): 110.6 MiB for the
// bench's 10^6-lot genealogy (five levels, two inputs per lot above raw
// material, ids like "SUB-VALVE:L2-0012345", 1.6 * 10^6 forward edges)
// with its 16,000-lot recall tree, 10,000 lots shipped to 2,000 customers:
// 116 bytes per lot (measured with 32-byte holdings in pools; the layout
// now takes 32 bytes more per distributed lot and 16 less per holding).
// Per lot 49 bytes of arrays, its id's bytes and ~10 of hash set; 4 per
// forward edge plus a vector (24 bytes and its heap block) for a lot used
// in two or more lots; per distributed lot 64 bytes, 16 per customer
// holding and 16 per location (now 32 bytes and one heap block, 12 per
// holding and 12 per location). A lot's block that must grow is replaced by
// one of exactly the new size and the old one freed, so the blocks hold
// what is live whether folded one event at a time or loaded (a range of a
// shared pool moved to the pool's end at twice the size instead, leaving
// garbage: the replay below peaked at 1,449-1,790 MiB RSS). The generated
// year of 10^7 events (tools/bench gen, shipments to 2,000 hospitals one
// line at a time), loaded from its projection: 532,406 lots (380,290
// distributed) with 1,292,125 forward edges and 7,545,040 holdings take
// 242.4 MB, 455 bytes per lot: 16 per holding (120.7 MB), the other 122 MB
// are 229 bytes per lot. Its replay peaked at 916 MiB RSS, 398 MiB of it
// the process's own (958 MiB with the pools), the rest mmap'd table pages.
// With 12-byte holdings and 32-byte distributions the same year folded by
// the all-in-one replay measured 194.0 MB (capacities included).
// Growing vectors double, so up to about half of the rest can be headroom.
// Ids may total at most 4 GiB (Observe fails past that).
//
// Kept current. The recall service's apply function is IndexedRecallApply
// (recall_projection.h): ApplyRecallEvent into the batch, handing this index
// every lot node the event left in the batch (NodeLotIds). Facts and
// distribution are taken from those nodes whole (the node as the batch
// holds it, not a delta), forward edges are a union. Every projector given
// that function feeds the same index: the live one and an online
// rebuild's (rebuild.h). So Observe folds a record only if no record of its
// partition at or after its offset was folded before: the rebuild's replay
// (whose nodes are older than the live ones) changes nothing, each fact is
// folded once, and after the switch the live projector continues from where
// the rebuild stopped. A fact is folded as it is applied into the
// projector's batch, before the batch commits: a scope may see it some
// milliseconds before a store read does, never the other way round.
//
// Loading. Load(store) scans rc_lots and rc_customers holding the index's
// writer lock, so the projector waits in Observe meanwhile and every fact
// committed before the scan began was folded before or is scanned; a lot or
// customer folded since the index was made keeps its folded (newer, whole)
// values, forward edges are a union. 10^6 lots load in 1.9-2.7 s on the
// 2-core bench machine with other builds running (a RocksDB scan and a
// protobuf parse per lot). Until Load returns, loaded() is false and the
// service reads RocksDB.
//
// Answers. ScopeAndImpact and Impact answer exactly as ComputeScope (with
// LotsMadeInRange) and ComputeImpact (with AffectedCustomerIds and
// Customers) over the store do: the same lots, fields, order and refusal
// text; the tests compare the two. A view of an impact (AnalyzeImpact's
// SUMMARY, LOTS, CUSTOMERS, pages) equals SliceImpact of the full one.
//
// Thread-safety: Observe is called by projectors (serialized here); Load
// once, from any thread; queries and stats from any thread at once. Readers
// share an absl::Mutex that Observe takes exclusively per event, so a
// reader sees an event wholly or not at all.
#ifndef LOTLEDGER_SERVICES_RECALL_RECALL_INDEX_H_
#define LOTLEDGER_SERVICES_RECALL_RECALL_INDEX_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "libs/common/dense_ids.h"
#include "libs/domain/recall/impact.h"
#include "libs/domain/recall/scope.h"
#include "libs/eventlog/event_log.h"
#include "libs/eventlog/fold_once.h"
#include "libs/projection/projection_store.h"
#include "lotledger/v1/events.pb.h"
#include "lotledger/v1/recall.pb.h"
#include "lotledger/v1/recall_domain.pb.h"

namespace lotledger::recall {

// A recorded scope as stored, not parsed: each row's ScopedLot wire bytes
// and its lot id, views into the stored values it holds (so neither
// copyable nor movable). RecallQueries::ReadScope fills it from the
// projection (the recall's scope, then its pending lots, as GetRecall);
// Assign from a parsed scope. The recorded scope of a 16,000-lot recall is
// 1.6 MB: parsing it is ~130,000 objects, scanning it none.
struct StoredScope {
  StoredScope() = default;
  StoredScope(const StoredScope&) = delete;
  StoredScope& operator=(const StoredScope&) = delete;

  // Serializes `scope` into `values` and points the rows at it.
  void Assign(const ScopeList& scope);
  // The rows of the length-delimited field `field` of the message in
  // values[i] (its lot ids from field 1 of each row) appended; false when
  // the bytes are not such a message.
  bool AddRows(size_t i, int field);
  // Row i parsed.
  bool Parse(size_t i, v1::ScopedLot* out) const;

  std::vector<std::string> values;  // reserve before adding (views)
  std::vector<std::string_view> rows;
  std::vector<std::string_view> lot_ids;
};

class RecallIndex {
 public:
  // A lot node as ApplyRecallEvent left it in the batch for one event.
  using ChangedNode = std::pair<std::string, v1::RecallLotNode>;

  RecallIndex();
  RecallIndex(const RecallIndex&) = delete;
  RecallIndex& operator=(const RecallIndex&) = delete;

  // Folds `event`, whose nodes ApplyRecallEvent left as `nodes` (the lots
  // of NodeLotIds, in that order): each node's facts and distribution, the
  // forward edge a LotCreated adds to each input, the customer of a
  // StockShipped. Records at or below a position already folded change
  // nothing. Call after ApplyRecallEvent succeeded for the same event.
  absl::Status Observe(const eventlog::Record& record, const v1::Event& event,
                       std::span<const ChangedNode> nodes);

  // Reads rc_lots and rc_customers into the index (see the header
  // comment), then serves. Once loaded, a second call does nothing.
  absl::Status Load(const projection::ProjectionStore& store);
  bool loaded() const { return loaded_.load(std::memory_order_acquire); }

  // The scope of `criteria` (validated by the caller) into `scope` and its
  // impact into `impact` (both cleared first), as the store path computes
  // them; FailedPrecondition naming a listed lot that is not known. When
  // both are on the same arena the impact's lots are the scope's rows
  // themselves (LotImpact.lot points at them): change neither in place
  // afterwards (copying, serializing and clearing are fine).
  absl::Status ScopeAndImpact(const v1::RecallCriteria& criteria,
                              ScopeList* scope, v1::RecallImpact* impact) const;
  // The impact now of a recorded scope, into `impact` (cleared first).
  void Impact(const ScopeList& scope, v1::RecallImpact* impact) const;
  // The page `slice` of that impact (impact.h: SliceImpact of the full one,
  // field for field) and where the next page starts. Builds only what the
  // view holds: the totals and per-customer sums come from flat arrays
  // over the holdings; SUMMARY builds no lot row and no customer line,
  // LOTS only the page's rows, CUSTOMERS only the page's customers' lines.
  void Impact(const StoredScope& scope, const ImpactSlice& slice,
              v1::RecallImpact* impact, ImpactNext* next) const;

  // Whether a lot of `scope` is a lot of one of `items` (e.g. the products
  // tracked by serial, whose impact needs the projection's serial detail):
  // a lookup per lot, nothing parsed.
  bool AnyOfItems(const StoredScope& scope,
                  const std::vector<std::string>& items) const;

  struct Stats {
    size_t lots = 0;  // interned: created or only referenced
    size_t forward_edges = 0;
    size_t distributed_lots = 0;  // with a distribution summary
    size_t holdings = 0;          // customer x lot lines
    size_t customers = 0;
    size_t bytes = 0;  // heap held by the index's containers
  };
  Stats stats() const;

 private:
  static constexpr uint8_t kCreated = 1;
  static constexpr uint8_t kNumberFromId = 2;  // "item:number" == id
  static constexpr uint8_t kFolded = 4;        // facts came from Observe
  static constexpr uint8_t kOneParent = 8;     // fwd_ holds the parent
  static constexpr uint8_t kManyParents = 16;  // fwd_ indexes fwd_many_
  static constexpr uint32_t kNone = 0xffffffffu;

  struct Date {
    int32_t year = 0, month = 0, day = 0;
  };
  // A customer's holding of a lot, as the queries read it.
  struct Holding {
    uint32_t customer;
    Date last_shipped_on;
    int64_t shipped;
    int64_t returned;
  };
  // The same in 12 bytes, as a lot keeps it when every value fits: the
  // date in 16 bits (PackDate), shipped in 32 and returned in 16. A lot
  // with any holding that does not fit keeps all of its holdings as
  // Holding in wide_ instead.
  struct PackedHolding {
    uint32_t customer;
    int32_t shipped;
    uint16_t last_shipped_on;
    int16_t returned;
  };
  static_assert(sizeof(PackedHolding) == 12);
  // A date in 16 bits: (year - 1970) << 9 | month << 5 | day for the
  // calendar days of 1970-2097, 0 for the unset date {0, 0, 0} (no real
  // date has month 0); false for any other date (it does not pack).
  static bool PackDate(const Date& date, uint16_t* packed);
  static Date UnpackDate(uint16_t packed);
  struct Stock {
    uint32_t location;
    int64_t amount;
  };
  // A lot's distribution in 32 bytes: its packed holdings (sorted by
  // customer id) then its stock (sorted by location id, 12 bytes each:
  // location, amount's low and high words), back to back in one heap
  // block of exactly their size, replaced (the old one freed: no garbage
  // left behind) when either count changes. Read through PackedAt and
  // StockAt.
  struct Distribution {
    std::unique_ptr<uint32_t[]> words;  // 3 per holding, then 3 per stock
    int64_t on_hand = 0;
    uint32_t holdings = 0;  // packed ones; 0 when wide != kNone
    uint32_t stock = 0;
    uint32_t wide = kNone;  // index into wide_, or kNone
  };
  static_assert(sizeof(Distribution) == 32);
  static constexpr uint32_t kWords = 3;  // per holding, per stock
  static_assert(sizeof(PackedHolding) == kWords * sizeof(uint32_t));
  static PackedHolding PackedAt(const Distribution& d, uint32_t i);
  static Stock StockAt(const Distribution& d, uint32_t i);
  // Interned strings (items, units, customers, locations): 0 is "".
  struct Names {
    std::vector<std::string> names{""};
    absl::flat_hash_map<std::string, uint32_t> ids{{"", 0}};
    uint32_t Intern(std::string_view name);
    int64_t Find(std::string_view name) const;  // -1 when unknown
    size_t Bytes() const;
  };

  std::string_view IdOf(uint32_t lot) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  std::string_view LotNumberOf(uint32_t lot) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  std::span<const uint32_t> ParentsOf(uint32_t lot) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // A lot's holdings: how many, and the i-th (by customer id) unpacked.
  uint32_t HoldingCount(const Distribution& d) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  Holding HoldingAt(const Distribution& d, uint32_t i) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  int64_t Find(std::string_view lot_id) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // The created lots of `item` made in [from, to] in rc_made's key order.
  std::vector<uint32_t> MadeInRange(const std::string& item,
                                    const v1::Date& from,
                                    const v1::Date& to) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Fills a fresh scope row from the lot's facts.
  void Scoped(uint32_t lot, v1::ScopeReason reason, std::string_view via,
              int depth, v1::ScopedLot* s) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // The impact of `scope`, whose row i is lot `lots[i]` (-1: not known);
  // `share_rows`: its lots point at the scope's rows (same arena) instead
  // of copies.
  void ImpactLocked(const ScopeList& scope, const std::vector<int64_t>& lots,
                    bool share_rows, v1::RecallImpact* out) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // The same cut to `slice` (a view other than FULL).
  void SliceLocked(const StoredScope& scope, const std::vector<int64_t>& lots,
                   const ImpactSlice& slice, v1::RecallImpact* out,
                   ImpactNext* next) const ABSL_SHARED_LOCKS_REQUIRED(mu_);

  // Writers.
  absl::StatusOr<uint32_t> Intern(std::string_view lot_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The node's facts (created, item, number, dates, unit) and distribution.
  void SetNode(uint32_t lot, const v1::RecallLotNode& node)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SetItem(uint32_t lot, uint32_t item, bool created)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SetDistribution(uint32_t lot, const v1::RecallLotNode& node)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Adds `parent` to the lot's sorted forward edges unless there.
  void AddParent(uint32_t lot, uint32_t parent)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sets the customer `id` (rc_customers' key) to `customer`; its dense id.
  uint32_t SetCustomer(std::string_view id, const v1::Customer& customer)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Serializes Observe, and folds each log position once.
  eventlog::FoldOnce fold_once_;

  mutable absl::Mutex mu_;
  std::atomic<bool> loaded_ = false;
  // Lot ids and their dense ids (every per-lot array is indexed by them).
  DenseIds ids_ ABSL_GUARDED_BY(mu_);
  std::vector<uint8_t> flags_ ABSL_GUARDED_BY(mu_);
  std::vector<uint32_t> item_ ABSL_GUARDED_BY(mu_);
  std::vector<uint32_t> uom_ ABSL_GUARDED_BY(mu_);
  std::vector<Date> made_ ABSL_GUARDED_BY(mu_);
  std::vector<Date> expires_ ABSL_GUARDED_BY(mu_);
  std::vector<uint32_t> fwd_ ABSL_GUARDED_BY(mu_);
  std::vector<std::vector<uint32_t>> fwd_many_ ABSL_GUARDED_BY(mu_);
  std::vector<uint32_t> dist_of_ ABSL_GUARDED_BY(mu_);  // kNone: none
  std::vector<Distribution> dists_ ABSL_GUARDED_BY(mu_);
  // The holdings of lots whose values do not all fit a PackedHolding.
  std::vector<std::vector<Holding>> wide_ ABSL_GUARDED_BY(mu_);
  std::vector<uint32_t> free_wide_ ABSL_GUARDED_BY(mu_);  // empty entries
  // SetDistribution's scratch: the node's holdings unpacked.
  std::vector<Holding> unpacked_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint32_t, std::string> odd_numbers_ ABSL_GUARDED_BY(mu_);
  Names items_ ABSL_GUARDED_BY(mu_);
  Names uoms_ ABSL_GUARDED_BY(mu_);
  Names locations_ ABSL_GUARDED_BY(mu_);
  Names customer_ids_ ABSL_GUARDED_BY(mu_);
  // By customer: as on its latest shipment (rc_customers), whether one was
  // seen, whether Observe set it.
  std::vector<v1::Customer> customers_ ABSL_GUARDED_BY(mu_);
  std::vector<uint8_t> customer_known_ ABSL_GUARDED_BY(mu_);
  std::vector<uint8_t> customer_folded_ ABSL_GUARDED_BY(mu_);
  // By item: its created lots, unordered.
  std::vector<std::vector<uint32_t>> lots_of_item_ ABSL_GUARDED_BY(mu_);
  size_t forward_edges_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace lotledger::recall

#endif  // LOTLEDGER_SERVICES_RECALL_RECALL_INDEX_H_
