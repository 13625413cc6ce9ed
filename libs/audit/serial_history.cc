#include "libs/audit/serial_history.h"

#include "absl/strings/ascii.h"

namespace lotledger::audit {
namespace {

bool InRange(const v1::SerialRange& r, std::string_view serial) {
  if (r.last().empty()) return r.first() == serial;
  const std::string_view first = r.first(), last = r.last();
  if (serial.size() != first.size()) return false;
  // first and last share everything before their trailing digits that
  // differ; a serial of the range has that prefix, then digits.
  size_t prefix = 0;
  while (prefix < first.size() && first[prefix] == last[prefix]) ++prefix;
  while (prefix > 0 &&
         absl::ascii_isdigit(static_cast<unsigned char>(first[prefix - 1]))) {
    --prefix;
  }
  if (serial.substr(0, prefix) != first.substr(0, prefix)) return false;
  for (size_t i = prefix; i < serial.size(); ++i) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(serial[i]))) {
      return false;
    }
  }
  // Digits of the same width compare as numbers.
  return serial >= first && serial <= last;
}

// A recall's lot rows: whole (no serials) or naming the serial.
bool CoversUnit(const google::protobuf::RepeatedPtrField<v1::ScopedLot>& lots,
                std::string_view lot_id, std::string_view serial) {
  for (const v1::ScopedLot& l : lots) {
    if (l.lot_id() != lot_id) continue;
    if (l.serials().empty() || RangesContain(l.serials(), serial)) return true;
  }
  return false;
}

}  // namespace

bool RangesContain(
    const google::protobuf::RepeatedPtrField<v1::SerialRange>& ranges,
    std::string_view serial) {
  for (const v1::SerialRange& r : ranges) {
    if (InRange(r, serial)) return true;
  }
  return false;
}

bool InSerialHistory(const v1::Event& e, std::string_view lot_id,
                     std::string_view serial) {
  switch (e.payload_case()) {
    case v1::Event::kSerialsAssigned:
      return RangesContain(e.serials_assigned().serials(), serial);
    case v1::Event::kStockReceived:
      return RangesContain(e.stock_received().serials(), serial);
    case v1::Event::kStockTransferred:
      return RangesContain(e.stock_transferred().serials(), serial);
    case v1::Event::kStockShipped:
      return RangesContain(e.stock_shipped().serials(), serial);
    case v1::Event::kStockReturned:
      return RangesContain(e.stock_returned().serials(), serial);
    case v1::Event::kStockScrapped:
      return RangesContain(e.stock_scrapped().serials(), serial);
    case v1::Event::kStockAdjusted:
      return RangesContain(e.stock_adjusted().serials_found(), serial) ||
             RangesContain(e.stock_adjusted().serials_missing(), serial);
    case v1::Event::kDeviceUsageReported:
      return RangesContain(e.device_usage_reported().serials(), serial);
    case v1::Event::kRecallInitiated:
      return CoversUnit(e.recall_initiated().lots(), lot_id, serial);
    case v1::Event::kRecallScopeExtended:
      return CoversUnit(e.recall_scope_extended().lots(), lot_id, serial);
    case v1::Event::kRecallNotificationIssued:
      for (const v1::RecallNoticeLine& l :
           e.recall_notification_issued().lines()) {
        if (l.lot_id() != lot_id) continue;
        if (l.serials().empty() || RangesContain(l.serials(), serial)) {
          return true;
        }
      }
      return false;
    default:
      // About the lot as a whole: creation, corrections, inspections,
      // dispositions, expiry, recall answers and closure.
      return true;
  }
}

}  // namespace lotledger::audit
