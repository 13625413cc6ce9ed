// Authentication before a request is read: a call to a lotledger method
// (`/lotledger.*`) without a valid bearer token, and without a verified
// client certificate, is refused UNAUTHENTICATED by gRPC's server auth
// filter from its headers alone, before gRPC reads, buffers or decodes its
// message. An anonymous caller therefore cannot make the server hold or
// parse megabytes per call (a 4 MiB CreateLot costs the server its headers
// only). Health and reflection stay public.
//
// It authenticates only; authorization (the role table), limits and
// signatures stay with Guard::Check in the handler, which authenticates
// the call again. A refusal is reported like Guard's (ReportDenial: the
// log line and the counter), without the token.
//
// Installed by GrpcServer on the server credentials (TLS credentials from
// MakeServerCredentials, or its plaintext ones for --insecure-dev; gRPC's
// own InsecureServerCredentials cannot carry a processor).
//
// Thread-safety: Check and Process may be called from any thread.
#ifndef LOTLEDGER_LIBS_SERVER_EARLY_AUTH_H_
#define LOTLEDGER_LIBS_SERVER_EARLY_AUTH_H_

#include <grpcpp/security/auth_metadata_processor.h>

#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "libs/server/auth.h"

namespace lotledger::server {

class EarlyAuthProcessor final : public grpc::AuthMetadataProcessor {
 public:
  // `authenticator` must outlive the server.
  explicit EarlyAuthProcessor(const Authenticator* authenticator)
      : authenticator_(authenticator) {}

  // Run on gRPC's own thread pool: a JWT check may read the JWKS file.
  bool IsBlocking() const override { return true; }

  grpc::Status Process(const InputMetadata& auth_metadata,
                       grpc::AuthContext* context,
                       OutputMetadata* consumed_auth_metadata,
                       OutputMetadata* response_metadata) override;

  // The decision for a call to `path` ("/lotledger.v1.LotsService/
  // CreateLot") carrying `authorization` (nullopt: none), over a
  // connection whose client certificate verified or not. OK for every
  // path outside lotledger and for a verified certificate without a
  // token; otherwise (an empty path too) the bearer token must
  // authenticate. `traceparent` (the call's W3C header, possibly empty or
  // invalid) puts the call's trace id on a refusal's log line.
  absl::Status Check(std::string_view path,
                     std::optional<std::string_view> authorization,
                     bool verified_client_certificate,
                     std::string_view traceparent = {}) const;

 private:
  const Authenticator* authenticator_;
};

}  // namespace lotledger::server

#endif  // LOTLEDGER_LIBS_SERVER_EARLY_AUTH_H_
