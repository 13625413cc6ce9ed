// Runs the EventLog conformance suite on the embedded (RocksDB) backend.
#include <filesystem>

#include "libs/eventlog/embedded/embedded_event_log.h"
#include "libs/eventlog/tests/conformance.h"

namespace lotledger::eventlog::testing {
namespace {

LogBackend Embedded() {
  return {"embedded", [](const std::string& instance) {
            const std::string dir =
                (std::filesystem::path(::testing::TempDir()) /
                 ("embedded-log-" + instance))
                    .string();
            return OpenEmbeddedEventLog({.path = dir});
          }};
}

// As lotledgerd opens it: charged to the process's memory budget (one for
// every log the suite opens, as a process shares one).
LogBackend EmbeddedWithBudget() {
  return {"embedded_budget", [](const std::string& instance) {
            static const auto* budget =
                new std::shared_ptr<projection::MemoryBudget>(
                    projection::MemoryBudget::Create(
                        projection::MemoryBudget::kMinBytes));
            const std::string dir =
                (std::filesystem::path(::testing::TempDir()) /
                 ("embedded-budget-log-" + instance))
                    .string();
            return OpenEmbeddedEventLog({.path = dir, .memory = *budget});
          }};
}

INSTANTIATE_TEST_SUITE_P(Embedded, EventLogConformance,
                         ::testing::Values(Embedded(), EmbeddedWithBudget()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace lotledger::eventlog::testing
