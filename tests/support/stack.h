// TestStack: a real lotledger server for integration and e2e tests — the
// ServerHost (real RocksDB projections, real event log, real gRPC on a real
// socket on 127.0.0.1, port 0) on either backend:
//   embedded: a RocksDB log in the test's temp dir;
//   kafka:    the broker at $LOTLEDGER_TEST_KAFKA (tools/kafka/start),
//             topics under a prefix unique to the stack.
// Without LOTLEDGER_TEST_KAFKA a Kafka stack fails the test; it never
// skips.
//
// Thread-safety: one test thread controls a stack; channels are
// thread-safe.
#ifndef LOTLEDGER_TESTS_SUPPORT_STACK_H_
#define LOTLEDGER_TESTS_SUPPORT_STACK_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "libs/server/process.h"
#include "lotledger/v1/quality.pb.h"
#include "services/host/host.h"

namespace lotledger::testing {

enum class Backend { kEmbedded, kKafka };
std::string BackendName(Backend b);

class TestStack {
 public:
  // Principals in the stack's dev token file, by the name a test uses.
  // admin, operator, inspector (qa_inspector), approver and approver2
  // (qa_approver), auditor, nobody (no role at all).
  // `clock` (e.g. a ManualClock the test moves; outlives the stack) is
  // the services' time; null: the system clock.
  static std::unique_ptr<TestStack> Start(
      Backend backend, std::vector<std::string> services = {"lots", "quality"},
      const Clock* clock = nullptr);
  ~TestStack();

  // Stops the server; starts it again on the same log and data.
  // `drop_projections` deletes the projections first, so they are rebuilt
  // from the log.
  void Restart(bool drop_projections = false);
  void Stop();
  // One expiry sweep of the inventory service at the clock's time;
  // returns the alerts raised.
  absl::StatusOr<int> SweepExpiry();

  std::shared_ptr<grpc::Channel> channel() const { return channel_; }
  const std::string& target() const { return target_; }
  // A client context carrying `who`'s bearer token and a 30 s deadline.
  std::unique_ptr<grpc::ClientContext> Ctx(const std::string& who) const;
  // The token of `who`, e.g. for a signature credential.
  std::string Token(const std::string& who) const;
  const server::ProcessConfig& config() const { return config_; }

 private:
  void Launch();
  Backend backend_;
  const Clock* clock_ = nullptr;
  std::vector<std::string> services_;
  server::ProcessConfig config_;
  std::unique_ptr<ServerHost> host_;
  std::shared_ptr<grpc::Channel> channel_;
  std::string target_;
};

// A fresh request id.
std::string NewRequestId();

// A final inspection of `lot_id` with one characteristic (seal strength,
// sample of 32) that passes or fails, under a fresh request id: what most
// tests record before a release.
v1::RecordInspectionRequest FinalInspection(const std::string& lot_id,
                                            bool pass = true);

}  // namespace lotledger::testing

#endif  // LOTLEDGER_TESTS_SUPPORT_STACK_H_
