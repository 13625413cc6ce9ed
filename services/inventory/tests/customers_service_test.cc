// The inventory service's customer RPCs over real gRPC on the embedded
// log (lots, quality and inventory in one TestStack): refusals name the
// field and the rule; AllocateFefo uses a registered customer's contracted
// minimum, as ShipStock does; typed-in fields that contradict the record
// are refused; a projection rebuilt from the log holds the same history;
// and with LOTLEDGER_REQUIRE_REGISTERED_CUSTOMERS set, a shipment to an id
// that is not registered is refused while a registered one ships.
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "lotledger/v1/inventory.grpc.pb.h"
#include "lotledger/v1/lots.grpc.pb.h"
#include "lotledger/v1/quality.grpc.pb.h"
#include "tests/support/stack.h"
#include "tests/support/tokens.h"

namespace lotledger::testing {
namespace {

constexpr char kDevice[] = "09506000134352";
constexpr char kWarehouse[] = "FRA-WH1";

v1::Date ToDate(absl::CivilDay d) {
  v1::Date out;
  out.set_year(static_cast<int32_t>(d.year()));
  out.set_month(d.month());
  out.set_day(d.day());
  return out;
}

class CustomersServiceTest : public ::testing::Test {
 protected:
  // Starts the stack (after a test set its environment) with a released
  // lot of the catheter, 200 days left, 100 EA at FRA-WH1.
  void Start() {
    stack_ =
        TestStack::Start(Backend::kEmbedded, {"lots", "quality", "inventory"});
    ASSERT_NE(stack_, nullptr);
    Connect();
    const absl::CivilDay today =
        absl::ToCivilDay(absl::Now(), absl::UTCTimeZone());
    v1::DefineProductRequest def;
    def.set_request_id(NewRequestId());
    def.mutable_product()->set_item(kDevice);
    def.mutable_product()->set_name("catheter");
    def.mutable_product()->set_uom("EA");
    def.mutable_product()->set_kind(v1::ITEM_KIND_FINISHED_DEVICE);
    def.mutable_product()->mutable_policy()->set_shelf_life_days(730);
    v1::DefineProductResponse defined;
    grpc::Status s =
        lots_->DefineProduct(stack_->Ctx("admin").get(), def, &defined);
    ASSERT_TRUE(s.ok()) << s.error_message();
    Remember(defined.token());
    v1::CreateLotRequest lot;
    lot.set_request_id(NewRequestId());
    lot.set_item(kDevice);
    lot.set_lot_number("K1");
    *lot.mutable_manufactured_on() = ToDate(today - 30);
    *lot.mutable_expires_on() = ToDate(today + 200);
    lot.mutable_quantity()->set_amount(100);
    lot.mutable_quantity()->set_uom("EA");
    v1::CreateLotResponse created;
    s = lots_->CreateLot(stack_->Ctx("operator").get(), lot, &created);
    ASSERT_TRUE(s.ok()) << s.error_message();
    Remember(created.token());
    lot_id_ = created.lot().lot_id();
    v1::RecordInspectionRequest ins = FinalInspection(lot_id_);
    *ins.mutable_after() = token_;
    v1::RecordInspectionResponse inspected;
    s = quality_->RecordInspection(stack_->Ctx("inspector").get(), ins,
                                   &inspected);
    ASSERT_TRUE(s.ok()) << s.error_message();
    Remember(inspected.token());
    v1::ChangeDispositionRequest rel;
    rel.set_request_id(NewRequestId());
    rel.set_lot_id(lot_id_);
    rel.set_to(v1::DISPOSITION_RELEASED);
    rel.mutable_signature()->set_meaning("approved for release");
    rel.mutable_signature()->set_reason("final inspection passed");
    rel.mutable_signature()->set_credential(stack_->Token("approver"));
    *rel.mutable_after() = token_;
    v1::ChangeDispositionResponse released;
    s = quality_->ChangeDisposition(stack_->Ctx("approver").get(), rel,
                                    &released);
    ASSERT_TRUE(s.ok()) << s.error_message();
    Remember(released.token());
    for (const auto& [id, kind, parent] :
         std::vector<std::tuple<std::string, v1::LocationKind, std::string>>{
             {"ACME", v1::LOCATION_KIND_SITE, ""},
             {"EU", v1::LOCATION_KIND_REGION, "ACME"},
             {kWarehouse, v1::LOCATION_KIND_WAREHOUSE, "EU"}}) {
      v1::CreateLocationRequest loc;
      loc.set_request_id(NewRequestId());
      loc.set_location_id(id);
      loc.set_name(id);
      loc.set_kind(kind);
      loc.set_parent_id(parent);
      v1::CreateLocationResponse made;
      s = inventory_->CreateLocation(stack_->Ctx("admin").get(), loc, &made);
      ASSERT_TRUE(s.ok()) << s.error_message();
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
    s = inventory_->ReceiveStock(stack_->Ctx("operator").get(), rec, &received);
    ASSERT_TRUE(s.ok()) << s.error_message();
    Remember(received.token());
  }
  void Connect() {
    lots_ = v1::LotsService::NewStub(stack_->channel());
    quality_ = v1::QualityService::NewStub(stack_->channel());
    inventory_ = v1::InventoryService::NewStub(stack_->channel());
  }
  void Remember(const v1::ConsistencyToken& t) { MergeToken(t, &token_); }

  // H-12 with `days` contracted for the catheter's group.
  static v1::CustomerRecord Hospital(int days) {
    v1::CustomerRecord r;
    r.set_customer_id("H-12");
    r.set_name("St. Mary");
    r.set_region("DE-South");
    r.add_addresses("Dock 3");
    v1::CustomerContact* c = r.add_contacts();
    c->set_name("Dr. Weber");
    c->set_phone("+49 89 1234");
    v1::ProductGroupShelfLife* g = r.mutable_shelf_life()->add_groups();
    g->set_group("catheters");
    g->add_items(kDevice);
    g->set_min_remaining_days(days);
    return r;
  }
  grpc::Status Register(const v1::CustomerRecord& r) {
    v1::RegisterCustomerRequest req;
    req.set_request_id(NewRequestId());
    *req.mutable_customer() = r;
    *req.mutable_after() = token_;
    v1::RegisterCustomerResponse resp;
    grpc::Status s =
        inventory_->RegisterCustomer(stack_->Ctx("admin").get(), req, &resp);
    if (s.ok()) Remember(resp.token());
    return s;
  }
  grpc::Status Ship(const std::string& customer_id, const std::string& name,
                    v1::ShipStockResponse* resp) {
    v1::ShipStockRequest req;
    req.set_request_id(NewRequestId());
    req.mutable_customer()->set_customer_id(customer_id);
    req.mutable_customer()->set_name(name);
    v1::ShipmentLine* line = req.add_lines();
    line->set_lot_id(lot_id_);
    line->set_location_id(kWarehouse);
    line->mutable_quantity()->set_amount(1);
    *req.mutable_after() = token_;
    return inventory_->ShipStock(stack_->Ctx("operator").get(), req, resp);
  }

  std::unique_ptr<TestStack> stack_;
  std::unique_ptr<v1::LotsService::Stub> lots_;
  std::unique_ptr<v1::QualityService::Stub> quality_;
  std::unique_ptr<v1::InventoryService::Stub> inventory_;
  v1::ConsistencyToken token_;
  std::string lot_id_;
};

TEST_F(CustomersServiceTest, RefusalsFefoTypedFieldsAndRebuild) {
  ASSERT_NO_FATAL_FAILURE(Start());
  v1::CustomerRecord bad = Hospital(250);
  bad.clear_contacts();
  grpc::Status s = Register(bad);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(),
            "register_customer.customer.contacts: at least one contact with "
            "an email or a phone, for recall notices");

  v1::UpdateCustomerRequest upd;
  upd.set_request_id(NewRequestId());
  *upd.mutable_customer() = Hospital(250);
  upd.set_reason("new contract");
  v1::UpdateCustomerResponse updated;
  s = inventory_->UpdateCustomer(stack_->Ctx("admin").get(), upd, &updated);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(s.error_message(),
            "customer H-12 is not registered; register it first "
            "(RegisterCustomer)");
  v1::GetCustomerRequest get;
  get.set_customer_id("H-12");
  v1::GetCustomerResponse got;
  s = inventory_->GetCustomer(stack_->Ctx("auditor").get(), get, &got);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);

  ASSERT_TRUE(Register(Hospital(250)).ok());

  // FEFO: the group's 250 days leave the 200-day lot out, saying why.
  v1::AllocateFefoRequest fefo;
  fefo.set_item(kDevice);
  fefo.mutable_quantity()->set_amount(5);
  fefo.mutable_customer()->set_customer_id("H-12");
  *fefo.mutable_after() = token_;
  v1::AllocateFefoResponse picks;
  s = inventory_->AllocateFefo(stack_->Ctx("operator").get(), fefo, &picks);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(picks.required_shelf_life_days(), 250);
  EXPECT_EQ(picks.required_by(),
            "customer H-12 (St. Mary) contracted minimum for group catheters "
            "(product 09506000134352)");
  EXPECT_EQ(picks.lines_size(), 0);
  ASSERT_EQ(picks.skipped_size(), 1);
  EXPECT_NE(picks.skipped(0).reason().find("requires at least 250 days"),
            std::string::npos)
      << picks.skipped(0).reason();

  // A typed-in name that is not the registered one is refused by field.
  v1::ShipStockResponse shipped;
  s = Ship("H-12", "St. Marie", &shipped);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("ship.customer.name: \"St. Marie\" "
                                   "contradicts customer H-12 (St. Mary)"),
            std::string::npos)
      << s.error_message();

  // A shorter contract: it ships with the registered record.
  v1::UpdateCustomerRequest shorter;
  shorter.set_request_id(NewRequestId());
  *shorter.mutable_customer() = Hospital(90);
  shorter.set_reason("amended contract");
  *shorter.mutable_after() = token_;
  s = inventory_->UpdateCustomer(stack_->Ctx("admin").get(), shorter, &updated);
  ASSERT_TRUE(s.ok()) << s.error_message();
  Remember(updated.token());
  s = Ship("H-12", "", &shipped);
  ASSERT_TRUE(s.ok()) << s.error_message();
  Remember(shipped.token());
  EXPECT_EQ(shipped.shipment().customer().name(), "St. Mary");
  EXPECT_EQ(shipped.shipment().customer().min_remaining_shelf_life_days(), 90);
  EXPECT_EQ(shipped.shipment().customer().registered_version(), 2);

  // The history, rebuilt from the log, is the same.
  *get.mutable_after() = token_;
  s = inventory_->GetCustomer(stack_->Ctx("auditor").get(), get, &got);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(got.versions_size(), 2);
  stack_->Restart(/*drop_projections=*/true);
  Connect();
  v1::GetCustomerResponse rebuilt;
  s = inventory_->GetCustomer(stack_->Ctx("auditor").get(), get, &rebuilt);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(got, rebuilt))
      << got.DebugString() << "\n---\n"
      << rebuilt.DebugString();
}

TEST_F(CustomersServiceTest, RequiredRegistrationRefusesUnknownIds) {
  setenv("LOTLEDGER_REQUIRE_REGISTERED_CUSTOMERS", "true", 1);
  Start();
  unsetenv("LOTLEDGER_REQUIRE_REGISTERED_CUSTOMERS");
  if (HasFatalFailure()) return;
  v1::ShipStockResponse shipped;
  grpc::Status s = Ship("H-99", "Typed Hospital", &shipped);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(s.error_message(),
            "customer H-99 is not registered; this service ships only to "
            "registered customers (RegisterCustomer first)");
  ASSERT_TRUE(Register(Hospital(30)).ok());
  s = Ship("H-12", "", &shipped);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(shipped.shipment().customer().region(), "DE-South");
}

}  // namespace
}  // namespace lotledger::testing
