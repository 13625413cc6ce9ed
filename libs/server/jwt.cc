#include "libs/server/jwt.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "libs/common/json_log.h"
#include "libs/common/status_macros.h"

namespace lotledger::server {

using google::protobuf::Struct;
using google::protobuf::Value;

namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

struct Key {
  std::string alg;  // "RS256" or "ES256": the only alg this key verifies
  Pkey pkey;
};

absl::StatusOr<Struct> ParseJson(std::string_view text, std::string_view what) {
  Struct s;
  google::protobuf::util::JsonParseOptions opts;
  auto st = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(text.data(), text.size()), &s, opts);
  if (!st.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(Sv(what), " is not a JSON object"));
  }
  return s;
}

const Value* Field(const Struct& s, const std::string& name) {
  auto it = s.fields().find(name);
  return it == s.fields().end() ? nullptr : &it->second;
}

std::string StringField(const Struct& s, const std::string& name) {
  const Value* v = Field(s, name);
  return v != nullptr && v->has_string_value() ? v->string_value() : "";
}

std::optional<std::string> B64Url(std::string_view in) {
  std::string out;
  if (in.find_first_of("=+/") != std::string_view::npos ||
      !absl::WebSafeBase64Unescape(Sv(in), &out)) {
    return std::nullopt;
  }
  return out;
}

// A public key from the parameters OpenSSL 3 names.
absl::StatusOr<Pkey> FromParams(const char* type, OSSL_PARAM_BLD* bld) {
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  EVP_PKEY* pkey = nullptr;
  const bool ok =
      params != nullptr && ctx != nullptr && EVP_PKEY_fromdata_init(ctx) == 1 &&
      EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1;
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  if (!ok) return absl::InvalidArgumentError("not a valid public key");
  return Pkey(pkey);
}

absl::StatusOr<Pkey> RsaKey(const Struct& jwk) {
  std::optional<std::string> n = B64Url(StringField(jwk, "n"));
  std::optional<std::string> e = B64Url(StringField(jwk, "e"));
  if (!n || !e || n->empty() || e->empty()) {
    return absl::InvalidArgumentError("RSA key needs base64url n and e");
  }
  BIGNUM* bn_n = BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()),
                           static_cast<int>(n->size()), nullptr);
  BIGNUM* bn_e = BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()),
                           static_cast<int>(e->size()), nullptr);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n);
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e);
  absl::StatusOr<Pkey> key = FromParams("RSA", bld);
  OSSL_PARAM_BLD_free(bld);
  BN_free(bn_n);
  BN_free(bn_e);
  if (key.ok() && EVP_PKEY_get_bits(key->get()) < 2048) {
    return absl::InvalidArgumentError("RSA key shorter than 2048 bits");
  }
  return key;
}

absl::StatusOr<Pkey> EcKey(const Struct& jwk) {
  if (StringField(jwk, "crv") != "P-256") {
    return absl::InvalidArgumentError("EC key must be on crv P-256");
  }
  std::optional<std::string> x = B64Url(StringField(jwk, "x"));
  std::optional<std::string> y = B64Url(StringField(jwk, "y"));
  if (!x || !y || x->size() != 32 || y->size() != 32) {
    return absl::InvalidArgumentError("EC key needs 32-byte x and y");
  }
  const std::string point = "\x04" + *x + *y;
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1",
                                  0);
  OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                   point.size());
  absl::StatusOr<Pkey> key = FromParams("EC", bld);
  OSSL_PARAM_BLD_free(bld);
  return key;
}

bool Verify(const Key& key, std::string_view input, std::string sig) {
  if (key.alg == "ES256") {
    // JWS carries r || s; OpenSSL verifies DER.
    if (sig.size() != 64) return false;
    ECDSA_SIG* es = ECDSA_SIG_new();
    BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()),
                          32, nullptr);
    BIGNUM* s = BN_bin2bn(
        reinterpret_cast<const unsigned char*>(sig.data()) + 32, 32, nullptr);
    ECDSA_SIG_set0(es, r, s);
    unsigned char* der = nullptr;
    const int len = i2d_ECDSA_SIG(es, &der);
    ECDSA_SIG_free(es);
    if (len <= 0) return false;
    sig.assign(reinterpret_cast<char*>(der), len);
    OPENSSL_free(der);
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok =
      EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr,
                           key.pkey.get()) == 1 &&
      EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()),
                       sig.size(),
                       reinterpret_cast<const unsigned char*>(input.data()),
                       input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

absl::Status Unauthenticated(std::string_view why) {
  return absl::UnauthenticatedError(
      absl::StrCat("the bearer token is not valid: ", Sv(why)));
}

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

// A NumericDate claim; nullopt when absent, error when not a number.
absl::StatusOr<std::optional<absl::Time>> TimeClaim(const Struct& claims,
                                                    const std::string& name) {
  const Value* v = Field(claims, name);
  if (v == nullptr) return std::nullopt;
  if (!v->has_number_value() || !std::isfinite(v->number_value())) {
    return Unauthenticated(absl::StrCat(name, " is not a NumericDate"));
  }
  // From 1970 to the end of year 9999: anything else (1e300, negative) is
  // refused before it is converted, which would otherwise be undefined
  // behaviour (a double beyond int64) and could turn "never valid" into
  // "valid since forever".
  constexpr double kLatest = 253402300799.0;  // 9999-12-31T23:59:59Z
  const double seconds = v->number_value();
  if (!(seconds >= 0 && seconds <= kLatest)) {
    return Unauthenticated(absl::StrCat(
        name, " is out of range (a NumericDate from 1970 to 9999)"));
  }
  return absl::FromUnixSeconds(static_cast<int64_t>(seconds));
}

}  // namespace

struct JwtAuthenticator::KeySet {
  std::map<std::string, Key> by_kid;
};

namespace {

absl::StatusOr<std::shared_ptr<const JwtAuthenticator::KeySet>> ParseJwks(
    std::string_view text) {
  ASSIGN_OR_RETURN(Struct jwks, ParseJson(text, "the JWKS"));
  const Value* keys = Field(jwks, "keys");
  if (keys == nullptr || !keys->has_list_value()) {
    return absl::InvalidArgumentError("the JWKS has no \"keys\" array");
  }
  auto set = std::make_shared<JwtAuthenticator::KeySet>();
  int i = -1;
  for (const Value& v : keys->list_value().values()) {
    ++i;
    if (!v.has_struct_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat("JWKS keys[", i, "]: not an object"));
    }
    const Struct& jwk = v.struct_value();
    const std::string kty = StringField(jwk, "kty");
    const std::string use = StringField(jwk, "use");
    if (!use.empty() && use != "sig") continue;  // encryption keys
    if (kty != "RSA" && kty != "EC") continue;   // not a type we accept
    const std::string kid = StringField(jwk, "kid");
    if (kid.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("JWKS keys[", i, "]: kid required"));
    }
    Key key;
    key.alg = kty == "RSA" ? "RS256" : "ES256";
    const std::string alg = StringField(jwk, "alg");
    if (!alg.empty() && alg != key.alg) {
      if (alg == "RS256" || alg == "ES256") {
        return absl::InvalidArgumentError(absl::StrCat(
            "JWKS key ", kid, ": alg ", alg, " does not fit kty ", kty));
      }
      continue;  // e.g. PS256, ES384: not accepted here
    }
    absl::StatusOr<Pkey> pkey = kty == "RSA" ? RsaKey(jwk) : EcKey(jwk);
    if (!pkey.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("JWKS key ", kid, ": ", pkey.status().message()));
    }
    key.pkey = *std::move(pkey);
    if (!set->by_kid.emplace(kid, std::move(key)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("JWKS key ", kid, ": kid used twice"));
    }
  }
  if (set->by_kid.empty()) {
    return absl::InvalidArgumentError(
        "the JWKS has no RS256 or ES256 signing key");
  }
  return set;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::FailedPreconditionError(
        absl::StrCat("JWKS file ", path, " cannot be read"));
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

int64_t MtimeNs(const std::string& path) {
  std::error_code ec;
  auto t = std::filesystem::last_write_time(path, ec);
  if (ec) return -1;
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             t.time_since_epoch())
      .count();
}

}  // namespace

JwtAuthenticator::JwtAuthenticator(JwtOptions options)
    : options_(std::move(options)) {
  if (options_.clock == nullptr) options_.clock = SystemClock::Get();
}

JwtAuthenticator::~JwtAuthenticator() = default;

absl::StatusOr<std::unique_ptr<JwtAuthenticator>> JwtAuthenticator::FromJwks(
    std::string_view jwks_json, JwtOptions options) {
  if (options.issuer.empty() || options.audience.empty()) {
    return absl::InvalidArgumentError(
        "--jwt-issuer and --jwt-audience: required with --jwks-file");
  }
  ASSIGN_OR_RETURN(std::shared_ptr<const KeySet> keys, ParseJwks(jwks_json));
  auto auth = std::unique_ptr<JwtAuthenticator>(
      new JwtAuthenticator(std::move(options)));
  absl::MutexLock l(&auth->mu_);
  auth->keys_ = std::move(keys);
  auth->next_check_ = absl::InfiniteFuture();
  return auth;
}

absl::StatusOr<std::unique_ptr<JwtAuthenticator>>
JwtAuthenticator::FromJwksFile(const std::string& path, JwtOptions options) {
  const int64_t mtime = MtimeNs(path);
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  absl::StatusOr<std::unique_ptr<JwtAuthenticator>> auth =
      FromJwks(text, std::move(options));
  if (!auth.ok()) {
    return absl::Status(
        auth.status().code(),
        absl::StrCat("--jwks-file ", path, ": ", auth.status().message()));
  }
  JwtAuthenticator& a = **auth;
  absl::MutexLock l(&a.mu_);
  a.path_ = path;
  a.mtime_ns_ = mtime;
  a.next_check_ = a.options_.clock->Now() + a.options_.reload_interval;
  return auth;
}

std::shared_ptr<const JwtAuthenticator::KeySet> JwtAuthenticator::Keys() const {
  absl::MutexLock l(&mu_);
  const absl::Time now = options_.clock->Now();
  if (path_.empty() || now < next_check_) return keys_;
  next_check_ = now + options_.reload_interval;
  const int64_t mtime = MtimeNs(path_);
  if (mtime == mtime_ns_) return keys_;
  mtime_ns_ = mtime;
  absl::StatusOr<std::string> text = ReadFile(path_);
  absl::StatusOr<std::shared_ptr<const KeySet>> keys =
      text.ok() ? ParseJwks(*text)
                : absl::StatusOr<std::shared_ptr<const KeySet>>(text.status());
  if (keys.ok()) {
    keys_ = *std::move(keys);
  } else {
    LogJson(
        "error", "JWKS reload failed; keeping the previous keys",
        {{"path", path_}, {"reason", std::string(keys.status().message())}});
  }
  return keys_;
}

absl::StatusOr<Principal> JwtAuthenticator::Authenticate(
    std::string_view token) const {
  std::vector<absl::string_view> parts = absl::StrSplit(Sv(token), '.');
  if (parts.size() != 3) return Unauthenticated("not a compact JWS");
  std::optional<std::string> header_json =
      B64Url(std::string_view(parts[0].data(), parts[0].size()));
  std::optional<std::string> claims_json =
      B64Url(std::string_view(parts[1].data(), parts[1].size()));
  std::optional<std::string> sig =
      B64Url(std::string_view(parts[2].data(), parts[2].size()));
  if (!header_json || !claims_json || !sig) {
    return Unauthenticated("not base64url");
  }
  absl::StatusOr<Struct> header = ParseJson(*header_json, "header");
  if (!header.ok()) return Unauthenticated("the header is not JSON");
  const std::string alg = StringField(*header, "alg");
  if (alg != "RS256" && alg != "ES256") {
    return Unauthenticated(absl::StrCat(
        "alg \"", alg, "\" is not accepted (only RS256 and ES256)"));
  }
  if (Field(*header, "crit") != nullptr) {
    return Unauthenticated("crit header parameters are not supported");
  }
  const std::string kid = StringField(*header, "kid");
  std::shared_ptr<const KeySet> keys = Keys();
  auto key = keys->by_kid.find(kid);
  if (key == keys->by_kid.end()) {
    return Unauthenticated(absl::StrCat("unknown kid \"", kid, "\""));
  }
  if (key->second.alg != alg) {
    return Unauthenticated(absl::StrCat("alg ", alg, " does not fit key ", kid,
                                        " (", key->second.alg, ")"));
  }
  const std::string_view signing_input =
      token.substr(0, parts[0].size() + 1 + parts[1].size());
  if (!Verify(key->second, signing_input, *sig)) {
    return Unauthenticated("the signature does not verify");
  }

  // Signed by a key we trust: now the claims.
  absl::StatusOr<Struct> claims = ParseJson(*claims_json, "claims");
  if (!claims.ok()) return Unauthenticated("the claims are not JSON");
  if (StringField(*claims, "iss") != options_.issuer) {
    return Unauthenticated(
        absl::StrCat("iss is not \"", options_.issuer, "\""));
  }
  bool audience_ok = false;
  if (const Value* aud = Field(*claims, "aud"); aud != nullptr) {
    if (aud->has_string_value()) {
      audience_ok = aud->string_value() == options_.audience;
    } else if (aud->has_list_value()) {
      for (const Value& a : aud->list_value().values()) {
        audience_ok |= a.string_value() == options_.audience;
      }
    }
  }
  if (!audience_ok) {
    return Unauthenticated(
        absl::StrCat("aud does not contain \"", options_.audience, "\""));
  }
  const absl::Time now = options_.clock->Now();
  const absl::Duration skew = options_.clock_skew;
  ASSIGN_OR_RETURN(std::optional<absl::Time> exp, TimeClaim(*claims, "exp"));
  if (!exp.has_value()) return Unauthenticated("exp is required");
  if (now >= *exp + skew) {
    return Unauthenticated(absl::StrCat("expired at ", Rfc3339(*exp)));
  }
  ASSIGN_OR_RETURN(std::optional<absl::Time> nbf, TimeClaim(*claims, "nbf"));
  if (nbf.has_value() && now + skew < *nbf) {
    return Unauthenticated(absl::StrCat("not valid before ", Rfc3339(*nbf)));
  }
  ASSIGN_OR_RETURN(std::optional<absl::Time> iat, TimeClaim(*claims, "iat"));
  if (iat.has_value() && now + skew < *iat) {
    return Unauthenticated(
        absl::StrCat("issued in the future (iat ", Rfc3339(*iat), ")"));
  }
  Principal p;
  p.name = StringField(*claims, "sub");
  if (p.name.empty() || p.name.size() > 256) {
    return Unauthenticated("sub must be a string of 1..256 bytes");
  }
  if (const Value* roles = Field(*claims, options_.roles_claim);
      roles != nullptr) {
    if (roles->has_list_value()) {
      for (const Value& r : roles->list_value().values()) {
        if (r.has_string_value()) p.roles.insert(r.string_value());
      }
    } else if (roles->has_string_value()) {
      for (absl::string_view r :
           absl::StrSplit(roles->string_value(), ' ', absl::SkipEmpty())) {
        p.roles.insert(std::string(r));
      }
    }
  }
  ASSIGN_OR_RETURN(std::optional<absl::Time> auth_time,
                   TimeClaim(*claims, "auth_time"));
  if (auth_time.has_value()) {
    if (now + skew < *auth_time) {
      return Unauthenticated("auth_time is in the future");
    }
    p.auth_time = *auth_time;
  }
  p.auth_method = "jwt";
  p.key_id = kid;
  p.token_id = StringField(*claims, "jti");
  if (const Value* action = Field(*claims, "lotledger_action");
      action != nullptr) {
    if (!action->has_struct_value()) {
      return Unauthenticated("lotledger_action must be an object");
    }
    SignedAction a{
        .method = StringField(action->struct_value(), "method"),
        .aggregate_id = StringField(action->struct_value(), "aggregate_id"),
        .request_id = StringField(action->struct_value(), "request_id")};
    if (a.method.empty() || a.aggregate_id.empty() || a.request_id.empty()) {
      return Unauthenticated(
          "lotledger_action needs method, aggregate_id and request_id");
    }
    p.bound_action = std::move(a);
  }
  return p;
}

absl::StatusOr<std::unique_ptr<Authenticator>> MakeAuthenticator(
    const std::string& dev_tokens, const std::string& jwks_file,
    JwtOptions jwt) {
  std::vector<std::unique_ptr<Authenticator>> all;
  if (!jwks_file.empty()) {
    ASSIGN_OR_RETURN(all.emplace_back(),
                     JwtAuthenticator::FromJwksFile(jwks_file, std::move(jwt)));
  }
  if (!dev_tokens.empty()) {
    ASSIGN_OR_RETURN(all.emplace_back(),
                     DevTokenAuthenticator::FromFile(dev_tokens));
  }
  if (all.empty()) {
    return absl::InvalidArgumentError(
        "--jwks-file (with --jwt-issuer and --jwt-audience) or --dev-tokens: "
        "required");
  }
  if (all.size() == 1) return std::move(all.front());
  return std::make_unique<AnyAuthenticator>(std::move(all));
}

}  // namespace lotledger::server
