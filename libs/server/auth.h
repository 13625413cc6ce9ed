// Authentication and authorization for every lotledger RPC.
//
// A caller presents `authorization: Bearer <token>` metadata. An
// Authenticator turns the token into a Principal; the role table in
// auth.cc (the one place that says who may call what, deny by default)
// decides whether the principal may call the method. The principal's name
// becomes the `actor` of every event the call writes: a request body can
// never claim someone else.
//
// Thread-safety: Authenticators and Guard are immutable after
// construction and safe to use from any thread.
#ifndef LOTLEDGER_LIBS_SERVER_AUTH_H_
#define LOTLEDGER_LIBS_SERVER_AUTH_H_

#include <grpcpp/server_context.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace lotledger::server {

struct Principal {
  std::string name;
  std::set<std::string> roles;
  // When the principal last proved who they are (for signatures).
  absl::Time auth_time = absl::InfinitePast();
  std::string auth_method;  // "dev-token", "jwt", ...
  bool HasRole(std::string_view role) const {
    return roles.contains(std::string(role));
  }
};

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // UNAUTHENTICATED for an unknown, malformed or expired token.
  virtual absl::StatusOr<Principal> Authenticate(
      std::string_view token) const = 0;
};

// Tokens from a local file, for development and tests only: one line per
// token, `<token> <principal> <role>[,<role>...]`; `#` starts a comment.
// A dev token counts as freshly authenticated (auth_time = now) for
// signatures; production uses JWTs with a real auth_time.
class DevTokenAuthenticator final : public Authenticator {
 public:
  static absl::StatusOr<std::unique_ptr<DevTokenAuthenticator>> FromFile(
      const std::string& path);
  static absl::StatusOr<std::unique_ptr<DevTokenAuthenticator>> FromText(
      std::string_view text);
  absl::StatusOr<Principal> Authenticate(std::string_view token) const override;

 private:
  std::map<std::string, Principal, std::less<>> tokens_;
};

// Roles allowed to call a fully-qualified method
// ("/lotledger.v1.LotsService/CreateLot"); empty when the method is not in
// the table (nobody may call it).
const std::set<std::string>& RolesFor(std::string_view method);

// Authenticates the caller of `ctx` and checks the role table for `method`.
class Guard {
 public:
  explicit Guard(const Authenticator* authenticator)
      : authenticator_(authenticator) {}
  // UNAUTHENTICATED without a valid bearer token; PERMISSION_DENIED when
  // none of the principal's roles may call `method`.
  absl::StatusOr<Principal> Check(const grpc::ServerContext& ctx,
                                  std::string_view method) const;
  // Verifies a signature credential (a token presented again for one
  // action): the principal it names, which must have been authenticated
  // within `max_age` of `now`.
  absl::StatusOr<Principal> VerifyCredential(std::string_view credential,
                                             absl::Time now,
                                             absl::Duration max_age) const;

 private:
  const Authenticator* authenticator_;
};

}  // namespace lotledger::server

#endif  // LOTLEDGER_LIBS_SERVER_AUTH_H_
