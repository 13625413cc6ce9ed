// What a server refuses to start with, on the embedded log and on Kafka:
// dev tokens outside a developer's loopback-only setup (the real lotledgerd
// binary, exit 2 with the flag named), and a listen address another server
// holds (no SO_REUSEPORT sharing: the second start fails naming the
// address, and every call keeps reaching the first).
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lotledger/v1/lots.grpc.pb.h"
#include "tests/support/service_cluster.h"
#include "tests/support/stack.h"

#ifndef LOTLEDGERD_PATH
#error "LOTLEDGERD_PATH must name the lotledgerd binary"
#endif

namespace lotledger::testing {
namespace {

struct Exit {
  int exit_code;
  std::string err;
};

// Runs lotledgerd with `args` to its end (a refused start ends at once;
// one that serves anyway is killed after a minute and fails the caller's
// exit-code check instead of hanging).
Exit RunLotledgerd(const std::string& dir, std::vector<std::string> args) {
  ServiceProcess lotledgerd(LOTLEDGERD_PATH, std::move(args),
                            dir + "/stderr-" + NewRequestId());
  const int status = lotledgerd.Wait(absl::Seconds(60));
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, lotledgerd.LogText()};
}

class HardeningStartupTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/hardening-startup-" + NewRequestId();
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ + "/tokens") << "tok-op operator.one operator\n";
  }
  std::string dir_;
};

TEST_P(HardeningStartupTest, DevTokensAndPlaintextOnlyOnLoopback) {
  std::vector<std::string> backend;
  if (GetParam() == Backend::kKafka) {
    backend = {"--log=kafka", "--kafka-bootstrap=127.0.0.1:1"};
  }
  auto with = [&](std::vector<std::string> args) {
    args.insert(args.end(), backend.begin(), backend.end());
    args.push_back("--data-dir=" + dir_ + "/data");
    return RunLotledgerd(dir_, args);
  };
  // Plaintext on every interface: refused, naming the flag and address.
  Exit r = with({"--listen=0.0.0.0:0", "--insecure-dev=true",
                 "--dev-tokens=" + dir_ + "/tokens"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--insecure-dev=true: only with a loopback --listen"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("0.0.0.0:0"), std::string::npos) << r.err;
  // TLS with dev tokens (what the Kubernetes base used to run): refused.
  r = with({"--listen=0.0.0.0:0", "--tls-cert=" + dir_ + "/tls.crt",
            "--tls-key=" + dir_ + "/tls.key",
            "--dev-tokens=" + dir_ + "/tokens"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--dev-tokens: only with --insecure-dev=true"),
            std::string::npos)
      << r.err;
  // Also through the environment (the Kubernetes way).
  setenv("LOTLEDGER_DEV_TOKENS", (dir_ + "/tokens").c_str(), 1);
  r = with({"--listen=0.0.0.0:0", "--tls-cert=" + dir_ + "/tls.crt",
            "--tls-key=" + dir_ + "/tls.key"});
  unsetenv("LOTLEDGER_DEV_TOKENS");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--dev-tokens: only with --insecure-dev=true"),
            std::string::npos)
      << r.err;
}

TEST_P(HardeningStartupTest, SecondServerOnABusyAddressDoesNotStart) {
  std::unique_ptr<TestStack> first = TestStack::Start(GetParam(), {"lots"});
  ASSERT_NE(first, nullptr);
  // Its own data and writer: the only thing the two share is the address.
  server::ProcessConfig c = first->config();
  c.listen = first->target();
  c.data_dir = dir_ + "/second";
  c.writer_id = NewRequestId();
  if (GetParam() == Backend::kKafka) {
    const std::string id = NewRequestId();
    c.topic_prefix = absl::StrCat("t", id.substr(0, 8), id.substr(24), ".");
  }
  absl::StatusOr<std::unique_ptr<ServerHost>> second =
      ServerHost::Start(c, "test-second", {"lots"});
  ASSERT_FALSE(second.ok()) << "a second server started on " << c.listen;
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable)
      << second.status();
  EXPECT_NE(second.status().message().find("--listen " + c.listen),
            std::string::npos)
      << second.status();

  // Every call, each on a connection of its own, reaches the first.
  for (int i = 0; i < 10; ++i) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    auto lots = v1::LotsService::NewStub(grpc::CreateCustomChannel(
        first->target(), grpc::InsecureChannelCredentials(), args));
    v1::GetProductRequest get;
    get.set_item("09506000134352");
    v1::GetProductResponse got;
    EXPECT_EQ(
        lots->GetProduct(first->Ctx("operator").get(), get, &got).error_code(),
        grpc::StatusCode::NOT_FOUND);
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, HardeningStartupTest,
                         ::testing::Values(Backend::kEmbedded, Backend::kKafka),
                         [](const ::testing::TestParamInfo<Backend>& p) {
                           return BackendName(p.param);
                         });

}  // namespace
}  // namespace lotledger::testing
