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
// Thread-safety: configure (AddService) before Start; Start, Shutdown and
// Wait from one controlling thread; port() from any thread after Start.
#ifndef LOTLEDGER_LIBS_SERVER_GRPC_SERVER_H_
#define LOTLEDGER_LIBS_SERVER_GRPC_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
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
};

class GrpcServer {
 public:
  explicit GrpcServer(ServerOptions options);
  ~GrpcServer();

  // `health_name` is the name health checks ask for, conventionally the
  // service's full name ("lotledger.v1.LotsService").
  void AddService(grpc::Service* service, std::string health_name);
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
  ServerOptions options_;
  std::vector<std::pair<grpc::Service*, std::string>> services_;
  CallTracker calls_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> health_server_;
  int health_port_ = 0;
};

}  // namespace lotledger::server

#endif  // LOTLEDGER_LIBS_SERVER_GRPC_SERVER_H_
