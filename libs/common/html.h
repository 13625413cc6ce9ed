// Escaping user text (lot numbers, units, names, reasons) for HTML, so it
// stays data in every report: `<script>` does not become markup, a quote
// does not end an attribute.
//
// Thread-safety: pure function.
#ifndef LOTLEDGER_LIBS_COMMON_HTML_H_
#define LOTLEDGER_LIBS_COMMON_HTML_H_

#include <string>
#include <string_view>

namespace lotledger {

// Text or a double-quoted attribute value in HTML: & < > " ' as entities,
// control characters other than tab and newline dropped.
std::string HtmlEscape(std::string_view s);

}  // namespace lotledger

#endif  // LOTLEDGER_LIBS_COMMON_HTML_H_
