// The host's table and configuration: it runs exactly the services of the
// topic registry and refuses any other name naming those it runs; a
// binary's default log backend is passed as a default (the environment is
// never written), below the env twin and the flag; --help lists every
// flag's default.
#include "services/host/host.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libs/common/ids.h"
#include "libs/common/topics.h"
#include "libs/server/process.h"

namespace lotledger {
namespace {

absl::StatusOr<server::ProcessConfig> Parse(std::vector<std::string> args,
                                            const std::string& default_log) {
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  return server::ParseProcessConfig(static_cast<int>(argv.size()), argv.data(),
                                    "test-service", HostDefaults(default_log));
}

// Clears LOTLEDGER_LOG for the test and restores what it was.
class LogEnv {
 public:
  LogEnv() {
    if (const char* v = std::getenv("LOTLEDGER_LOG"); v != nullptr) saved_ = v;
    unsetenv("LOTLEDGER_LOG");
  }
  ~LogEnv() {
    if (saved_.has_value()) {
      setenv("LOTLEDGER_LOG", saved_->c_str(), 1);
    } else {
      unsetenv("LOTLEDGER_LOG");
    }
  }

 private:
  std::optional<std::string> saved_;
};

TEST(HostTest, RunsTheServicesOfTheTopicRegistry) {
  std::vector<std::string> registry;
  for (const topics::ServiceTopics& s : topics::Services()) {
    registry.emplace_back(s.service);
  }
  EXPECT_EQ(HostableServices(), registry);
}

TEST(HostTest, UnknownServiceIsRefusedNamingThoseItRuns) {
  server::ProcessConfig config;
  config.listen = "127.0.0.1:0";
  config.tls.insecure_dev = true;
  config.data_dir = (std::filesystem::temp_directory_path() /
                     ("host-test-" + NewUuidV7(absl::Now())))
                        .string();
  std::filesystem::create_directories(config.data_dir);
  config.dev_tokens = config.data_dir + "/dev-tokens";
  std::ofstream(config.dev_tokens) << "dev-admin admin admin\n";
  absl::StatusOr<std::unique_ptr<ServerHost>> host =
      ServerHost::Start(config, "test-service", {"lots", "billing"});
  ASSERT_FALSE(host.ok());
  EXPECT_EQ(host.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(host.status().message()),
            "unknown service billing; a host runs lots, quality, inventory, "
            "recall, audit");
  std::filesystem::remove_all(config.data_dir);
}

TEST(HostTest, DefaultLogIsADefaultNotAnEnvironmentVariable) {
  LogEnv env;
  const std::vector<std::string> kafka = {"x", "--insecure-dev=true",
                                          "--kafka-bootstrap=127.0.0.1:1"};
  absl::StatusOr<server::ProcessConfig> c = Parse(kafka, "kafka");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->log, "kafka");
  EXPECT_EQ(std::getenv("LOTLEDGER_LOG"), nullptr);
  c = Parse({"x", "--insecure-dev=true"}, "embedded");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->log, "embedded");
  // The other defaults a server starts from.
  EXPECT_EQ(c->metrics_listen, "127.0.0.1:9090");
  EXPECT_EQ(c->expiry_sweep_interval, absl::Hours(1));
  EXPECT_TRUE(c->log_requests);

  // The env twin wins over the binary's default; the flag over both.
  setenv("LOTLEDGER_LOG", "embedded", 1);
  c = Parse(kafka, "kafka");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->log, "embedded");
  std::vector<std::string> flag = kafka;
  flag.push_back("--log=kafka");
  c = Parse(flag, "embedded");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->log, "kafka");
}

TEST(HostTest, HelpShowsEveryDefault) {
  LogEnv env;
  for (const std::string log : {"kafka", "embedded"}) {
    absl::StatusOr<server::ProcessConfig> c = Parse({"x", "--help"}, log);
    ASSERT_EQ(c.status().code(), absl::StatusCode::kCancelled);
    const std::string usage(c.status().message());
    for (const std::string& line : {
             "  --log  (env LOTLEDGER_LOG, default " + log + ")\n",
             std::string("  --listen  (env LOTLEDGER_LISTEN, default "
                         "127.0.0.1:7070)\n"),
             std::string("  --partitions  (env LOTLEDGER_PARTITIONS, "
                         "default 3)\n"),
             std::string("  --expiry-sweep-seconds  (env "
                         "LOTLEDGER_EXPIRY_SWEEP_SECONDS, default 3600)\n"),
             std::string("  --metrics-listen  (env LOTLEDGER_METRICS_LISTEN, "
                         "default 127.0.0.1:9090)\n"),
             std::string("  --log-requests  (env LOTLEDGER_LOG_REQUESTS, "
                         "default true)\n"),
             std::string("  --signature-max-age  (env "
                         "LOTLEDGER_SIGNATURE_MAX_AGE, default 5m)\n"),
             std::string("  --max-message-bytes  (env "
                         "LOTLEDGER_MAX_MESSAGE_BYTES, default 4194304)\n"),
             // Empty by default: no default shown; never a secret.
             std::string("  --kafka-properties  (env "
                         "LOTLEDGER_KAFKA_PROPERTIES)\n"),
             std::string("  --jwks-file  (env LOTLEDGER_JWKS_FILE)\n"),
         }) {
      EXPECT_NE(usage.find(line), std::string::npos)
          << "missing: " << line << "in:\n"
          << usage;
    }
  }
}

}  // namespace
}  // namespace lotledger
