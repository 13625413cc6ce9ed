// Identifiers: UUIDv7 (RFC 9562) for events and server-made ids, and the
// human-readable lot id "<item>:<lot number>" of docs/design.md.
// NewUuidV7 is thread-safe.
#ifndef LOTLEDGER_LIBS_COMMON_IDS_H_
#define LOTLEDGER_LIBS_COMMON_IDS_H_

#include <string>
#include <string_view>

#include "absl/time/time.h"

namespace lotledger {

// A UUIDv7 whose 48-bit prefix is `now` in Unix milliseconds; ids made by
// one process sort in creation order.
std::string NewUuidV7(absl::Time now);

std::string MakeLotId(std::string_view item, std::string_view lot_number);

// The item of a lot id made by MakeLotId: up to the first ':' (an item code
// never holds one; a lot number may). Empty for an id without a ':'.
std::string_view ItemOfLotId(std::string_view lot_id);

}  // namespace lotledger

#endif  // LOTLEDGER_LIBS_COMMON_IDS_H_
