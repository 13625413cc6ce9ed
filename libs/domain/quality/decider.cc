#include "libs/domain/quality/decider.h"

#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/message_differencer.h"
#include "libs/common/status_macros.h"
#include "libs/domain/common/recall_standing.h"
#include "libs/domain/common/refusals.h"

namespace lotledger::quality {
namespace {

using domain::Invalid;
using domain::IsBlank;
using domain::Refuse;

using google::protobuf::util::MessageDifferencer;

bool IsSet(const google::protobuf::Timestamp& t) {
  return t.seconds() != 0 || t.nanos() != 0;
}

// " on 2026-03-02" (UTC), or nothing when the time is unknown.
std::string OnDay(const google::protobuf::Timestamp& t) {
  if (!IsSet(t)) return "";
  const absl::Time time =
      absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
  return absl::StrCat(" on ",
                      absl::FormatTime("%Y-%m-%d", time, absl::UTCTimeZone()));
}

// How a lot stands, for messages: "is on hold since 2026-03-02 by qa.li:
// sterility retest".
std::string Standing(const v1::QualityLotState& lot) {
  std::string by = lot.disposition_by().empty()
                       ? ""
                       : absl::StrCat(" by ", lot.disposition_by());
  std::string why = lot.disposition_reason().empty()
                        ? ""
                        : absl::StrCat(": ", lot.disposition_reason());
  switch (lot.disposition()) {
    case v1::DISPOSITION_RELEASED:
      return absl::StrCat("was released", OnDay(lot.disposition_since()), by);
    case v1::DISPOSITION_ON_HOLD: {
      std::string since = OnDay(lot.disposition_since());
      if (!since.empty()) since.replace(0, 4, " since ");
      return absl::StrCat("is on hold", since, by, why);
    }
    case v1::DISPOSITION_REJECTED:
      return absl::StrCat("was rejected", OnDay(lot.disposition_since()), by,
                          why);
    default:
      return "is not released (no disposition yet)";
  }
}

bool Exists(const v1::QualityDecisionState& state, const std::string& lot_id) {
  return state.lot().exists() && state.lot().lot_id() == lot_id;
}

v1::Event NewLotEvent(const std::string& lot_id,
                      const google::protobuf::Timestamp* occurred_at) {
  v1::Event event;
  event.set_aggregate_id(lot_id);
  event.add_lot_ids(lot_id);
  if (occurred_at != nullptr) *event.mutable_occurred_at() = *occurred_at;
  return event;
}

// ---- RecordInspection -------------------------------------------------------

absl::StatusOr<std::vector<v1::Event>> DecideRecordInspection(
    const v1::QualityDecisionState& state,
    const v1::RecordInspectionRequest& req) {
  if (req.lot_id().empty())
    return Invalid("record_inspection.lot_id: required");
  if (req.inspection_id().empty()) {
    return Invalid("record_inspection.inspection_id: required");
  }
  if (req.type() == v1::INSPECTION_TYPE_UNSPECIFIED ||
      !v1::InspectionType_IsValid(req.type())) {
    return Invalid(
        "record_inspection.type: required: incoming, in-process or final");
  }
  if (req.sample_size() < 1) {
    return Invalid("record_inspection.sample_size: must be at least 1, got ",
                   req.sample_size());
  }
  if (req.results().empty()) {
    return Invalid("record_inspection.results: at least one result required");
  }
  for (int i = 0; i < req.results_size(); ++i) {
    const v1::CharacteristicResult& r = req.results(i);
    if (IsBlank(r.characteristic())) {
      return Invalid("record_inspection.results[", i,
                     "].characteristic: required");
    }
    if (IsBlank(r.specification())) {
      return Invalid("record_inspection.results[", i,
                     "].specification: required (what ", r.characteristic(),
                     " was measured against)");
    }
  }
  if (!Exists(state, req.lot_id())) {
    return Refuse("lot ", req.lot_id(),
                  " does not exist; an inspection needs a created lot");
  }
  const v1::QualityLotState& lot = state.lot();
  if (lot.disposition() == v1::DISPOSITION_REJECTED) {
    return Refuse("lot ", lot.lot_id(), " ", Standing(lot),
                  "; a rejected lot takes no further inspections");
  }

  v1::Event event = NewLotEvent(
      req.lot_id(), req.has_occurred_at() ? &req.occurred_at() : nullptr);
  v1::InspectionRecorded& rec = *event.mutable_inspection_recorded();
  rec.set_inspection_id(req.inspection_id());
  rec.set_lot_id(req.lot_id());
  rec.set_type(req.type());
  rec.set_sample_size(req.sample_size());
  *rec.mutable_results() = req.results();
  rec.set_passed(std::all_of(
      req.results().begin(), req.results().end(),
      [](const v1::CharacteristicResult& r) { return r.passed(); }));
  rec.set_notes(req.notes());

  // A client retrying with its own inspection id gets no second record; a
  // different inspection under a used id is an error, not an overwrite.
  for (const v1::Inspection& done : lot.inspections()) {
    if (done.inspection().inspection_id() != req.inspection_id()) continue;
    if (MessageDifferencer::Equals(done.inspection(), rec)) {
      return std::vector<v1::Event>();
    }
    return Refuse("inspection ", req.inspection_id(),
                  " is already recorded for lot ", lot.lot_id(),
                  " with different results; record a new inspection");
  }
  return std::vector<v1::Event>{std::move(event)};
}

// ---- ChangeDisposition ------------------------------------------------------

absl::Status ValidateChangeShape(const v1::QualityCommand& cmd) {
  const v1::ChangeDispositionRequest& req = cmd.change_disposition();
  if (req.lot_id().empty()) {
    return Invalid("change_disposition.lot_id: required");
  }
  if (req.to() != v1::DISPOSITION_RELEASED &&
      req.to() != v1::DISPOSITION_ON_HOLD &&
      req.to() != v1::DISPOSITION_REJECTED) {
    return Invalid(
        "change_disposition.to: must be RELEASED, ON_HOLD or REJECTED");
  }
  // The service builds cmd.signature after verifying the credential; the
  // client supplies meaning and reason in change_disposition.signature.
  if (!cmd.has_signature() || IsBlank(cmd.signature().signer())) {
    return Invalid(
        "change_disposition.signature: required: a disposition is an "
        "electronic signature of the re-authenticated caller");
  }
  if (IsBlank(cmd.signature().meaning())) {
    return Invalid(
        "change_disposition.signature.meaning: required, e.g. "
        "\"approved for release\"");
  }
  if (IsBlank(cmd.signature().reason())) {
    return Invalid(req.to() == v1::DISPOSITION_ON_HOLD
                       ? "change_disposition.signature.reason: a hold needs a "
                         "reason"
                       : "change_disposition.signature.reason: required");
  }
  if (req.has_deviation()) {
    if (req.to() != v1::DISPOSITION_RELEASED) {
      return Invalid(
          "change_disposition.deviation: only a release can carry a "
          "deviation");
    }
    if (IsBlank(req.deviation().deviation_id())) {
      return Invalid("change_disposition.deviation.deviation_id: required");
    }
    if (IsBlank(req.deviation().justification())) {
      return Invalid("change_disposition.deviation.justification: required");
    }
    if (!cmd.has_deviation_approval() ||
        IsBlank(cmd.deviation_approval().signer())) {
      return Invalid(
          "change_disposition.deviation.approval: required: the signature "
          "of a second person with the qa_approver role");
    }
    if (IsBlank(cmd.deviation_approval().meaning())) {
      return Invalid(
          "change_disposition.deviation.approval.meaning: required, e.g. "
          "\"deviation approved\"");
    }
  }
  return absl::OkStatus();
}

// Whether an inspection of `type` decides the lot's release: the final
// inspection, or for a purchased lot its incoming inspection.
bool IsReleaseInspection(const v1::QualityLotState& lot,
                         v1::InspectionType type) {
  return type == v1::INSPECTION_TYPE_FINAL ||
         (lot.purchased() && type == v1::INSPECTION_TYPE_INCOMING);
}

// The latest release inspection: the last one recorded (log order). Its
// business time (occurred_at, client-supplied) does not rank it: a pass
// dated in the future, or a failure dated in the past, would otherwise
// decide a release that the record says is not due.
const v1::Inspection* LatestFinal(const v1::QualityLotState& lot) {
  const v1::Inspection* latest = nullptr;
  for (const v1::Inspection& i : lot.inspections()) {
    if (IsReleaseInspection(lot, i.inspection().type())) latest = &i;
  }
  return latest;
}

// At most this many blocking lots are named in one refusal.
constexpr size_t kMaxNamed = 5;

// Why `lot` blocks the release of a lot made from it ("" when it does
// not): under an open recall, rejected or on hold.
std::string Blocking(const v1::QualityLotState& lot,
                     const v1::QualityDecisionState& state) {
  const std::vector<const v1::RecallStanding*> recalls =
      domain::OpenRecalls(lot.recall_ids(), state.recalls());
  if (!recalls.empty()) return domain::UnderRecall(*recalls.front());
  if (lot.disposition() == v1::DISPOSITION_REJECTED ||
      lot.disposition() == v1::DISPOSITION_ON_HOLD) {
    return Standing(lot);
  }
  return "";
}

// Genealogy at any depth: every lot the lot was made from, and what they
// were made from, down to the raw materials, that is under an open recall,
// rejected or on hold; each named with the lot it went into when that is
// not the lot itself. Breadth first, each lot once.
std::vector<std::string> BlockingAncestors(
    const v1::QualityDecisionState& state) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  std::vector<std::pair<std::string, std::string>> level;  // (lot, into)
  for (const std::string& id : state.lot().component_lot_ids()) {
    level.emplace_back(id, "");
  }
  while (!level.empty()) {
    std::vector<std::pair<std::string, std::string>> next;
    for (const auto& [id, into] : level) {
      if (!seen.insert(id).second) continue;
      auto it = state.components().find(id);
      if (it == state.components().end()) continue;
      const std::string why = Blocking(it->second, state);
      if (!why.empty()) {
        out.push_back(absl::StrCat(
            "component lot ", id,
            into.empty() ? "" : absl::StrCat(" (a component of ", into, ")"),
            " ", why));
      }
      for (const std::string& c : it->second.component_lot_ids()) {
        next.emplace_back(c, id);
      }
    }
    level = std::move(next);
  }
  return out;
}

std::string NameSome(const std::vector<std::string>& all) {
  if (all.size() <= kMaxNamed) return absl::StrJoin(all, "; ");
  return absl::StrCat(absl::StrJoin(all.begin(), all.begin() + kMaxNamed, "; "),
                      "; and ", all.size() - kMaxNamed, " more");
}

std::string FailedResults(const v1::InspectionRecorded& inspection) {
  std::vector<std::string> failed;
  for (const v1::CharacteristicResult& r : inspection.results()) {
    if (r.passed()) continue;
    std::string measured =
        r.measured_value().empty() ? "failed" : r.measured_value();
    if (!r.unit().empty() && !r.measured_value().empty()) {
      absl::StrAppend(&measured, " ", r.unit());
    }
    failed.push_back(absl::StrCat(r.characteristic(), " ", measured,
                                  " against ", r.specification()));
  }
  return absl::StrJoin(failed, "; ");
}

absl::StatusOr<std::vector<v1::Event>> DecideChangeDisposition(
    const v1::QualityDecisionState& state, const v1::QualityCommand& cmd) {
  RETURN_IF_ERROR(ValidateChangeShape(cmd));
  const v1::ChangeDispositionRequest& req = cmd.change_disposition();
  if (!Exists(state, req.lot_id())) {
    return Refuse("lot ", req.lot_id(), " does not exist");
  }
  const v1::QualityLotState& lot = state.lot();
  if (lot.disposition() == req.to()) return std::vector<v1::Event>();
  if (lot.disposition() == v1::DISPOSITION_REJECTED) {
    return Refuse("lot ", lot.lot_id(), " ", Standing(lot),
                  "; a rejected lot cannot change disposition");
  }

  std::string overridden_rule;
  if (req.to() == v1::DISPOSITION_RELEASED) {
    // Rule 0, not overridable: a recalled lot stays unreleased, and so does
    // a lot made from anything held, rejected or recalled, at any depth.
    const std::vector<const v1::RecallStanding*> recalls =
        domain::OpenRecalls(lot.recall_ids(), state.recalls());
    if (!recalls.empty()) {
      return Refuse("lot ", lot.lot_id(), " ",
                    domain::UnderRecall(*recalls.front()),
                    "; a recalled lot cannot be released (a deviation "
                    "cannot override this)");
    }
    if (const std::vector<std::string> blocking = BlockingAncestors(state);
        !blocking.empty()) {
      return Refuse("lot ", lot.lot_id(),
                    " cannot be released: ", NameSome(blocking),
                    "; a lot made from held, rejected or recalled material "
                    "cannot be released (a deviation cannot override this)");
    }
    // Rule 1, not overridable: a device is no better than its components.
    if (lot.require_released_components()) {
      std::vector<std::string> blocking;
      for (const std::string& id : lot.component_lot_ids()) {
        auto it = state.components().find(id);
        if (it == state.components().end()) {
          blocking.push_back(absl::StrCat(
              "component lot ", id, " is not released (no quality record)"));
        } else if (it->second.disposition() != v1::DISPOSITION_RELEASED) {
          blocking.push_back(
              absl::StrCat("component lot ", id, " ", Standing(it->second)));
        }
      }
      if (!blocking.empty()) {
        return Refuse("lot ", lot.lot_id(),
                      " cannot be released: ", absl::StrJoin(blocking, "; "),
                      " (item ", lot.item(),
                      " requires released components; a deviation cannot "
                      "override this)");
      }
    }
    // Rule 2: a passed final inspection, or a documented deviation.
    const v1::Inspection* final_inspection = LatestFinal(lot);
    std::string violation;
    absl::string_view rule;
    if (final_inspection == nullptr) {
      rule = kRuleFinalInspectionMissing;
      violation = absl::StrCat("lot ", lot.lot_id(), " has no ",
                               lot.purchased() ? "incoming or final" : "final",
                               " inspection");
    } else if (!final_inspection->inspection().passed()) {
      rule = kRuleFinalInspectionFailed;
      violation =
          absl::StrCat("lot ", lot.lot_id(), " failed final inspection ",
                       final_inspection->inspection().inspection_id(),
                       OnDay(final_inspection->occurred_at()), " (",
                       FailedResults(final_inspection->inspection()), ")");
    }
    if (violation.empty() && req.has_deviation()) {
      return Refuse("lot ", lot.lot_id(), " passed final inspection ",
                    final_inspection->inspection().inspection_id(),
                    "; deviation ", req.deviation().deviation_id(),
                    " is not needed: release without it");
    }
    if (!violation.empty()) {
      if (!req.has_deviation()) {
        return Refuse(violation,
                      "; it can be released only with a deviation approved "
                      "by a second person with the qa_approver role");
      }
      const std::string& approver = cmd.deviation_approval().signer();
      if (approver == cmd.signature().signer()) {
        return Refuse("a deviation needs a second, different person: ",
                      approver, " signs the release of lot ", lot.lot_id(),
                      " and cannot also approve deviation ",
                      req.deviation().deviation_id());
      }
      const auto& roles = cmd.deviation_approver_roles();
      if (std::find(roles.begin(), roles.end(), kApproverRole) == roles.end()) {
        return Refuse("deviation ", req.deviation().deviation_id(), " for lot ",
                      lot.lot_id(), " is approved by ", approver,
                      ", who does not have the ", kApproverRole, " role");
      }
      overridden_rule = absl::StrCat(rule, ": ", violation);
    }
  }

  v1::Event event = NewLotEvent(
      lot.lot_id(), req.has_occurred_at() ? &req.occurred_at() : nullptr);
  v1::DispositionChanged& changed = *event.mutable_disposition_changed();
  changed.set_lot_id(lot.lot_id());
  changed.set_from(lot.disposition());
  changed.set_to(req.to());
  *changed.mutable_signature() = cmd.signature();
  if (!overridden_rule.empty()) {
    v1::Deviation& deviation = *changed.mutable_deviation();
    deviation.set_deviation_id(req.deviation().deviation_id());
    deviation.set_justification(req.deviation().justification());
    *deviation.mutable_approval() = cmd.deviation_approval();
    changed.set_overridden_rule(std::move(overridden_rule));
  }
  return std::vector<v1::Event>{std::move(event)};
}

}  // namespace

absl::StatusOr<std::vector<v1::Event>> Decide(
    const v1::QualityDecisionState& state, const v1::QualityCommand& cmd) {
  switch (cmd.command_case()) {
    case v1::QualityCommand::kRecordInspection:
      return DecideRecordInspection(state, cmd.record_inspection());
    case v1::QualityCommand::kChangeDisposition:
      return DecideChangeDisposition(state, cmd);
    case v1::QualityCommand::COMMAND_NOT_SET:
      break;
  }
  return Invalid("command: required: record_inspection or change_disposition");
}

}  // namespace lotledger::quality
