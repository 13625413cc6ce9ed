// Given/when/then tables for the lots rules: given prior events (folded
// with Evolve/EvolveProduct into projections, the way the service does),
// when a command (its decision state loaded from those projections), then
// the events Decide returns, or its error code and a part of the message.
#include "libs/domain/lots/decider.h"

#include <map>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "libs/common/ids.h"
#include "libs/domain/common/recall_standing.h"
#include "libs/domain/testing/decider_table.h"

namespace lotledger::lots {
namespace {

using domain::testing::CaseName;
using domain::testing::Ev;
using domain::testing::ExpectDecision;
using domain::testing::kInvalid;
using domain::testing::kRefused;
using domain::testing::Parse;
using google::protobuf::util::MessageDifferencer;
using Case = domain::testing::DecideCase<>;  // given: prior events

// ---- Given: reusable prior events -------------------------------------------

// A finished device whose lots may not outlive their components.
const char kDevice[] = R"pb(
  aggregate_id: "09506000134352"
  product_defined {
    product {
      item: "09506000134352"
      name: "Sterile catheter 12Fr"
      uom: "EA"
      kind: ITEM_KIND_FINISHED_DEVICE
      policy {
        shelf_life_days: 1095
        alert_thresholds_days: [ 180, 90, 30 ]
        min_remaining_days_to_ship: 90
        cap_expiry_by_components: true
      }
    }
  })pb";

// The same kind of device without the component cap.
const char kDeviceNoCap[] = R"pb(
  aggregate_id: "09506000134369"
  product_defined {
    product {
      item: "09506000134369"
      name: "Catheter kit"
      uom: "EA"
      kind: ITEM_KIND_FINISHED_DEVICE
      policy { shelf_life_days: 1095 }
    }
  })pb";

const char kComponent[] = R"pb(
  aggregate_id: "C-100"
  product_defined {
    product {
      item: "C-100"
      name: "Catheter tube"
      uom: "EA"
      kind: ITEM_KIND_COMPONENT
      policy { shelf_life_days: 730 }
    }
  })pb";

// No shelf life: every lot must come with its expiry.
const char kRawMaterial[] = R"pb(
  aggregate_id: "RM-7"
  product_defined {
    product {
      item: "RM-7"
      name: "Medical-grade PVC"
      uom: "G"
      kind: ITEM_KIND_RAW_MATERIAL
    }
  })pb";

// Component lot L5: 1000 EA, expires 2028-01-10.
const char kLotL5[] = R"pb(
  aggregate_id: "C-100:L5"
  lot_ids: "C-100:L5"
  actor: "planner.kim"
  occurred_at { seconds: 1768000000 }
  lot_created {
    lot_id: "C-100:L5"
    item: "C-100"
    lot_number: "L5"
    manufactured_on { year: 2026 month: 1 day: 10 }
    expires_on { year: 2028 month: 1 day: 10 }
    expiry_source: EXPIRY_SOURCE_SHELF_LIFE
    quantity { amount: 1000 uom: "EA" }
  })pb";

// Component lot L6: 500 EA, expires 2027-06-30 (earlier than L5).
const char kLotL6[] = R"pb(
  aggregate_id: "C-100:L6"
  lot_ids: "C-100:L6"
  lot_created {
    lot_id: "C-100:L6"
    item: "C-100"
    lot_number: "L6"
    manufactured_on { year: 2025 month: 6 day: 30 }
    expires_on { year: 2027 month: 6 day: 30 }
    expiry_source: EXPIRY_SOURCE_GIVEN
    quantity { amount: 500 uom: "EA" }
  })pb";

// Device lot A16 consumed 600 EA of L5.
const char kLotA16[] = R"pb(
  aggregate_id: "09506000134352:A16"
  lot_ids: [ "09506000134352:A16", "C-100:L5" ]
  lot_created {
    lot_id: "09506000134352:A16"
    item: "09506000134352"
    lot_number: "A16"
    manufactured_on { year: 2026 month: 2 day: 1 }
    expires_on { year: 2028 month: 1 day: 10 }
    expiry_source: EXPIRY_SOURCE_COMPONENT_CAP
    expiry_set_by_lot_id: "C-100:L5"
    quantity { amount: 600 uom: "EA" }
    inputs {
      lot_id: "C-100:L5"
      quantity { amount: 600 uom: "EA" }
    }
  })pb";

// Quality and recall facts about component lot L5, from the topics the lots
// service reads besides its own, on 2026-03-02.
std::string L5Disposition(const std::string& to, const std::string& reason) {
  return absl::StrCat(
      "aggregate_id: \"C-100:L5\" lot_ids: \"C-100:L5\" "
      "occurred_at { seconds: 1772442000 } "
      "disposition_changed { lot_id: \"C-100:L5\" to: ",
      to, " signature { signer: \"qa.li\" reason: \"", reason, "\" } }");
}
const std::string kL5Held =
    L5Disposition("DISPOSITION_ON_HOLD", "sterility retest");
const std::string kL5Released =
    L5Disposition("DISPOSITION_RELEASED", "retest passed");
const std::string kL5Rejected =
    L5Disposition("DISPOSITION_REJECTED", "seal failure confirmed");

// Recall RC-7 of L5 (and what is made from it), and its closure.
const char kL5Recalled[] = R"pb(
  aggregate_id: "RC-7"
  lot_ids: "C-100:L5"
  occurred_at { seconds: 1772442000 }
  recall_initiated {
    recall_id: "RC-7"
    part_count: 1
    reason: "resin contamination"
    criteria { lot_ids: "C-100:L5" include_derived: true }
    lots { lot_id: "C-100:L5" reason: SCOPE_REASON_LISTED }
  })pb";
const char kRc7Closed[] = R"pb(
  aggregate_id: "RC-7"
  lot_ids: "C-100:L5"
  recall_closed { recall_id: "RC-7" part_count: 1 summary: "all recovered" })pb";

// Recall RC-8 of L6, whose scope later grew to take in L5.
const char kL6Recalled[] = R"pb(
  aggregate_id: "RC-8"
  lot_ids: "C-100:L6"
  occurred_at { seconds: 1772442000 }
  recall_initiated {
    recall_id: "RC-8"
    part_count: 1
    reason: "wrong wall thickness"
    criteria { lot_ids: "C-100:L6" include_derived: true }
    lots { lot_id: "C-100:L6" reason: SCOPE_REASON_LISTED }
  })pb";
const char kRc8TakesInL5[] = R"pb(
  aggregate_id: "RC-8"
  lot_ids: "C-100:L5"
  recall_scope_extended {
    recall_id: "RC-8"
    reason: "wrong wall thickness"
    lots {
      lot_id: "C-100:L5"
      reason: SCOPE_REASON_DERIVED
      via_lot_id: "C-100:L6"
      depth: 1
    }
  })pb";

// ---- The projections and the decision state ---------------------------------

struct Projection {
  std::map<std::string, v1::Product> products;
  std::map<std::string, v1::Lot> lots;
  // From the quality and recall topics.
  std::map<std::string, v1::LotStanding> standing;
  std::map<std::string, v1::RecallStanding> recalls;
};

Projection Fold(const std::vector<std::string>& given) {
  Projection p;
  for (const std::string& text : given) {
    const v1::Event event = Ev(text);
    if (event.has_product_defined()) {
      EvolveProduct(p.products[event.product_defined().product().item()],
                    event);
      continue;
    }
    if (event.has_disposition_changed() || !domain::RecallIdOf(event).empty()) {
      if (const std::string id = domain::RecallIdOf(event); !id.empty()) {
        domain::EvolveRecallStanding(p.recalls[id], event);
      }
      for (const std::string& id : event.lot_ids()) {
        EvolveStanding(p.standing[id], id, event);
      }
      continue;
    }
    for (const std::string& id : event.lot_ids()) {
      v1::Lot& lot = p.lots[id];
      lot.set_lot_id(id);  // as the service does: fold into this lot
      Evolve(lot, event);
    }
  }
  return p;
}

// Loads what decider.h says the service loads for `cmd`.
v1::LotsDecisionState Load(const Projection& p, const v1::LotsCommand& cmd) {
  v1::LotsDecisionState state;
  auto product = [&](const std::string& item) {
    if (auto it = p.products.find(item); it != p.products.end()) {
      *state.mutable_product() = it->second;
    }
  };
  auto lot = [&](const std::string& id) -> const v1::Lot* {
    auto it = p.lots.find(id);
    return it == p.lots.end() || it->second.item().empty() ? nullptr
                                                           : &it->second;
  };
  if (cmd.has_define_product()) {
    const std::string& item = cmd.define_product().product().item();
    product(item);
    int64_t count = 0;
    for (const auto& [id, l] : p.lots) count += l.item() == item ? 1 : 0;
    state.set_product_lot_count(count);
  }
  if (cmd.has_create_lot()) {
    const v1::CreateLotRequest& req = cmd.create_lot();
    product(req.item());
    if (const v1::Lot* l = lot(MakeLotId(req.item(), req.lot_number()))) {
      *state.mutable_lot() = *l;
    }
    for (const v1::LotInput& in : req.inputs()) {
      if (const v1::Lot* l = lot(in.lot_id())) {
        (*state.mutable_inputs())[in.lot_id()] = *l;
      }
      auto s = p.standing.find(in.lot_id());
      if (s == p.standing.end()) continue;
      (*state.mutable_input_standing())[in.lot_id()] = s->second;
      for (const std::string& r : s->second.recall_ids()) {
        if (auto it = p.recalls.find(r); it != p.recalls.end()) {
          (*state.mutable_recalls())[r] = it->second;
        }
      }
    }
  }
  if (cmd.has_correct_lot()) {
    if (const v1::Lot* l = lot(cmd.correct_lot().lot_id())) {
      *state.mutable_lot() = *l;
      product(l->item());
      for (const v1::LotInput& in : l->inputs()) {
        if (const v1::Lot* input = lot(in.lot_id())) {
          (*state.mutable_inputs())[in.lot_id()] = *input;
        }
      }
    }
  }
  return state;
}

// ---- The table ------------------------------------------------------------

class LotsDecide : public testing::TestWithParam<Case> {};

TEST_P(LotsDecide, GivenWhenThen) {
  const Case& c = GetParam();
  const v1::LotsCommand cmd = Parse<v1::LotsCommand>(c.when);
  ExpectDecision(c, Decide(Load(Fold(c.given), cmd), cmd));
}

// C-100 with `uom` and `kind`, named "Catheter tube, 12Fr": the command,
// and the event it gives.
std::string ComponentProduct(const std::string& uom, const std::string& kind) {
  return absl::StrCat(
      "product { item: \"C-100\" name: \"Catheter tube, 12Fr\" uom: \"", uom,
      "\" kind: ", kind, " policy { shelf_life_days: 365 } }");
}
std::string DefineComponent(const std::string& uom, const std::string& kind) {
  return absl::StrCat("define_product { ", ComponentProduct(uom, kind), " }");
}
std::string ComponentDefined(const std::string& uom, const std::string& kind) {
  return absl::StrCat("aggregate_id: \"C-100\" product_defined { ",
                      ComponentProduct(uom, kind), " }");
}

std::vector<Case> DefineProductCases() {
  return {
      // Product master: lots are counted in the product's unit and made as
      // its kind; with lots, neither changes.
      {"UnitOfProductWithLotsCannotChange",
       {kComponent, kLotL5, kLotL6},
       DefineComponent("M", "ITEM_KIND_COMPONENT"),
       {},
       kRefused,
       "product C-100 has 2 lots; its unit cannot change (unit EA, this "
       "definition says M); define a new product for the new unit"},
      {"KindOfProductWithLotsCannotChange",
       {kComponent, kLotL5},
       DefineComponent("EA", "ITEM_KIND_RAW_MATERIAL"),
       {},
       kRefused,
       "product C-100 has 1 lot; its kind cannot change (kind component, "
       "this definition says raw material)"},
      {"UnitAndKindOfProductWithLotsCannotChange",
       {kComponent, kLotL5, kLotL6},
       DefineComponent("KG", "ITEM_KIND_RAW_MATERIAL"),
       {},
       kRefused,
       "product C-100 has 2 lots; its unit and kind cannot change (unit EA, "
       "this definition says KG; kind component, this definition says raw "
       "material)"},
      {"UnitOfProductWithoutLotsMayChange",
       {kComponent},
       DefineComponent("M", "ITEM_KIND_RAW_MATERIAL"),
       {ComponentDefined("M", "ITEM_KIND_RAW_MATERIAL")}},
      {"OtherAttributesOfProductWithLotsMayChange",
       {kComponent, kLotL5, kLotL6},
       DefineComponent("EA", "ITEM_KIND_COMPONENT"),
       {ComponentDefined("EA", "ITEM_KIND_COMPONENT")}},
      {"DefineDeviceSortsThresholdsDescending",
       {},
       R"pb(
         define_product {
           product {
             item: "09506000134352"
             name: "Sterile catheter 12Fr"
             uom: "EA"
             kind: ITEM_KIND_FINISHED_DEVICE
             policy {
               shelf_life_days: 1095
               alert_thresholds_days: [ 30, 180, 90 ]
               min_remaining_days_to_ship: 90
               cap_expiry_by_components: true
             }
           }
         })pb",
       {kDevice}},
      {"RedefineIdenticalIsNoOp",
       {kDevice},
       R"pb(
         define_product {
           product {
             item: "09506000134352"
             name: "Sterile catheter 12Fr"
             uom: "EA"
             kind: ITEM_KIND_FINISHED_DEVICE
             policy {
               shelf_life_days: 1095
               alert_thresholds_days: [ 90, 30, 180 ]
               min_remaining_days_to_ship: 90
               cap_expiry_by_components: true
             }
           }
         })pb",
       {}},
      {"RedefineWithNewNameReplaces",
       {kComponent},
       R"pb(
         define_product {
           product {
             item: "C-100"
             name: "Catheter tube, 12Fr"
             uom: "EA"
             kind: ITEM_KIND_COMPONENT
             policy { shelf_life_days: 730 }
           }
         })pb",
       {R"pb(aggregate_id: "C-100"
             product_defined {
               product {
                 item: "C-100"
                 name: "Catheter tube, 12Fr"
                 uom: "EA"
                 kind: ITEM_KIND_COMPONENT
                 policy { shelf_life_days: 730 }
               }
             })pb"}},
      {"ComponentMayUseGtin",
       {},
       R"pb(
         define_product {
           product {
             item: "04000000000013"
             name: "Luer lock"
             uom: "EA"
             kind: ITEM_KIND_COMPONENT
           }
         })pb",
       {R"pb(aggregate_id: "04000000000013"
             product_defined {
               product {
                 item: "04000000000013"
                 name: "Luer lock"
                 uom: "EA"
                 kind: ITEM_KIND_COMPONENT
               }
             })pb"}},
      {"DeviceNeedsGtinCheckDigit",
       {},
       R"pb(
         define_product {
           product {
             item: "09506000134353"
             name: "X"
             uom: "EA"
             kind: ITEM_KIND_FINISHED_DEVICE
           }
         })pb",
       {},
       kInvalid,
       "define_product.product.item: \"09506000134353\" is not a valid "
       "GTIN-14 (its check digit is 3, expected 2)"},
      {"DeviceNeedsGtinNotItemCode",
       {},
       R"pb(
         define_product {
           product {
             item: "CATH-12"
             name: "X"
             uom: "EA"
             kind: ITEM_KIND_FINISHED_DEVICE
           }
         })pb",
       {},
       kInvalid,
       "not 14 digits"},
      {"ItemCodeCharset",
       {},
       R"pb(
         define_product {
           product {
             item: "C 100"
             name: "X"
             uom: "EA"
             kind: ITEM_KIND_COMPONENT
           }
         })pb",
       {},
       kInvalid,
       "define_product.product.item: \"C 100\" is not an item code"},
      {"ItemCodeAtMost40",
       {},
       R"pb(
         define_product {
           product {
             item: "C1234567890123456789012345678901234567890"
             name: "X"
             uom: "EA"
             kind: ITEM_KIND_COMPONENT
           }
         })pb",
       {},
       kInvalid,
       "1-40 characters"},
      {"NameRequired",
       {},
       R"pb(
         define_product {
           product { item: "C-100" uom: "EA" kind: ITEM_KIND_COMPONENT }
         })pb",
       {},
       kInvalid,
       "define_product.product.name: required"},
      {"UomRequired",
       {},
       R"pb(
         define_product {
           product { item: "C-100" name: "X" kind: ITEM_KIND_COMPONENT }
         })pb",
       {},
       kInvalid,
       "define_product.product.uom: required"},
      {"KindRequired",
       {},
       R"pb(
         define_product { product { item: "C-100" name: "X" uom: "EA" } })pb",
       {},
       kInvalid,
       "define_product.product.kind: required"},
      {"ProductRequired",
       {},
       R"pb(define_product {})pb",
       {},
       kInvalid,
       "define_product.product: required"},
      {"ShelfLifeNotNegative",
       {},
       R"pb(
         define_product {
           product {
             item: "C-100"
             name: "X"
             uom: "EA"
             kind: ITEM_KIND_COMPONENT
             policy { shelf_life_days: -1 }
           }
         })pb",
       {},
       kInvalid,
       "product.policy.shelf_life_days: must be 0 or more"},
      {"ThresholdsPositive",
       {},
       R"pb(
         define_product {
           product {
             item: "C-100"
             name: "X"
             uom: "EA"
             kind: ITEM_KIND_COMPONENT
             policy { alert_thresholds_days: [ 90, 0 ] }
           }
         })pb",
       {},
       kInvalid,
       "alert_thresholds_days: must be positive, got 0"},
      {"ThresholdsDistinct",
       {},
       R"pb(
         define_product {
           product {
             item: "C-100"
             name: "X"
             uom: "EA"
             kind: ITEM_KIND_COMPONENT
             policy { alert_thresholds_days: [ 90, 30, 90 ] }
           }
         })pb",
       {},
       kInvalid,
       "alert_thresholds_days: 90 is listed twice"},
      {"MinRemainingNotNegative",
       {},
       R"pb(
         define_product {
           product {
             item: "C-100"
             name: "X"
             uom: "EA"
             kind: ITEM_KIND_COMPONENT
             policy { min_remaining_days_to_ship: -5 }
           }
         })pb",
       {},
       kInvalid,
       "min_remaining_days_to_ship: must be 0 or more"},
  };
}

// Device lot A17 from 400 EA of L5.
const char kCreateA17FromL5[] = R"pb(
  create_lot {
    item: "09506000134352"
    lot_number: "A17"
    manufactured_on { year: 2026 month: 3 day: 1 }
    quantity { amount: 400 uom: "EA" }
    inputs {
      lot_id: "C-100:L5"
      quantity { amount: 400 uom: "EA" }
    }
  })pb";

const char kA17FromL5Created[] = R"pb(
  aggregate_id: "09506000134352:A17"
  lot_ids: [ "09506000134352:A17", "C-100:L5" ]
  lot_created {
    lot_id: "09506000134352:A17"
    item: "09506000134352"
    lot_number: "A17"
    manufactured_on { year: 2026 month: 3 day: 1 }
    expires_on { year: 2028 month: 1 day: 10 }
    expiry_source: EXPIRY_SOURCE_COMPONENT_CAP
    expiry_set_by_lot_id: "C-100:L5"
    quantity { amount: 400 uom: "EA" }
    inputs {
      lot_id: "C-100:L5"
      quantity { amount: 400 uom: "EA" }
    }
  })pb";

// Genealogy forward in time: what quality holds, rejects or a recall
// covers is never made into a new lot.
std::vector<Case> ConsumableCases() {
  return {
      {"HeldComponentCannotBeConsumed",
       {kDevice, kComponent, kLotL5, kL5Held},
       kCreateA17FromL5,
       {},
       kRefused,
       "component lot C-100:L5 is on hold since 2026-03-02 by qa.li: "
       "sterility retest; lot 09506000134352:A17 cannot consume it"},
      {"RejectedComponentCannotBeConsumed",
       {kDevice, kComponent, kLotL5, kL5Held, kL5Rejected},
       kCreateA17FromL5,
       {},
       kRefused,
       "component lot C-100:L5 was rejected on 2026-03-02 by qa.li: seal "
       "failure confirmed; lot 09506000134352:A17 cannot consume it"},
      {"RecalledComponentCannotBeConsumed",
       {kDevice, kComponent, kLotL5, kL5Released, kL5Recalled},
       kCreateA17FromL5,
       {},
       kRefused,
       "component lot C-100:L5 is under recall RC-7 since 2026-03-02: resin "
       "contamination; lot 09506000134352:A17 cannot consume it"},
      // The recall's scope grew to take in L5 after it was initiated.
      {"ComponentAddedToRecallScopeCannotBeConsumed",
       {kDevice, kComponent, kLotL5, kLotL6, kL6Recalled, kRc8TakesInL5},
       kCreateA17FromL5,
       {},
       kRefused,
       "component lot C-100:L5 is under recall RC-8 since 2026-03-02: wrong "
       "wall thickness; lot 09506000134352:A17 cannot consume it"},
      {"ComponentOfClosedRecallCanBeConsumed",
       {kDevice, kComponent, kLotL5, kL5Recalled, kRc7Closed},
       kCreateA17FromL5,
       {kA17FromL5Created}},
      {"ComponentReleasedAfterHoldCanBeConsumed",
       {kDevice, kComponent, kLotL5, kL5Held, kL5Released},
       kCreateA17FromL5,
       {kA17FromL5Created}},
      // A retried creation is answered, whatever happened to its inputs.
      {"RepeatedCreationAfterComponentHeldIsNoOp",
       {kDevice, kComponent, kLotL5, kA17FromL5Created, kL5Held},
       kCreateA17FromL5,
       {}},
  };
}

std::vector<Case> CreateLotCases() {
  return {
      {"ExpiryComputedFromShelfLife",
       {kComponent},
       R"pb(
         create_lot {
           item: "C-100"
           lot_number: "L7"
           site: "Galway"
           manufactured_on { year: 2026 month: 1 day: 10 }
           quantity { amount: 250 uom: "EA" }
           occurred_at { seconds: 1768040000 }
         })pb",
       {R"pb(aggregate_id: "C-100:L7"
             lot_ids: "C-100:L7"
             occurred_at { seconds: 1768040000 }
             lot_created {
               lot_id: "C-100:L7"
               item: "C-100"
               lot_number: "L7"
               site: "Galway"
               manufactured_on { year: 2026 month: 1 day: 10 }
               expires_on { year: 2028 month: 1 day: 10 }
               expiry_source: EXPIRY_SOURCE_SHELF_LIFE
               quantity { amount: 250 uom: "EA" }
             })pb"}},
      {"ExpiryGiven",
       {kComponent},
       R"pb(
         create_lot {
           item: "C-100"
           lot_number: "L8"
           manufactured_on { year: 2026 month: 1 day: 10 }
           expires_on { year: 2027 month: 1 day: 10 }
           quantity { amount: 250 uom: "EA" }
         })pb",
       {R"pb(aggregate_id: "C-100:L8"
             lot_ids: "C-100:L8"
             lot_created {
               lot_id: "C-100:L8"
               item: "C-100"
               lot_number: "L8"
               manufactured_on { year: 2026 month: 1 day: 10 }
               expires_on { year: 2027 month: 1 day: 10 }
               expiry_source: EXPIRY_SOURCE_GIVEN
               quantity { amount: 250 uom: "EA" }
             })pb"}},
      {"ComputedExpiryCappedByEarliestComponent",
       {kDevice, kComponent, kLotL5, kLotL6},
       R"pb(
         create_lot {
           item: "09506000134352"
           lot_number: "A17"
           manufactured_on { year: 2026 month: 3 day: 1 }
           quantity { amount: 400 uom: "EA" }
           inputs {
             lot_id: "C-100:L5"
             quantity { amount: 400 uom: "EA" }
           }
           inputs {
             lot_id: "C-100:L6"
             quantity { amount: 100 uom: "EA" }
           }
         })pb",
       {R"pb(aggregate_id: "09506000134352:A17"
             lot_ids: [ "09506000134352:A17", "C-100:L5", "C-100:L6" ]
             lot_created {
               lot_id: "09506000134352:A17"
               item: "09506000134352"
               lot_number: "A17"
               manufactured_on { year: 2026 month: 3 day: 1 }
               expires_on { year: 2027 month: 6 day: 30 }
               expiry_source: EXPIRY_SOURCE_COMPONENT_CAP
               expiry_set_by_lot_id: "C-100:L6"
               quantity { amount: 400 uom: "EA" }
               inputs {
                 lot_id: "C-100:L5"
                 quantity { amount: 400 uom: "EA" }
               }
               inputs {
                 lot_id: "C-100:L6"
                 quantity { amount: 100 uom: "EA" }
               }
             })pb"}},
      {"NoCapPolicyKeepsShelfLifeExpiry",
       {kDeviceNoCap, kComponent, kLotL6},
       R"pb(
         create_lot {
           item: "09506000134369"
           lot_number: "K1"
           manufactured_on { year: 2026 month: 3 day: 1 }
           quantity { amount: 10 uom: "EA" }
           inputs {
             lot_id: "C-100:L6"
             quantity { amount: 10 uom: "EA" }
           }
         })pb",
       {R"pb(aggregate_id: "09506000134369:K1"
             lot_ids: [ "09506000134369:K1", "C-100:L6" ]
             lot_created {
               lot_id: "09506000134369:K1"
               item: "09506000134369"
               lot_number: "K1"
               manufactured_on { year: 2026 month: 3 day: 1 }
               expires_on { year: 2029 month: 2 day: 28 }
               expiry_source: EXPIRY_SOURCE_SHELF_LIFE
               quantity { amount: 10 uom: "EA" }
               inputs {
                 lot_id: "C-100:L6"
                 quantity { amount: 10 uom: "EA" }
               }
             })pb"}},
      {"GivenExpiryBeyondComponentRefused",
       {kDevice, kComponent, kLotL5, kLotL6},
       R"pb(
         create_lot {
           item: "09506000134352"
           lot_number: "A17"
           manufactured_on { year: 2026 month: 3 day: 1 }
           expires_on { year: 2028 month: 3 day: 1 }
           quantity { amount: 400 uom: "EA" }
           inputs {
             lot_id: "C-100:L6"
             quantity { amount: 100 uom: "EA" }
           }
         })pb",
       {},
       kRefused,
       "lot 09506000134352:A17 cannot expire on 2028-03-01: component lot "
       "C-100:L6 expires on 2027-06-30"},
      {"CappedExpiryNotAfterManufactureRefused",
       {kDevice, kComponent, kLotL6},
       R"pb(
         create_lot {
           item: "09506000134352"
           lot_number: "A18"
           manufactured_on { year: 2027 month: 7 day: 1 }
           quantity { amount: 1 uom: "EA" }
           inputs {
             lot_id: "C-100:L6"
             quantity { amount: 1 uom: "EA" }
           }
         })pb",
       {},
       kRefused,
       "would expire on 2027-06-30"},
      {"OverConsumptionAcrossTwoParentsRefused",
       {kDevice, kComponent, kLotL5, kLotA16},
       R"pb(
         create_lot {
           item: "09506000134352"
           lot_number: "A17"
           manufactured_on { year: 2026 month: 3 day: 1 }
           quantity { amount: 600 uom: "EA" }
           inputs {
             lot_id: "C-100:L5"
             quantity { amount: 600 uom: "EA" }
           }
         })pb",
       {},
       kRefused,
       "lot 09506000134352:A17 cannot consume 600 EA of component lot "
       "C-100:L5: only 400 EA of its 1000 EA remain"},
      {"ConsumeExactlyWhatRemains",
       {kDevice, kComponent, kLotL5, kLotA16},
       R"pb(
         create_lot {
           item: "09506000134352"
           lot_number: "A17"
           manufactured_on { year: 2026 month: 3 day: 1 }
           expires_on { year: 2027 month: 3 day: 1 }
           quantity { amount: 400 uom: "EA" }
           inputs {
             lot_id: "C-100:L5"
             quantity { amount: 400 uom: "EA" }
           }
         })pb",
       {R"pb(aggregate_id: "09506000134352:A17"
             lot_ids: [ "09506000134352:A17", "C-100:L5" ]
             lot_created {
               lot_id: "09506000134352:A17"
               item: "09506000134352"
               lot_number: "A17"
               manufactured_on { year: 2026 month: 3 day: 1 }
               expires_on { year: 2027 month: 3 day: 1 }
               expiry_source: EXPIRY_SOURCE_GIVEN
               quantity { amount: 400 uom: "EA" }
               inputs {
                 lot_id: "C-100:L5"
                 quantity { amount: 400 uom: "EA" }
               }
             })pb"}},
      {"UnknownComponentRefused",
       {kDevice, kComponent, kLotL5},
       R"pb(
         create_lot {
           item: "09506000134352"
           lot_number: "A17"
           manufactured_on { year: 2026 month: 3 day: 1 }
           quantity { amount: 1 uom: "EA" }
           inputs {
             lot_id: "C-100:L9"
             quantity { amount: 1 uom: "EA" }
           }
         })pb",
       {},
       kRefused,
       "component lot C-100:L9 does not exist"},
      {"DuplicateInputRefused",
       {kDevice, kComponent, kLotL5},
       R"pb(
         create_lot {
           item: "09506000134352"
           lot_number: "A17"
           manufactured_on { year: 2026 month: 3 day: 1 }
           quantity { amount: 2 uom: "EA" }
           inputs {
             lot_id: "C-100:L5"
             quantity { amount: 1 uom: "EA" }
           }
           inputs {
             lot_id: "C-100:L5"
             quantity { amount: 1 uom: "EA" }
           }
         })pb",
       {},
       kInvalid,
       "create_lot.inputs[1].lot_id: component lot C-100:L5 is listed twice"},
      {"SelfInputRefused",
       {kComponent, kLotL5},
       R"pb(
         create_lot {
           item: "C-100"
           lot_number: "L7"
           manufactured_on { year: 2026 month: 3 day: 1 }
           quantity { amount: 2 uom: "EA" }
           inputs {
             lot_id: "C-100:L7"
             quantity { amount: 1 uom: "EA" }
           }
         })pb",
       {},
       kInvalid,
       "lot C-100:L7 cannot consume itself"},
      {"InputQuantityPositive",
       {kDevice, kComponent, kLotL5},
       R"pb(
         create_lot {
           item: "09506000134352"
           lot_number: "A17"
           manufactured_on { year: 2026 month: 3 day: 1 }
           quantity { amount: 2 uom: "EA" }
           inputs {
             lot_id: "C-100:L5"
             quantity { amount: 0 uom: "EA" }
           }
         })pb",
       {},
       kInvalid,
       "create_lot.inputs[0].quantity.amount: must be positive"},
      {"InputInOtherUomRefused",
       {kDevice, kComponent, kLotL5},
       R"pb(
         create_lot {
           item: "09506000134352"
           lot_number: "A17"
           manufactured_on { year: 2026 month: 3 day: 1 }
           quantity { amount: 2 uom: "EA" }
           inputs {
             lot_id: "C-100:L5"
             quantity { amount: 1 uom: "BOX" }
           }
         })pb",
       {},
       kRefused,
       "that lot is counted in EA"},
      {"LotUomMustMatchProduct",
       {kComponent},
       R"pb(
         create_lot {
           item: "C-100"
           lot_number: "L7"
           manufactured_on { year: 2026 month: 3 day: 1 }
           quantity { amount: 2 uom: "BOX" }
         })pb",
       {},
       kRefused,
       "lot C-100:L7 is counted in BOX but item C-100 is counted in EA"},
      {"LotNumberTooLong",
       {kComponent},
       R"pb(
         create_lot {
           item: "C-100"
           lot_number: "ABCDEFGHIJKLMNOPQRSTU"
           manufactured_on { year: 2026 month: 3 day: 1 }
           quantity { amount: 2 uom: "EA" }
         })pb",
       {},
       kInvalid,
       "create_lot.lot_number: 21 characters, at most 20"},
      {"LotNumberOutsideCset82",
       {kComponent},
       R"pb(
         create_lot {
           item: "C-100"
           lot_number: "A#17"
           manufactured_on { year: 2026 month: 3 day: 1 }
           quantity { amount: 2 uom: "EA" }
         })pb",
       {},
       kInvalid,
       "create_lot.lot_number: character '#' at position 2"},
      {"LotNumberRequired",
       {kComponent},
       R"pb(
         create_lot {
           item: "C-100"
           manufactured_on { year: 2026 month: 3 day: 1 }
           quantity { amount: 2 uom: "EA" }
         })pb",
       {},
       kInvalid,
       "create_lot.lot_number: required"},
      {"ManufactureDateRequired",
       {kComponent},
       R"pb(
         create_lot {
           item: "C-100"
           lot_number: "L7"
           quantity { amount: 2 uom: "EA" }
         })pb",
       {},
       kInvalid,
       "create_lot.manufactured_on: required"},
      {"ManufactureDateMustBeReal",
       {kComponent},
       R"pb(
         create_lot {
           item: "C-100"
           lot_number: "L7"
           manufactured_on { year: 2026 month: 2 day: 30 }
           quantity { amount: 2 uom: "EA" }
         })pb",
       {},
       kInvalid,
       "create_lot.manufactured_on: 2026-02-30 is not a calendar date"},
      {"ExpiryMustFollowManufacture",
       {kComponent},
       R"pb(
         create_lot {
           item: "C-100"
           lot_number: "L7"
           manufactured_on { year: 2026 month: 3 day: 1 }
           expires_on { year: 2026 month: 3 day: 1 }
           quantity { amount: 2 uom: "EA" }
         })pb",
       {},
       kInvalid,
       "create_lot.expires_on: 2026-03-01 is not after the manufacture date"},
      {"QuantityPositive",
       {kComponent},
       R"pb(
         create_lot {
           item: "C-100"
           lot_number: "L7"
           manufactured_on { year: 2026 month: 3 day: 1 }
           quantity { amount: 0 uom: "EA" }
         })pb",
       {},
       kInvalid,
       "create_lot.quantity.amount: must be positive, got 0"},
      {"UnknownProductRefused",
       {},
       R"pb(
         create_lot {
           item: "C-404"
           lot_number: "L1"
           manufactured_on { year: 2026 month: 3 day: 1 }
           quantity { amount: 2 uom: "EA" }
         })pb",
       {},
       kRefused,
       "item C-404 is not defined"},
      {"NoShelfLifeNeedsGivenExpiry",
       {kRawMaterial},
       R"pb(
         create_lot {
           item: "RM-7"
           lot_number: "P-2026-01"
           manufactured_on { year: 2026 month: 1 day: 5 }
           quantity { amount: 25000 uom: "G" }
         })pb",
       {},
       kRefused,
       "item RM-7 has no shelf life: lot RM-7:P-2026-01 needs an expiry date"},
      {"RawMaterialWithSupplier",
       {kRawMaterial},
       R"pb(
         create_lot {
           item: "RM-7"
           lot_number: "P-2026-01"
           manufactured_on { year: 2026 month: 1 day: 5 }
           expires_on { year: 2029 month: 1 day: 5 }
           quantity { amount: 25000 uom: "G" }
           supplier: "Polymed GmbH"
           supplier_lot: "PM 88/12"
         })pb",
       {R"pb(aggregate_id: "RM-7:P-2026-01"
             lot_ids: "RM-7:P-2026-01"
             lot_created {
               lot_id: "RM-7:P-2026-01"
               item: "RM-7"
               lot_number: "P-2026-01"
               manufactured_on { year: 2026 month: 1 day: 5 }
               expires_on { year: 2029 month: 1 day: 5 }
               expiry_source: EXPIRY_SOURCE_GIVEN
               quantity { amount: 25000 uom: "G" }
               supplier: "Polymed GmbH"
               supplier_lot: "PM 88/12"
             })pb"}},
      {"RepeatOfExistingLotIsNoOp",
       {kComponent, kLotL5},
       R"pb(
         create_lot {
           item: "C-100"
           lot_number: "L5"
           manufactured_on { year: 2026 month: 1 day: 10 }
           quantity { amount: 1000 uom: "EA" }
         })pb",
       {}},
      {"ExistingLotWithOtherContentRefused",
       {kComponent, kLotL5},
       R"pb(
         create_lot {
           item: "C-100"
           lot_number: "L5"
           manufactured_on { year: 2026 month: 1 day: 10 }
           quantity { amount: 900 uom: "EA" }
         })pb",
       {},
       kRefused,
       "lot C-100:L5 already exists with a different quantity (1000, this "
       "request says 900)"},
  };
}

// A correction of L5's expiry, recorded by qa.li.
const char kL5ExpiryCorrected[] = R"pb(
  aggregate_id: "C-100:L5"
  lot_ids: "C-100:L5"
  actor: "qa.li"
  recorded_at { seconds: 1769000000 }
  lot_corrected {
    lot_id: "C-100:L5"
    field: "expires_on"
    old_value: "2028-01-10"
    new_value: "2027-12-31"
    reason: "label misprint"
  })pb";

std::vector<Case> CorrectLotCases() {
  return {
      {"CorrectExpiry",
       {kComponent, kLotL5},
       R"pb(
         correct_lot {
           lot_id: "C-100:L5"
           field: "expires_on"
           new_value: "2027-12-31"
           reason: "label misprint"
         })pb",
       {R"pb(aggregate_id: "C-100:L5"
             lot_ids: "C-100:L5"
             lot_corrected {
               lot_id: "C-100:L5"
               field: "expires_on"
               old_value: "2028-01-10"
               new_value: "2027-12-31"
               reason: "label misprint"
             })pb"}},
      {"CorrectToCurrentValueIsNoOp",
       {kComponent, kLotL5, kL5ExpiryCorrected},
       R"pb(
         correct_lot {
           lot_id: "C-100:L5"
           field: "expires_on"
           new_value: "2027-12-31"
           reason: "label misprint"
         })pb",
       {}},
      {"RepeatOfCreationAfterCorrectionIsNoOp",
       {kComponent, kLotL5, kL5ExpiryCorrected},
       R"pb(
         create_lot {
           item: "C-100"
           lot_number: "L5"
           manufactured_on { year: 2026 month: 1 day: 10 }
           expires_on { year: 2028 month: 1 day: 10 }
           quantity { amount: 1000 uom: "EA" }
         })pb",
       {}},
      {"CorrectQuantityAboveConsumed",
       {kDevice, kComponent, kLotL5, kLotA16},
       R"pb(
         correct_lot {
           lot_id: "C-100:L5"
           field: "quantity"
           new_value: "600"
           reason: "recount"
         })pb",
       {R"pb(aggregate_id: "C-100:L5"
             lot_ids: "C-100:L5"
             lot_corrected {
               lot_id: "C-100:L5"
               field: "quantity"
               old_value: "1000"
               new_value: "600"
               reason: "recount"
             })pb"}},
      {"QuantityBelowConsumedRefused",
       {kDevice, kComponent, kLotL5, kLotA16},
       R"pb(
         correct_lot {
           lot_id: "C-100:L5"
           field: "quantity"
           new_value: "599"
           reason: "recount"
         })pb",
       {},
       kRefused,
       "lot C-100:L5 cannot be corrected to 599 EA: 600 EA of it were "
       "already consumed by other lots"},
      {"QuantityMustBeWholeNumber",
       {kComponent, kLotL5},
       R"pb(
         correct_lot {
           lot_id: "C-100:L5"
           field: "quantity"
           new_value: "12.5"
           reason: "recount"
         })pb",
       {},
       kInvalid,
       "correct_lot.new_value: \"12.5\" is not a whole number"},
      {"CorrectSite",
       {kComponent, kLotL5},
       R"pb(
         correct_lot {
           lot_id: "C-100:L5"
           field: "site"
           new_value: "Cork"
           reason: "entered at the wrong site"
         })pb",
       {R"pb(aggregate_id: "C-100:L5"
             lot_ids: "C-100:L5"
             lot_corrected {
               lot_id: "C-100:L5"
               field: "site"
               old_value: ""
               new_value: "Cork"
               reason: "entered at the wrong site"
             })pb"}},
      {"ExpiryBeforeManufactureRefused",
       {kComponent, kLotL5},
       R"pb(
         correct_lot {
           lot_id: "C-100:L5"
           field: "expires_on"
           new_value: "2026-01-10"
           reason: "typo"
         })pb",
       {},
       kRefused,
       "lot C-100:L5 cannot expire on 2026-01-10: it was manufactured on "
       "2026-01-10"},
      {"ManufactureAfterExpiryRefused",
       {kComponent, kLotL5},
       R"pb(
         correct_lot {
           lot_id: "C-100:L5"
           field: "manufactured_on"
           new_value: "2028-02-01"
           reason: "typo"
         })pb",
       {},
       kRefused,
       "it expires on 2028-01-10"},
      {"ExpiryBeyondComponentRefused",
       {kDevice, kComponent, kLotL5, kLotA16},
       R"pb(
         correct_lot {
           lot_id: "09506000134352:A16"
           field: "expires_on"
           new_value: "2028-06-30"
           reason: "typo"
         })pb",
       {},
       kRefused,
       "component lot C-100:L5 expires on 2028-01-10"},
      {"DateMustBeIso",
       {kComponent, kLotL5},
       R"pb(
         correct_lot {
           lot_id: "C-100:L5"
           field: "expires_on"
           new_value: "31.12.2027"
           reason: "typo"
         })pb",
       {},
       kInvalid,
       "correct_lot.new_value: \"31.12.2027\" is not a date"},
      {"UnknownFieldRefused",
       {kComponent, kLotL5},
       R"pb(
         correct_lot {
           lot_id: "C-100:L5"
           field: "item"
           new_value: "C-200"
           reason: "x"
         })pb",
       {},
       kInvalid,
       "correct_lot.field: \"item\" cannot be corrected"},
      {"ReasonRequired",
       {kComponent, kLotL5},
       R"pb(
         correct_lot {
           lot_id: "C-100:L5"
           field: "site"
           new_value: "Cork"
           reason: " "
         })pb",
       {},
       kInvalid,
       "correct_lot.reason: required"},
      {"UnknownLotRefused",
       {kComponent},
       R"pb(
         correct_lot {
           lot_id: "C-100:L9"
           field: "site"
           new_value: "Cork"
           reason: "x"
         })pb",
       {},
       kRefused,
       "lot C-100:L9 does not exist"},
  };
}

INSTANTIATE_TEST_SUITE_P(DefineProduct, LotsDecide,
                         testing::ValuesIn(DefineProductCases()), CaseName());
INSTANTIATE_TEST_SUITE_P(Consumable, LotsDecide,
                         testing::ValuesIn(ConsumableCases()), CaseName());
INSTANTIATE_TEST_SUITE_P(CreateLot, LotsDecide,
                         testing::ValuesIn(CreateLotCases()), CaseName());
INSTANTIATE_TEST_SUITE_P(CorrectLot, LotsDecide,
                         testing::ValuesIn(CorrectLotCases()), CaseName());

TEST(LotsDecide, NoCommandIsInvalid) {
  domain::testing::ExpectRefused(
      Decide({}, {}).status(), kInvalid,
      "command: required: define_product, create_lot, correct_lot or "
      "assign_serials");
}

// ---- Evolve: the read model -------------------------------------------------

TEST(LotsEvolve, ConsumptionAccumulatesAcrossParents) {
  const char kA17[] = R"pb(
    aggregate_id: "09506000134352:A17"
    lot_ids: [ "09506000134352:A17", "C-100:L5" ]
    lot_created {
      lot_id: "09506000134352:A17"
      item: "09506000134352"
      lot_number: "A17"
      quantity { amount: 300 uom: "EA" }
      inputs {
        lot_id: "C-100:L5"
        quantity { amount: 300 uom: "EA" }
      }
    })pb";
  const Projection p = Fold({kComponent, kLotL5, kLotA16, kA17});
  const v1::Lot& l5 = p.lots.at("C-100:L5");
  EXPECT_EQ(l5.consumed().amount(), 900);
  EXPECT_EQ(l5.consumed().uom(), "EA");
  EXPECT_EQ(l5.quantity().amount(), 1000);
  ASSERT_EQ(l5.used_in_size(), 2);
  EXPECT_EQ(l5.used_in(0), "09506000134352:A16");
  EXPECT_EQ(l5.used_in(1), "09506000134352:A17");
  // The parent is the lot itself, with its genealogy.
  const v1::Lot& a17 = p.lots.at("09506000134352:A17");
  EXPECT_EQ(a17.item(), "09506000134352");
  ASSERT_EQ(a17.inputs_size(), 1);
  EXPECT_EQ(a17.consumed().amount(), 0);
}

TEST(LotsEvolve, RedeliveredParentIsCountedOnce) {
  const Projection p = Fold({kLotL5, kLotA16, kLotA16});
  EXPECT_EQ(p.lots.at("C-100:L5").consumed().amount(), 600);
}

TEST(LotsEvolve, ParentSeenBeforeInputKeepsConsumption) {
  // Parent and input live on different partitions: a projector may see the
  // parent first.
  const Projection p = Fold({kLotA16, kLotL5});
  const v1::Lot& l5 = p.lots.at("C-100:L5");
  EXPECT_EQ(l5.item(), "C-100");
  EXPECT_EQ(l5.consumed().amount(), 600);
  EXPECT_EQ(l5.used_in_size(), 1);
}

TEST(LotsEvolve, CreatedLotRecordsWhoAndWhen) {
  const Projection p = Fold({kLotL5});
  const v1::Lot& l5 = p.lots.at("C-100:L5");
  EXPECT_EQ(l5.created_by(), "planner.kim");
  EXPECT_EQ(l5.created_at().seconds(), 1768000000);
  EXPECT_EQ(l5.expiry_source(), v1::EXPIRY_SOURCE_SHELF_LIFE);
}

TEST(LotsEvolve, CorrectionsAppliedAndHistoryKept) {
  const char kQuantityCorrected[] = R"pb(
    aggregate_id: "C-100:L5"
    lot_ids: "C-100:L5"
    actor: "wh.ortiz"
    recorded_at { seconds: 1769500000 }
    lot_corrected {
      lot_id: "C-100:L5"
      field: "quantity"
      old_value: "1000"
      new_value: "980"
      reason: "recount"
    })pb";
  const Projection p = Fold({kLotL5, kL5ExpiryCorrected, kQuantityCorrected});
  const v1::Lot& l5 = p.lots.at("C-100:L5");
  EXPECT_EQ(l5.expires_on().year(), 2027);
  EXPECT_EQ(l5.expires_on().month(), 12);
  EXPECT_EQ(l5.expires_on().day(), 31);
  // A person entered the corrected expiry: it no longer comes from the
  // shelf life.
  EXPECT_EQ(l5.expiry_source(), v1::EXPIRY_SOURCE_GIVEN);
  EXPECT_EQ(l5.quantity().amount(), 980);
  EXPECT_EQ(l5.quantity().uom(), "EA");
  ASSERT_EQ(l5.corrections_size(), 2);
  EXPECT_EQ(l5.corrections(0).actor(), "qa.li");
  EXPECT_EQ(l5.corrections(0).recorded_at().seconds(), 1769000000);
  EXPECT_EQ(l5.corrections(0).correction().old_value(), "2028-01-10");
  EXPECT_EQ(l5.corrections(0).correction().reason(), "label misprint");
  EXPECT_EQ(l5.corrections(1).actor(), "wh.ortiz");
  EXPECT_EQ(l5.corrections(1).correction().field(), "quantity");
}

TEST(LotsEvolve, IgnoresEventsOfOtherLots) {
  v1::Lot l6 = Fold({kLotL6}).lots.at("C-100:L6");
  const v1::Lot before = l6;
  Evolve(l6, Ev(kLotA16));             // consumed L5, not L6
  Evolve(l6, Ev(kL5ExpiryCorrected));  // corrects L5
  Evolve(l6, Ev(kDevice));             // not a lot event
  EXPECT_TRUE(MessageDifferencer::Equals(before, l6));
}

TEST(LotsEvolve, CorrectionOfUnseenLotLeavesEmptyLotEmpty) {
  v1::Lot lot;
  Evolve(lot, Ev(kL5ExpiryCorrected));
  EXPECT_TRUE(lot.lot_id().empty());
}

TEST(LotsEvolveProduct, LatestDefinitionWinsForItsItemOnly) {
  v1::Product product;
  EvolveProduct(product, Ev(kComponent));
  EXPECT_EQ(product.name(), "Catheter tube");
  EvolveProduct(product, Ev(kDevice));  // another item
  EXPECT_EQ(product.item(), "C-100");
  EvolveProduct(product, Ev(kLotL5));  // not a product event
  EXPECT_EQ(product.policy().shelf_life_days(), 730);
}

}  // namespace
}  // namespace lotledger::lots
