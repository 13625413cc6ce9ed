#include "libs/server/early_auth.h"

#include <string>

#include "libs/common/trace_context.h"

namespace lotledger::server {

absl::Status EarlyAuthProcessor::Check(
    std::string_view path, std::optional<std::string_view> authorization,
    bool verified_client_certificate, std::string_view traceparent) const {
  // Fail closed: a call whose path gRPC did not pass needs a token too.
  if (!path.empty() && !path.starts_with("/lotledger.")) {
    return absl::OkStatus();
  }
  if (!authorization.has_value() && verified_client_certificate) {
    return absl::OkStatus();  // a service identity (mutual TLS)
  }
  absl::StatusOr<Principal> p =
      AuthenticateBearer(*authenticator_, authorization);
  if (p.ok()) return absl::OkStatus();
  ScopedTraceContext trace(TraceFromHeader(traceparent));
  ReportDenial({.principal = "",
                .method = std::string(path),
                .code = p.status().code(),
                .reason = std::string(p.status().message())});
  return p.status();
}

grpc::Status EarlyAuthProcessor::Process(const InputMetadata& md,
                                         grpc::AuthContext* context,
                                         OutputMetadata*, OutputMetadata*) {
  std::string_view path;
  if (auto it = md.find(":path"); it != md.end()) {
    path = std::string_view(it->second.data(), it->second.size());
  }
  std::optional<std::string_view> authorization;
  if (auto it = md.find("authorization"); it != md.end()) {
    authorization = std::string_view(it->second.data(), it->second.size());
  }
  std::string_view traceparent;
  if (auto it = md.find(kTraceparentMetadata); it != md.end()) {
    traceparent = std::string_view(it->second.data(), it->second.size());
  }
  const bool certificate =
      context != nullptr && context->IsPeerAuthenticated() &&
      !context->FindPropertyValues("x509_common_name").empty();
  absl::Status s = Check(path, authorization, certificate, traceparent);
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()),
                      std::string(s.message()));
}

}  // namespace lotledger::server
