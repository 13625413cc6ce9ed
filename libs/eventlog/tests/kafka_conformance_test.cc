// Runs the EventLog conformance suite on the Kafka backend, against the
// broker in LOTLEDGER_TEST_KAFKA (see kafka_test_env.h).
#include "libs/eventlog/kafka/kafka_event_log.h"
#include "libs/eventlog/tests/conformance.h"
#include "libs/eventlog/tests/kafka_test_env.h"

namespace lotledger::eventlog::testing {
namespace {

LogBackend Kafka() {
  return {"kafka",
          [](const std::string& instance)
              -> absl::StatusOr<std::unique_ptr<EventLog>> {
            // One writer identity per log instance: reopening an instance
            // takes over from (fences) the previous object, like a restarted
            // service does.
            absl::StatusOr<KafkaOptions> options =
                TestKafkaOptions("conformance-" + instance);
            if (!options.ok()) return options.status();
            return KafkaEventLog::Create(*options);
          }};
}

INSTANTIATE_TEST_SUITE_P(Kafka, EventLogConformance, ::testing::Values(Kafka()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace lotledger::eventlog::testing
