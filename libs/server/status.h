// The one place where absl::Status becomes grpc::Status: libraries return
// absl::Status, handlers answer grpc::Status, and the conversion happens
// here only. Codes map one to one; the message is kept as is. And the one
// name of a status code ("FAILED_PRECONDITION"), for logs and messages.
#ifndef LOTLEDGER_LIBS_SERVER_STATUS_H_
#define LOTLEDGER_LIBS_SERVER_STATUS_H_

#include <grpcpp/support/status.h>

#include <string>

#include "absl/status/status.h"

namespace lotledger::server {

grpc::Status ToGrpc(const absl::Status& status);

// The code's name as gRPC and google.rpc.Code spell it; "CODE_<n>" for a
// number outside the enum. Inline so a client (lotctl) can use it without
// linking the server library.
inline std::string CodeName(grpc::StatusCode code) {
  // absl::StatusCode and grpc::StatusCode share their numeric values.
  std::string name =
      absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
  if (name.empty()) name = "CODE_" + std::to_string(static_cast<int>(code));
  return name;
}

}  // namespace lotledger::server

#endif  // LOTLEDGER_LIBS_SERVER_STATUS_H_
