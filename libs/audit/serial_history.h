// A lot's history at serial level (LotHistoryRequest.serial, `lotctl audit
// history LOT --serial SN`): which of the lot's events concern one unit.
//
// An event about units (SerialsAssigned, the stock movements, usage
// reports, counts) belongs to the serial's history when it names the
// serial. An event about the lot as a whole (its creation, corrections,
// inspections, dispositions, expiry) belongs to every unit's history. A
// recall event (initiation, scope extension, notification) belongs when
// it covers the whole lot or names the serial for it.
//
// Thread-safety: pure functions.
#ifndef LOTLEDGER_LIBS_AUDIT_SERIAL_HISTORY_H_
#define LOTLEDGER_LIBS_AUDIT_SERIAL_HISTORY_H_

#include <string_view>

#include "lotledger/v1/events.pb.h"

namespace lotledger::audit {

// Whether `serial` is one of the serials of valid, canonical `ranges`
// (without expanding them).
bool RangesContain(
    const google::protobuf::RepeatedPtrField<v1::SerialRange>& ranges,
    std::string_view serial);

// Whether `event` (of lot `lot_id`'s history) belongs to the history of
// the lot's unit `serial`, as the header says.
bool InSerialHistory(const v1::Event& event, std::string_view lot_id,
                     std::string_view serial);

}  // namespace lotledger::audit

#endif  // LOTLEDGER_LIBS_AUDIT_SERIAL_HISTORY_H_
