// Who may do what, walked cell by cell: the real lotledgerd binary (every
// service it hosts) over TLS on 127.0.0.1, every method of every service
// it serves, called by a principal of each role, must be allowed or denied
// exactly as the role table (libs/server/auth.cc) says.
//
// The methods come from the server itself (gRPC server reflection lists
// the services it registered; the generated descriptors list their
// methods), so a new service or RPC is in the matrix without editing this
// test, and a method missing from the table must show as denied for all.
// Health and reflection are public by design (probes, tooling) and
// carry no lot data; they are the only exceptions.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/unknown_field_set.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/impl/codegen/client_unary_call.h"
#include "grpcpp/support/byte_buffer.h"
#include "gtest/gtest.h"
#include "libs/server/auth.h"
#include "libs/server/tests/test_keys.h"
#include "libs/server/tls.h"
#include "lotledger/v1/lots.grpc.pb.h"
#include "lotledger/v1/quality.grpc.pb.h"
#include "lotledger/v1/recall.grpc.pb.h"
#include "tests/support/stack.h"

#ifndef LOTLEDGERD_PATH
#error "LOTLEDGERD_PATH must name the lotledgerd binary"
#endif

namespace lotledger::testing {
namespace {

using google::protobuf::DescriptorPool;
using google::protobuf::MethodDescriptor;
using google::protobuf::ServiceDescriptor;
using google::protobuf::UnknownFieldSet;

const std::set<std::string> kPublicServices = {
    "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection",
    "grpc.reflection.v1.ServerReflection"};

// lotledgerd with TLS and mutual TLS, certificates made for this test.
class Daemon {
 public:
  explicit Daemon(const std::string& dir) : log_(dir + "/daemon.log") {
    ca_ = server::testkeys::NewCa("lotledger test CA");
    const server::testkeys::Certificate leaf =
        server::testkeys::NewLeaf(ca_, "lotledgerd");
    service_cert_ = server::testkeys::NewLeaf(ca_, "inventory-service");
    server::testkeys::WriteFile(dir + "/ca.pem", ca_.cert_pem);
    server::testkeys::WriteFile(dir + "/cert.pem", leaf.cert_pem);
    server::testkeys::WriteFile(dir + "/key.pem", leaf.key_pem);
    server::testkeys::WriteFile(dir + "/svc.pem", service_cert_.cert_pem);
    server::testkeys::WriteFile(dir + "/svc-key.pem", service_cert_.key_pem);
    std::string tokens;
    for (const std::string& role : server::AllRoles()) {
      absl::StrAppend(&tokens, "tok-", role, " user.", role, " ", role, "\n");
    }
    absl::StrAppend(&tokens, "tok-nobody nobody none\n");
    server::testkeys::WriteFile(dir + "/tokens", tokens);
    jwt_key_ = server::testkeys::NewEcKey("idp-1");
    server::testkeys::WriteFile(dir + "/jwks.json",
                                server::testkeys::Jwks({jwt_key_}));
    dir_ = dir;
    pid_ = fork();
    if (pid_ == 0) {
      FILE* err = std::freopen(log_.c_str(), "w", stderr);
      (void)err;
      // Dev tokens are for a developer's machine: with TLS on loopback
      // they still need the developer's switch, --insecure-dev=true.
      const std::vector<std::string> args = {
          "lotledgerd",
          "--listen=127.0.0.1:0",
          "--data-dir=" + dir + "/data",
          "--dev-tokens=" + dir + "/tokens",
          "--insecure-dev=true",
          "--jwks-file=" + dir + "/jwks.json",
          "--jwt-issuer=https://idp.test",
          "--jwt-audience=lotledger",
          "--tls-cert=" + dir + "/cert.pem",
          "--tls-key=" + dir + "/key.pem",
          "--tls-client-ca=" + dir + "/ca.pem",
          "--metrics-listen=127.0.0.1:0",
          "--log-requests=false",
          "--shutdown-grace-seconds=2"};
      std::vector<char*> argv;
      for (const std::string& a : args)
        argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(LOTLEDGERD_PATH, argv.data());
      _exit(127);
    }
  }
  ~Daemon() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }

  std::string Target() {
    const std::regex serving("\"listen\":\"([0-9.]+:[0-9]+)\"");
    for (int i = 0; i < 600; ++i) {
      std::ifstream in(log_);
      std::string line;
      while (std::getline(in, line)) {
        std::smatch m;
        if (std::regex_search(line, m, serving)) return m[1];
      }
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      usleep(50 * 1000);
    }
    std::ifstream in(log_);
    std::stringstream text;
    text << in.rdbuf();
    ADD_FAILURE() << "lotledgerd is not serving; its log:\n" << text.str();
    return "";
  }

  std::shared_ptr<grpc::Channel> Channel(const std::string& target,
                                         bool client_cert) const {
    server::ClientTlsOptions o;
    o.ca_file = dir_ + "/ca.pem";
    if (client_cert) {
      o.cert_file = dir_ + "/svc.pem";
      o.key_file = dir_ + "/svc-key.pem";
    }
    auto creds = server::MakeChannelCredentials(o);
    EXPECT_TRUE(creds.ok()) << creds.status();
    return grpc::CreateCustomChannel(target, *creds,
                                     server::ChannelArgumentsFor(o));
  }

  // A JWT of the test's identity provider.
  std::string Jwt(const std::string& claims) const {
    return server::testkeys::SignJwt(jwt_key_, claims);
  }
  // The daemon's stderr so far.
  std::string Log() const {
    std::ifstream in(log_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

 private:
  server::testkeys::SigningKey jwt_key_;
  std::string log_;
  std::string dir_;
  server::testkeys::Certificate ca_;
  server::testkeys::Certificate service_cert_;
  pid_t pid_ = -1;
};

// The services the server registered, from gRPC server reflection
// (ServerReflectionRequest.list_services, encoded by hand: this test has
// no generated reflection stubs).
std::vector<std::string> ServedServices(grpc::Channel* channel) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  auto stream = std::unique_ptr<
      grpc::ClientReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>>(
      grpc::internal::
          ClientReaderWriterFactory<grpc::ByteBuffer, grpc::ByteBuffer>::Create(
              channel,
              grpc::internal::RpcMethod(
                  "/grpc.reflection.v1alpha.ServerReflection/"
                  "ServerReflectionInfo",
                  grpc::internal::RpcMethod::BIDI_STREAMING),
              &ctx));
  const std::string list_services("\x3a\x00", 2);  // field 7, ""
  grpc::Slice slice(list_services);
  grpc::ByteBuffer request(&slice, 1);
  EXPECT_TRUE(stream->Write(request));
  stream->WritesDone();
  grpc::ByteBuffer response;
  std::vector<std::string> out;
  if (stream->Read(&response)) {
    std::vector<grpc::Slice> slices;
    (void)response.Dump(&slices);
    std::string bytes;
    for (const grpc::Slice& s : slices) {
      bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
    UnknownFieldSet top;
    EXPECT_TRUE(top.ParseFromString(bytes));
    for (int i = 0; i < top.field_count(); ++i) {
      if (top.field(i).number() != 6) continue;  // list_services_response
      UnknownFieldSet list;
      list.ParseFromString(top.field(i).length_delimited());
      for (int j = 0; j < list.field_count(); ++j) {
        UnknownFieldSet service;
        service.ParseFromString(list.field(j).length_delimited());
        for (int k = 0; k < service.field_count(); ++k) {
          if (service.field(k).number() == 1) {
            out.push_back(service.field(k).length_delimited());
          }
        }
      }
    }
  }
  grpc::Status s = stream->Finish();
  EXPECT_TRUE(s.ok()) << s.error_message();
  return out;
}

// Calls `method` with an empty request as `who` (a dev token; empty: no
// token) and returns the status. An allowed caller gets past the guard and
// meets validation, NOT_FOUND, or for a stream the deadline.
grpc::Status Call(grpc::Channel* channel, const MethodDescriptor& method,
                  const std::string& who) {
  const std::string path =
      absl::StrCat("/", method.service()->full_name(), "/", method.name());
  grpc::ClientContext ctx;
  if (!who.empty()) ctx.AddMetadata("authorization", "Bearer tok-" + who);
  grpc::ByteBuffer request;
  {
    grpc::Slice empty("");
    request = grpc::ByteBuffer(&empty, 1);
  }
  if (method.client_streaming()) {
    ADD_FAILURE() << path << ": client streaming is not walked yet";
    return grpc::Status::CANCELLED;
  }
  if (method.server_streaming()) {
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::milliseconds(1500));
    auto reader = std::unique_ptr<grpc::ClientReader<grpc::ByteBuffer>>(
        grpc::internal::ClientReaderFactory<grpc::ByteBuffer>::Create(
            channel,
            grpc::internal::RpcMethod(
                path.c_str(), grpc::internal::RpcMethod::SERVER_STREAMING),
            &ctx, request));
    grpc::ByteBuffer msg;
    if (reader->Read(&msg)) {
      ctx.TryCancel();
      while (reader->Read(&msg)) {
      }
      reader->Finish();
      return grpc::Status::OK;  // it streamed: the guard let it through
    }
    return reader->Finish();
  }
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  grpc::ByteBuffer response;
  return grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
      channel,
      grpc::internal::RpcMethod(path.c_str(),
                                grpc::internal::RpcMethod::NORMAL_RPC),
      &ctx, request, &response);
}

// Refused by the guard (the role table or authentication), as opposed to
// a refusal further in, such as a signature the call needs.
bool Refused(const grpc::Status& s) {
  const bool signature = s.error_message().starts_with("signature") ||
                         s.error_message().starts_with("deviation");
  return !signature && (s.error_code() == grpc::StatusCode::PERMISSION_DENIED ||
                        s.error_code() == grpc::StatusCode::UNAUTHENTICATED);
}

class AuthzMatrixTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string dir = ::testing::TempDir() + "/authz-" + NewRequestId();
    std::filesystem::create_directories(dir);
    daemon_ = new Daemon(dir);
    target_ = new std::string(daemon_->Target());
  }
  static void TearDownTestSuite() {
    delete daemon_;
    delete target_;
  }

  // Every method of every lotledger service the server registered.
  std::vector<const MethodDescriptor*> Methods(grpc::Channel* channel) {
    std::vector<const MethodDescriptor*> out;
    for (const std::string& name : ServedServices(channel)) {
      if (kPublicServices.contains(name)) continue;
      const ServiceDescriptor* service =
          DescriptorPool::generated_pool()->FindServiceByName(name);
      if (service == nullptr) {
        ADD_FAILURE() << "served service " << name
                      << " has no generated descriptor in this test";
        continue;
      }
      for (int i = 0; i < service->method_count(); ++i) {
        out.push_back(service->method(i));
      }
    }
    return out;
  }

  static inline Daemon* daemon_ = nullptr;
  static inline std::string* target_ = nullptr;
};

TEST_F(AuthzMatrixTest, EveryCellIsAsTheRoleTableSays) {
  ASSERT_FALSE(target_->empty());
  auto channel = daemon_->Channel(*target_, /*client_cert=*/false);
  const std::vector<const MethodDescriptor*> methods = Methods(channel.get());
  // The three services every lotledgerd has been serving at least.
  ASSERT_GE(methods.size(), 20u);
  int allowed = 0;
  int denied = 0;
  std::vector<std::string> lines;
  for (const MethodDescriptor* m : methods) {
    const std::string path =
        absl::StrCat("/", m->service()->full_name(), "/", m->name());
    const std::set<std::string>& table = server::RolesFor(path);
    if (table.empty()) {
      ADD_FAILURE() << path
                    << " is served but not in the role table (auth.cc): "
                       "nobody can call it; add its row";
    }
    std::vector<std::string> row;
    for (const std::string& role : server::AllRoles()) {
      const grpc::Status s = Call(channel.get(), *m, role);
      const bool expect = table.contains(role);
      if (expect) {
        ++allowed;
        EXPECT_FALSE(Refused(s)) << path << " as " << role << ": "
                                 << s.error_code() << " " << s.error_message();
      } else {
        ++denied;
        EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED)
            << path << " as " << role << ": " << s.error_message();
        EXPECT_NE(s.error_message().find(" may not call "), std::string::npos)
            << path << " as " << role << ": " << s.error_message();
      }
      row.push_back(expect ? "Y" : "-");
    }
    // No role at all, and no token at all.
    EXPECT_EQ(Call(channel.get(), *m, "nobody").error_code(),
              grpc::StatusCode::PERMISSION_DENIED)
        << path;
    EXPECT_EQ(Call(channel.get(), *m, "").error_code(),
              grpc::StatusCode::UNAUTHENTICATED)
        << path;
    lines.push_back(absl::StrCat(absl::StrJoin(row, " "), "  ", path));
  }
  std::printf("roles: %s\n%s\n%d allowed and %d denied cells checked\n",
              absl::StrJoin(server::AllRoles(), " ").c_str(),
              absl::StrJoin(lines, "\n").c_str(), allowed, denied);
}

TEST_F(AuthzMatrixTest, TableNamesOnlyMethodsThatExist) {
  for (const std::string& path : server::TableMethods()) {
    const std::string name = path.substr(1);
    const size_t slash = name.find('/');
    ASSERT_NE(slash, std::string::npos) << path;
    const ServiceDescriptor* service =
        DescriptorPool::generated_pool()->FindServiceByName(
            name.substr(0, slash));
    ASSERT_NE(service, nullptr) << path << ": no such service";
    EXPECT_NE(service->FindMethodByName(name.substr(slash + 1)), nullptr)
        << path << ": no such method";
  }
}

TEST_F(AuthzMatrixTest, AuditorReadsEverythingAndWritesNothing) {
  // Every command carries a request_id (its idempotency key); queries do
  // not. The auditor may call every query and no command.
  for (const std::string& path : server::TableMethods()) {
    const std::string name = path.substr(1);
    const ServiceDescriptor* service =
        DescriptorPool::generated_pool()->FindServiceByName(
            name.substr(0, name.find('/')));
    ASSERT_NE(service, nullptr) << path;
    const MethodDescriptor* m =
        service->FindMethodByName(name.substr(name.find('/') + 1));
    ASSERT_NE(m, nullptr) << path;
    const bool command =
        m->input_type()->FindFieldByName("request_id") != nullptr;
    EXPECT_EQ(server::RolesFor(path).contains("auditor"), !command)
        << path << (command ? " is a command" : " is a query");
  }
}

TEST_F(AuthzMatrixTest, ClientCertificateIsAServicePrincipal) {
  ASSERT_FALSE(target_->empty());
  auto channel = daemon_->Channel(*target_, /*client_cert=*/true);
  auto lots = v1::LotsService::NewStub(channel);
  // No bearer token: the certificate's CN is the principal, role service.
  grpc::ClientContext read;
  v1::GetLotRequest get;
  get.set_lot_id("09506000134352:NOPE");
  v1::GetLotResponse got;
  grpc::Status s = lots->GetLot(&read, get, &got);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
  grpc::ClientContext write;
  v1::DefineProductRequest def;
  v1::DefineProductResponse defined;
  s = lots->DefineProduct(&write, def, &defined);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(s.error_message().find("inventory-service"), std::string::npos)
      << s.error_message();
}

TEST_F(AuthzMatrixTest, NoRequestFieldNamesTheActor) {
  // The actor of every event is the authenticated principal; no request
  // message of any served method has a field through which a caller could
  // claim to be someone else.
  auto channel = daemon_->Channel(*target_, false);
  const std::set<std::string> kActorish = {
      "actor",        "signer",     "principal",   "user",      "user_id",
      "username",     "created_by", "approved_by", "signed_by", "recorded_by",
      "performed_by", "inspector",  "operator",    "author"};
  std::function<void(const google::protobuf::Descriptor*, const std::string&,
                     std::set<const google::protobuf::Descriptor*>&)>
      walk = [&](const google::protobuf::Descriptor* d, const std::string& at,
                 std::set<const google::protobuf::Descriptor*>& seen) {
        if (!seen.insert(d).second) return;
        for (int i = 0; i < d->field_count(); ++i) {
          const google::protobuf::FieldDescriptor* f = d->field(i);
          EXPECT_FALSE(kActorish.contains(f->name()))
              << at << "." << f->name() << " lets a request name an actor";
          if (f->message_type() != nullptr) {
            walk(f->message_type(), at + "." + f->name(), seen);
          }
        }
      };
  for (const MethodDescriptor* m : Methods(channel.get())) {
    std::set<const google::protobuf::Descriptor*> seen;
    walk(m->input_type(), m->full_name(), seen);
  }
}

TEST_F(AuthzMatrixTest, OversizedFieldsAreRefusedNamingTheField) {
  ASSERT_FALSE(target_->empty());
  auto lots = v1::LotsService::NewStub(daemon_->Channel(*target_, false));
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer tok-auditor");
  v1::GetLotRequest get;
  get.set_lot_id(std::string(20000, 'x'));
  v1::GetLotResponse got;
  grpc::Status s = lots->GetLot(&ctx, get, &got);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "lot_id: at most 16384 bytes (got 20000)");
  grpc::ClientContext big;
  big.AddMetadata("authorization", "Bearer tok-auditor");
  get.set_lot_id(std::string(5 << 20, 'x'));
  s = lots->GetLot(&big, get, &got);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
}

// A JWT signing token names one action; the server holds it to that.
class JwtSignatureTest : public AuthzMatrixTest {
 protected:
  std::string Token(const std::string& lot, const std::string& request_id,
                    absl::Duration authenticated_ago) {
    const int64_t now = absl::ToUnixSeconds(absl::Now());
    return daemon_->Jwt(absl::StrCat(
        R"({"iss":"https://idp.test","aud":"lotledger","sub":"qa.jwt",)",
        R"("roles":["qa_approver"],"jti":"jti-)", request_id, R"(","exp":)",
        now + 600, R"(,"auth_time":)",
        now - absl::ToInt64Seconds(authenticated_ago),
        R"(,"lotledger_action":{"method":)",
        R"("/lotledger.v1.QualityService/ChangeDisposition","aggregate_id":")",
        lot, R"(","request_id":")", request_id, R"("}})"));
  }

  grpc::Status Hold(const std::string& token, const std::string& lot,
                    const std::string& request_id) {
    auto quality =
        v1::QualityService::NewStub(daemon_->Channel(*target_, false));
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + token);
    v1::ChangeDispositionRequest req;
    req.set_request_id(request_id);
    req.set_lot_id(lot);
    req.set_to(v1::DISPOSITION_ON_HOLD);
    req.mutable_signature()->set_meaning("placed on hold");
    req.mutable_signature()->set_reason("sterility retest");
    req.mutable_signature()->set_credential(token);
    v1::ChangeDispositionResponse resp;
    return quality->ChangeDisposition(&ctx, req, &resp);
  }
};

TEST_F(JwtSignatureTest, SigningTokenWorksForItsOneActionOnly) {
  ASSERT_FALSE(target_->empty());
  const std::string lot = "09506000134352:JWT1";
  const std::string token = Token(lot, "req-jwt-1", absl::Minutes(1));
  // Its own action gets past authentication and the signature: the lot
  // does not exist, which is the domain's answer.
  grpc::Status s = Hold(token, lot, "req-jwt-1");
  EXPECT_FALSE(Refused(s)) << s.error_code() << " " << s.error_message();
  // Another lot, or another request: refused as a signature.
  s = Hold(token, "09506000134352:JWT2", "req-jwt-1");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(s.error_message().find("issued to sign"), std::string::npos)
      << s.error_message();
  s = Hold(token, lot, "req-jwt-2");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // Authenticated too long ago (the default maximum is 5 minutes).
  const std::string stale = Token(lot, "req-jwt-3", absl::Minutes(6));
  s = Hold(stale, lot, "req-jwt-3");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(s.error_message().find("at most 5m"), std::string::npos)
      << s.error_message();

  // Each refusal is one structured log line with principal, method and
  // reason, and never the token.
  const std::string log = daemon_->Log();
  EXPECT_NE(log.find(R"("msg":"call refused","principal":"qa.jwt","method":)"
                     R"("/lotledger.v1.QualityService/ChangeDisposition")"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find(token.substr(token.rfind('.') + 1)), std::string::npos);
  EXPECT_EQ(log.find(stale.substr(stale.rfind('.') + 1)), std::string::npos);
}

// Recall initiation and closure are signed like dispositions: a token
// bound to initiating one recall initiates that one only, and cannot
// close it.
TEST_F(JwtSignatureTest, RecallSigningTokenIsBoundToItsRecall) {
  ASSERT_FALSE(target_->empty());
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  auto bound = [&](const std::string& method, const std::string& recall,
                   const std::string& request_id) {
    return daemon_->Jwt(absl::StrCat(
        R"({"iss":"https://idp.test","aud":"lotledger","sub":"qa.rcl",)",
        R"("roles":["recall_manager"],"jti":"jti-)", request_id, R"(","exp":)",
        now + 600, R"(,"auth_time":)", now - 60,
        R"(,"lotledger_action":{"method":"/lotledger.v1.RecallService/)",
        method, R"(","aggregate_id":")", recall, R"(","request_id":")",
        request_id, R"("}})"));
  };
  auto recall = v1::RecallService::NewStub(daemon_->Channel(*target_, false));
  auto initiate = [&](const std::string& token, const std::string& recall_id,
                      const std::string& request_id) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + token);
    v1::InitiateRequest req;
    req.set_request_id(request_id);
    req.set_recall_id(recall_id);
    req.set_classification(v1::RECALL_CLASS_II);
    req.set_title("Seal leak");
    req.set_reason("seal strength below specification");
    req.set_health_hazard("leak may delay therapy");
    req.mutable_criteria()->add_lot_ids("09506000134352:NO-SUCH-LOT");
    req.mutable_signature()->set_credential(token);
    v1::InitiateResponse resp;
    return recall->Initiate(&ctx, req, &resp);
  };
  // Bound to the recall the server names from the request id: past the
  // signature (the lot is unknown, which is the domain's answer).
  const std::string token = bound("Initiate", "RCL-req-rcl-1", "req-rcl-1");
  grpc::Status s = initiate(token, "", "req-rcl-1");
  EXPECT_FALSE(Refused(s)) << s.error_code() << " " << s.error_message();
  EXPECT_FALSE(s.error_message().starts_with("signature")) << s.error_message();
  // Another recall id: refused as a signature.
  s = initiate(token, "R-OTHER", "req-rcl-1");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(s.error_message().starts_with("signature.credential"))
      << s.error_message();
  // Closing with the initiation token: refused as a signature.
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + token);
  v1::CloseRecallRequest close;
  close.set_request_id("req-rcl-1");
  close.set_recall_id("RCL-req-rcl-1");
  close.set_summary("done");
  close.mutable_signature()->set_credential(token);
  v1::CloseRecallResponse closed;
  s = recall->CloseRecall(&ctx, close, &closed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(s.error_message().starts_with("signature.credential"))
      << s.error_message();
}

}  // namespace
}  // namespace lotledger::testing
