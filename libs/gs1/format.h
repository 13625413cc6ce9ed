// Renders parsed GS1 elements for people (an aligned text table) and for
// programs (JSON), as `lotctl gs1` prints them.
//
// Thread-safety: pure functions; safe to call concurrently.
#ifndef LOTLEDGER_LIBS_GS1_FORMAT_H_
#define LOTLEDGER_LIBS_GS1_FORMAT_H_

#include <string>
#include <vector>

#include "libs/gs1/element_string.h"

namespace lotledger::gs1 {

// A table with a header row and one row per element, columns aligned:
//
//   AI    TITLE             VALUE
//   (01)  GTIN              09506000134352
//   (17)  USE BY or EXPIRY  261231
//
// Every line ends in '\n'. Widths count UTF-8 code points, so titles such
// as "AREA (m²)" stay aligned.
std::string FormatText(const std::vector<Element>& elements);

// A JSON array of {"ai": ..., "title": ..., "value": ...} objects on one
// line, without a trailing newline. Strings are escaped per RFC 8259:
// '"', '\\' and control characters; other bytes (UTF-8) pass through.
std::string FormatJson(const std::vector<Element>& elements);

}  // namespace lotledger::gs1

#endif  // LOTLEDGER_LIBS_GS1_FORMAT_H_
