// The EventLog conformance suite: every backend instantiates it with a
// LogBackend and must pass all of it (see embedded_conformance_test.cc,
// kafka_conformance_test.cc).
#ifndef LOTLEDGER_LIBS_EVENTLOG_TESTS_CONFORMANCE_H_
#define LOTLEDGER_LIBS_EVENTLOG_TESTS_CONFORMANCE_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "libs/eventlog/event_log.h"

namespace lotledger::eventlog::testing {

struct LogBackend {
  std::string name;
  // Opens the log `instance`; opening the same instance again (after the
  // previous object is destroyed) sees the same data. Several instances
  // may exist at once.
  std::function<absl::StatusOr<std::unique_ptr<EventLog>>(
      const std::string& instance)>
      open;
};

// Test names show the backend instead of a byte dump of the struct.
inline void PrintTo(const LogBackend& backend, std::ostream* os) {
  *os << backend.name;
}

class EventLogConformance : public ::testing::TestWithParam<LogBackend> {
 protected:
  void SetUp() override;
  // Opens (or reopens) this test's log.
  std::unique_ptr<EventLog> Open();
  // A topic name unique to this test run.
  std::string NewTopic(int32_t partitions);
  // Reads every partition of `topic` from offset 0 until `count` records
  // arrived (bounded wait).
  std::vector<Record> ReadN(EventLog& log, const std::string& topic,
                            size_t count);

  std::string instance_;
  std::unique_ptr<EventLog> log_;
};

}  // namespace lotledger::eventlog::testing

#endif  // LOTLEDGER_LIBS_EVENTLOG_TESTS_CONFORMANCE_H_
