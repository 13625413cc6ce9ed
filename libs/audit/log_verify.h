// Offline verification of a whole lotledger log: reads every audited topic
// directly from an EventLog (a Kafka cluster or an embedded data dir; no
// service involved, so the auditor need not trust the services) and checks
// every record's hash chain, stopping each topic at its first break.
//
// Thread-safety: one call per EventLog reader thread; no shared state.
#ifndef LOTLEDGER_LIBS_AUDIT_LOG_VERIFY_H_
#define LOTLEDGER_LIBS_AUDIT_LOG_VERIFY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/eventlog/event_log.h"
#include "libs/eventlog/record_codec.h"

namespace lotledger::audit {

struct TopicVerification {
  std::string topic;    // without the prefix
  bool present = true;  // false: the topic does not exist (nothing to check)
  uint64_t records = 0;
  std::optional<eventlog::ChainVerifier::Break> first_break;
};

struct LogVerification {
  std::vector<TopicVerification> topics;
  bool ok() const;
  uint64_t records() const;
};

// Verifies `topics` (names without `prefix`; empty = AuditedTopics()).
// Unavailable when the log cannot be read; a break is a result, not an
// error.
absl::StatusOr<LogVerification> VerifyLog(eventlog::EventLog& log,
                                          const std::string& prefix,
                                          std::vector<std::string> topics);

}  // namespace lotledger::audit

#endif  // LOTLEDGER_LIBS_AUDIT_LOG_VERIFY_H_
