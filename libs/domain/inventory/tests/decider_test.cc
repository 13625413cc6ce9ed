// Given/when/then tables for the inventory rules: given prior events
// (folded with Evolve into the decision state, the way the service loads
// it), when a command, then the events Decide returns, or its error code
// and a part of the message. Today is 2026-04-01; the world is
// fixtures.h's World() unless a case gives its own events.
#include "libs/domain/inventory/decider.h"

#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "google/protobuf/text_format.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "libs/domain/inventory/gate.h"
#include "libs/domain/inventory/tests/fixtures.h"
#include "libs/domain/testing/decider_table.h"

namespace lotledger::inventory {
namespace {

using domain::testing::CaseName;
using domain::testing::ExpectDecision;
using domain::testing::ExpectRefused;
using domain::testing::kInvalid;
using domain::testing::kRefused;
using testing::Ev;
using testing::Fold;
using testing::Parse;

// given: nullopt for World().
using Case =
    domain::testing::DecideCase<std::optional<std::vector<std::string>>>;

absl::StatusOr<std::vector<v1::Event>> DecideAt(
    const std::vector<std::string>& given, const std::string& when) {
  v1::InventoryCommand cmd = Parse<v1::InventoryCommand>(when);
  if (!cmd.has_now()) cmd.mutable_now()->set_seconds(testing::kToday);
  return Decide(Fold(given), cmd);
}

class InventoryDecide : public ::testing::TestWithParam<Case> {};

TEST_P(InventoryDecide, GivenWhenThen) {
  const Case& c = GetParam();
  ExpectDecision(c, DecideAt(c.given ? *c.given : testing::World(), c.when));
}

std::vector<Case> LocationCases() {
  return {
      {"CreateBinDerivesSiteAndRegion",
       std::nullopt,
       R"pb(create_location {
              location_id: "FRA-WH1-B08"
              name: "Bin 8"
              kind: LOCATION_KIND_BIN
              parent_id: "FRA-WH1"
            })pb",
       {R"pb(aggregate_id: "FRA-WH1-B08"
             location_created {
               location {
                 location_id: "FRA-WH1-B08"
                 name: "Bin 8"
                 kind: LOCATION_KIND_BIN
                 parent_id: "FRA-WH1"
                 site_id: "ACME"
                 region_id: "EU"
               }
             })pb"}},
      {"BinInQuarantineWarehouseIsQuarantine",
       std::nullopt,
       R"pb(create_location {
              location_id: "FRA-QA-01"
              name: "QA cage"
              kind: LOCATION_KIND_BIN
              parent_id: "FRA-QA"
            })pb",
       {R"pb(aggregate_id: "FRA-QA-01"
             location_created {
               location {
                 location_id: "FRA-QA-01"
                 name: "QA cage"
                 kind: LOCATION_KIND_BIN
                 parent_id: "FRA-QA"
                 site_id: "ACME"
                 region_id: "EU"
                 quarantine: true
               }
             })pb"}},
      {"SiteNeedsNoParent",
       std::vector<std::string>{},
       R"pb(create_location {
              location_id: "ACME"
              name: "Acme Medical"
              kind: LOCATION_KIND_SITE
            })pb",
       {R"pb(aggregate_id: "ACME"
             location_created {
               location {
                 location_id: "ACME"
                 name: "Acme Medical"
                 kind: LOCATION_KIND_SITE
                 site_id: "ACME"
               }
             })pb"}},
      {"WarehouseDirectlyUnderSiteRefused",
       std::nullopt,
       R"pb(create_location {
              location_id: "LYS-WH1"
              name: "Lyon"
              kind: LOCATION_KIND_WAREHOUSE
              parent_id: "ACME"
            })pb",
       {},
       kRefused,
       "a warehouse belongs under a region; ACME is a site"},
      {"UnknownParentRefused",
       std::nullopt,
       R"pb(create_location {
              location_id: "LYS-WH1"
              name: "Lyon"
              kind: LOCATION_KIND_WAREHOUSE
              parent_id: "FR"
            })pb",
       {},
       kRefused,
       "parent location FR does not exist"},
      {"SameLocationAgainIsNoOp",
       std::nullopt,
       R"pb(create_location {
              location_id: "FRA-WH1-B07"
              name: "FRA-WH1-B07"
              kind: LOCATION_KIND_BIN
              parent_id: "FRA-WH1"
            })pb",
       {}},
      {"OtherLocationUnderUsedIdRefused",
       std::nullopt,
       R"pb(create_location {
              location_id: "FRA-WH1-B07"
              name: "Bin 7"
              kind: LOCATION_KIND_BIN
              parent_id: "FRA-WH1"
            })pb",
       {},
       kRefused,
       "location FRA-WH1-B07 already exists as bin"},
      {"LocationIdWithColonInvalid",
       std::nullopt,
       R"pb(create_location {
              location_id: "FRA:1"
              name: "x"
              kind: LOCATION_KIND_SITE
            })pb",
       {},
       kInvalid,
       "create_location.location_id"},
  };
}

std::vector<Case> ReceiveCases() {
  return {
      {"ReceiveByLotId",
       std::nullopt,
       R"pb(receive {
              lot_id: "09506000134352:A17"
              location_id: "FRA-WH1"
              quantity { amount: 25 }
              source: RECEIPT_SOURCE_PRODUCTION
              reference: "PO-7"
              occurred_at { seconds: 1774915200 }
            })pb",
       {R"pb(aggregate_id: "09506000134352:A17"
             lot_ids: "09506000134352:A17"
             occurred_at { seconds: 1774915200 }
             stock_received {
               lot_id: "09506000134352:A17"
               location_id: "FRA-WH1"
               quantity { amount: 25 uom: "EA" }
               source: RECEIPT_SOURCE_PRODUCTION
               reference: "PO-7"
               expires_on { year: 2027 month: 3 day: 31 }
             })pb"}},
      {"ReceiveByScanMatchingMasterData",
       std::nullopt,
       R"pb(receive {
              gs1_scan: "(01)09506000134352(17)270331(10)A17"
              location_id: "FRA-WH1"
              quantity { amount: 10 uom: "EA" }
              source: RECEIPT_SOURCE_SUPPLIER
              supplier: "Medsupply"
            }
            scanned_label {
              gtin: "09506000134352"
              lot_number: "A17"
              expires_on { year: 2027 month: 3 day: 31 }
            })pb",
       {R"pb(aggregate_id: "09506000134352:A17"
             lot_ids: "09506000134352:A17"
             stock_received {
               lot_id: "09506000134352:A17"
               location_id: "FRA-WH1"
               quantity { amount: 10 uom: "EA" }
               source: RECEIPT_SOURCE_SUPPLIER
               supplier: "Medsupply"
               gs1_scan: "(01)09506000134352(17)270331(10)A17"
               expires_on { year: 2027 month: 3 day: 31 }
             })pb"}},
      {"ScanExpiryDiffersFromMasterDataRefused",
       std::nullopt,
       R"pb(receive {
              gs1_scan: "(01)09506000134352(17)270228(10)A17"
              location_id: "FRA-WH1"
              quantity { amount: 10 }
              source: RECEIPT_SOURCE_SUPPLIER
            }
            scanned_label {
              gtin: "09506000134352"
              lot_number: "A17"
              expires_on { year: 2027 month: 2 day: 28 }
            })pb",
       {},
       kRefused,
       "expiry on the label of lot 09506000134352:A17 is 2027-02-28, the "
       "lot's expiry is 2027-03-31"},
      {"ScanWithoutExpiryRefused",
       std::nullopt,
       R"pb(receive {
              gs1_scan: "(01)09506000134352(10)A17"
              location_id: "FRA-WH1"
              quantity { amount: 10 }
              source: RECEIPT_SOURCE_SUPPLIER
            }
            scanned_label { gtin: "09506000134352" lot_number: "A17" })pb",
       {},
       kRefused,
       "carries no expiry date (AI 17), but the lot expires on 2027-03-31"},
      {"ScanProductionDateDiffersRefused",
       std::nullopt,
       R"pb(receive {
              gs1_scan: "(01)09506000134352(11)250402(17)270331(10)A17"
              location_id: "FRA-WH1"
              quantity { amount: 10 }
              source: RECEIPT_SOURCE_SUPPLIER
            }
            scanned_label {
              gtin: "09506000134352"
              lot_number: "A17"
              expires_on { year: 2027 month: 3 day: 31 }
              produced_on { year: 2025 month: 4 day: 2 }
            })pb",
       {},
       kRefused,
       "production date on the label of lot 09506000134352:A17 is "
       "2025-04-02, the lot's manufacture date is 2025-04-01"},
      {"ScanWithoutLotNumberInvalid",
       std::nullopt,
       R"pb(receive {
              gs1_scan: "(01)09506000134352"
              location_id: "FRA-WH1"
              quantity { amount: 10 }
              source: RECEIPT_SOURCE_SUPPLIER
            }
            scanned_label { gtin: "09506000134352" })pb",
       {},
       kInvalid,
       "receive.gs1_scan: has no lot number (AI 10)"},
      {"ReceiveUnknownLotRefused",
       std::nullopt,
       R"pb(receive {
              lot_id: "09506000134352:Z99"
              location_id: "FRA-WH1"
              quantity { amount: 10 }
              source: RECEIPT_SOURCE_PRODUCTION
            })pb",
       {},
       kRefused,
       "lot 09506000134352:Z99 does not exist"},
      {"ReceiveIntoUnknownLocationRefused",
       std::nullopt,
       R"pb(receive {
              lot_id: "09506000134352:A17"
              location_id: "FRA-WH9"
              quantity { amount: 10 }
              source: RECEIPT_SOURCE_PRODUCTION
            })pb",
       {},
       kRefused,
       "location FRA-WH9 does not exist"},
      {"ReceiveIntoRegionRefused",
       std::nullopt,
       R"pb(receive {
              lot_id: "09506000134352:A17"
              location_id: "EU"
              quantity { amount: 10 }
              source: RECEIPT_SOURCE_PRODUCTION
            })pb",
       {},
       kRefused,
       "stock is held only in a warehouse or a bin"},
      {"NegativeReceiptInvalid",
       std::nullopt,
       R"pb(receive {
              lot_id: "09506000134352:A17"
              location_id: "FRA-WH1"
              quantity { amount: -5 }
              source: RECEIPT_SOURCE_PRODUCTION
            })pb",
       {},
       kInvalid,
       "receive.quantity.amount: must be positive, got -5"},
      {"ReceiptInOtherUnitRefused",
       std::nullopt,
       R"pb(receive {
              lot_id: "09506000134352:A17"
              location_id: "FRA-WH1"
              quantity { amount: 5 uom: "BOX" }
              source: RECEIPT_SOURCE_PRODUCTION
            })pb",
       {},
       kRefused,
       "lot 09506000134352:A17 is counted in EA, not BOX"},
      {"ReceiptSourceRequired",
       std::nullopt,
       R"pb(receive {
              lot_id: "09506000134352:A17"
              location_id: "FRA-WH1"
              quantity { amount: 5 }
            })pb",
       {},
       kInvalid,
       "receive.source: required"},
  };
}

std::vector<Case> MoveCases() {
  return {
      {"HeldStockMayMoveToQuarantine",
       std::nullopt,
       R"pb(transfer {
              lot_id: "09506000134352:H01"
              from_location_id: "FRA-WH1"
              to_location_id: "FRA-QA"
              quantity { amount: 100 }
              reason: "quarantine"
            })pb",
       {R"pb(aggregate_id: "09506000134352:H01"
             lot_ids: "09506000134352:H01"
             stock_transferred {
               lot_id: "09506000134352:H01"
               from_location_id: "FRA-WH1"
               to_location_id: "FRA-QA"
               quantity { amount: 100 uom: "EA" }
               reason: "quarantine"
               from_region_id: "EU"
               to_region_id: "EU"
             })pb"}},
      {"TransferAcrossRegions",
       std::nullopt,
       R"pb(transfer {
              lot_id: "09506000134352:A17"
              from_location_id: "NJ-WH1"
              to_location_id: "FRA-WH1-B07"
              quantity { amount: 50 }
            })pb",
       {R"pb(aggregate_id: "09506000134352:A17"
             lot_ids: "09506000134352:A17"
             stock_transferred {
               lot_id: "09506000134352:A17"
               from_location_id: "NJ-WH1"
               to_location_id: "FRA-WH1-B07"
               quantity { amount: 50 uom: "EA" }
               from_region_id: "US"
               to_region_id: "EU"
             })pb"}},
      {"TransferMoreThanThereRefused",
       std::nullopt,
       R"pb(transfer {
              lot_id: "09506000134352:A17"
              from_location_id: "NJ-WH1"
              to_location_id: "FRA-WH1"
              quantity { amount: 51 }
            })pb",
       {},
       kRefused,
       "lot 09506000134352:A17 has 50 EA at NJ-WH1; cannot transfer 51: "
       "stock never goes negative"},
      {"TransferToUnknownLocationRefused",
       std::nullopt,
       R"pb(transfer {
              lot_id: "09506000134352:A17"
              from_location_id: "NJ-WH1"
              to_location_id: "NJ-WH9"
              quantity { amount: 5 }
            })pb",
       {},
       kRefused,
       "location NJ-WH9 does not exist"},
      {"TransferFromUnknownLocationRefused",
       std::nullopt,
       R"pb(transfer {
              lot_id: "09506000134352:A17"
              from_location_id: "NJ-WH9"
              to_location_id: "NJ-WH1"
              quantity { amount: 5 }
            })pb",
       {},
       kRefused,
       "location NJ-WH9 does not exist"},
      {"TransferToSameLocationInvalid",
       std::nullopt,
       R"pb(transfer {
              lot_id: "09506000134352:A17"
              from_location_id: "NJ-WH1"
              to_location_id: "NJ-WH1"
              quantity { amount: 5 }
            })pb",
       {},
       kInvalid,
       "transfer.to_location_id: same as from_location_id"},
      {"ScrapExpiredStock",
       std::nullopt,
       R"pb(scrap {
              lot_id: "09506000134352:X01"
              location_id: "FRA-WH1"
              quantity { amount: 100 }
              reason: SCRAP_REASON_EXPIRED
            })pb",
       {R"pb(aggregate_id: "09506000134352:X01"
             lot_ids: "09506000134352:X01"
             stock_scrapped {
               lot_id: "09506000134352:X01"
               location_id: "FRA-WH1"
               quantity { amount: 100 uom: "EA" }
               reason: SCRAP_REASON_EXPIRED
             })pb"}},
      {"ScrapMoreThanThereRefused",
       std::nullopt,
       R"pb(scrap {
              lot_id: "09506000134352:X01"
              location_id: "FRA-WH1"
              quantity { amount: 101 }
              reason: SCRAP_REASON_EXPIRED
            })pb",
       {},
       kRefused,
       "lot 09506000134352:X01 has 100 EA at FRA-WH1; cannot scrap 101"},
      {"ScrapReasonRequired",
       std::nullopt,
       R"pb(scrap {
              lot_id: "09506000134352:X01"
              location_id: "FRA-WH1"
              quantity { amount: 1 }
            })pb",
       {},
       kInvalid,
       "scrap.reason: required"},
      {"ScrapForOtherReasonNeedsNotes",
       std::nullopt,
       R"pb(scrap {
              lot_id: "09506000134352:X01"
              location_id: "FRA-WH1"
              quantity { amount: 1 }
              reason: SCRAP_REASON_OTHER
            })pb",
       {},
       kInvalid,
       "scrap.notes: required when the reason is other"},
      {"CountSetsTheBook",
       std::nullopt,
       R"pb(adjust {
              lot_id: "09506000134352:A17"
              location_id: "FRA-WH1-B07"
              counted { amount: 97 }
              reason: "cycle count"
            })pb",
       {R"pb(aggregate_id: "09506000134352:A17"
             lot_ids: "09506000134352:A17"
             stock_adjusted {
               lot_id: "09506000134352:A17"
               location_id: "FRA-WH1-B07"
               previous { amount: 100 uom: "EA" }
               counted { amount: 97 uom: "EA" }
               delta: -3
               reason: "cycle count"
             })pb"}},
      {"CountFindsStockWhereBookHasNone",
       std::nullopt,
       R"pb(adjust {
              lot_id: "09506000134352:A17"
              location_id: "FRA-WH1"
              counted { amount: 4 }
              reason: "found in aisle"
            })pb",
       {R"pb(aggregate_id: "09506000134352:A17"
             lot_ids: "09506000134352:A17"
             stock_adjusted {
               lot_id: "09506000134352:A17"
               location_id: "FRA-WH1"
               previous { amount: 0 uom: "EA" }
               counted { amount: 4 uom: "EA" }
               delta: 4
               reason: "found in aisle"
             })pb"}},
      {"CountEqualToBookIsNoOp",
       std::nullopt,
       R"pb(adjust {
              lot_id: "09506000134352:A17"
              location_id: "FRA-WH1-B07"
              counted { amount: 100 }
              reason: "cycle count"
            })pb",
       {}},
      {"NegativeCountInvalid",
       std::nullopt,
       R"pb(adjust {
              lot_id: "09506000134352:A17"
              location_id: "FRA-WH1-B07"
              counted { amount: -1 }
              reason: "cycle count"
            })pb",
       {},
       kInvalid,
       "adjust.counted.amount: a count cannot be negative, got -1"},
      {"CountNeedsReason",
       std::nullopt,
       R"pb(adjust {
              lot_id: "09506000134352:A17"
              location_id: "FRA-WH1-B07"
              counted { amount: 1 }
            })pb",
       {},
       kInvalid,
       "adjust.reason: required"},
  };
}

// A shipment of `lines` (text of ShipmentLine) to hospital H-12, which
// accepts `min_days` of shelf life.
std::string Ship(const std::vector<std::string>& lines, int min_days = 0,
                 const std::string& extra = "") {
  std::string text = absl::StrCat(
      "ship { shipment_id: \"S-1\" customer { customer_id: \"H-12\" name: "
      "\"St. Mary\" region: \"DE-South\" min_remaining_shelf_life_days: ",
      min_days, " }");
  for (const std::string& line : lines) {
    absl::StrAppend(&text, " lines { ", line, " }");
  }
  return absl::StrCat(text, " ", extra, " }");
}

std::string Line(const std::string& lot_number, const std::string& location,
                 int64_t amount) {
  return absl::StrCat("lot_id: \"", testing::LotId(lot_number),
                      "\" location_id: \"", location,
                      "\" quantity { amount: ", amount, " }");
}

std::vector<Case> ShipCases() {
  return {
      {"MultiLotShipmentOneEventPerLine",
       std::nullopt,
       Ship({Line("A18", "FRA-WH1-B07", 30), Line("A17", "FRA-WH1-B07", 20)}),
       {R"pb(aggregate_id: "09506000134352:A18"
             lot_ids: "09506000134352:A18"
             stock_shipped {
               shipment_id: "S-1"
               line_index: 0
               line_count: 2
               lot_id: "09506000134352:A18"
               from_location_id: "FRA-WH1-B07"
               quantity { amount: 30 uom: "EA" }
               customer {
                 customer_id: "H-12"
                 name: "St. Mary"
                 region: "DE-South"
               }
               ship_date { year: 2026 month: 4 day: 1 }
               expires_on { year: 2026 month: 9 day: 30 }
               remaining_shelf_life_days: 182
               required_shelf_life_days: 60
               from_region_id: "EU"
             })pb",
        R"pb(aggregate_id: "09506000134352:A17"
             lot_ids: "09506000134352:A17"
             stock_shipped {
               shipment_id: "S-1"
               line_index: 1
               line_count: 2
               lot_id: "09506000134352:A17"
               from_location_id: "FRA-WH1-B07"
               quantity { amount: 20 uom: "EA" }
               customer {
                 customer_id: "H-12"
                 name: "St. Mary"
                 region: "DE-South"
               }
               ship_date { year: 2026 month: 4 day: 1 }
               expires_on { year: 2027 month: 3 day: 31 }
               remaining_shelf_life_days: 364
               required_shelf_life_days: 60
               from_region_id: "EU"
             })pb"}},
      {"UnreleasedLotNeverShips",
       std::nullopt,
       Ship({Line("U01", "FRA-WH1", 1)}),
       {},
       kRefused,
       "lot 09506000134352:U01 is not released by quality; unreleased stock "
       "cannot ship"},
      {"HeldLotNeverShips",
       std::nullopt,
       Ship({Line("H01", "FRA-WH1", 1)}),
       {},
       kRefused,
       "lot 09506000134352:H01 is on hold since 2026-03-02 by qa.li: "
       "sterility retest; held stock cannot ship"},
      {"RejectedLotNeverShips",
       std::nullopt,
       Ship({Line("R01", "FRA-WH1", 1)}),
       {},
       kRefused,
       "lot 09506000134352:R01 was rejected on 2026-03-02 by qa.li: seal "
       "failure confirmed; rejected stock never ships"},
      {"ExpiredLotNeverShips",
       std::nullopt,
       Ship({Line("X01", "FRA-WH1", 1)}),
       {},
       kRefused,
       "lot 09506000134352:X01 expired on 2026-03-31 (ship date 2026-04-01); "
       "expired stock cannot ship"},
      {"LotExpiringOnShipDateNeverShips",
       std::nullopt,
       Ship({Line("T01", "FRA-WH1", 1)}),
       {},
       kRefused,
       "lot 09506000134352:T01 expires on the ship date 2026-04-01"},
      {"ShipDateIsTheBusinessDayShelfLifeCountsFromToday",
       std::nullopt,
       // Entered today, shipped yesterday (2026-03-31): the ship date is
       // the day it shipped, but the gate counts from today, the later day.
       Ship({Line("A18", "FRA-WH1-B07", 1)}, 0,
            "occurred_at { seconds: 1774915200 }"),
       {R"pb(aggregate_id: "09506000134352:A18"
             lot_ids: "09506000134352:A18"
             occurred_at { seconds: 1774915200 }
             stock_shipped {
               shipment_id: "S-1"
               line_count: 1
               lot_id: "09506000134352:A18"
               from_location_id: "FRA-WH1-B07"
               quantity { amount: 1 uom: "EA" }
               customer {
                 customer_id: "H-12"
                 name: "St. Mary"
                 region: "DE-South"
               }
               ship_date { year: 2026 month: 3 day: 31 }
               expires_on { year: 2026 month: 9 day: 30 }
               remaining_shelf_life_days: 182
               required_shelf_life_days: 60
               from_region_id: "EU"
             })pb"}},
      // Business time cannot open the gate: a shipment dated back to
      // before the expiry, entered after it, is refused as expired.
      {"BackDatedShipmentOfLotExpiredYearsAgoRefused",
       [] {
         std::vector<std::string> given = testing::World();
         given.push_back(testing::Lot("OLD", 2021, 1, 1));
         given.push_back(testing::Released("OLD"));
         given.push_back(testing::Received("OLD", "FRA-WH1", 10));
         return given;
       }(),
       Ship({Line("OLD", "FRA-WH1", 1)}, 0,
            "occurred_at { seconds: 1590969600 }"),  // 2020-06-01
       {},
       kRefused,
       "lot 09506000134352:OLD expired on 2021-01-01 (ship date 2020-06-01, "
       "recorded on 2026-04-01: dates are checked on the later day); expired "
       "stock cannot ship"},
      {"BackDatedShipmentOfLotExpiredLastWeekRefused",
       std::nullopt,
       Ship({Line("X01", "FRA-WH1", 1)}, 0,
            "occurred_at { seconds: 1774396800 }"),  // 2026-03-25
       {},
       kRefused,
       "lot 09506000134352:X01 expired on 2026-03-31 (ship date 2026-03-25, "
       "recorded on 2026-04-01: dates are checked on the later day)"},
      {"BackDatedShipmentOfLotExpiringTodayRefused",
       std::nullopt,
       Ship({Line("T01", "FRA-WH1", 1)}, 0,
            "occurred_at { seconds: 1773964800 }"),  // 2026-03-20
       {},
       kRefused,
       "lot 09506000134352:T01 expires on 2026-04-01, the day the shipment "
       "is recorded (ship date 2026-03-20); expired stock cannot ship"},
      // B01 had 130 days left on 2026-02-20 but has 90 today.
      {"BackDatedShipmentNeedsTheShelfLifeLeftToday",
       std::nullopt,
       Ship({Line("B01", "FRA-WH1", 1)}, 120,
            "occurred_at { seconds: 1771545600 }"),  // 2026-02-20
       {},
       kRefused,
       "lot 09506000134352:B01 has 90 days of shelf life left on 2026-04-01, "
       "the day the shipment is recorded (ship date 2026-02-20; expires "
       "2026-06-30); customer H-12 requires at least 120 days"},
      // A lot the recall's scope took in after its initiation never ships.
      {"LotAddedToRecallScopeNeverShips",
       [] {
         std::vector<std::string> given = testing::World();
         given.push_back(absl::StrCat(
             "aggregate_id: \"RC-7\" lot_ids: \"", testing::LotId("A17"),
             "\" occurred_at { seconds: 1774915200 } recall_scope_extended {"
             " recall_id: \"RC-7\" reason: \"resin contamination\" lots {"
             " lot_id: \"",
             testing::LotId("A17"),
             "\" reason: SCOPE_REASON_DERIVED via_lot_id: \"RM-7:R1\" "
             "depth: 1 } }"));
         return given;
       }(),
       Ship({Line("A17", "FRA-WH1-B07", 1)}),
       {},
       kRefused,
       "lot 09506000134352:A17 is under recall RC-7 since 2026-03-31: resin "
       "contamination; recalled stock cannot ship"},
      {"WarehouseCalendarDecidesTheDay",
       std::nullopt,
       // 00:00 UTC is still 2026-03-31 in New York (UTC-4): T01, which
       // expires on 2026-04-01, is not yet expired there, but has 1 day.
       absl::StrCat(Ship({Line("T01", "FRA-WH1", 1)}),
                    " utc_offset_minutes: -240"),
       {},
       kRefused,
       "lot 09506000134352:T01 has 1 day of shelf life left on 2026-03-31"},
      {"BelowProductMinimumShelfLifeNeverShips",
       std::nullopt,
       Ship({Line("C01", "FRA-WH1", 1)}),
       {},
       kRefused,
       "lot 09506000134352:C01 has 19 days of shelf life left on 2026-04-01 "
       "(expires 2026-04-20); product 09506000134352 requires at least 60 "
       "days"},
      {"BelowCustomerMinimumShelfLifeNeverShips",
       std::nullopt,
       Ship({Line("B01", "FRA-WH1", 1)}, 120),
       {},
       kRefused,
       "lot 09506000134352:B01 has 90 days of shelf life left on 2026-04-01 "
       "(expires 2026-06-30); customer H-12 requires at least 120 days"},
      {"CustomerBelowProductMinimumStillNeedsProductMinimum",
       std::nullopt,
       Ship({Line("C01", "FRA-WH1", 1)}, 10),
       {},
       kRefused,
       "product 09506000134352 requires at least 60 days"},
      {"QuarantinedStockNeverShips",
       std::nullopt,
       Ship({Line("Q01", "FRA-QA", 1)}),
       {},
       kRefused,
       "stock of lot 09506000134352:Q01 at FRA-QA is in a quarantine area"},
      {"ShipFromUnknownLocationRefused",
       std::nullopt,
       Ship({Line("A17", "FRA-WH9", 1)}),
       {},
       kRefused,
       "location FRA-WH9 does not exist"},
      {"UnknownLotNeverShips",
       std::nullopt,
       Ship({Line("Z99", "FRA-WH1", 1)}),
       {},
       kRefused,
       "lot 09506000134352:Z99 does not exist"},
      {"OneRefusedLineRefusesTheWholeShipment",
       std::nullopt,
       Ship({Line("A17", "FRA-WH1-B07", 10), Line("H01", "FRA-WH1", 5),
             Line("X01", "FRA-WH1", 5)}),
       {},
       kRefused,
       "shipment S-1 to customer H-12 refused, nothing shipped: line 2: lot "
       "09506000134352:H01 is on hold since 2026-03-02 by qa.li: sterility "
       "retest; held stock cannot ship; line 3: lot 09506000134352:X01 "
       "expired on 2026-03-31"},
      {"LinesTogetherTakeNoMoreThanIsThere",
       std::nullopt,
       Ship({Line("A17", "FRA-WH1-B07", 60), Line("A17", "FRA-WH1-B07", 50)}),
       {},
       kRefused,
       "lot 09506000134352:A17 has 100 EA at FRA-WH1-B07; cannot ship 110: "
       "stock never goes negative"},
      {"ShipmentNeedsLines",
       std::nullopt,
       Ship({}),
       {},
       kInvalid,
       "ship.lines: at least one line"},
      {"ShipmentNeedsCustomer",
       std::nullopt,
       R"pb(ship {
              shipment_id: "S-1"
              lines {
                lot_id: "09506000134352:A17"
                location_id: "FRA-WH1-B07"
                quantity { amount: 1 }
              }
            })pb",
       {},
       kInvalid,
       "ship.customer.customer_id: required"},
      {"ZeroQuantityLineInvalid",
       std::nullopt,
       Ship({Line("A17", "FRA-WH1-B07", 1), Line("A18", "FRA-WH1-B07", 0)}),
       {},
       kInvalid,
       "ship.lines[1].quantity.amount: must be positive, got 0"},
  };
}

std::vector<std::string> WorldWithShipment() {
  std::vector<std::string> given = testing::World();
  given.push_back(testing::Shipped("A17", "FRA-WH1-B07", "H-12", 30));
  given.push_back(R"pb(
    aggregate_id: "09506000134352:A17"
    lot_ids: "09506000134352:A17"
    stock_returned {
      lot_id: "09506000134352:A17"
      customer_id: "H-12"
      to_location_id: "FRA-WH1"
      quantity { amount: 20 uom: "EA" }
      condition: RETURN_CONDITION_RESALEABLE
    })pb");
  return given;
}

std::vector<Case> ReturnCases() {
  return {
      {"ReturnWhatTheCustomerHolds",
       WorldWithShipment(),
       R"pb(return_stock {
              lot_id: "09506000134352:A17"
              customer_id: "H-12"
              shipment_id: "S-0"
              location_id: "FRA-WH1"
              quantity { amount: 10 }
              condition: RETURN_CONDITION_RESALEABLE
              return_id: "RMA-3"
            })pb",
       {R"pb(aggregate_id: "09506000134352:A17"
             lot_ids: "09506000134352:A17"
             stock_returned {
               lot_id: "09506000134352:A17"
               customer_id: "H-12"
               shipment_id: "S-0"
               to_location_id: "FRA-WH1"
               quantity { amount: 10 uom: "EA" }
               condition: RETURN_CONDITION_RESALEABLE
               return_id: "RMA-3"
             })pb"}},
      {"ReturnMoreThanShippedNetOfReturnsRefused",
       WorldWithShipment(),
       R"pb(return_stock {
              lot_id: "09506000134352:A17"
              customer_id: "H-12"
              location_id: "FRA-WH1"
              quantity { amount: 11 }
              condition: RETURN_CONDITION_RESALEABLE
            })pb",
       {},
       kRefused,
       "customer H-12 holds 10 EA of lot 09506000134352:A17 (shipped 30, "
       "returned 20); cannot take back 11"},
      {"ReturnFromCustomerNeverShippedRefused",
       WorldWithShipment(),
       R"pb(return_stock {
              lot_id: "09506000134352:A17"
              customer_id: "H-99"
              location_id: "FRA-WH1"
              quantity { amount: 1 }
              condition: RETURN_CONDITION_RESALEABLE
            })pb",
       {},
       kRefused,
       "customer H-99 was never shipped lot 09506000134352:A17"},
      {"DamagedReturnOutsideQuarantineRefused",
       WorldWithShipment(),
       R"pb(return_stock {
              lot_id: "09506000134352:A17"
              customer_id: "H-12"
              location_id: "FRA-WH1"
              quantity { amount: 1 }
              condition: RETURN_CONDITION_DAMAGED
            })pb",
       {},
       kRefused,
       "damaged goods of lot 09506000134352:A17 must be returned into a "
       "quarantine area; FRA-WH1 is not one"},
      {"DamagedReturnIntoQuarantine",
       WorldWithShipment(),
       R"pb(return_stock {
              lot_id: "09506000134352:A17"
              customer_id: "H-12"
              location_id: "FRA-QA"
              quantity { amount: 10 }
              condition: RETURN_CONDITION_DAMAGED
              notes: "crushed box"
            })pb",
       {R"pb(aggregate_id: "09506000134352:A17"
             lot_ids: "09506000134352:A17"
             stock_returned {
               lot_id: "09506000134352:A17"
               customer_id: "H-12"
               to_location_id: "FRA-QA"
               quantity { amount: 10 uom: "EA" }
               condition: RETURN_CONDITION_DAMAGED
               notes: "crushed box"
             })pb"}},
      {"ReturnConditionRequired",
       WorldWithShipment(),
       R"pb(return_stock {
              lot_id: "09506000134352:A17"
              customer_id: "H-12"
              location_id: "FRA-WH1"
              quantity { amount: 1 }
            })pb",
       {},
       kInvalid,
       "return_stock.condition: required"},
      {"CommandRequired", std::nullopt, "", {}, kInvalid, "command: required"},
  };
}

INSTANTIATE_TEST_SUITE_P(Locations, InventoryDecide,
                         ::testing::ValuesIn(LocationCases()), CaseName());
INSTANTIATE_TEST_SUITE_P(Receive, InventoryDecide,
                         ::testing::ValuesIn(ReceiveCases()), CaseName());
INSTANTIATE_TEST_SUITE_P(Moves, InventoryDecide,
                         ::testing::ValuesIn(MoveCases()), CaseName());
INSTANTIATE_TEST_SUITE_P(Ship, InventoryDecide,
                         ::testing::ValuesIn(ShipCases()), CaseName());
INSTANTIATE_TEST_SUITE_P(Return, InventoryDecide,
                         ::testing::ValuesIn(ReturnCases()), CaseName());

// A lot made from a lot in the scope of an open recall that includes
// derived lots inherits the block when the projection folds its creation.
TEST(InventoryInheritRecall, LotMadeFromRecalledLotNeverShips) {
  v1::InventoryDecisionState state = Fold(testing::World());
  v1::RecallStanding rc7;
  rc7.set_recall_id("RC-7");
  rc7.set_open(true);
  rc7.set_include_derived(true);
  rc7.set_reason("resin contamination");
  google::protobuf::Timestamp created;
  created.set_seconds(1774915200);  // 2026-03-31
  v1::LotInventory& a19 = (*state.mutable_lots())[testing::LotId("A19")];
  InheritRecall(a19, rc7, created);
  v1::InventoryCommand ship =
      Parse<v1::InventoryCommand>(Ship({Line("A19", "FRA-WH1", 1)}));
  ship.mutable_now()->set_seconds(testing::kToday);
  ExpectRefused(Decide(state, ship).status(), kRefused,
                "lot 09506000134352:A19 is under recall RC-7 since 2026-03-31: "
                "resin contamination; recalled stock cannot ship");

  // The first recall to reach a lot stays named.
  v1::RecallStanding rc8 = rc7;
  rc8.set_recall_id("RC-8");
  InheritRecall(a19, rc8, created);
  EXPECT_EQ(a19.recall_id(), "RC-7");
}

TEST(InventoryInheritRecall, OnlyOpenRecallsThatIncludeDerivedLotsPassOn) {
  v1::RecallStanding listed_only;
  listed_only.set_recall_id("RC-7");
  listed_only.set_open(true);
  v1::RecallStanding closed = listed_only;
  closed.set_open(false);
  closed.set_include_derived(true);
  v1::LotInventory lot;
  lot.set_lot_id(testing::LotId("A19"));
  InheritRecall(lot, listed_only, {});
  InheritRecall(lot, closed, {});
  EXPECT_FALSE(lot.recalled());
}

// Recall state comes from the recall topic (issue 5); the service sets it
// on the loaded lot.
TEST(InventoryGate, RecalledLotNeverShipsButMayMoveToQuarantine) {
  v1::InventoryDecisionState state = Fold(testing::World());
  v1::LotInventory& lot = (*state.mutable_lots())[testing::LotId("A17")];
  lot.set_recalled(true);
  lot.set_recall_id("RC-2026-004");
  lot.mutable_recalled_since()->set_seconds(1772582400);  // 2026-03-04
  lot.set_recall_reason("seal defect");
  v1::InventoryCommand ship =
      Parse<v1::InventoryCommand>(Ship({Line("A17", "FRA-WH1-B07", 1)}));
  ship.mutable_now()->set_seconds(testing::kToday);
  ExpectRefused(Decide(state, ship).status(), kRefused,
                "lot 09506000134352:A17 is under recall RC-2026-004 since "
                "2026-03-04: seal defect; recalled stock cannot ship");

  v1::InventoryCommand quarantine = Parse<v1::InventoryCommand>(R"pb(
    transfer {
      lot_id: "09506000134352:A17"
      from_location_id: "FRA-WH1-B07"
      to_location_id: "FRA-QA"
      quantity { amount: 100 }
    })pb");
  const auto moved = Decide(state, quarantine);
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->size(), 1u);
}

// What Decide returns, folded back, is what the next command sees: a
// shipment leaves the source and credits the customer; the projection a
// rebuild makes is byte-identical.
TEST(InventoryEvolve, ShipmentMovesStockAndCreditsCustomer) {
  std::vector<std::string> given = testing::World();
  v1::InventoryDecisionState state = Fold(given);
  v1::InventoryCommand cmd = Parse<v1::InventoryCommand>(
      Ship({Line("A17", "FRA-WH1-B07", 100), Line("A17", "NJ-WH1", 20)}));
  cmd.mutable_now()->set_seconds(testing::kToday);
  const auto events = Decide(state, cmd);
  ASSERT_TRUE(events.ok()) << events.status();
  for (const v1::Event& e : *events) Evolve(state, e);

  const v1::LotInventory& lot = state.lots().at(testing::LotId("A17"));
  ASSERT_EQ(lot.stock_size(), 1);  // the emptied bin is gone
  EXPECT_EQ(lot.stock(0).location_id(), "NJ-WH1");
  EXPECT_EQ(lot.stock(0).amount(), 30);
  EXPECT_EQ(lot.on_hand(), 30);
  EXPECT_EQ(lot.shipped(), 120);
  ASSERT_EQ(lot.customers_size(), 1);
  EXPECT_EQ(lot.customers(0).customer_id(), "H-12");
  EXPECT_EQ(lot.customers(0).shipped(), 120);
  EXPECT_EQ(OnHand(lot), lot.on_hand());

  // Rebuild: the same events folded from scratch give the same bytes.
  for (const v1::Event& e : *events) {
    std::string text;
    google::protobuf::TextFormat::PrintToString(e, &text);
    given.push_back(text);
  }
  const v1::InventoryDecisionState rebuilt = Fold(given);
  EXPECT_EQ(rebuilt.lots().at(testing::LotId("A17")).SerializeAsString(),
            lot.SerializeAsString());
}

TEST(InventoryEvolve, StockStaysSortedByLocation) {
  v1::LotInventory lot;
  for (const char* at : {"NJ-WH1", "FRA-WH1", "FRA-WH1-B07", "AAA"}) {
    Evolve(lot, Ev(testing::Received("A17", at, 5)));
  }
  ASSERT_EQ(lot.stock_size(), 4);
  EXPECT_EQ(lot.stock(0).location_id(), "AAA");
  EXPECT_EQ(lot.stock(1).location_id(), "FRA-WH1");
  EXPECT_EQ(lot.stock(2).location_id(), "FRA-WH1-B07");
  EXPECT_EQ(lot.stock(3).location_id(), "NJ-WH1");
  EXPECT_EQ(lot.on_hand(), 20);
  EXPECT_EQ(lot.lot_id(), testing::LotId("A17"));
  EXPECT_FALSE(lot.exists());  // its LotCreated has not replayed yet

  // Another lot's event does not touch this view.
  Evolve(lot, Ev(testing::Received("A18", "AAA", 5)));
  EXPECT_EQ(lot.on_hand(), 20);
}

TEST(InventoryEvolve, CorrectedExpiryIsTheLotsExpiry) {
  v1::LotInventory lot;
  Evolve(lot, Ev(testing::Lot("A17", 2027, 3, 31)));
  Evolve(lot, Ev(R"pb(
           lot_ids: "09506000134352:A17"
           lot_corrected {
             lot_id: "09506000134352:A17"
             field: "expires_on"
             old_value: "2027-03-31"
             new_value: "2027-02-28"
           })pb"));
  EXPECT_EQ(DateText(lot.expires_on()), "2027-02-28");
  EXPECT_EQ(lot.uom(), "EA");
}

// An event about several lots at once (a recall) folds into each lot of
// its lot_ids; an event about one lot folds only into that lot, even when
// its lot_ids lists others (a LotCreated lists its inputs).
TEST(InventoryEvolve, EventAboutSeveralLotsFoldsIntoEach) {
  v1::LotInventory a17;
  a17.set_lot_id(testing::LotId("A17"));
  v1::LotInventory a18;
  a18.set_lot_id(testing::LotId("A18"));
  const v1::Event recall = Ev(absl::StrCat(
      "aggregate_id: \"RC-1\" lot_ids: \"", testing::LotId("A17"),
      "\" lot_ids: \"", testing::LotId("A18"),
      "\" occurred_at { seconds: 1775001600 }",
      " recall_initiated { recall_id: \"RC-1\" reason: \"seal defect\" }"));
  Evolve(a17, recall);
  Evolve(a18, recall);
  EXPECT_TRUE(a17.recalled());
  EXPECT_TRUE(a18.recalled());
  EXPECT_EQ(a18.recall_id(), "RC-1");
  // A view whose lot is not listed is left alone; an unnamed view is not
  // claimed by an event about several lots.
  v1::LotInventory other;
  other.set_lot_id(testing::LotId("B01"));
  Evolve(other, recall);
  EXPECT_FALSE(other.recalled());
  v1::LotInventory unnamed;
  Evolve(unnamed, recall);
  EXPECT_TRUE(unnamed.lot_id().empty());

  // Through a whole state: both lots, and the received stock stays.
  v1::InventoryDecisionState state = Fold(testing::World());
  Evolve(state, recall);
  EXPECT_TRUE(state.lots().at(testing::LotId("A17")).recalled());
  EXPECT_TRUE(state.lots().at(testing::LotId("A18")).recalled());
  EXPECT_GT(state.lots().at(testing::LotId("A17")).on_hand(), 0);
}

TEST(InventoryEvolve, LotCreatedFoldsOnlyIntoItsOwnLot) {
  v1::LotInventory input;
  input.set_lot_id("RM-100:L7");
  const v1::Event created = Ev(absl::StrCat(
      "aggregate_id: \"", testing::LotId("C01"), "\" lot_ids: \"",
      testing::LotId("C01"), "\" lot_ids: \"RM-100:L7\" lot_created {",
      " lot_id: \"", testing::LotId("C01"), "\" item: \"", testing::kItem,
      "\" lot_number: \"C01\" quantity { amount: 10 uom: \"EA\" } }"));
  const std::string before = input.SerializeAsString();
  Evolve(input, created);
  EXPECT_EQ(input.SerializeAsString(), before);
  v1::LotInventory own;
  Evolve(own, created);
  EXPECT_TRUE(own.exists());
  EXPECT_EQ(own.lot_id(), testing::LotId("C01"));
}

}  // namespace
}  // namespace lotledger::inventory
