#include "libs/audit/topics.h"

#include "libs/common/proto_time.h"
#include "libs/common/topics.h"

namespace lotledger::audit {

const std::vector<std::string>& AuditedTopics() { return topics::All(); }

std::string StripPrefix(const std::string& topic, const std::string& prefix) {
  if (!prefix.empty() && topic.starts_with(prefix)) {
    return topic.substr(prefix.size());
  }
  return topic;
}

absl::Time BusinessTime(const v1::Event& event) {
  return event.has_occurred_at() ? FromTimestamp(event.occurred_at())
                                 : FromTimestamp(event.recorded_at());
}

absl::Time RecordTime(const v1::Event& event) {
  return FromTimestamp(event.recorded_at());
}

}  // namespace lotledger::audit
