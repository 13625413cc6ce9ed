#include "services/host/host.h"

#include <cstdio>
#include <filesystem>
#include <memory>

#include "absl/strings/str_cat.h"
#include "libs/command/service_core.h"
#include "libs/common/clock.h"
#include "libs/common/status_macros.h"
#include "libs/server/auth.h"
#include "libs/server/grpc_server.h"
#include "libs/server/process.h"
#include "services/lots/lots_service.h"
#include "services/quality/quality_service.h"

namespace lotledger {
namespace {

void LogLine(const std::string& level, const std::string& msg,
             const std::string& extra = "") {
  std::fprintf(stderr, "{\"level\":\"%s\",\"msg\":\"%s\"%s}\n", level.c_str(),
               msg.c_str(), extra.c_str());
  std::fflush(stderr);
}

// One hosted service: its core (projection, projector, writer) and its
// gRPC implementation.
struct Hosted {
  std::unique_ptr<command::ServiceCore> core;
  std::unique_ptr<grpc::Service> grpc;
  std::string health_name;
};

absl::StatusOr<Hosted> OpenService(const std::string& name,
                                   eventlog::EventLog* log,
                                   const server::ProcessConfig& config,
                                   const server::Guard* guard) {
  const std::string dir =
      (std::filesystem::path(config.data_dir) / "projections" / name).string();
  Hosted h;
  if (name == "lots") {
    ASSIGN_OR_RETURN(h.core, command::ServiceCore::Open(
                                 log, lots::LotsServiceSpec(config.partitions), dir));
    h.grpc = std::make_unique<lots::LotsServiceImpl>(h.core.get(), guard,
                                                     SystemClock::Get());
    h.health_name = "lotledger.v1.LotsService";
    return h;
  }
  if (name == "quality") {
    ASSIGN_OR_RETURN(h.core,
                     command::ServiceCore::Open(
                         log, quality::QualityServiceSpec(config.partitions), dir));
    h.grpc = std::make_unique<quality::QualityServiceImpl>(
        h.core.get(), guard, SystemClock::Get());
    h.health_name = "lotledger.v1.QualityService";
    return h;
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown service ", name));
}

absl::Status Run(int argc, char** argv, const std::string& program,
                 const std::vector<std::string>& services,
                 const std::string& default_log) {
  if (std::getenv("LOTLEDGER_LOG") == nullptr) {
    setenv("LOTLEDGER_LOG", default_log.c_str(), 0);
  }
  ASSIGN_OR_RETURN(server::ProcessConfig config,
                   server::ParseProcessConfig(argc, argv, program));
  if (config.dev_tokens.empty()) {
    return absl::InvalidArgumentError(
        "--dev-tokens: required (a file of `<token> <principal> <roles>` lines)");
  }
  ASSIGN_OR_RETURN(auto authenticator,
                   server::DevTokenAuthenticator::FromFile(config.dev_tokens));
  server::Guard guard(authenticator.get());
  ASSIGN_OR_RETURN(std::unique_ptr<eventlog::EventLog> log,
                   server::OpenEventLog(config, program));

  std::vector<Hosted> hosted;
  server::GrpcServer grpc_server({.address = config.listen});
  for (const std::string& name : services) {
    ASSIGN_OR_RETURN(Hosted h, OpenService(name, log.get(), config, &guard));
    grpc_server.AddService(h.grpc.get(), h.health_name);
    hosted.push_back(std::move(h));
  }
  RETURN_IF_ERROR(grpc_server.Start());
  LogLine("info", "serving",
          absl::StrCat(",\"program\":\"", program, "\",\"listen\":\"",
                       grpc_server.target(), "\",\"log\":\"", config.log, "\""));

  const int sig = server::WaitForTerminationSignal();
  LogLine("info", "shutting down", absl::StrCat(",\"signal\":", sig));
  // Stop taking calls and let those in flight finish; then stop the
  // projectors and close the projections and the log (destructors).
  grpc_server.Shutdown(config.shutdown_grace);
  grpc_server.Wait();
  for (Hosted& h : hosted) h.core->Stop();
  LogLine("info", "stopped");
  return absl::OkStatus();
}

}  // namespace

int RunHost(int argc, char** argv, const std::string& program,
            const std::vector<std::string>& services,
            const std::string& default_log) {
  server::BlockTerminationSignals();
  absl::Status s = Run(argc, argv, program, services, default_log);
  if (s.code() == absl::StatusCode::kCancelled) {  // --help
    std::fputs(std::string(s.message()).c_str(), stdout);
    return 0;
  }
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", program.c_str(),
                 std::string(s.message()).c_str());
    return 2;
  }
  return 0;
}

}  // namespace lotledger
