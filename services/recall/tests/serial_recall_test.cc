// Recall by serial over real gRPC against a ServerHost running the recall
// service on an embedded log, with the in-memory index and without it (the
// projection path). The log holds, as the lots and inventory services would
// have written them: the implant IMP tracked by serial, its lots IMP:L1
// (serials SN0001..SN0010) and IMP:L2 (SN0011..SN0020), the glove GLV
// tracked by lot; L1's SN0001..SN0006 shipped to H-1 and SN0007..SN0008 to
// H-2, H-1 reporting SN0002 implanted and returning SN0006; L2's
// SN0011..SN0013 shipped to H-2. A recall of SN0002..SN0003, SN0006,
// SN0007 and SN0012 has L1 and L2 in scope by serial; its impact names per
// customer the serials in scope it holds and how many it used; the views
// the notifications and the CSV report carry them. Serials not assigned, a
// product tracked by lot and a walk through derived lots are refused with their
// reasons.
#include <grpcpp/grpcpp.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "libs/command/command_runner.h"
#include "libs/common/topics.h"
#include "libs/domain/serials/serials.h"
#include "libs/eventlog/embedded/embedded_event_log.h"
#include "libs/projection/tests/synthetic_stream.h"
#include "lotledger/v1/recall.grpc.pb.h"
#include "services/host/host.h"
#include "services/recall/tests/recall_world.h"

namespace lotledger::recall {
namespace {

using testing::kPartitions;
using testing::Writer;

constexpr char kToken[] = "tok-serial";

void Range(google::protobuf::RepeatedPtrField<v1::SerialRange>* to,
           const std::string& first, const std::string& last = "") {
  v1::SerialRange* r = to->Add();
  r->set_first(first);
  r->set_last(last);
}

v1::Event Product(const std::string& item, v1::Tracking tracking) {
  v1::Event e;
  v1::Product* p = e.mutable_product_defined()->mutable_product();
  p->set_item(item);
  p->set_uom("EA");
  p->set_tracking(tracking);
  return e;
}

v1::Event Assigned(const std::string& lot, const std::string& first,
                   const std::string& last) {
  v1::Event e;
  e.add_lot_ids(lot);
  v1::SerialsAssigned* a = e.mutable_serials_assigned();
  a->set_lot_id(lot);
  a->set_item("IMP");
  Range(a->mutable_serials(), first, last);
  return e;
}

// `base` (a movement of testing::) with serials first..last.
v1::Event WithSerials(v1::Event e, const std::string& first,
                      const std::string& last = "") {
  google::protobuf::RepeatedPtrField<v1::SerialRange>* to = nullptr;
  if (e.has_stock_received())
    to = e.mutable_stock_received()->mutable_serials();
  if (e.has_stock_shipped()) to = e.mutable_stock_shipped()->mutable_serials();
  if (e.has_stock_returned())
    to = e.mutable_stock_returned()->mutable_serials();
  Range(to, first, last);
  return e;
}

v1::Event Used(const std::string& lot, const std::string& customer,
               const std::string& serial) {
  v1::Event e;
  e.add_lot_ids(lot);
  v1::DeviceUsageReported* u = e.mutable_device_usage_reported();
  u->set_lot_id(lot);
  u->set_customer_id(customer);
  Range(u->mutable_serials(), serial);
  u->set_count(1);
  u->set_site("OR 3");
  return e;
}

class SerialRecallTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (!GetParam()) setenv("LOTLEDGER_GENEALOGY_INDEX", "off", 1);
    dir_ = tmp_.path();
    {
      auto log = eventlog::OpenEmbeddedEventLog(
          {.path = dir_ + "/log", .sync = false});
      ASSERT_TRUE(log.ok()) << log.status();
      for (const std::string& topic : topics::ReadBy("recall")) {
        ASSERT_TRUE((*log)->EnsureTopic(topic, kPartitions).ok()) << topic;
      }
      Writer w(log->get());
      using testing::Created;
      const std::string lots = topics::kLots, inv = topics::kInventory;
      w.Add(lots, Product("IMP", v1::TRACKING_SERIAL));
      w.Add(lots, Product("GLV", v1::TRACKING_LOT));
      w.Add(lots, Created("IMP", "L1", {}, 1));
      w.Add(lots, Created("IMP", "L2", {}, 2));
      w.Add(lots, Created("GLV", "G1", {}, 3));
      w.Add(lots, Created("IMP", "L3", {"IMP:L1"}, 4));
      w.Add(lots, Assigned("IMP:L1", "SN0001", "SN0010"));
      w.Add(lots, Assigned("IMP:L2", "SN0011", "SN0020"));
      w.Add(inv, WithSerials(testing::Received("IMP:L1", "WH1", 10), "SN0001",
                             "SN0010"));
      w.Add(inv, WithSerials(testing::Received("IMP:L2", "WH1", 10), "SN0011",
                             "SN0020"));
      w.Add(inv, WithSerials(testing::Shipped("IMP:L1", "WH1", 1, 6, 3, 1),
                             "SN0001", "SN0006"));
      w.Add(inv, WithSerials(testing::Shipped("IMP:L1", "WH1", 2, 2, 4, 1),
                             "SN0007", "SN0008"));
      w.Add(inv, WithSerials(testing::Shipped("IMP:L2", "WH1", 2, 3, 5, 1),
                             "SN0011", "SN0013"));
      w.Add(inv, Used("IMP:L1", "C-001", "SN0002"));
      w.Add(inv, WithSerials(testing::Returned("IMP:L1", "C-001", "QA", 1),
                             "SN0006"));
      end_ = w.Flush();
    }
    std::ofstream(dir_ + "/tokens")
        << kToken << " qa.serial admin,recall_manager,auditor\n";
    server::ProcessConfig c;
    c.listen = "127.0.0.1:0";
    c.data_dir = dir_;
    c.dev_tokens = dir_ + "/tokens";
    c.tls.insecure_dev = true;
    c.partitions = kPartitions;
    auto host = ServerHost::Start(c, "serial-recall-test", {"recall"});
    ASSERT_TRUE(host.ok()) << host.status();
    host_ = *std::move(host);
    stub_ = v1::RecallService::NewStub(grpc::CreateChannel(
        host_->target(), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    if (host_ != nullptr) host_->Shutdown();
    unsetenv("LOTLEDGER_GENEALOGY_INDEX");
  }

  std::unique_ptr<grpc::ClientContext> Ctx() const {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->AddMetadata("authorization", absl::StrCat("Bearer ", kToken));
    ctx->set_deadline(std::chrono::system_clock::now() +
                      std::chrono::seconds(60));
    return ctx;
  }

  grpc::Status Initiate(const std::string& recall_id,
                        const v1::RecallCriteria& criteria,
                        v1::InitiateResponse* resp) const {
    v1::InitiateRequest req;
    req.set_request_id(absl::StrCat("init-", recall_id));
    req.set_recall_id(recall_id);
    req.set_classification(v1::RECALL_CLASS_I);
    req.set_title("weld crack");
    req.set_reason("fatigue test failure of some units");
    req.set_health_hazard("revision surgery");
    *req.mutable_criteria() = criteria;
    req.mutable_signature()->set_credential(kToken);
    *req.mutable_after() = command::ToToken(end_);
    return stub_->Initiate(Ctx().get(), req, resp);
  }

  static v1::RecallCriteria BySerial() {
    v1::RecallCriteria c;
    c.set_item("IMP");
    Range(c.mutable_serials(), "SN0002", "SN0003");
    Range(c.mutable_serials(), "SN0006");
    Range(c.mutable_serials(), "SN0007");
    Range(c.mutable_serials(), "SN0012");
    return c;
  }

  projection::testing::ScopedTempDir tmp_;
  std::string dir_;
  eventlog::Offsets end_;
  std::unique_ptr<ServerHost> host_;
  std::unique_ptr<v1::RecallService::Stub> stub_;
};

TEST_P(SerialRecallTest, ImpactPerCustomerNamesItsSerialsUsedAndUnused) {
  v1::InitiateResponse init;
  grpc::Status s = Initiate("R-SN", BySerial(), &init);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const v1::Recall& recall = init.recall();
  ASSERT_EQ(recall.scope_size(), 2);
  EXPECT_EQ(recall.scope(0).lot_id(), "IMP:L1");
  EXPECT_EQ(recall.scope(0).reason(), v1::SCOPE_REASON_SERIAL_LISTED);
  EXPECT_EQ(domain::FormatSerials(recall.scope(0).serials()),
            "SN0002..SN0003, SN0006..SN0007");
  EXPECT_EQ(recall.scope(1).lot_id(), "IMP:L2");
  EXPECT_EQ(domain::FormatSerials(recall.scope(1).serials()), "SN0012");

  v1::AnalyzeImpactRequest req;
  req.set_recall_id("R-SN");
  v1::AnalyzeImpactResponse full;
  s = stub_->AnalyzeImpact(Ctx().get(), req, &full);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const v1::RecallImpact& f = full.impact();
  EXPECT_EQ(init.impact().SerializeAsString(), f.SerializeAsString());
  // L1: SN0002, SN0003, SN0006 went to H-1 (SN0006 came back), SN0007 to
  // H-2; L2: SN0012 to H-2. Own stock: SN0006 back in QA.
  ASSERT_EQ(f.lots_size(), 2);
  EXPECT_EQ(f.lots(0).shipped(), 4);
  EXPECT_EQ(f.lots(0).returned(), 1);
  EXPECT_EQ(f.lots(0).outstanding(), 3);
  EXPECT_EQ(f.lots(0).used(), 1);
  EXPECT_EQ(f.lots(0).unused(), 2);
  EXPECT_EQ(f.lots(0).on_hand(), 1);
  ASSERT_EQ(f.lots(0).stock_size(), 1);
  EXPECT_EQ(f.lots(0).stock(0).location_id(), "QA");
  EXPECT_EQ(f.lots(1).shipped(), 1);
  EXPECT_EQ(f.lots(1).on_hand(), 0);
  EXPECT_EQ(f.distributed(), 5);
  EXPECT_EQ(f.on_hand(), 1);
  ASSERT_EQ(f.customers_size(), 2);
  const v1::CustomerImpact& h1 = f.customers(0);
  EXPECT_EQ(h1.customer().customer_id(), "C-001");
  ASSERT_EQ(h1.lots_size(), 1);
  EXPECT_EQ(domain::FormatSerials(h1.lots(0).serials()), "SN0002..SN0003");
  EXPECT_EQ(h1.lots(0).held(), 2);
  EXPECT_EQ(h1.lots(0).used(), 1);
  EXPECT_EQ(h1.lots(0).unused(), 1);
  const v1::CustomerImpact& h2 = f.customers(1);
  EXPECT_EQ(h2.customer().customer_id(), "C-002");
  ASSERT_EQ(h2.lots_size(), 2);
  EXPECT_EQ(domain::FormatSerials(h2.lots(0).serials()), "SN0007");
  EXPECT_EQ(domain::FormatSerials(h2.lots(1).serials()), "SN0012");
  EXPECT_EQ(h2.lots(1).unused(), 1);
  EXPECT_EQ(h2.held(), 2);

  // The customers view carries the same lines; the summary the totals.
  req.set_view(v1::IMPACT_VIEW_CUSTOMERS);
  req.set_page_size(1);
  v1::AnalyzeImpactResponse page;
  s = stub_->AnalyzeImpact(Ctx().get(), req, &page);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(page.impact().customers_size(), 1);
  EXPECT_EQ(page.impact().customers(0).SerializeAsString(),
            h1.SerializeAsString());
  EXPECT_EQ(page.impact().distributed(), 5);
  req.set_view(v1::IMPACT_VIEW_LOTS);
  req.set_page_size(0);
  s = stub_->AnalyzeImpact(Ctx().get(), req, &page);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(page.impact().lots_size(), 2);
  EXPECT_EQ(page.impact().lots(0).SerializeAsString(),
            f.lots(0).SerializeAsString());

  // Notifications name the serials and how many were used.
  v1::GenerateNotificationsRequest notify;
  notify.set_request_id("notify-R-SN");
  notify.set_recall_id("R-SN");
  v1::GenerateNotificationsResponse issued;
  s = stub_->GenerateNotifications(Ctx().get(), notify, &issued);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(issued.issued_size(), 2);
  const v1::RecallNotificationIssued& n = issued.issued(0).notice();
  EXPECT_EQ(n.customer().customer_id(), "C-001");
  ASSERT_EQ(n.lines_size(), 1);
  EXPECT_EQ(domain::FormatSerials(n.lines(0).serials()), "SN0002..SN0003");
  EXPECT_EQ(n.lines(0).used(), 1);

  // The CSV report's row of C-001: in scope by serial, its serials, used.
  v1::GetReportRequest report;
  report.set_recall_id("R-SN");
  report.set_format(v1::REPORT_FORMAT_CSV);
  v1::GetReportResponse csv;
  s = stub_->GetReport(Ctx().get(), report, &csv);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_NE(csv.content().find(",serials,used\r\n"), std::string::npos);
  EXPECT_NE(csv.content().find("IMP:L1,IMP,L1,by serial,"), std::string::npos)
      << csv.content();
  EXPECT_NE(csv.content().find(",1,SN0002..SN0003,1\r\n"), std::string::npos)
      << csv.content();
}

TEST_P(SerialRecallTest, AWholeSerialisedLotListsEveryHeldSerial) {
  v1::RecallCriteria c;
  c.add_lot_ids("IMP:L1");
  v1::InitiateResponse init;
  grpc::Status s = Initiate("R-L1", c, &init);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const v1::RecallImpact& f = init.impact();
  ASSERT_EQ(f.lots_size(), 1);
  EXPECT_EQ(f.lots(0).shipped(), 8);
  EXPECT_EQ(f.lots(0).used(), 1);
  EXPECT_EQ(f.lots(0).unused(), 6);
  ASSERT_EQ(f.customers_size(), 2);
  EXPECT_EQ(domain::FormatSerials(f.customers(0).lots(0).serials()),
            "SN0001..SN0005");
  EXPECT_EQ(domain::FormatSerials(f.customers(1).lots(0).serials()),
            "SN0007..SN0008");
}

TEST_P(SerialRecallTest, RefusalsSayWhy) {
  v1::InitiateResponse init;
  v1::RecallCriteria unknown;
  unknown.set_item("IMP");
  Range(unknown.mutable_serials(), "SN4711");
  grpc::Status s = Initiate("R-X1", unknown, &init);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(s.error_message(),
            "serial SN4711 of IMP is not assigned to any lot; check the "
            "serial, or pass the lots service's token as `after`");

  v1::RecallCriteria by_lot;
  by_lot.set_item("GLV");
  Range(by_lot.mutable_serials(), "SN0001");
  s = Initiate("R-X2", by_lot, &init);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(s.error_message(),
            "item GLV is not tracked by serial (no ProductDefined with "
            "TRACKING_SERIAL seen); recall its lots by lot_ids");

  v1::RecallCriteria derived = BySerial();
  derived.set_include_derived(true);
  s = Initiate("R-X3", derived, &init);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("criteria.include_derived: not with "
                                   "serials"),
            std::string::npos)
      << s.error_message();
}

INSTANTIATE_TEST_SUITE_P(IndexOnOff, SerialRecallTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "index" : "projection";
                         });

}  // namespace
}  // namespace lotledger::recall
