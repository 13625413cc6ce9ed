// Bearer JWTs verified with OpenSSL against a JWKS file.
//
// Accepted: compact JWS with alg RS256 (RSA >= 2048 bits) or ES256 (P-256),
// a `kid` naming a key of the JWKS whose type (and `alg`, when the key
// states one) matches the header. Refused: alg none, HS*, any other alg, a
// header alg that does not fit the key (alg confusion), unknown kids,
// `crit` headers. Checked claims: `iss` equals the configured issuer,
// `aud` (string or array) contains the configured audience, `exp` is
// required and `nbf`/`iat` are honoured, each with a bounded clock skew;
// `sub` is the principal; roles come from one claim (an array of strings,
// or a space-separated string). `auth_time` (OIDC) is when the person last
// proved who they are, used for electronic signatures; a token without it
// can authenticate calls but cannot sign. A `lotledger_action` object
// (`method`, `aggregate_id`, `request_id`) binds a signing token to one
// action (see Guard::Sign in auth.h).
//
// The JWKS file is re-read when it changes (checked at most every
// `reload_interval`), so keys rotate without a restart; a file that no
// longer parses keeps the previous keys and is reported on stderr.
//
// Thread-safety: Authenticate may be called from any thread.
#ifndef LOTLEDGER_LIBS_SERVER_JWT_H_
#define LOTLEDGER_LIBS_SERVER_JWT_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/common/clock.h"
#include "libs/server/auth.h"

namespace lotledger::server {

struct JwtOptions {
  std::string issuer;    // required: the `iss` every token must carry
  std::string audience;  // required: must appear in `aud`
  std::string roles_claim = "roles";
  // How far apart the issuer's clock and ours may be for exp/nbf/iat.
  absl::Duration clock_skew = absl::Seconds(60);
  absl::Duration reload_interval = absl::Seconds(10);
  const Clock* clock = nullptr;  // null: the system clock
};

class JwtAuthenticator final : public Authenticator {
 public:
  // Keys from a JWKS file, re-read when it changes.
  static absl::StatusOr<std::unique_ptr<JwtAuthenticator>> FromJwksFile(
      const std::string& path, JwtOptions options);
  // Keys from JWKS text (fixed).
  static absl::StatusOr<std::unique_ptr<JwtAuthenticator>> FromJwks(
      std::string_view jwks_json, JwtOptions options);
  ~JwtAuthenticator() override;

  // UNAUTHENTICATED, with a reason that never repeats the token.
  absl::StatusOr<Principal> Authenticate(std::string_view token) const override;

  struct KeySet;  // parsed keys, public for the implementation only

 private:
  explicit JwtAuthenticator(JwtOptions options);
  std::shared_ptr<const KeySet> Keys() const;

  JwtOptions options_;
  std::string path_;
  mutable absl::Mutex mu_;
  mutable std::shared_ptr<const KeySet> keys_ ABSL_GUARDED_BY(mu_);
  mutable absl::Time next_check_ ABSL_GUARDED_BY(mu_);
  mutable int64_t mtime_ns_ ABSL_GUARDED_BY(mu_) = 0;
};

// The authenticator of a process: JWTs from `jwks_file` and/or dev tokens
// from `dev_tokens` (JWTs are tried first). INVALID_ARGUMENT when neither
// is configured.
absl::StatusOr<std::unique_ptr<Authenticator>> MakeAuthenticator(
    const std::string& dev_tokens, const std::string& jwks_file,
    JwtOptions jwt);

}  // namespace lotledger::server

#endif  // LOTLEDGER_LIBS_SERVER_JWT_H_
