#include "libs/audit/log_verify.h"

#include "libs/audit/topics.h"
#include "libs/common/status_macros.h"

namespace lotledger::audit {

bool LogVerification::ok() const {
  for (const TopicVerification& t : topics) {
    if (t.first_break.has_value()) return false;
  }
  return true;
}

uint64_t LogVerification::records() const {
  uint64_t n = 0;
  for (const TopicVerification& t : topics) n += t.records;
  return n;
}

absl::StatusOr<LogVerification> VerifyLog(eventlog::EventLog& log,
                                          const std::string& prefix,
                                          std::vector<std::string> topics) {
  if (topics.empty()) topics = AuditedTopics();
  LogVerification out;
  for (const std::string& topic : topics) {
    TopicVerification tv;
    tv.topic = topic;
    const std::string full = prefix + topic;
    absl::StatusOr<int32_t> parts = log.PartitionCount(full);
    if (parts.status().code() == absl::StatusCode::kNotFound) {
      tv.present = false;
      out.topics.push_back(std::move(tv));
      continue;
    }
    RETURN_IF_ERROR(parts.status());
    ASSIGN_OR_RETURN(eventlog::VerifyReport report,
                     eventlog::VerifyTopic(log, full));
    tv.records = report.records;
    tv.first_break = std::move(report.first_break);
    if (tv.first_break.has_value()) {
      tv.first_break->topic = StripPrefix(tv.first_break->topic, prefix);
    }
    out.topics.push_back(std::move(tv));
  }
  return out;
}

}  // namespace lotledger::audit
