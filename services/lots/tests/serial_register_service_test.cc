// The serial register over real gRPC (TestStack: the lots service on the
// embedded log and on Kafka, RocksDB, 127.0.0.1): AssignSerials answers a
// retried request id once and writes nothing twice, skips serials already on
// the lot and refuses one of another lot naming it, and more serials than
// units; GetSerial; a trace by serial; ResolveUdi's serial mismatches;
// tracking fixed once a product has lots; the register rebuilt from the
// log answers the same.
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "lotledger/v1/lots.grpc.pb.h"
#include "tests/support/stack.h"

namespace lotledger::testing {
namespace {

constexpr char kImplant[] = "09506000134352";   // tracked by serial
constexpr char kCatheter[] = "09506000134369";  // tracked by lot
constexpr char kA17[] = "09506000134352:A17";
constexpr char kA18[] = "09506000134352:A18";

v1::SerialRange Range(const std::string& first, const std::string& last = "") {
  v1::SerialRange r;
  r.set_first(first);
  r.set_last(last);
  return r;
}

class SerialRegisterServiceTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    stack_ = TestStack::Start(GetParam(), {"lots"});
    ASSERT_NE(stack_, nullptr);
    lots_ = v1::LotsService::NewStub(stack_->channel());
    Define(kImplant, v1::TRACKING_SERIAL);
    Define(kCatheter, v1::TRACKING_LOT);
    CreateLot(kImplant, "A17");
    CreateLot(kImplant, "A18");
    CreateLot(kCatheter, "C1");
  }

  grpc::Status DefineProduct(const std::string& item, v1::Tracking tracking) {
    v1::DefineProductRequest req;
    req.set_request_id(NewRequestId());
    v1::Product& p = *req.mutable_product();
    p.set_item(item);
    p.set_name("Hip stem");
    p.set_uom("EA");
    p.set_kind(v1::ITEM_KIND_FINISHED_DEVICE);
    p.mutable_policy()->set_shelf_life_days(1825);
    p.set_tracking(tracking);
    v1::DefineProductResponse resp;
    return lots_->DefineProduct(stack_->Ctx("admin").get(), req, &resp);
  }
  void Define(const std::string& item, v1::Tracking tracking) {
    grpc::Status s = DefineProduct(item, tracking);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  void CreateLot(const std::string& item, const std::string& number) {
    v1::CreateLotRequest req;
    req.set_request_id(NewRequestId());
    req.set_item(item);
    req.set_lot_number(number);
    req.mutable_manufactured_on()->set_year(2026);
    req.mutable_manufactured_on()->set_month(3);
    req.mutable_manufactured_on()->set_day(20);
    req.mutable_quantity()->set_amount(5);
    req.mutable_quantity()->set_uom("EA");
    v1::CreateLotResponse resp;
    grpc::Status s =
        lots_->CreateLot(stack_->Ctx("operator").get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  grpc::Status Assign(const std::string& request_id, const std::string& lot_id,
                      std::vector<v1::SerialRange> serials,
                      v1::AssignSerialsResponse* resp,
                      const std::string& who = "admin") {
    v1::AssignSerialsRequest req;
    req.set_request_id(request_id);
    req.set_lot_id(lot_id);
    for (v1::SerialRange& r : serials) *req.add_serials() = std::move(r);
    return lots_->AssignSerials(stack_->Ctx(who).get(), req, resp);
  }

  grpc::Status GetSerial(const std::string& item, const std::string& serial,
                         v1::GetSerialResponse* resp,
                         const v1::ConsistencyToken& after = {}) {
    v1::GetSerialRequest req;
    req.set_item(item);
    req.set_serial(serial);
    *req.mutable_after() = after;
    return lots_->GetSerial(stack_->Ctx("auditor").get(), req, resp);
  }

  v1::ResolveUdiResponse Resolve(const std::string& scan) {
    v1::ResolveUdiRequest req;
    req.set_scan(scan);
    v1::ResolveUdiResponse resp;
    grpc::Status s =
        lots_->ResolveUdi(stack_->Ctx("auditor").get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }

  std::unique_ptr<TestStack> stack_;
  std::unique_ptr<v1::LotsService::Stub> lots_;
};

TEST_P(SerialRegisterServiceTest, AssignIsIdempotentAndOneLotPerSerial) {
  const std::string first_id = NewRequestId();
  v1::AssignSerialsResponse resp;
  grpc::Status s = Assign(first_id, kA17, {Range("SN0001", "SN0003")}, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.assigned(), 3);
  EXPECT_EQ(resp.lot_total(), 3);

  // The same request id again: the first answer, nothing written.
  v1::AssignSerialsResponse retried;
  s = Assign(first_id, kA17, {Range("SN0001", "SN0003")}, &retried);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(retried.assigned(), 3);
  EXPECT_EQ(retried.lot_total(), 3);

  // Serials already on the lot are skipped; only SN0004 is new.
  s = Assign(NewRequestId(), kA17, {Range("SN0002", "SN0004")}, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.assigned(), 1);
  EXPECT_EQ(resp.lot_total(), 4);
  const v1::ConsistencyToken written = resp.token();
  // All known: nothing new.
  s = Assign(NewRequestId(), kA17, {Range("SN0001", "SN0004")}, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.assigned(), 0);
  EXPECT_EQ(resp.lot_total(), 4);

  // A serial of another lot of the product is refused, naming that lot.
  s = Assign(NewRequestId(), kA18, {Range("SN0004", "SN0005")}, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(s.error_message(),
            "product 09506000134352: serial SN0004 belongs to lot "
            "09506000134352:A17; a serial belongs to one lot only, so none "
            "can be assigned to lot 09506000134352:A18");
  // A lot of 5 units takes at most 5 serials.
  s = Assign(NewRequestId(), kA17, {Range("SN0005", "SN0006")}, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("lot 09506000134352:A17 has 5 EA and "
                                   "would have 6 serials"),
            std::string::npos)
      << s.error_message();
  // A product tracked by lot has no register.
  s = Assign(NewRequestId(), "09506000134369:C1", {Range("SN0001")}, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("product 09506000134369 is tracked by lot"),
            std::string::npos)
      << s.error_message();
  // A malformed range names the field.
  s = Assign(NewRequestId(), kA18, {Range("SN0009", "SN0001")}, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("assign_serials.serials[0].last"),
            std::string::npos)
      << s.error_message();
  // Only an admin assigns serials.
  s = Assign(NewRequestId(), kA18, {Range("SN0100")}, &resp, "operator");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);

  v1::GetSerialResponse got;
  s = GetSerial(kImplant, "SN0003", &got);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(got.lot_id(), kA17);
  ASSERT_EQ(got.lot_serials_size(), 1);
  EXPECT_EQ(got.lot_serials(0).first(), "SN0001");
  EXPECT_EQ(got.lot_serials(0).last(), "SN0004");
  s = GetSerial(kImplant, "SN0005", &got);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(s.error_message(),
            "serial SN0005 of 09506000134352 is not assigned to any lot");

  v1::GetLotRequest get_lot;
  get_lot.set_lot_id(kA17);
  v1::GetLotResponse lot;
  s = lots_->GetLot(stack_->Ctx("auditor").get(), get_lot, &lot);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(lot.lot().serial_count(), 4);

  // Tracking is fixed once the product has lots.
  s = DefineProduct(kImplant, v1::TRACKING_LOT);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("its tracking cannot change (tracking by "
                                   "serial, this definition says by lot)"),
            std::string::npos)
      << s.error_message();

  // Rebuilt from the log, the register answers the same (once the rebuild
  // has read as far as the last assignment).
  stack_->Restart(/*drop_projections=*/true);
  lots_ = v1::LotsService::NewStub(stack_->channel());
  s = GetSerial(kImplant, "SN0004", &got, written);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(got.lot_id(), kA17);
  ASSERT_EQ(got.lot_serials_size(), 1);
  EXPECT_EQ(got.lot_serials(0).last(), "SN0004");
  // The retried request id still answers what it first assigned.
  s = Assign(first_id, kA17, {Range("SN0001", "SN0003")}, &retried);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(retried.assigned(), 3);
  EXPECT_EQ(retried.lot_total(), 3);
}

TEST_P(SerialRegisterServiceTest, TraceBySerialAndUdiScans) {
  v1::AssignSerialsResponse resp;
  grpc::Status s =
      Assign(NewRequestId(), kA18, {Range("4711"), Range("4712")}, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();

  v1::TraceRequest trace;
  trace.set_item(kImplant);
  trace.set_serial("4711");
  trace.set_direction(v1::TRACE_DIRECTION_BACKWARD);
  v1::TraceResponse traced;
  s = lots_->Trace(stack_->Ctx("auditor").get(), trace, &traced);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_GE(traced.nodes_size(), 1);
  EXPECT_EQ(traced.nodes(0).lot_id(), kA18);
  EXPECT_EQ(traced.serial(), "4711");
  trace.set_serial("4799");
  s = lots_->Trace(stack_->Ctx("auditor").get(), trace, &traced);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(s.error_message(),
            "serial 4799 of 09506000134352 is not assigned to any lot");
  trace.set_lot_id(kA18);
  s = lots_->Trace(stack_->Ctx("auditor").get(), trace, &traced);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  v1::ResolveUdiResponse udi = Resolve("(01)09506000134352(10)A18(21)4711");
  EXPECT_EQ(udi.serial(), "4711");
  EXPECT_TRUE(udi.serial_assigned());
  EXPECT_EQ(udi.mismatches_size(), 0);

  udi = Resolve("(01)09506000134352(10)A17(21)4711");
  EXPECT_FALSE(udi.serial_assigned());
  ASSERT_EQ(udi.mismatches_size(), 1);
  EXPECT_EQ(udi.mismatches(0),
            "serial 4711 belongs to lot 09506000134352:A18, not A17");

  udi = Resolve("(01)09506000134352(10)A18(21)4799");
  ASSERT_EQ(udi.mismatches_size(), 1);
  EXPECT_EQ(udi.mismatches(0),
            "serial 4799 of 09506000134352 is not assigned to any lot");

  udi = Resolve("(01)09506000134352(10)A18");
  ASSERT_EQ(udi.mismatches_size(), 1);
  EXPECT_EQ(udi.mismatches(0),
            "product 09506000134352 is tracked by serial: the scan has no "
            "serial number (AI 21)");

  udi = Resolve("(01)09506000134369(10)C1(21)4711");
  ASSERT_EQ(udi.mismatches_size(), 1);
  EXPECT_EQ(udi.mismatches(0),
            "serial 4711 on the label, but product 09506000134369 is tracked "
            "by lot: it has no serial register");
}

INSTANTIATE_TEST_SUITE_P(Backends, SerialRegisterServiceTest,
                         ::testing::Values(Backend::kEmbedded, Backend::kKafka),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return BackendName(info.param);
                         });

}  // namespace
}  // namespace lotledger::testing
