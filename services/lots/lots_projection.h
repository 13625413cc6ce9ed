// The lots service's projection: how lots-topic events fold into RocksDB,
// and the queries served from it.
//
// Column families:
//   products      item -> Product
//   lots          lot id -> Lot (current view, corrections applied)
//   lots_by_item  item \0 expiry(YYYYMMDD) \0 lot id -> ""   (product -> lots)
//   lots_by_expiry expiry(YYYYMMDD) \0 lot id -> ""          (expiry window)
//   genealogy     lot id -> GenealogyNode: the Lot's item, number, expiry
//                 and inputs (backward edges with quantities), small so
//                 that a trace hop reads little.
//   used_in       input lot id \0 parent lot id -> "": forward edges. Kept
//                 apart from the Lot and its node (which the queries fill
//                 from here), so a lot made from a raw material does not
//                 rewrite a list that grows with every lot made from it.
//   lot_standing  lot id -> LotStanding: its quality disposition and the
//                 recalls whose scope includes it (quality and recall
//                 topics), for CreateLot's genealogy gate.
//   lot_recalls   recall id -> RecallStanding (open, reason, since).
//   serial_lots   item \0 serial -> lot id: the serial register
//                 (SerialsAssigned), one lot per serial of an item.
//   lot_serials   lot id \0 serial -> "": a lot's serials, in serial order.
//   serial_assignments  lot id \0 event id -> SerialsAssigned without its
//                 serials (count, lot_total): what an AssignSerials wrote,
//                 for the answer to a retried request id.
// A lot's serial count is Lot.serial_count (the last event's lot_total).
//
// The genealogy is also held in memory (genealogy_index.h): the service's
// apply function is IndexedLotsApply, which folds each event into the
// index after ApplyLotsEvent, and Trace answers from the index once it is
// loaded (TraceFromStore is the same walk over RocksDB).
//
// Thread-safety: ApplyLotsEvent runs on the projector thread; LotsQueries
// methods are safe from any thread.
#ifndef LOTLEDGER_SERVICES_LOTS_LOTS_PROJECTION_H_
#define LOTLEDGER_SERVICES_LOTS_LOTS_PROJECTION_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/eventlog/event_log.h"
#include "libs/projection/projection_store.h"
#include "lotledger/v1/domain.pb.h"
#include "lotledger/v1/events.pb.h"
#include "lotledger/v1/lots.pb.h"
#include "services/lots/genealogy_index.h"

namespace lotledger::lots {

std::vector<std::string> LotsColumnFamilies();

absl::Status ApplyLotsEvent(const eventlog::Record& record,
                            const v1::Event& event,
                            projection::ProjectionStore::Batch& batch);

// The lots service's apply function (LotsServiceSpec): ApplyLotsEvent, then
// the same event into `index` (GenealogyIndex::Observe says which events
// it folds and why a rebuild's replay folds nothing twice).
struct IndexedLotsApply {
  std::shared_ptr<GenealogyIndex> index;
  absl::Status operator()(const eventlog::Record& record,
                          const v1::Event& event,
                          projection::ProjectionStore::Batch& batch) const;
};

class LotsQueries {
 public:
  // With `index` loaded, Trace answers from it; without, from `store`.
  explicit LotsQueries(const projection::ProjectionStore* store,
                       const GenealogyIndex* index = nullptr)
      : store_(store), index_(index) {}

  absl::StatusOr<std::optional<v1::Lot>> FindLot(std::string_view lot_id) const;
  absl::StatusOr<std::optional<v1::Product>> FindProduct(
      std::string_view item) const;
  // What the quality and recall topics say of a lot (absent: nothing).
  absl::StatusOr<std::optional<v1::LotStanding>> FindStanding(
      std::string_view lot_id) const;
  absl::StatusOr<std::optional<v1::RecallStanding>> FindRecall(
      std::string_view recall_id) const;
  // The serial register: the lot `serial` of `item` belongs to (nullopt:
  // none); of `serials`, those with a lot, by serial; a lot's serials in
  // order; the counts of the assignment event `event_id` of a lot.
  absl::StatusOr<std::optional<std::string>> FindSerialLot(
      std::string_view item, std::string_view serial) const;
  absl::StatusOr<std::map<std::string, std::string>> SerialLots(
      std::string_view item, const std::vector<std::string>& serials) const;
  absl::StatusOr<std::vector<std::string>> LotSerials(
      std::string_view lot_id) const;
  absl::StatusOr<std::optional<v1::SerialsAssigned>> FindSerialAssignment(
      std::string_view lot_id, std::string_view event_id) const;
  // How many lots of `item` were created.
  absl::StatusOr<int64_t> CountLotsOfItem(std::string_view item) const;
  // NotFound with the id when absent.
  absl::StatusOr<v1::Lot> GetLot(std::string_view lot_id) const;
  absl::StatusOr<v1::Product> GetProduct(std::string_view item) const;
  absl::StatusOr<v1::ListLotsResponse> ListLots(
      const v1::ListLotsRequest& request) const;
  // The genealogy walk from request.lot_id, level by level: nodes in
  // breadth-first order with their depth, edges in the order the walk
  // meets them, `truncated` when max_depth (1..64, default 64) cut it.
  // InvalidArgument for a bad request; NotFound "lot <id> does not exist"
  // for the lot, or a lot reached, that was not created yet. With item
  // and serial instead of lot_id, the walk starts at the serial's lot
  // (one point read of serial_lots) and the answer names the serial;
  // NotFound "serial S of ITEM is not assigned to any lot".
  absl::StatusOr<v1::TraceResponse> Trace(
      const v1::TraceRequest& request) const;
  // The same answer read from RocksDB (MultiGets of genealogy nodes per
  // level, scans of used_in): the index's reference, and the answer while
  // no index is loaded.
  absl::StatusOr<v1::TraceResponse> TraceFromStore(
      const v1::TraceRequest& request) const;

 private:
  // `request` with lot_id set to the lot of its item and serial, when it
  // names them (and checks that it names a lot one way only).
  absl::StatusOr<v1::TraceRequest> TraceStart(
      const v1::TraceRequest& request) const;
  // Appends the lots made from `lot_id` (forward edges), sorted.
  absl::Status UsedIn(
      std::string_view lot_id,
      google::protobuf::RepeatedPtrField<std::string>& out) const;

  const projection::ProjectionStore* store_;
  const GenealogyIndex* index_;
};

}  // namespace lotledger::lots

#endif  // LOTLEDGER_SERVICES_LOTS_LOTS_PROJECTION_H_
