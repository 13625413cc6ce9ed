#include "libs/server/auth.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "libs/common/status_macros.h"

namespace lotledger::server {
namespace {

// The role table: who may call what. Deny by default: a method missing
// here cannot be called by anyone.
const std::map<std::string, std::set<std::string>, std::less<>>& RoleTable() {
  static const auto* table = [] {
    const std::set<std::string> readers = {
        "operator", "qa_inspector", "qa_approver", "recall_manager",
        "admin",    "auditor",      "service"};
    auto* t = new std::map<std::string, std::set<std::string>, std::less<>>{
        {"/lotledger.v1.LotsService/DefineProduct", {"admin"}},
        {"/lotledger.v1.LotsService/CreateLot",
         {"operator", "admin", "service"}},
        {"/lotledger.v1.LotsService/CorrectLot", {"admin", "qa_approver"}},
        {"/lotledger.v1.LotsService/GetProduct", readers},
        {"/lotledger.v1.LotsService/GetLot", readers},
        {"/lotledger.v1.LotsService/ListLots", readers},
        {"/lotledger.v1.LotsService/Trace", readers},
        {"/lotledger.v1.LotsService/ResolveUdi", readers},
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
    };
    return t;
  }();
  return *table;
}

}  // namespace

const std::set<std::string>& RolesFor(std::string_view method) {
  static const std::set<std::string> kNone;
  auto it = RoleTable().find(method);
  return it == RoleTable().end() ? kNone : it->second;
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
    auth->tokens_[parts[0]] = std::move(p);
  }
  return auth;
}

absl::StatusOr<Principal> DevTokenAuthenticator::Authenticate(
    std::string_view token) const {
  auto it = tokens_.find(token);
  if (it == tokens_.end()) {
    return absl::UnauthenticatedError("the bearer token is not valid");
  }
  Principal p = it->second;
  p.auth_time = absl::Now();
  return p;
}

absl::StatusOr<Principal> Guard::Check(const grpc::ServerContext& ctx,
                                       std::string_view method) const {
  const auto& md = ctx.client_metadata();
  auto it = md.find("authorization");
  if (it == md.end()) {
    return absl::UnauthenticatedError(
        "missing `authorization: Bearer <token>` metadata");
  }
  std::string_view value(it->second.data(), it->second.size());
  constexpr std::string_view kBearer = "Bearer ";
  if (!value.starts_with(kBearer)) {
    return absl::UnauthenticatedError(
        "authorization metadata must be `Bearer <token>`");
  }
  ASSIGN_OR_RETURN(Principal p,
                   authenticator_->Authenticate(value.substr(kBearer.size())));
  const std::set<std::string>& allowed = RolesFor(method);
  for (const std::string& role : p.roles) {
    if (allowed.contains(role)) return p;
  }
  return absl::PermissionDeniedError(
      absl::StrCat(p.name, " may not call ", Sv(method),
                   ": none of their roles is allowed"));
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

}  // namespace lotledger::server
