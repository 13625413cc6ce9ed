// Shared given-events for the inventory domain tests: a product, a
// location tree, lots in every gating state, and helpers to fold events
// into an InventoryDecisionState the way the service's projection does.
//
// Today is 2026-04-01 (UTC) unless a test says otherwise.
#ifndef LOTLEDGER_LIBS_DOMAIN_INVENTORY_TESTS_FIXTURES_H_
#define LOTLEDGER_LIBS_DOMAIN_INVENTORY_TESTS_FIXTURES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "libs/domain/inventory/decider.h"
#include "libs/domain/testing/decider_table.h"

namespace lotledger::inventory::testing {

using domain::testing::Ev;
using domain::testing::Parse;

inline constexpr int64_t kToday = 1775001600;  // 2026-04-01T00:00:00Z
inline constexpr char kItem[] = "09506000134352";

// Catheters: alerts at 180/90/30 days, at least 60 days left to ship.
inline const char kProduct[] = R"pb(
  aggregate_id: "09506000134352"
  product_defined {
    product {
      item: "09506000134352"
      name: "Sterile catheter"
      uom: "EA"
      kind: ITEM_KIND_FINISHED_DEVICE
      policy {
        shelf_life_days: 1095
        alert_thresholds_days: [ 180, 90, 30 ]
        min_remaining_days_to_ship: 60
      }
    }
  })pb";

inline std::string Location(const std::string& id, const std::string& kind,
                            const std::string& parent, const std::string& site,
                            const std::string& region, bool quarantine) {
  return absl::StrCat("aggregate_id: \"", id,
                      "\" location_created { location {", " location_id: \"",
                      id, "\" name: \"", id, "\" kind: LOCATION_KIND_", kind,
                      " parent_id: \"", parent, "\" site_id: \"", site,
                      "\" region_id: \"", region,
                      "\" quarantine: ", quarantine ? "true" : "false", " } }");
}

// ACME > EU > FRA-WH1 > FRA-WH1-B07, EU > FRA-QA (quarantine),
// ACME > US > NJ-WH1.
inline std::vector<std::string> Locations() {
  return {Location("ACME", "SITE", "", "ACME", "", false),
          Location("EU", "REGION", "ACME", "ACME", "EU", false),
          Location("US", "REGION", "ACME", "ACME", "US", false),
          Location("FRA-WH1", "WAREHOUSE", "EU", "ACME", "EU", false),
          Location("FRA-WH1-B07", "BIN", "FRA-WH1", "ACME", "EU", false),
          Location("FRA-QA", "WAREHOUSE", "EU", "ACME", "EU", true),
          Location("NJ-WH1", "WAREHOUSE", "US", "ACME", "US", false)};
}

inline std::string LotId(const std::string& lot_number) {
  return absl::StrCat(kItem, ":", lot_number);
}

// LotCreated of a catheter lot; expiry "YYYY-MM-DD".
inline std::string Lot(const std::string& lot_number, int y, int m, int d) {
  const std::string id = LotId(lot_number);
  return absl::StrCat("aggregate_id: \"", id, "\" lot_ids: \"", id,
                      "\" lot_created {", " lot_id: \"", id, "\" item: \"",
                      kItem, "\" lot_number: \"", lot_number,
                      "\" manufactured_on { year: 2025 month: 4 day: 1 }",
                      " expires_on { year: ", y, " month: ", m, " day: ", d,
                      " }", " quantity { amount: 1000 uom: \"EA\" } }");
}

// DispositionChanged to `to` (RELEASED, ON_HOLD, REJECTED) on 2026-03-02.
inline std::string Disposition(const std::string& lot_number,
                               const std::string& to,
                               const std::string& reason) {
  const std::string id = LotId(lot_number);
  return absl::StrCat(
      "aggregate_id: \"", id, "\" lot_ids: \"", id,
      "\" occurred_at { seconds: 1772409600 } disposition_changed {",
      " lot_id: \"", id, "\" to: DISPOSITION_", to,
      " signature { signer: \"qa.li\" meaning: \"signed\" reason: \"", reason,
      "\" } }");
}

inline std::string Released(const std::string& lot_number) {
  return Disposition(lot_number, "RELEASED", "meets specification");
}

inline std::string Received(const std::string& lot_number,
                            const std::string& location, int64_t amount) {
  const std::string id = LotId(lot_number);
  return absl::StrCat("aggregate_id: \"", id, "\" lot_ids: \"", id,
                      "\" stock_received { lot_id: \"", id,
                      "\" location_id: \"", location,
                      "\" quantity { amount: ", amount,
                      " uom: \"EA\" } source: RECEIPT_SOURCE_PRODUCTION }");
}

inline std::string Shipped(const std::string& lot_number,
                           const std::string& location,
                           const std::string& customer, int64_t amount) {
  const std::string id = LotId(lot_number);
  return absl::StrCat(
      "aggregate_id: \"", id, "\" lot_ids: \"", id,
      "\" stock_shipped { shipment_id: \"S-0\" line_count: 1", " lot_id: \"",
      id, "\" from_location_id: \"", location, "\" quantity { amount: ", amount,
      " uom: \"EA\" } customer { customer_id: \"", customer, "\" } }");
}

// The world most tests start from, on 2026-04-01:
//   A17 expires 2027-03-31 (364 days), released, 100 at FRA-WH1-B07 and
//       50 at NJ-WH1;
//   A19 expires 2027-03-31 too (ties with A17), released, 40 at FRA-WH1;
//   A18 expires 2026-09-30 (182 days), released, 30 at FRA-WH1-B07;
//   B01 expires 2026-06-30 (90 days), released, 100 at FRA-WH1;
//   C01 expires 2026-04-20 (19 days: below the product's 60), released;
//   X01 expired 2026-03-31, released; T01 expires today;
//   H01 on hold, R01 rejected, U01 never released: 100 each at FRA-WH1;
//   Q01 released, 100 in quarantine (FRA-QA).
inline std::vector<std::string> World() {
  std::vector<std::string> given = Locations();
  given.push_back(kProduct);
  auto add = [&](const std::vector<std::string>& events) {
    given.insert(given.end(), events.begin(), events.end());
  };
  add({Lot("A17", 2027, 3, 31), Released("A17"),
       Received("A17", "FRA-WH1-B07", 100), Received("A17", "NJ-WH1", 50)});
  add({Lot("A19", 2027, 3, 31), Released("A19"),
       Received("A19", "FRA-WH1", 40)});
  add({Lot("A18", 2026, 9, 30), Released("A18"),
       Received("A18", "FRA-WH1-B07", 30)});
  add({Lot("B01", 2026, 6, 30), Released("B01"),
       Received("B01", "FRA-WH1", 100)});
  add({Lot("C01", 2026, 4, 20), Released("C01"),
       Received("C01", "FRA-WH1", 100)});
  add({Lot("X01", 2026, 3, 31), Released("X01"),
       Received("X01", "FRA-WH1", 100)});
  add({Lot("T01", 2026, 4, 1), Released("T01"),
       Received("T01", "FRA-WH1", 100)});
  add({Lot("H01", 2027, 3, 31),
       Disposition("H01", "ON_HOLD", "sterility retest"),
       Received("H01", "FRA-WH1", 100)});
  add({Lot("R01", 2027, 3, 31),
       Disposition("R01", "REJECTED", "seal failure confirmed"),
       Received("R01", "FRA-WH1", 100)});
  add({Lot("U01", 2027, 3, 31), Received("U01", "FRA-WH1", 100)});
  add({Lot("Q01", 2027, 3, 31), Released("Q01"),
       Received("Q01", "FRA-QA", 100)});
  return given;
}

inline v1::InventoryDecisionState Fold(const std::vector<std::string>& given) {
  v1::InventoryDecisionState state;
  for (const std::string& text : given) Evolve(state, Ev(text));
  return state;
}

}  // namespace lotledger::inventory::testing

#endif  // LOTLEDGER_LIBS_DOMAIN_INVENTORY_TESTS_FIXTURES_H_
