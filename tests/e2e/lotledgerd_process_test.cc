// The lotledgerd binary as ./tools/run starts it: a real process on the
// embedded log, health SERVING over gRPC, a lot created, SIGTERM ends it
// cleanly (exit 0), and a restarted process still has the lot.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>

#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "lotledger/v1/lots.grpc.pb.h"
#include "tests/support/stack.h"

#ifndef LOTLEDGERD_PATH
#error "LOTLEDGERD_PATH must name the lotledgerd binary"
#endif

namespace lotledger::testing {
namespace {

// A lotledgerd child process; its stderr goes to a file we read for the
// "serving" line with the bound address.
class Daemon {
 public:
  Daemon(const std::string& data_dir, const std::string& tokens)
      : log_(data_dir + "/daemon-" + std::to_string(++runs_) + ".log") {
    pid_ = fork();
    if (pid_ == 0) {
      FILE* err = std::freopen(log_.c_str(), "w", stderr);
      (void)err;
      const std::string data = "--data-dir=" + data_dir;
      const std::string tok = "--dev-tokens=" + tokens;
      execl(LOTLEDGERD_PATH, "lotledgerd", "--listen=127.0.0.1:0", data.c_str(),
            tok.c_str(), "--insecure-dev=true", "--shutdown-grace-seconds=5",
            static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  ~Daemon() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  // Waits for the "serving" log line and returns the bound address.
  std::string Target() {
    const std::regex serving("\"listen\":\"([0-9.]+:[0-9]+)\"");
    for (int i = 0; i < 600; ++i) {
      std::ifstream in(log_);
      std::string line;
      while (std::getline(in, line)) {
        std::smatch m;
        if (std::regex_search(line, m, serving)) return m[1];
      }
      usleep(50 * 1000);
    }
    ADD_FAILURE() << "lotledgerd never logged that it is serving; log: "
                  << log_;
    return "";
  }

  // Sends SIGTERM and returns the exit status.
  int Terminate() {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

 private:
  static inline int runs_ = 0;
  std::string log_;
  pid_t pid_ = -1;
};

std::unique_ptr<grpc::ClientContext> Ctx() {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->AddMetadata("authorization", "Bearer tok-op");
  ctx->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::seconds(30));
  return ctx;
}

TEST(LotledgerdProcess, ServesHealthKeepsLotsAcrossRestartAndStopsCleanly) {
  const std::string dir =
      ::testing::TempDir() + "/lotledgerd-" + NewRequestId();
  std::filesystem::create_directories(dir);
  const std::string tokens = dir + "/tokens";
  std::ofstream(tokens) << "tok-op operator.one operator,admin,auditor\n";

  v1::CreateLotResponse created;
  {
    Daemon daemon(dir, tokens);
    const std::string target = daemon.Target();
    ASSERT_FALSE(target.empty());
    auto channel =
        grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
    auto health = grpc::health::v1::Health::NewStub(channel);
    grpc::health::v1::HealthCheckResponse h;
    grpc::ClientContext hctx;
    ASSERT_TRUE(health->Check(&hctx, {}, &h).ok());
    EXPECT_EQ(h.status(), grpc::health::v1::HealthCheckResponse::SERVING);

    auto lots = v1::LotsService::NewStub(channel);
    v1::DefineProductRequest def;
    def.set_request_id(NewRequestId());
    def.mutable_product()->set_item("09506000134352");
    def.mutable_product()->set_name("Catheter");
    def.mutable_product()->set_uom("EA");
    def.mutable_product()->set_kind(v1::ITEM_KIND_FINISHED_DEVICE);
    def.mutable_product()->mutable_policy()->set_shelf_life_days(365);
    v1::DefineProductResponse defined;
    ASSERT_TRUE(lots->DefineProduct(Ctx().get(), def, &defined).ok());
    v1::CreateLotRequest req;
    req.set_request_id(NewRequestId());
    req.set_item("09506000134352");
    req.set_lot_number("P1");
    req.mutable_manufactured_on()->set_year(2026);
    req.mutable_manufactured_on()->set_month(6);
    req.mutable_manufactured_on()->set_day(1);
    req.mutable_quantity()->set_amount(10);
    req.mutable_quantity()->set_uom("EA");
    grpc::Status s = lots->CreateLot(Ctx().get(), req, &created);
    ASSERT_TRUE(s.ok()) << s.error_message();

    lots.reset();
    health.reset();
    channel.reset();
    const int status = daemon.Terminate();
    ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }
  Daemon daemon(dir, tokens);
  const std::string target = daemon.Target();
  ASSERT_FALSE(target.empty());
  auto lots = v1::LotsService::NewStub(
      grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  v1::GetLotRequest get;
  get.set_lot_id("09506000134352:P1");
  v1::GetLotResponse got;
  grpc::Status s = lots->GetLot(Ctx().get(), get, &got);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(got.lot().SerializeAsString(), created.lot().SerializeAsString());
  EXPECT_EQ(got.lot().created_by(), "operator.one");
}

}  // namespace
}  // namespace lotledger::testing
