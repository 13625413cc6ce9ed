// What the fault tests check in the log itself, after the fault: every
// record of a topic read back from offset 0, its hash chains verified, and
// how often each request id and each lot's creation occur.
//
// Thread-safety: plain functions; the log must be safe to read.
#ifndef LOTLEDGER_TESTS_FAULTS_LOG_CHECK_H_
#define LOTLEDGER_TESTS_FAULTS_LOG_CHECK_H_

#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "libs/eventlog/event_log.h"

namespace lotledger::faults {

struct TopicSummary {
  uint64_t records = 0;
  std::string chain_break;                   // empty when every chain verifies
  std::map<std::string, int> by_request_id;  // events per request id
  std::map<std::string, int> lots_created;   // LotCreated per lot id
};

// Reads every partition of `topic` to its end.
absl::StatusOr<TopicSummary> SummarizeTopic(eventlog::EventLog& log,
                                            std::string_view topic);

}  // namespace lotledger::faults

#endif  // LOTLEDGER_TESTS_FAULTS_LOG_CHECK_H_
