#include "libs/server/auth.h"

#include "gtest/gtest.h"

namespace lotledger::server {
namespace {

TEST(DevTokens, ParsesPrincipalsAndRoles) {
  auto auth = DevTokenAuthenticator::FromText(
      "# dev tokens\n"
      "t-admin   ada   admin\n"
      "t-qa  qa.li qa_inspector,qa_approver  # two roles\n");
  ASSERT_TRUE(auth.ok()) << auth.status();
  absl::StatusOr<Principal> p = (*auth)->Authenticate("t-qa");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->name, "qa.li");
  EXPECT_TRUE(p->HasRole("qa_approver"));
  EXPECT_TRUE(p->HasRole("qa_inspector"));
  EXPECT_FALSE(p->HasRole("admin"));
  EXPECT_EQ((*auth)->Authenticate("nope").status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(DevTokens, RejectsMalformedLineWithItsNumber) {
  auto auth = DevTokenAuthenticator::FromText("ok ada admin\nbroken line\n");
  ASSERT_FALSE(auth.ok());
  EXPECT_NE(auth.status().message().find("line 2"), absl::string_view::npos);
}

TEST(RoleTable, DeniesByDefault) {
  EXPECT_TRUE(RolesFor("/lotledger.v1.LotsService/NoSuchMethod").empty());
  EXPECT_TRUE(
      RolesFor("/lotledger.v1.LotsService/DefineProduct").contains("admin"));
  EXPECT_FALSE(
      RolesFor("/lotledger.v1.LotsService/DefineProduct").contains("operator"));
  EXPECT_FALSE(RolesFor("/lotledger.v1.QualityService/ChangeDisposition")
                   .contains("auditor"));
}

}  // namespace
}  // namespace lotledger::server

// Electronic signatures and the denial report, with JWTs made in the test.
#include "libs/metrics/metrics.h"
#include "libs/server/jwt.h"
#include "libs/server/tests/test_keys.h"

namespace lotledger::server {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);
const SignedAction kRelease{"/lotledger.v1.QualityService/ChangeDisposition",
                            "09506000134352:A17", "req-1"};

class SignatureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = testkeys::NewEcKey("k1");
    auto auth = JwtAuthenticator::FromJwks(
        testkeys::Jwks({key_}),
        {.issuer = "idp", .audience = "lotledger", .clock = &clock_});
    ASSERT_TRUE(auth.ok()) << auth.status();
    auth_ = *std::move(auth);
    guard_ = std::make_unique<Guard>(
        auth_.get(), GuardOptions{.signature_max_age = absl::Minutes(5)});
  }

  // A signing token of `sub` authenticated `age` ago, bound to `action`.
  std::string Token(const std::string& sub, absl::Duration age,
                    const std::optional<SignedAction>& action = kRelease,
                    const std::string& roles = R"(["qa_approver"])") {
    std::string claims =
        absl::StrCat(R"({"iss":"idp","aud":"lotledger","sub":")", sub,
                     R"(","exp":1800003600,"jti":"jti-)", sub, R"(","roles":)",
                     roles, R"(,"auth_time":)", absl::ToUnixSeconds(kT0 - age));
    if (action.has_value()) {
      absl::StrAppend(&claims, R"(,"lotledger_action":{"method":")",
                      action->method, R"(","aggregate_id":")",
                      action->aggregate_id, R"(","request_id":")",
                      action->request_id, R"("})");
    }
    return testkeys::SignJwt(key_, claims + "}");
  }

  Principal Caller(const std::string& name) {
    Principal p;
    p.name = name;
    p.roles = {"qa_approver"};
    return p;
  }

  SignatureInput Input(const std::string& credential) {
    credential_ = credential;
    return {credential_, "approved for release", "final inspection passed",
            "signature"};
  }

  testkeys::SigningKey key_;
  ManualClock clock_{kT0};
  std::unique_ptr<JwtAuthenticator> auth_;
  std::unique_ptr<Guard> guard_;
  std::string credential_;
};

TEST_F(SignatureTest, FreshBoundCredentialOfTheCallerSigns) {
  absl::StatusOr<v1::Signature> sig = guard_->Sign(
      Caller("qa.li"), Input(Token("qa.li", absl::Minutes(4))), kRelease, kT0);
  ASSERT_TRUE(sig.ok()) << sig.status();
  EXPECT_EQ(sig->signer(), "qa.li");
  EXPECT_EQ(sig->meaning(), "approved for release");
  EXPECT_EQ(sig->reason(), "final inspection passed");
  EXPECT_EQ(sig->signed_at().seconds(), absl::ToUnixSeconds(kT0));
  EXPECT_NE(sig->authentication().find("jwt auth_time="), std::string::npos);
  EXPECT_NE(sig->authentication().find("kid=k1"), std::string::npos);
  EXPECT_NE(sig->authentication().find("jti=jti-qa.li"), std::string::npos);
  EXPECT_NE(sig->authentication().find("request=req-1"), std::string::npos);
}

TEST_F(SignatureTest, StaleAuthenticationCannotSign) {
  absl::StatusOr<v1::Signature> sig = guard_->Sign(
      Caller("qa.li"), Input(Token("qa.li", absl::Minutes(6))), kRelease, kT0);
  EXPECT_EQ(sig.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(sig.status().message().find("at most 5m"), std::string::npos)
      << sig.status();
  // Configurable: a guard that allows 10 minutes accepts it.
  Guard lenient(auth_.get(), {.signature_max_age = absl::Minutes(10)});
  EXPECT_TRUE(lenient
                  .Sign(Caller("qa.li"),
                        Input(Token("qa.li", absl::Minutes(6))), kRelease, kT0)
                  .ok());
}

TEST_F(SignatureTest, CredentialBoundToAnotherActionOrUnboundCannotSign) {
  for (const SignedAction& other :
       {SignedAction{kRelease.method, "09506000134352:B01", "req-1"},
        SignedAction{kRelease.method, kRelease.aggregate_id, "req-2"},
        SignedAction{"/lotledger.v1.InventoryService/ScrapStock",
                     kRelease.aggregate_id, "req-1"}}) {
    absl::StatusOr<v1::Signature> sig = guard_->Sign(
        Caller("qa.li"), Input(Token("qa.li", absl::Minutes(1))), other, kT0);
    EXPECT_EQ(sig.status().code(), absl::StatusCode::kPermissionDenied)
        << other.aggregate_id << " " << other.request_id;
  }
  absl::StatusOr<v1::Signature> unbound = guard_->Sign(
      Caller("qa.li"), Input(Token("qa.li", absl::Minutes(1), std::nullopt)),
      kRelease, kT0);
  EXPECT_EQ(unbound.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(unbound.status().message().find("not bound"), std::string::npos);
}

TEST_F(SignatureTest, APersonSignsOnlyForThemselves) {
  absl::StatusOr<v1::Signature> sig = guard_->Sign(
      Caller("qa.li"), Input(Token("qa.wu", absl::Minutes(1))), kRelease, kT0);
  EXPECT_EQ(sig.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(sig.status().message().find("signs only for themselves"),
            std::string::npos);
}

TEST_F(SignatureTest, MeaningReasonAndCredentialAreRequired) {
  SignatureInput in = Input(Token("qa.li", absl::Minutes(1)));
  in.meaning = " ";
  EXPECT_EQ(guard_->Sign(Caller("qa.li"), in, kRelease, kT0)
                .status()
                .message()
                .substr(0, 18),
            "signature.meaning:");
  in = Input(Token("qa.li", absl::Minutes(1)));
  in.reason = "";
  EXPECT_EQ(guard_->Sign(Caller("qa.li"), in, kRelease, kT0).status().code(),
            absl::StatusCode::kInvalidArgument);
  in = Input("");
  EXPECT_EQ(guard_->Sign(Caller("qa.li"), in, kRelease, kT0).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(SignatureTest, TwoPersonRuleNeedsADifferentApprover) {
  absl::StatusOr<v1::Signature> first = guard_->Sign(
      Caller("qa.li"), Input(Token("qa.li", absl::Minutes(1))), kRelease, kT0);
  ASSERT_TRUE(first.ok()) << first.status();
  Principal co;
  SignatureInput same = Input(Token("qa.li", absl::Minutes(1)));
  same.field = "deviation.approval";
  absl::StatusOr<v1::Signature> twice =
      guard_->CoSign(*first, "qa_approver", same, kRelease, kT0, &co);
  EXPECT_EQ(twice.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(twice.status().message().find("different"), std::string::npos);

  SignatureInput clerk =
      Input(Token("clerk", absl::Minutes(1), kRelease, R"(["operator"])"));
  EXPECT_EQ(guard_->CoSign(*first, "qa_approver", clerk, kRelease, kT0, &co)
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);

  SignatureInput second = Input(Token("qa.wu", absl::Minutes(2)));
  absl::StatusOr<v1::Signature> co_sig =
      guard_->CoSign(*first, "qa_approver", second, kRelease, kT0, &co);
  ASSERT_TRUE(co_sig.ok()) << co_sig.status();
  EXPECT_EQ(co_sig->signer(), "qa.wu");
  EXPECT_EQ(co.name, "qa.wu");
}

TEST_F(SignatureTest, RefusalsAreReportedWithoutTheToken) {
  std::vector<Denial> seen;
  SetDenialObserver([&](const Denial& d) { seen.push_back(d); });
  const std::string token = Token("qa.wu", absl::Minutes(1));
  ASSERT_FALSE(guard_->Sign(Caller("qa.li"), Input(token), kRelease, kT0).ok());
  SetDenialObserver(nullptr);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].principal, "qa.li");
  EXPECT_EQ(seen[0].method, kRelease.method);
  EXPECT_EQ(seen[0].code, absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(seen[0].reason.find(token), std::string::npos);
  EXPECT_EQ(seen[0].reason.find(token.substr(token.rfind('.') + 1)),
            std::string::npos);
  // And counted, by method and code; never by principal (no names in
  // metrics: whoever scrapes them would see who works when).
  const std::string text = metrics::Default().Text();
  EXPECT_NE(text.find("lotledger_auth_denied_total{code=\"PERMISSION_DENIED\","
                      "method=\"/lotledger.v1.QualityService/"
                      "ChangeDisposition\"}"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("qa.li"), std::string::npos) << text;
  EXPECT_EQ(text.find("principal="), std::string::npos) << text;
  EXPECT_EQ(text.find(token.substr(token.rfind('.') + 1)), std::string::npos);
}

TEST(DevTokens, OnlyTheWholeTokenAuthenticates) {
  auto auth = *DevTokenAuthenticator::FromText(
      "dev-0123456789abcdef ada admin\n"
      "dev-0123456789abcdeg bob operator\n"
      "dev-0123456789abcdef ada auditor\n");  // a later line wins
  absl::StatusOr<Principal> ada = auth->Authenticate("dev-0123456789abcdef");
  ASSERT_TRUE(ada.ok()) << ada.status();
  EXPECT_EQ(ada->name, "ada");
  EXPECT_EQ(ada->roles, std::set<std::string>{"auditor"});
  EXPECT_EQ(auth->Authenticate("dev-0123456789abcdeg")->name, "bob");
  // A prefix, an extension, one character off, empty: all refused alike.
  for (const char* guess :
       {"dev-0123456789abcde", "dev-0123456789abcdef0", "dev-0123456789abcdee",
        "Dev-0123456789abcdef", ""}) {
    absl::Status s = auth->Authenticate(guess).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated) << guess;
    EXPECT_EQ(s.message(), "the bearer token is not valid") << guess;
  }
}

TEST(AnyAuthenticator, TriesEachInTurn) {
  std::vector<std::unique_ptr<Authenticator>> all;
  all.push_back(*DevTokenAuthenticator::FromText("a ada admin\n"));
  all.push_back(*DevTokenAuthenticator::FromText("b bob operator\n"));
  AnyAuthenticator any(std::move(all));
  EXPECT_EQ(any.Authenticate("a")->name, "ada");
  EXPECT_EQ(any.Authenticate("b")->name, "bob");
  EXPECT_EQ(any.Authenticate("c").status().code(),
            absl::StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace lotledger::server
