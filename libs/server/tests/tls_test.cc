// TLS and mutual TLS on a real gRPC port on 127.0.0.1, with certificates
// made in the test: what connects, what is refused, who the caller is, and
// that a replaced certificate is served without a restart.
#include "libs/server/tls.h"

#include <grpcpp/grpcpp.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "libs/server/auth.h"
#include "libs/server/grpc_server.h"
#include "libs/server/tests/test_keys.h"
#include "lotledger/v1/lots.grpc.pb.h"

namespace lotledger::server {
namespace {

namespace tk = testkeys;

// GetProduct answers with the caller: item = principal, name = method.
class WhoAmI final : public v1::LotsService::Service {
 public:
  explicit WhoAmI(const Guard* guard) : guard_(guard) {}
  grpc::Status GetProduct(grpc::ServerContext* ctx,
                          const v1::GetProductRequest*,
                          v1::GetProductResponse* resp) override {
    absl::StatusOr<Principal> p =
        guard_->Check(*ctx, "/lotledger.v1.LotsService/GetProduct");
    if (!p.ok()) {
      return grpc::Status(static_cast<grpc::StatusCode>(p.status().code()),
                          std::string(p.status().message()));
    }
    resp->mutable_product()->set_item(p->name);
    resp->mutable_product()->set_name(p->auth_method);
    return grpc::Status::OK;
  }

 private:
  const Guard* guard_;
};

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::path(::testing::TempDir()) /
            absl::StrCat("tls-", absl::ToUnixNanos(absl::Now())))
               .string();
    std::filesystem::create_directories(dir_);
    ca_ = tk::NewCa("test CA");
    Write("ca.pem", ca_.cert_pem);
    const tk::Certificate leaf = tk::NewLeaf(ca_, "lotledgerd");
    Write("cert.pem", leaf.cert_pem);
    Write("key.pem", leaf.key_pem);
    auth_ = *DevTokenAuthenticator::FromText("tok-ada ada auditor\n");
    guard_ = std::make_unique<Guard>(auth_.get());
    service_ = std::make_unique<WhoAmI>(guard_.get());
  }

  std::string Path(const std::string& name) { return dir_ + "/" + name; }
  void Write(const std::string& name, const std::string& text) {
    tk::WriteFile(Path(name), text);
  }

  void Serve(TlsOptions tls) {
    absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> creds =
        MakeServerCredentials(tls);
    ASSERT_TRUE(creds.ok()) << creds.status();
    ServerOptions options;
    options.address = "127.0.0.1:0";
    options.log_requests = false;
    options.credentials = *creds;
    options.authenticator = auth_.get();
    server_ = std::make_unique<GrpcServer>(options);
    server_->AddService(service_.get(), "lotledger.v1.LotsService");
    ASSERT_TRUE(server_->Start().ok());
  }

  TlsOptions ServerTls() {
    TlsOptions o;
    o.cert_file = Path("cert.pem");
    o.key_file = Path("key.pem");
    return o;
  }

  // GetProduct over a new channel; the caller's name on success.
  grpc::Status Ask(const ClientTlsOptions& o, const std::string& token,
                   std::string* who = nullptr) {
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> creds =
        MakeChannelCredentials(o);
    EXPECT_TRUE(creds.ok()) << creds.status();
    auto channel = grpc::CreateCustomChannel(server_->target(), *creds,
                                             ChannelArgumentsFor(o));
    auto stub = v1::LotsService::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(5));
    if (!token.empty()) ctx.AddMetadata("authorization", "Bearer " + token);
    v1::GetProductResponse resp;
    grpc::Status s = stub->GetProduct(&ctx, {}, &resp);
    if (who != nullptr) *who = resp.product().item();
    return s;
  }

  ClientTlsOptions Trusting(const std::string& ca_file) {
    ClientTlsOptions o;
    o.ca_file = ca_file;
    return o;
  }

  std::string dir_;
  tk::Certificate ca_;
  std::unique_ptr<Authenticator> auth_;
  std::unique_ptr<Guard> guard_;
  std::unique_ptr<WhoAmI> service_;
  std::unique_ptr<GrpcServer> server_;
};

TEST_F(TlsTest, TlsClientTrustingTheCaIsServed) {
  Serve(ServerTls());
  std::string who;
  grpc::Status s = Ask(Trusting(Path("ca.pem")), "tok-ada", &who);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(who, "ada");
}

TEST_F(TlsTest, PlaintextAndUntrustingClientsAreRefused) {
  Serve(ServerTls());
  ClientTlsOptions plain;
  plain.insecure = true;
  EXPECT_EQ(Ask(plain, "tok-ada").error_code(), grpc::StatusCode::UNAVAILABLE);
  Write("other-ca.pem", tk::NewCa("another CA").cert_pem);
  EXPECT_EQ(Ask(Trusting(Path("other-ca.pem")), "tok-ada").error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsTest, MutualTlsMapsTheCertificateToAServicePrincipal) {
  TlsOptions tls = ServerTls();
  tls.client_ca_file = Path("ca.pem");
  Serve(tls);
  const tk::Certificate svc = tk::NewLeaf(ca_, "inventory-service");
  Write("svc.pem", svc.cert_pem);
  Write("svc-key.pem", svc.key_pem);
  ClientTlsOptions with_cert = Trusting(Path("ca.pem"));
  with_cert.cert_file = Path("svc.pem");
  with_cert.key_file = Path("svc-key.pem");
  std::string who;
  grpc::Status s = Ask(with_cert, "", &who);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(who, "inventory-service");

  // Optional: a person with a bearer token and no certificate still works,
  // and without either the call is unauthenticated.
  EXPECT_TRUE(Ask(Trusting(Path("ca.pem")), "tok-ada").ok());
  EXPECT_EQ(Ask(Trusting(Path("ca.pem")), "").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  // A certificate from a CA the server does not trust ends the handshake.
  const tk::Certificate rogue_ca = tk::NewCa("rogue CA");
  const tk::Certificate rogue = tk::NewLeaf(rogue_ca, "inventory-service");
  Write("rogue.pem", rogue.cert_pem);
  Write("rogue-key.pem", rogue.key_pem);
  ClientTlsOptions rogue_client = Trusting(Path("ca.pem"));
  rogue_client.cert_file = Path("rogue.pem");
  rogue_client.key_file = Path("rogue-key.pem");
  EXPECT_EQ(Ask(rogue_client, "").error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsTest, ReplacedCertificateIsServedWithoutARestart) {
  TlsOptions tls = ServerTls();
  tls.refresh = absl::Seconds(1);
  Serve(tls);
  const tk::Certificate new_ca = tk::NewCa("rotated CA");
  Write("new-ca.pem", new_ca.cert_pem);
  ASSERT_EQ(Ask(Trusting(Path("new-ca.pem")), "tok-ada").error_code(),
            grpc::StatusCode::UNAVAILABLE);
  const tk::Certificate rotated = tk::NewLeaf(new_ca, "lotledgerd");
  // Key first, then the certificate: both renames are atomic.
  Write("key.pem", rotated.key_pem);
  Write("cert.pem", rotated.cert_pem);
  // The watcher picks the files up within its refresh interval; poll (a
  // new connection each time) for at most 30 s.
  grpc::Status s;
  for (const absl::Time until = absl::Now() + absl::Seconds(30);
       absl::Now() < until;) {
    s = Ask(Trusting(Path("new-ca.pem")), "tok-ada");
    if (s.ok()) break;
    absl::SleepFor(absl::Milliseconds(200));
  }
  EXPECT_TRUE(s.ok()) << s.error_message();
  // The old chain is no longer served.
  EXPECT_EQ(Ask(Trusting(Path("ca.pem")), "tok-ada").error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsTest, PlaintextOnlyWhenAskedFor) {
  absl::Status none = MakeServerCredentials({}).status();
  EXPECT_EQ(none.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(none.message().find("--insecure-dev"), std::string::npos);
  TlsOptions dev;
  dev.insecure_dev = true;
  Serve(dev);
  ClientTlsOptions plain;
  plain.insecure = true;
  EXPECT_TRUE(Ask(plain, "tok-ada").ok());
}

TEST_F(TlsTest, MismatchedKeyIsRefusedAtStart) {
  Write("other-key.pem", tk::NewLeaf(ca_, "x").key_pem);
  TlsOptions tls = ServerTls();
  tls.key_file = Path("other-key.pem");
  absl::Status s = MakeServerCredentials(tls).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("--tls-key"), std::string::npos) << s;
  tls.key_file = Path("missing.pem");
  EXPECT_EQ(MakeServerCredentials(tls).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace lotledger::server
