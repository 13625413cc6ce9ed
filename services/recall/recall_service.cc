#include "services/recall/recall_service.h"

#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "libs/common/hash.h"
#include "libs/common/json_log.h"
#include "libs/common/proto_time.h"
#include "libs/common/status_macros.h"
#include "libs/common/topics.h"
#include "libs/domain/recall/decider.h"
#include "libs/domain/recall/impact.h"
#include "libs/domain/serials/serials.h"
#include "libs/server/rpc.h"
#include "services/recall/recall_report.h"

namespace lotledger::recall {
namespace {

constexpr char kService[] = "/lotledger.v1.RecallService/";
constexpr int kDefaultUnansweredDays = 30;
// The reactor: its actor, how often it looks for lots waiting to join a
// recall's scope, and how long one of its commands may take.
constexpr char kReactorActor[] = "system:recall-scope";
constexpr absl::Duration kReactorPoll = absl::Milliseconds(100);
constexpr absl::Duration kReactorDeadline = absl::Seconds(5);

std::string Method(const char* name) { return absl::StrCat(kService, name); }

int DaysOr(int days) { return days <= 0 ? kDefaultUnansweredDays : days; }

// CPU time of the calling thread.
absl::Duration ThreadCpu() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return absl::DurationFromTimespec(ts);
}

// An impact without its per-lot and per-customer lines.
v1::RecallImpact TotalsOf(const v1::RecallImpact& impact) {
  v1::RecallImpact t;
  *t.mutable_on_hand_by_location() = impact.on_hand_by_location();
  t.set_lots_in_scope(impact.lots_in_scope());
  t.set_lots_distributed(impact.lots_distributed());
  t.set_customers_affected(impact.customers_affected());
  t.set_distributed(impact.distributed());
  t.set_returned(impact.returned());
  t.set_outstanding(impact.outstanding());
  t.set_on_hand(impact.on_hand());
  return t;
}

}  // namespace

command::ServiceSpec RecallServiceSpec(int32_t partitions) {
  command::ServiceSpec spec;
  spec.name = "recall";
  spec.own_topic = topics::WrittenBy(spec.name);
  spec.partitions = partitions;
  spec.input_topics = topics::ReadBy(spec.name);
  spec.column_families = RecallColumnFamilies();
  spec.uncompressed_column_families = RecallUncompressedColumnFamilies();
  auto index = std::make_shared<RecallIndex>();
  spec.apply = IndexedRecallApply{index};
  // Charged to the process's memory budget (service_core.h).
  spec.indexes = {{.name = "scope_and_impact",
                   .bytes = [index] { return index->stats().bytes; }}};
  // 2: the serial families (recall_projection.h).
  spec.projection_format = 2;
  return spec;
}

std::shared_ptr<RecallIndex> RecallIndexOf(const command::ServiceCore& core) {
  const auto* apply = core.setup().apply.target<IndexedRecallApply>();
  return apply != nullptr ? apply->index : nullptr;
}

namespace {

// The core's index, loaded; null when it has none, is switched off or
// cannot be loaded (the service then reads the projection).
std::shared_ptr<RecallIndex> LoadedIndex(command::ServiceCore& core) {
  std::shared_ptr<RecallIndex> index = RecallIndexOf(core);
  if (index == nullptr || index->loaded()) return index;
  if (const char* env = std::getenv("LOTLEDGER_GENEALOGY_INDEX");
      env != nullptr && std::string_view(env) == "off") {
    LogJson("warn",
            "recall index off (LOTLEDGER_GENEALOGY_INDEX=off): scope and "
            "impact read the projection; for comparing the two only",
            {{"service", "recall"}});
    return nullptr;
  }
  const absl::Time start = absl::Now();
  if (absl::Status s = index->Load(core.store()); !s.ok()) {
    LogJson("error",
            "recall index not loaded; scope and impact read the projection "
            "instead",
            {{"service", "recall"}, {"error", std::string(s.message())}});
    return nullptr;
  }
  // The cache gives up what the index now holds at once.
  core.MeasureIndexes();
  const RecallIndex::Stats stats = index->stats();
  LogJson(
      "info", "recall index loaded",
      {{"service", "recall"},
       {"lots", absl::StrCat(stats.lots)},
       {"bytes", absl::StrCat(stats.bytes)},
       {"seconds", absl::StrCat(absl::ToDoubleSeconds(absl::Now() - start))}});
  return index;
}

}  // namespace

RecallServiceImpl::RecallServiceImpl(command::ServiceCore* core,
                                     const server::Guard* guard,
                                     const Clock* clock)
    : core_(core),
      guard_(guard),
      clock_(clock),
      queries_(&core->store()),
      index_(LoadedIndex(*core)) {
  open_recalls_ = metrics::Default().AddGaugeCallback(
      "lotledger_recalls_open", "Recalls initiated and not yet closed",
      [queries = queries_] {
        v1::ListRecallsRequest req;
        req.set_status(v1::RECALL_STATUS_OPEN);
        req.set_page_size(1000);
        double open = 0;
        while (true) {
          absl::StatusOr<v1::ListRecallsResponse> page =
              queries.ListRecalls(req);
          if (!page.ok()) return std::vector<metrics::Sample>();
          open += page->recalls_size();
          if (page->next_page_token().empty()) break;
          req.set_page_token(page->next_page_token());
        }
        return std::vector<metrics::Sample>{{{{"service", "recall"}}, open}};
      });
  reactor_ = std::thread([this] { ReactorLoop(); });
}

RecallServiceImpl::~RecallServiceImpl() {
  {
    absl::MutexLock l(&stop_mu_);
    stopping_ = true;
  }
  if (reactor_.joinable()) reactor_.join();
}

void RecallServiceImpl::ReactorLoop() {
  while (true) {
    {
      absl::MutexLock l(&stop_mu_);
      stop_mu_.AwaitWithTimeout(absl::Condition(&stopping_), kReactorPoll);
      if (stopping_) return;
    }
    // A standby replica leaves the reactions to the writer.
    if (!core_->runner().writing()) continue;
    absl::StatusOr<int> r = ExtendScopes();
    if (!r.ok()) {
      // Typically the projection catching up, or the log unreachable: the
      // next pass tries again.
      LogJson("warn", "recall scope reactor pass failed",
              {{"error", std::string(r.status().message())}});
    }
  }
}

absl::StatusOr<int> RecallServiceImpl::ExtendScopes() {
  absl::MutexLock pass(&reactor_mu_);
  struct Waiting {
    std::string recall_id;
    v1::ScopedLot lot;
    std::string traceparent;
  };
  std::vector<Waiting> waiting;
  RETURN_IF_ERROR(queries_.ScanPending([&](const std::string& recall_id,
                                           const v1::ScopedLot& lot,
                                           const std::string& traceparent) {
    waiting.push_back({recall_id, lot, traceparent});
    return waiting.size() < 1000;
  }));
  int written = 0;
  for (const auto& [recall_id, lot, traceparent] : waiting) {
    const std::string key =
        absl::StrCat(recall_id, std::string(1, '\0'), lot.lot_id());
    if (given_up_.contains(key)) continue;
    {
      absl::MutexLock l(&stop_mu_);
      if (stopping_) return written;
    }
    // The same lot and recall always get the same request id: written
    // once, whoever retries.
    std::string request_id =
        absl::StrCat("scope:", recall_id, ":", lot.lot_id());
    if (request_id.size() > 128) {
      request_id = absl::StrCat("scope:", absl::BytesToHexString(Sha256(key)));
    }
    v1::RecallCommand cmd;
    const absl::Time now = clock_->Now();
    ToTimestamp(now, cmd.mutable_now());
    cmd.set_actor(kReactorActor);
    cmd.mutable_extend_scope()->set_recall_id(recall_id);
    *cmd.mutable_extend_scope()->mutable_lot() = lot;
    command::CommandContext cc;
    cc.request_id = request_id;
    cc.actor = kReactorActor;
    cc.now = now;
    cc.deadline = absl::Now() + kReactorDeadline;
    // The extension joins the trace of the event that made the lot pending
    // (the call that created it), so one trace shows both.
    cc.traceparent = traceparent;
    absl::StatusOr<command::CommandResult> r = core_->runner().Run(
        cc, {recall_id}, [&]() -> absl::StatusOr<std::vector<v1::Event>> {
          v1::RecallDecisionState state;
          // The scope as recorded: the pending lots are what is decided.
          ASSIGN_OR_RETURN(std::optional<v1::Recall> recall,
                           queries_.FindRecall(recall_id, false));
          if (recall.has_value() &&
              recall->status() != v1::RECALL_STATUS_UNSPECIFIED) {
            state.set_exists(true);
            *state.mutable_scope() = recall->scope();
            *state.mutable_recall() = *std::move(recall);
          }
          return Decide(state, cmd);
        });
    if (!r.ok()) {
      const absl::StatusCode code = r.status().code();
      if (code != absl::StatusCode::kFailedPrecondition &&
          code != absl::StatusCode::kInvalidArgument &&
          code != absl::StatusCode::kNotFound) {
        return r.status();  // transient: the next pass tries again
      }
      LogJson("warn", "lot not added to recall scope",
              {{"recall_id", recall_id},
               {"lot_id", lot.lot_id()},
               {"error", std::string(r.status().message())}});
      given_up_.insert(key);
      continue;
    }
    if (r->events.empty()) {
      // Already recorded (a retry, or another process): the projection
      // drops the lot from the pending ones when it applies that record;
      // should it not, this process does not spin on it.
      given_up_.insert(key);
      continue;
    }
    ++written;
  }
  return written;
}

absl::Status RecallServiceImpl::ScopeAndImpact(
    const v1::RecallCriteria& criteria, ScopeList* scope,
    v1::RecallImpact* impact) const {
  RETURN_IF_ERROR(ValidateCriteria(criteria, "criteria"));
  const auto walk = [&](const v1::RecallCriteria& c) {
    if (index_ != nullptr) return index_->ScopeAndImpact(c, scope, impact);
    return queries_.ScopeAndImpactFromStore(c, scope, impact);
  };
  if (criteria.serials().empty()) {
    RETURN_IF_ERROR(walk(criteria));
    return AddSerialDetail(*scope, impact);
  }
  ASSIGN_OR_RETURN(const bool serialised,
                   queries_.IsSerialised(criteria.item()));
  if (!serialised) {
    return absl::FailedPreconditionError(
        absl::StrCat("item ", criteria.item(),
                     " is not tracked by serial (no ProductDefined with "
                     "TRACKING_SERIAL seen); recall its lots by lot_ids"));
  }
  ASSIGN_OR_RETURN(
      const std::vector<std::string> serials,
      domain::ExpandSerials(criteria.serials(), "criteria.serials"));
  ASSIGN_OR_RETURN(const std::vector<std::string> lot_of,
                   queries_.LotsOfSerials(criteria.item(), serials));
  ASSIGN_OR_RETURN(const SerialLots lots,
                   GroupSerialsByLot(criteria.item(), serials, lot_of));
  RETURN_IF_ERROR(walk(LotCriteriaOf(criteria, lots)));
  MarkSerialScope(criteria, lots, scope);
  // The impact's rows are the scope's or copies of them (RecallIndex).
  for (int i = 0; i < scope->size() && i < impact->lots_size(); ++i) {
    const v1::ScopedLot& s = scope->Get(i);
    if (s.reason() == v1::SCOPE_REASON_SERIAL_LISTED &&
        &impact->lots(i).lot() != &s) {
      *impact->mutable_lots(i)->mutable_lot() = s;
    }
  }
  return AddSerialDetail(*scope, impact);
}

absl::Status RecallServiceImpl::ImpactOf(const ScopeList& scope,
                                         v1::RecallImpact* impact) const {
  if (index_ != nullptr) {
    index_->Impact(scope, impact);
  } else {
    RETURN_IF_ERROR(queries_.ImpactFromStore(scope, impact));
  }
  return AddSerialDetail(scope, impact);
}

absl::Status RecallServiceImpl::AddSerialDetail(
    const ScopeList& scope, v1::RecallImpact* impact) const {
  ASSIGN_OR_RETURN(const bool any, queries_.AnySerialised());
  if (!any) return absl::OkStatus();
  ASSIGN_OR_RETURN(const SerialDetail detail, queries_.SerialDetailOf(scope));
  ApplySerialDetail(scope, detail, CustomerMap(), impact);
  return absl::OkStatus();
}

v1::RecallCommand RecallServiceImpl::NewCommand(
    const server::Principal& principal) const {
  v1::RecallCommand cmd;
  ToTimestamp(clock_->Now(), cmd.mutable_now());
  cmd.set_actor(principal.name);
  return cmd;
}

absl::StatusOr<std::vector<v1::Event>> RecallServiceImpl::DecideOnRecall(
    const std::string& recall_id, const v1::RecallCommand& cmd) const {
  if (recall_id.empty()) {
    return absl::InvalidArgumentError("recall_id: required");
  }
  v1::RecallDecisionState state;
  ASSIGN_OR_RETURN(std::optional<v1::Recall> recall,
                   queries_.FindRecall(recall_id));
  if (recall.has_value() && recall->status() != v1::RECALL_STATUS_UNSPECIFIED) {
    state.set_exists(true);
    *state.mutable_scope() = recall->scope();
    RETURN_IF_ERROR(ImpactOf(recall->scope(), state.mutable_impact()));
    *state.mutable_recall() = *std::move(recall);
  }
  return Decide(state, cmd);
}

absl::StatusOr<command::CommandResult> RecallServiceImpl::RunCommand(
    const grpc::ServerContext& ctx, const server::Principal& principal,
    const std::string& request_id, const v1::ConsistencyToken& after,
    const std::string& aggregate, const command::DecideFn& decide) {
  command::CommandContext cc = server::MakeCommandContext(
      ctx, principal, request_id, after, clock_->Now());
  return core_->runner().Run(cc, {aggregate}, decide);
}

absl::StatusOr<v1::Effectiveness> RecallServiceImpl::EffectivenessOf(
    const v1::Recall& recall, int days) const {
  v1::RecallImpact impact;
  RETURN_IF_ERROR(ImpactOf(recall.scope(), &impact));
  google::protobuf::Timestamp now;
  ToTimestamp(clock_->Now(), &now);
  return ComputeEffectiveness(recall, impact, now, days);
}

grpc::Status RecallServiceImpl::Initiate(grpc::ServerContext* ctx,
                                         const v1::InitiateRequest* req,
                                         v1::InitiateResponse* resp) {
  return server::Serve(
      *guard_, *ctx, Method("Initiate"),
      [&](const server::Principal& p) -> absl::Status {
        if (req->request_id().empty()) {
          return absl::InvalidArgumentError("request_id: required");
        }
        v1::RecallCommand cmd = NewCommand(p);
        *cmd.mutable_initiate() = *req;
        // Derived from the request id, so a retry names the same recall.
        cmd.set_id(req->recall_id().empty()
                       ? absl::StrCat("RCL-", req->request_id())
                       : req->recall_id());
        // Shape before the signature, whose reason defaults to `reason`.
        RETURN_IF_ERROR(ValidateInitiate(*req));
        // Initiating a recall is an electronic signature of the caller,
        // bound to the recall id; the credential never reaches the event.
        v1::SignatureRequest sig = req->signature();
        if (sig.meaning().empty()) sig.set_meaning("recall initiated");
        if (sig.reason().empty()) sig.set_reason(req->reason());
        ASSIGN_OR_RETURN(
            *cmd.mutable_signature(),
            guard_->Sign(p, server::SignatureInputOf(sig, "signature"),
                         {.method = Method("Initiate"),
                          .aggregate_id = cmd.id(),
                          .request_id = req->request_id()},
                         clock_->Now()));
        cmd.mutable_initiate()->clear_signature();
        bool computed = false;
        ASSIGN_OR_RETURN(
            command::CommandResult r,
            RunCommand(
                *ctx, p, req->request_id(), req->after(), cmd.id(),
                [&]() -> absl::StatusOr<std::vector<v1::Event>> {
                  v1::RecallDecisionState state;
                  ASSIGN_OR_RETURN(std::optional<v1::Recall> existing,
                                   queries_.FindRecall(cmd.id()));
                  if (existing.has_value() &&
                      existing->status() != v1::RECALL_STATUS_UNSPECIFIED) {
                    state.set_exists(true);
                    *state.mutable_recall() = *std::move(existing);
                  }
                  // Shape first: a malformed request never walks.
                  RETURN_IF_ERROR(ValidateInitiate(*req));
                  RETURN_IF_ERROR(ScopeAndImpact(req->criteria(),
                                                 state.mutable_scope(),
                                                 state.mutable_impact()));
                  *resp->mutable_impact() = state.impact();
                  computed = true;
                  return Decide(state, cmd);
                }));
        const std::string id = r.replayed ? r.first.aggregate_id() : cmd.id();
        ASSIGN_OR_RETURN(*resp->mutable_recall(), queries_.GetRecall(id));
        if (!computed) {
          RETURN_IF_ERROR(
              ImpactOf(resp->recall().scope(), resp->mutable_impact()));
        }
        *resp->mutable_token() = command::ToToken(r.token);
        return absl::OkStatus();
      });
}

grpc::Status RecallServiceImpl::GetRecall(grpc::ServerContext* ctx,
                                          const v1::GetRecallRequest* req,
                                          v1::GetRecallResponse* resp) {
  return server::Serve(
      *guard_, *ctx, Method("GetRecall"),
      [&](const server::Principal&) -> absl::Status {
        if (req->recall_id().empty()) {
          return absl::InvalidArgumentError("recall_id: required");
        }
        RETURN_IF_ERROR(
            server::WaitForToken(core_->projector(), *ctx, req->after()));
        ASSIGN_OR_RETURN(*resp->mutable_recall(),
                         queries_.GetRecall(req->recall_id()));
        return absl::OkStatus();
      });
}

grpc::Status RecallServiceImpl::ListRecalls(grpc::ServerContext* ctx,
                                            const v1::ListRecallsRequest* req,
                                            v1::ListRecallsResponse* resp) {
  return server::Serve(*guard_, *ctx, Method("ListRecalls"),
                       [&](const server::Principal&) -> absl::Status {
                         RETURN_IF_ERROR(server::WaitForToken(
                             core_->projector(), *ctx, req->after()));
                         ASSIGN_OR_RETURN(*resp, queries_.ListRecalls(*req));
                         return absl::OkStatus();
                       });
}

grpc::Status RecallServiceImpl::AnalyzeImpact(
    grpc::ServerContext* ctx, const v1::AnalyzeImpactRequest* req,
    v1::AnalyzeImpactResponse* resp) {
  return server::Serve(
      *guard_, *ctx, Method("AnalyzeImpact"),
      [&](const server::Principal&) -> absl::Status {
        if (req->recall_id().empty()) {
          return absl::InvalidArgumentError("recall_id: required");
        }
        ASSIGN_OR_RETURN(const ImpactSlice slice, ImpactSliceOf(*req));
        RETURN_IF_ERROR(
            server::WaitForToken(core_->projector(), *ctx, req->after()));
        ImpactNext next;
        // A recall with lots of products tracked by serial: its views are
        // cut from the full impact, which carries their serial detail.
        if (slice.view != v1::IMPACT_VIEW_FULL && index_ != nullptr) {
          StoredScope scope;
          RETURN_IF_ERROR(queries_.ReadScope(req->recall_id(), &scope));
          ASSIGN_OR_RETURN(const std::vector<std::string> serialised,
                           queries_.SerialisedItems());
          if (serialised.empty() || !index_->AnyOfItems(scope, serialised)) {
            // Only what the view holds is built: the scope's lot ids are
            // read from the stored bytes, a row is parsed only when shown
            // (none for SUMMARY).
            index_->Impact(scope, slice, resp->mutable_impact(), &next);
            resp->set_next_page_token(
                ImpactPageToken(req->recall_id(), slice.view, next));
            return absl::OkStatus();
          }
        }
        google::protobuf::Arena arena;
        ASSIGN_OR_RETURN(const v1::Recall* recall,
                         queries_.GetRecall(req->recall_id(), &arena));
        if (slice.view == v1::IMPACT_VIEW_FULL) {
          return ImpactOf(recall->scope(), resp->mutable_impact());
        }
        // Without the index (or with serial detail): the full impact (on
        // the arena), the page cut from it.
        auto* full =
            google::protobuf::Arena::CreateMessage<v1::RecallImpact>(&arena);
        RETURN_IF_ERROR(ImpactOf(recall->scope(), full));
        SliceImpact(*full, slice, resp->mutable_impact(), &next);
        resp->set_next_page_token(
            ImpactPageToken(req->recall_id(), slice.view, next));
        return absl::OkStatus();
      });
}

grpc::Status RecallServiceImpl::GenerateNotifications(
    grpc::ServerContext* ctx, const v1::GenerateNotificationsRequest* req,
    v1::GenerateNotificationsResponse* resp) {
  return server::Serve(
      *guard_, *ctx, Method("GenerateNotifications"),
      [&](const server::Principal& p) -> absl::Status {
        v1::RecallCommand cmd = NewCommand(p);
        *cmd.mutable_notify() = *req;
        ASSIGN_OR_RETURN(
            command::CommandResult r,
            RunCommand(
                *ctx, p, req->request_id(), req->after(), req->recall_id(),
                [&]() { return DecideOnRecall(req->recall_id(), cmd); }));
        ASSIGN_OR_RETURN(v1::Recall recall,
                         queries_.GetRecall(req->recall_id()));
        std::set<std::string> issued;
        for (const v1::Event& e : r.events) {
          issued.insert(
              e.recall_notification_issued().customer().customer_id());
        }
        for (const v1::RecallNotification& n : recall.notifications()) {
          if (issued.contains(n.notice().customer().customer_id())) {
            *resp->add_issued() = n;
          }
        }
        resp->set_already_notified(recall.notifications_size() -
                                   resp->issued_size());
        *resp->mutable_token() = command::ToToken(r.token);
        return absl::OkStatus();
      });
}

grpc::Status RecallServiceImpl::ListNotifications(
    grpc::ServerContext* ctx, const v1::ListNotificationsRequest* req,
    v1::ListNotificationsResponse* resp) {
  return server::Serve(
      *guard_, *ctx, Method("ListNotifications"),
      [&](const server::Principal&) -> absl::Status {
        if (req->recall_id().empty()) {
          return absl::InvalidArgumentError("recall_id: required");
        }
        RETURN_IF_ERROR(
            server::WaitForToken(core_->projector(), *ctx, req->after()));
        ASSIGN_OR_RETURN(v1::Recall recall,
                         queries_.GetRecall(req->recall_id()));
        for (v1::RecallNotification& n : *recall.mutable_notifications()) {
          if (!req->customer_id().empty() &&
              n.notice().customer().customer_id() != req->customer_id()) {
            continue;
          }
          resp->add_notifications()->Swap(&n);
        }
        return absl::OkStatus();
      });
}

grpc::Status RecallServiceImpl::RecordResponse(
    grpc::ServerContext* ctx, const v1::RecordResponseRequest* req,
    v1::RecordResponseResponse* resp) {
  return server::Serve(
      *guard_, *ctx, Method("RecordResponse"),
      [&](const server::Principal& p) -> absl::Status {
        v1::RecallCommand cmd = NewCommand(p);
        *cmd.mutable_respond() = *req;
        ASSIGN_OR_RETURN(
            command::CommandResult r,
            RunCommand(
                *ctx, p, req->request_id(), req->after(), req->recall_id(),
                [&]() { return DecideOnRecall(req->recall_id(), cmd); }));
        ASSIGN_OR_RETURN(v1::Recall recall,
                         queries_.GetRecall(req->recall_id()));
        const std::string response_id = absl::StrCat("RSP-", req->request_id());
        for (const v1::CustomerResponse& cr : recall.responses()) {
          if (cr.response().response_id() == response_id) {
            *resp->mutable_response() = cr;
          }
        }
        ASSIGN_OR_RETURN(*resp->mutable_effectiveness(),
                         EffectivenessOf(recall, kDefaultUnansweredDays));
        *resp->mutable_token() = command::ToToken(r.token);
        return absl::OkStatus();
      });
}

grpc::Status RecallServiceImpl::GetEffectiveness(
    grpc::ServerContext* ctx, const v1::GetEffectivenessRequest* req,
    v1::GetEffectivenessResponse* resp) {
  return server::Serve(
      *guard_, *ctx, Method("GetEffectiveness"),
      [&](const server::Principal&) -> absl::Status {
        if (req->recall_id().empty()) {
          return absl::InvalidArgumentError("recall_id: required");
        }
        if (req->unanswered_after_days() < 0) {
          return absl::InvalidArgumentError(
              "unanswered_after_days: must be >= 0");
        }
        RETURN_IF_ERROR(
            server::WaitForToken(core_->projector(), *ctx, req->after()));
        ASSIGN_OR_RETURN(v1::Recall recall,
                         queries_.GetRecall(req->recall_id()));
        ASSIGN_OR_RETURN(
            *resp->mutable_effectiveness(),
            EffectivenessOf(recall, DaysOr(req->unanswered_after_days())));
        return absl::OkStatus();
      });
}

grpc::Status RecallServiceImpl::CloseRecall(grpc::ServerContext* ctx,
                                            const v1::CloseRecallRequest* req,
                                            v1::CloseRecallResponse* resp) {
  return server::Serve(
      *guard_, *ctx, Method("CloseRecall"),
      [&](const server::Principal& p) -> absl::Status {
        if (req->recall_id().empty()) {
          return absl::InvalidArgumentError("recall_id: required");
        }
        if (absl::StripAsciiWhitespace(req->summary()).empty()) {
          return absl::InvalidArgumentError("summary: required");
        }
        v1::RecallCommand cmd = NewCommand(p);
        *cmd.mutable_close() = *req;
        // Closing a recall is an electronic signature of the caller; the
        // credential never reaches the event.
        v1::SignatureRequest sig = req->signature();
        if (sig.meaning().empty()) sig.set_meaning("recall closed");
        if (sig.reason().empty()) sig.set_reason(req->summary());
        ASSIGN_OR_RETURN(
            *cmd.mutable_signature(),
            guard_->Sign(p, server::SignatureInputOf(sig, "signature"),
                         {.method = Method("CloseRecall"),
                          .aggregate_id = req->recall_id(),
                          .request_id = req->request_id()},
                         clock_->Now()));
        cmd.mutable_close()->clear_signature();
        ASSIGN_OR_RETURN(
            command::CommandResult r,
            RunCommand(
                *ctx, p, req->request_id(), req->after(), req->recall_id(),
                [&]() { return DecideOnRecall(req->recall_id(), cmd); }));
        ASSIGN_OR_RETURN(*resp->mutable_recall(),
                         queries_.GetRecall(req->recall_id()));
        ASSIGN_OR_RETURN(
            *resp->mutable_effectiveness(),
            EffectivenessOf(resp->recall(), kDefaultUnansweredDays));
        *resp->mutable_token() = command::ToToken(r.token);
        return absl::OkStatus();
      });
}

grpc::Status RecallServiceImpl::RunDrill(grpc::ServerContext* ctx,
                                         const v1::RunDrillRequest* req,
                                         v1::RunDrillResponse* resp) {
  return server::Serve(
      *guard_, *ctx, Method("RunDrill"),
      [&](const server::Principal& p) -> absl::Status {
        if (req->request_id().empty()) {
          return absl::InvalidArgumentError("request_id: required");
        }
        RETURN_IF_ERROR(ValidateCriteria(req->criteria(), "criteria"));
        v1::RecallCommand cmd = NewCommand(p);
        *cmd.mutable_drill() = *req;
        cmd.set_id(absl::StrCat("DRILL-", req->request_id()));
        bool computed = false;
        ASSIGN_OR_RETURN(
            command::CommandResult r,
            RunCommand(*ctx, p, req->request_id(), req->after(), cmd.id(),
                       [&]() -> absl::StatusOr<std::vector<v1::Event>> {
                         // Scope and impact on one arena: freed at once.
                         google::protobuf::Arena arena;
                         auto* state = google::protobuf::Arena::CreateMessage<
                             v1::RecallDecisionState>(&arena);
                         // Timed: the walk, the reads and the arithmetic.
                         const absl::Time start = clock_->Now();
                         const absl::Duration cpu_start = ThreadCpu();
                         RETURN_IF_ERROR(ScopeAndImpact(
                             req->criteria(), state->mutable_scope(),
                             state->mutable_impact()));
                         cmd.set_elapsed_us(
                             absl::ToInt64Microseconds(clock_->Now() - start));
                         resp->set_cpu_us(absl::ToInt64Microseconds(
                             ThreadCpu() - cpu_start));
                         absl::StatusOr<std::vector<v1::Event>> events =
                             Decide(*state, cmd);
                         if (req->totals_only()) {
                           *resp->mutable_impact() = TotalsOf(state->impact());
                         } else {
                           *resp->mutable_scope() = state->scope();
                           *resp->mutable_impact() = state->impact();
                         }
                         computed = true;
                         return events;
                       }));
        resp->set_drill_id(r.replayed ? r.first.aggregate_id() : cmd.id());
        if (computed) {
          resp->set_elapsed_us(cmd.elapsed_us());
        } else {
          // A retry: the drill ran already; answer with its record and the
          // scope and impact as they are now.
          ASSIGN_OR_RETURN(std::optional<v1::Event> drill,
                           queries_.FindDrill(resp->drill_id()));
          if (drill.has_value()) {
            resp->set_elapsed_us(drill->recall_drill_completed().elapsed_us());
          }
          RETURN_IF_ERROR(ScopeAndImpact(req->criteria(), resp->mutable_scope(),
                                         resp->mutable_impact()));
        }
        if (req->totals_only()) {
          resp->clear_scope();
          *resp->mutable_impact() = TotalsOf(resp->impact());
        }
        *resp->mutable_token() = command::ToToken(r.token);
        return absl::OkStatus();
      });
}

grpc::Status RecallServiceImpl::GetReport(grpc::ServerContext* ctx,
                                          const v1::GetReportRequest* req,
                                          v1::GetReportResponse* resp) {
  return server::Serve(
      *guard_, *ctx, Method("GetReport"),
      [&](const server::Principal&) -> absl::Status {
        if (req->recall_id().empty()) {
          return absl::InvalidArgumentError("recall_id: required");
        }
        if (req->format() != v1::REPORT_FORMAT_CSV &&
            req->format() != v1::REPORT_FORMAT_HTML) {
          return absl::InvalidArgumentError(
              "format: required: REPORT_FORMAT_CSV or REPORT_FORMAT_HTML");
        }
        RETURN_IF_ERROR(
            server::WaitForToken(core_->projector(), *ctx, req->after()));
        ASSIGN_OR_RETURN(v1::Recall recall,
                         queries_.GetRecall(req->recall_id()));
        v1::RecallImpact impact;
        RETURN_IF_ERROR(ImpactOf(recall.scope(), &impact));
        google::protobuf::Timestamp now;
        ToTimestamp(clock_->Now(), &now);
        const v1::Effectiveness eff = ComputeEffectiveness(
            recall, impact, now, DaysOr(req->unanswered_after_days()));
        if (req->format() == v1::REPORT_FORMAT_CSV) {
          resp->set_content(RenderCsv(recall, impact, eff));
          resp->set_content_type("text/csv");
          resp->set_file_name(
              absl::StrCat("recall-", recall.recall_id(), ".csv"));
        } else {
          resp->set_content(RenderHtml(recall, impact, eff));
          resp->set_content_type("text/html; charset=utf-8");
          resp->set_file_name(
              absl::StrCat("recall-", recall.recall_id(), ".html"));
        }
        return absl::OkStatus();
      });
}

}  // namespace lotledger::recall
