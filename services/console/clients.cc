#include "services/console/clients.h"

#include <chrono>
#include <cstdlib>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "libs/server/process.h"
#include "libs/server/tls.h"

namespace lotledger::console {
namespace {

struct Flag {
  const char* name;
  const char* help;
  std::function<absl::Status(ConsoleConfig&, const std::string&)> set;
};

std::function<absl::Status(ConsoleConfig&, const std::string&)> SetString(
    std::string ConsoleConfig::*field) {
  return [field](ConsoleConfig& c, const std::string& v) {
    c.*field = v;
    return absl::OkStatus();
  };
}

const std::vector<Flag>& Flags() {
  static const auto* flags = new std::vector<Flag>{
      {"listen",
       "HTTP listen address (host:port; port 0 picks one; default "
       "127.0.0.1:8080)",
       SetString(&ConsoleConfig::listen)},
      {"target",
       "gRPC address of every lotledger service, as lotledgerd serves "
       "them (default 127.0.0.1:7070)",
       SetString(&ConsoleConfig::target)},
      {"lots-target", "gRPC address of the lots service (default --target)",
       SetString(&ConsoleConfig::lots_target)},
      {"quality-target", "gRPC address of the quality service",
       SetString(&ConsoleConfig::quality_target)},
      {"inventory-target", "gRPC address of the inventory service",
       SetString(&ConsoleConfig::inventory_target)},
      {"recall-target", "gRPC address of the recall service",
       SetString(&ConsoleConfig::recall_target)},
      {"audit-target", "gRPC address of the audit service",
       SetString(&ConsoleConfig::audit_target)},
      {"insecure-dev",
       "true: plaintext gRPC and HTTP, loopback --listen and targets only "
       "(default false: TLS to the services)",
       [](ConsoleConfig& c, const std::string& v) {
         if (v != "true" && v != "false") {
           return absl::InvalidArgumentError(
               "--insecure-dev: must be true or false");
         }
         c.insecure_dev = v == "true";
         return absl::OkStatus();
       }},
      {"tls-ca",
       "CA bundle (PEM) the services' certificates chain to (default: "
       "the system roots)",
       SetString(&ConsoleConfig::tls_ca)},
      {"tls-server-name", "name expected in the services' certificates",
       SetString(&ConsoleConfig::tls_server_name)},
      {"call-timeout-seconds", "deadline of each gRPC call (default 30)",
       [](ConsoleConfig& c, const std::string& v) {
         int seconds = 0;
         if (!absl::SimpleAtoi(v, &seconds) || seconds < 1 || seconds > 600) {
           return absl::InvalidArgumentError(
               "--call-timeout-seconds: expected an integer in 1..600");
         }
         c.call_timeout = absl::Seconds(seconds);
         return absl::OkStatus();
       }},
  };
  return *flags;
}

std::string EnvName(const std::string& flag) {
  return "LOTLEDGER_CONSOLE_" +
         absl::AsciiStrToUpper(absl::StrReplaceAll(flag, {{"-", "_"}}));
}

}  // namespace

std::string ConsoleUsage() {
  std::string out =
      "lotledger-console: the web console of lotledger (docs/console.md)\n"
      "Flags (each also as env LOTLEDGER_CONSOLE_<FLAG>):\n";
  for (const Flag& f : Flags()) {
    absl::StrAppend(&out, "  --", f.name, "  ", f.help, "  [", EnvName(f.name),
                    "]\n");
  }
  return out;
}

absl::StatusOr<ConsoleConfig> ParseConsoleConfig(
    int argc, char** argv,
    const std::function<const char*(const char*)>& getenv) {
  ConsoleConfig config;
  for (const Flag& f : Flags()) {
    const std::string env = EnvName(f.name);
    const char* v = getenv ? getenv(env.c_str()) : std::getenv(env.c_str());
    if (v != nullptr) {
      if (absl::Status s = f.set(config, v); !s.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(env, ": ", s.message()));
      }
    }
  }
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      return absl::CancelledError(ConsoleUsage());
    }
    if (arg.rfind("--", 0) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument '", arg, "' (see --help)"));
    }
    const size_t eq = arg.find('=');
    const std::string name =
        arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    const Flag* flag = nullptr;
    for (const Flag& f : Flags()) {
      if (name == f.name) flag = &f;
    }
    if (flag == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag --", name, " (see --help)"));
    }
    std::string value = eq == std::string::npos ? "" : arg.substr(eq + 1);
    if (eq == std::string::npos && name == "insecure-dev") value = "true";
    if (absl::Status s = flag->set(config, value); !s.ok()) return s;
  }
  if (config.insecure_dev) {
    if (!server::IsLoopbackAddress(config.listen)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--insecure-dev=true: only with a loopback --listen (127.0.0.0/8 "
          "or localhost), not ",
          config.listen,
          "; a console reachable from other machines runs behind TLS"));
    }
    for (const auto& [flag, value] :
         std::vector<std::pair<const char*, std::string>>{
             {"target", config.target},
             {"lots-target", config.lots_target},
             {"quality-target", config.quality_target},
             {"inventory-target", config.inventory_target},
             {"recall-target", config.recall_target},
             {"audit-target", config.audit_target}}) {
      if (!value.empty() && !server::IsLoopbackAddress(value)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--", flag,
            ": with --insecure-dev=true tokens travel in "
            "plaintext, so only a loopback service address is accepted, not ",
            value));
      }
    }
  }
  return config;
}

absl::StatusOr<ConsoleClients> ConsoleClients::Make(
    const ConsoleConfig& config) {
  server::ClientTlsOptions tls;
  tls.insecure = config.insecure_dev;
  tls.ca_file = config.tls_ca;
  tls.server_name = config.tls_server_name;
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> made =
      server::MakeChannelCredentials(tls);
  if (!made.ok()) return made.status();
  const std::shared_ptr<grpc::ChannelCredentials> creds = *std::move(made);
  const grpc::ChannelArguments args = server::ChannelArgumentsFor(tls);
  // One channel per distinct address, shared by the stubs that use it.
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels;
  auto channel = [&](const std::string& override_target) {
    const std::string& t =
        override_target.empty() ? config.target : override_target;
    auto& c = channels[t];
    if (c == nullptr) c = grpc::CreateCustomChannel(t, creds, args);
    return c;
  };
  ConsoleClients clients;
  clients.timeout_ = config.call_timeout;
  clients.lots_ =
      lotledger::v1::LotsService::NewStub(channel(config.lots_target));
  clients.quality_ =
      lotledger::v1::QualityService::NewStub(channel(config.quality_target));
  clients.inventory_ = lotledger::v1::InventoryService::NewStub(
      channel(config.inventory_target));
  clients.recall_ =
      lotledger::v1::RecallService::NewStub(channel(config.recall_target));
  clients.audit_ =
      lotledger::v1::AuditService::NewStub(channel(config.audit_target));
  return clients;
}

std::unique_ptr<grpc::ClientContext> ConsoleClients::Call(
    const std::string& token) const {
  auto call = std::make_unique<grpc::ClientContext>();
  call->set_deadline(std::chrono::system_clock::now() +
                     absl::ToChronoMilliseconds(timeout_));
  if (!token.empty()) call->AddMetadata("authorization", "Bearer " + token);
  return call;
}

}  // namespace lotledger::console
