// Given/when/then tables for the quality rules: given prior events (folded
// with Evolve/EvolvePolicy into per-lot quality views, the way the service
// does), when a command, then the events Decide returns, or its error code
// and a part of the message.
#include "libs/domain/quality/decider.h"

#include <map>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "libs/domain/common/recall_standing.h"
#include "libs/domain/testing/decider_table.h"

namespace lotledger::quality {
namespace {

using google::protobuf::TextFormat;

using domain::testing::CaseName;
using domain::testing::Ev;
using domain::testing::ExpectDecision;
using domain::testing::kInvalid;
using domain::testing::kRefused;
using domain::testing::Parse;
using Case = domain::testing::DecideCase<>;  // given: prior events

// ---- Given: reusable prior events -------------------------------------------

// The device may be released only when its components are.
const char kDeviceGated[] = R"pb(
  aggregate_id: "09506000134352"
  product_defined {
    product {
      item: "09506000134352"
      name: "Sterile catheter"
      uom: "EA"
      kind: ITEM_KIND_FINISHED_DEVICE
      policy { shelf_life_days: 1095 require_released_components: true }
    }
  })pb";

const char kDeviceUngated[] = R"pb(
  aggregate_id: "09506000134352"
  product_defined {
    product {
      item: "09506000134352"
      name: "Sterile catheter"
      uom: "EA"
      kind: ITEM_KIND_FINISHED_DEVICE
      policy { shelf_life_days: 1095 }
    }
  })pb";

const char kL5Created[] = R"pb(
  aggregate_id: "C-100:L5"
  lot_ids: "C-100:L5"
  lot_created { lot_id: "C-100:L5" item: "C-100" lot_number: "L5" })pb";

const char kL6Created[] = R"pb(
  aggregate_id: "C-100:L6"
  lot_ids: "C-100:L6"
  lot_created { lot_id: "C-100:L6" item: "C-100" lot_number: "L6" })pb";

// Device lot A17, made from L5 and L6.
const char kA17Created[] = R"pb(
  aggregate_id: "09506000134352:A17"
  lot_ids: [ "09506000134352:A17", "C-100:L5", "C-100:L6" ]
  lot_created {
    lot_id: "09506000134352:A17"
    item: "09506000134352"
    lot_number: "A17"
    inputs {
      lot_id: "C-100:L5"
      quantity { amount: 400 uom: "EA" }
    }
    inputs {
      lot_id: "C-100:L6"
      quantity { amount: 100 uom: "EA" }
    }
  })pb";

// Final inspection I-7 of A17 on 2026-03-02: seal strength failed.
const char kA17FinalFailed[] = R"pb(
  aggregate_id: "09506000134352:A17"
  lot_ids: "09506000134352:A17"
  actor: "insp.ng"
  occurred_at { seconds: 1772442000 }
  inspection_recorded {
    inspection_id: "I-7"
    lot_id: "09506000134352:A17"
    type: INSPECTION_TYPE_FINAL
    sample_size: 32
    results {
      characteristic: "seal strength"
      specification: ">= 1.2 N/15mm"
      measured_value: "0.9"
      unit: "N/15mm"
      passed: false
    }
    results {
      characteristic: "visual"
      specification: "no defects"
      measured_value: "ok"
      passed: true
    }
    passed: false
  })pb";

// Final retest I-8 of A17 on 2026-03-05: passed.
const char kA17FinalPassed[] = R"pb(
  aggregate_id: "09506000134352:A17"
  lot_ids: "09506000134352:A17"
  actor: "insp.ng"
  occurred_at { seconds: 1772701200 }
  inspection_recorded {
    inspection_id: "I-8"
    lot_id: "09506000134352:A17"
    type: INSPECTION_TYPE_FINAL
    sample_size: 32
    results {
      characteristic: "seal strength"
      specification: ">= 1.2 N/15mm"
      measured_value: "1.45"
      unit: "N/15mm"
      passed: true
    }
    passed: true
  })pb";

// An in-process inspection that passed: not a final one.
const char kA17InProcessPassed[] = R"pb(
  aggregate_id: "09506000134352:A17"
  lot_ids: "09506000134352:A17"
  occurred_at { seconds: 1772352000 }
  inspection_recorded {
    inspection_id: "I-3"
    lot_id: "09506000134352:A17"
    type: INSPECTION_TYPE_IN_PROCESS
    sample_size: 5
    results {
      characteristic: "length"
      specification: "300 +/- 2 mm"
      passed: true
    }
    passed: true
  })pb";

// The same lot, had it been bought in from a supplier.
std::string A17Purchased() {
  std::string created = kA17Created;
  const std::string anchor = "lot_number: \"A17\"";
  created.insert(created.find(anchor) + anchor.size(),
                 " supplier: \"Polymed GmbH\" supplier_lot: \"PM-5521\"");
  return created;
}

// kA17InProcessPassed as an incoming inspection.
std::string A17IncomingPassed() {
  std::string incoming = kA17InProcessPassed;
  const std::string type = "INSPECTION_TYPE_IN_PROCESS";
  incoming.replace(incoming.find(type), type.size(),
                   "INSPECTION_TYPE_INCOMING");
  return incoming;
}

std::string Disposition(const std::string& lot_id, const std::string& from,
                        const std::string& to, const std::string& signer,
                        const std::string& reason, int64_t seconds) {
  return absl::StrCat(
      "aggregate_id: \"", lot_id, "\" lot_ids: \"", lot_id, "\" actor: \"",
      signer, "\" occurred_at { seconds: ", seconds, " }",
      " disposition_changed { lot_id: \"", lot_id, "\" from: ", from,
      " to: ", to, " signature { signer: \"", signer,
      "\" meaning: \"signed\" reason: \"", reason, "\" } }");
}

const std::string kL5Released =
    Disposition("C-100:L5", "DISPOSITION_UNSPECIFIED", "DISPOSITION_RELEASED",
                "qa.li", "incoming inspection passed", 1772352000);
const std::string kL6Released =
    Disposition("C-100:L6", "DISPOSITION_UNSPECIFIED", "DISPOSITION_RELEASED",
                "qa.li", "incoming inspection passed", 1772352000);
const std::string kL6Held =
    Disposition("C-100:L6", "DISPOSITION_RELEASED", "DISPOSITION_ON_HOLD",
                "qa.li", "sterility retest", 1772442000);
const std::string kA17Held = Disposition(
    "09506000134352:A17", "DISPOSITION_UNSPECIFIED", "DISPOSITION_ON_HOLD",
    "qa.li", "seal strength investigation", 1772442000);
const std::string kA17Released = Disposition(
    "09506000134352:A17", "DISPOSITION_UNSPECIFIED", "DISPOSITION_RELEASED",
    "qa.li", "final inspection passed", 1772701200);
const std::string kA17Rejected = Disposition(
    "09506000134352:A17", "DISPOSITION_ON_HOLD", "DISPOSITION_REJECTED",
    "qa.li", "seal failure confirmed", 1772701200);

// Raw material lot RM-7:R1 (bought in), and component lot L5 made from it.
const char kR1Created[] = R"pb(
  aggregate_id: "RM-7:R1"
  lot_ids: "RM-7:R1"
  lot_created {
    lot_id: "RM-7:R1"
    item: "RM-7"
    lot_number: "R1"
    supplier: "Polymed GmbH"
  })pb";
const char kL5FromR1Created[] = R"pb(
  aggregate_id: "C-100:L5"
  lot_ids: [ "C-100:L5", "RM-7:R1" ]
  lot_created {
    lot_id: "C-100:L5"
    item: "C-100"
    lot_number: "L5"
    inputs {
      lot_id: "RM-7:R1"
      quantity { amount: 20 uom: "KG" }
    }
  })pb";
const std::string kR1Released =
    Disposition("RM-7:R1", "DISPOSITION_UNSPECIFIED", "DISPOSITION_RELEASED",
                "qa.li", "CoA reviewed", 1772352000);
const std::string kR1Held =
    Disposition("RM-7:R1", "DISPOSITION_RELEASED", "DISPOSITION_ON_HOLD",
                "qa.li", "supplier notice PM-5521", 1772442000);
const std::string kR1Rejected =
    Disposition("RM-7:R1", "DISPOSITION_ON_HOLD", "DISPOSITION_REJECTED",
                "qa.li", "contaminated", 1772701200);

// Recall `id` of `lot_id` on 2026-03-02, and its closure.
std::string Recalled(const std::string& id, const std::string& lot_id) {
  return absl::StrCat(
      "aggregate_id: \"", id, "\" lot_ids: \"", lot_id,
      "\" occurred_at { seconds: 1772442000 } recall_initiated { recall_id: "
      "\"",
      id,
      "\" part_count: 1 reason: \"resin contamination\" criteria { "
      "lot_ids: \"",
      lot_id, "\" include_derived: true } lots { lot_id: \"", lot_id,
      "\" reason: SCOPE_REASON_LISTED } }");
}
std::string RecallClosed(const std::string& id, const std::string& lot_id) {
  return absl::StrCat("aggregate_id: \"", id, "\" lot_ids: \"", lot_id,
                      "\" recall_closed { recall_id: \"", id,
                      "\" part_count: 1 summary: \"all recovered\" }");
}

// ---- The projection and the decision state ----------------------------------

struct Projection {
  std::map<std::string, v1::Product> products;
  std::map<std::string, v1::QualityLotState> lots;
  std::map<std::string, v1::RecallStanding> recalls;  // recall topic
};

Projection Fold(const std::vector<std::string>& given) {
  Projection p;
  for (const std::string& text : given) {
    const v1::Event event = Ev(text);
    if (event.has_product_defined()) {
      const v1::Product& product = event.product_defined().product();
      p.products[product.item()] = product;
      for (auto& [id, lot] : p.lots) EvolvePolicy(lot, product);
      continue;
    }
    if (const std::string id = domain::RecallIdOf(event); !id.empty()) {
      domain::EvolveRecallStanding(p.recalls[id], event);
    }
    for (const std::string& id : event.lot_ids()) {
      v1::QualityLotState& lot = p.lots[id];
      lot.set_lot_id(id);
      Evolve(lot, event);
      if (auto it = p.products.find(lot.item()); it != p.products.end()) {
        EvolvePolicy(lot, it->second);
      }
    }
  }
  return p;
}

v1::QualityDecisionState Load(const Projection& p,
                              const v1::QualityCommand& cmd) {
  const std::string& lot_id = cmd.has_record_inspection()
                                  ? cmd.record_inspection().lot_id()
                                  : cmd.change_disposition().lot_id();
  v1::QualityDecisionState state;
  auto it = p.lots.find(lot_id);
  if (it == p.lots.end()) return state;
  *state.mutable_lot() = it->second;
  // The genealogy at any depth, and the recalls named on the way.
  auto add_recalls = [&](const v1::QualityLotState& lot) {
    for (const std::string& r : lot.recall_ids()) {
      if (auto rc = p.recalls.find(r); rc != p.recalls.end()) {
        (*state.mutable_recalls())[r] = rc->second;
      }
    }
  };
  add_recalls(it->second);
  std::vector<std::string> todo(it->second.component_lot_ids().begin(),
                                it->second.component_lot_ids().end());
  while (!todo.empty()) {
    const std::string id = todo.back();
    todo.pop_back();
    if (state.components().contains(id)) continue;
    auto c = p.lots.find(id);
    if (c == p.lots.end() || !c->second.exists()) continue;
    (*state.mutable_components())[id] = c->second;
    add_recalls(c->second);
    for (const std::string& next : c->second.component_lot_ids()) {
      todo.push_back(next);
    }
  }
  return state;
}

// ---- The table --------------------------------------------------------------

class QualityDecide : public testing::TestWithParam<Case> {};

TEST_P(QualityDecide, GivenWhenThen) {
  const Case& c = GetParam();
  const v1::QualityCommand cmd = Parse<v1::QualityCommand>(c.when);
  ExpectDecision(c, Decide(Load(Fold(c.given), cmd), cmd));
}

// Release A17, signed by qa.li.
const char kReleaseA17[] = R"pb(
  actor: "qa.li"
  actor_roles: "qa_approver"
  change_disposition { lot_id: "09506000134352:A17" to: DISPOSITION_RELEASED }
  signature {
    signer: "qa.li"
    meaning: "approved for release"
    reason: "lot meets specification"
  })pb";

// The event kReleaseA17 produces from `from`.
std::string ReleasedA17From(v1::Disposition from) {
  v1::Event event = Ev(R"pb(
    aggregate_id: "09506000134352:A17"
    lot_ids: "09506000134352:A17"
    disposition_changed {
      lot_id: "09506000134352:A17"
      to: DISPOSITION_RELEASED
      signature {
        signer: "qa.li"
        meaning: "approved for release"
        reason: "lot meets specification"
      }
    })pb");
  event.mutable_disposition_changed()->set_from(from);
  std::string text;
  TextFormat::PrintToString(event, &text);
  return text;
}

// Release A17 with deviation DEV-12, approved by `approver` with `role`.
std::string ReleaseA17WithDeviation(const std::string& approver,
                                    const std::string& role) {
  v1::QualityCommand cmd = Parse<v1::QualityCommand>(R"pb(
    actor: "qa.li"
    change_disposition {
      lot_id: "09506000134352:A17"
      to: DISPOSITION_RELEASED
      deviation {
        deviation_id: "DEV-12"
        justification: "seal retest by supplier method"
      }
    }
    signature {
      signer: "qa.li"
      meaning: "approved for release"
      reason: "released under deviation"
    }
    deviation_approval { meaning: "deviation approved" reason: "risk assessed" }
  )pb");
  cmd.mutable_deviation_approval()->set_signer(approver);
  cmd.add_deviation_approver_roles(role);
  std::string text;
  TextFormat::PrintToString(cmd, &text);
  return text;
}

std::vector<Case> InspectionCases() {
  return {
      {"RecordFinalInspectionAllPassed",
       {kA17Created},
       R"pb(
         actor: "insp.ng"
         record_inspection {
           inspection_id: "I-9"
           lot_id: "09506000134352:A17"
           type: INSPECTION_TYPE_FINAL
           sample_size: 13
           notes: "AQL 1.0"
           results {
             characteristic: "seal strength"
             specification: ">= 1.2"
             measured_value: "1.5"
             passed: true
           }
           results {
             characteristic: "visual"
             specification: "no defects"
             passed: true
           }
           occurred_at { seconds: 1772442000 }
         })pb",
       {R"pb(aggregate_id: "09506000134352:A17"
             lot_ids: "09506000134352:A17"
             occurred_at { seconds: 1772442000 }
             inspection_recorded {
               inspection_id: "I-9"
               lot_id: "09506000134352:A17"
               type: INSPECTION_TYPE_FINAL
               sample_size: 13
               notes: "AQL 1.0"
               results {
                 characteristic: "seal strength"
                 specification: ">= 1.2"
                 measured_value: "1.5"
                 passed: true
               }
               results {
                 characteristic: "visual"
                 specification: "no defects"
                 passed: true
               }
               passed: true
             })pb"}},
      {"OneFailedResultFailsInspection",
       {kA17Created},
       R"pb(
         record_inspection {
           inspection_id: "I-9"
           lot_id: "09506000134352:A17"
           type: INSPECTION_TYPE_FINAL
           sample_size: 13
           results {
             characteristic: "seal strength"
             specification: ">= 1.2"
             passed: true
           }
           results {
             characteristic: "burst"
             specification: ">= 5 bar"
             passed: false
           }
         })pb",
       {R"pb(aggregate_id: "09506000134352:A17"
             lot_ids: "09506000134352:A17"
             inspection_recorded {
               inspection_id: "I-9"
               lot_id: "09506000134352:A17"
               type: INSPECTION_TYPE_FINAL
               sample_size: 13
               results {
                 characteristic: "seal strength"
                 specification: ">= 1.2"
                 passed: true
               }
               results {
                 characteristic: "burst"
                 specification: ">= 5 bar"
                 passed: false
               }
               passed: false
             })pb"}},
      {"InspectionOfUnknownLotRefused",
       {kL5Created},
       R"pb(
         record_inspection {
           inspection_id: "I-9"
           lot_id: "09506000134352:A99"
           type: INSPECTION_TYPE_FINAL
           sample_size: 1
           results {
             characteristic: "visual"
             specification: "no defects"
             passed: true
           }
         })pb",
       {},
       kRefused,
       "lot 09506000134352:A99 does not exist"},
      {"InspectionOfRejectedLotRefused",
       {kA17Created, kA17Held, kA17Rejected},
       R"pb(
         record_inspection {
           inspection_id: "I-9"
           lot_id: "09506000134352:A17"
           type: INSPECTION_TYPE_FINAL
           sample_size: 1
           results {
             characteristic: "visual"
             specification: "no defects"
             passed: true
           }
         })pb",
       {},
       kRefused,
       "lot 09506000134352:A17 was rejected on 2026-03-05 by qa.li: seal "
       "failure confirmed; a rejected lot takes no further inspections"},
      {"TypeRequired",
       {kA17Created},
       R"pb(
         record_inspection {
           inspection_id: "I-9"
           lot_id: "09506000134352:A17"
           sample_size: 1
           results {
             characteristic: "visual"
             specification: "no defects"
             passed: true
           }
         })pb",
       {},
       kInvalid,
       "record_inspection.type: required"},
      {"SampleSizeAtLeastOne",
       {kA17Created},
       R"pb(
         record_inspection {
           inspection_id: "I-9"
           lot_id: "09506000134352:A17"
           type: INSPECTION_TYPE_FINAL
           sample_size: 0
           results {
             characteristic: "visual"
             specification: "no defects"
             passed: true
           }
         })pb",
       {},
       kInvalid,
       "record_inspection.sample_size: must be at least 1, got 0"},
      {"AtLeastOneResult",
       {kA17Created},
       R"pb(
         record_inspection {
           inspection_id: "I-9"
           lot_id: "09506000134352:A17"
           type: INSPECTION_TYPE_FINAL
           sample_size: 1
         })pb",
       {},
       kInvalid,
       "record_inspection.results: at least one result"},
      {"ResultNeedsCharacteristic",
       {kA17Created},
       R"pb(
         record_inspection {
           inspection_id: "I-9"
           lot_id: "09506000134352:A17"
           type: INSPECTION_TYPE_FINAL
           sample_size: 1
           results { specification: "no defects" passed: true }
         })pb",
       {},
       kInvalid,
       "record_inspection.results[0].characteristic: required"},
      {"ResultNeedsSpecification",
       {kA17Created},
       R"pb(
         record_inspection {
           inspection_id: "I-9"
           lot_id: "09506000134352:A17"
           type: INSPECTION_TYPE_FINAL
           sample_size: 1
           results { characteristic: "visual" passed: true }
           results { characteristic: "length" specification: "" passed: true }
         })pb",
       {},
       kInvalid,
       "record_inspection.results[0].specification: required"},
      {"InspectionIdRequired",
       {kA17Created},
       R"pb(
         record_inspection {
           lot_id: "09506000134352:A17"
           type: INSPECTION_TYPE_FINAL
           sample_size: 1
           results { characteristic: "visual" specification: "ok" passed: true }
         })pb",
       {},
       kInvalid,
       "record_inspection.inspection_id: required"},
      {"SameInspectionAgainIsNoOp",
       {kA17Created, kA17FinalPassed},
       R"pb(
         record_inspection {
           inspection_id: "I-8"
           lot_id: "09506000134352:A17"
           type: INSPECTION_TYPE_FINAL
           sample_size: 32
           results {
             characteristic: "seal strength"
             specification: ">= 1.2 N/15mm"
             measured_value: "1.45"
             unit: "N/15mm"
             passed: true
           }
         })pb",
       {}},
      {"OtherResultsUnderUsedIdRefused",
       {kA17Created, kA17FinalPassed},
       R"pb(
         record_inspection {
           inspection_id: "I-8"
           lot_id: "09506000134352:A17"
           type: INSPECTION_TYPE_FINAL
           sample_size: 32
           results {
             characteristic: "seal strength"
             specification: ">= 1.2 N/15mm"
             passed: false
           }
         })pb",
       {},
       kRefused,
       "inspection I-8 is already recorded for lot 09506000134352:A17"},
  };
}

std::vector<Case> ReleaseCases() {
  return {
      {"ReleaseWithoutFinalInspectionRefused",
       {kA17Created, kA17InProcessPassed},
       kReleaseA17,
       {},
       kRefused,
       "lot 09506000134352:A17 has no final inspection"},
      // A bought-in lot is released on its incoming inspection ...
      {"PurchasedLotReleasedOnIncomingInspection",
       {A17Purchased(), A17IncomingPassed()},
       kReleaseA17,
       {ReleasedA17From(v1::DISPOSITION_UNSPECIFIED)}},
      // ... a lot made in house is not.
      {"MadeLotNotReleasedOnIncomingInspection",
       {kA17Created, A17IncomingPassed()},
       kReleaseA17,
       {},
       kRefused,
       "lot 09506000134352:A17 has no final inspection"},
      {"PurchasedLotWithoutInspectionRefused",
       {A17Purchased()},
       kReleaseA17,
       {},
       kRefused,
       "lot 09506000134352:A17 has no incoming or final inspection"},
      {"ReleaseAfterFailedFinalRefused",
       {kA17Created, kA17FinalFailed},
       kReleaseA17,
       {},
       kRefused,
       "lot 09506000134352:A17 failed final inspection I-7 on 2026-03-02 "
       "(seal strength 0.9 N/15mm against >= 1.2 N/15mm)"},
      {"ReleaseAfterPassedFinal",
       {kA17Created, kA17FinalPassed},
       kReleaseA17,
       {ReleasedA17From(v1::DISPOSITION_UNSPECIFIED)}},
      {"PassedRetestSupersedesFailedFinal",
       {kA17Created, kA17FinalFailed, kA17FinalPassed},
       kReleaseA17,
       {ReleasedA17From(v1::DISPOSITION_UNSPECIFIED)}},
      // The failed inspection happened after the passed one (entered late):
      // the latest by business time counts.
      {"LaterFailedFinalWinsOverEarlierPass",
       {kA17Created, kA17FinalPassed,
        absl::StrCat(kA17FinalFailed)
            .replace(std::string(kA17FinalFailed).find("1772442000"), 10,
                     "1773136800")},
       kReleaseA17,
       {},
       kRefused,
       "failed final inspection I-7 on 2026-03-10"},
      // Inspections rank by record order, not by the business time the
      // client gave: a failure recorded after the pass decides, whatever
      // day it says it happened; a new inspection (a retest) is needed.
      {"FailedFinalRecordedAfterPassBlocksRelease",
       {kA17Created, kA17FinalPassed, kA17FinalFailed},
       kReleaseA17,
       {},
       kRefused,
       "lot 09506000134352:A17 failed final inspection I-7 on 2026-03-02"},
      // A pass dated in 2099 does not outrank a failure recorded later.
      {"FutureDatedPassDoesNotOutrankLaterRecordedFailure",
       {kA17Created,
        absl::StrCat(kA17FinalPassed)
            .replace(std::string(kA17FinalPassed).find("1772701200"), 10,
                     "4070908800"),
        kA17FinalFailed},
       kReleaseA17,
       {},
       kRefused,
       "lot 09506000134352:A17 failed final inspection I-7 on 2026-03-02 "
       "(seal strength 0.9 N/15mm against >= 1.2 N/15mm); it can be "
       "released only with a deviation"},
      {"DeviationBySamePersonRefused",
       {kA17Created, kA17FinalFailed},
       ReleaseA17WithDeviation("qa.li", "qa_approver"),
       {},
       kRefused,
       "a deviation needs a second, different person"},
      {"DeviationByNonApproverRefused",
       {kA17Created, kA17FinalFailed},
       ReleaseA17WithDeviation("prod.mgr", "production_manager"),
       {},
       kRefused,
       "is approved by prod.mgr, who does not have the qa_approver role"},
      {"DeviationOverridesFailedFinal",
       {kA17Created, kA17FinalFailed},
       ReleaseA17WithDeviation("qa.head", "qa_approver"),
       {R"pb(aggregate_id: "09506000134352:A17"
             lot_ids: "09506000134352:A17"
             disposition_changed {
               lot_id: "09506000134352:A17"
               from: DISPOSITION_UNSPECIFIED
               to: DISPOSITION_RELEASED
               signature {
                 signer: "qa.li"
                 meaning: "approved for release"
                 reason: "released under deviation"
               }
               deviation {
                 deviation_id: "DEV-12"
                 justification: "seal retest by supplier method"
                 approval {
                   signer: "qa.head"
                   meaning: "deviation approved"
                   reason: "risk assessed"
                 }
               }
               overridden_rule: "final_inspection_failed: lot 09506000134352:A17 failed final inspection I-7 on 2026-03-02 (seal strength 0.9 N/15mm against >= 1.2 N/15mm)"
             })pb"}},
      {"DeviationOverridesMissingFinal",
       {kA17Created},
       ReleaseA17WithDeviation("qa.head", "qa_approver"),
       {R"pb(aggregate_id: "09506000134352:A17"
             lot_ids: "09506000134352:A17"
             disposition_changed {
               lot_id: "09506000134352:A17"
               from: DISPOSITION_UNSPECIFIED
               to: DISPOSITION_RELEASED
               signature {
                 signer: "qa.li"
                 meaning: "approved for release"
                 reason: "released under deviation"
               }
               deviation {
                 deviation_id: "DEV-12"
                 justification: "seal retest by supplier method"
                 approval {
                   signer: "qa.head"
                   meaning: "deviation approved"
                   reason: "risk assessed"
                 }
               }
               overridden_rule: "final_inspection_missing: lot 09506000134352:A17 has no final inspection"
             })pb"}},
      {"DeviationNotNeededRefused",
       {kA17Created, kA17FinalPassed},
       ReleaseA17WithDeviation("qa.head", "qa_approver"),
       {},
       kRefused,
       "deviation DEV-12 is not needed"},
      {"DeviationNeedsJustification",
       {kA17Created, kA17FinalFailed},
       R"pb(
         change_disposition {
           lot_id: "09506000134352:A17"
           to: DISPOSITION_RELEASED
           deviation { deviation_id: "DEV-12" }
         }
         signature { signer: "qa.li" meaning: "approved" reason: "r" }
         deviation_approval { signer: "qa.head" meaning: "approved" }
         deviation_approver_roles: "qa_approver")pb",
       {},
       kInvalid,
       "change_disposition.deviation.justification: required"},
      {"DeviationNeedsApproval",
       {kA17Created, kA17FinalFailed},
       R"pb(
         change_disposition {
           lot_id: "09506000134352:A17"
           to: DISPOSITION_RELEASED
           deviation { deviation_id: "DEV-12" justification: "j" }
         }
         signature { signer: "qa.li" meaning: "approved" reason: "r" })pb",
       {},
       kInvalid,
       "change_disposition.deviation.approval: required"},
      {"HeldComponentBlocksRelease",
       {kDeviceGated, kL5Created, kL6Created, kA17Created, kL5Released,
        kL6Released, kL6Held, kA17FinalPassed},
       kReleaseA17,
       {},
       kRefused,
       "lot 09506000134352:A17 cannot be released: component lot C-100:L6 is "
       "on hold since 2026-03-02 by qa.li: sterility retest"},
      // Whatever the product's policy: nothing held goes into a release.
      {"HeldComponentBlocksReleaseOfUngatedProduct",
       {kDeviceUngated, kL5Created, kL6Created, kA17Created, kL5Released,
        kL6Released, kL6Held, kA17FinalPassed},
       kReleaseA17,
       {},
       kRefused,
       "lot 09506000134352:A17 cannot be released: component lot C-100:L6 "
       "is on hold since 2026-03-02 by qa.li: sterility retest; a lot made "
       "from held, rejected or recalled material cannot be released (a "
       "deviation cannot override this)"},
      {"UngatedProductIgnoresUnreleasedComponent",
       {kDeviceUngated, kL5Created, kL6Created, kA17Created, kL5Released,
        kA17FinalPassed},
       kReleaseA17,
       {ReleasedA17From(v1::DISPOSITION_UNSPECIFIED)}},
      {"ReleasedComponentsAllowRelease",
       {kDeviceGated, kL5Created, kL6Created, kA17Created, kL5Released,
        kL6Released, kA17FinalPassed},
       kReleaseA17,
       {ReleasedA17From(v1::DISPOSITION_UNSPECIFIED)}},
      {"UnreleasedAndUnknownComponentsBlockRelease",
       {kDeviceGated, kL5Created, kA17Created, kA17FinalPassed},
       kReleaseA17,
       {},
       kRefused,
       "component lot C-100:L5 is not released (no disposition yet); "
       "component lot C-100:L6 is not released (no quality record)"},
      {"DeviationCannotOverrideComponentRule",
       {kDeviceGated, kL5Created, kL6Created, kA17Created, kL5Released,
        kL6Released, kL6Held, kA17FinalFailed},
       ReleaseA17WithDeviation("qa.head", "qa_approver"),
       {},
       kRefused,
       "a deviation cannot override this"},
  };
}

// Genealogy at any depth: A17 <- L5 <- RM-7:R1, and L6.
std::vector<Case> GenealogyCases() {
  return {
      {"HeldRawMaterialTwoLevelsDownBlocksRelease",
       {kDeviceGated, kR1Created, kL5FromR1Created, kL6Created, kA17Created,
        kR1Released, kL5Released, kL6Released, kR1Held, kA17FinalPassed},
       kReleaseA17,
       {},
       kRefused,
       "lot 09506000134352:A17 cannot be released: component lot RM-7:R1 (a "
       "component of C-100:L5) is on hold since 2026-03-02 by qa.li: "
       "supplier notice PM-5521; a lot made from held, rejected or recalled "
       "material cannot be released"},
      {"RejectedRawMaterialBlocksReleaseEvenWithDeviation",
       {kDeviceUngated, kR1Created, kL5FromR1Created, kL6Created, kA17Created,
        kR1Released, kR1Held, kR1Rejected, kA17FinalFailed},
       ReleaseA17WithDeviation("qa.head", "qa_approver"),
       {},
       kRefused,
       "component lot RM-7:R1 (a component of C-100:L5) was rejected on "
       "2026-03-05 by qa.li: contaminated; a lot made from held, rejected or "
       "recalled material cannot be released (a deviation cannot override "
       "this)"},
      {"RecalledComponentBlocksRelease",
       {kDeviceUngated, kL5Created, kL6Created, kA17Created, kL5Released,
        kL6Released, Recalled("RC-7", "C-100:L6"), kA17FinalPassed},
       kReleaseA17,
       {},
       kRefused,
       "lot 09506000134352:A17 cannot be released: component lot C-100:L6 "
       "is under recall RC-7 since 2026-03-02: resin contamination"},
      {"RecalledRawMaterialBlocksRelease",
       {kDeviceUngated, kR1Created, kL5FromR1Created, kL6Created, kA17Created,
        Recalled("RC-7", "RM-7:R1"), kA17FinalPassed},
       kReleaseA17,
       {},
       kRefused,
       "component lot RM-7:R1 (a component of C-100:L5) is under recall "
       "RC-7 since 2026-03-02: resin contamination"},
      {"ComponentOfClosedRecallDoesNotBlockRelease",
       {kDeviceUngated, kL5Created, kL6Created, kA17Created,
        Recalled("RC-7", "C-100:L6"), RecallClosed("RC-7", "C-100:L6"),
        kA17FinalPassed},
       kReleaseA17,
       {ReleasedA17From(v1::DISPOSITION_UNSPECIFIED)}},
      {"RecalledLotItselfCannotBeReleased",
       {kDeviceUngated, kA17Created, kA17FinalPassed,
        Recalled("RC-9", "09506000134352:A17")},
       kReleaseA17,
       {},
       kRefused,
       "lot 09506000134352:A17 is under recall RC-9 since 2026-03-02: resin "
       "contamination; a recalled lot cannot be released"},
      {"ReleasedGenealogyAllowsRelease",
       {kDeviceGated, kR1Created, kL5FromR1Created, kL6Created, kA17Created,
        kR1Released, kL5Released, kL6Released, kA17FinalPassed},
       kReleaseA17,
       {ReleasedA17From(v1::DISPOSITION_UNSPECIFIED)}},
      // Holding a lot is never blocked by its genealogy.
      {"HoldIsAllowedWhateverTheGenealogy",
       {kDeviceUngated, kL5Created, kL6Created, kA17Created, kL6Held},
       R"pb(
         change_disposition {
           lot_id: "09506000134352:A17"
           to: DISPOSITION_ON_HOLD
         }
         signature { signer: "qa.li" meaning: "quarantined" reason: "L6" })pb",
       {R"pb(aggregate_id: "09506000134352:A17"
             lot_ids: "09506000134352:A17"
             disposition_changed {
               lot_id: "09506000134352:A17"
               from: DISPOSITION_UNSPECIFIED
               to: DISPOSITION_ON_HOLD
               signature { signer: "qa.li" meaning: "quarantined" reason: "L6" }
             })pb"}},
  };
}

std::vector<Case> DispositionCases() {
  return {
      {"HoldThenReleaseHeldLot",
       {kA17Created, kA17FinalPassed, kA17Held},
       kReleaseA17,
       {ReleasedA17From(v1::DISPOSITION_ON_HOLD)}},
      {"Hold",
       {kA17Created},
       R"pb(
         change_disposition {
           lot_id: "09506000134352:A17"
           to: DISPOSITION_ON_HOLD
           occurred_at { seconds: 1772442000 }
         }
         signature {
           signer: "qa.li"
           meaning: "quarantined"
           reason: "seal strength investigation"
         })pb",
       {R"pb(aggregate_id: "09506000134352:A17"
             lot_ids: "09506000134352:A17"
             occurred_at { seconds: 1772442000 }
             disposition_changed {
               lot_id: "09506000134352:A17"
               from: DISPOSITION_UNSPECIFIED
               to: DISPOSITION_ON_HOLD
               signature {
                 signer: "qa.li"
                 meaning: "quarantined"
                 reason: "seal strength investigation"
               }
             })pb"}},
      {"HoldNeedsReason",
       {kA17Created},
       R"pb(
         change_disposition {
           lot_id: "09506000134352:A17"
           to: DISPOSITION_ON_HOLD
         }
         signature { signer: "qa.li" meaning: "quarantined" })pb",
       {},
       kInvalid,
       "change_disposition.signature.reason: a hold needs a reason"},
      {"RejectedIsFinal",
       {kA17Created, kA17FinalPassed, kA17Held, kA17Rejected},
       kReleaseA17,
       {},
       kRefused,
       "lot 09506000134352:A17 was rejected on 2026-03-05 by qa.li: seal "
       "failure confirmed; a rejected lot cannot change disposition"},
      {"RejectAgainIsNoOp",
       {kA17Created, kA17Held, kA17Rejected},
       R"pb(
         change_disposition {
           lot_id: "09506000134352:A17"
           to: DISPOSITION_REJECTED
         }
         signature {
           signer: "qa.li"
           meaning: "rejected"
           reason: "seal failure"
         })pb",
       {}},
      {"ReleaseReleasedIsNoOp",
       {kA17Created, kA17FinalPassed, kA17Released},
       kReleaseA17,
       {}},
      {"HoldHeldIsNoOp",
       {kA17Created, kA17Held},
       R"pb(
         change_disposition {
           lot_id: "09506000134352:A17"
           to: DISPOSITION_ON_HOLD
         }
         signature {
           signer: "qa.ko"
           meaning: "quarantined"
           reason: "another reason"
         })pb",
       {}},
      {"DispositionOfUnknownLotRefused",
       {},
       kReleaseA17,
       {},
       kRefused,
       "lot 09506000134352:A17 does not exist"},
      {"SignatureRequired",
       {kA17Created},
       R"pb(
         change_disposition {
           lot_id: "09506000134352:A17"
           to: DISPOSITION_REJECTED
         })pb",
       {},
       kInvalid,
       "change_disposition.signature: required"},
      {"MeaningRequired",
       {kA17Created},
       R"pb(
         change_disposition {
           lot_id: "09506000134352:A17"
           to: DISPOSITION_REJECTED
         }
         signature { signer: "qa.li" reason: "r" })pb",
       {},
       kInvalid,
       "change_disposition.signature.meaning: required"},
      {"TargetRequired",
       {kA17Created},
       R"pb(
         change_disposition { lot_id: "09506000134352:A17" }
         signature { signer: "qa.li" meaning: "m" reason: "r" })pb",
       {},
       kInvalid,
       "change_disposition.to: must be RELEASED, ON_HOLD or REJECTED"},
      {"DeviationOnlyWithRelease",
       {kA17Created},
       R"pb(
         change_disposition {
           lot_id: "09506000134352:A17"
           to: DISPOSITION_ON_HOLD
           deviation { deviation_id: "DEV-1" justification: "j" }
         }
         signature { signer: "qa.li" meaning: "m" reason: "r" })pb",
       {},
       kInvalid,
       "only a release can carry a deviation"},
  };
}

INSTANTIATE_TEST_SUITE_P(RecordInspection, QualityDecide,
                         testing::ValuesIn(InspectionCases()), CaseName());
INSTANTIATE_TEST_SUITE_P(Release, QualityDecide,
                         testing::ValuesIn(ReleaseCases()), CaseName());
INSTANTIATE_TEST_SUITE_P(Genealogy, QualityDecide,
                         testing::ValuesIn(GenealogyCases()), CaseName());
INSTANTIATE_TEST_SUITE_P(ChangeDisposition, QualityDecide,
                         testing::ValuesIn(DispositionCases()), CaseName());

TEST(QualityDecide, NoCommandIsInvalid) {
  domain::testing::ExpectRefused(
      Decide({}, {}).status(), kInvalid,
      "command: required: record_inspection or change_disposition");
}

// ---- Evolve: the read model -------------------------------------------------

TEST(QualityEvolve, FoldsLotInspectionsAndDispositions) {
  const Projection p =
      Fold({kDeviceGated, kA17Created, kA17FinalFailed, kA17Held});
  const v1::QualityLotState& a17 = p.lots.at("09506000134352:A17");
  EXPECT_TRUE(a17.exists());
  EXPECT_EQ(a17.item(), "09506000134352");
  ASSERT_EQ(a17.component_lot_ids_size(), 2);
  EXPECT_EQ(a17.component_lot_ids(0), "C-100:L5");
  EXPECT_EQ(a17.component_lot_ids(1), "C-100:L6");
  EXPECT_TRUE(a17.require_released_components());
  ASSERT_EQ(a17.inspections_size(), 1);
  EXPECT_EQ(a17.inspections(0).inspector(), "insp.ng");
  EXPECT_EQ(a17.inspections(0).occurred_at().seconds(), 1772442000);
  EXPECT_EQ(a17.disposition(), v1::DISPOSITION_ON_HOLD);
  EXPECT_EQ(a17.disposition_by(), "qa.li");
  EXPECT_EQ(a17.disposition_reason(), "seal strength investigation");
  EXPECT_EQ(a17.disposition_since().seconds(), 1772442000);
  ASSERT_EQ(a17.signatures_size(), 1);
  EXPECT_EQ(a17.signatures(0).change().to(), v1::DISPOSITION_ON_HOLD);
}

TEST(QualityEvolve, ParentCreationDoesNotTouchComponent) {
  const Projection p = Fold({kL5Created, kL5Released, kA17Created});
  const v1::QualityLotState& l5 = p.lots.at("C-100:L5");
  EXPECT_EQ(l5.item(), "C-100");
  EXPECT_EQ(l5.component_lot_ids_size(), 0);
  EXPECT_EQ(l5.disposition(), v1::DISPOSITION_RELEASED);
}

TEST(QualityEvolve, LotCreatedSeenLateKeepsQualityHistory) {
  // The quality topic may be replayed before the lots topic.
  const Projection p = Fold({kA17FinalPassed, kA17Held, kA17Created});
  const v1::QualityLotState& a17 = p.lots.at("09506000134352:A17");
  EXPECT_TRUE(a17.exists());
  EXPECT_EQ(a17.inspections_size(), 1);
  EXPECT_EQ(a17.disposition(), v1::DISPOSITION_ON_HOLD);
}

TEST(QualityEvolve, EmptyStateClaimedByFirstEvent) {
  v1::QualityLotState state;
  Evolve(state, Ev(kA17Created));
  EXPECT_EQ(state.lot_id(), "09506000134352:A17");
  Evolve(state, Ev(kL6Held));  // another lot: ignored
  EXPECT_EQ(state.disposition(), v1::DISPOSITION_UNSPECIFIED);
}

TEST(QualityEvolve, RecallsListingTheLotAreKeptSorted) {
  const Projection p =
      Fold({kL6Created, Recalled("RC-9", "C-100:L6"),
            Recalled("RC-7", "C-100:L6"), Recalled("RC-7", "C-100:L6")});
  const v1::QualityLotState& l6 = p.lots.at("C-100:L6");
  ASSERT_EQ(l6.recall_ids_size(), 2);
  EXPECT_EQ(l6.recall_ids(0), "RC-7");
  EXPECT_EQ(l6.recall_ids(1), "RC-9");
  // A recall listing other lots does not claim an empty view.
  v1::QualityLotState empty;
  Evolve(empty, Ev(Recalled("RC-7", "C-100:L6")));
  EXPECT_TRUE(empty.lot_id().empty());
  EXPECT_EQ(empty.recall_ids_size(), 0);
}

TEST(QualityEvolvePolicy, FollowsTheLotsProductOnly) {
  v1::QualityLotState state = Fold({kA17Created}).lots.at("09506000134352:A17");
  EvolvePolicy(state, Ev(kDeviceGated).product_defined().product());
  EXPECT_TRUE(state.require_released_components());
  EvolvePolicy(state, Ev(kDeviceUngated).product_defined().product());
  EXPECT_FALSE(state.require_released_components());
  v1::Product other = Ev(kDeviceGated).product_defined().product();
  other.set_item("09506000134369");
  EvolvePolicy(state, other);
  EXPECT_FALSE(state.require_released_components());
}

}  // namespace
}  // namespace lotledger::quality
