// The console's HTTP request parser and server on hostile and oversized
// input: every malformed request is answered with a 4xx naming the
// problem, the handler never sees it, and the server keeps serving.
// The server tests use real sockets on 127.0.0.1.
#include "services/console/http.h"

#include <atomic>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/console/tests/http_client.h"

namespace lotledger::console {
namespace {

using ::testing::ElementsAre;
using testing::Exchange;
using testing::Get;
using ::testing::HasSubstr;
using ::testing::Optional;

std::optional<HttpError> Parse(const std::string& head, HttpRequest* r) {
  return ParseHttpHead(head, r);
}

int ParseStatus(const std::string& head) {
  HttpRequest r;
  std::optional<HttpError> e = Parse(head, &r);
  return e.has_value() ? e->status : 0;
}

TEST(HttpParse, AWellFormedRequestIsTakenApart) {
  HttpRequest r;
  ASSERT_FALSE(Parse("GET /lots/RM%2FX:A%201/verify?as_of=2026-03-01&x=%3C "
                     "HTTP/1.1\r\nHost: a\r\nCookie: a=1\r\ncookie: "
                     "lotledger_token=t\r\nX-Thing:  v  ",
                     &r)
                   .has_value());
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.path, "/lots/RM/X:A 1/verify");
  EXPECT_THAT(r.segments, ElementsAre("lots", "RM/X:A 1", "verify"));
  EXPECT_EQ(r.query, "as_of=2026-03-01&x=%3C");
  EXPECT_EQ(r.Header("x-thing"), "v");
  EXPECT_EQ(CookieValue(r.Header("cookie"), "lotledger_token"), "t");
  EXPECT_EQ(ParseForm(r.query).at("x"), "<");
}

TEST(HttpParse, MalformedRequestLinesAre400) {
  for (const std::string& head : std::vector<std::string>{
           std::string(""),
           std::string("GET"),
           std::string("GET /"),
           std::string("GET / HTTP/1.1 extra"),
           std::string("GET  / HTTP/1.1"),
           std::string("GET / HTTP/2.0"),
           std::string("GET http://evil.example/ HTTP/1.1"),
           std::string("GET * HTTP/1.1"),
           std::string("G(T / HTTP/1.1"),
           std::string("GET /a\x01 HTTP/1.1"),
           std::string("GET /\xff\xfe HTTP/1.1"),
           std::string("GET /%zz HTTP/1.1"),
           std::string("GET /%4 HTTP/1.1"),
           std::string("GET /lots/%00 HTTP/1.1"),
           std::string("GET /\0 HTTP/1.1", 15),
       }) {
    EXPECT_EQ(ParseStatus(head), 400) << "head: " << head;
  }
}

TEST(HttpParse, MalformedHeadersAre400) {
  for (const std::string& header : std::vector<std::string>{
           std::string("NoColon"),
           std::string(" folded: line"),
           std::string("\tfolded: line"),
           std::string("Bad Name: v"),
           std::string(": empty name"),
           std::string("X: a\x01"
                       "b"),
           std::string("X: a\x7f"),
           std::string("X: a\rb"),
           std::string("Content-Length: -1"),
           std::string("Content-Length: 1e3"),
           std::string("Content-Length: 99999999999999999999999"),
           std::string("Content-Length: "),
       }) {
    EXPECT_EQ(ParseStatus("GET / HTTP/1.1\r\n" + header), 400)
        << "header: " << header;
  }
  // An empty line inside the head (the caller splits at the first blank
  // line, so only a stray CRLF gets here).
  EXPECT_EQ(ParseStatus("GET / HTTP/1.1\r\n\r\nX: y"), 400);
  // Conflicting lengths (request smuggling) and chunked bodies.
  EXPECT_EQ(ParseStatus("POST / HTTP/1.1\r\nContent-Length: 1\r\n"
                        "Content-Length: 2"),
            400);
  EXPECT_EQ(ParseStatus("POST / HTTP/1.1\r\nTransfer-Encoding: chunked"), 411);
  EXPECT_EQ(ParseStatus("POST / HTTP/1.1"), 411);
}

TEST(HttpParse, OversizedInputIsRefusedByItsLimit) {
  EXPECT_EQ(
      ParseStatus("GET /" + std::string(kMaxHeaderBytes, 'a') + " HTTP/1.1"),
      431);
  std::string many = "GET / HTTP/1.1";
  for (size_t i = 0; i <= kMaxHeaders; ++i) many += "\r\nX: y";
  EXPECT_EQ(ParseStatus(many), 431);
  EXPECT_EQ(ParseStatus("POST / HTTP/1.1\r\nContent-Length: " +
                        std::to_string(kMaxBodyBytes + 1)),
            413);
  HttpRequest r;
  EXPECT_FALSE(Parse("POST / HTTP/1.1\r\nContent-Length: " +
                         std::to_string(kMaxBodyBytes),
                     &r)
                   .has_value());
  EXPECT_EQ(ContentLength(r), kMaxBodyBytes);
}

TEST(HttpParse, PercentCodingRoundTripsAndRefusesBadEscapes) {
  EXPECT_THAT(PercentDecode("a%2Fb+c", true), Optional(std::string("a/b c")));
  EXPECT_THAT(PercentDecode("a%2fb+c", false), Optional(std::string("a/b+c")));
  EXPECT_EQ(PercentDecode("%", false), std::nullopt);
  EXPECT_EQ(PercentDecode("%0", false), std::nullopt);
  EXPECT_EQ(PercentDecode("%g0", false), std::nullopt);
  EXPECT_EQ(PercentDecode("%00", false), std::nullopt);
  const std::string hostile = "A\"<>'/?#% :&=\x01\xc3\xa9";
  EXPECT_EQ(PercentEncode(hostile, ":"),
            "A%22%3C%3E%27%2F%3F%23%25%20:%26%3D%01%C3%A9");
  EXPECT_THAT(PercentDecode(PercentEncode(hostile), false), Optional(hostile));
  // Pairs that do not decode are dropped, the first of repeated names wins.
  const auto form = ParseForm("a=1&a=2&b=%zz&c&=x&d=%3Cs%3E");
  EXPECT_EQ(form.at("a"), "1");
  EXPECT_EQ(form.count("b"), 0u);
  EXPECT_EQ(form.at("c"), "");
  EXPECT_EQ(form.at("d"), "<s>");
}

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server =
        HttpServer::Start("127.0.0.1:0", [this](const HttpRequest& r) {
          ++handled_;
          HttpResponse out;
          out.body = "path=" + r.path + " body=" + r.body;
          return out;
        });
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    port_ = server_->port();
  }

  // The server still answers a good request after a bad one.
  void ExpectStillServing() {
    testing::RawResponse ok = Get(port_, "/still");
    EXPECT_EQ(ok.status, 200);
    EXPECT_EQ(ok.body, "path=/still body=");
  }

  std::atomic<int> handled_{0};
  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
};

TEST_F(HttpServerTest, ServesOverARealSocketWithTheSecurityHeaders) {
  EXPECT_EQ(server_->address(), "127.0.0.1:" + std::to_string(port_));
  testing::RawResponse r = testing::PostForm(port_, "/x", "a=1");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "path=/x body=a=1");
  EXPECT_EQ(r.Header("content-security-policy"),
            "default-src 'self'; script-src 'self'; style-src 'self'");
  EXPECT_EQ(r.Header("x-content-type-options"), "nosniff");
  EXPECT_EQ(r.Header("connection"), "close");
}

TEST_F(HttpServerTest, HostileRequestsGet4xxAndNeverReachTheHandler) {
  struct Case {
    std::string request;
    int status;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"GARBAGE\r\n\r\n", 400, "malformed request line"},
      {std::string("\0\0\0\0\r\n\r\n", 8), 400, "malformed"},
      {"GET /%zz HTTP/1.1\r\n\r\n", 400, "%-escape"},
      {"GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400, "without ':'"},
      {"GET / HTTP/1.1\r\nX: a\x01\r\n\r\n", 400, "control character"},
      {"GET / HTTP/1.1\r\nHost: a\r\n", 400, "closed inside the headers"},
      {"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc", 400,
       "incomplete request body"},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 411,
       "chunked"},
      {"GET / HTTP/1.1\r\nX: " + std::string(kMaxHeaderBytes + 10, 'a') +
           "\r\n\r\n",
       431, "too large"},
      // Larger than the limits, though not by more than the server reads
      // after answering (it closes then).
      {"GET /" + std::string(64 * 1024, 'a'), 431, "too large"},
      {"POST / HTTP/1.1\r\nContent-Length: 1000000\r\n\r\n" +
           std::string(100000, 'x'),
       413, "body too large"},
  };
  for (const Case& c : cases) {
    testing::RawResponse r = Exchange(port_, c.request);
    EXPECT_EQ(r.status, c.status) << c.request.substr(0, 60);
    EXPECT_THAT(r.body, HasSubstr(c.reason)) << c.request.substr(0, 60);
  }
  EXPECT_EQ(handled_.load(), 0);
  ExpectStillServing();
  EXPECT_EQ(handled_.load(), 1);
}

TEST_F(HttpServerTest, BinaryNoiseAndEmptyConnectionsDoNotStopIt) {
  std::string noise;
  for (int i = 0; i < 5000; ++i) noise.push_back(static_cast<char>(i * 131));
  testing::RawResponse r = Exchange(port_, noise + "\r\n\r\n");
  EXPECT_EQ(r.status, 400);
  // Connected and closed without a byte: no answer, nothing handled.
  EXPECT_EQ(Exchange(port_, "").status, 0);
  EXPECT_EQ(handled_.load(), 0);
  ExpectStillServing();
}

TEST(HttpServerStart, ABadOrBusyAddressIsAnErrorNamingIt) {
  EXPECT_THAT(HttpServer::Start("nonsense", nullptr).status().message(),
              HasSubstr("host:port"));
  EXPECT_THAT(HttpServer::Start("example.org:80", nullptr).status().message(),
              HasSubstr("IPv4 address or localhost"));
  auto first = HttpServer::Start(
      "127.0.0.1:0", [](const HttpRequest&) { return HttpResponse{}; });
  ASSERT_TRUE(first.ok());
  auto second = HttpServer::Start((*first)->address(), nullptr);
  EXPECT_THAT(second.status().message(),
              HasSubstr("cannot listen on " + (*first)->address()));
}

}  // namespace
}  // namespace lotledger::console
