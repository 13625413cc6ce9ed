#include "services/quality/quality_service.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/common/ids.h"
#include "libs/common/proto_time.h"
#include "libs/common/status_macros.h"
#include "libs/common/topics.h"
#include "libs/domain/common/recall_standing.h"
#include "libs/domain/quality/decider.h"
#include "libs/projection/stored_message.h"
#include "libs/server/rpc.h"

namespace lotledger::quality {
namespace {

constexpr char kQualityLots[] = "quality_lots";
constexpr char kProducts[] = "products";
constexpr char kByDisposition[] = "by_disposition";
constexpr char kRecalls[] = "quality_recalls";

std::string Method(const char* name) {
  return absl::StrCat("/lotledger.v1.QualityService/", name);
}

std::string DispositionKey(v1::Disposition d, std::string_view lot_id) {
  return absl::StrCat(absl::StrFormat("%02d", static_cast<int>(d)),
                      std::string(1, '\0'), Sv(lot_id));
}

v1::QualityRecord ToRecord(const v1::QualityLotState& s) {
  v1::QualityRecord r;
  r.set_lot_id(s.lot_id());
  r.set_disposition(s.disposition());
  *r.mutable_disposition_since() = s.disposition_since();
  *r.mutable_inspections() = s.inspections();
  *r.mutable_signatures() = s.signatures();
  return r;
}

}  // namespace

command::ServiceSpec QualityServiceSpec(int32_t partitions) {
  command::ServiceSpec spec;
  spec.name = "quality";
  spec.own_topic = topics::WrittenBy(spec.name);
  spec.partitions = partitions;
  // Recalls: a recalled lot, or one made from recalled material, is
  // never released.
  spec.input_topics = topics::ReadBy(spec.name);
  spec.column_families = {kQualityLots, kProducts, kByDisposition, kRecalls};
  spec.apply = ApplyQualityEvent;
  return spec;
}

absl::Status ApplyQualityEvent(const eventlog::Record& /*record*/,
                               const v1::Event& event,
                               projection::ProjectionStore::Batch& batch) {
  if (event.has_product_defined()) {
    const v1::Product& p = event.product_defined().product();
    batch.Put(kProducts, p.item(), p.SerializeAsString());
    return absl::OkStatus();
  }
  if (event.has_recall_initiated() || event.has_recall_closed()) {
    const std::string id = domain::RecallIdOf(event);
    ASSIGN_OR_RETURN(std::optional<v1::RecallStanding> recall,
                     projection::ParseStored<v1::RecallStanding>(
                         batch.Get(kRecalls, id), "recall standing"));
    v1::RecallStanding standing = recall.value_or(v1::RecallStanding());
    const std::string was = standing.SerializeAsString();
    domain::EvolveRecallStanding(standing, event);
    if (!recall.has_value() || standing.SerializeAsString() != was) {
      batch.Put(kRecalls, id, standing.SerializeAsString());
    }
  }
  if (event.has_recall_initiated() || event.has_recall_scope_extended()) {
    // The recall joins the recall_ids of each lot it adds to its scope;
    // the disposition, and so the index, stays as it is.
    for (const std::string& lot_id : domain::ScopeAdditions(event)) {
      if (lot_id.empty()) continue;
      ASSIGN_OR_RETURN(std::optional<v1::QualityLotState> stored,
                       projection::ParseStored<v1::QualityLotState>(
                           batch.Get(kQualityLots, lot_id), "quality state"));
      v1::QualityLotState state = stored.value_or(v1::QualityLotState());
      state.set_lot_id(lot_id);
      Evolve(state, event);
      batch.Put(kQualityLots, lot_id, state.SerializeAsString());
    }
    return absl::OkStatus();
  }
  if (!event.has_lot_created() && !event.has_inspection_recorded() &&
      !event.has_disposition_changed()) {
    return absl::OkStatus();  // nothing quality needs
  }
  const std::string& lot_id = event.aggregate_id();
  ASSIGN_OR_RETURN(std::optional<v1::QualityLotState> before,
                   projection::ParseStored<v1::QualityLotState>(
                       batch.Get(kQualityLots, lot_id), "quality state"));
  v1::QualityLotState state = before.value_or(v1::QualityLotState());
  if (!before.has_value()) state.set_lot_id(lot_id);
  Evolve(state, event);
  if (before.has_value()) {
    batch.Delete(kByDisposition, DispositionKey(before->disposition(), lot_id));
  }
  batch.Put(kByDisposition, DispositionKey(state.disposition(), lot_id), "");
  batch.Put(kQualityLots, lot_id, state.SerializeAsString());
  return absl::OkStatus();
}

QualityServiceImpl::QualityServiceImpl(command::ServiceCore* core,
                                       const server::Guard* guard,
                                       const Clock* clock)
    : core_(core), guard_(guard), clock_(clock) {}

absl::StatusOr<std::optional<v1::QualityLotState>> QualityServiceImpl::FindLot(
    std::string_view lot_id) const {
  return projection::ParseStored<v1::QualityLotState>(
      core_->store().Get(kQualityLots, lot_id), "quality state");
}

absl::StatusOr<v1::QualityRecord> QualityServiceImpl::GetRecord(
    std::string_view lot_id) const {
  ASSIGN_OR_RETURN(std::optional<v1::QualityLotState> s, FindLot(lot_id));
  if (!s.has_value() || !s->exists()) {
    return absl::NotFoundError(
        absl::StrCat("lot ", Sv(lot_id), " does not exist"));
  }
  return ToRecord(*s);
}

absl::StatusOr<v1::QualityDecisionState> QualityServiceImpl::LoadState(
    const std::string& lot_id, bool for_release) const {
  v1::QualityDecisionState state;
  ASSIGN_OR_RETURN(std::optional<v1::QualityLotState> lot, FindLot(lot_id));
  if (lot.has_value()) *state.mutable_lot() = *lot;
  state.mutable_lot()->set_lot_id(lot_id);
  if (lot.has_value() && !lot->item().empty()) {
    ASSIGN_OR_RETURN(
        std::optional<v1::Product> product,
        projection::ParseStored<v1::Product>(
            core_->store().Get(kProducts, lot->item()), "product"));
    if (product.has_value()) EvolvePolicy(*state.mutable_lot(), *product);
  }
  // Only a release reads more: the whole genealogy, level by level, each
  // lot once, and the recalls its lots are in (rule 0 looks at every
  // depth). Inspections, holds and rejections need none of it.
  if (!for_release) return state;
  auto load_recalls = [&](const v1::QualityLotState& s) -> absl::Status {
    for (const std::string& r : s.recall_ids()) {
      if (state.recalls().contains(r)) continue;
      ASSIGN_OR_RETURN(std::optional<v1::RecallStanding> recall,
                       projection::ParseStored<v1::RecallStanding>(
                           core_->store().Get(kRecalls, r), "recall standing"));
      if (recall.has_value()) (*state.mutable_recalls())[r] = *recall;
    }
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(load_recalls(state.lot()));
  std::vector<std::string> level(state.lot().component_lot_ids().begin(),
                                 state.lot().component_lot_ids().end());
  std::set<std::string> seen = {lot_id};
  while (!level.empty()) {
    std::vector<std::string> next;
    for (const std::string& c : level) {
      if (!seen.insert(c).second) continue;
      ASSIGN_OR_RETURN(std::optional<v1::QualityLotState> comp, FindLot(c));
      if (!comp.has_value()) continue;
      RETURN_IF_ERROR(load_recalls(*comp));
      for (const std::string& n : comp->component_lot_ids()) next.push_back(n);
      (*state.mutable_components())[c] = *std::move(comp);
    }
    level = std::move(next);
  }
  return state;
}

absl::StatusOr<command::CommandResult> QualityServiceImpl::RunCommand(
    const grpc::ServerContext& ctx, const server::Principal& principal,
    const std::string& request_id, const v1::ConsistencyToken& after,
    const std::string& lot_id, v1::QualityCommand cmd) {
  if (lot_id.empty()) return absl::InvalidArgumentError("lot_id: required");
  const absl::Time now = clock_->Now();
  ToTimestamp(now, cmd.mutable_now());
  cmd.set_actor(principal.name);
  for (const std::string& r : principal.roles) cmd.add_actor_roles(r);
  command::CommandContext cc =
      server::MakeCommandContext(ctx, principal, request_id, after, now);
  return core_->runner().Run(
      cc, {lot_id}, [&]() -> absl::StatusOr<std::vector<v1::Event>> {
        const bool release =
            cmd.has_change_disposition() &&
            cmd.change_disposition().to() == v1::DISPOSITION_RELEASED;
        ASSIGN_OR_RETURN(v1::QualityDecisionState state,
                         LoadState(lot_id, release));
        return Decide(state, cmd);
      });
}

grpc::Status QualityServiceImpl::RecordInspection(
    grpc::ServerContext* ctx, const v1::RecordInspectionRequest* req,
    v1::RecordInspectionResponse* resp) {
  return server::Serve(
      *guard_, *ctx, Method("RecordInspection"),
      [&](const server::Principal& p) -> absl::Status {
        v1::QualityCommand cmd;
        *cmd.mutable_record_inspection() = *req;
        if (req->inspection_id().empty()) {
          // Derived from the request id, so a retry names the same inspection.
          cmd.mutable_record_inspection()->set_inspection_id(
              absl::StrCat("INS-", req->request_id()));
        }
        ASSIGN_OR_RETURN(command::CommandResult r,
                         RunCommand(*ctx, p, req->request_id(), req->after(),
                                    req->lot_id(), std::move(cmd)));
        ASSIGN_OR_RETURN(*resp->mutable_record(), GetRecord(req->lot_id()));
        *resp->mutable_token() = command::ToToken(r.token);
        return absl::OkStatus();
      });
}

grpc::Status QualityServiceImpl::ChangeDisposition(
    grpc::ServerContext* ctx, const v1::ChangeDispositionRequest* req,
    v1::ChangeDispositionResponse* resp) {
  return server::Serve(
      *guard_, *ctx, Method("ChangeDisposition"),
      [&](const server::Principal& p) -> absl::Status {
        if (req->to() != v1::DISPOSITION_RELEASED &&
            req->to() != v1::DISPOSITION_ON_HOLD &&
            req->to() != v1::DISPOSITION_REJECTED) {
          return absl::InvalidArgumentError(
              "to: must be DISPOSITION_RELEASED, DISPOSITION_ON_HOLD or "
              "DISPOSITION_REJECTED");
        }
        if (req->lot_id().empty()) {
          return absl::InvalidArgumentError("lot_id: required");
        }
        const absl::Time now = clock_->Now();
        v1::QualityCommand cmd;
        *cmd.mutable_change_disposition() = *req;
        // Part 11: the caller signs with a fresh re-authentication bound to
        // this action; the credential never travels into the event.
        const server::SignedAction action{.method = Method("ChangeDisposition"),
                                          .aggregate_id = req->lot_id(),
                                          .request_id = req->request_id()};
        ASSIGN_OR_RETURN(
            *cmd.mutable_signature(),
            guard_->Sign(
                p, server::SignatureInputOf(req->signature(), "signature"),
                action, now));
        if (req->has_deviation()) {
          // Two-person rule: a second, different qa_approver co-signs.
          server::Principal approver;
          ASSIGN_OR_RETURN(*cmd.mutable_deviation_approval(),
                           guard_->CoSign(cmd.signature(), "qa_approver",
                                          server::SignatureInputOf(
                                              req->deviation().approval(),
                                              "deviation.approval"),
                                          action, now, &approver));
          for (const std::string& r : approver.roles) {
            cmd.add_deviation_approver_roles(r);
          }
        }
        cmd.mutable_change_disposition()
            ->mutable_signature()
            ->clear_credential();
        cmd.mutable_change_disposition()
            ->mutable_deviation()
            ->mutable_approval()
            ->clear_credential();
        if (!req->has_deviation())
          cmd.mutable_change_disposition()->clear_deviation();
        ASSIGN_OR_RETURN(command::CommandResult r,
                         RunCommand(*ctx, p, req->request_id(), req->after(),
                                    req->lot_id(), std::move(cmd)));
        ASSIGN_OR_RETURN(*resp->mutable_record(), GetRecord(req->lot_id()));
        *resp->mutable_token() = command::ToToken(r.token);
        return absl::OkStatus();
      });
}

grpc::Status QualityServiceImpl::GetQualityRecord(
    grpc::ServerContext* ctx, const v1::GetQualityRecordRequest* req,
    v1::GetQualityRecordResponse* resp) {
  return server::Serve(
      *guard_, *ctx, Method("GetQualityRecord"),
      [&](const server::Principal&) -> absl::Status {
        if (req->lot_id().empty())
          return absl::InvalidArgumentError("lot_id: required");
        RETURN_IF_ERROR(
            server::WaitForToken(core_->projector(), *ctx, req->after()));
        ASSIGN_OR_RETURN(*resp->mutable_record(), GetRecord(req->lot_id()));
        return absl::OkStatus();
      });
}

grpc::Status QualityServiceImpl::ListLotsByDisposition(
    grpc::ServerContext* ctx, const v1::ListLotsByDispositionRequest* req,
    v1::ListLotsByDispositionResponse* resp) {
  return server::Serve(
      *guard_, *ctx, Method("ListLotsByDisposition"),
      [&](const server::Principal&) -> absl::Status {
        const int page_size = req->page_size() == 0 ? 100 : req->page_size();
        if (page_size < 1 || page_size > 1000) {
          return absl::InvalidArgumentError("page_size: must be 1..1000");
        }
        RETURN_IF_ERROR(
            server::WaitForToken(core_->projector(), *ctx, req->after()));
        const std::string prefix = DispositionKey(req->disposition(), "");
        absl::Status inner;
        std::string last;
        RETURN_IF_ERROR(
            core_->store().Scan(kByDisposition, prefix, req->page_token(),
                                [&](std::string_view key, std::string_view) {
                                  if (resp->records_size() == page_size) {
                                    resp->set_next_page_token(last);
                                    return false;
                                  }
                                  absl::StatusOr<v1::QualityRecord> rec =
                                      GetRecord(key.substr(prefix.size()));
                                  if (!rec.ok()) {
                                    inner = rec.status();
                                    return false;
                                  }
                                  *resp->add_records() = *std::move(rec);
                                  last.assign(key);
                                  return true;
                                }));
        return inner;
      });
}

}  // namespace lotledger::quality
