#include "libs/domain/recall/decider.h"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "libs/common/proto_time.h"
#include "libs/domain/common/refusals.h"
#include "libs/domain/lots/dates.h"
#include "libs/domain/recall/impact.h"
#include "libs/domain/recall/scope.h"

namespace lotledger::recall {
namespace {

using domain::Invalid;
using domain::IsBlank;
using domain::Refuse;
using google::protobuf::Timestamp;

constexpr char kDefaultInstructions[] =
    "Stop using and distributing the affected lots at once and quarantine "
    "them. Return them to us or destroy them on site, and tell us the "
    "quantities returned, destroyed or not found.";

std::string Day(const Timestamp& t) {
  return absl::FormatTime("%Y-%m-%d", FromTimestamp(t), absl::UTCTimeZone());
}

absl::Status CheckOpen(const v1::RecallDecisionState& state,
                       const std::string& recall_id) {
  if (recall_id.empty()) return Invalid("recall_id: required");
  if (!state.exists()) {
    return absl::NotFoundError(
        absl::StrCat("recall ", recall_id, " does not exist"));
  }
  const v1::Recall& r = state.recall();
  if (r.status() == v1::RECALL_STATUS_CLOSED) {
    return Refuse("recall ", recall_id, " is closed since ", Day(r.closed_at()),
                  " by ", r.closed_by(), "; a closed recall is read-only");
  }
  return absl::OkStatus();
}

v1::Event NewEvent(const std::string& aggregate, const Timestamp* occurred) {
  v1::Event e;
  e.set_aggregate_id(aggregate);
  if (occurred != nullptr) *e.mutable_occurred_at() = *occurred;
  return e;
}

// Splits `scope` into parts of kLotsPerPart: calls make(part_index,
// part_count, first, end) for each, at least once.
template <typename Make>
void InParts(const ScopeList& scope, Make&& make) {
  const int n = scope.size();
  const int parts = std::max(1, (n + kLotsPerPart - 1) / kLotsPerPart);
  for (int p = 0; p < parts; ++p) {
    make(p, parts, p * kLotsPerPart, std::min(n, (p + 1) * kLotsPerPart));
  }
}

absl::Status CheckRecallId(const std::string& id) {
  if (id.empty() || id.size() > 160) {
    return Invalid("recall_id: 1-160 characters");
  }
  for (char c : id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) {
      return Invalid("recall_id: only letters, digits, '.', '_' and '-', got ",
                     id);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::Event>> DecideInitiate(
    const v1::RecallDecisionState& state, const v1::RecallCommand& cmd) {
  const v1::InitiateRequest& req = cmd.initiate();
  const std::string& id = cmd.id();
  if (absl::Status s = CheckRecallId(id); !s.ok()) return s;
  if (absl::Status s = ValidateInitiate(req); !s.ok()) return s;
  if (state.exists()) {
    return Refuse("recall ", id, " already exists (initiated ",
                  Day(state.recall().initiated_at()), " by ",
                  state.recall().initiated_by(), ")");
  }
  if (state.scope().empty()) {
    return Refuse("no lot matches the recall's criteria; nothing to recall");
  }
  const Timestamp* occurred =
      req.has_occurred_at() ? &req.occurred_at() : nullptr;
  std::vector<v1::Event> out;
  InParts(state.scope(), [&](int part, int parts, int first, int end) {
    v1::Event e = NewEvent(id, occurred);
    v1::RecallInitiated* r = e.mutable_recall_initiated();
    r->set_recall_id(id);
    r->set_part_index(part);
    r->set_part_count(parts);
    r->set_classification(req.classification());
    r->set_reason(req.reason());
    if (part == 0) {
      r->set_title(req.title());
      r->set_health_hazard(req.health_hazard());
      r->set_instructions(IsBlank(req.instructions()) ? kDefaultInstructions
                                                      : req.instructions());
      *r->mutable_criteria() = req.criteria();
      r->set_lots_in_scope(state.scope_size());
      r->set_customers_affected(state.impact().customers_affected());
      r->set_distributed(state.impact().distributed());
      r->set_outstanding(state.impact().outstanding());
      r->set_on_hand(state.impact().on_hand());
      if (cmd.has_signature()) *r->mutable_signature() = cmd.signature();
    }
    for (int i = first; i < end; ++i) {
      *r->add_lots() = state.scope(i);
      e.add_lot_ids(state.scope(i).lot_id());
    }
    out.push_back(std::move(e));
  });
  return out;
}

absl::StatusOr<std::vector<v1::Event>> DecideNotify(
    const v1::RecallDecisionState& state, const v1::RecallCommand& cmd) {
  const v1::GenerateNotificationsRequest& req = cmd.notify();
  if (absl::Status s = CheckOpen(state, req.recall_id()); !s.ok()) return s;
  const v1::Recall& recall = state.recall();
  std::set<std::string> done;
  for (const v1::RecallNotification& n : recall.notifications()) {
    done.insert(n.notice().customer().customer_id());
  }
  std::unordered_map<std::string, const v1::ScopedLot*> scoped;
  for (const v1::ScopedLot& s : state.scope()) scoped.emplace(s.lot_id(), &s);
  const Timestamp* occurred =
      req.has_occurred_at() ? &req.occurred_at() : nullptr;
  std::vector<v1::Event> out;
  for (const v1::CustomerImpact& c : state.impact().customers()) {
    const std::string& customer_id = c.customer().customer_id();
    if (done.contains(customer_id)) continue;
    v1::Event e = NewEvent(recall.recall_id(), occurred);
    v1::RecallNotificationIssued* n = e.mutable_recall_notification_issued();
    n->set_recall_id(recall.recall_id());
    n->set_notification_id(absl::StrCat(recall.recall_id(), "/", customer_id));
    *n->mutable_customer() = c.customer();
    n->set_classification(recall.classification());
    n->set_subject(absl::StrCat(ClassName(recall.classification()), " recall ",
                                recall.recall_id(), ": ", recall.title()));
    n->set_instructions(recall.instructions());
    for (const v1::CustomerLotImpact& l : c.lots()) {
      v1::RecallNoticeLine* line = n->add_lines();
      line->set_lot_id(l.lot_id());
      line->set_item(l.item());
      line->set_lot_number(l.lot_number());
      auto s = scoped.find(l.lot_id());
      if (s != scoped.end())
        *line->mutable_expires_on() = s->second->expires_on();
      line->set_uom(l.uom());
      line->set_shipped(l.shipped());
      line->set_returned(l.returned());
      line->set_held(l.held());
      *line->mutable_serials() = l.serials();
      line->set_used(l.used());
      e.add_lot_ids(l.lot_id());
    }
    out.push_back(std::move(e));
  }
  return out;
}

absl::StatusOr<std::vector<v1::Event>> DecideRespond(
    const v1::RecallDecisionState& state, const v1::RecallCommand& cmd) {
  const v1::RecordResponseRequest& req = cmd.respond();
  if (absl::Status s = CheckOpen(state, req.recall_id()); !s.ok()) return s;
  if (req.customer_id().empty()) return Invalid("customer_id: required");
  if (!req.acknowledged() && !req.nothing_found() && req.lines().empty()) {
    return Invalid(
        "response: say acknowledged or nothing_found, or give lines");
  }
  const v1::Recall& recall = state.recall();
  const v1::CustomerImpact* customer = nullptr;
  for (const v1::CustomerImpact& c : state.impact().customers()) {
    if (c.customer().customer_id() == req.customer_id()) customer = &c;
  }
  if (customer == nullptr) {
    return Refuse("customer ", req.customer_id(), " received no lot of recall ",
                  recall.recall_id(),
                  "; only affected customers answer a recall");
  }
  std::unordered_set<std::string> in_scope;
  for (const v1::ScopedLot& s : state.scope()) in_scope.insert(s.lot_id());
  // Destroyed so far and in this response, per lot.
  std::map<std::string, int64_t> destroyed;
  for (const v1::CustomerResponse& r : recall.responses()) {
    if (r.response().customer_id() != req.customer_id()) continue;
    for (const v1::RecallResponseLine& l : r.response().lines()) {
      destroyed[l.lot_id()] += l.destroyed();
    }
  }
  for (int i = 0; i < req.lines_size(); ++i) {
    const v1::RecallResponseLine& l = req.lines(i);
    const std::string f = absl::StrCat("lines[", i, "]");
    if (l.lot_id().empty()) return Invalid(f, ".lot_id: required");
    if (l.returned() < 0) {
      return Invalid(f, ".returned: must be >= 0, got ", l.returned());
    }
    if (l.destroyed() < 0) {
      return Invalid(f, ".destroyed: must be >= 0, got ", l.destroyed());
    }
    if (req.nothing_found() && l.destroyed() > 0) {
      return Invalid(f, ".destroyed: ", l.destroyed(),
                     " destroyed contradicts nothing_found");
    }
    if (!in_scope.contains(l.lot_id())) {
      return Refuse("lot ", l.lot_id(), " is not in the scope of recall ",
                    recall.recall_id());
    }
    const v1::CustomerLotImpact* held = nullptr;
    for (const v1::CustomerLotImpact& cl : customer->lots()) {
      if (cl.lot_id() == l.lot_id()) held = &cl;
    }
    if (held == nullptr) {
      return Refuse("customer ", req.customer_id(), " never received lot ",
                    l.lot_id());
    }
    int64_t& d = destroyed[l.lot_id()];
    d += l.destroyed();
    if (d > held->held()) {
      return Refuse("customer ", req.customer_id(), " holds ", held->held(),
                    " ", held->uom(), " of lot ", l.lot_id(), " (shipped ",
                    held->shipped(), ", returned ", held->returned(),
                    "); cannot have destroyed ", d, " in total");
    }
  }
  v1::Event e = NewEvent(recall.recall_id(),
                         req.has_occurred_at() ? &req.occurred_at() : nullptr);
  v1::RecallResponseRecorded* r = e.mutable_recall_response_recorded();
  r->set_recall_id(recall.recall_id());
  r->set_response_id(absl::StrCat("RSP-", req.request_id()));
  r->set_customer_id(req.customer_id());
  r->set_acknowledged(req.acknowledged());
  r->set_nothing_found(req.nothing_found());
  *r->mutable_lines() = req.lines();
  r->set_notes(req.notes());
  std::set<std::string> lots;
  for (const v1::RecallResponseLine& l : req.lines()) lots.insert(l.lot_id());
  if (lots.empty()) {
    for (const v1::CustomerLotImpact& cl : customer->lots()) {
      lots.insert(cl.lot_id());
    }
  }
  for (const std::string& lot : lots) e.add_lot_ids(lot);
  return std::vector<v1::Event>{std::move(e)};
}

absl::StatusOr<std::vector<v1::Event>> DecideClose(
    const v1::RecallDecisionState& state, const v1::RecallCommand& cmd) {
  const v1::CloseRecallRequest& req = cmd.close();
  if (absl::Status s = CheckOpen(state, req.recall_id()); !s.ok()) return s;
  if (IsBlank(req.summary())) return Invalid("summary: required");
  const v1::Recall& recall = state.recall();
  const std::vector<std::string> unanswered =
      UnansweredCustomers(recall, state.impact());
  if (!unanswered.empty() && IsBlank(req.unanswered_reason())) {
    std::vector<std::string> named(
        unanswered.begin(),
        unanswered.begin() + std::min<size_t>(unanswered.size(), 5));
    return Refuse(unanswered.size(), " affected customer",
                  unanswered.size() == 1 ? " has" : "s have",
                  " not answered recall ", recall.recall_id(), " (",
                  absl::StrJoin(named, ", "),
                  unanswered.size() > 5 ? ", ..." : "",
                  "); closing it needs unanswered_reason");
  }
  const v1::Effectiveness eff =
      ComputeEffectiveness(recall, state.impact(), cmd.now(), 0);
  const Timestamp* occurred =
      req.has_occurred_at() ? &req.occurred_at() : nullptr;
  std::vector<v1::Event> out;
  InParts(state.scope(), [&](int part, int parts, int first, int end) {
    v1::Event e = NewEvent(recall.recall_id(), occurred);
    v1::RecallClosed* c = e.mutable_recall_closed();
    c->set_recall_id(recall.recall_id());
    c->set_part_index(part);
    c->set_part_count(parts);
    if (part == 0) {
      c->set_summary(req.summary());
      c->set_unanswered_reason(unanswered.empty() ? ""
                                                  : req.unanswered_reason());
      for (const std::string& u : unanswered) c->add_unanswered_customer_ids(u);
      c->set_distributed(eff.overall().distributed());
      c->set_recovered(eff.overall().recovered());
      if (cmd.has_signature()) *c->mutable_signature() = cmd.signature();
    }
    for (int i = first; i < end; ++i) e.add_lot_ids(state.scope(i).lot_id());
    out.push_back(std::move(e));
  });
  return out;
}

absl::StatusOr<std::vector<v1::Event>> DecideDrill(
    const v1::RecallDecisionState& state, const v1::RecallCommand& cmd) {
  const v1::RunDrillRequest& req = cmd.drill();
  if (absl::Status s = ValidateCriteria(req.criteria(), "criteria"); !s.ok()) {
    return s;
  }
  if (cmd.id().empty()) return Invalid("drill id: required");
  if (state.scope().empty()) {
    return Refuse("no lot matches the drill's criteria; nothing to trace");
  }
  const Timestamp* occurred =
      req.has_occurred_at() ? &req.occurred_at() : nullptr;
  std::vector<v1::Event> out;
  InParts(state.scope(), [&](int part, int parts, int first, int end) {
    v1::Event e = NewEvent(cmd.id(), occurred);
    v1::RecallDrillCompleted* d = e.mutable_recall_drill_completed();
    d->set_drill_id(cmd.id());
    d->set_part_index(part);
    d->set_part_count(parts);
    if (part == 0) {
      *d->mutable_criteria() = req.criteria();
      d->set_notes(req.notes());
      d->set_lots_in_scope(state.scope_size());
      d->set_customers_affected(state.impact().customers_affected());
      d->set_distributed(state.impact().distributed());
      d->set_outstanding(state.impact().outstanding());
      d->set_on_hand(state.impact().on_hand());
      d->set_elapsed_us(cmd.elapsed_us());
    }
    for (int i = first; i < end; ++i) {
      *d->add_lots() = state.scope(i);
      e.add_lot_ids(state.scope(i).lot_id());
    }
    out.push_back(std::move(e));
  });
  return out;
}

// A lot made later from a lot in scope joins the scope of an open recall
// that includes derived lots (the recall service's own command).
absl::StatusOr<std::vector<v1::Event>> DecideExtendScope(
    const v1::RecallDecisionState& state, const v1::RecallCommand& cmd) {
  const v1::ExtendScopeCommand& req = cmd.extend_scope();
  const v1::ScopedLot& lot = req.lot();
  if (lot.lot_id().empty()) {
    return Invalid("extend_scope.lot.lot_id: required");
  }
  if (lot.via_lot_id().empty()) {
    return Invalid(
        "extend_scope.lot.via_lot_id: required: the lot in scope it was "
        "made from");
  }
  if (absl::Status s = CheckOpen(state, req.recall_id()); !s.ok()) {
    if (s.code() != absl::StatusCode::kFailedPrecondition) return s;
    return Refuse(s.message(), " and its scope no longer grows; lot ",
                  lot.lot_id(), " does not join it");
  }
  const v1::Recall& recall = state.recall();
  if (!recall.criteria().include_derived()) {
    return Refuse("recall ", recall.recall_id(),
                  " covers the lots it names, not lots made from them; lot ",
                  lot.lot_id(), " does not join its scope");
  }
  bool via_in_scope = false;
  for (const v1::ScopedLot& s : state.scope()) {
    if (s.lot_id() == lot.lot_id()) return std::vector<v1::Event>();
    via_in_scope = via_in_scope || s.lot_id() == lot.via_lot_id();
  }
  if (!via_in_scope) {
    return Refuse("lot ", lot.lot_id(), " was made from ", lot.via_lot_id(),
                  ", which is not in the scope of recall ", recall.recall_id());
  }
  v1::Event e = NewEvent(recall.recall_id(), nullptr);
  e.add_lot_ids(lot.lot_id());
  v1::RecallScopeExtended* x = e.mutable_recall_scope_extended();
  x->set_recall_id(recall.recall_id());
  v1::ScopedLot* added = x->add_lots();
  *added = lot;
  added->set_reason(v1::SCOPE_REASON_DERIVED);
  x->set_reason(recall.reason());
  return std::vector<v1::Event>{std::move(e)};
}

}  // namespace

absl::Status ValidateInitiate(const v1::InitiateRequest& req) {
  if (req.classification() == v1::RECALL_CLASS_UNSPECIFIED) {
    return Invalid("classification: required: RECALL_CLASS_I, II or III");
  }
  if (IsBlank(req.title())) return Invalid("title: required");
  if (IsBlank(req.reason())) return Invalid("reason: required");
  if (IsBlank(req.health_hazard())) {
    return Invalid("health_hazard: required: the health hazard assessment");
  }
  return ValidateCriteria(req.criteria(), "criteria");
}

std::string ClassName(v1::RecallClass c) {
  switch (c) {
    case v1::RECALL_CLASS_I:
      return "Class I";
    case v1::RECALL_CLASS_II:
      return "Class II";
    case v1::RECALL_CLASS_III:
      return "Class III";
    default:
      return "Unclassified";
  }
}

std::string ScopeReasonName(v1::ScopeReason r) {
  switch (r) {
    case v1::SCOPE_REASON_LISTED:
      return "listed";
    case v1::SCOPE_REASON_MADE_IN_RANGE:
      return "made in range";
    case v1::SCOPE_REASON_DERIVED:
      return "derived";
    case v1::SCOPE_REASON_SERIAL_LISTED:
      return "by serial";
    default:
      return "";
  }
}

absl::StatusOr<std::vector<v1::Event>> Decide(
    const v1::RecallDecisionState& state, const v1::RecallCommand& cmd) {
  switch (cmd.command_case()) {
    case v1::RecallCommand::kInitiate:
      return DecideInitiate(state, cmd);
    case v1::RecallCommand::kNotify:
      return DecideNotify(state, cmd);
    case v1::RecallCommand::kRespond:
      return DecideRespond(state, cmd);
    case v1::RecallCommand::kClose:
      return DecideClose(state, cmd);
    case v1::RecallCommand::kDrill:
      return DecideDrill(state, cmd);
    case v1::RecallCommand::kExtendScope:
      return DecideExtendScope(state, cmd);
    case v1::RecallCommand::COMMAND_NOT_SET:
      break;
  }
  return Invalid("command: required");
}

}  // namespace lotledger::recall
