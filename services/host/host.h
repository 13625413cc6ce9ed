// ServerHost: a running lotledger server: the event log, the projection,
// projector and writer of each hosted service, and one gRPC server for
// them. lotledgerd hosts every service on the embedded log; lots-service,
// quality-service, ... each host one, normally on Kafka. Tests start one
// in-process on port 0.
//
// Thread-safety: Start and Shutdown from one controlling thread; target()
// from any thread.
#ifndef LOTLEDGER_SERVICES_HOST_HOST_H_
#define LOTLEDGER_SERVICES_HOST_HOST_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/common/clock.h"
#include "libs/server/process.h"

namespace lotledger {

class ServerHost {
 public:
  // Opens the log, each named service ("lots", "quality"; one of
  // HostableServices(), else InvalidArgument naming them) with its
  // projection under config.data_dir/projections/<name>, and serves gRPC on
  // config.listen. `clock` (null: the system clock) is the time of lots,
  // quality and inventory; tests pass a ManualClock.
  static absl::StatusOr<std::unique_ptr<ServerHost>> Start(
      const server::ProcessConfig& config, const std::string& program,
      const std::vector<std::string>& services, const Clock* clock = nullptr);
  ~ServerHost();  // Shutdown()

  // "127.0.0.1:<port>" as bound.
  std::string target() const;
  // Port of the /metrics endpoint; 0 when config.metrics_listen is empty.
  int metrics_port() const;
  // Port of the plaintext health-only listener; 0 without --health-listen.
  int health_port() const;
  // Runs one expiry sweep of the hosted inventory service now (see
  // InventoryServiceImpl::SweepExpiry); returns the alerts raised.
  // FailedPrecondition when inventory is not hosted.
  absl::StatusOr<int> SweepExpiry();
  // Stops taking calls, lets calls in flight finish within the configured
  // grace, stops the projectors, closes projections and the log.
  void Shutdown();

 private:
  struct State;
  explicit ServerHost(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// The services a host can run, in the order of its table: lots, quality,
// inventory, recall, audit (the services of topics.h).
std::vector<std::string> HostableServices();

// The configuration a server binary starts from, before its environment
// and flags: server::ProcessDefaults() with `default_log` ("embedded" for
// lotledgerd, "kafka" for the separate services) as the event log.
server::ProcessConfig HostDefaults(const std::string& default_log);

// main() of every server binary: parses configuration over
// HostDefaults(default_log) (--help lists every flag with its default),
// starts a ServerHost, serves until SIGINT/SIGTERM, shuts down gracefully.
// Returns the exit code.
int RunHost(int argc, char** argv, const std::string& program,
            const std::vector<std::string>& services,
            const std::string& default_log);

}  // namespace lotledger

#endif  // LOTLEDGER_SERVICES_HOST_HOST_H_
