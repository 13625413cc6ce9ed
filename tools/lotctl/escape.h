// Escaping for every text lotctl writes into another language: HTML (the
// audit report) and Graphviz DOT (its genealogy graph). Lot numbers,
// units, names and reasons come from users and must stay data: a unit
// `EA" URL="javascript:..."` must not become a DOT attribute, a lot number
// `Q"->"X` must not become a graph edge, `<script>` must not become HTML.
// (lotctl writes no CSV of its own; the recall service's CSV escapes its
// cells, services/recall/recall_report.cc.)
//
// Thread-safety: pure functions.
#ifndef LOTLEDGER_TOOLS_LOTCTL_ESCAPE_H_
#define LOTLEDGER_TOOLS_LOTCTL_ESCAPE_H_

#include <string>
#include <string_view>

#include "libs/common/html.h"

namespace lotledger::lotctl {

// HTML: the project's one escaper (libs/common/html.h).
using ::lotledger::HtmlEscape;

// A complete DOT quoted string ("..."), for an ID or a label: \ and " are
// escaped, so that nothing in `s` ends the string or is read as a label
// escape (\N, \l, ...); a newline is a line break; other control
// characters are dropped.
std::string DotQuoted(std::string_view s);

}  // namespace lotledger::lotctl

#endif  // LOTLEDGER_TOOLS_LOTCTL_ESCAPE_H_
