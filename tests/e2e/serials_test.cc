// Serialised devices across services, over real gRPC: on the embedded log
// (all services in one process, TestStack) and on the Kafka broker
// ($LOTLEDGER_TEST_KAFKA) with every service its own process
// (ServiceCluster, the production shape). No consistency token is passed
// from one service's answer to another's request: the read barrier is what
// a user relies on. One story on both:
//   * an implant tracked by serial; a lot of 10 gets serials SN0001..SN0010
//     in the lots service's register (a retry is answered once);
//   * the lot is received by the range, shipped by serial to two hospitals;
//     shipping a serial again is refused naming where it is;
//   * one hospital reports one serial used (implanted);
//   * a recall of SN0002..SN0006 blocks only those serials: SN0006 in stock
//     cannot ship, SN0007 can; its impact names each hospital's serials in
//     scope with used and unused counts;
//   * the serial's status, a trace by serial, the scan firewall with (21),
//     and the EPCIS export with SGTIN URIs answer at serial level.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/domain/lots/dates.h"
#include "lotledger/v1/audit.grpc.pb.h"
#include "lotledger/v1/inventory.grpc.pb.h"
#include "lotledger/v1/lots.grpc.pb.h"
#include "lotledger/v1/quality.grpc.pb.h"
#include "lotledger/v1/recall.grpc.pb.h"
#include "tests/support/stack.h"
#include "tests/support/two_shapes.h"

namespace lotledger::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kImplant[] = "09506000134352";
constexpr char kWarehouse[] = "MUC-WH1";

void AddSerials(google::protobuf::RepeatedPtrField<v1::SerialRange>* out,
                const std::string& first, const std::string& last = "") {
  v1::SerialRange* r = out->Add();
  r->set_first(first);
  r->set_last(last);
}

// "SN0002..SN0003, SN0005" of a list of ranges, for assertions.
std::string Text(
    const google::protobuf::RepeatedPtrField<v1::SerialRange>& rs) {
  std::string out;
  for (const v1::SerialRange& r : rs) {
    if (!out.empty()) out += ", ";
    out += r.first();
    if (!r.last().empty() && r.last() != r.first()) {
      absl::StrAppend(&out, "..", r.last());
    }
  }
  return out;
}

class SerialsTest : public TwoShapesTest {
 protected:
  // The implant (tracked by serial), a released lot of 10 with serials
  // SN0001..SN0010 in the register, and the warehouse.
  void MakeSerialisedLot() {
    const absl::CivilDay today =
        absl::ToCivilDay(absl::Now(), absl::UTCTimeZone());
    v1::DefineProductRequest def;
    def.set_request_id(NewRequestId());
    v1::Product* p = def.mutable_product();
    p->set_item(kImplant);
    p->set_name("hip implant");
    p->set_uom("EA");
    p->set_kind(v1::ITEM_KIND_FINISHED_DEVICE);
    p->set_tracking(v1::TRACKING_SERIAL);
    p->mutable_policy()->set_shelf_life_days(1825);
    p->mutable_policy()->set_min_remaining_days_to_ship(30);
    v1::DefineProductResponse defined;
    grpc::Status s = lots_->DefineProduct(Ctx("admin").get(), def, &defined);
    ASSERT_TRUE(s.ok()) << s.error_message();

    v1::CreateLotRequest lot;
    lot.set_request_id(NewRequestId());
    lot.set_item(kImplant);
    lot.set_lot_number("H7");
    *lot.mutable_manufactured_on() = lots::FromCivilDay(today - 30);
    *lot.mutable_expires_on() = lots::FromCivilDay(today + 1000);
    lot.mutable_quantity()->set_amount(10);
    lot.mutable_quantity()->set_uom("EA");
    lot.set_site("Galway");
    v1::CreateLotResponse created;
    s = lots_->CreateLot(Ctx("operator").get(), lot, &created);
    ASSERT_TRUE(s.ok()) << s.error_message();
    lot_id_ = created.lot().lot_id();

    // The register; a retry with the same request id is answered once.
    v1::AssignSerialsRequest assign;
    assign.set_request_id(NewRequestId());
    assign.set_lot_id(lot_id_);
    AddSerials(assign.mutable_serials(), "SN0001", "SN0010");
    v1::AssignSerialsResponse assigned;
    s = lots_->AssignSerials(Ctx("admin").get(), assign, &assigned);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(assigned.assigned(), 10);
    EXPECT_EQ(assigned.lot_total(), 10);
    v1::AssignSerialsResponse again;
    s = lots_->AssignSerials(Ctx("admin").get(), assign, &again);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(again.assigned(), 10);  // the first answer, written once
    EXPECT_EQ(again.lot_total(), 10);
    // An eleventh serial would be more serials than units.
    v1::AssignSerialsRequest more;
    more.set_request_id(NewRequestId());
    more.set_lot_id(lot_id_);
    AddSerials(more.mutable_serials(), "SN0011");
    s = lots_->AssignSerials(Ctx("admin").get(), more, &again);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
        << s.error_message();

    v1::RecordInspectionResponse inspected;
    s = quality_->RecordInspection(Ctx("inspector").get(),
                                   FinalInspection(lot_id_), &inspected);
    ASSERT_TRUE(s.ok()) << s.error_message();
    v1::ChangeDispositionRequest rel;
    rel.set_request_id(NewRequestId());
    rel.set_lot_id(lot_id_);
    rel.set_to(v1::DISPOSITION_RELEASED);
    rel.mutable_signature()->set_meaning("approved for release");
    rel.mutable_signature()->set_reason("final inspection passed");
    rel.mutable_signature()->set_credential(Token("approver"));
    v1::ChangeDispositionResponse released;
    s = quality_->ChangeDisposition(Ctx("approver").get(), rel, &released);
    ASSERT_TRUE(s.ok()) << s.error_message();

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
    }
  }

  v1::ShipStockRequest Shipment(const std::string& customer_id,
                                const std::string& name,
                                const std::string& first,
                                const std::string& last = "") const {
    v1::ShipStockRequest req;
    req.set_request_id(NewRequestId());
    req.mutable_customer()->set_customer_id(customer_id);
    req.mutable_customer()->set_name(name);
    v1::ShipmentLine* line = req.add_lines();
    line->set_lot_id(lot_id_);
    line->set_location_id(kWarehouse);
    AddSerials(line->mutable_serials(), first, last);
    const int64_t n = last.empty() ? 1
                                   : std::stoll(last.substr(2)) -
                                         std::stoll(first.substr(2)) + 1;
    line->mutable_quantity()->set_amount(n);
    line->mutable_quantity()->set_uom("EA");
    return req;
  }

  std::string lot_id_;
};

TEST_P(SerialsTest, ImplantReceivedShippedUsedAndRecalledBySerial) {
  ASSERT_NO_FATAL_FAILURE(MakeSerialisedLot());

  // Received by the range: the quantity is the number of serials.
  v1::ReceiveStockRequest rec;
  rec.set_request_id(NewRequestId());
  rec.set_lot_id(lot_id_);
  rec.set_location_id(kWarehouse);
  rec.set_source(v1::RECEIPT_SOURCE_PRODUCTION);
  AddSerials(rec.mutable_serials(), "SN0001", "SN0010");
  v1::ReceiveStockResponse received;
  grpc::Status s =
      inventory_->ReceiveStock(Ctx("operator").get(), rec, &received);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(received.lot().on_hand(), 10);

  // A lot-level movement of a serialised product is refused, naming the
  // field.
  v1::ShipStockRequest no_serials = Shipment("H-12", "St. Mary", "SN0001");
  no_serials.mutable_lines(0)->clear_serials();
  v1::ShipStockResponse shipped;
  s = inventory_->ShipStock(Ctx("operator").get(), no_serials, &shipped);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("ship.lines[0].serials"));

  // Shipped by serial to two hospitals.
  s = inventory_->ShipStock(Ctx("operator").get(),
                            Shipment("H-12", "St. Mary", "SN0001", "SN0003"),
                            &shipped);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const std::string st_mary_shipment = shipped.shipment().shipment_id();
  s = inventory_->ShipStock(Ctx("operator").get(),
                            Shipment("H-40", "Charite", "SN0004", "SN0005"),
                            &shipped);
  ASSERT_TRUE(s.ok()) << s.error_message();

  // A serial shipped twice is refused with where it is.
  s = inventory_->ShipStock(Ctx("operator").get(),
                            Shipment("H-40", "Charite", "SN0002"), &shipped);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("SN0002"));
  EXPECT_THAT(s.error_message(), HasSubstr("customer H-12"));

  // St. Mary implanted SN0002.
  const absl::CivilDay today =
      absl::ToCivilDay(absl::Now(), absl::UTCTimeZone());
  v1::ReportUsageRequest use;
  use.set_request_id(NewRequestId());
  use.set_lot_id(lot_id_);
  use.set_customer_id("H-12");
  AddSerials(use.mutable_serials(), "SN0002");
  *use.mutable_used_on() = lots::FromCivilDay(today);
  use.set_site("OR 3");
  v1::ReportUsageResponse used;
  s = inventory_->ReportUsage(Ctx("operator").get(), use, &used);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(used.used(), 1);
  // Charite cannot report a serial it does not hold.
  use.set_request_id(NewRequestId());
  use.set_customer_id("H-40");
  s = inventory_->ReportUsage(Ctx("operator").get(), use, &used);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("SN0002"));

  v1::GetSerialStatusRequest where;
  where.set_item(kImplant);
  where.set_serial("SN0002");
  v1::GetSerialStatusResponse status;
  s = inventory_->GetSerialStatus(Ctx("auditor").get(), where, &status);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(status.status().place(), v1::SERIAL_PLACE_USED);
  EXPECT_EQ(status.status().customer_id(), "H-12");
  EXPECT_EQ(status.status().shipment_id(), st_mary_shipment);
  EXPECT_EQ(status.status().lot_id(), lot_id_);

  // A recall of SN0002..SN0006.
  v1::InitiateRequest init;
  init.set_request_id(NewRequestId());
  init.set_recall_id("R-SN-1");
  init.set_classification(v1::RECALL_CLASS_I);
  init.set_title("Liner wear");
  init.set_reason("liner wear above specification in serials SN0002-SN0006");
  init.set_health_hazard("revision surgery");
  init.mutable_criteria()->set_item(kImplant);
  AddSerials(init.mutable_criteria()->mutable_serials(), "SN0002", "SN0006");
  init.mutable_signature()->set_meaning("recall initiated");
  init.mutable_signature()->set_reason("liner wear confirmed");
  init.mutable_signature()->set_credential(Token("recall"));
  v1::InitiateResponse initiated;
  s = recall_->Initiate(Ctx("recall").get(), init, &initiated);
  ASSERT_TRUE(s.ok()) << s.error_message();

  // Only the recalled serials are blocked.
  s = inventory_->ShipStock(Ctx("operator").get(),
                            Shipment("H-40", "Charite", "SN0006"), &shipped);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("R-SN-1"));
  EXPECT_THAT(s.error_message(), HasSubstr("SN0006"));
  s = inventory_->ShipStock(Ctx("operator").get(),
                            Shipment("H-40", "Charite", "SN0007"), &shipped);
  EXPECT_TRUE(s.ok()) << s.error_message();

  // The impact names each hospital's serials in scope, used and unused.
  v1::AnalyzeImpactRequest ask;
  ask.set_recall_id("R-SN-1");
  v1::AnalyzeImpactResponse impact;
  s = recall_->AnalyzeImpact(Ctx("recall").get(), ask, &impact);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(impact.impact().lots_size(), 1);
  const v1::LotImpact& lot = impact.impact().lots(0);
  EXPECT_EQ(lot.lot().reason(), v1::SCOPE_REASON_SERIAL_LISTED);
  EXPECT_EQ(Text(lot.lot().serials()), "SN0002..SN0006");
  EXPECT_EQ(lot.shipped(), 4);  // SN0002..SN0005; SN0007 is not in scope
  EXPECT_EQ(lot.on_hand(), 1);  // SN0006
  EXPECT_EQ(lot.used(), 1);
  EXPECT_EQ(lot.unused(), 3);
  ASSERT_EQ(impact.impact().customers_size(), 2);
  // By customer id.
  const v1::CustomerImpact& st_mary = impact.impact().customers(0);
  const v1::CustomerImpact& charite = impact.impact().customers(1);
  EXPECT_EQ(charite.customer().customer_id(), "H-40");
  ASSERT_EQ(charite.lots_size(), 1);
  EXPECT_EQ(Text(charite.lots(0).serials()), "SN0004..SN0005");
  EXPECT_EQ(charite.lots(0).used(), 0);
  EXPECT_EQ(charite.lots(0).unused(), 2);
  EXPECT_EQ(st_mary.customer().customer_id(), "H-12");
  ASSERT_EQ(st_mary.lots_size(), 1);
  EXPECT_EQ(Text(st_mary.lots(0).serials()), "SN0002..SN0003");
  EXPECT_EQ(st_mary.lots(0).used(), 1);
  EXPECT_EQ(st_mary.lots(0).unused(), 1);
  EXPECT_EQ(impact.impact().customers_affected(), 2);
  EXPECT_EQ(impact.impact().outstanding(), 4);

  // Trace by serial starts at its lot.
  v1::TraceRequest trace;
  trace.set_item(kImplant);
  trace.set_serial("SN0004");
  trace.set_direction(v1::TRACE_DIRECTION_BACKWARD);
  v1::TraceResponse traced;
  s = lots_->Trace(Ctx("auditor").get(), trace, &traced);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(traced.serial(), "SN0004");
  ASSERT_GE(traced.nodes_size(), 1);
  EXPECT_EQ(traced.nodes(0).lot_id(), lot_id_);

  // The scan firewall reads (21).
  const v1::Date expiry = lots::FromCivilDay(today + 1000);
  const std::string label =
      absl::StrFormat("(01)%s(17)%02d%02d%02d(10)H7(21)", kImplant,
                      expiry.year() % 100, expiry.month(), expiry.day());
  v1::ResolveUdiRequest scan;
  scan.set_scan(label + "SN0003");
  v1::ResolveUdiResponse resolved;
  s = lots_->ResolveUdi(Ctx("auditor").get(), scan, &resolved);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resolved.serial(), "SN0003");
  EXPECT_TRUE(resolved.serial_assigned());
  EXPECT_TRUE(resolved.mismatches().empty()) << resolved.mismatches(0);
  scan.set_scan(label + "SN0099");
  s = lots_->ResolveUdi(Ctx("auditor").get(), scan, &resolved);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_FALSE(resolved.serial_assigned());
  ASSERT_EQ(resolved.mismatches_size(), 1);
  EXPECT_THAT(resolved.mismatches(0), HasSubstr("SN0099"));

  // EPCIS at serial level: the units as SGTIN Digital Link URIs.
  v1::ExportEpcisRequest epcis;
  epcis.set_lot_id(lot_id_);
  v1::ExportEpcisResponse doc;
  s = audit_->ExportEpcis(Ctx("auditor").get(), epcis, &doc);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_THAT(doc.document(), HasSubstr(absl::StrCat("https://id.gs1.org/01/",
                                                     kImplant, "/21/SN0004")));
}

INSTANTIATE_TEST_SUITE_P(Shapes, SerialsTest,
                         ::testing::Values(Shape::kEmbedded,
                                           Shape::kKafkaProcesses),
                         ShapeName);

}  // namespace
}  // namespace lotledger::testing
