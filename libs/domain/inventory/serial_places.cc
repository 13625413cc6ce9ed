#include "libs/domain/inventory/serial_places.h"

#include <cstdint>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/common/ids.h"
#include "libs/domain/inventory/gate.h"
#include "libs/domain/serials/serials.h"

namespace lotledger::inventory {
namespace {

SerialMove Move(const std::string& lot_id, const domain::SerialRanges& ranges,
                v1::SerialPlace place) {
  SerialMove m;
  m.lot_id = lot_id;
  m.item = std::string(ItemOfLotId(lot_id));
  m.serials = domain::SerialsOf(ranges);
  m.place = place;
  return m;
}

}  // namespace

std::vector<SerialMove> SerialMovesOf(const v1::Event& event) {
  std::vector<SerialMove> out;
  switch (event.payload_case()) {
    case v1::Event::kStockReceived: {
      const v1::StockReceived& e = event.stock_received();
      out.push_back(Move(e.lot_id(), e.serials(), v1::SERIAL_PLACE_IN_STOCK));
      out.back().location_id = e.location_id();
      break;
    }
    case v1::Event::kStockTransferred: {
      const v1::StockTransferred& e = event.stock_transferred();
      out.push_back(Move(e.lot_id(), e.serials(), v1::SERIAL_PLACE_IN_STOCK));
      out.back().location_id = e.to_location_id();
      break;
    }
    case v1::Event::kStockShipped: {
      const v1::StockShipped& e = event.stock_shipped();
      out.push_back(
          Move(e.lot_id(), e.serials(), v1::SERIAL_PLACE_AT_CUSTOMER));
      out.back().customer_id = e.customer().customer_id();
      out.back().shipment_id = e.shipment_id();
      break;
    }
    case v1::Event::kStockReturned: {
      const v1::StockReturned& e = event.stock_returned();
      out.push_back(Move(e.lot_id(), e.serials(), v1::SERIAL_PLACE_IN_STOCK));
      out.back().location_id = e.to_location_id();
      break;
    }
    case v1::Event::kStockScrapped: {
      const v1::StockScrapped& e = event.stock_scrapped();
      out.push_back(Move(e.lot_id(), e.serials(), v1::SERIAL_PLACE_SCRAPPED));
      out.back().location_id = e.location_id();
      break;
    }
    case v1::Event::kStockAdjusted: {
      const v1::StockAdjusted& e = event.stock_adjusted();
      out.push_back(
          Move(e.lot_id(), e.serials_found(), v1::SERIAL_PLACE_IN_STOCK));
      out.back().location_id = e.location_id();
      out.push_back(
          Move(e.lot_id(), e.serials_missing(), v1::SERIAL_PLACE_MISSING));
      out.back().location_id = e.location_id();
      break;
    }
    case v1::Event::kDeviceUsageReported: {
      const v1::DeviceUsageReported& e = event.device_usage_reported();
      out.push_back(Move(e.lot_id(), e.serials(), v1::SERIAL_PLACE_USED));
      out.back().customer_id = e.customer_id();
      out.back().used_on = e.used_on();
      out.back().used_site = e.site();
      break;
    }
    default:
      break;
  }
  std::erase_if(out, [](const SerialMove& m) { return m.serials.empty(); });
  return out;
}

void ApplySerialMove(v1::SerialStatus& status, const SerialMove& move,
                     const std::string& serial) {
  status.set_item(move.item);
  status.set_serial(serial);
  status.set_lot_id(move.lot_id);
  status.set_place(move.place);
  switch (move.place) {
    case v1::SERIAL_PLACE_AT_CUSTOMER:
      status.clear_location_id();
      status.set_customer_id(move.customer_id);
      status.set_shipment_id(move.shipment_id);
      status.clear_used_on();
      status.clear_used_site();
      break;
    case v1::SERIAL_PLACE_USED:
      // Where it was shipped stays: the customer that used it and the
      // shipment that took it there.
      status.set_customer_id(move.customer_id);
      *status.mutable_used_on() = move.used_on;
      status.set_used_site(move.used_site);
      break;
    default:  // in stock, scrapped or missing at a location
      status.set_location_id(move.location_id);
      status.clear_customer_id();
      status.clear_shipment_id();
      status.clear_used_on();
      status.clear_used_site();
      break;
  }
}

std::string SerialPlaceText(const v1::SerialStatus* status) {
  if (status == nullptr) return "not in stock (never received)";
  switch (status->place()) {
    case v1::SERIAL_PLACE_IN_STOCK:
      return absl::StrCat("in stock at ", status->location_id());
    case v1::SERIAL_PLACE_AT_CUSTOMER:
      return absl::StrCat("at customer ", status->customer_id(), " (shipment ",
                          status->shipment_id(), ")");
    case v1::SERIAL_PLACE_USED:
      return absl::StrCat("used at customer ", status->customer_id(), " on ",
                          DateText(status->used_on()));
    case v1::SERIAL_PLACE_SCRAPPED:
      return absl::StrCat("scrapped at ", status->location_id());
    case v1::SERIAL_PLACE_MISSING:
      return absl::StrCat("missing (not found by a count at ",
                          status->location_id(), ")");
    default:
      return "not in stock (never received)";
  }
}

}  // namespace lotledger::inventory
