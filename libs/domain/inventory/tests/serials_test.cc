// The serial rules of the inventory decider (issue 19): movements of a
// product tracked by serial name their serials, each serial is in one
// place, receipts take only serials the register assigns to the lot, a
// product tracked by lot refuses serials, usage reports, counts by serial,
// and a recall by serial blocks only its serials. Each refusal's text is
// asserted. The state is folded with Evolve from given events and from
// the events earlier decisions returned, as the service's projection does.
#include "libs/domain/serials/serials.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/domain/inventory/decider.h"
#include "libs/domain/inventory/serial_places.h"
#include "libs/domain/inventory/tests/fixtures.h"

namespace lotledger::inventory {
namespace {

using testing::Ev;
using ::testing::HasSubstr;
using testing::Parse;

constexpr char kImplant[] = "09506000200001";
const std::string kL1 = std::string(kImplant) + ":L1";
const std::string kL2 = std::string(kImplant) + ":L2";

std::string ImplantLot(const std::string& id, const std::string& number) {
  return absl::StrCat("aggregate_id: \"", id, "\" lot_ids: \"", id,
                      "\" lot_created { lot_id: \"", id, "\" item: \"",
                      kImplant, "\" lot_number: \"", number,
                      "\" expires_on { year: 2030 month: 1 day: 1 }",
                      " quantity { amount: 10 uom: \"EA\" } }");
}

std::string Assigned(const std::string& id, const std::string& first,
                     const std::string& last) {
  return absl::StrCat("aggregate_id: \"", id, "\" lot_ids: \"", id,
                      "\" serials_assigned { lot_id: \"", id, "\" item: \"",
                      kImplant, "\" serials { first: \"", first, "\" last: \"",
                      last, "\" } }");
}

// The catheter world (tracked by lot) plus a hip implant tracked by
// serial: lot L1 (released) with SN0001..SN0010, L2 with SN0011..SN0012.
std::vector<std::string> Given() {
  std::vector<std::string> given = testing::World();
  given.push_back(absl::StrCat(
      "aggregate_id: \"", kImplant, "\" product_defined { product { item: \"",
      kImplant, "\" name: \"Hip stem\" uom: \"EA\"",
      " kind: ITEM_KIND_FINISHED_DEVICE tracking: TRACKING_SERIAL } }"));
  given.push_back(ImplantLot(kL1, "L1"));
  given.push_back(absl::StrCat(
      "aggregate_id: \"", kL1, "\" lot_ids: \"", kL1,
      "\" disposition_changed { lot_id: \"", kL1,
      "\" to: DISPOSITION_RELEASED signature { signer: \"qa.li\" } }"));
  given.push_back(Assigned(kL1, "SN0001", "SN0010"));
  given.push_back(ImplantLot(kL2, "L2"));
  given.push_back(Assigned(kL2, "SN0011", "SN0012"));
  return given;
}

class SerialsTest : public ::testing::Test {
 protected:
  SerialsTest() {
    for (const std::string& e : Given()) Evolve(state_, Ev(e));
  }

  absl::StatusOr<std::vector<v1::Event>> Decide(const std::string& when) {
    v1::InventoryCommand cmd = Parse<v1::InventoryCommand>(when);
    if (!cmd.has_now()) cmd.mutable_now()->set_seconds(testing::kToday);
    return inventory::Decide(state_, cmd);
  }

  // Decides and folds the events into the state; the events.
  std::vector<v1::Event> Do(const std::string& when) {
    absl::StatusOr<std::vector<v1::Event>> events = Decide(when);
    EXPECT_TRUE(events.ok()) << events.status();
    if (!events.ok()) return {};
    for (const v1::Event& e : *events) Evolve(state_, e);
    return *events;
  }

  void Refused(const std::string& when, absl::StatusCode code,
               const std::string& text) {
    absl::StatusOr<std::vector<v1::Event>> events = Decide(when);
    ASSERT_FALSE(events.ok()) << when;
    EXPECT_EQ(events.status().code(), code) << events.status();
    EXPECT_THAT(std::string(events.status().message()), HasSubstr(text));
  }

  const v1::SerialStatus& Where(const std::string& serial) {
    return state_.serials().at(domain::SerialKey(kImplant, serial));
  }

  // Receives SN0001..SN0005 at FRA-WH1.
  void ReceiveFive() {
    Do(absl::StrCat("receive { lot_id: \"", kL1,
                    "\" location_id: \"FRA-WH1\" source: "
                    "RECEIPT_SOURCE_PRODUCTION serials { first: \"SN0001\" "
                    "last: \"SN0005\" } }"));
  }

  std::string Ship(const std::string& shipment, const std::string& customer,
                   const std::string& serials_text) {
    return absl::StrCat("ship { shipment_id: \"", shipment,
                        "\" customer { customer_id: \"", customer,
                        "\" } lines { lot_id: \"", kL1,
                        "\" location_id: \"FRA-WH1\" ", serials_text, " } }");
  }

  v1::InventoryDecisionState state_;
};

TEST_F(SerialsTest, ReceiptTakesItsQuantityFromItsSerialsInCanonicalForm) {
  std::vector<v1::Event> events = Do(absl::StrCat(
      "receive { lot_id: \"", kL1,
      "\" location_id: \"FRA-WH1\" source: RECEIPT_SOURCE_PRODUCTION",
      " serials { first: \"SN0007\" } serials { first: \"SN0001\" last: "
      "\"SN0003\" } serials { first: \"SN0004\" } }"));
  ASSERT_EQ(events.size(), 1u);
  const v1::StockReceived& r = events[0].stock_received();
  EXPECT_EQ(r.quantity().amount(), 5);
  EXPECT_EQ(r.quantity().uom(), "EA");
  EXPECT_EQ(domain::FormatSerials(r.serials()), "SN0001..SN0004, SN0007");
  EXPECT_EQ(Where("SN0004").place(), v1::SERIAL_PLACE_IN_STOCK);
  EXPECT_EQ(Where("SN0004").location_id(), "FRA-WH1");
  EXPECT_EQ(Where("SN0004").lot_id(), kL1);
  EXPECT_EQ(state_.lots().at(kL1).on_hand(), 5);
}

TEST_F(SerialsTest, ReceiptRefusesSerialsTheRegisterDoesNotGiveThisLot) {
  Refused(absl::StrCat("receive { lot_id: \"", kL1,
                       "\" location_id: \"FRA-WH1\" source: "
                       "RECEIPT_SOURCE_PRODUCTION serials { first: \"SN4711\" "
                       "} }"),
          absl::StatusCode::kFailedPrecondition,
          absl::StrCat("serial SN4711 is not assigned to lot ", kL1,
                       " (lots service AssignSerials)"));
  Refused(
      absl::StrCat("receive { lot_id: \"", kL1,
                   "\" location_id: \"FRA-WH1\" source: "
                   "RECEIPT_SOURCE_PRODUCTION serials { first: \"SN0011\" "
                   "} }"),
      absl::StatusCode::kFailedPrecondition,
      absl::StrCat("serial SN0011 belongs to lot ", kL2, ", not to lot ", kL1));
}

TEST_F(SerialsTest, ReceiptRefusesASerialAlreadyInStock) {
  ReceiveFive();
  Refused(absl::StrCat("receive { lot_id: \"", kL1,
                       "\" location_id: \"NJ-WH1\" source: "
                       "RECEIPT_SOURCE_PRODUCTION serials { first: \"SN0005\" "
                       "last: \"SN0006\" } }"),
          absl::StatusCode::kFailedPrecondition,
          absl::StrCat("serial SN0005 of lot ", kL1,
                       " is already in stock at FRA-WH1"));
}

TEST_F(SerialsTest, QuantityGivenMustEqualTheNumberOfSerials) {
  Refused(absl::StrCat("receive { lot_id: \"", kL1,
                       "\" location_id: \"FRA-WH1\" source: "
                       "RECEIPT_SOURCE_PRODUCTION quantity { amount: 3 } "
                       "serials { first: \"SN0001\" last: \"SN0002\" } }"),
          absl::StatusCode::kInvalidArgument,
          "receive.quantity.amount: 3, but receive.serials names 2 serials");
  ReceiveFive();
  Refused(Ship("S-1", "H-12",
               "quantity { amount: 1 } serials { first: \"SN0001\" last: "
               "\"SN0002\" }"),
          absl::StatusCode::kInvalidArgument,
          "ship.lines[0].quantity.amount: 1, but ship.lines[0].serials "
          "names 2 serials");
}

TEST_F(SerialsTest, ProductTrackedByLotRefusesSerials) {
  Refused(R"pb(receive {
                 lot_id: "09506000134352:A17"
                 location_id: "FRA-WH1"
                 source: RECEIPT_SOURCE_PRODUCTION
                 quantity { amount: 1 }
                 serials { first: "SN0001" }
               })pb",
          absl::StatusCode::kFailedPrecondition,
          "product 09506000134352 is tracked by lot; receive.serials must be "
          "empty");
}

TEST_F(SerialsTest, MovementOfSerialisedProductMustNameSerials) {
  ReceiveFive();
  Refused(Ship("S-1", "H-12", "quantity { amount: 1 }"),
          absl::StatusCode::kInvalidArgument, "ship.lines[0].serials");
  Refused(absl::StrCat("transfer { lot_id: \"", kL1,
                       "\" from_location_id: \"FRA-WH1\" to_location_id: "
                       "\"NJ-WH1\" quantity { amount: 1 } }"),
          absl::StatusCode::kInvalidArgument, "transfer.serials");
}

TEST_F(SerialsTest, SerialShippedTwiceIsRefusedNamingWhereItIs) {
  ReceiveFive();
  std::vector<v1::Event> shipped = Do(
      Ship("SHP-1", "H-12", "serials { first: \"SN0001\" last: \"SN0002\" }"));
  ASSERT_EQ(shipped.size(), 1u);
  EXPECT_EQ(shipped[0].stock_shipped().quantity().amount(), 2);
  EXPECT_EQ(domain::FormatSerials(shipped[0].stock_shipped().serials()),
            "SN0001..SN0002");
  EXPECT_EQ(Where("SN0002").place(), v1::SERIAL_PLACE_AT_CUSTOMER);
  EXPECT_EQ(Where("SN0002").shipment_id(), "SHP-1");
  Refused(Ship("SHP-2", "H-40", "serials { first: \"SN0002\" }"),
          absl::StatusCode::kFailedPrecondition,
          absl::StrCat("serial SN0002 of lot ", kL1,
                       " is at customer H-12 (shipment SHP-1), not at "
                       "FRA-WH1"));
}

TEST_F(SerialsTest, ShipmentNamingASerialOnTwoLinesIsRefused) {
  ReceiveFive();
  Refused(absl::StrCat("ship { shipment_id: \"S-2\" customer { customer_id: "
                       "\"H-12\" } lines { lot_id: \"",
                       kL1,
                       "\" location_id: \"FRA-WH1\" serials { first: "
                       "\"SN0003\" } } lines { lot_id: \"",
                       kL1,
                       "\" location_id: \"FRA-WH1\" serials { first: "
                       "\"SN0003\" last: \"SN0004\" } } }"),
          absl::StatusCode::kFailedPrecondition,
          "line 2: serial SN0003 is named on line 1 too; a serial ships once");
}

TEST_F(SerialsTest, TransferAndScrapTakeSerialsFromWhereTheyAre) {
  ReceiveFive();
  Do(absl::StrCat("transfer { lot_id: \"", kL1,
                  "\" from_location_id: \"FRA-WH1\" to_location_id: "
                  "\"NJ-WH1\" serials { first: \"SN0005\" } }"));
  EXPECT_EQ(Where("SN0005").location_id(), "NJ-WH1");
  Refused(absl::StrCat("scrap { lot_id: \"", kL1,
                       "\" location_id: \"FRA-WH1\" reason: "
                       "SCRAP_REASON_DAMAGED serials { first: \"SN0005\" } }"),
          absl::StatusCode::kFailedPrecondition,
          absl::StrCat("serial SN0005 of lot ", kL1,
                       " is in stock at NJ-WH1, not at FRA-WH1"));
  Do(absl::StrCat("scrap { lot_id: \"", kL1,
                  "\" location_id: \"NJ-WH1\" reason: SCRAP_REASON_DAMAGED "
                  "serials { first: \"SN0005\" } }"));
  EXPECT_EQ(Where("SN0005").place(), v1::SERIAL_PLACE_SCRAPPED);
}

TEST_F(SerialsTest, ReturnAndUsageTakeOnlySerialsTheCustomerHoldsUnused) {
  ReceiveFive();
  Do(Ship("SHP-1", "H-12", "serials { first: \"SN0001\" last: \"SN0003\" }"));
  // Usage of a serial the customer does not hold.
  Refused(absl::StrCat("report_usage { lot_id: \"", kL1,
                       "\" customer_id: \"H-40\" serials { first: \"SN0002\" "
                       "} used_on { year: 2026 month: 3 day: 30 } }"),
          absl::StatusCode::kFailedPrecondition,
          absl::StrCat("serial SN0002 of lot ", kL1,
                       " is at customer H-12 (shipment SHP-1), not at "
                       "customer H-40"));
  Refused(absl::StrCat("report_usage { lot_id: \"", kL1,
                       "\" customer_id: \"H-12\" serials { first: \"SN0002\" "
                       "} used_on { year: 2026 month: 4 day: 2 } }"),
          absl::StatusCode::kInvalidArgument,
          "report_usage.used_on: 2026-04-02 is after today (2026-04-01)");
  std::vector<v1::Event> used = Do(absl::StrCat(
      "report_usage { lot_id: \"", kL1,
      "\" customer_id: \"H-12\" serials { first: \"SN0002\" } used_on { "
      "year: 2026 month: 3 day: 30 } site: \"OR 3\" }"));
  ASSERT_EQ(used.size(), 1u);
  EXPECT_EQ(used[0].device_usage_reported().count(), 1);
  EXPECT_EQ(used[0].aggregate_id(), kL1);
  EXPECT_EQ(Where("SN0002").place(), v1::SERIAL_PLACE_USED);
  EXPECT_EQ(Where("SN0002").shipment_id(), "SHP-1");
  EXPECT_EQ(Where("SN0002").used_site(), "OR 3");
  // A used serial is neither reported again nor returned.
  Refused(absl::StrCat("return_stock { lot_id: \"", kL1,
                       "\" customer_id: \"H-12\" location_id: \"FRA-WH1\" "
                       "condition: RETURN_CONDITION_RESALEABLE serials { "
                       "first: \"SN0002\" } }"),
          absl::StatusCode::kFailedPrecondition,
          absl::StrCat("serial SN0002 of lot ", kL1,
                       " was reported used at customer H-12 on 2026-03-30; a "
                       "used device cannot be returned"));
  Do(absl::StrCat("return_stock { lot_id: \"", kL1,
                  "\" customer_id: \"H-12\" location_id: \"FRA-WH1\" "
                  "condition: RETURN_CONDITION_RESALEABLE serials { "
                  "first: \"SN0003\" } }"));
  EXPECT_EQ(Where("SN0003").place(), v1::SERIAL_PLACE_IN_STOCK);
  EXPECT_EQ(Where("SN0003").customer_id(), "");
  // Usage of a product tracked by lot.
  Refused(R"pb(report_usage {
                 lot_id: "09506000134352:A17"
                 customer_id: "H-12"
                 serials { first: "SN0001" }
                 used_on { year: 2026 month: 3 day: 30 }
               })pb",
          absl::StatusCode::kFailedPrecondition,
          "product 09506000134352 is tracked by lot; usage is reported by "
          "serial");
}

TEST_F(SerialsTest, CountBySerialDerivesFoundAndMissing) {
  ReceiveFive();
  // SN0004 and SN0005 not found; SN0006 (never received) found.
  std::vector<v1::Event> counted = Do(absl::StrCat(
      "adjust { lot_id: \"", kL1,
      "\" location_id: \"FRA-WH1\" reason: \"cycle count\" serials { first: "
      "\"SN0001\" last: \"SN0003\" } serials { first: \"SN0006\" } }"));
  ASSERT_EQ(counted.size(), 1u);
  const v1::StockAdjusted& a = counted[0].stock_adjusted();
  EXPECT_EQ(a.counted().amount(), 4);
  EXPECT_EQ(a.previous().amount(), 5);
  EXPECT_EQ(a.delta(), -1);
  EXPECT_EQ(domain::FormatSerials(a.serials_found()), "SN0006");
  EXPECT_EQ(domain::FormatSerials(a.serials_missing()), "SN0004..SN0005");
  EXPECT_EQ(Where("SN0004").place(), v1::SERIAL_PLACE_MISSING);
  EXPECT_EQ(Where("SN0006").place(), v1::SERIAL_PLACE_IN_STOCK);
  // The same count again changes nothing.
  EXPECT_TRUE(
      Decide(absl::StrCat("adjust { lot_id: \"", kL1,
                          "\" location_id: \"FRA-WH1\" reason: \"again\" "
                          "serials { first: \"SN0001\" last: "
                          "\"SN0003\" } serials { first: \"SN0006\" } "
                          "}"))
          ->empty());
}

TEST_F(SerialsTest, CountRefusesASerialInStockElsewhereOrOfAnotherLot) {
  ReceiveFive();
  Do(absl::StrCat("transfer { lot_id: \"", kL1,
                  "\" from_location_id: \"FRA-WH1\" to_location_id: "
                  "\"NJ-WH1\" serials { first: \"SN0005\" } }"));
  Refused(absl::StrCat("adjust { lot_id: \"", kL1,
                       "\" location_id: \"FRA-WH1\" reason: \"count\" "
                       "serials { first: \"SN0001\" last: \"SN0005\" } }"),
          absl::StatusCode::kFailedPrecondition,
          absl::StrCat("serial SN0005 of lot ", kL1,
                       " is in stock at NJ-WH1 by the book; transfer it (or "
                       "count NJ-WH1) first"));
  Refused(absl::StrCat("adjust { lot_id: \"", kL1,
                       "\" location_id: \"FRA-WH1\" reason: \"count\" "
                       "serials { first: \"SN0011\" } }"),
          absl::StatusCode::kFailedPrecondition,
          absl::StrCat("serial SN0011 is not assigned to lot ", kL1,
                       " (it belongs to lot ", kL2, ")"));
}

TEST_F(SerialsTest, ReceiptRefusesASerialAtACustomer) {
  ReceiveFive();
  Do(Ship("SHP-1", "H-12", "serials { first: \"SN0001\" }"));
  Refused(absl::StrCat("receive { lot_id: \"", kL1,
                       "\" location_id: \"FRA-WH1\" source: "
                       "RECEIPT_SOURCE_PRODUCTION serials { first: \"SN0001\" "
                       "} }"),
          absl::StatusCode::kFailedPrecondition,
          absl::StrCat("serial SN0001 of lot ", kL1,
                       " is at customer H-12 (shipment SHP-1); a return takes "
                       "it back"));
}

TEST_F(SerialsTest, RecallBySerialBlocksOnlyThoseSerials) {
  ReceiveFive();
  Evolve(state_, Ev(absl::StrCat(
                     "lot_ids: \"", kL1,
                     "\" occurred_at { seconds: 1772409600 } recall_initiated "
                     "{ recall_id: \"R-SN-1\" reason: \"liner wear\" lots { "
                     "lot_id: \"",
                     kL1,
                     "\" reason: SCOPE_REASON_SERIAL_LISTED serials { first: "
                     "\"SN0002\" last: \"SN0003\" } } }")));
  EXPECT_FALSE(state_.lots().at(kL1).recalled());
  Refused(Ship("S-1", "H-12", "serials { first: \"SN0003\" last: \"SN0004\" }"),
          absl::StatusCode::kFailedPrecondition,
          absl::StrCat("serial SN0003 of lot ", kL1,
                       " is under recall R-SN-1 since 2026-03-02: liner wear; "
                       "recalled serials cannot ship"));
  Do(Ship("S-2", "H-12", "serials { first: \"SN0004\" last: \"SN0005\" }"));
  // A recall of the whole lot blocks every serial.
  Evolve(state_, Ev(absl::StrCat("lot_ids: \"", kL1,
                                 "\" recall_initiated { recall_id: \"R-2\" "
                                 "lots { lot_id: \"",
                                 kL1, "\" reason: SCOPE_REASON_LISTED } }")));
  Refused(Ship("S-3", "H-12", "serials { first: \"SN0001\" }"),
          absl::StatusCode::kFailedPrecondition,
          absl::StrCat("lot ", kL1, " is under recall R-2"));
}

TEST_F(SerialsTest, ScanWithSerialReceivesThatSerial) {
  std::vector<v1::Event> events = Do(
      R"pb(receive {
             gs1_scan: "(01)09506000200001(17)300101(10)L1(21)SN0006"
             location_id: "FRA-WH1"
             source: RECEIPT_SOURCE_SUPPLIER
           }
           scanned_label {
             gtin: "09506000200001"
             lot_number: "L1"
             expires_on { year: 2030 month: 1 day: 1 }
             serial: "SN0006"
           })pb");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].stock_received().quantity().amount(), 1);
  EXPECT_EQ(domain::FormatSerials(events[0].stock_received().serials()),
            "SN0006");
}

// The projection writes a serial's status without reading the old one for
// every move but a use: those moves must not depend on what was there.
TEST(SerialPlacesTest, EveryMoveButUseIsIndependentOfThePreviousStatus) {
  v1::SerialStatus full;
  full.set_item("X");
  full.set_serial("S9");
  full.set_lot_id("X:OLD");
  full.set_place(v1::SERIAL_PLACE_USED);
  full.set_location_id("OLD-WH");
  full.set_customer_id("H-OLD");
  full.set_shipment_id("SHP-OLD");
  full.mutable_used_on()->set_year(2020);
  full.set_used_site("old site");
  for (v1::SerialPlace place :
       {v1::SERIAL_PLACE_IN_STOCK, v1::SERIAL_PLACE_AT_CUSTOMER,
        v1::SERIAL_PLACE_SCRAPPED, v1::SERIAL_PLACE_MISSING}) {
    SerialMove move;
    move.lot_id = "09506000134352:H7";
    move.item = "09506000134352";
    move.serials = {"SN0001"};
    move.place = place;
    move.location_id = "MUC-WH1";
    move.customer_id = "H-12";
    move.shipment_id = "SHP-1";
    v1::SerialStatus from_full = full, from_empty;
    ApplySerialMove(from_full, move, "SN0001");
    ApplySerialMove(from_empty, move, "SN0001");
    EXPECT_EQ(from_full.SerializeAsString(), from_empty.SerializeAsString())
        << v1::SerialPlace_Name(place) << ": " << from_full.ShortDebugString()
        << " vs " << from_empty.ShortDebugString();
  }
  // A use keeps the shipment that took the serial to the customer.
  SerialMove use;
  use.lot_id = "X:OLD";
  use.item = "X";
  use.serials = {"S9"};
  use.place = v1::SERIAL_PLACE_USED;
  use.customer_id = "H-OLD";
  v1::SerialStatus shipped = full;
  shipped.set_place(v1::SERIAL_PLACE_AT_CUSTOMER);
  ApplySerialMove(shipped, use, "S9");
  EXPECT_EQ(shipped.shipment_id(), "SHP-OLD");
}

}  // namespace
}  // namespace lotledger::inventory
