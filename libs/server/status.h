// The one place where absl::Status becomes grpc::Status (style.md,
// "Errors"). Codes map one to one; the message is kept as is.
#ifndef LOTLEDGER_LIBS_SERVER_STATUS_H_
#define LOTLEDGER_LIBS_SERVER_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace lotledger::server {

grpc::Status ToGrpc(const absl::Status& status);

}  // namespace lotledger::server

#endif  // LOTLEDGER_LIBS_SERVER_STATUS_H_
