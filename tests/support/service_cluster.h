// The production shape in a test: lotledger's five service binaries
// (lots-service, quality-service, inventory-service, recall-service,
// audit-service), each its own child process, on the real Kafka broker
// ($LOTLEDGER_TEST_KAFKA), as k8s/ runs them.
//
// ServiceProcess is one server binary as a child process (any flags; its
// stderr goes to a file, where the "serving" log line names the bound
// ports). ServiceCluster starts the five with:
//   - a topic prefix and Kafka writer ids unique to the cluster, so tests
//     never share topics and never fence each other's transactions;
//   - each service on its own free 127.0.0.1 port and its own data dir,
//     both kept across restarts;
//   - plaintext (--insecure-dev=true) and one dev token file with one
//     principal per role, named as docs/security.md and the README name
//     them (see ServiceCluster::Token).
// Start returns once every service answers gRPC health SERVING under its
// service name. The cluster stops every process on destruction (SIGTERM,
// then SIGKILL past the grace); when the test has failed it prints the tail
// of each process's stderr and keeps the directory (logs, data) under
// ::testing::TempDir(), otherwise it deletes it.
//
// Children get SIGKILL when the thread that started them ends (the test
// process died): start processes from the test's main thread.
//
// Thread-safety: one test thread controls a cluster (start, stop,
// restart); target(), channel(), Ctx() and Token() may be called from any
// thread while no restart runs; channels and stubs are thread-safe.
#ifndef LOTLEDGER_TESTS_SUPPORT_SERVICE_CLUSTER_H_
#define LOTLEDGER_TESTS_SUPPORT_SERVICE_CLUSTER_H_

#include <grpcpp/grpcpp.h>
#include <sys/types.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "lotledger/v1/inventory.pb.h"

namespace lotledger::testing {

// A free TCP port on 127.0.0.1 (bound once and released: another process
// may still take it before it is used).
int PickFreePort();

// $LOTLEDGER_TEST_KAFKA, or "" when unset.
std::string TestKafkaAddress();

// A server binary run as a child process.
class ServiceProcess {
 public:
  // Starts `binary` with `args` (without the program name); its stderr
  // (and stdout) go to `log_path`, truncated.
  ServiceProcess(std::string binary, std::vector<std::string> args,
                 std::string log_path);
  ~ServiceProcess();  // SIGKILL when still running

  ServiceProcess(const ServiceProcess&) = delete;
  ServiceProcess& operator=(const ServiceProcess&) = delete;

  // Waits (bounded by `timeout`) for the "serving" log line and reads the
  // bound gRPC address and the metrics and health ports from it. False,
  // with a test failure showing the log, when the process exited or never
  // served.
  bool AwaitServing(absl::Duration timeout = absl::Minutes(2));

  // Sends SIGTERM (once; no-op when not running).
  void SignalTerm();
  // Waits for the exit; SIGKILL once `give_up` passed since the call.
  // Returns the wait status (0 when the process was not running).
  int Wait(absl::Duration give_up);
  // SIGTERM and Wait. `elapsed`, when given, is the time from the signal
  // to the exit.
  int Terminate(absl::Duration give_up = absl::Seconds(60),
                absl::Duration* elapsed = nullptr);
  // SIGKILL: no shutdown, calls in flight cut off.
  void Kill();
  // True until the process was seen to exit.
  bool running();

  std::string LogText() const;
  // The last `lines` lines of the log.
  std::string LogTail(int lines) const;
  const std::string& log_path() const { return log_path_; }
  const std::string& binary() const { return binary_; }
  pid_t pid() const { return pid_; }

  // Valid after AwaitServing: "127.0.0.1:<port>" as bound.
  const std::string& target() const { return target_; }
  int metrics_port() const { return metrics_port_; }
  // The plaintext health-only port (--health-listen), 0 without one.
  int health_port() const { return health_port_; }
  std::string health_target() const {
    return "127.0.0.1:" + std::to_string(health_port_);
  }

 private:
  std::string binary_;
  std::string log_path_;
  pid_t pid_ = -1;
  bool signalled_ = false;
  absl::Time signalled_at_;
  std::string target_;
  int metrics_port_ = 0;
  int health_port_ = 0;
};

// Waits (bounded) until `target` answers grpc.health.v1 Check of
// `service` with SERVING. False, with a test failure, otherwise; stops
// waiting early when `process` (may be null) exits.
bool AwaitHealthServing(const std::string& target, const std::string& service,
                        ServiceProcess* process,
                        absl::Duration timeout = absl::Minutes(2));

// A client context carrying `token` as its bearer token, with a deadline
// `deadline` from now: what every test client of a lotledger process sends.
std::unique_ptr<grpc::ClientContext> BearerContext(
    const std::string& token, absl::Duration deadline = absl::Seconds(30));

// Where the five service binaries are (tests pass the CMake target files).
struct ServiceBinaries {
  std::string lots;
  std::string quality;
  std::string inventory;
  std::string recall;
  std::string audit;
};

enum class Service { kLots, kQuality, kInventory, kRecall, kAudit };
inline constexpr std::array<Service, 5> kAllServices = {
    Service::kLots, Service::kQuality, Service::kInventory, Service::kRecall,
    Service::kAudit};
// "lots", "quality", ...
std::string ServiceName(Service s);
// The gRPC service name health answers for, e.g. "lotledger.v1.LotsService".
std::string HealthName(Service s);

class ServiceCluster {
 public:
  struct Options {
    // Partitions of every topic (--partitions).
    int partitions = 3;
    // --shutdown-grace-seconds of each process.
    int shutdown_grace_seconds = 10;
    // Extra flags given to every service.
    std::vector<std::string> extra_args;
  };

  // Starts the five services on the broker at $LOTLEDGER_TEST_KAFKA (a
  // test failure when it is unset: never a skip) and waits until each
  // answers health SERVING. Null, with test failures saying why, when one
  // does not come up.
  static std::unique_ptr<ServiceCluster> Start(const ServiceBinaries& binaries,
                                               Options options);
  static std::unique_ptr<ServiceCluster> Start(
      const ServiceBinaries& binaries) {
    return Start(binaries, Options());
  }
  // Stops every process (SIGTERM, all at once); prints their stderr tails
  // and keeps root_dir() when the current test has failed, else deletes
  // root_dir().
  ~ServiceCluster();

  ServiceCluster(const ServiceCluster&) = delete;
  ServiceCluster& operator=(const ServiceCluster&) = delete;

  // "127.0.0.1:<port>": the same across restarts.
  std::string target(Service s) const;
  // A channel to the service (made once; reconnects after a restart).
  std::shared_ptr<grpc::Channel> channel(Service s) const;

  // The dev token file's principals, each with one role: "admin",
  // "operator", "qa.inspector", "qa.approver", "recall.manager",
  // "auditor". Token("operator") is that principal's bearer token, also
  // its signature credential.
  std::string Token(const std::string& principal) const;
  // A client context with `principal`'s bearer token and a deadline.
  std::unique_ptr<grpc::ClientContext> Ctx(
      const std::string& principal,
      absl::Duration deadline = absl::Seconds(30)) const;

  // Stops `s` with SIGTERM and expects a clean exit (status 0) within the
  // grace; then starts it again on the same port, data dir and topics and
  // waits for SERVING. False (with test failures) when any step failed.
  bool Restart(Service s);
  // The same for every service: all stopped at once, then all started.
  bool RestartAll();

  const std::string& topic_prefix() const { return prefix_; }
  const std::string& dev_tokens_path() const { return tokens_path_; }
  const std::string& root_dir() const { return root_; }
  // The service's current process (null while stopped).
  ServiceProcess* process(Service s) const;

  // Each process's last `lines` lines of stderr, headed by its log path.
  std::string StderrTails(int lines = 40) const;

 private:
  ServiceCluster() = default;
  struct Member {
    Service service;
    std::string binary;
    int port = 0;
    std::string data_dir;
    int runs = 0;
    std::unique_ptr<ServiceProcess> process;
    std::shared_ptr<grpc::Channel> channel;
  };
  Member& member(Service s) { return members_[static_cast<size_t>(s)]; }
  const Member& member(Service s) const {
    return members_[static_cast<size_t>(s)];
  }
  // Forks the member's process (does not wait).
  void Launch(Member& m);
  // Waits for the serving line and health SERVING.
  bool AwaitUp(Member& m);
  // SIGTERM to each of `which` at once, then waits; expects exit 0.
  bool StopAll(const std::vector<Service>& which);

  Options options_;
  std::string bootstrap_;
  std::string root_;
  std::string prefix_;
  std::string tokens_path_;
  std::array<Member, 5> members_;
};

// The requests that make the smallest location tree stock is received
// into: a site, a region in it, a warehouse in that, and `bins` in the
// warehouse (each location named as its id), in the order they must be
// created, each under a fresh request id.
struct LocationNames {
  std::string site = "EU";
  std::string region = "EU-W";
  std::string warehouse = "WH1";
};
std::vector<v1::CreateLocationRequest> LocationTree(
    const std::vector<std::string>& bins, const LocationNames& names = {});

}  // namespace lotledger::testing

#endif  // LOTLEDGER_TESTS_SUPPORT_SERVICE_CLUSTER_H_
