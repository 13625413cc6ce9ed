// The inventory service's serials (issue 19): the column families that
// say which lot each serial belongs to and where each one is, how events
// fold into them, and the reads the service makes of them (the decision
// state of a command naming serials, GetSerialStatus).
//
// Column families (keys join parts with '\0'):
//   inv_serial_lots     item \0 serial -> lot id (the lots service's
//                       register, from SerialsAssigned on the lots topic)
//   inv_lot_serials     lot id \0 serial -> "" (the same register by lot:
//                       a count by serial loads every serial of its lot)
//   inv_serials         item \0 serial -> SerialStatus (where the serial
//                       is, folded by domain serial_places.h from the
//                       movements' serials; absent = never received)
//   inv_serial_recalls  lot id -> LotSerialRecalls (recalls by serial that
//                       reached the lot: those serials do not ship; the
//                       lot's row is not recalled by them)
// LotInventory rows carry no serials: a movement of n serials writes n
// small status rows, not a growing list. Every family is a pure function
// of the events applied in log order (each family is written from one
// topic), so a rebuild is byte-identical.
//
// Thread-safety: FoldSerials runs on the projector thread only;
// SerialQueries methods are const reads of the store, safe from any thread.
#ifndef LOTLEDGER_SERVICES_INVENTORY_INVENTORY_SERIALS_H_
#define LOTLEDGER_SERVICES_INVENTORY_INVENTORY_SERIALS_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "libs/projection/projection_store.h"
#include "lotledger/v1/events.pb.h"
#include "lotledger/v1/inventory.pb.h"
#include "lotledger/v1/inventory_domain.pb.h"
#include "services/inventory/inventory_projection.h"

namespace lotledger::inventory {

std::vector<std::string> SerialColumnFamilies();

// Folds SerialsAssigned, the serials of inventory movements and usage
// reports, and recalls by serial into the serial families. Other events
// write nothing.
absl::Status FoldSerials(const v1::Event& event,
                         projection::ProjectionStore::Batch& batch);

class SerialQueries {
 public:
  explicit SerialQueries(const projection::ProjectionStore* store);

  // Absent when the serial was never received.
  absl::StatusOr<std::optional<v1::SerialStatus>> FindSerial(
      std::string_view item, std::string_view serial) const;
  // The lot the register assigns the serial to; absent when none.
  absl::StatusOr<std::optional<std::string>> AssignedLot(
      std::string_view item, std::string_view serial) const;

  // The serials of the lot that may ship: in stock and not named by a
  // recall by serial of the lot; by location, each list sorted.
  absl::StatusOr<std::map<std::string, std::vector<std::string>>>
  ShippableSerials(const std::string& lot_id) const;

  // Fills in what Decide needs of serials for `cmd` (decider.h): the
  // status of every serial the command names, and for a receipt or a
  // count the lot the register assigns each to (the only commands whose
  // rules read it); every serial of the lot for a count; the lot's recalls
  // by serial for a shipment. Each family is read with one MultiGet.
  // Serials that do not expand are left for Decide to refuse.
  absl::Status LoadForCommand(const v1::InventoryCommand& cmd,
                              v1::InventoryDecisionState& state) const;

 private:
  absl::Status LoadSerials(const std::string& lot_id,
                           const std::vector<std::string>& serials,
                           bool with_register,
                           v1::InventoryDecisionState& state) const;
  const projection::ProjectionStore* store_;
};

// AllocateFefo of an item tracked by serial: Adjust leaves each candidate
// lot only the stock of its serials that may ship (recalled serials are
// not picked), and AssignSerials gives each line of the answer that many
// of them, lowest serials first at each location, so the lines ship as
// they are. One per allocation; not thread-safe.
class SerialFefo {
 public:
  explicit SerialFefo(const SerialQueries* serials) : serials_(serials) {}
  absl::Status Adjust(v1::LotInventory& lot);
  void AssignSerials(v1::AllocateFefoResponse& response) const;

 private:
  const SerialQueries* serials_;
  // lot id -> location -> shippable serials (sorted).
  std::map<std::string, std::map<std::string, std::vector<std::string>>>
      shippable_;
};

// True when an inventory event names `serial` (a movement of it, a usage
// report).
bool EventNamesSerial(const v1::Event& event, const std::string& serial);

// GetSerialStatus: where the serial is (a serial assigned to a lot and
// never received answers with its lot and SERIAL_PLACE_UNSPECIFIED) and
// its lot's events naming it, in log order. InvalidArgument without item
// or serial; NotFound naming both when the serial is neither assigned nor
// received.
absl::StatusOr<v1::GetSerialStatusResponse> GetSerialStatus(
    const SerialQueries& serials, const InventoryQueries& queries,
    const v1::GetSerialStatusRequest& req);

}  // namespace lotledger::inventory

#endif  // LOTLEDGER_SERVICES_INVENTORY_INVENTORY_SERIALS_H_
