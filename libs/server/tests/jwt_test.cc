// JwtAuthenticator against keys made in the test: what it accepts and
// every way a token must be refused.
#include "libs/server/jwt.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "libs/server/tests/test_keys.h"

namespace lotledger::server {
namespace {

using testkeys::B64Url;
using testkeys::SigningKey;
using testkeys::SignJwt;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

class JwtTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa_ = new SigningKey(testkeys::NewRsaKey("rsa-1"));
    ec_ = new SigningKey(testkeys::NewEcKey("ec-1"));
    stranger_ = new SigningKey(testkeys::NewEcKey("ec-1"));  // same kid
  }

  void SetUp() override {
    auto auth =
        JwtAuthenticator::FromJwks(testkeys::Jwks({*rsa_, *ec_}), Options());
    ASSERT_TRUE(auth.ok()) << auth.status();
    auth_ = *std::move(auth);
  }

  JwtOptions Options() {
    return {.issuer = "https://idp.example",
            .audience = "lotledger",
            .clock_skew = absl::Seconds(30),
            .clock = &clock_};
  }

  // Claims valid at kNow, with `extra` fields appended.
  static std::string Claims(const std::string& extra = "",
                            int64_t exp = 1'800'000'600) {
    return absl::StrCat(
        R"({"iss":"https://idp.example","aud":["other","lotledger"],)",
        R"("sub":"qa.li","roles":["qa_approver","qa_inspector"],)",
        R"("iat":1799999990,"jti":"j-1","exp":)", exp, extra, "}");
  }

  absl::StatusCode Code(const std::string& token) {
    return auth_->Authenticate(token).status().code();
  }
  std::string Why(const std::string& token) {
    return std::string(auth_->Authenticate(token).status().message());
  }

  static inline SigningKey* rsa_ = nullptr;
  static inline SigningKey* ec_ = nullptr;
  static inline SigningKey* stranger_ = nullptr;
  ManualClock clock_{kNow};
  std::unique_ptr<JwtAuthenticator> auth_;
};

TEST_F(JwtTest, AcceptsRs256AndEs256WithRolesSubAndAuthTime) {
  for (const SigningKey* key : {rsa_, ec_}) {
    absl::StatusOr<Principal> p = auth_->Authenticate(
        SignJwt(*key, Claims(R"(,"auth_time":1799999900)")));
    ASSERT_TRUE(p.ok()) << key->alg << ": " << p.status();
    EXPECT_EQ(p->name, "qa.li");
    EXPECT_EQ(p->auth_method, "jwt");
    EXPECT_EQ(p->key_id, key->kid);
    EXPECT_EQ(p->token_id, "j-1");
    EXPECT_TRUE(p->HasRole("qa_approver"));
    EXPECT_TRUE(p->HasRole("qa_inspector"));
    EXPECT_FALSE(p->HasRole("admin"));
    EXPECT_EQ(p->auth_time, absl::FromUnixSeconds(1799999900));
    EXPECT_FALSE(p->bound_action.has_value());
  }
}

TEST_F(JwtTest, RolesMayBeASpaceSeparatedStringInAConfiguredClaim) {
  JwtOptions o = Options();
  o.roles_claim = "lotledger_roles";
  auto auth = JwtAuthenticator::FromJwks(testkeys::Jwks({*ec_}), o);
  ASSERT_TRUE(auth.ok());
  absl::StatusOr<Principal> p = (*auth)->Authenticate(
      SignJwt(*ec_, Claims(R"(,"lotledger_roles":"operator auditor")")));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->roles, (std::set<std::string>{"operator", "auditor"}));
}

TEST_F(JwtTest, ExpiredIsRefusedBeyondTheSkewOnly) {
  // exp 10 s ago: inside the 30 s skew.
  EXPECT_TRUE(
      auth_->Authenticate(SignJwt(*ec_, Claims("", 1'799'999'990))).ok());
  const std::string old = SignJwt(*ec_, Claims("", 1'799'999'900));
  EXPECT_EQ(Code(old), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(Why(old).find("expired"), std::string::npos) << Why(old);
  // No exp at all.
  const std::string forever = SignJwt(
      *ec_, R"({"iss":"https://idp.example","aud":"lotledger","sub":"x"})");
  EXPECT_NE(Why(forever).find("exp is required"), std::string::npos);
}

TEST_F(JwtTest, NotYetValidIsRefused) {
  const std::string later = SignJwt(*rsa_, Claims(R"(,"nbf":1800000100)"));
  EXPECT_EQ(Code(later), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(Why(later).find("not valid before"), std::string::npos);
  clock_.Advance(absl::Seconds(80));  // within the skew of nbf now
  EXPECT_TRUE(auth_->Authenticate(later).ok());
  const std::string future_iat = SignJwt(*rsa_, Claims(R"(,"iat":1800000999)"));
  EXPECT_EQ(Code(future_iat), absl::StatusCode::kUnauthenticated);
}

TEST_F(JwtTest, TimesOutOfRangeAreRefusedAsSuch) {
  // A NumericDate beyond int64 seconds (1e300) or before 1970 is refused
  // as out of range; converting it would be undefined behaviour, and on
  // x86 turned nbf/iat 1e300 ("valid in the far future") into the far
  // past, so the token was accepted.
  const std::string base =
      R"({"iss":"https://idp.example","aud":"lotledger","sub":"qa.li",)";
  for (const std::string& times :
       {std::string(R"("exp":1e300})"),
        std::string(R"("exp":1800000600,"nbf":1e300})"),
        std::string(R"("exp":1800000600,"iat":1e300})"),
        std::string(R"("exp":1800000600,"nbf":-1e300})"),
        std::string(R"("exp":1800000600,"auth_time":1e300})"),
        std::string(R"("exp":-5})")}) {
    const std::string token = SignJwt(*ec_, base + times);
    EXPECT_EQ(Code(token), absl::StatusCode::kUnauthenticated) << times;
    EXPECT_NE(Why(token).find("is out of range"), std::string::npos)
        << times << ": " << Why(token);
  }
  // The last second of year 9999 is still a date.
  EXPECT_TRUE(
      auth_->Authenticate(SignJwt(*ec_, base + R"("exp":253402300799})")).ok());
}

TEST_F(JwtTest, WrongIssuerOrAudienceIsRefused) {
  const std::string iss = SignJwt(
      *ec_, R"({"iss":"https://evil.example","aud":"lotledger","sub":"x",)"
            R"("exp":1800000600})");
  EXPECT_EQ(Code(iss), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(Why(iss).find("iss"), std::string::npos);
  const std::string aud =
      SignJwt(*ec_, R"({"iss":"https://idp.example","aud":["other"],"sub":"x",)"
                    R"("exp":1800000600})");
  EXPECT_EQ(Code(aud), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(Why(aud).find("aud"), std::string::npos);
}

TEST_F(JwtTest, BadSignatureIsRefused) {
  std::string token = SignJwt(*rsa_, Claims());
  // Claims changed after signing: a different subject.
  const size_t dot1 = token.find('.');
  const size_t dot2 = token.rfind('.');
  std::string claims = Claims();
  claims.replace(claims.find("qa.li"), 5, "boss!");
  const std::string forged = absl::StrCat(token.substr(0, dot1), ".",
                                          B64Url(claims), token.substr(dot2));
  EXPECT_EQ(Code(forged), absl::StatusCode::kUnauthenticated);
  // Signed by a key that merely claims a trusted kid.
  const std::string stranger = SignJwt(*stranger_, Claims());
  EXPECT_EQ(Code(stranger), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(Why(stranger).find("does not verify"), std::string::npos);
  // Garbage.
  EXPECT_EQ(Code("not.a.jwt"), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(Code(""), absl::StatusCode::kUnauthenticated);
}

TEST_F(JwtTest, AlgNoneAndAlgConfusionAreRefused) {
  const std::string claims = B64Url(Claims());
  // alg none, no signature.
  const std::string none =
      absl::StrCat(B64Url(R"({"alg":"none","kid":"rsa-1"})"), ".", claims, ".");
  EXPECT_EQ(Code(none), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(Why(none).find("not accepted"), std::string::npos);
  // HS256 keyed with the RSA public key's bytes (the classic confusion).
  const std::string hs = absl::StrCat(
      B64Url(R"({"alg":"HS256","kid":"rsa-1"})"), ".", claims, ".AAAA");
  EXPECT_EQ(Code(hs), absl::StatusCode::kUnauthenticated);
  // ES256 header naming the RSA key, signed with an EC key.
  SigningKey ec_as_rsa = *ec_;
  ec_as_rsa.kid = "rsa-1";
  const std::string confused = SignJwt(ec_as_rsa, Claims());
  EXPECT_EQ(Code(confused), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(Why(confused).find("does not fit"), std::string::npos);
}

TEST_F(JwtTest, UnknownKidIsRefused) {
  SigningKey other = testkeys::NewEcKey("ec-9");
  const std::string token = SignJwt(other, Claims());
  EXPECT_EQ(Code(token), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(Why(token).find("unknown kid"), std::string::npos);
}

TEST_F(JwtTest, RefusalsNeverRepeatTheToken) {
  const std::string token = SignJwt(*ec_, Claims("", 1'700'000'000));
  const std::string why = Why(token);
  EXPECT_EQ(why.find(token.substr(token.rfind('.') + 1)), std::string::npos);
  EXPECT_EQ(why.find(token.substr(0, token.find('.'))), std::string::npos);
}

TEST_F(JwtTest, ReadsTheActionBinding) {
  absl::StatusOr<Principal> p = auth_->Authenticate(
      SignJwt(*ec_, Claims(R"(,"lotledger_action":{"method":"/m/M",)"
                           R"("aggregate_id":"lot-1","request_id":"r-1"})")));
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_TRUE(p->bound_action.has_value());
  EXPECT_EQ(*p->bound_action, (SignedAction{"/m/M", "lot-1", "r-1"}));
  EXPECT_EQ(
      Code(SignJwt(*ec_, Claims(R"(,"lotledger_action":{"method":"x"})"))),
      absl::StatusCode::kUnauthenticated);
}

TEST_F(JwtTest, BadJwksIsRefusedAtStart) {
  EXPECT_FALSE(JwtAuthenticator::FromJwks("{}", Options()).ok());
  EXPECT_FALSE(JwtAuthenticator::FromJwks("not json", Options()).ok());
  SigningKey weak = testkeys::NewRsaKey("weak", 1024);
  absl::Status s =
      JwtAuthenticator::FromJwks(testkeys::Jwks({weak}), Options()).status();
  EXPECT_NE(s.message().find("2048"), std::string::npos) << s;
  JwtOptions no_issuer = Options();
  no_issuer.issuer.clear();
  EXPECT_FALSE(
      JwtAuthenticator::FromJwks(testkeys::Jwks({*ec_}), no_issuer).ok());
}

TEST_F(JwtTest, JwksFileIsReReadWhenItChanges) {
  const std::string path =
      (std::filesystem::path(::testing::TempDir()) / "jwks-reload.json")
          .string();
  testkeys::WriteFile(path, testkeys::Jwks({*ec_}));
  JwtOptions o = Options();
  o.reload_interval = absl::Seconds(10);
  auto auth = JwtAuthenticator::FromJwksFile(path, o);
  ASSERT_TRUE(auth.ok()) << auth.status();
  const std::string rsa_token = SignJwt(*rsa_, Claims());
  EXPECT_FALSE((*auth)->Authenticate(rsa_token).ok());
  // Rotation: the new file holds the RSA key only.
  testkeys::WriteFile(path, testkeys::Jwks({*rsa_}));
  std::filesystem::last_write_time(
      path, std::filesystem::last_write_time(path) + std::chrono::seconds(5));
  clock_.Advance(absl::Seconds(11));
  EXPECT_TRUE((*auth)->Authenticate(rsa_token).ok());
  EXPECT_FALSE((*auth)->Authenticate(SignJwt(*ec_, Claims())).ok());
  // A broken file keeps the keys that work.
  testkeys::WriteFile(path, "{ broken");
  std::filesystem::last_write_time(
      path, std::filesystem::last_write_time(path) + std::chrono::seconds(10));
  clock_.Advance(absl::Seconds(11));
  EXPECT_TRUE((*auth)->Authenticate(rsa_token).ok());
}

}  // namespace
}  // namespace lotledger::server
