// Customers as master data in the inventory domain (customers.h): the
// record's rules and their refusal texts, register and update, history as
// of a time, the contracted minimum (product entry > group entry >
// default, the product's own minimum when larger), shipments to a
// registered customer (what the event carries, typed-in fields that
// contradict the record, unregistered ids), the signed override, and FEFO
// for a registered customer. Today is 2026-04-01; the world is
// fixtures.h's World() (A17: 364 days left, A18: 182, B01: 90).
#include "libs/domain/inventory/customers.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/domain/inventory/decider.h"
#include "libs/domain/inventory/fefo.h"
#include "libs/domain/inventory/gate.h"
#include "libs/domain/inventory/tests/fixtures.h"

namespace lotledger::inventory {
namespace {

using testing::Ev;
using testing::Fold;
using ::testing::HasSubstr;
using testing::kItem;
using testing::kToday;
using testing::LotId;
using testing::Parse;

// St. Mary: 400 days for the catheter, 200 for the "drapes" group, 30 by
// default.
constexpr char kRecord[] = R"pb(
  customer_id: "H-12"
  name: "St. Mary"
  region: "DE-South"
  addresses: "Dock 3, Hauptstr. 1, Munich"
  addresses: "Pharmacy, Hauptstr. 1, Munich"
  contacts {
    name: "Dr. Weber"
    role: "materials manager"
    email: "weber@stmary.example"
    phone: "+49 89 1234"
  }
  shelf_life {
    default_min_remaining_days: 30
    products { item: "09506000134352" min_remaining_days: 400 }
    groups {
      group: "drapes"
      items: [ "09506000134369", "09506000134376" ]
      min_remaining_days: 200
    }
  })pb";

v1::CustomerRecord Record(const std::string& extra_text = "") {
  v1::CustomerRecord r = Parse<v1::CustomerRecord>(kRecord);
  if (!extra_text.empty()) {
    v1::CustomerRecord extra = Parse<v1::CustomerRecord>(extra_text);
    r.MergeFrom(extra);
  }
  return r;
}

std::string Registered(const v1::CustomerRecord& r) {
  std::string text;
  google::protobuf::TextFormat::PrintToString(r, &text);
  return absl::StrCat(
      "aggregate_id: \"customer/", r.customer_id(),
      "\" actor: \"admin\" occurred_at { seconds: 1774000000 }"
      " recorded_at { seconds: 1774000000 } customer_registered { customer { ",
      text, " } }");
}

v1::InventoryCommand Cmd(const std::string& text) {
  v1::InventoryCommand cmd = Parse<v1::InventoryCommand>(text);
  cmd.mutable_now()->set_seconds(kToday);
  return cmd;
}

// The world, with St. Mary registered.
v1::InventoryDecisionState WorldWithCustomer(
    const v1::CustomerRecord& r = Record()) {
  std::vector<std::string> given = testing::World();
  given.push_back(Registered(r));
  return Fold(given);
}

// Ships `amount` of `lot_number` from `location` to H-12, typing in
// `customer_extra` and adding `extra` to the request.
v1::InventoryCommand Ship(const std::string& lot_number,
                          const std::string& location, int64_t amount,
                          const std::string& customer_extra = "",
                          const std::string& extra = "") {
  return Cmd(absl::StrCat(
      "ship { shipment_id: \"S-1\" customer { customer_id: \"H-12\" ",
      customer_extra, " } lines { lot_id: \"", LotId(lot_number),
      "\" location_id: \"", location, "\" quantity { amount: ", amount, " } } ",
      extra, " }"));
}

v1::Signature Signed() {
  return Parse<v1::Signature>(
      R"pb(signer: "qa.li"
           meaning: "approved short-dated shipment"
           reason: "customer accepted by phone, ticket 4711"
           signed_at { seconds: 1775001000 }
           authentication: "dev-token")pb");
}

// ---- The record's rules -----------------------------------------------------

TEST(CustomerRecord, ValidRecordPasses) {
  EXPECT_TRUE(ValidateCustomerRecord(Record(), "customer").ok());
}

TEST(CustomerRecord, RefusalsNameTheFieldAndTheRule) {
  struct Case {
    std::string text;
    std::string message;
  };
  const std::vector<Case> cases = {
      {R"pb(customer_id: "H 12")pb",
       "c.customer_id: \"H 12\" must be 1-64 of letters, digits"},
      {R"pb(customer_id: "H-12")pb", "c.name: required"},
      {R"pb(customer_id: "H-12" name: "St. Mary")pb",
       "c.addresses: at least one ship-to address"},
      {R"pb(customer_id: "H-12" name: "St. Mary" addresses: "Dock 3")pb",
       "c.contacts: at least one contact with an email or a phone"},
      {R"pb(customer_id: "H-12"
            name: "St. Mary"
            addresses: "Dock 3"
            contacts { name: "Dr. Weber" })pb",
       "c.contacts[0]: an email or a phone is required"},
      {R"pb(customer_id: "H-12"
            name: "St. Mary"
            addresses: "Dock 3"
            contacts { name: "Dr. Weber" email: "weber.example" })pb",
       "c.contacts[0].email: \"weber.example\" is not an email address"},
      {R"pb(customer_id: "H-12"
            name: "St. Mary"
            addresses: "Dock 3"
            addresses: " "
            contacts { name: "W" phone: "1" })pb",
       "c.addresses[1]: blank"},
      {R"pb(customer_id: "H-12"
            name: "St. Mary"
            addresses: "Dock 3"
            contacts { name: "W" phone: "1" }
            shelf_life { default_min_remaining_days: -1 })pb",
       "c.shelf_life.default_min_remaining_days: must not be negative, got "
       "-1"},
      {R"pb(customer_id: "H-12"
            name: "St. Mary"
            addresses: "Dock 3"
            contacts { name: "W" phone: "1" }
            shelf_life {
              products { item: "A" min_remaining_days: 1 }
              products { item: "A" min_remaining_days: 2 }
            })pb",
       "c.shelf_life.products[1].item: A has a product entry already"},
      {R"pb(customer_id: "H-12"
            name: "St. Mary"
            addresses: "Dock 3"
            contacts { name: "W" phone: "1" }
            shelf_life {
              groups { group: "g1" items: "A" min_remaining_days: 1 }
              groups { group: "g2" items: "A" min_remaining_days: 2 }
            })pb",
       "c.shelf_life.groups[1].items[0]: A is in group \"g1\" already; an "
       "item is in at most one group"},
  };
  for (const Case& c : cases) {
    absl::Status s =
        ValidateCustomerRecord(Parse<v1::CustomerRecord>(c.text), "c");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.text;
    EXPECT_THAT(s.message(), HasSubstr(c.message)) << c.text;
  }
}

// ---- Register and update ----------------------------------------------------

TEST(CustomerDecide, RegisterWritesTheRecordUnderItsOwnKey) {
  v1::InventoryCommand cmd = Cmd(R"pb(register_customer { reason: "ERP" })pb");
  *cmd.mutable_register_customer()->mutable_customer() = Record();
  absl::StatusOr<std::vector<v1::Event>> events =
      Decide(Fold(testing::World()), cmd);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 1u);
  const v1::Event& e = (*events)[0];
  EXPECT_EQ(e.aggregate_id(), "customer/H-12");
  EXPECT_TRUE(e.lot_ids().empty());
  EXPECT_EQ(e.customer_registered().customer().name(), "St. Mary");
  EXPECT_EQ(e.customer_registered().reason(), "ERP");
}

TEST(CustomerDecide, RegisterAgainIsANoOpOrRefusedWhenDifferent) {
  v1::InventoryCommand same = Cmd("register_customer {}");
  *same.mutable_register_customer()->mutable_customer() = Record();
  absl::StatusOr<std::vector<v1::Event>> events =
      Decide(WorldWithCustomer(), same);
  ASSERT_TRUE(events.ok()) << events.status();
  EXPECT_TRUE(events->empty());

  v1::InventoryCommand other = same;
  other.mutable_register_customer()->mutable_customer()->set_name("St. Marie");
  events = Decide(WorldWithCustomer(), other);
  EXPECT_EQ(events.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(events.status().message(),
              HasSubstr("customer H-12 (St. Mary) is registered already with "
                        "another record; change it with UpdateCustomer"));
}

TEST(CustomerDecide, UpdateNeedsAReasonAndARegisteredCustomer) {
  v1::InventoryCommand cmd = Cmd("update_customer {}");
  *cmd.mutable_update_customer()->mutable_customer() = Record();
  cmd.mutable_update_customer()->mutable_customer()->set_region("DE-North");
  absl::StatusOr<std::vector<v1::Event>> events =
      Decide(WorldWithCustomer(), cmd);
  EXPECT_EQ(events.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(events.status().message(),
              HasSubstr("update_customer.reason: required"));

  cmd.mutable_update_customer()->set_reason("moved");
  events = Decide(Fold(testing::World()), cmd);
  EXPECT_EQ(events.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(events.status().message(),
              HasSubstr("customer H-12 is not registered; register it first"));

  events = Decide(WorldWithCustomer(), cmd);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].customer_updated().customer().region(), "DE-North");
  EXPECT_EQ((*events)[0].customer_updated().reason(), "moved");

  // The same record again: nothing to write.
  *cmd.mutable_update_customer()->mutable_customer() = Record();
  events = Decide(WorldWithCustomer(), cmd);
  ASSERT_TRUE(events.ok()) << events.status();
  EXPECT_TRUE(events->empty());
}

TEST(CustomerHistory, AsOfReadsTheChosenClock) {
  v1::CustomerHistory history;
  v1::Event registered =
      Ev(Registered(Record()));  // business = record 1774000000
  EvolveCustomer(history, registered);
  // An update recorded at 1775000000 that took effect at 1774500000.
  v1::Event updated = Ev(
      R"pb(aggregate_id: "customer/H-12"
           actor: "admin"
           occurred_at { seconds: 1774500000 }
           recorded_at { seconds: 1775000000 }
           customer_updated { reason: "moved" })pb");
  *updated.mutable_customer_updated()->mutable_customer() = Record();
  updated.mutable_customer_updated()->mutable_customer()->set_region(
      "DE-North");
  EvolveCustomer(history, updated);
  ASSERT_EQ(history.versions_size(), 2);
  EXPECT_EQ(history.versions(1).version(), 2);
  EXPECT_EQ(history.versions(1).reason(), "moved");

  google::protobuf::Timestamp t;
  t.set_seconds(1773999999);
  EXPECT_EQ(CustomerAsOf(history, t, false), nullptr);
  t.set_seconds(1774600000);
  EXPECT_EQ(CustomerAsOf(history, t, false)->customer().region(), "DE-North");
  EXPECT_EQ(CustomerAsOf(history, t, true)->customer().region(), "DE-South");
  t.set_seconds(1775000000);
  EXPECT_EQ(CustomerAsOf(history, t, true)->customer().region(), "DE-North");
}

// ---- The contracted minimum -------------------------------------------------

TEST(ContractedShelfLife, ProductEntryThenGroupThenDefault) {
  const v1::CustomerRecord r = Record();
  ShelfLifeRequirement product = ContractedShelfLife(r, kItem);
  EXPECT_EQ(product.days, 400);
  EXPECT_EQ(product.by,
            "customer H-12 (St. Mary) contracted minimum for product "
            "09506000134352");
  ShelfLifeRequirement group = ContractedShelfLife(r, "09506000134376");
  EXPECT_EQ(group.days, 200);
  EXPECT_EQ(group.by,
            "customer H-12 (St. Mary) contracted minimum for group drapes "
            "(product 09506000134376)");
  ShelfLifeRequirement other = ContractedShelfLife(r, "09506000999999");
  EXPECT_EQ(other.days, 30);
  EXPECT_EQ(other.by, "customer H-12 (St. Mary) contracted default minimum");

  // A product entry wins over its group even when it asks for less.
  v1::CustomerRecord less = r;
  less.mutable_shelf_life()->mutable_products(0)->set_item("09506000134369");
  less.mutable_shelf_life()->mutable_products(0)->set_min_remaining_days(10);
  EXPECT_EQ(ContractedShelfLife(less, "09506000134369").days, 10);
}

TEST(ContractedShelfLife, TheProductsMinimumAppliesWhenLarger) {
  v1::Product product;
  product.set_item(kItem);
  product.mutable_policy()->set_min_remaining_days_to_ship(60);
  // Default 30 < product 60: the product's.
  ShelfLifeRequirement r = RequiredShelfLife(
      ContractedShelfLife(Record(), "09506000999999"), &product);
  EXPECT_EQ(r.days, 60);
  EXPECT_EQ(r.by, "product 09506000134352");
  r = RequiredShelfLife(ContractedShelfLife(Record(), kItem), &product);
  EXPECT_EQ(r.days, 400);
}

// ---- Shipments --------------------------------------------------------------

TEST(ShipToRegistered, RefusedBelowTheContractedMinimumNamingCustomer) {
  // A17 has 364 days left; St. Mary contracted 400 for the catheter.
  absl::StatusOr<std::vector<v1::Event>> events =
      Decide(WorldWithCustomer(), Ship("A17", "FRA-WH1-B07", 5));
  EXPECT_EQ(events.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(
      events.status().message(),
      HasSubstr("lot 09506000134352:A17 has 364 days of shelf life left on "
                "2026-04-01 (expires 2027-03-31); customer H-12 (St. Mary) "
                "contracted minimum for product 09506000134352 requires at "
                "least 400 days"));
}

TEST(ShipToRegistered, EventsCarryTheRegisteredRecord) {
  v1::CustomerRecord r = Record();
  r.mutable_shelf_life()->mutable_products(0)->set_min_remaining_days(100);
  absl::StatusOr<std::vector<v1::Event>> events =
      Decide(WorldWithCustomer(r),
             Ship("A17", "FRA-WH1-B07", 5,
                  R"pb(address: "Pharmacy, Hauptstr. 1, Munich")pb"));
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 1u);
  const v1::StockShipped& s = (*events)[0].stock_shipped();
  EXPECT_EQ(s.customer().name(), "St. Mary");
  EXPECT_EQ(s.customer().region(), "DE-South");
  EXPECT_EQ(s.customer().address(), "Pharmacy, Hauptstr. 1, Munich");
  EXPECT_EQ(s.customer().min_remaining_shelf_life_days(), 100);
  EXPECT_EQ(s.customer().registered_version(), 1);
  ASSERT_EQ(s.customer().contacts_size(), 1);
  EXPECT_EQ(s.customer().contacts(0).email(), "weber@stmary.example");
  EXPECT_EQ(s.required_shelf_life_days(), 100);
  EXPECT_FALSE(s.has_shelf_life_override());
}

TEST(ShipToRegistered, TypedFieldsThatContradictTheRecordAreRefused) {
  struct Case {
    std::string typed;
    std::string message;
  };
  const std::vector<Case> cases = {
      {R"pb(name: "St. Marie")pb",
       "ship.customer.name: \"St. Marie\" contradicts customer H-12 (St. "
       "Mary) as registered (\"St. Mary\")"},
      {R"pb(region: "AT")pb", "ship.customer.region: \"AT\" contradicts"},
      {R"pb(address: "Elsewhere 1")pb",
       "ship.customer.address: \"Elsewhere 1\" is not a ship-to address of "
       "customer H-12 (St. Mary)"},
      {R"pb(min_remaining_shelf_life_days: 90)pb",
       "ship.customer.min_remaining_shelf_life_days: 90 contradicts "
       "customer H-12 (St. Mary)'s contracted minimum of 400 days for "
       "product 09506000134352"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::vector<v1::Event>> events =
        Decide(WorldWithCustomer(), Ship("A17", "FRA-WH1-B07", 5, c.typed));
    EXPECT_EQ(events.status().code(), absl::StatusCode::kFailedPrecondition)
        << c.typed;
    EXPECT_THAT(events.status().message(), HasSubstr(c.message)) << c.typed;
  }
  // Typed-in fields that agree are fine.
  absl::StatusOr<std::vector<v1::Event>> events =
      Decide(WorldWithCustomer(),
             Ship("A18", "FRA-WH1-B07", 5, R"pb(name: "St. Mary"
                                                region: "DE-South")pb"));
  // A18 (182 days) still falls short of 400: refused by the gate, not by
  // the typed fields.
  EXPECT_THAT(events.status().message(), HasSubstr("requires at least 400"));
}

TEST(ShipToUnregistered, TypedFieldsShipUnlessRegistrationIsRequired) {
  v1::InventoryCommand cmd = Ship("A17", "FRA-WH1-B07", 5,
                                  R"pb(name: "Typed"
                                       min_remaining_shelf_life_days: 100)pb");
  absl::StatusOr<std::vector<v1::Event>> events =
      Decide(Fold(testing::World()), cmd);
  ASSERT_TRUE(events.ok()) << events.status();
  EXPECT_EQ((*events)[0].stock_shipped().customer().name(), "Typed");
  EXPECT_EQ((*events)[0].stock_shipped().customer().registered_version(), 0);
  EXPECT_EQ((*events)[0].stock_shipped().required_shelf_life_days(), 100);

  cmd.set_require_registered_customers(true);
  events = Decide(Fold(testing::World()), cmd);
  EXPECT_EQ(events.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(events.status().message(),
              HasSubstr("customer H-12 is not registered; this service ships "
                        "only to registered customers"));
}

// ---- The override -----------------------------------------------------------

TEST(ShelfLifeOverride, RefusedWithoutASignature) {
  absl::StatusOr<std::vector<v1::Event>> events =
      Decide(WorldWithCustomer(),
             Ship("A17", "FRA-WH1-B07", 5, "",
                  "shelf_life_override { min_remaining_days: 300 }"));
  EXPECT_EQ(events.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(events.status().message(),
              HasSubstr("ship.shelf_life_override.signature: required: "
                        "overriding the customer's minimum shelf life is an "
                        "electronic signature (who, meaning, reason, when)"));
}

TEST(ShelfLifeOverride, SignedOverrideShipsAndIsRecorded) {
  v1::InventoryCommand cmd =
      Ship("A17", "FRA-WH1-B07", 5, "",
           "shelf_life_override { min_remaining_days: 300 }");
  *cmd.mutable_shelf_life_override_signature() = Signed();
  absl::StatusOr<std::vector<v1::Event>> events =
      Decide(WorldWithCustomer(), cmd);
  ASSERT_TRUE(events.ok()) << events.status();
  const v1::StockShipped& s = (*events)[0].stock_shipped();
  EXPECT_EQ(s.required_shelf_life_days(), 300);
  // The contract as it stands, and what the override replaced.
  EXPECT_EQ(s.customer().min_remaining_shelf_life_days(), 400);
  EXPECT_EQ(s.shelf_life_override().min_remaining_days(), 300);
  EXPECT_EQ(s.shelf_life_override().overridden_days(), 400);
  EXPECT_EQ(s.shelf_life_override().overridden_by(),
            "customer H-12 (St. Mary) contracted minimum for product "
            "09506000134352");
  EXPECT_EQ(s.shelf_life_override().signature().signer(), "qa.li");
  EXPECT_EQ(s.shelf_life_override().signature().reason(),
            "customer accepted by phone, ticket 4711");
  EXPECT_EQ(s.customer().contacts(0).name(), "Dr. Weber");
}

TEST(ShelfLifeOverride, NeverBelowTheProductsMinimum) {
  // B01 has 90 days; the product asks for 60, so an override to 0 lets it
  // ship, but C01 (19 days) stays refused by the product's minimum.
  v1::InventoryCommand cmd = Ship(
      "C01", "FRA-WH1", 1, "", "shelf_life_override { min_remaining_days: 0 }");
  *cmd.mutable_shelf_life_override_signature() = Signed();
  absl::StatusOr<std::vector<v1::Event>> events =
      Decide(WorldWithCustomer(), cmd);
  EXPECT_EQ(events.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(events.status().message(),
              HasSubstr("product 09506000134352 requires at least 60 days"));

  cmd = Ship("B01", "FRA-WH1", 1, "",
             "shelf_life_override { min_remaining_days: 0 }");
  *cmd.mutable_shelf_life_override_signature() = Signed();
  events = Decide(WorldWithCustomer(), cmd);
  ASSERT_TRUE(events.ok()) << events.status();
  EXPECT_EQ((*events)[0].stock_shipped().required_shelf_life_days(), 60);
}

// ---- FEFO -------------------------------------------------------------------

TEST(FefoForRegistered, UsesTheContractedMinimum) {
  v1::CustomerRecord r = Record();
  r.mutable_shelf_life()->mutable_products(0)->set_min_remaining_days(200);
  v1::AllocateFefoRequest req = Parse<v1::AllocateFefoRequest>(
      R"pb(item: "09506000134352"
           quantity { amount: 10 }
           customer { customer_id: "H-12" })pb");
  v1::Date today;
  today.set_year(2026);
  today.set_month(4);
  today.set_day(1);
  absl::StatusOr<v1::AllocateFefoResponse> resp =
      AllocateFefo(WorldWithCustomer(r), req, today);
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->required_shelf_life_days(), 200);
  EXPECT_EQ(resp->required_by(),
            "customer H-12 (St. Mary) contracted minimum for product "
            "09506000134352");
  // A18 (182 days) and B01 (90) are skipped; A17 (364) is picked.
  ASSERT_GE(resp->lines_size(), 1);
  EXPECT_EQ(resp->lines(0).lot_id(), LotId("A17"));

  req.mutable_customer()->set_min_remaining_shelf_life_days(10);
  resp = AllocateFefo(WorldWithCustomer(r), req, today);
  EXPECT_EQ(resp.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(resp.status().message(),
              HasSubstr("allocate_fefo.customer.min_remaining_shelf_life_days: "
                        "10 contradicts"));
}

}  // namespace
}  // namespace lotledger::inventory
