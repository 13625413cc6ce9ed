// Process configuration: what a server refuses to start with (dev tokens
// outside a developer's machine, plaintext off loopback), and that
// start-up errors never echo a Kafka property's value (a password).
#include "libs/server/process.h"

#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace lotledger::server {
namespace {

absl::StatusOr<ProcessConfig> Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "lots-service");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  return ParseProcessConfig(static_cast<int>(argv.size()), argv.data(),
                            "lots-service");
}

TEST(ProcessConfig, DevTokensOnlyWithInsecureDev) {
  // TLS on a public address with dev tokens: refused, naming the flag.
  absl::StatusOr<ProcessConfig> c =
      Parse({"--listen=0.0.0.0:7070", "--tls-cert=/x/tls.crt",
             "--tls-key=/x/tls.key", "--dev-tokens=/x/tokens"});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(c.status().message(),
                               "--dev-tokens: only with --insecure-dev=true"))
      << c.status();
  // TLS on loopback too: dev tokens need the developer's switch.
  c = Parse({"--listen=127.0.0.1:7070", "--tls-cert=/x/tls.crt",
             "--tls-key=/x/tls.key", "--dev-tokens=/x/tokens"});
  EXPECT_FALSE(c.ok());
  // JWTs with TLS on a public address: fine.
  c = Parse({"--listen=0.0.0.0:7070", "--tls-cert=/x/tls.crt",
             "--tls-key=/x/tls.key", "--jwks-file=/x/jwks.json",
             "--jwt-issuer=https://idp", "--jwt-audience=lotledger"});
  EXPECT_TRUE(c.ok()) << c.status();
}

TEST(ProcessConfig, InsecureDevOnlyOnLoopback) {
  for (const std::string listen :
       {"0.0.0.0:7070", "10.1.2.3:7070", "[::]:7070", "lotledger:7070",
        "192.168.0.127:7070", ":7070"}) {
    absl::StatusOr<ProcessConfig> c =
        Parse({"--listen=" + listen, "--insecure-dev=true"});
    ASSERT_FALSE(c.ok()) << listen;
    EXPECT_TRUE(
        absl::StartsWith(c.status().message(),
                         "--insecure-dev=true: only with a loopback --listen"))
        << c.status();
    EXPECT_NE(c.status().message().find(listen), std::string::npos)
        << c.status();
  }
  for (const std::string listen :
       {"127.0.0.1:7070", "127.9.8.7:0", "[::1]:7070", "localhost:7070",
        "LocalHost:1"}) {
    absl::StatusOr<ProcessConfig> c =
        Parse({"--listen=" + listen, "--insecure-dev=true",
               "--dev-tokens=/x/tokens"});
    EXPECT_TRUE(c.ok()) << listen << ": " << c.status();
  }
  // The default listen address is loopback: ./tools/run's command line.
  EXPECT_TRUE(Parse({"--data-dir=./data", "--dev-tokens=./data/dev-tokens",
                     "--insecure-dev=true"})
                  .ok());
}

TEST(ProcessConfig, ConfigBuiltInCodeIsCheckedToo) {
  ProcessConfig c;
  c.listen = "0.0.0.0:0";
  c.tls.insecure_dev = true;
  c.dev_tokens = "/x/tokens";
  EXPECT_EQ(ValidateProcessConfig(c).code(),
            absl::StatusCode::kInvalidArgument);
  c.listen = "127.0.0.1:0";
  EXPECT_TRUE(ValidateProcessConfig(c).ok());
}

TEST(ProcessConfig, ArgumentErrorsNeverEchoAValue) {
  // A mistyped flag (one dash) whose value is a Kafka password.
  absl::StatusOr<ProcessConfig> c =
      Parse({"-kafka-properties=sasl.password=hunter2-secret",
             "--insecure-dev=true"});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message().find("hunter2"), std::string::npos)
      << c.status();
  EXPECT_NE(c.status().message().find("-kafka-properties=..."),
            std::string::npos)
      << c.status();
}

TEST(ProcessConfig, KafkaPropertyErrorsNeverEchoTheValue) {
  // librdkafka refuses these at configuration time, before any broker is
  // contacted; the errors name the property, never its value.
  for (const auto& [name, value] :
       std::vector<std::pair<std::string, std::string>>{
           {"sasl.secret.token", "hunter2-secret"},
           {"ssl.key.password.typo", "hunter2-secret"},
           {"security.protocol", "hunter2-secret"}}) {
    ProcessConfig c;
    c.log = "kafka";
    c.kafka_bootstrap = "127.0.0.1:1";
    c.kafka_properties[name] = value;
    absl::Status s = OpenEventLog(c, "lots-service").status();
    ASSERT_FALSE(s.ok()) << name;
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_NE(s.message().find(name), std::string::npos) << s;
    EXPECT_EQ(s.message().find("hunter2"), std::string::npos) << s;
  }
}

}  // namespace
}  // namespace lotledger::server
