// A small world for the recall domain tests, built with the domain's own
// Evolve from lots- and inventory-topic events: resin lot RM:R1 goes into
// tubing lots CMP:C1 and CMP:C2; C1 into valve SUB:V1; V1 and C2 into
// catheter lots DEV:F1 and DEV:F2 (three levels below R1); an unrelated
// resin lot RM:R2 goes into DEV:F3. F1 ships to hospitals H-1 (10) and
// H-2 (5), F2 to H-2 (7), F3 to H-3 (4).
#ifndef LOTLEDGER_LIBS_DOMAIN_RECALL_TESTS_WORLD_H_
#define LOTLEDGER_LIBS_DOMAIN_RECALL_TESTS_WORLD_H_

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "libs/domain/recall/decider.h"
#include "libs/domain/recall/impact.h"
#include "libs/domain/recall/scope.h"

namespace lotledger::recall::testing {

inline v1::Event Ev(const std::string& text) {
  v1::Event e;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &e)) << text;
  return e;
}

// LotCreated of `id` ("ITEM:NUMBER") made on 2026-03-<day> from `inputs`.
inline v1::Event Created(const std::string& id, int day,
                         const std::vector<std::string>& inputs = {}) {
  const std::string item = id.substr(0, id.find(':'));
  const std::string number = id.substr(id.find(':') + 1);
  std::string text = absl::StrCat(
      "aggregate_id: '", id, "' lot_ids: '", id, "' lot_created { lot_id: '",
      id, "' item: '", item, "' lot_number: '", number,
      "' manufactured_on { year: 2026 month: 3 day: ", day,
      " } expires_on { year: 2028 month: 3 day: ", day,
      " } quantity { amount: 100 uom: 'EA' }");
  for (const std::string& in : inputs) {
    absl::StrAppend(&text, " inputs { lot_id: '", in,
                    "' quantity { amount: 1 uom: 'EA' } }");
  }
  absl::StrAppend(&text, " }");
  for (const std::string& in : inputs) {
    absl::StrAppend(&text, " lot_ids: '", in, "'");
  }
  return Ev(text);
}

inline v1::Event Received(const std::string& lot, int64_t amount) {
  return Ev(absl::StrCat("aggregate_id: '", lot, "' lot_ids: '", lot,
                         "' stock_received { lot_id: '", lot,
                         "' location_id: 'WH1' quantity { amount: ", amount,
                         " uom: 'EA' } }"));
}

inline v1::Event Shipped(const std::string& lot, const std::string& customer,
                         int64_t amount) {
  return Ev(absl::StrCat(
      "aggregate_id: '", lot, "' lot_ids: '", lot,
      "' stock_shipped { lot_id: '", lot,
      "' from_location_id: 'WH1' quantity { amount: ", amount,
      " uom: 'EA' } customer { customer_id: '", customer, "' name: 'Hospital ",
      customer,
      "' region: 'DE-South' } ship_date { year: 2026 month: 3 day: 20 "
      "} }"));
}

inline v1::Event Returned(const std::string& lot, const std::string& customer,
                          int64_t amount) {
  return Ev(absl::StrCat(
      "aggregate_id: '", lot, "' lot_ids: '", lot,
      "' stock_returned { lot_id: '", lot, "' customer_id: '", customer,
      "' to_location_id: 'QA' quantity { amount: ", amount,
      " uom: 'EA' } condition: RETURN_CONDITION_RECALLED }"));
}

struct World {
  // The nodes, and a NodeMap view of them (std::map keeps addresses).
  std::map<std::string, v1::RecallLotNode> store;
  NodeMap nodes;
  CustomerMap customers;

  void Apply(const v1::Event& e) {
    for (const std::string& id : NodeLotIds(e)) {
      EvolveLotNode(store[id], id, e);
      nodes[id] = &store[id];
    }
    if (e.has_stock_shipped()) {
      customers[e.stock_shipped().customer().customer_id()] =
          e.stock_shipped().customer();
    }
  }

  FetchNodes Fetch() const {
    return [this](const std::vector<std::string>& ids,
                  std::vector<const v1::RecallLotNode*>* out) {
      out->clear();
      for (const std::string& id : ids) {
        auto it = nodes.find(id);
        out->push_back(it == nodes.end() ? nullptr : it->second);
      }
      return absl::OkStatus();
    };
  }
};

inline World Hospitals() {
  World w;
  for (const v1::Event& e : {
           Created("RM:R1", 1),
           Created("RM:R2", 2),
           Created("CMP:C1", 3, {"RM:R1"}),
           Created("CMP:C2", 4, {"RM:R1"}),
           Created("SUB:V1", 5, {"CMP:C1"}),
           Created("DEV:F1", 6, {"SUB:V1", "CMP:C2"}),
           Created("DEV:F2", 7, {"SUB:V1"}),
           Created("DEV:F3", 8, {"RM:R2"}),
           Received("DEV:F1", 30),
           Received("DEV:F2", 30),
           Received("DEV:F3", 30),
           Shipped("DEV:F1", "H-1", 10),
           Shipped("DEV:F1", "H-2", 5),
           Shipped("DEV:F2", "H-2", 7),
           Shipped("DEV:F3", "H-3", 4),
       }) {
    w.Apply(e);
  }
  return w;
}

}  // namespace lotledger::recall::testing

#endif  // LOTLEDGER_LIBS_DOMAIN_RECALL_TESTS_WORLD_H_
