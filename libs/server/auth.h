// Authentication, authorization and electronic signatures for every
// lotledger RPC: the one place that says who may do what.
//
// A caller presents `authorization: Bearer <token>` metadata (a JWT, see
// jwt.h, or a dev token from a local file), or, under mutual TLS, a client
// certificate (its CN becomes a principal with the role "service"). An
// Authenticator turns the token into a Principal; the role table in
// auth.cc (deny by default) decides whether the principal may call the
// method. The principal's name becomes the `actor` of every event the call
// writes: a request body can never claim someone else.
//
// Every refusal (unauthenticated, denied, a failed signature) is reported
// once: a structured log line on stderr (principal, method, code, reason,
// never the token) and the DenialObserver; the metric counts by method and
// code only (no names in metrics).
//
// A call to a lotledger method without a valid credential is refused
// before gRPC reads its message (early_auth.h); Guard::Check then
// authenticates it again and authorizes it.
//
// Thread-safety: Authenticators and Guard are immutable after
// construction and safe to use from any thread. SetDenialObserver is meant
// for start-up, before calls arrive.
#ifndef LOTLEDGER_LIBS_SERVER_AUTH_H_
#define LOTLEDGER_LIBS_SERVER_AUTH_H_

#include <grpcpp/server_context.h>

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lotledger/v1/events.pb.h"

namespace lotledger::server {

// The one action a signing credential was issued for (the
// `lotledger_action` claim of a JWT).
struct SignedAction {
  std::string method;        // "/lotledger.v1.QualityService/ChangeDisposition"
  std::string aggregate_id;  // the lot id, recall id, ...
  std::string request_id;    // the command's idempotency key
  bool operator==(const SignedAction&) const = default;
};

struct Principal {
  std::string name;
  std::set<std::string> roles;
  // When the principal last proved who they are (for signatures).
  absl::Time auth_time = absl::InfinitePast();
  std::string auth_method;  // "dev-token", "jwt", "mtls"
  std::string key_id;       // JWT: the `kid` that verified it
  std::string token_id;     // JWT: `jti`, for the audit trail
  // JWT: the action the token is bound to, when it carries one.
  std::optional<SignedAction> bound_action;
  // The RPC this principal was authorized for (Guard::Check); a command's
  // request id is bound to it.
  std::string method;
  bool HasRole(std::string_view role) const {
    return roles.contains(std::string(role));
  }
};

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // UNAUTHENTICATED for an unknown, malformed or expired token. The
  // message never contains the token.
  virtual absl::StatusOr<Principal> Authenticate(
      std::string_view token) const = 0;
};

// Tokens from a local file, for development and tests only: one line per
// token, `<token> <principal> <role>[,<role>...]`; `#` starts a comment.
// A dev token counts as freshly authenticated (auth_time = now) for
// signatures and is bound to no action; production uses JWTs (a process
// takes dev tokens only with --insecure-dev=true on loopback, process.h).
// Only each token's SHA-256 is kept, and a lookup compares every entry in
// constant time: how long a refusal takes does not depend on how much of
// a guess was right.
class DevTokenAuthenticator final : public Authenticator {
 public:
  static absl::StatusOr<std::unique_ptr<DevTokenAuthenticator>> FromFile(
      const std::string& path);
  static absl::StatusOr<std::unique_ptr<DevTokenAuthenticator>> FromText(
      std::string_view text);
  absl::StatusOr<Principal> Authenticate(std::string_view token) const override;

 private:
  using Digest = std::array<unsigned char, 32>;
  static Digest DigestOf(std::string_view token);
  std::vector<std::pair<Digest, Principal>> tokens_;
};

// The principal of `authorization` metadata (`Bearer <token>`; nullopt:
// none was sent): UNAUTHENTICATED when it is missing, not a bearer token,
// or the token does not authenticate. Messages never contain the token.
absl::StatusOr<Principal> AuthenticateBearer(
    const Authenticator& authenticator,
    std::optional<std::string_view> authorization);

// Tries each authenticator in order; the first that accepts the token
// wins. Used when a process takes both JWTs and dev tokens.
class AnyAuthenticator final : public Authenticator {
 public:
  explicit AnyAuthenticator(std::vector<std::unique_ptr<Authenticator>> all)
      : all_(std::move(all)) {}
  absl::StatusOr<Principal> Authenticate(std::string_view token) const override;

 private:
  std::vector<std::unique_ptr<Authenticator>> all_;
};

// Every role the table knows, in a fixed order.
const std::vector<std::string>& AllRoles();
// Roles allowed to call a fully-qualified method
// ("/lotledger.v1.LotsService/CreateLot"); empty when the method is not in
// the table (nobody may call it).
const std::set<std::string>& RolesFor(std::string_view method);
// Every method in the table.
std::vector<std::string> TableMethods();

// A refused or failed attempt, as logs and metrics see it.
struct Denial {
  std::string principal;  // "" when nobody was authenticated
  std::string method;
  absl::StatusCode code;
  std::string reason;
};
using DenialObserver = std::function<void(const Denial&)>;
// Process-wide; each denial is logged and then passed to the observer
// (the metrics counter). Null removes it.
void SetDenialObserver(DenialObserver observer);
// Logs `denial` as one JSON line on stderr and notifies the observer.
void ReportDenial(const Denial& denial);

struct GuardOptions {
  // How old a signer's authentication may be (Part 11 re-authentication).
  absl::Duration signature_max_age = absl::Minutes(5);
};

// What a person states by signing; the credential is their fresh
// re-authentication. `field` names the request field for error messages
// ("signature", "deviation.approval").
struct SignatureInput {
  std::string_view credential;
  std::string_view meaning;
  std::string_view reason;
  std::string field;
};
template <typename SignatureRequest>
SignatureInput SignatureInputOf(const SignatureRequest& req,
                                std::string field) {
  return {req.credential(), req.meaning(), req.reason(), std::move(field)};
}

// Authenticates the caller of `ctx`, checks the role table for `method`,
// and verifies electronic signatures.
class Guard {
 public:
  explicit Guard(const Authenticator* authenticator, GuardOptions options = {})
      : authenticator_(authenticator), options_(options) {}

  // INVALID_ARGUMENT when the request broke a server-wide limit (see
  // limits.h); UNAUTHENTICATED without a valid bearer token or client
  // certificate; PERMISSION_DENIED when none of the principal's roles may
  // call `method`. Reports every refusal.
  absl::StatusOr<Principal> Check(const grpc::ServerContext& ctx,
                                  std::string_view method) const;

  // The electronic signature of `caller` for `action`: the credential
  // must authenticate `caller` themselves (a person signs only for
  // themselves), at most signature_max_age before `now`, and, for a JWT,
  // be bound to exactly `action`. Meaning and reason are required. The
  // returned Signature (signer, meaning, reason, signed_at,
  // authentication) goes into the event; the credential never does.
  absl::StatusOr<v1::Signature> Sign(const Principal& caller,
                                     const SignatureInput& input,
                                     const SignedAction& action,
                                     absl::Time now) const;
  // A second person's signature for the same action (two-person rule):
  // like Sign, but the signer must differ from `first.signer()` and hold
  // `required_role`. `co_signer` receives who signed.
  absl::StatusOr<v1::Signature> CoSign(const v1::Signature& first,
                                       std::string_view required_role,
                                       const SignatureInput& input,
                                       const SignedAction& action,
                                       absl::Time now,
                                       Principal* co_signer) const;

  // Verifies a signature credential alone: the principal it names, which
  // must have been authenticated within `max_age` of `now`. Prefer Sign.
  absl::StatusOr<Principal> VerifyCredential(std::string_view credential,
                                             absl::Time now,
                                             absl::Duration max_age) const;

  const GuardOptions& options() const { return options_; }

 private:
  absl::StatusOr<Principal> VerifySigner(const SignatureInput& input,
                                         const SignedAction& action,
                                         absl::Time now) const;
  const Authenticator* authenticator_;
  GuardOptions options_;
};

}  // namespace lotledger::server

#endif  // LOTLEDGER_LIBS_SERVER_AUTH_H_
