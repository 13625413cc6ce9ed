// Operations seams of GrpcServer on real sockets on 127.0.0.1:
//   - every line the server writes for a call (the per-call line, the
//     handler's own lines, a refusal) is one valid JSON object, whatever
//     the request, token or error carries, and carries the call's trace
//     id: the W3C traceparent the caller sent, or a fresh one when it sent
//     an invalid one (never refused);
//   - grpc.health.v1 turns NOT_SERVING (the service and "") while the
//     service's projector is stopped on a broken projection, and SERVING
//     again after an online rebuild restarted it;
//   - the bounded thread pool: a burst beyond it is answered
//     RESOURCE_EXHAUSTED, and the server answers again after it.
// Real parts: gRPC, the embedded RocksDB log, a RocksDB projection.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "libs/command/rebuild.h"
#include "libs/command/service_core.h"
#include "libs/common/json_log.h"
#include "libs/common/tests/json_check.h"
#include "libs/common/trace_context.h"
#include "libs/eventlog/embedded/embedded_event_log.h"
#include "libs/eventlog/record_codec.h"
#include "libs/server/auth.h"
#include "libs/server/grpc_server.h"
#include "libs/server/rpc.h"
#include "libs/server/tls.h"
#include "lotledger/v1/lots.grpc.pb.h"

namespace lotledger::server {
namespace {

using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;
using ::lotledger::testing::CaptureStderr;
using ::lotledger::testing::HostileMessages;
using ::lotledger::testing::StrictJson;

constexpr char kValidTraceparent[] =
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
constexpr char kLots[] = "lotledger.v1.LotsService";

// GetProduct logs a line naming the item, notes the traceparent its
// command context would write, and refuses with the item in the message
// (as a refusal naming a field does). Items starting with "block" wait
// until `gate` is notified.
class Ops final : public v1::LotsService::Service {
 public:
  explicit Ops(const Guard* guard) : guard_(guard) {}
  grpc::Status GetProduct(grpc::ServerContext* ctx,
                          const v1::GetProductRequest* req,
                          v1::GetProductResponse*) override {
    return Serve(*guard_, *ctx, "/lotledger.v1.LotsService/GetProduct",
                 [&](const Principal& p) -> absl::Status {
                   if (req->item().starts_with("block")) {
                     entered.fetch_add(1);
                     gate.WaitForNotification();
                     return absl::OkStatus();
                   }
                   // Bytes that are not UTF-8 cannot come in a request (a
                   // proto string); a handler may still log them.
                   LogJson("info", "handler",
                           {{"item", req->item()}, {"raw", "\xC0\xAF\xFF"}});
                   const command::CommandContext cc =
                       MakeCommandContext(*ctx, p, "req-1", {}, absl::Now());
                   {
                     absl::MutexLock l(&mu);
                     traceparents.push_back(cc.traceparent);
                   }
                   return absl::InvalidArgumentError(absl::StrCat(
                       "item: not a GTIN: ", req->item(), " \xED\xA0\x80"));
                 });
  }
  std::atomic<int> entered{0};
  absl::Notification gate;
  absl::Mutex mu;
  std::vector<std::string> traceparents ABSL_GUARDED_BY(mu);

 private:
  const Guard* guard_;
};

class OperationsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/server-operations-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auth_ = *DevTokenAuthenticator::FromText("tok-ada ada auditor\n");
    guard_ = std::make_unique<Guard>(auth_.get());
    service_ = std::make_unique<Ops>(guard_.get());
  }

  // A plaintext server on a free port, `configure`d.
  std::unique_ptr<GrpcServer> NewServer(
      const std::function<void(ServerOptions&)>& configure,
      HealthProbe probe = nullptr) {
    ServerOptions options;
    configure(options);
    TlsOptions tls;
    tls.insecure_dev = true;
    options.address = "127.0.0.1:0";
    options.credentials = *MakeServerCredentials(tls);
    options.authenticator = auth_.get();
    auto server = std::make_unique<GrpcServer>(options);
    server->AddService(service_.get(), kLots, std::move(probe));
    return server;
  }

  static std::unique_ptr<grpc::ClientContext> Ctx(
      const std::string& token, const std::string& traceparent = "") {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() +
                      std::chrono::seconds(30));
    if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
    if (!traceparent.empty()) ctx->AddMetadata("traceparent", traceparent);
    return ctx;
  }

  std::string dir_;
  std::unique_ptr<Authenticator> auth_;
  std::unique_ptr<Guard> guard_;
  std::unique_ptr<Ops> service_;
};

TEST_F(OperationsTest, EveryCallLineIsValidJsonAndCarriesTheCallsTrace) {
  std::unique_ptr<GrpcServer> server =
      NewServer([](ServerOptions& o) { o.log_requests = true; });
  ASSERT_TRUE(server->Start().ok());
  auto stub = v1::LotsService::NewStub(grpc::CreateChannel(
      server->target(), grpc::InsecureChannelCredentials()));
  // A proto string is UTF-8: the client cannot send the others.
  std::vector<std::string> hostile;
  for (const std::string& m : HostileMessages()) {
    if (JsonString(m).find("\\ufffd") == std::string::npos)
      hostile.push_back(m);
  }
  ASSERT_GE(hostile.size(), 4u);

  CaptureStderr capture(dir_ + "/stderr");
  for (const std::string& m : hostile) {
    v1::GetProductRequest req;
    req.set_item(m);
    v1::GetProductResponse resp;
    // A valid traceparent is taken as it is.
    grpc::Status s =
        stub->GetProduct(Ctx("tok-ada", kValidTraceparent).get(), req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    // An invalid one (here: uppercase hex) is replaced, never refused.
    s = stub->GetProduct(
        Ctx("tok-ada",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01")
            .get(),
        req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    // A token that is not valid: refused before the handler, a denial
    // line (which echoes neither the token nor the message).
    s = stub->GetProduct(Ctx("tok-wrong", kValidTraceparent).get(), req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
    // A refusal's reason may carry anything a caller sent.
    ReportDenial({.principal = m,
                  .method = m,
                  .code = absl::StatusCode::kPermissionDenied,
                  .reason = m});
  }
  capture.Restore();
  server->Shutdown(absl::ZeroDuration());

  std::map<std::string, int> msgs;
  std::vector<std::string> handler_traces;
  std::vector<std::string> rpc_traces;
  const std::vector<std::string> lines = capture.Lines();
  for (const std::string& line : lines) {
    std::map<std::string, std::string> f;
    ASSERT_EQ(StrictJson::CheckObject(line, &f), "") << line;
    ++msgs[f["msg"]];
    EXPECT_FALSE(f["ts"].empty()) << line;
    if (f["msg"] == "handler") handler_traces.push_back(f["trace_id"]);
    if (f["msg"] == "rpc") rpc_traces.push_back(f["trace_id"]);
    if (f["msg"] == "call refused" && f["principal"].empty()) {
      // The refusal before the handler carries the caller's trace too.
      EXPECT_EQ(f["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736") << line;
    }
    if (f["msg"] == "rpc") {
      EXPECT_EQ(f["service"], kLots) << line;
      EXPECT_EQ(f["method"], "GetProduct") << line;
    }
  }
  const size_t n = hostile.size();
  EXPECT_EQ(msgs["handler"], static_cast<int>(2 * n));
  // A call refused before its handler has no rpc line (early_auth.h).
  EXPECT_EQ(msgs["rpc"], static_cast<int>(2 * n));
  EXPECT_EQ(msgs["call refused"], static_cast<int>(2 * n));
  ASSERT_EQ(handler_traces.size(), 2 * n);
  ASSERT_EQ(rpc_traces.size(), 2 * n);
  for (size_t i = 0; i < n; ++i) {
    // The call with the valid header: its trace id on the handler's line
    // and the call's line.
    EXPECT_EQ(handler_traces[2 * i], "4bf92f3577b34da6a3ce929d0e0e4736");
    EXPECT_EQ(rpc_traces[2 * i], "4bf92f3577b34da6a3ce929d0e0e4736");
    // The one with the invalid header: a fresh trace, the same on both.
    EXPECT_EQ(handler_traces[2 * i + 1], rpc_traces[2 * i + 1]);
    EXPECT_NE(handler_traces[2 * i + 1], "4bf92f3577b34da6a3ce929d0e0e4736");
    EXPECT_EQ(handler_traces[2 * i + 1].size(), 32u);
  }
  // What a command of the call writes into its events: the same trace.
  absl::MutexLock l(&service_->mu);
  ASSERT_EQ(service_->traceparents.size(), 2 * n);
  EXPECT_EQ(ParseTraceparent(service_->traceparents[0])->trace_id,
            "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(ParseTraceparent(service_->traceparents[1])->trace_id,
            handler_traces[1]);
}

// A projection whose apply function fails while `broken` is set: the
// projector stops on it, as on a record it cannot apply.
struct Broken {
  std::atomic<bool> broken{false};
  command::ApplyFn Apply() {
    return [this](const eventlog::Record&, const v1::Event& event,
                  projection::ProjectionStore::Batch& batch) -> absl::Status {
      if (broken.load()) {
        return absl::InternalError("projection broken: cannot apply");
      }
      batch.Put("items", event.aggregate_id(), event.event_id());
      return absl::OkStatus();
    };
  }
};

HealthCheckResponse::ServingStatus Health(grpc::Channel* channel,
                                          const std::string& name) {
  auto stub = grpc::health::v1::Health::NewStub(
      std::shared_ptr<grpc::Channel>(channel, [](grpc::Channel*) {}));
  HealthCheckRequest req;
  req.set_service(name);
  HealthCheckResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::Status s = stub->Check(&ctx, req, &resp);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return resp.status();
}

// Waits (bounded) until both the service's and the process's health are
// `want`; false when they never were.
bool AwaitHealth(grpc::Channel* channel,
                 HealthCheckResponse::ServingStatus want) {
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline) {
    if (Health(channel, kLots) == want && Health(channel, "") == want) {
      return true;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return false;
}

TEST_F(OperationsTest, HealthIsNotServingWhileTheProjectorIsStopped) {
  auto log = eventlog::OpenEmbeddedEventLog({.path = dir_ + "/log"});
  ASSERT_TRUE(log.ok()) << log.status();
  Broken projection;
  command::ServiceSpec spec;
  spec.name = "ops";
  spec.input_topics = {"ops.items.v1"};
  spec.column_families = {"items"};
  spec.apply = projection.Apply();
  // A directory name that a hand-built log line would break on: the
  // rebuild's progress lines name it.
  CaptureStderr capture(dir_ + "/stderr");
  auto core = command::ServiceCore::Open(log->get(), spec,
                                         dir_ + "/proj \"q\"\n\t\x01\xC0");
  ASSERT_TRUE(core.ok()) << core.status();
  command::ServiceCore* c = core->get();

  std::unique_ptr<GrpcServer> server = NewServer(
      [](ServerOptions& o) { o.health_poll = absl::Milliseconds(20); },
      [c] { return c->projector().health(); });
  ASSERT_TRUE(server->Start().ok());
  auto channel =
      grpc::CreateChannel(server->target(), grpc::InsecureChannelCredentials());
  ASSERT_TRUE(AwaitHealth(channel.get(), HealthCheckResponse::SERVING));

  auto append = [&](const std::string& id) {
    v1::Event e;
    e.set_event_id(id);
    e.set_aggregate_id(id);
    eventlog::ChainHead head;
    const v1::EventRecord rec = eventlog::Seal(e, head);
    ASSERT_TRUE(
        (*log)
            ->Append("ops.items.v1", {eventlog::ToOutgoing(e, rec, "test")})
            .ok());
  };
  append("a");
  projection.broken = true;
  append("b");
  EXPECT_TRUE(AwaitHealth(channel.get(), HealthCheckResponse::NOT_SERVING))
      << "health stayed SERVING with the projector stopped: "
      << c->projector().health();
  // Alive all the same: a liveness probe does not restart the process
  // into the same record.
  EXPECT_EQ(Health(channel.get(), kLivenessHealthName),
            HealthCheckResponse::SERVING);
  EXPECT_FALSE(c->projector().health().ok());
  EXPECT_NE(c->projector().health().message().find("projection broken"),
            std::string::npos)
      << c->projector().health();

  // Fixed: an online rebuild replays the log and restarts the projector.
  projection.broken = false;
  absl::StatusOr<command::RebuildProgress> rebuilt = command::RebuildProjection(
      *c, {}, [](const command::RebuildProgress&) { return true; });
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status();
  EXPECT_TRUE(AwaitHealth(channel.get(), HealthCheckResponse::SERVING));
  EXPECT_TRUE(c->projector().health().ok()) << c->projector().health();

  server->Shutdown(absl::ZeroDuration());
  c->Stop();
  capture.Restore();
  // The projector's and the rebuild's lines: valid JSON, whatever the
  // directory and the error carry.
  std::map<std::string, int> msgs;
  for (const std::string& line : capture.Lines()) {
    std::map<std::string, std::string> f;
    EXPECT_EQ(StrictJson::CheckObject(line, &f), "") << line;
    ++msgs[f["msg"]];
  }
  EXPECT_EQ(msgs["projector stopped"], 1);
  EXPECT_EQ(msgs["projection rebuild started"], 1);
  EXPECT_EQ(msgs["projection rebuild switched"], 1);
}

TEST_F(OperationsTest, ABurstBeyondTheThreadBoundIsRefusedAndTheServerLives) {
  std::unique_ptr<GrpcServer> server = NewServer([](ServerOptions& o) {
    o.completion_queues = 1;
    o.max_threads = 4;
  });
  ASSERT_TRUE(server->Start().ok());
  auto channel =
      grpc::CreateChannel(server->target(), grpc::InsecureChannelCredentials());
  auto stub = v1::LotsService::NewStub(channel);

  constexpr int kBurst = 16;
  std::atomic<int> exhausted{0};
  std::atomic<int> ok{0};
  absl::Mutex mu;
  std::vector<std::string> exhausted_messages;
  std::vector<std::thread> callers;
  for (int i = 0; i < kBurst; ++i) {
    callers.emplace_back([&] {
      v1::GetProductRequest req;
      req.set_item("block");
      v1::GetProductResponse resp;
      grpc::Status s = stub->GetProduct(Ctx("tok-ada").get(), req, &resp);
      if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
        exhausted.fetch_add(1);
        absl::MutexLock l(&mu);
        exhausted_messages.push_back(s.error_message());
      } else if (s.ok()) {
        ok.fetch_add(1);
      } else {
        ADD_FAILURE() << s.error_code() << ": " << s.error_message();
      }
    });
  }
  // Every call is either held by a handler or refused at once: none waits
  // for a thread.
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (service_->entered.load() + exhausted.load() < kBurst &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(service_->entered.load() + exhausted.load(), kBurst);
  EXPECT_GT(exhausted.load(), 0) << "no call was refused beyond the bound";
  EXPECT_LT(service_->entered.load(), 4) << "more handlers than threads";
  service_->gate.Notify();
  for (std::thread& t : callers) t.join();
  EXPECT_EQ(ok.load(), service_->entered.load());
  {
    absl::MutexLock l(&mu);
    for (const std::string& m : exhausted_messages) {
      EXPECT_EQ(m, "Server Threadpool Exhausted");
    }
  }

  // After the burst the server answers again. A thread that ran a burst
  // call gives its slot back to gRPC's pool a moment after its call
  // ends, so the first call may still be refused: wait (bounded) for one
  // answer, refused by the bound meanwhile and by nothing else; then
  // every call is answered.
  grpc::Status first;
  for (const absl::Time give_up = absl::Now() + absl::Seconds(10);;) {
    v1::GetProductRequest req;
    req.set_item("block-again");
    v1::GetProductResponse resp;
    first = stub->GetProduct(Ctx("tok-ada").get(), req, &resp);
    if (first.error_code() != grpc::StatusCode::RESOURCE_EXHAUSTED ||
        absl::Now() > give_up) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_TRUE(first.ok()) << first.error_code() << ": "
                          << first.error_message();
  for (int i = 0; i < 3; ++i) {
    v1::GetProductRequest req;
    req.set_item("block-again");
    v1::GetProductResponse resp;
    grpc::Status s = stub->GetProduct(Ctx("tok-ada").get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_code() << ": " << s.error_message();
  }
  server->Shutdown(absl::ZeroDuration());
}

}  // namespace
}  // namespace lotledger::server
