// GrpcServer on real sockets on 127.0.0.1: one server per address (a busy
// address is a start-up error naming it, never a second server sharing
// the port), calls without a valid token refused before their handler
// runs (plaintext and TLS), health public, and each method's own request
// size limit.
#include "libs/server/grpc_server.h"

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "libs/server/auth.h"
#include "libs/server/tests/test_keys.h"
#include "libs/server/tls.h"
#include "lotledger/v1/lots.grpc.pb.h"

namespace lotledger::server {
namespace {

namespace tk = testkeys;

// GetProduct and CreateLot answer with `name`; each counts the calls its
// handler saw.
class Counting final : public v1::LotsService::Service {
 public:
  Counting(const Guard* guard, std::string name)
      : guard_(guard), name_(std::move(name)) {}
  grpc::Status GetProduct(grpc::ServerContext* ctx,
                          const v1::GetProductRequest*,
                          v1::GetProductResponse* resp) override {
    ++handled;
    return Answer(*ctx, "/lotledger.v1.LotsService/GetProduct",
                  resp->mutable_product());
  }
  grpc::Status CreateLot(grpc::ServerContext* ctx, const v1::CreateLotRequest*,
                         v1::CreateLotResponse* resp) override {
    ++handled;
    return Answer(*ctx, "/lotledger.v1.LotsService/CreateLot",
                  resp->mutable_lot()->mutable_quantity());
  }
  std::atomic<int> handled{0};

 private:
  template <typename Out>
  grpc::Status Answer(const grpc::ServerContext& ctx, std::string_view method,
                      Out* out) {
    absl::StatusOr<Principal> p = guard_->Check(ctx, method);
    if (!p.ok()) {
      return grpc::Status(static_cast<grpc::StatusCode>(p.status().code()),
                          std::string(p.status().message()));
    }
    if constexpr (std::is_same_v<Out, v1::Product>) {
      out->set_item(name_);
    } else {
      out->set_uom(name_);
    }
    return grpc::Status::OK;
  }
  const Guard* guard_;
  std::string name_;
};

class GrpcServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auth_ = *DevTokenAuthenticator::FromText(
        "tok-ada ada auditor\ntok-op op operator\n");
    guard_ = std::make_unique<Guard>(auth_.get());
  }

  std::unique_ptr<GrpcServer> NewServer(Counting* service,
                                        const std::string& address,
                                        TlsOptions tls = Plaintext(),
                                        RequestLimits limits = {}) {
    absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> creds =
        MakeServerCredentials(tls);
    EXPECT_TRUE(creds.ok()) << creds.status();
    ServerOptions options;
    options.address = address;
    options.log_requests = false;
    options.credentials = *creds;
    options.authenticator = auth_.get();
    options.limits = limits;
    auto server = std::make_unique<GrpcServer>(options);
    server->AddService(service, "lotledger.v1.LotsService");
    return server;
  }

  static TlsOptions Plaintext() {
    TlsOptions o;
    o.insecure_dev = true;
    return o;
  }

  static std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() +
                      std::chrono::seconds(10));
    if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
    return ctx;
  }

  std::unique_ptr<Authenticator> auth_;
  std::unique_ptr<Guard> guard_;
};

TEST_F(GrpcServerTest, BusyAddressIsAStartUpErrorNamingIt) {
  Counting first_service(guard_.get(), "first");
  std::unique_ptr<GrpcServer> first = NewServer(&first_service, "127.0.0.1:0");
  ASSERT_TRUE(first->Start().ok());
  const std::string address = absl::StrCat("127.0.0.1:", first->port());

  // With SO_REUSEPORT (gRPC's default) this second server would start
  // and the kernel would hand it part of the first one's calls.
  Counting second_service(guard_.get(), "second");
  std::unique_ptr<GrpcServer> second = NewServer(&second_service, address);
  absl::Status s = second->Start();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_NE(s.message().find("--listen " + address), std::string::npos) << s;
  EXPECT_NE(s.message().find("in use"), std::string::npos) << s;

  // Every call, over fresh connections, reaches the first server.
  for (int i = 0; i < 20; ++i) {
    auto stub = v1::LotsService::NewStub(
        grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
    v1::GetProductResponse resp;
    grpc::Status r = stub->GetProduct(Ctx("tok-ada").get(), {}, &resp);
    ASSERT_TRUE(r.ok()) << r.error_message();
    EXPECT_EQ(resp.product().item(), "first");
  }
  EXPECT_EQ(second_service.handled.load(), 0);
}

TEST_F(GrpcServerTest, BusyHealthAddressIsAStartUpErrorNamingIt) {
  Counting a_service(guard_.get(), "a");
  std::unique_ptr<GrpcServer> a = NewServer(&a_service, "127.0.0.1:0");
  ASSERT_TRUE(a->Start().ok());
  const std::string taken = absl::StrCat("127.0.0.1:", a->port());
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> creds =
      MakeServerCredentials(Plaintext());
  ASSERT_TRUE(creds.ok());
  Counting b_service(guard_.get(), "b");
  ServerOptions options;
  options.address = "127.0.0.1:0";
  options.log_requests = false;
  options.credentials = *creds;
  options.authenticator = auth_.get();
  options.health_address = taken;
  GrpcServer b(options);
  b.AddService(&b_service, "lotledger.v1.LotsService");
  absl::Status s = b.Start();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_NE(s.message().find("--health-listen " + taken), std::string::npos)
      << s;
}

TEST_F(GrpcServerTest, NoAuthenticatorNoServer) {
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> creds =
      MakeServerCredentials(Plaintext());
  ASSERT_TRUE(creds.ok());
  ServerOptions options;
  options.address = "127.0.0.1:0";
  options.credentials = *creds;
  GrpcServer server(options);
  EXPECT_EQ(server.Start().code(), absl::StatusCode::kFailedPrecondition);
}

// Over plaintext and over TLS: a call without a valid token is refused
// before its handler runs (gRPC has not read its message); health answers
// without one; a valid token gets through.
class EarlyAuthTest : public GrpcServerTest,
                      public ::testing::WithParamInterface<bool> {
 protected:
  void SetUp() override {
    GrpcServerTest::SetUp();
    tls_ = GetParam();
    if (!tls_) return;
    dir_ = (std::filesystem::path(::testing::TempDir()) /
            absl::StrCat("early-auth-", absl::ToUnixNanos(absl::Now())))
               .string();
    std::filesystem::create_directories(dir_);
    const tk::Certificate ca = tk::NewCa("test CA");
    const tk::Certificate leaf = tk::NewLeaf(ca, "lotledgerd");
    tk::WriteFile(dir_ + "/ca.pem", ca.cert_pem);
    tk::WriteFile(dir_ + "/cert.pem", leaf.cert_pem);
    tk::WriteFile(dir_ + "/key.pem", leaf.key_pem);
  }

  TlsOptions ServerTls() {
    if (!tls_) return Plaintext();
    TlsOptions o;
    o.cert_file = dir_ + "/cert.pem";
    o.key_file = dir_ + "/key.pem";
    return o;
  }

  std::shared_ptr<grpc::Channel> Channel(const std::string& target) {
    ClientTlsOptions o;
    o.insecure = !tls_;
    if (tls_) o.ca_file = dir_ + "/ca.pem";
    return grpc::CreateCustomChannel(target, *MakeChannelCredentials(o),
                                     ChannelArgumentsFor(o));
  }

  bool tls_ = false;
  std::string dir_;
};

TEST_P(EarlyAuthTest, NoValidTokenIsRefusedBeforeTheHandler) {
  Counting service(guard_.get(), "svc");
  std::unique_ptr<GrpcServer> server =
      NewServer(&service, "127.0.0.1:0", ServerTls());
  ASSERT_TRUE(server->Start().ok());
  auto channel = Channel(server->target());
  auto stub = v1::LotsService::NewStub(channel);
  std::vector<Denial> denials;
  SetDenialObserver([&](const Denial& d) { denials.push_back(d); });

  v1::CreateLotRequest big;
  big.set_item("09506000134352");
  for (int i = 0; i < 500; ++i) {
    big.add_inputs()->set_lot_id(std::string(1000, 'x'));
  }
  v1::CreateLotResponse created;
  grpc::Status s = stub->CreateLot(Ctx("").get(), big, &created);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(s.error_message(),
            "missing `authorization: Bearer <token>` metadata");
  s = stub->CreateLot(Ctx("tok-wrong").get(), big, &created);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(s.error_message(), "the bearer token is not valid");
  grpc::ClientContext basic;
  basic.AddMetadata("authorization", "Basic YWRhOmFkYQ==");
  s = stub->CreateLot(&basic, big, &created);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(service.handled.load(), 0);
  SetDenialObserver(nullptr);
  // Each refusal is reported once (log line, counter), with the method.
  ASSERT_EQ(denials.size(), 3u);
  for (const Denial& d : denials) {
    EXPECT_EQ(d.method, "/lotledger.v1.LotsService/CreateLot");
    EXPECT_EQ(d.code, absl::StatusCode::kUnauthenticated);
    EXPECT_EQ(d.reason.find("tok-wrong"), std::string::npos) << d.reason;
  }

  // Health needs no token.
  auto health = grpc::health::v1::Health::NewStub(channel);
  grpc::health::v1::HealthCheckRequest hreq;
  grpc::health::v1::HealthCheckResponse hresp;
  s = health->Check(Ctx("").get(), hreq, &hresp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(hresp.status(), grpc::health::v1::HealthCheckResponse::SERVING);

  // A valid token gets to the handler, which authorizes: the operator may
  // create lots.
  s = stub->CreateLot(Ctx("tok-op").get(), big, &created);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(created.lot().quantity().uom(), "svc");
  EXPECT_EQ(service.handled.load(), 1);
}

INSTANTIATE_TEST_SUITE_P(Transports, EarlyAuthTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return p.param ? "Tls" : "Plaintext";
                         });

TEST_F(GrpcServerTest, EachMethodHasItsOwnRequestSizeLimit) {
  Counting service(guard_.get(), "svc");
  // Strings as long as the request (the per-field limit is not what is
  // tested here).
  std::unique_ptr<GrpcServer> server = NewServer(
      &service, "127.0.0.1:0", Plaintext(), {.max_string_bytes = 8 << 20});
  ASSERT_TRUE(server->Start().ok());
  auto stub = v1::LotsService::NewStub(grpc::CreateChannel(
      server->target(), grpc::InsecureChannelCredentials()));
  // A query: at most 64 KiB.
  v1::GetProductRequest get;
  get.set_item(std::string(60 * 1024, 'i'));
  v1::GetProductResponse got;
  EXPECT_TRUE(stub->GetProduct(Ctx("tok-ada").get(), get, &got).ok());
  get.set_item(std::string(100 * 1024, 'i'));
  grpc::Status s = stub->GetProduct(Ctx("tok-ada").get(), get, &got);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(s.error_message(),
            "GetProduct: a request of at most 65536 bytes (got 102404)");
  // CreateLot carries genealogy inputs: 100 KiB is fine, up to 1 MiB.
  v1::CreateLotRequest create;
  create.set_item(std::string(100 * 1024, 'i'));
  v1::CreateLotResponse created;
  s = stub->CreateLot(Ctx("tok-op").get(), create, &created);
  EXPECT_TRUE(s.ok()) << s.error_message();
  create.set_item(std::string(1100 * 1024, 'i'));
  s = stub->CreateLot(Ctx("tok-op").get(), create, &created);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  // Nothing above the largest method limit is read at all, whatever
  // --max-message-bytes (4 MiB by default) allows.
  get.set_item(std::string(2 << 20, 'i'));
  s = stub->GetProduct(Ctx("tok-ada").get(), get, &got);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
}

}  // namespace
}  // namespace lotledger::server
