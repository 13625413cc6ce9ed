// Customers as master data of the inventory service, over real gRPC: on
// the embedded log (all services in one process, TestStack) and on the
// Kafka broker ($LOTLEDGER_TEST_KAFKA) with every service its own process
// (ServiceCluster, the production shape). One story on both:
//   * a hospital registered with a 400-day contracted minimum for the
//     catheter; a retried RegisterCustomer (same request id) is answered
//     once and writes one version;
//   * a lot with 200 days left is refused for it, naming the customer and
//     the contracted minimum; the same shipment with an override but no
//     signature is refused; with a signed override it ships, and the
//     StockShipped carries the signature and the customer's recall
//     contact;
//   * a recall of the lot notifies the hospital with that contact (the
//     recall service copies the shipment's customer);
//   * after an update, GetCustomer as of a time before it (record time,
//     and business time for a back-dated registration) answers the old
//     record.
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "libs/common/proto_time.h"
#include "libs/domain/lots/dates.h"
#include "lotledger/v1/inventory.grpc.pb.h"
#include "lotledger/v1/lots.grpc.pb.h"
#include "lotledger/v1/quality.grpc.pb.h"
#include "lotledger/v1/recall.grpc.pb.h"
#include "tests/support/stack.h"
#include "tests/support/tokens.h"
#include "tests/support/two_shapes.h"

namespace lotledger::testing {
namespace {

constexpr char kDevice[] = "09506000134352";
constexpr char kWarehouse[] = "MUC-WH1";

class CustomersTest : public TwoShapesTest {
 protected:
  void Remember(const v1::ConsistencyToken& t) { MergeToken(t, &token_); }

  // The catheter (the product asks for 30 days) and a lot of it that
  // expires 200 days from today, released, 100 EA received at MUC-WH1.
  void MakeReleasedStock() {
    const absl::CivilDay today =
        absl::ToCivilDay(absl::Now(), absl::UTCTimeZone());
    v1::DefineProductRequest def;
    def.set_request_id(NewRequestId());
    v1::Product* p = def.mutable_product();
    p->set_item(kDevice);
    p->set_name("catheter");
    p->set_uom("EA");
    p->set_kind(v1::ITEM_KIND_FINISHED_DEVICE);
    p->mutable_policy()->set_shelf_life_days(730);
    p->mutable_policy()->set_min_remaining_days_to_ship(30);
    v1::DefineProductResponse defined;
    grpc::Status s = lots_->DefineProduct(Ctx("admin").get(), def, &defined);
    ASSERT_TRUE(s.ok()) << s.error_message();
    Remember(defined.token());

    v1::CreateLotRequest lot;
    lot.set_request_id(NewRequestId());
    lot.set_item(kDevice);
    lot.set_lot_number("C200");
    *lot.mutable_manufactured_on() = lots::FromCivilDay(today - 100);
    *lot.mutable_expires_on() = lots::FromCivilDay(today + 200);
    lot.mutable_quantity()->set_amount(100);
    lot.mutable_quantity()->set_uom("EA");
    lot.set_site("Galway");
    v1::CreateLotResponse created;
    s = lots_->CreateLot(Ctx("operator").get(), lot, &created);
    ASSERT_TRUE(s.ok()) << s.error_message();
    Remember(created.token());
    lot_id_ = created.lot().lot_id();

    v1::RecordInspectionRequest ins = FinalInspection(lot_id_);
    *ins.mutable_after() = token_;
    v1::RecordInspectionResponse inspected;
    s = quality_->RecordInspection(Ctx("inspector").get(), ins, &inspected);
    ASSERT_TRUE(s.ok()) << s.error_message();
    Remember(inspected.token());
    v1::ChangeDispositionRequest rel;
    rel.set_request_id(NewRequestId());
    rel.set_lot_id(lot_id_);
    rel.set_to(v1::DISPOSITION_RELEASED);
    rel.mutable_signature()->set_meaning("approved for release");
    rel.mutable_signature()->set_reason("final inspection passed");
    rel.mutable_signature()->set_credential(Token("approver"));
    *rel.mutable_after() = token_;
    v1::ChangeDispositionResponse released;
    s = quality_->ChangeDisposition(Ctx("approver").get(), rel, &released);
    ASSERT_TRUE(s.ok()) << s.error_message();
    Remember(released.token());

    const std::vector<std::tuple<std::string, v1::LocationKind, std::string>>
        tree = {{"ACME", v1::LOCATION_KIND_SITE, ""},
                {"DE", v1::LOCATION_KIND_REGION, "ACME"},
                {kWarehouse, v1::LOCATION_KIND_WAREHOUSE, "DE"}};
    for (const auto& [id, kind, parent] : tree) {
      v1::CreateLocationRequest loc;
      loc.set_request_id(NewRequestId());
      loc.set_location_id(id);
      loc.set_name(id);
      loc.set_kind(kind);
      loc.set_parent_id(parent);
      v1::CreateLocationResponse made;
      s = inventory_->CreateLocation(Ctx("admin").get(), loc, &made);
      ASSERT_TRUE(s.ok()) << id << ": " << s.error_message();
      Remember(made.token());
    }
    v1::ReceiveStockRequest rec;
    rec.set_request_id(NewRequestId());
    rec.set_lot_id(lot_id_);
    rec.set_location_id(kWarehouse);
    rec.mutable_quantity()->set_amount(100);
    rec.set_source(v1::RECEIPT_SOURCE_PRODUCTION);
    *rec.mutable_after() = token_;
    v1::ReceiveStockResponse received;
    s = inventory_->ReceiveStock(Ctx("operator").get(), rec, &received);
    ASSERT_TRUE(s.ok()) << s.error_message();
    Remember(received.token());
  }

  static v1::CustomerRecord StMary() {
    v1::CustomerRecord r;
    r.set_customer_id("H-12");
    r.set_name("St. Mary");
    r.set_region("DE-South");
    r.add_addresses("Dock 3, Hauptstr. 1, Munich");
    v1::CustomerContact* c = r.add_contacts();
    c->set_name("Dr. Weber");
    c->set_role("materials manager");
    c->set_email("weber@stmary.example");
    c->set_phone("+49 89 1234");
    r.mutable_shelf_life()->set_default_min_remaining_days(60);
    v1::ProductShelfLife* ps = r.mutable_shelf_life()->add_products();
    ps->set_item(kDevice);
    ps->set_min_remaining_days(400);
    return r;
  }

  v1::ShipStockRequest Shipment() const {
    v1::ShipStockRequest req;
    req.set_request_id(NewRequestId());
    req.mutable_customer()->set_customer_id("H-12");
    v1::ShipmentLine* line = req.add_lines();
    line->set_lot_id(lot_id_);
    line->set_location_id(kWarehouse);
    line->mutable_quantity()->set_amount(10);
    line->mutable_quantity()->set_uom("EA");
    *req.mutable_after() = token_;
    return req;
  }

  v1::ConsistencyToken token_;
  std::string lot_id_;
};

TEST_P(CustomersTest, ContractedMinimumOverrideWithSignatureAndHistory) {
  ASSERT_NO_FATAL_FAILURE(MakeReleasedStock());
  const absl::Time start = absl::Now();

  // Registered, back-dated two days in business time; a retry with the
  // same request id is answered once.
  v1::RegisterCustomerRequest reg;
  reg.set_request_id(NewRequestId());
  *reg.mutable_customer() = StMary();
  reg.set_reason("contract 2026");
  ToTimestamp(start - absl::Hours(48), reg.mutable_occurred_at());
  v1::RegisterCustomerResponse first;
  grpc::Status s =
      inventory_->RegisterCustomer(Ctx("admin").get(), reg, &first);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(first.created());
  EXPECT_EQ(first.customer().version(), 1);
  v1::RegisterCustomerResponse again;
  s = inventory_->RegisterCustomer(Ctx("admin").get(), reg, &again);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(again.created());
  EXPECT_EQ(again.customer().event_id(), first.customer().event_id());
  Remember(first.token());
  // Only an admin registers customers.
  s = inventory_->RegisterCustomer(Ctx("operator").get(), reg, &again);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);

  // 200 days left, 400 contracted: refused, naming both.
  v1::ShipStockRequest ship = Shipment();
  *ship.mutable_after() = token_;
  v1::ShipStockResponse shipped;
  s = inventory_->ShipStock(Ctx("operator").get(), ship, &shipped);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find(
                absl::StrCat("has 200 days of shelf life left on")),
            std::string::npos)
      << s.error_message();
  EXPECT_NE(s.error_message().find(
                "customer H-12 (St. Mary) contracted minimum for product "
                "09506000134352 requires at least 400 days"),
            std::string::npos)
      << s.error_message();

  // An override without a signature is refused.
  ship = Shipment();
  ship.mutable_shelf_life_override()->set_min_remaining_days(150);
  s = inventory_->ShipStock(Ctx("operator").get(), ship, &shipped);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(
      s.error_message().find("ship.shelf_life_override.signature: required"),
      std::string::npos)
      << s.error_message();

  // Signed, it ships; the event carries the signature and the contact.
  v1::SignatureRequest* sig =
      ship.mutable_shelf_life_override()->mutable_signature();
  sig->set_meaning("approved short-dated shipment");
  sig->set_reason("St. Mary accepted 200 days, ticket 4711");
  sig->set_credential(Token("operator"));
  s = inventory_->ShipStock(Ctx("operator").get(), ship, &shipped);
  ASSERT_TRUE(s.ok()) << s.error_message();
  Remember(shipped.token());
  EXPECT_EQ(shipped.shipment().customer().name(), "St. Mary");
  ASSERT_EQ(shipped.shipment().customer().contacts_size(), 1);
  EXPECT_EQ(shipped.shipment().customer().contacts(0).email(),
            "weber@stmary.example");

  v1::ListMovementsRequest mreq;
  mreq.set_lot_id(lot_id_);
  *mreq.mutable_after() = token_;
  v1::ListMovementsResponse moves;
  s = inventory_->ListMovements(Ctx("auditor").get(), mreq, &moves);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const v1::StockShipped* event = nullptr;
  for (const v1::Event& e : moves.events()) {
    if (e.has_stock_shipped()) event = &e.stock_shipped();
  }
  ASSERT_NE(event, nullptr);
  EXPECT_EQ(event->required_shelf_life_days(), 150);
  EXPECT_EQ(event->shelf_life_override().overridden_days(), 400);
  EXPECT_EQ(event->shelf_life_override().signature().signer(),
            Principal("operator"));
  EXPECT_EQ(event->shelf_life_override().signature().reason(),
            "St. Mary accepted 200 days, ticket 4711");
  EXPECT_EQ(event->customer().registered_version(), 1);
  EXPECT_EQ(event->customer().address(), "Dock 3, Hauptstr. 1, Munich");
  ASSERT_EQ(event->customer().contacts_size(), 1);
  EXPECT_EQ(event->customer().contacts(0).phone(), "+49 89 1234");

  // A recall notice copies the shipment's customer: the contact is there.
  v1::InitiateRequest init;
  init.set_request_id(NewRequestId());
  init.set_recall_id("R-CUST-1");
  init.set_classification(v1::RECALL_CLASS_II);
  init.set_title("Seal leak");
  init.set_reason("seal strength below specification");
  init.set_health_hazard("possible contamination");
  init.mutable_criteria()->add_lot_ids(lot_id_);
  init.mutable_signature()->set_meaning("recall initiated");
  init.mutable_signature()->set_reason("seal leak confirmed");
  init.mutable_signature()->set_credential(Token("recall"));
  *init.mutable_after() = token_;
  v1::InitiateResponse initiated;
  s = recall_->Initiate(Ctx("recall").get(), init, &initiated);
  ASSERT_TRUE(s.ok()) << s.error_message();
  Remember(initiated.token());
  v1::GenerateNotificationsRequest gen;
  gen.set_request_id(NewRequestId());
  gen.set_recall_id("R-CUST-1");
  *gen.mutable_after() = token_;
  v1::GenerateNotificationsResponse notices;
  s = recall_->GenerateNotifications(Ctx("recall").get(), gen, &notices);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(notices.issued_size(), 1);
  const v1::Customer& notified = notices.issued(0).notice().customer();
  EXPECT_EQ(notified.customer_id(), "H-12");
  ASSERT_EQ(notified.contacts_size(), 1);
  EXPECT_EQ(notified.contacts(0).email(), "weber@stmary.example");

  // An update; before it, the old record.
  const absl::Time before_update = absl::Now();
  v1::UpdateCustomerRequest upd;
  upd.set_request_id(NewRequestId());
  *upd.mutable_customer() = StMary();
  upd.mutable_customer()->set_region("DE-North");
  upd.mutable_customer()->mutable_contacts(0)->set_email(
      "recall@stmary.example");
  upd.set_reason("moved to the new campus");
  *upd.mutable_after() = token_;
  v1::UpdateCustomerResponse updated;
  s = inventory_->UpdateCustomer(Ctx("admin").get(), upd, &updated);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(updated.changed());
  EXPECT_EQ(updated.customer().version(), 2);
  Remember(updated.token());

  v1::GetCustomerRequest get;
  get.set_customer_id("H-12");
  *get.mutable_after() = token_;
  v1::GetCustomerResponse now;
  s = inventory_->GetCustomer(Ctx("auditor").get(), get, &now);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(now.customer().customer().region(), "DE-North");
  ASSERT_EQ(now.versions_size(), 2);  // the retried register wrote one
  EXPECT_EQ(now.versions(1).reason(), "moved to the new campus");
  EXPECT_EQ(now.versions(1).actor(), "admin");

  ToTimestamp(before_update, get.mutable_as_of());
  get.set_record_time(true);
  v1::GetCustomerResponse then;
  s = inventory_->GetCustomer(Ctx("auditor").get(), get, &then);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(then.customer().version(), 1);
  EXPECT_EQ(then.customer().customer().region(), "DE-South");
  EXPECT_EQ(then.customer().customer().contacts(0).email(),
            "weber@stmary.example");

  // Business time: a day ago it was registered (back-dated) and not yet
  // updated; three days ago it was not registered at all.
  ToTimestamp(start - absl::Hours(24), get.mutable_as_of());
  get.set_record_time(false);
  s = inventory_->GetCustomer(Ctx("auditor").get(), get, &then);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(then.customer().customer().region(), "DE-South");
  ToTimestamp(start - absl::Hours(72), get.mutable_as_of());
  s = inventory_->GetCustomer(Ctx("auditor").get(), get, &then);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(s.error_message().find("was not registered yet"), std::string::npos)
      << s.error_message();

  v1::ListCustomersRequest list;
  list.set_region("DE-North");
  *list.mutable_after() = token_;
  v1::ListCustomersResponse listed;
  s = inventory_->ListCustomers(Ctx("auditor").get(), list, &listed);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(listed.customers_size(), 1);
  EXPECT_EQ(listed.customers(0).customer().customer_id(), "H-12");
}

INSTANTIATE_TEST_SUITE_P(Shapes, CustomersTest,
                         ::testing::Values(Shape::kEmbedded,
                                           Shape::kKafkaProcesses),
                         ShapeName);

}  // namespace
}  // namespace lotledger::testing
