// RunHost: the whole life of a lotledger server process, shared by every
// binary. lotledgerd hosts every service on the embedded log; lots-service,
// quality-service, ... each host one, normally on Kafka. A main() only
// names its program and services.
#ifndef LOTLEDGER_SERVICES_HOST_HOST_H_
#define LOTLEDGER_SERVICES_HOST_HOST_H_

#include <string>
#include <vector>

namespace lotledger {

// Parses configuration (libs/server/process.h), opens the log, opens each
// named service's projection and starts its projector, serves gRPC until
// SIGINT/SIGTERM, then shuts down gracefully. Returns the exit code.
int RunHost(int argc, char** argv, const std::string& program,
            const std::vector<std::string>& services,
            const std::string& default_log);

}  // namespace lotledger

#endif  // LOTLEDGER_SERVICES_HOST_HOST_H_
