// Where each serial of a serialised product is, as the inventory topic's
// movements say: the pure fold behind the inventory projection's serial
// family and Evolve(InventoryDecisionState), and the words refusals use
// for a serial's place.
//
// Every movement event names its serials (canonical ranges); each one goes
// to one place:
//   StockReceived     -> IN_STOCK at location_id
//   StockTransferred  -> IN_STOCK at to_location_id
//   StockShipped      -> AT_CUSTOMER (customer id, shipment id)
//   StockReturned     -> IN_STOCK at to_location_id
//   StockScrapped     -> SCRAPPED (location_id: where it was scrapped)
//   StockAdjusted     -> serials_found IN_STOCK at location_id,
//                        serials_missing MISSING (location_id: where the
//                        count missed it)
//   DeviceUsageReported -> USED (customer kept, used_on, used_site)
// The item of a serial is the item of its lot id (libs/common/ids.h), not
// the lot's master data, so a rebuild in any topic interleaving folds the
// same bytes.
//
// Pure functions; thread-safe.
#ifndef LOTLEDGER_LIBS_DOMAIN_INVENTORY_SERIAL_PLACES_H_
#define LOTLEDGER_LIBS_DOMAIN_INVENTORY_SERIAL_PLACES_H_

#include <string>
#include <vector>

#include "lotledger/v1/events.pb.h"
#include "lotledger/v1/inventory.pb.h"

namespace lotledger::inventory {

// One destination of some serials of one lot, as one event sends them.
struct SerialMove {
  std::string lot_id;
  std::string item;                  // ItemOfLotId(lot_id)
  std::vector<std::string> serials;  // sorted
  v1::SerialPlace place = v1::SERIAL_PLACE_UNSPECIFIED;
  std::string location_id;
  std::string customer_id;
  std::string shipment_id;
  v1::Date used_on;
  std::string used_site;
};

// The moves an inventory event makes (none for events that name no
// serials; two for a StockAdjusted with found and missing serials).
std::vector<SerialMove> SerialMovesOf(const v1::Event& event);

// `status` (as stored; empty when the serial was never seen) after
// `move` took `serial` to its place. Every place but SERIAL_PLACE_USED
// sets or clears every field, so then the result does not depend on
// `status` (the projection writes those without reading the old one); a
// use keeps the customer's shipment.
void ApplySerialMove(v1::SerialStatus& status, const SerialMove& move,
                     const std::string& serial);

// Where a serial is, for refusals: "in stock at MUC-WH1", "at customer
// H-12 (shipment SHP-1)", "used at customer H-12 on 2026-04-02",
// "scrapped", "missing since a count at MUC-WH1", "not in stock (never
// received)". `status` null = never received.
std::string SerialPlaceText(const v1::SerialStatus* status);

}  // namespace lotledger::inventory

#endif  // LOTLEDGER_LIBS_DOMAIN_INVENTORY_SERIAL_PLACES_H_
