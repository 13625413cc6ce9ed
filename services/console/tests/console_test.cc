// The console's sign-in flow, its use of the token and its search, over
// real sockets on 127.0.0.1: the console's HTTP server in front of a real
// gRPC server with a stand-in RecallService that records the bearer token
// it was called with and refuses the tokens the test names, and a
// stand-in LotsService that knows one lot.
#include "services/console/console.h"

#include <grpcpp/grpcpp.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/console/clients.h"
#include "services/console/http.h"
#include "services/console/tests/http_client.h"

namespace lotledger::console {
namespace {

namespace v1 = lotledger::v1;
using ::testing::ElementsAre;
using testing::Get;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::PostForm;
using testing::RawResponse;

// Lists one recall for any token but two: "tok-denied" is refused
// PERMISSION_DENIED and "tok-unknown" UNAUTHENTICATED, each with a reason.
class StandInRecall final : public v1::RecallService::Service {
 public:
  grpc::Status ListRecalls(grpc::ServerContext* ctx,
                           const v1::ListRecallsRequest*,
                           v1::ListRecallsResponse* resp) override {
    std::string auth;
    auto it = ctx->client_metadata().find("authorization");
    if (it != ctx->client_metadata().end()) {
      auth = std::string(it->second.data(), it->second.size());
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      seen_.push_back(auth);
    }
    if (auth == "Bearer tok-denied") {
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                          "nobody may call RecallService/ListRecalls: role "
                          "none is not one of auditor, ...");
    }
    if (auth == "Bearer tok-unknown") {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                          "unknown bearer token");
    }
    v1::RecallSummary* r = resp->add_recalls();
    r->set_recall_id("RC-<1>");
    r->set_title("Resin <b>contamination</b>");
    return grpc::Status::OK;
  }

  std::vector<std::string> seen() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> seen_;
};

// Knows one lot, "09506000134352:A17", and resolves scans of it.
class StandInLots final : public v1::LotsService::Service {
 public:
  static constexpr char kLot[] = "09506000134352:A17";

  grpc::Status GetLot(grpc::ServerContext*, const v1::GetLotRequest* req,
                      v1::GetLotResponse* resp) override {
    if (req->lot_id() != kLot) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND,
                          "lot " + req->lot_id() + " does not exist");
    }
    resp->mutable_lot()->set_lot_id(kLot);
    return grpc::Status::OK;
  }

  grpc::Status ResolveUdi(grpc::ServerContext*,
                          const v1::ResolveUdiRequest* req,
                          v1::ResolveUdiResponse* resp) override {
    if (req->scan() == "(01)09506000134352(10)A17") {
      resp->set_gtin("09506000134352");
      resp->set_lot_number("A17");
      resp->mutable_lot()->set_lot_id(kLot);
      return grpc::Status::OK;
    }
    if (req->scan() == "(01)09506000134352(10)B9") {
      resp->set_gtin("09506000134352");
      resp->set_lot_number("B9");
      return grpc::Status::OK;
    }
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "AI (01): check digit is 3, expected 2");
  }
};

class ConsoleTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(/*secure_cookie=*/false); }

  void Start(bool secure_cookie) {
    grpc::ServerBuilder builder;
    int grpc_port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &grpc_port);
    builder.RegisterService(&recall_);
    builder.RegisterService(&lots_);
    grpc_ = builder.BuildAndStart();
    ASSERT_NE(grpc_, nullptr);
    ConsoleConfig config;
    config.insecure_dev = true;
    config.target = "127.0.0.1:" + std::to_string(grpc_port);
    absl::StatusOr<ConsoleClients> clients = ConsoleClients::Make(config);
    ASSERT_TRUE(clients.ok()) << clients.status();
    console_ = std::make_unique<Console>(*std::move(clients), secure_cookie);
    auto http = HttpServer::Start("127.0.0.1:0", [this](const HttpRequest& r) {
      return console_->Handle(r);
    });
    ASSERT_TRUE(http.ok()) << http.status();
    http_ = *std::move(http);
    port_ = http_->port();
  }

  void TearDown() override {
    if (http_) http_->Stop();
    if (grpc_) grpc_->Shutdown();
  }

  StandInRecall recall_;
  StandInLots lots_;
  std::unique_ptr<grpc::Server> grpc_;
  std::unique_ptr<Console> console_;
  std::unique_ptr<HttpServer> http_;
  int port_ = 0;
};

TEST_F(ConsoleTest, WithoutTheCookieEveryPageSendsToTheLoginForm) {
  for (const std::string& page :
       std::vector<std::string>{"/", "/recalls", "/lots/A:1?as_of=2026-01-01",
                                "/expiry", "/lots/A:1/epcis.json"}) {
    RawResponse r = Get(port_, page);
    EXPECT_EQ(r.status, 303) << page;
    EXPECT_EQ(r.Header("location"), "/login?next=" + PercentEncode(page, "/:"))
        << page;
  }
  // Nothing reached a service.
  EXPECT_TRUE(recall_.seen().empty());
  RawResponse form = Get(port_, "/login?next=/recalls");
  EXPECT_EQ(form.status, 200);
  EXPECT_THAT(form.body, HasSubstr("name=\"token\""));
  EXPECT_THAT(form.body, HasSubstr("id=\"token\""));
  EXPECT_THAT(form.body, HasSubstr("id=\"login-submit\""));
  EXPECT_THAT(form.body, HasSubstr("<label for=\"token\">"));
  EXPECT_THAT(form.body, HasSubstr("name=\"next\" value=\"/recalls\""));
}

TEST_F(ConsoleTest, LoginSetsTheCookieAndEveryCallCarriesItsToken) {
  RawResponse login =
      PostForm(port_, "/login", "token=tok-aud&next=%2Frecalls");
  EXPECT_EQ(login.status, 303);
  EXPECT_EQ(login.Header("location"), "/recalls");
  EXPECT_EQ(login.Header("set-cookie"),
            "lotledger_token=tok-aud; HttpOnly; SameSite=Strict; Path=/");

  RawResponse page = Get(port_, "/recalls", "lotledger_token=tok-aud");
  EXPECT_EQ(page.status, 200);
  EXPECT_THAT(page.body, HasSubstr("id=\"recalls\""));
  EXPECT_THAT(page.body,
              HasSubstr("class=\"recall-link\" "
                        "href=\"/recalls/RC-%3C1%3E\">RC-&lt;1&gt;"));
  EXPECT_THAT(page.body, HasSubstr("Resin &lt;b&gt;contamination"));
  EXPECT_THAT(recall_.seen(), ElementsAre("Bearer tok-aud"));

  RawResponse logout = Get(port_, "/logout", "lotledger_token=tok-aud");
  EXPECT_EQ(logout.status, 303);
  EXPECT_EQ(logout.Header("location"), "/login");
  EXPECT_THAT(logout.Header("set-cookie"),
              HasSubstr("lotledger_token=; Max-Age=0"));
}

TEST_F(ConsoleTest, TheServicesRefusalIsThePage) {
  RawResponse denied = Get(port_, "/recalls", "lotledger_token=tok-denied");
  EXPECT_EQ(denied.status, 403);
  EXPECT_THAT(denied.body,
              HasSubstr("id=\"refusal\" role=\"alert\">nobody may call "
                        "RecallService/ListRecalls: role none is not one of "
                        "auditor, ...</p>"));
  RawResponse unknown = Get(port_, "/recalls", "lotledger_token=tok-unknown");
  EXPECT_EQ(unknown.status, 401);
  EXPECT_THAT(unknown.body, HasSubstr("unknown bearer token"));
  EXPECT_THAT(unknown.body, HasSubstr("href=\"/login\""));
}

TEST_F(ConsoleTest, LoginRefusesWhatIsNoTokenAndRedirectsOnlyLocally) {
  for (const std::string& body : std::vector<std::string>{
           "token=", "token=a%20b", "token=a%3Bb", "token=a%22b",
           "token=" + std::string(9000, 'a')}) {
    RawResponse r = PostForm(port_, "/login", body);
    EXPECT_EQ(r.status, 400) << body.substr(0, 30);
    EXPECT_THAT(r.body, HasSubstr("id=\"login-error\"")) << body.substr(0, 30);
    EXPECT_EQ(r.Header("set-cookie"), "") << body.substr(0, 30);
  }
  for (const std::string& next : std::vector<std::string>{
           "%2F%2Fevil.example%2F", "https%3A%2F%2Fevil.example",
           "%2F%5Cevil.example", "%2Fa%0D%0ASet-Cookie%3A%20x%3Dy"}) {
    RawResponse r = PostForm(port_, "/login", "token=t&next=" + next);
    EXPECT_EQ(r.status, 303) << next;
    EXPECT_EQ(r.Header("location"), "/") << next;
  }
}

TEST_F(ConsoleTest, SearchOpensTheLotOrSaysWhyNot) {
  const std::string cookie = "lotledger_token=tok-aud";
  const std::string lot_page = "/lots/09506000134352:A17";
  for (const std::string& query : std::vector<std::string>{
           "q=09506000134352%3AA17", "q=+09506000134352%3AA17+",
           "q=&gtin=09506000134352&lot=A17",
           "q=%2801%2909506000134352%2810%29A17"}) {
    RawResponse r = Get(port_, "/search?" + query, cookie);
    EXPECT_EQ(r.status, 303) << query;
    EXPECT_EQ(r.Header("location"), lot_page) << query;
  }
  struct Case {
    std::string query;
    int status;
    std::string error;
  };
  for (const Case& c : std::vector<Case>{
           {"q=", 400, "Enter a lot id"},
           {"q=A17%3Cb%3E", 400, "A lot id is &lt;item&gt;:&lt;lot number&gt;"},
           {"q=X%3A%3Cb%3E", 404, "lot X:&lt;b&gt; does not exist"},
           {"q=%2801%2909506000134352%2810%29B9", 404,
            "No lot 09506000134352:B9 is known"},
           {"q=%2801%291234", 400,
            "The scan cannot be read: AI (01): check digit is 3, expected 2"},
       }) {
    RawResponse r = Get(port_, "/search?" + c.query, cookie);
    EXPECT_EQ(r.status, c.status) << c.query;
    EXPECT_THAT(r.body,
                HasSubstr("id=\"search-error\" role=\"alert\">" + c.error))
        << c.query;
    // The form keeps what was typed, escaped.
    EXPECT_THAT(r.body, Not(HasSubstr("<b>"))) << c.query;
  }
}

TEST_F(ConsoleTest, ProbesAndTheStylesheetNeedNoSignIn) {
  RawResponse health = Get(port_, "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "ok\n");
  RawResponse css = Get(port_, "/static/console.css");
  EXPECT_EQ(css.status, 200);
  EXPECT_EQ(css.Header("content-type"), "text/css; charset=utf-8");
}

TEST_F(ConsoleTest, UnreachableServicesAreAnErrorPageNotALoginLoop) {
  grpc_->Shutdown();
  RawResponse r = Get(port_, "/recalls", "lotledger_token=tok-aud");
  EXPECT_EQ(r.status, 503);
  EXPECT_THAT(r.body, HasSubstr("UNAVAILABLE"));
}

TEST_F(ConsoleTest, OnlyGetAndPostAndOnlyKnownPages) {
  RawResponse put = testing::Exchange(
      port_, "PUT /recalls HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(put.status, 405);
  EXPECT_EQ(Get(port_, "/nowhere", "lotledger_token=t").status, 404);
  EXPECT_EQ(PostForm(port_, "/recalls", "", "lotledger_token=t").status, 405);
}

class SecureConsoleTest : public ConsoleTest {
 protected:
  void SetUp() override { Start(/*secure_cookie=*/true); }
};

TEST_F(SecureConsoleTest, BehindTlsTheCookieIsSecure) {
  RawResponse login = PostForm(port_, "/login", "token=tok-aud");
  EXPECT_EQ(login.Header("set-cookie"),
            "lotledger_token=tok-aud; HttpOnly; SameSite=Strict; Path=/; "
            "Secure");
  EXPECT_EQ(login.Header("location"), "/");
}

TEST(ConsoleConfigTest, InsecureDevOnlyOnLoopback) {
  auto parse = [](std::vector<std::string> args) {
    std::vector<char*> argv = {const_cast<char*>("lotledger-console")};
    for (std::string& a : args) argv.push_back(a.data());
    return ParseConsoleConfig(
        static_cast<int>(argv.size()), argv.data(),
        [](const char*) -> const char* { return nullptr; });
  };
  EXPECT_TRUE(parse({"--listen=127.0.0.1:0", "--insecure-dev=true"}).ok());
  EXPECT_THAT(parse({"--listen=0.0.0.0:8080", "--insecure-dev=true"})
                  .status()
                  .message(),
              HasSubstr("only with a loopback --listen"));
  EXPECT_THAT(parse({"--insecure-dev=true", "--recall-target=10.0.0.5:7070"})
                  .status()
                  .message(),
              HasSubstr("--recall-target"));
  EXPECT_THAT(parse({"--bogus=1"}).status().message(),
              HasSubstr("unknown flag --bogus"));
  EXPECT_EQ(parse({"--help"}).status().code(), absl::StatusCode::kCancelled);
  absl::StatusOr<ConsoleConfig> env = ParseConsoleConfig(
      1, std::vector<char*>{const_cast<char*>("x")}.data(),
      [](const char* name) -> const char* {
        return std::string(name) == "LOTLEDGER_CONSOLE_AUDIT_TARGET"
                   ? "127.0.0.1:9"
                   : nullptr;
      });
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(env->audit_target, "127.0.0.1:9");
}

}  // namespace
}  // namespace lotledger::console
