// LotHistory of one serial over real gRPC against a ServerHost running the
// audit service on an embedded log: the lot IMP:L1 of an implant is
// created, gets serials SN0001..SN0010, receives them, ships SN0001..SN0002
// to H-12 and SN0003 to H-40, H-12 reports SN0002 used and the lot is put
// on hold. The history of SN0002 is the lot's creation, its assignment,
// receipt, the shipment to H-12, the usage report and the hold; that of
// SN0003 has the other shipment and no usage. A malformed serial and a
// serial with the genealogy are refused naming the field.
#include <grpcpp/grpcpp.h>

#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "libs/command/command_runner.h"
#include "libs/common/topics.h"
#include "libs/eventlog/embedded/embedded_event_log.h"
#include "libs/projection/tests/synthetic_stream.h"
#include "lotledger/v1/audit.grpc.pb.h"
#include "services/host/host.h"
#include "services/recall/tests/recall_world.h"

namespace lotledger::audit {
namespace {

using recall::testing::kPartitions;
using recall::testing::Writer;

constexpr char kToken[] = "tok-serial-history";
constexpr char kLot[] = "IMP:L1";

void Range(google::protobuf::RepeatedPtrField<v1::SerialRange>* to,
           const std::string& first, const std::string& last = "") {
  v1::SerialRange* r = to->Add();
  r->set_first(first);
  r->set_last(last);
}

class SerialHistoryServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.path();
    {
      auto log = eventlog::OpenEmbeddedEventLog(
          {.path = dir_ + "/log", .sync = false});
      ASSERT_TRUE(log.ok()) << log.status();
      for (const std::string& topic : topics::ReadBy("audit")) {
        ASSERT_TRUE((*log)->EnsureTopic(topic, kPartitions).ok()) << topic;
      }
      Writer w(log->get());
      const std::string lots = topics::kLots, inv = topics::kInventory;
      w.Add(lots, recall::testing::Created("IMP", "L1", {}, 1));
      {
        v1::Event e;
        e.add_lot_ids(kLot);
        v1::SerialsAssigned* a = e.mutable_serials_assigned();
        a->set_lot_id(kLot);
        a->set_item("IMP");
        Range(a->mutable_serials(), "SN0001", "SN0010");
        a->set_count(10);
        a->set_lot_total(10);
        w.Add(lots, e);
      }
      v1::Event received = recall::testing::Received(kLot, "WH1", 10);
      Range(received.mutable_stock_received()->mutable_serials(), "SN0001",
            "SN0010");
      w.Add(inv, received);
      v1::Event to_h12 = recall::testing::Shipped(kLot, "WH1", 12, 2, 3, 1);
      Range(to_h12.mutable_stock_shipped()->mutable_serials(), "SN0001",
            "SN0002");
      w.Add(inv, to_h12);
      v1::Event to_h40 = recall::testing::Shipped(kLot, "WH1", 40, 1, 4, 1);
      Range(to_h40.mutable_stock_shipped()->mutable_serials(), "SN0003");
      w.Add(inv, to_h40);
      {
        v1::Event e;
        e.add_lot_ids(kLot);
        v1::DeviceUsageReported* u = e.mutable_device_usage_reported();
        u->set_lot_id(kLot);
        u->set_customer_id("C-012");
        Range(u->mutable_serials(), "SN0002");
        u->set_count(1);
        w.Add(inv, e);
      }
      {
        v1::Event e;
        e.add_lot_ids(kLot);
        v1::DispositionChanged* d = e.mutable_disposition_changed();
        d->set_lot_id(kLot);
        d->set_to(v1::DISPOSITION_ON_HOLD);
        w.Add(lots, e);
      }
      end_ = w.Flush();
    }
    std::ofstream(dir_ + "/tokens") << kToken << " qa.audit auditor\n";
    server::ProcessConfig c;
    c.listen = "127.0.0.1:0";
    c.data_dir = dir_;
    c.dev_tokens = dir_ + "/tokens";
    c.tls.insecure_dev = true;
    c.partitions = kPartitions;
    auto host = ServerHost::Start(c, "serial-history-test", {"audit"});
    ASSERT_TRUE(host.ok()) << host.status();
    host_ = *std::move(host);
    stub_ = v1::AuditService::NewStub(grpc::CreateChannel(
        host_->target(), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    if (host_ != nullptr) host_->Shutdown();
  }

  // The event types of the history of `serial` (every event when empty).
  grpc::Status History(const std::string& serial,
                       std::vector<std::string>* types,
                       std::vector<std::string>* descriptions,
                       bool derived = false) {
    v1::LotHistoryRequest req;
    req.set_lot_id(kLot);
    req.set_serial(serial);
    req.set_include_derived(derived);
    *req.mutable_after() = command::ToToken(end_);
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", absl::StrCat("Bearer ", kToken));
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(60));
    auto reader = stub_->LotHistory(&ctx, req);
    v1::HistoryEntry e;
    while (reader->Read(&e)) {
      std::string type = e.event_type();
      if (type.starts_with("lotledger.v1.")) type.erase(0, 13);
      types->push_back(type);
      descriptions->push_back(e.description());
    }
    return reader->Finish();
  }

  projection::testing::ScopedTempDir tmp_;
  std::string dir_;
  eventlog::Offsets end_;
  std::unique_ptr<ServerHost> host_;
  std::unique_ptr<v1::AuditService::Stub> stub_;
};

TEST_F(SerialHistoryServiceTest, OnlyTheUnitsEventsAndTheLotsOwn) {
  std::vector<std::string> all, all_text;
  grpc::Status s = History("", &all, &all_text);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(all.size(), 7u);

  std::vector<std::string> types, text;
  s = History("SN0002", &types, &text);
  ASSERT_TRUE(s.ok()) << s.error_message();
  std::multiset<std::string> got(types.begin(), types.end());
  EXPECT_EQ(
      got, (std::multiset<std::string>{
               "LotCreated", "SerialsAssigned", "StockReceived", "StockShipped",
               "DeviceUsageReported", "DispositionChanged"}))
      << absl::StrJoin(types, ", ");
  bool shipped = false;
  for (const std::string& t : text) {
    if (t.starts_with("shipped")) {
      shipped = true;
      EXPECT_NE(t.find("(SN0001..SN0002)"), std::string::npos) << t;
      EXPECT_NE(t.find("C-012"), std::string::npos) << t;
    }
  }
  EXPECT_TRUE(shipped);

  std::vector<std::string> other, other_text;
  s = History("SN0003", &other, &other_text);
  ASSERT_TRUE(s.ok()) << s.error_message();
  std::multiset<std::string> got3(other.begin(), other.end());
  EXPECT_EQ(got3.count("StockShipped"), 1u);
  EXPECT_EQ(got3.count("DeviceUsageReported"), 0u);
  EXPECT_EQ(got3.size(), 5u);
}

TEST_F(SerialHistoryServiceTest, BadRequestsNameTheField) {
  std::vector<std::string> types, text;
  grpc::Status s = History(std::string(21, 'A'), &types, &text);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(s.error_message().starts_with("serial")) << s.error_message();
  s = History("SN0002", &types, &text, /*derived=*/true);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(),
            "serial: not with include_derived: a serial names a unit of the "
            "requested lot only");
}

}  // namespace
}  // namespace lotledger::audit
