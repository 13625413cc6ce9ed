// The recall service's projection: how lots, inventory and recall events
// fold into RocksDB, and the reads the service makes from it.
//
// Column families:
//   rc_lots       lot id -> RecallLotNode: the lot's dates, forward
//                 genealogy edges (used_in) and distribution (stock by
//                 location, shipped/returned per customer) in one small,
//                 uncompressed value, so a scope walk reads one MultiGet
//                 per genealogy level and the impact needs no more reads.
//   rc_made       item \0 manufactured_on(YYYYMMDD) \0 lot id -> ""
//                 (date-range scope)
//   rc_customers  customer id -> Customer as on its latest shipment
//   recalls       recall id -> Recall (domain Evolve over the recall topic)
//   recall_index  recall id -> RecallSummary (listing without the scope)
//   drills        drill id -> the drill's first RecallDrillCompleted event
//   rc_scope_marks lot id -> LotScopeMarks: the recalls including derived
//                 lots whose scope includes the lot, recorded or pending
//   rc_pending    recall id -> PendingScope: lots made later from lots in
//                 the scope of an open recall that includes derived lots,
//                 not yet recorded by a RecallScopeExtended (docs/recall.md
//                 "Lots made later"); the service's reactor records them
//   rc_serial_items item -> "": the products tracked by serial (the
//                 latest ProductDefined of the lots topic says
//                 TRACKING_SERIAL)
//   rc_serials    item \0 serial -> lot id: the serial register
//                 (SerialsAssigned), so a recall by serial finds its lots
//   rc_serial_holdings lot id \0 customer id \0 serial -> SerialHolding:
//                 how often the serial was shipped to (StockShipped) and
//                 returned from (StockReturned) the customer, and whether
//                 the customer reported it used (DeviceUsageReported);
//                 held while shipped > returned
//   rc_serial_stock lot id \0 serial \0 location id -> count (decimal):
//                 the serial's movements into the location (received,
//                 transferred in, returned, found in a count) less those
//                 out of it (shipped, transferred out, scrapped, missing),
//                 a sum as RecallLotNode's stock, so independent of the
//                 order they are applied in; in own stock there while > 0
//
// Impact reads the serial families for the serialised lots of a scope only
// (SerialDetailOf): a recall of lots tracked by lot reads none of them.
//
// Scope and impact also read an in-memory copy of rc_lots and rc_customers
// (recall_index.h): the service's apply function is IndexedRecallApply,
// which hands the index each lot node an event leaves in the batch.
//
// Thread-safety: ApplyRecallEvent runs on the projector thread only;
// RecallQueries methods are const reads of the store, safe from any
// thread.
#ifndef LOTLEDGER_SERVICES_RECALL_RECALL_PROJECTION_H_
#define LOTLEDGER_SERVICES_RECALL_RECALL_PROJECTION_H_

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/domain/recall/impact.h"
#include "libs/domain/recall/scope.h"
#include "libs/eventlog/event_log.h"
#include "libs/projection/projection_store.h"
#include "lotledger/v1/events.pb.h"
#include "lotledger/v1/recall.pb.h"
#include "lotledger/v1/recall_domain.pb.h"
#include "services/recall/recall_index.h"

namespace lotledger::recall {

std::vector<std::string> RecallColumnFamilies();
// The families kept uncompressed (read by hopping from key to key).
std::set<std::string> RecallUncompressedColumnFamilies();

// Folds one event of any input topic into the batch. Deterministic, and
// independent of how the topics interleave: lot nodes combine facts of the
// lots and inventory topics in sorted, order-free fields.
absl::Status ApplyRecallEvent(const eventlog::Record& record,
                              const v1::Event& event,
                              projection::ProjectionStore::Batch& batch);

// The recall service's apply function (RecallServiceSpec): ApplyRecallEvent,
// then the lot nodes it left in the batch (and a shipment's customer) into
// `index` (RecallIndex::Observe says why a rebuild's replay folds nothing
// twice).
struct IndexedRecallApply {
  std::shared_ptr<RecallIndex> index;
  absl::Status operator()(const eventlog::Record& record,
                          const v1::Event& event,
                          projection::ProjectionStore::Batch& batch) const;
};

class RecallQueries {
 public:
  explicit RecallQueries(const projection::ProjectionStore* store)
      : store_(store) {}

  // The recall; `with_pending`: its scope also holds the lots made later
  // that must join it and are not recorded yet (after the recorded ones,
  // counted in lots_in_scope), as every query and notice shows it.
  absl::StatusOr<std::optional<v1::Recall>> FindRecall(
      std::string_view recall_id, bool with_pending = true) const;
  // NotFound naming the recall when absent (with the pending lots).
  absl::StatusOr<v1::Recall> GetRecall(std::string_view recall_id) const;
  // The same parsed onto `arena` (a 16,000-lot scope is ~130,000 small
  // objects), which must outlive it.
  absl::StatusOr<v1::Recall*> GetRecall(std::string_view recall_id,
                                        google::protobuf::Arena* arena) const;
  // The scope of the recall as GetRecall has it (recorded, then the lots
  // waiting to join), unparsed into `scope` (recall_index.h); NotFound
  // naming the recall when absent.
  absl::Status ReadScope(std::string_view recall_id, StoredScope* scope) const;
  // Every lot waiting to join a recall's scope, by recall id, then in the
  // order found, with the traceparent of the event that made it pending
  // (empty when none); fn returns false to stop.
  absl::Status ScanPending(
      const std::function<bool(const std::string& recall_id,
                               const v1::ScopedLot& lot,
                               const std::string& traceparent)>& fn) const;
  absl::StatusOr<v1::ListRecallsResponse> ListRecalls(
      const v1::ListRecallsRequest& request) const;
  absl::StatusOr<std::optional<v1::Event>> FindDrill(
      std::string_view drill_id) const;

  // Reads lot nodes in one MultiGet (the scope walk's fetch), parsed onto
  // `arena`, which must outlive their use.
  FetchNodes Fetcher(google::protobuf::Arena* arena) const;
  // Lots of `item` made in [from, to].
  absl::StatusOr<std::vector<std::string>> LotsMadeInRange(
      const std::string& item, const v1::Date& from, const v1::Date& to) const;
  // Names and regions of `ids`, in one MultiGet.
  absl::StatusOr<CustomerMap> Customers(
      const std::vector<std::string>& ids) const;

  // Recall by serial: whether `item` is tracked by serial, and the lot each
  // of `serials` (sorted) of `item` is assigned to ("" when none), in one
  // MultiGet.
  absl::StatusOr<bool> IsSerialised(const std::string& item) const;
  absl::StatusOr<std::vector<std::string>> LotsOfSerials(
      const std::string& item, const std::vector<std::string>& serials) const;
  // Whether any product is tracked by serial (one seek), and which are.
  absl::StatusOr<bool> AnySerialised() const;
  absl::StatusOr<std::vector<std::string>> SerialisedItems() const;
  // The serial holdings and stock of the lots of `scope` whose product is
  // tracked by serial (empty when none is), for ApplySerialDetail.
  absl::StatusOr<SerialDetail> SerialDetailOf(const ScopeList& scope) const;

  // Scope and impact read from RocksDB (a MultiGet of lot nodes per level of
  // the walk, then the affected customers): the answer while no index is
  // loaded, and the index's reference (RecallIndex answers the same).
  // `criteria` validated by the caller; scope and impact cleared first.
  absl::Status ScopeAndImpactFromStore(const v1::RecallCriteria& criteria,
                                       ScopeList* scope,
                                       v1::RecallImpact* impact) const;
  // The impact now of a recorded scope, from RocksDB.
  absl::Status ImpactFromStore(const ScopeList& scope,
                               v1::RecallImpact* impact) const;

 private:
  // Adds the lots waiting to join the recall's scope to `recall`.
  absl::Status AppendPending(std::string_view recall_id,
                             v1::Recall* recall) const;

  const projection::ProjectionStore* store_;
};

}  // namespace lotledger::recall

#endif  // LOTLEDGER_SERVICES_RECALL_RECALL_PROJECTION_H_
