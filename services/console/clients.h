// The console's configuration and its gRPC clients of the lotledger
// services. The console has no read path of its own: every page is built
// from these calls, each sent with the signed-in person's token as
// `authorization: Bearer <token>`, so the services alone decide who sees
// what (docs/security.md).
//
// Flags (`--foo=bar`; each has the env twin LOTLEDGER_CONSOLE_FOO, a flag
// wins over the environment):
//   --listen=127.0.0.1:8080   where the console serves HTTP (port 0: any)
//   --target=HOST:PORT        every service at one address (lotledgerd)
//   --lots-target --quality-target --inventory-target --recall-target
//   --audit-target            per-service overrides (separate processes)
//   --insecure-dev=true       plaintext gRPC; only with a loopback --listen
//   --tls-ca=FILE             CA bundle for TLS to the services (default:
//                             the system roots)
//   --tls-server-name=NAME    expected name in the services' certificates
//   --call-timeout-seconds=N  deadline of each gRPC call (default 30)
//
// Thread-safety: ConsoleClients is immutable after Make; its stubs may be
// used from any thread.
#ifndef LOTLEDGER_SERVICES_CONSOLE_CLIENTS_H_
#define LOTLEDGER_SERVICES_CONSOLE_CLIENTS_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lotledger/v1/audit.grpc.pb.h"
#include "lotledger/v1/inventory.grpc.pb.h"
#include "lotledger/v1/lots.grpc.pb.h"
#include "lotledger/v1/quality.grpc.pb.h"
#include "lotledger/v1/recall.grpc.pb.h"

namespace lotledger::console {

struct ConsoleConfig {
  std::string listen = "127.0.0.1:8080";
  std::string target = "127.0.0.1:7070";
  // Empty: `target`.
  std::string lots_target;
  std::string quality_target;
  std::string inventory_target;
  std::string recall_target;
  std::string audit_target;
  bool insecure_dev = false;
  std::string tls_ca;
  std::string tls_server_name;
  absl::Duration call_timeout = absl::Seconds(30);
};

// Reads the flags (argv) and their env twins (`getenv`, std::getenv when
// null). --help: a Cancelled status whose message is the usage text.
// InvalidArgument naming the flag for an unknown flag or a bad value, and
// for --insecure-dev=true with a --listen that is not loopback.
absl::StatusOr<ConsoleConfig> ParseConsoleConfig(
    int argc, char** argv,
    const std::function<const char*(const char*)>& getenv = nullptr);

std::string ConsoleUsage();

class ConsoleClients {
 public:
  // Channels to the configured targets (plaintext with insecure_dev, TLS
  // otherwise; the CA file must be readable). Channels connect lazily.
  static absl::StatusOr<ConsoleClients> Make(const ConsoleConfig& config);

  // A context for one call: the deadline and the bearer token.
  std::unique_ptr<grpc::ClientContext> Call(const std::string& token) const;

  lotledger::v1::LotsService::Stub& lots() const { return *lots_; }
  lotledger::v1::QualityService::Stub& quality() const { return *quality_; }
  lotledger::v1::InventoryService::Stub& inventory() const {
    return *inventory_;
  }
  lotledger::v1::RecallService::Stub& recall() const { return *recall_; }
  lotledger::v1::AuditService::Stub& audit() const { return *audit_; }

 private:
  absl::Duration timeout_;
  std::shared_ptr<lotledger::v1::LotsService::Stub> lots_;
  std::shared_ptr<lotledger::v1::QualityService::Stub> quality_;
  std::shared_ptr<lotledger::v1::InventoryService::Stub> inventory_;
  std::shared_ptr<lotledger::v1::RecallService::Stub> recall_;
  std::shared_ptr<lotledger::v1::AuditService::Stub> audit_;
};

}  // namespace lotledger::console

#endif  // LOTLEDGER_SERVICES_CONSOLE_CLIENTS_H_
