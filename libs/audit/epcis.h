// GS1 EPCIS 2.0 export of a lot's history (docs/audit.md, "EPCIS"): one
// JSON-LD EPCISDocument whose events are the lotledger events mapped to
// CBV 2.0 business steps and dispositions, with class-level (GTIN + lot)
// quantities identified by GS1 Digital Link URIs. Units of a serialised
// product are named one by one instead: a movement with serials lists them
// in epcList as SGTINs (GS1 Digital Link "https://id.gs1.org/01/<gtin>/21/
// <serial>"); SerialsAssigned is an ObjectEvent ADD (bizStep
// commissioning, the lot number in the ILMD); DeviceUsageReported an
// ObjectEvent OBSERVE (bizStep dispensing, disposition dispensed) naming
// the units and the customer only; a recall's lot in scope by serial lists
// its units.
//
// Thread-safety: pure function.
#ifndef LOTLEDGER_LIBS_AUDIT_EPCIS_H_
#define LOTLEDGER_LIBS_AUDIT_EPCIS_H_

#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "lotledger/v1/events.pb.h"

namespace lotledger::audit {

// The EPC class of a lot: "https://id.gs1.org/01/<gtin>/10/<lot>" when the
// item is a GTIN-14, else "urn:lotledger:class:<item>:<lot>" (internal item
// codes of components and raw materials have no GS1 key).
std::string LotClassUri(const std::string& item, const std::string& lot);
// The same from a lot id "<item>:<lot number>".
std::string LotClassUriOf(const std::string& lot_id);
// The EPC of one unit: "https://id.gs1.org/01/<gtin>/21/<serial>" (the
// serial percent-encoded as a lot is) when the item is a GTIN-14, else
// "urn:lotledger:unit:<item>:<serial>".
std::string SerialUri(const std::string& item, const std::string& serial);

struct EpcisExport {
  std::string document;  // the EPCISDocument as JSON
  int events = 0;
};

// Maps `events` (in the order to export) to one EPCISDocument. `lots`
// limits per-lot facts of multi-lot events (recalls) to those lots; empty
// means every lot. Events with no EPCIS meaning (product and location
// master data, corrections, notifications) are left out.
EpcisExport ToEpcisDocument(const std::vector<v1::Event>& events,
                            const std::set<std::string>& lots,
                            absl::Time created);

}  // namespace lotledger::audit

#endif  // LOTLEDGER_LIBS_AUDIT_EPCIS_H_
