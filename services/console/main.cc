// lotledger-console: the web console (docs/console.md). Serves HTTP on
// --listen and builds every page from gRPC calls to the services, made
// with the signed-in person's token. Logs one "serving" line (JSON, on
// stderr) once listening; stops on SIGINT/SIGTERM.
#include <cstdio>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "libs/common/json_log.h"
#include "libs/server/process.h"
#include "services/console/clients.h"
#include "services/console/console.h"
#include "services/console/http.h"

int main(int argc, char** argv) {
  using namespace lotledger;
  using namespace lotledger::console;
  const std::string program = "lotledger-console";
  server::BlockTerminationSignals();
  absl::StatusOr<ConsoleConfig> config = ParseConsoleConfig(argc, argv);
  if (config.status().code() == absl::StatusCode::kCancelled) {  // --help
    std::fputs(std::string(config.status().message()).c_str(), stdout);
    return 0;
  }
  if (!config.ok()) {
    LogJson("error", "cannot start",
            {{"program", program},
             {"error", std::string(config.status().message())}});
    return 2;
  }
  absl::StatusOr<ConsoleClients> clients = ConsoleClients::Make(*config);
  if (!clients.ok()) {
    LogJson("error", "cannot start",
            {{"program", program},
             {"error", std::string(clients.status().message())}});
    return 2;
  }
  const Console console(*std::move(clients),
                        /*secure_cookie=*/!config->insecure_dev);
  absl::StatusOr<std::unique_ptr<HttpServer>> server =
      HttpServer::Start(config->listen, [&console](const HttpRequest& request) {
        return console.Handle(request);
      });
  if (!server.ok()) {
    LogJson("error", "cannot start",
            {{"program", program},
             {"error", std::string(server.status().message())}});
    return 2;
  }
  LogJsonRaw("info", "serving",
             {{"program", JsonString(program)},
              {"listen", JsonString((*server)->address())},
              {"metrics_port", "0"},
              {"health_port", "0"}});
  const int sig = server::WaitForTerminationSignal();
  LogJsonRaw("info", "shutting down", {{"signal", absl::StrCat(sig)}});
  (*server)->Stop();
  LogJson("info", "stopped", {{"program", program}});
  return 0;
}
