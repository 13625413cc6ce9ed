#include "libs/eventlog/tests/kafka_test_env.h"

#include <atomic>
#include <cstdlib>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/common/ids.h"

namespace lotledger::eventlog::testing {
namespace {

constexpr char kHowTo[] =
    "start one with `export LOTLEDGER_TEST_KAFKA=$(tools/kafka/start | tail "
    "-n1)` and stop it with tools/kafka/stop";

absl::StatusOr<std::string> Probe() {
  const char* env = std::getenv("LOTLEDGER_TEST_KAFKA");
  if (env == nullptr || *env == '\0') {
    return absl::FailedPreconditionError(absl::StrCat(
        "LOTLEDGER_TEST_KAFKA is not set: these tests need a Kafka broker; ",
        kHowTo));
  }
  KafkaOptions options;
  options.bootstrap_servers = env;
  options.request_timeout = absl::Seconds(10);
  absl::StatusOr<std::unique_ptr<EventLog>> log =
      KafkaEventLog::Create(options);
  if (!log.ok()) return log.status();
  // Any answer from the cluster (NotFound for this topic) proves it is up.
  const absl::Status s =
      (*log)->PartitionCount("lotledger.test.probe").status();
  if (!s.ok() && !absl::IsNotFound(s)) {
    return absl::FailedPreconditionError(
        absl::StrCat("Kafka broker at LOTLEDGER_TEST_KAFKA=", env,
                     " is not reachable (", s.ToString(), "); ", kHowTo));
  }
  return std::string(env);
}

}  // namespace

absl::StatusOr<std::string> TestKafkaBootstrap() {
  static const absl::StatusOr<std::string>* const bootstrap =
      new absl::StatusOr<std::string>(Probe());
  return *bootstrap;
}

absl::StatusOr<KafkaOptions> TestKafkaOptions(std::string transactional_id) {
  absl::StatusOr<std::string> bootstrap = TestKafkaBootstrap();
  if (!bootstrap.ok()) return bootstrap.status();
  KafkaOptions options;
  options.bootstrap_servers = *bootstrap;
  options.transactional_id = std::move(transactional_id);
  options.client_id = "lotledger-test";
  options.append_timeout = absl::Seconds(20);
  options.request_timeout = absl::Seconds(20);
  return options;
}

std::string UniqueTopic(const std::string& prefix) {
  static std::atomic<int> n{0};
  return absl::StrCat("test.", prefix, ".", NewUuidV7(absl::Now()), ".", n++);
}

}  // namespace lotledger::eventlog::testing
