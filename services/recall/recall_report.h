// Recall reports for people and other systems: CSV (one row per lot and
// customer, with the genealogy path and recovery figures) and one
// self-contained HTML page (no external scripts, styles or images), for
// the recall file and the regulator.
//
// Thread-safety: pure functions; safe from any thread.
#ifndef LOTLEDGER_SERVICES_RECALL_RECALL_REPORT_H_
#define LOTLEDGER_SERVICES_RECALL_RECALL_REPORT_H_

#include <string>

#include "lotledger/v1/recall.pb.h"

namespace lotledger::recall {

// Columns: recall_id, class, status, lot_id, item, lot_number, scope,
// depth, genealogy_path (lots joined by " > "), customer_id,
// customer_name, region, uom, shipped, returned, destroyed, recovered,
// outstanding, answered, lot_on_hand, serials (a serialised lot: the
// customer's serials in scope it holds, as ranges), used (how many of
// them it reported used). Lots no customer received have one row with
// empty customer columns. RFC 4180 quoting.
std::string RenderCsv(const v1::Recall& recall, const v1::RecallImpact& impact,
                      const v1::Effectiveness& effectiveness);

std::string RenderHtml(const v1::Recall& recall, const v1::RecallImpact& impact,
                       const v1::Effectiveness& effectiveness);

}  // namespace lotledger::recall

#endif  // LOTLEDGER_SERVICES_RECALL_RECALL_REPORT_H_
