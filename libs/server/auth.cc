#include "libs/server/auth.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "libs/common/json_log.h"
#include "libs/common/proto_time.h"
#include "libs/common/status_macros.h"
#include "libs/metrics/metrics.h"
#include "libs/server/limits.h"

namespace lotledger::server {
namespace {

using Table = std::map<std::string, std::set<std::string>, std::less<>>;

// The role table: who may call what. Deny by default: a method missing
// here cannot be called by anyone. docs/security.md explains each row;
// tests/e2e/authz_matrix_test.cc calls every method of every served
// service with every role and expects exactly this table.
//
//   operator        stock movements, lot creation
//   qa_inspector    inspections
//   qa_approver     dispositions (release, hold, reject, deviations)
//   recall_manager  the recall lifecycle
//   admin           products, locations, lot corrections, projection
//                   rebuilds (AdminService)
//   auditor         reads everything, writes nothing
//   service         internal calls (mTLS client certificates)
const Table& RoleTable() {
  static const Table* table = [] {
    const std::set<std::string> readers = {
        "operator", "qa_inspector", "qa_approver", "recall_manager",
        "admin",    "auditor",      "service"};
    auto* t = new Table{
        {"/lotledger.v1.LotsService/DefineProduct", {"admin"}},
        {"/lotledger.v1.LotsService/CreateLot",
         {"operator", "admin", "service"}},
        {"/lotledger.v1.LotsService/CorrectLot", {"admin", "qa_approver"}},
        {"/lotledger.v1.LotsService/GetProduct", readers},
        {"/lotledger.v1.LotsService/GetLot", readers},
        {"/lotledger.v1.LotsService/ListLots", readers},
        {"/lotledger.v1.LotsService/Trace", readers},
        {"/lotledger.v1.LotsService/ResolveUdi", readers},
        {"/lotledger.v1.LotsService/AssignSerials", {"admin"}},
        {"/lotledger.v1.LotsService/GetSerial", readers},
        {"/lotledger.v1.QualityService/RecordInspection", {"qa_inspector"}},
        {"/lotledger.v1.QualityService/ChangeDisposition", {"qa_approver"}},
        {"/lotledger.v1.QualityService/GetQualityRecord", readers},
        {"/lotledger.v1.QualityService/ListLotsByDisposition", readers},
        {"/lotledger.v1.InventoryService/CreateLocation", {"admin"}},
        {"/lotledger.v1.InventoryService/ReceiveStock",
         {"operator", "service"}},
        {"/lotledger.v1.InventoryService/TransferStock",
         {"operator", "service"}},
        {"/lotledger.v1.InventoryService/ShipStock", {"operator", "service"}},
        {"/lotledger.v1.InventoryService/ReturnStock", {"operator", "service"}},
        {"/lotledger.v1.InventoryService/ReportUsage", {"operator", "service"}},
        {"/lotledger.v1.InventoryService/GetSerialStatus", readers},
        {"/lotledger.v1.InventoryService/ScrapStock", {"operator", "service"}},
        {"/lotledger.v1.InventoryService/AdjustStock", {"operator", "service"}},
        {"/lotledger.v1.InventoryService/ListLocations", readers},
        {"/lotledger.v1.InventoryService/AllocateFefo", readers},
        {"/lotledger.v1.InventoryService/GetLotInventory", readers},
        {"/lotledger.v1.InventoryService/WatchAlerts", readers},
        {"/lotledger.v1.InventoryService/NearExpiryReport", readers},
        {"/lotledger.v1.InventoryService/ListStock", readers},
        {"/lotledger.v1.InventoryService/TraceLotDistribution", readers},
        {"/lotledger.v1.InventoryService/ListMovements", readers},
        {"/lotledger.v1.InventoryService/GetKpis", readers},
        {"/lotledger.v1.InventoryService/RegisterCustomer", {"admin"}},
        {"/lotledger.v1.InventoryService/UpdateCustomer", {"admin"}},
        {"/lotledger.v1.InventoryService/SetUnitCost", {"admin"}},
        {"/lotledger.v1.InventoryService/GetCustomer", readers},
        {"/lotledger.v1.InventoryService/ListCustomers", readers},
        {"/lotledger.v1.RecallService/Initiate", {"recall_manager"}},
        {"/lotledger.v1.RecallService/GenerateNotifications",
         {"recall_manager"}},
        {"/lotledger.v1.RecallService/RecordResponse", {"recall_manager"}},
        {"/lotledger.v1.RecallService/CloseRecall", {"recall_manager"}},
        {"/lotledger.v1.RecallService/RunDrill", {"recall_manager"}},
        {"/lotledger.v1.RecallService/GetRecall", readers},
        {"/lotledger.v1.RecallService/ListRecalls", readers},
        {"/lotledger.v1.RecallService/AnalyzeImpact", readers},
        {"/lotledger.v1.RecallService/ListNotifications", readers},
        {"/lotledger.v1.RecallService/GetEffectiveness", readers},
        {"/lotledger.v1.RecallService/GetReport", readers},
        {"/lotledger.v1.AuditService/LotHistory", readers},
        {"/lotledger.v1.AuditService/GetLotHistory", readers},
        {"/lotledger.v1.AuditService/VerifyLot", readers},
        {"/lotledger.v1.AuditService/AsOf", readers},
        {"/lotledger.v1.AuditService/ExportEpcis", readers},
        {"/lotledger.v1.AdminService/RebuildProjection", {"admin"}},
        {"/lotledger.v1.AdminService/Backup", {"admin"}},
    };
    return t;
  }();
  return *table;
}

absl::Mutex observer_mu;
DenialObserver* observer ABSL_GUARDED_BY(observer_mu) = nullptr;

// The principal of a verified client certificate (mutual TLS), if any.
std::optional<Principal> CertificatePrincipal(const grpc::ServerContext& ctx) {
  std::shared_ptr<const grpc::AuthContext> auth = ctx.auth_context();
  if (auth == nullptr || !auth->IsPeerAuthenticated()) return std::nullopt;
  std::vector<grpc::string_ref> cn =
      auth->FindPropertyValues("x509_common_name");
  if (cn.empty() || cn.front().empty()) return std::nullopt;
  Principal p;
  p.name = std::string(cn.front().data(), cn.front().size());
  p.roles = {"service"};
  p.auth_method = "mtls";
  return p;
}

absl::Status Refuse(absl::Status status, std::string_view principal,
                    std::string_view method) {
  ReportDenial({.principal = std::string(principal),
                .method = std::string(method),
                .code = status.code(),
                .reason = std::string(status.message())});
  return status;
}

}  // namespace

const std::vector<std::string>& AllRoles() {
  static const auto* roles = new std::vector<std::string>{
      "operator", "qa_inspector", "qa_approver", "recall_manager",
      "admin",    "auditor",      "service"};
  return *roles;
}

const std::set<std::string>& RolesFor(std::string_view method) {
  static const std::set<std::string> kNone;
  auto it = RoleTable().find(method);
  return it == RoleTable().end() ? kNone : it->second;
}

std::vector<std::string> TableMethods() {
  std::vector<std::string> out;
  for (const auto& [method, roles] : RoleTable()) out.push_back(method);
  return out;
}

void SetDenialObserver(DenialObserver o) {
  absl::MutexLock l(&observer_mu);
  delete observer;
  observer = o ? new DenialObserver(std::move(o)) : nullptr;
}

void ReportDenial(const Denial& d) {
  LogJson("warn", "call refused",
          {{"principal", d.principal},
           {"method", d.method},
           {"code", absl::StatusCodeToString(d.code)},
           {"reason", d.reason}});
  // No principal label: people's names do not belong in metrics (anyone
  // who can scrape would see who works when), and one series per person
  // is unbounded. The log line names the principal.
  static const metrics::CounterFamily denied = metrics::Default().Counter(
      "lotledger_auth_denied_total",
      "Calls refused or signatures failed, by method and status code");
  denied.Increment(
      {{"method", d.method}, {"code", absl::StatusCodeToString(d.code)}});
  absl::MutexLock l(&observer_mu);
  if (observer != nullptr) (*observer)(d);
}

absl::StatusOr<std::unique_ptr<DevTokenAuthenticator>>
DevTokenAuthenticator::FromFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::FailedPreconditionError(
        absl::StrCat("dev token file ", path, " cannot be read"));
  }
  std::stringstream text;
  text << in.rdbuf();
  return FromText(text.str());
}

absl::StatusOr<std::unique_ptr<DevTokenAuthenticator>>
DevTokenAuthenticator::FromText(std::string_view text) {
  auto auth = std::unique_ptr<DevTokenAuthenticator>(new DevTokenAuthenticator);
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(Sv(text), '\n')) {
    ++line_no;
    line = absl::StripAsciiWhitespace(line.substr(0, line.find('#')));
    if (line.empty()) continue;
    std::vector<std::string> parts =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (parts.size() != 3) {
      return absl::InvalidArgumentError(
          absl::StrCat("dev token file line ", line_no,
                       ": expected `<token> <principal> <role>[,<role>...]`"));
    }
    Principal p;
    p.name = parts[1];
    p.auth_method = "dev-token";
    for (absl::string_view role :
         absl::StrSplit(parts[2], ',', absl::SkipEmpty())) {
      p.roles.insert(std::string(role));
    }
    const Digest digest = DigestOf(parts[0]);
    auto same =
        std::find_if(auth->tokens_.begin(), auth->tokens_.end(),
                     [&](const auto& entry) { return entry.first == digest; });
    if (same != auth->tokens_.end()) {
      same->second = std::move(p);  // a later line wins
    } else {
      auth->tokens_.emplace_back(digest, std::move(p));
    }
  }
  return auth;
}

DevTokenAuthenticator::Digest DevTokenAuthenticator::DigestOf(
    std::string_view token) {
  Digest d;
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(),
         d.data());
  return d;
}

absl::StatusOr<Principal> DevTokenAuthenticator::Authenticate(
    std::string_view token) const {
  // Constant time in the token: only its SHA-256 is compared, every entry
  // is compared in full (CRYPTO_memcmp) and the loop never stops early,
  // so how long a refusal takes says nothing about how close a guess was.
  const Digest presented = DigestOf(token);
  const Principal* match = nullptr;
  for (const auto& [digest, principal] : tokens_) {
    const bool equal =
        CRYPTO_memcmp(digest.data(), presented.data(), digest.size()) == 0;
    match = equal ? &principal : match;
  }
  if (match == nullptr) {
    return absl::UnauthenticatedError("the bearer token is not valid");
  }
  Principal p = *match;
  p.auth_time = absl::Now();
  return p;
}

absl::StatusOr<Principal> AuthenticateBearer(
    const Authenticator& authenticator,
    std::optional<std::string_view> authorization) {
  if (!authorization.has_value()) {
    return absl::UnauthenticatedError(
        "missing `authorization: Bearer <token>` metadata");
  }
  constexpr std::string_view kBearer = "Bearer ";
  if (!authorization->starts_with(kBearer)) {
    return absl::UnauthenticatedError(
        "authorization metadata must be `Bearer <token>`");
  }
  return authenticator.Authenticate(authorization->substr(kBearer.size()));
}

absl::StatusOr<Principal> AnyAuthenticator::Authenticate(
    std::string_view token) const {
  absl::Status first = absl::UnauthenticatedError("no authenticator");
  for (size_t i = 0; i < all_.size(); ++i) {
    absl::StatusOr<Principal> p = all_[i]->Authenticate(token);
    if (p.ok()) return p;
    if (i == 0) first = p.status();
  }
  return first;
}

absl::StatusOr<Principal> Guard::Check(const grpc::ServerContext& ctx,
                                       std::string_view method) const {
  if (absl::Status limits = TakeLimitViolation(ctx); !limits.ok()) {
    return Refuse(limits, "", method);
  }
  const auto& md = ctx.client_metadata();
  auto it = md.find("authorization");
  Principal p;
  if (it == md.end()) {
    std::optional<Principal> cert = CertificatePrincipal(ctx);
    if (!cert.has_value()) {
      return Refuse(AuthenticateBearer(*authenticator_, std::nullopt).status(),
                    "", method);
    }
    p = *std::move(cert);
  } else {
    absl::StatusOr<Principal> authenticated = AuthenticateBearer(
        *authenticator_,
        std::string_view(it->second.data(), it->second.size()));
    if (!authenticated.ok()) return Refuse(authenticated.status(), "", method);
    p = *std::move(authenticated);
  }
  const std::set<std::string>& allowed = RolesFor(method);
  for (const std::string& role : p.roles) {
    if (allowed.contains(role)) {
      p.method = std::string(method);
      return p;
    }
  }
  return Refuse(absl::PermissionDeniedError(
                    absl::StrCat(p.name, " may not call ", Sv(method),
                                 ": none of their roles is allowed")),
                p.name, method);
}

absl::StatusOr<Principal> Guard::VerifyCredential(
    std::string_view credential, absl::Time now, absl::Duration max_age) const {
  if (credential.empty()) {
    return absl::UnauthenticatedError(
        "signature.credential: a fresh re-authentication is required to sign");
  }
  ASSIGN_OR_RETURN(Principal p, authenticator_->Authenticate(credential));
  if (now - p.auth_time > max_age) {
    return absl::UnauthenticatedError(
        absl::StrCat("signature.credential: authenticated ",
                     absl::FormatDuration(now - p.auth_time),
                     " ago; a signature needs one "
                     "at most ",
                     absl::FormatDuration(max_age), " old"));
  }
  return p;
}

absl::StatusOr<Principal> Guard::VerifySigner(const SignatureInput& in,
                                              const SignedAction& action,
                                              absl::Time now) const {
  const std::string& f = in.field;
  if (absl::StripAsciiWhitespace(Sv(in.meaning)).empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        f,
        ".meaning: required: what the signature means, e.g. \"approved for "
        "release\""));
  }
  if (absl::StripAsciiWhitespace(Sv(in.reason)).empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(f, ".reason: required: why the signer signs"));
  }
  if (in.credential.empty()) {
    return absl::UnauthenticatedError(absl::StrCat(
        f, ".credential: a fresh re-authentication is required to sign"));
  }
  absl::StatusOr<Principal> p = authenticator_->Authenticate(in.credential);
  if (!p.ok()) {
    return absl::UnauthenticatedError(
        absl::StrCat(f, ".credential: ", p.status().message()));
  }
  if (p->auth_method == "mtls") {
    return absl::PermissionDeniedError(absl::StrCat(
        f, ".credential: a service identity cannot sign; a person must"));
  }
  if (now - p->auth_time > options_.signature_max_age) {
    return absl::UnauthenticatedError(absl::StrCat(
        f, ".credential: ", p->name, " authenticated ",
        p->auth_time == absl::InfinitePast()
            ? "at an unknown time (no auth_time)"
            : absl::StrCat(absl::FormatDuration(now - p->auth_time), " ago"),
        "; a signature needs a re-authentication at most ",
        absl::FormatDuration(options_.signature_max_age), " old"));
  }
  if (p->auth_method == "jwt") {
    if (!p->bound_action.has_value()) {
      return absl::UnauthenticatedError(absl::StrCat(
          f,
          ".credential: the token is not bound to an action; a signing "
          "token must carry lotledger_action {method, aggregate_id, "
          "request_id}"));
    }
    if (!(*p->bound_action == action)) {
      return absl::PermissionDeniedError(absl::StrCat(
          f, ".credential: the token was issued to sign ",
          p->bound_action->method, " on ", p->bound_action->aggregate_id,
          " (request ", p->bound_action->request_id, "), not ", action.method,
          " on ", action.aggregate_id, " (request ", action.request_id, ")"));
    }
  }
  return *std::move(p);
}

namespace {

v1::Signature MakeSignature(const Principal& signer, const SignatureInput& in,
                            const SignedAction& action, absl::Time now) {
  v1::Signature sig;
  sig.set_signer(signer.name);
  sig.set_meaning(std::string(in.meaning));
  sig.set_reason(std::string(in.reason));
  ToTimestamp(now, sig.mutable_signed_at());
  std::string how =
      absl::StrCat(signer.auth_method, " auth_time=",
                   absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", signer.auth_time,
                                    absl::UTCTimeZone()));
  if (!signer.key_id.empty()) absl::StrAppend(&how, " kid=", signer.key_id);
  if (!signer.token_id.empty()) absl::StrAppend(&how, " jti=", signer.token_id);
  if (signer.bound_action.has_value()) {
    absl::StrAppend(&how, " action=", action.method, " ", action.aggregate_id,
                    " request=", action.request_id);
  } else {
    absl::StrAppend(&how, " (unbound; development only)");
  }
  sig.set_authentication(how);
  return sig;
}

}  // namespace

absl::StatusOr<v1::Signature> Guard::Sign(const Principal& caller,
                                          const SignatureInput& in,
                                          const SignedAction& action,
                                          absl::Time now) const {
  absl::StatusOr<Principal> signer = VerifySigner(in, action, now);
  if (signer.ok() && signer->name != caller.name) {
    signer = absl::PermissionDeniedError(
        absl::StrCat(in.field, ".credential: belongs to ", signer->name,
                     ", not to the caller ", caller.name,
                     "; a person signs only for themselves"));
  }
  if (!signer.ok()) return Refuse(signer.status(), caller.name, action.method);
  return MakeSignature(*signer, in, action, now);
}

absl::StatusOr<v1::Signature> Guard::CoSign(const v1::Signature& first,
                                            std::string_view required_role,
                                            const SignatureInput& in,
                                            const SignedAction& action,
                                            absl::Time now,
                                            Principal* co_signer) const {
  absl::StatusOr<Principal> signer = VerifySigner(in, action, now);
  if (signer.ok() && signer->name == first.signer()) {
    signer = absl::FailedPreconditionError(absl::StrCat(
        in.field, ".credential: ", signer->name,
        " already signed; the two-person rule needs a second, different "
        "person"));
  }
  if (signer.ok() && !signer->HasRole(required_role)) {
    signer = absl::FailedPreconditionError(absl::StrCat(
        in.field, ".credential: ", signer->name, " does not have the ",
        Sv(required_role), " role this second signature needs"));
  }
  if (!signer.ok()) {
    return Refuse(signer.status(), first.signer(), action.method);
  }
  *co_signer = *signer;
  return MakeSignature(*signer, in, action, now);
}

}  // namespace lotledger::server
