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

INSTANTIATE_TEST_SUITE_P(Embedded, EventLogConformance,
                         ::testing::Values(Embedded()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace lotledger::eventlog::testing
