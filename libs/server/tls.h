// Transport security for every gRPC port.
//
// Server: TLS from a certificate chain and key file, re-read when the files
// change (gRPC's FileWatcherCertificateProvider; replace the files
// atomically, e.g. rename or a symlinked directory as Kubernetes Secrets
// do). With a client CA, clients may present certificates signed by it
// (mutual TLS); a verified certificate's CN becomes a principal with the
// role "service" (auth.h). Plaintext only when `insecure_dev` says so.
//
// Client: TLS against a CA file (or the system roots), optionally with a
// client certificate; plaintext only when asked.
//
// Thread-safety: plain functions; the credentials they return are
// thread-safe.
#ifndef LOTLEDGER_LIBS_SERVER_TLS_H_
#define LOTLEDGER_LIBS_SERVER_TLS_H_

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace lotledger::server {

struct TlsOptions {
  std::string cert_file;       // PEM certificate chain
  std::string key_file;        // PEM private key
  std::string client_ca_file;  // PEM CA bundle: turns on mutual TLS
  // Plaintext, for a developer's machine only (tools/run, tests).
  bool insecure_dev = false;
  // How often the files are checked for changes (gRPC's minimum is 1 s).
  absl::Duration refresh = absl::Seconds(60);
};

// INVALID_ARGUMENT when neither a certificate and key nor insecure_dev is
// given, or the files do not hold a matching PEM certificate and key.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsOptions& options);

struct ClientTlsOptions {
  bool insecure = false;  // plaintext
  std::string ca_file;    // empty: the system roots
  std::string cert_file;  // client certificate for mutual TLS (optional)
  std::string key_file;
  std::string server_name;  // check the certificate for this name instead
};

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>>
MakeChannelCredentials(const ClientTlsOptions& options);

// Channel arguments that go with `options` (the server name override).
grpc::ChannelArguments ChannelArgumentsFor(const ClientTlsOptions& options);

}  // namespace lotledger::server

#endif  // LOTLEDGER_LIBS_SERVER_TLS_H_
