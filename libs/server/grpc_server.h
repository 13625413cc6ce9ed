// GrpcServer: the gRPC plumbing every lotledger process shares. It binds
// the listen address (port 0 picks a free port), registers the services,
// and turns on gRPC health checking (grpc.health.v1, one status per
// service name plus "" for the whole process), server reflection, and the
// CallTracker that logs and measures every lotledger call (rpc.h).
//
// A listen address another process (or server) already holds is a
// start-up error naming it: SO_REUSEPORT, which gRPC turns on by default
// and which would let a second server bind the same port and the kernel
// split calls between the two, is off on every port.
//
// Calls to lotledger methods without a valid credential are refused before
// their message is read (early_auth.h, on `authenticator`), and each
// method's requests are limited to what it needs (limits.h).
//
// Health follows the work behind each service: a service added with a
// health probe (its projector's health) turns NOT_SERVING, and with it the
// whole process (""), while the probe fails (a projector stopped on a bad
// record or a broken projection), and SERVING again once it passes (after
// an online rebuild restarted the projector). Probes are asked every
// `health_poll`. The name kLivenessHealthName is SERVING from Start to
// Shutdown whatever the probes say: a liveness probe asks for it, so a
// stopped projector takes the pod out of service (readiness) without
// restarting it into the same bad record, and an operator can still reach
// it to rebuild.
//
// The sync server's threads are bounded (a grpc::ResourceQuota of
// `max_threads`): a burst beyond what they can serve is answered
// RESOURCE_EXHAUSTED ("Server Threadpool Exhausted") instead of starting
// threads without bound, and the server answers again once it drains.
//
// Thread-safety: configure (AddService) before Start; Start, Shutdown and
// Wait from one controlling thread; port() from any thread after Start.
#ifndef LOTLEDGER_LIBS_SERVER_GRPC_SERVER_H_
#define LOTLEDGER_LIBS_SERVER_GRPC_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/server/auth.h"
#include "libs/server/limits.h"
#include "libs/server/rpc.h"

namespace lotledger::server {

struct ServerOptions {
  std::string address = "127.0.0.1:7070";
  int max_message_bytes = 4 << 20;
  int completion_queues = 4;
  // One JSON line per call on stderr.
  bool log_requests = true;
  // TLS or, for a developer's machine, plaintext (tls.h
  // MakeServerCredentials). Required: Start refuses to listen without.
  std::shared_ptr<grpc::ServerCredentials> credentials;
  // Checks the bearer token (or client certificate) of every lotledger
  // call before gRPC reads its message (early_auth.h); must outlive the
  // server. Required: Start refuses to serve without it.
  const Authenticator* authenticator = nullptr;
  // Limits on every request's fields (limits.h).
  RequestLimits limits;
  // When set, a second, plaintext port serving only grpc.health.v1 with
  // the same statuses: Kubernetes' native gRPC probes cannot speak TLS.
  // It answers nothing but SERVING / NOT_SERVING per service name.
  std::string health_address;
  // The most threads gRPC's sync server may run (pollers and handlers);
  // 0: DefaultMaxThreads().
  int max_threads = 0;
  // How often health probes are asked.
  absl::Duration health_poll = absl::Seconds(1);
  // A standby replica's writer (rpc.h CallTracker::Options): sent as
  // trailing metadata on UNAVAILABLE answers. Null: none.
  std::function<std::string()> writer_address;
};

// 2 x hardware threads + 16: handlers mostly wait (for the log, the
// projection), so more threads than cores, but bounded.
int DefaultMaxThreads();

inline constexpr char kLivenessHealthName[] = "lotledger.liveness";
// SERVING only on the replica that holds the writer role (standby writers,
// docs/operations.md).
inline constexpr char kWriterHealthName[] = "lotledger.writer";

// OK while the work behind a service is healthy.
using HealthProbe = std::function<absl::Status()>;

class GrpcServer {
 public:
  explicit GrpcServer(ServerOptions options);
  ~GrpcServer();

  // `health_name` is the name health checks ask for, conventionally the
  // service's full name ("lotledger.v1.LotsService").
  // `probe`, when given, decides the service's health (see above).
  void AddService(grpc::Service* service, std::string health_name,
                  HealthProbe probe = nullptr);
  // A health name that tells a role, not the health of the work: SERVING
  // while `probe` passes, and not counted in the process's overall ("")
  // status. The host adds kWriterHealthName with it.
  void AddRoleHealth(std::string health_name, HealthProbe probe);
  absl::Status Start();
  int port() const { return port_; }
  int health_port() const { return health_port_; }  // 0 without one
  std::string target() const;                       // "127.0.0.1:<port>"
  int64_t calls_in_flight() const { return calls_.in_flight(); }

  // Marks every service NOT_SERVING, stops accepting calls, waits up to
  // `grace` for unary calls in flight to finish, then cancels what is
  // left (server streams, calls past the grace) and closes every
  // connection. An idle client connection does not delay it: gRPC's own
  // Shutdown(deadline) waits for every connection to close and so, with a
  // client that keeps its channel open, for the whole deadline.
  void Shutdown(absl::Duration grace);
  void Wait();

 private:
  struct Hosted {
    grpc::Service* service;
    std::string health_name;
    HealthProbe probe;
  };
  // Sets every health status from the probes (and `serving` overall).
  void UpdateHealth();
  void WatchHealth();

  ServerOptions options_;
  std::vector<Hosted> services_;
  std::vector<Hosted> roles_;  // AddRoleHealth; no service behind them
  absl::Mutex health_mu_;
  bool shutting_down_ ABSL_GUARDED_BY(health_mu_) = false;
  std::thread health_thread_;
  CallTracker calls_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> health_server_;
  int health_port_ = 0;
};

}  // namespace lotledger::server

#endif  // LOTLEDGER_LIBS_SERVER_GRPC_SERVER_H_
