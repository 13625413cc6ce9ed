// Readable sentences for events: what an auditor reads in a lot's history
// ("shipped 40 EA of 09506000134352:A17 from FRA-WH1-B07 to customer C-1";
// a serialised product's movements name their units: "shipped 2 EA
// (SN0001..SN0002) of ..."), and the reason an event gives, if any.
//
// Thread-safety: pure functions.
#ifndef LOTLEDGER_LIBS_AUDIT_DESCRIBE_H_
#define LOTLEDGER_LIBS_AUDIT_DESCRIBE_H_

#include <string>

#include "lotledger/v1/events.pb.h"

namespace lotledger::audit {

// One sentence describing the event's payload.
std::string Describe(const v1::Event& event);

// Why, when the event says: a correction's, a disposition signature's, a
// transfer's, scrap's or count's reason, a return's notes. Empty otherwise.
std::string Reason(const v1::Event& event);

}  // namespace lotledger::audit

#endif  // LOTLEDGER_LIBS_AUDIT_DESCRIBE_H_
