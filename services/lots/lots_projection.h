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
//
// Thread-safety: ApplyLotsEvent runs on the projector thread; LotsQueries
// methods are safe from any thread.
#ifndef LOTLEDGER_SERVICES_LOTS_LOTS_PROJECTION_H_
#define LOTLEDGER_SERVICES_LOTS_LOTS_PROJECTION_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/eventlog/event_log.h"
#include "libs/projection/projection_store.h"
#include "lotledger/v1/domain.pb.h"
#include "lotledger/v1/events.pb.h"
#include "lotledger/v1/lots.pb.h"

namespace lotledger::lots {

std::vector<std::string> LotsColumnFamilies();

absl::Status ApplyLotsEvent(const eventlog::Record& record,
                            const v1::Event& event,
                            projection::ProjectionStore::Batch& batch);

class LotsQueries {
 public:
  explicit LotsQueries(const projection::ProjectionStore* store)
      : store_(store) {}

  absl::StatusOr<std::optional<v1::Lot>> FindLot(std::string_view lot_id) const;
  absl::StatusOr<std::optional<v1::Product>> FindProduct(
      std::string_view item) const;
  // What the quality and recall topics say of a lot (absent: nothing).
  absl::StatusOr<std::optional<v1::LotStanding>> FindStanding(
      std::string_view lot_id) const;
  absl::StatusOr<std::optional<v1::RecallStanding>> FindRecall(
      std::string_view recall_id) const;
  // How many lots of `item` were created.
  absl::StatusOr<int64_t> CountLotsOfItem(std::string_view item) const;
  // NotFound with the id when absent.
  absl::StatusOr<v1::Lot> GetLot(std::string_view lot_id) const;
  absl::StatusOr<v1::Product> GetProduct(std::string_view item) const;
  absl::StatusOr<v1::ListLotsResponse> ListLots(
      const v1::ListLotsRequest& request) const;
  absl::StatusOr<v1::TraceResponse> Trace(
      const v1::TraceRequest& request) const;

 private:
  // Appends the lots made from `lot_id` (forward edges), sorted.
  absl::Status UsedIn(
      std::string_view lot_id,
      google::protobuf::RepeatedPtrField<std::string>& out) const;

  const projection::ProjectionStore* store_;
};

}  // namespace lotledger::lots

#endif  // LOTLEDGER_SERVICES_LOTS_LOTS_PROJECTION_H_
