// The broker the Kafka integration tests run against: LOTLEDGER_TEST_KAFKA
// holds its bootstrap servers (tools/kafka/start prints them). The tests
// fail, never skip, when it is unset or unreachable, so a run without a
// broker cannot pass by accident. Thread-safe.
#ifndef LOTLEDGER_LIBS_EVENTLOG_TESTS_KAFKA_TEST_ENV_H_
#define LOTLEDGER_LIBS_EVENTLOG_TESTS_KAFKA_TEST_ENV_H_

#include <string>

#include "absl/status/statusor.h"
#include "libs/eventlog/kafka/kafka_event_log.h"

namespace lotledger::eventlog::testing {

// The bootstrap servers, once a probe has reached them (probed once per
// process); FailedPrecondition saying how to start a broker otherwise.
absl::StatusOr<std::string> TestKafkaBootstrap();

// Options for the test broker with timeouts short enough that a broken
// broker fails a test quickly.
absl::StatusOr<KafkaOptions> TestKafkaOptions(std::string transactional_id);

// A topic name no other test (or test run on the shared broker) uses.
std::string UniqueTopic(const std::string& prefix);

}  // namespace lotledger::eventlog::testing

#endif  // LOTLEDGER_LIBS_EVENTLOG_TESTS_KAFKA_TEST_ENV_H_
