#include "tests/support/stack.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "libs/common/ids.h"

namespace lotledger::testing {
namespace {

const char* kTokens =
    "tok-admin admin admin\n"
    "tok-operator operator operator\n"
    "tok-inspector qa.inspector qa_inspector\n"
    "tok-approver qa.approver qa_approver\n"
    "tok-approver2 qa.approver2 qa_approver\n"
    "tok-auditor auditor auditor\n"
    "tok-recall qa.recall recall_manager\n"
    "tok-nobody nobody none\n";

}  // namespace

std::string BackendName(Backend b) {
  return b == Backend::kKafka ? "kafka" : "embedded";
}

std::string NewRequestId() { return NewUuidV7(absl::Now()); }

v1::RecordInspectionRequest FinalInspection(const std::string& lot_id,
                                            bool pass) {
  v1::RecordInspectionRequest req;
  req.set_request_id(NewRequestId());
  req.set_lot_id(lot_id);
  req.set_type(v1::INSPECTION_TYPE_FINAL);
  req.set_sample_size(32);
  v1::CharacteristicResult* r = req.add_results();
  r->set_characteristic("seal strength");
  r->set_specification(">= 1.2 N/15mm");
  r->set_measured_value(pass ? "1.45" : "0.9");
  r->set_unit("N/15mm");
  r->set_passed(pass);
  return req;
}

std::unique_ptr<TestStack> TestStack::Start(Backend backend,
                                            std::vector<std::string> services,
                                            const Clock* clock) {
  auto stack = std::unique_ptr<TestStack>(new TestStack());
  stack->backend_ = backend;
  stack->clock_ = clock;
  stack->services_ = std::move(services);
  const std::string id = NewUuidV7(absl::Now());
  const std::filesystem::path dir =
      std::filesystem::path(::testing::TempDir()) / ("stack-" + id);
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "dev-tokens") << kTokens;
  server::ProcessConfig& c = stack->config_;
  c.listen = "127.0.0.1:0";
  c.data_dir = (dir / "data").string();
  c.dev_tokens = (dir / "dev-tokens").string();
  // Plaintext on 127.0.0.1; tls_test and authz_matrix_test cover TLS.
  c.tls.insecure_dev = true;
  c.partitions = 3;
  c.shutdown_grace = absl::Seconds(5);
  if (backend == Backend::kKafka) {
    const char* bootstrap = std::getenv("LOTLEDGER_TEST_KAFKA");
    if (bootstrap == nullptr || *bootstrap == '\0') {
      ADD_FAILURE() << "LOTLEDGER_TEST_KAFKA is not set: run the tests with "
                       "./tools/test, which starts a real Kafka broker";
      return nullptr;
    }
    c.log = "kafka";
    c.kafka_bootstrap = bootstrap;
    c.topic_prefix = absl::StrCat("t", id.substr(0, 8), id.substr(24), ".");
    c.writer_id = id;
  }
  stack->Launch();
  return stack->host_ == nullptr ? nullptr : std::move(stack);
}

void TestStack::Launch() {
  absl::StatusOr<std::unique_ptr<ServerHost>> host = ServerHost::Start(
      config_, "test-" + BackendName(backend_), services_, clock_);
  if (!host.ok()) {
    ADD_FAILURE() << "server did not start: " << host.status();
    return;
  }
  host_ = std::move(*host);
  target_ = host_->target();
  channel_ = grpc::CreateChannel(target_, grpc::InsecureChannelCredentials());
}

TestStack::~TestStack() { Stop(); }

void TestStack::Stop() {
  if (host_ != nullptr) host_->Shutdown();
  host_.reset();
}

absl::StatusOr<int> TestStack::SweepExpiry() {
  if (host_ == nullptr) return absl::FailedPreconditionError("not running");
  return host_->SweepExpiry();
}

void TestStack::Restart(bool drop_projections) {
  Stop();
  if (drop_projections) {
    std::filesystem::remove_all(std::filesystem::path(config_.data_dir) /
                                "projections");
  }
  Launch();
}

std::string TestStack::Token(const std::string& who) const {
  return "tok-" + who;
}

std::unique_ptr<grpc::ClientContext> TestStack::Ctx(
    const std::string& who) const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->AddMetadata("authorization", "Bearer " + Token(who));
  ctx->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::seconds(30));
  return ctx;
}

}  // namespace lotledger::testing
