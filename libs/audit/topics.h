// The topics the audit reads and how it reads an event's clocks. The
// audited topics are every topic of the registry (libs/common/topics.h):
// a service's topic added there is audited (history index, offline
// verify, EPCIS export) without a change here.
//
// Thread-safety: pure functions and immutable data.
#ifndef LOTLEDGER_LIBS_AUDIT_TOPICS_H_
#define LOTLEDGER_LIBS_AUDIT_TOPICS_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "lotledger/v1/events.pb.h"

namespace lotledger::audit {

// Every lotledger topic, without a deployment prefix, in the order a
// report lists them: topics::All().
const std::vector<std::string>& AuditedTopics();

// The topic name without `prefix` (tests and shared clusters put one in
// front of every topic).
std::string StripPrefix(const std::string& topic, const std::string& prefix);

// When it happened in the world: occurred_at, else recorded_at.
absl::Time BusinessTime(const v1::Event& event);
absl::Time RecordTime(const v1::Event& event);

}  // namespace lotledger::audit

#endif  // LOTLEDGER_LIBS_AUDIT_TOPICS_H_
