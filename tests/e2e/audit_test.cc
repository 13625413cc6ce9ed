// The audit service and `lotctl audit` over real gRPC, on the embedded log
// and on Kafka: a lot's history across the lots, quality and inventory
// topics in business-time order (with its component on request), every
// chain intact, "as of" before a late correction giving different answers
// on the two time axes, and offline verification that fails at exactly
// the record that was tampered with:
//   embedded: one byte of a stored record flipped in place in the log's
//             RocksDB (the service stopped);
//   kafka:    the log cannot be edited in place through Kafka's API; what
//             a writer with produce rights can do is append a forged copy
//             of a record (here: one byte flipped, the hash recomputed).
//             The service's VerifyLot and the offline verify both name
//             exactly that record: it does not continue its chain.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "libs/common/hash.h"
#include "libs/common/proto_time.h"
#include "libs/eventlog/kafka/kafka_event_log.h"
#include "lotledger/v1/audit.grpc.pb.h"
#include "lotledger/v1/embedded_log.pb.h"
#include "lotledger/v1/inventory.grpc.pb.h"
#include "lotledger/v1/lots.grpc.pb.h"
#include "lotledger/v1/quality.grpc.pb.h"
#include "lotledger/v1/recall.grpc.pb.h"
#include "rocksdb/db.h"
#include "tests/support/stack.h"
#include "tests/support/tokens.h"
#include "tools/lotctl/cli.h"

namespace lotledger::testing {
namespace {

constexpr char kDevice[] = "09506000134352";
constexpr char kA17[] = "09506000134352:A17";
constexpr char kComponent[] = "C-100";
constexpr char kR5[] = "C-100:R5";
constexpr char kBin[] = "FRA-WH1-B07";

v1::Date Date(int y, int m, int d) {
  v1::Date date;
  date.set_year(y);
  date.set_month(m);
  date.set_day(d);
  return date;
}

class AuditTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    stack_ = TestStack::Start(
        GetParam(), {"lots", "quality", "inventory", "recall", "audit"});
    ASSERT_NE(stack_, nullptr);
    lots_ = v1::LotsService::NewStub(stack_->channel());
    quality_ = v1::QualityService::NewStub(stack_->channel());
    inventory_ = v1::InventoryService::NewStub(stack_->channel());
    audit_ = v1::AuditService::NewStub(stack_->channel());
    recall_ = v1::RecallService::NewStub(stack_->channel());
  }

  void Remember(const v1::ConsistencyToken& t) { MergeToken(t, &token_); }

  void Product(const std::string& item, v1::ItemKind kind) {
    v1::DefineProductRequest req;
    req.set_request_id(NewRequestId());
    req.mutable_product()->set_item(item);
    req.mutable_product()->set_name(item + " product");
    req.mutable_product()->set_uom("EA");
    req.mutable_product()->set_kind(kind);
    req.mutable_product()->mutable_policy()->set_shelf_life_days(730);
    v1::DefineProductResponse resp;
    grpc::Status s =
        lots_->DefineProduct(stack_->Ctx("admin").get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    Remember(resp.token());
  }

  void Lot(const std::string& item, const std::string& number, int64_t qty,
           absl::Time occurred, const std::string& input = "") {
    v1::CreateLotRequest req;
    req.set_request_id(NewRequestId());
    req.set_item(item);
    req.set_lot_number(number);
    *req.mutable_manufactured_on() = Date(2026, 3, 2);
    req.mutable_quantity()->set_amount(qty);
    req.mutable_quantity()->set_uom("EA");
    req.set_site("Galway");
    ToTimestamp(occurred, req.mutable_occurred_at());
    if (!input.empty()) {
      v1::LotInput* in = req.add_inputs();
      in->set_lot_id(input);
      in->mutable_quantity()->set_amount(10);
      in->mutable_quantity()->set_uom("EA");
    }
    v1::CreateLotResponse resp;
    grpc::Status s =
        lots_->CreateLot(stack_->Ctx("operator").get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    Remember(resp.token());
  }

  void Release(const std::string& lot_id) {
    v1::RecordInspectionRequest ins = FinalInspection(lot_id);
    *ins.mutable_after() = token_;
    v1::RecordInspectionResponse inspected;
    grpc::Status s = quality_->RecordInspection(stack_->Ctx("inspector").get(),
                                                ins, &inspected);
    ASSERT_TRUE(s.ok()) << s.error_message();
    Remember(inspected.token());
    v1::ChangeDispositionRequest req;
    req.set_request_id(NewRequestId());
    req.set_lot_id(lot_id);
    req.set_to(v1::DISPOSITION_RELEASED);
    req.mutable_signature()->set_meaning("approved for release");
    req.mutable_signature()->set_reason("final inspection passed");
    req.mutable_signature()->set_credential(stack_->Token("approver"));
    *req.mutable_after() = token_;
    v1::ChangeDispositionResponse resp;
    s = quality_->ChangeDisposition(stack_->Ctx("approver").get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    Remember(resp.token());
  }

  void Location(const std::string& id, v1::LocationKind kind,
                const std::string& parent) {
    v1::CreateLocationRequest req;
    req.set_request_id(NewRequestId());
    req.set_location_id(id);
    req.set_name(id);
    req.set_kind(kind);
    req.set_parent_id(parent);
    v1::CreateLocationResponse resp;
    grpc::Status s =
        inventory_->CreateLocation(stack_->Ctx("admin").get(), req, &resp);
    ASSERT_TRUE(s.ok()) << id << ": " << s.error_message();
    Remember(resp.token());
  }

  void ReceiveAndShip() {
    v1::ReceiveStockRequest recv;
    recv.set_request_id(NewRequestId());
    recv.set_lot_id(kA17);
    recv.set_location_id(kBin);
    recv.mutable_quantity()->set_amount(100);
    recv.set_source(v1::RECEIPT_SOURCE_PRODUCTION);
    *recv.mutable_after() = token_;
    v1::ReceiveStockResponse received;
    grpc::Status s = inventory_->ReceiveStock(stack_->Ctx("operator").get(),
                                              recv, &received);
    ASSERT_TRUE(s.ok()) << s.error_message();
    Remember(received.token());
    v1::ShipStockRequest ship;
    ship.set_request_id(NewRequestId());
    ship.mutable_customer()->set_customer_id("H-12");
    ship.mutable_customer()->set_name("St. Mary's Hospital");
    v1::ShipmentLine* line = ship.add_lines();
    line->set_lot_id(kA17);
    line->set_location_id(kBin);
    line->mutable_quantity()->set_amount(30);
    line->mutable_quantity()->set_uom("EA");
    *ship.mutable_after() = token_;
    v1::ShipStockResponse shipped;
    s = inventory_->ShipStock(stack_->Ctx("operator").get(), ship, &shipped);
    ASSERT_TRUE(s.ok()) << s.error_message();
    Remember(shipped.token());
  }

  void Recall() {
    v1::InitiateRequest req;
    req.set_request_id(NewRequestId());
    req.set_recall_id("R-2026-7");
    req.set_classification(v1::RECALL_CLASS_II);
    req.set_title("Catheter seal leak");
    req.set_reason("seal strength below specification in field returns");
    req.set_health_hazard("leak may delay therapy; remote risk of harm");
    req.mutable_criteria()->add_lot_ids(kA17);
    req.mutable_signature()->set_credential(stack_->Token("recall"));
    *req.mutable_after() = token_;
    v1::InitiateResponse resp;
    grpc::Status s = recall_->Initiate(stack_->Ctx("recall").get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    Remember(resp.token());
  }

  void CorrectExpiry(const std::string& value) {
    v1::CorrectLotRequest req;
    req.set_request_id(NewRequestId());
    req.set_lot_id(kA17);
    req.set_field("expires_on");
    req.set_new_value(value);
    req.set_reason("label printed with the wrong expiry");
    v1::CorrectLotResponse resp;
    grpc::Status s =
        lots_->CorrectLot(stack_->Ctx("approver").get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    Remember(resp.token());
  }

  // The whole scenario: a component lot, a device lot made from it
  // (business time three days ago, recorded now), released, received, shipped,
  // and its expiry corrected afterwards.
  void Scenario() {
    Product(kDevice, v1::ITEM_KIND_FINISHED_DEVICE);
    Product(kComponent, v1::ITEM_KIND_COMPONENT);
    // Business time days before it is recorded, within the late-entry
    // window the command path accepts (7 days).
    made_at_ = absl::FromUnixSeconds(
        absl::ToUnixSeconds(absl::Now() - absl::Hours(24 * 3)));
    Lot(kComponent, "R5", 500, made_at_ - absl::Hours(24));
    Lot(kDevice, "A17", 100, made_at_, kR5);
    Release(kA17);
    Location("EU", v1::LOCATION_KIND_SITE, "");
    Location("EU-W", v1::LOCATION_KIND_REGION, "EU");
    Location("FRA-WH1", v1::LOCATION_KIND_WAREHOUSE, "EU-W");
    Location(kBin, v1::LOCATION_KIND_BIN, "FRA-WH1");
    ReceiveAndShip();
    Recall();
    CorrectExpiry("2028-01-31");
  }

  std::vector<v1::HistoryEntry> History(const std::string& lot,
                                        bool components = false,
                                        const std::string& who = "auditor",
                                        grpc::Status* status = nullptr) {
    v1::LotHistoryRequest req;
    req.set_lot_id(lot);
    req.set_include_components(components);
    *req.mutable_after() = token_;
    auto ctx = stack_->Ctx(who);
    auto reader = audit_->LotHistory(ctx.get(), req);
    std::vector<v1::HistoryEntry> out;
    v1::HistoryEntry e;
    while (reader->Read(&e)) out.push_back(e);
    grpc::Status s = reader->Finish();
    if (status != nullptr) {
      *status = s;
    } else {
      EXPECT_TRUE(s.ok()) << s.error_message();
    }
    return out;
  }

  v1::LotAsOf AsOf(const google::protobuf::Timestamp& at, v1::TimeAxis axis) {
    v1::AsOfRequest req;
    req.set_lot_id(kA17);
    *req.mutable_at() = at;
    req.set_axis(axis);
    *req.mutable_after() = token_;
    v1::AsOfResponse resp;
    grpc::Status s = audit_->AsOf(stack_->Ctx("auditor").get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.state();
  }

  // `lotctl audit verify` offline against this stack's log.
  int VerifyOffline(std::string* out) {
    std::vector<std::string> args = {"audit", "verify"};
    if (GetParam() == Backend::kKafka) {
      args.push_back("--kafka-bootstrap=" + stack_->config().kafka_bootstrap);
      args.push_back("--topic-prefix=" + stack_->config().topic_prefix);
    } else {
      args.push_back("--embedded-dir=" + stack_->config().data_dir);
    }
    std::ostringstream o, e;
    const int code = lotctl::RunLotctl(args, o, e);
    *out = o.str() + e.str();
    return code;
  }

  v1::ConsistencyToken token_;
  absl::Time made_at_;  // when A17 was made (business time)
  std::unique_ptr<TestStack> stack_;
  std::unique_ptr<v1::LotsService::Stub> lots_;
  std::unique_ptr<v1::QualityService::Stub> quality_;
  std::unique_ptr<v1::InventoryService::Stub> inventory_;
  std::unique_ptr<v1::AuditService::Stub> audit_;
  std::unique_ptr<v1::RecallService::Stub> recall_;
};

TEST_P(AuditTest, HistoryVerifyAsOfAndTamperedRecord) {
  ASSERT_NO_FATAL_FAILURE(Scenario());

  // One timeline over the four writers' topics, by business time.
  const std::vector<v1::HistoryEntry> h = History(kA17);
  std::vector<std::string> types;
  for (const v1::HistoryEntry& e : h) types.push_back(e.event_type());
  EXPECT_EQ(types, (std::vector<std::string>{
                       "lotledger.v1.LotCreated",
                       "lotledger.v1.InspectionRecorded",
                       "lotledger.v1.DispositionChanged",
                       "lotledger.v1.StockReceived",
                       "lotledger.v1.StockShipped",
                       "lotledger.v1.RecallInitiated",
                       "lotledger.v1.LotCorrected",
                   }));
  ASSERT_EQ(h.size(), 7u);
  EXPECT_EQ(h[0].topic(), "lotledger.lots.v1");
  EXPECT_EQ(h[1].topic(), "lotledger.quality.v1");
  EXPECT_EQ(h[4].topic(), "lotledger.inventory.v1");
  EXPECT_EQ(h[5].topic(), "lotledger.recall.v1");
  EXPECT_EQ(h[5].aggregate_id(), "R-2026-7");
  EXPECT_EQ(h[5].actor(), "qa.recall");
  EXPECT_EQ(h[0].actor(), "operator");
  EXPECT_EQ(h[2].actor(), "qa.approver");
  EXPECT_EQ(h[2].reason(), "final inspection passed");
  EXPECT_EQ(h[6].reason(), "label printed with the wrong expiry");
  EXPECT_EQ(h[0].occurred_at().seconds(), absl::ToUnixSeconds(made_at_));
  EXPECT_LT(h[0].occurred_at().seconds(), h[0].recorded_at().seconds());
  EXPECT_NE(h[4].description().find("to customer H-12"), std::string::npos)
      << h[4].description();
  EXPECT_FALSE(h[4].request_id().empty());
  EXPECT_TRUE(h[4].event().has_stock_shipped());
  EXPECT_EQ(h[4].hash().size(), 32u);

  // With components: the component lot's creation comes first.
  const std::vector<v1::HistoryEntry> with = History(kA17, true);
  ASSERT_EQ(with.size(), 8u);
  EXPECT_EQ(with[0].lot_id(), kR5);
  EXPECT_EQ(with[0].relation(), v1::LOT_RELATION_COMPONENT);
  EXPECT_EQ(with[1].relation(), v1::LOT_RELATION_SELF);

  // EPCIS 2.0: schema-valid (the official schema, a real validator), with
  // the production from the component as a TransformationEvent.
  v1::ExportEpcisRequest ereq;
  ereq.set_lot_id(kA17);
  ereq.set_include_components(true);
  *ereq.mutable_after() = token_;
  v1::ExportEpcisResponse epcis;
  grpc::Status es =
      audit_->ExportEpcis(stack_->Ctx("auditor").get(), ereq, &epcis);
  ASSERT_TRUE(es.ok()) << es.error_message();
  const std::string& doc = epcis.document();
  EXPECT_EQ(epcis.event_count(), 7);  // the correction has no EPCIS event
  EXPECT_NE(doc.find("\"type\":\"TransformationEvent\""), std::string::npos);
  EXPECT_NE(doc.find("\"epcClass\":\"https://id.gs1.org/01/09506000134352/10/"
                     "A17\",\"quantity\":100,\"uom\":\"EA\""),
            std::string::npos)
      << doc;
  EXPECT_NE(doc.find("\"epcClass\":\"urn:lotledger:class:C-100:R5\""),
            std::string::npos);
  EXPECT_NE(doc.find("\"bizStep\":\"shipping\""), std::string::npos);
  EXPECT_NE(doc.find("\"disposition\":\"recalled\""), std::string::npos);
  EXPECT_NE(doc.find("\"cbvmda:itemExpirationDate\""), std::string::npos);
  const std::filesystem::path dir =
      std::filesystem::path(::testing::TempDir()) / ("epcis-" + NewRequestId());
  std::filesystem::create_directories(dir);
  std::ofstream((dir / "a17.jsonld").string()) << doc;
  std::string bad = doc;
  bad.replace(bad.find("\"bizStep\":\"shipping\""), 20,
              "\"bizStep\":\"beaming\"");
  std::ofstream((dir / "bad.jsonld").string()) << bad;
  const std::string validate = EPCIS_VALIDATE;
  EXPECT_EQ(std::system((validate + " " + (dir / "a17.jsonld").string() + " >" +
                         (dir / "valid.txt").string() + " 2>&1")
                            .c_str()),
            0)
      << std::ifstream((dir / "valid.txt").string()).rdbuf();
  // The validator is real: a made-up business step is refused.
  EXPECT_NE(std::system((validate + " " + (dir / "bad.jsonld").string() +
                         " >/dev/null 2>&1")
                            .c_str()),
            0);

  // The auditor's tool against the service.
  {
    auto run = [&](std::vector<std::string> args, std::string* out) {
      args.push_back("--server=" + stack_->target());
      args.push_back("--token=" + stack_->Token("auditor"));
      std::ostringstream o, e;
      const int code = lotctl::RunLotctl(args, o, e);
      *out = o.str() + e.str();
      return code;
    };
    std::string out;
    ASSERT_EQ(run({"audit", "history", kA17}, &out), 0) << out;
    EXPECT_NE(out.find("OCCURRED (UTC)"), std::string::npos) << out;
    EXPECT_NE(out.find("shipped 30 EA of 09506000134352:A17 from FRA-WH1-B07 "
                       "to customer H-12"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("7 events"), std::string::npos) << out;
    ASSERT_EQ(run({"audit", "history", kA17, "--json"}, &out), 0) << out;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 7) << out;
    EXPECT_NE(out.find("\"eventType\":\"lotledger.v1.RecallInitiated\""),
              std::string::npos);
    const std::string at =
        absl::FormatTime(absl::RFC3339_full, FromTimestamp(h[4].recorded_at()),
                         absl::UTCTimeZone());
    ASSERT_EQ(
        run({"audit", "as-of", kA17, "--at=" + at, "--axis=record"}, &out), 0)
        << out;
    EXPECT_NE(out.find("2028-03-01"), std::string::npos) << out;
    EXPECT_NE(out.find("H-12"), std::string::npos) << out;
    EXPECT_EQ(run({"audit", "as-of", kA17, "--at=yesterday"}, &out), 2);
    EXPECT_NE(out.find("--at"), std::string::npos) << out;
    ASSERT_EQ(run({"audit", "verify", kA17}, &out), 0) << out;
    EXPECT_NE(out.find("intact"), std::string::npos) << out;

    // The report an auditor prints, rendered by a real browser (headless
    // Chromium; tools/bootstrap test installs it and Graphviz).
    const std::filesystem::path report_dir =
        std::filesystem::path(::testing::TempDir()) /
        ("audit-report-" + NewRequestId());
    std::filesystem::create_directories(report_dir);
    const std::string html = (report_dir / "report.html").string();
    ASSERT_EQ(run({"audit", "report", kA17, "--html=" + html}, &out), 0) << out;
    std::stringstream page;
    page << std::ifstream(html).rdbuf();
    // Drawn, as an image (its SVG never runs as part of the page).
    EXPECT_NE(page.str().find("<img alt=\"Genealogy of lot "
                              "09506000134352:A17\" "
                              "src=\"data:image/svg+xml;base64,"),
              std::string::npos)
        << "the genealogy is not drawn: is Graphviz (dot) installed?";
    const std::string dom = (report_dir / "dom.html").string();
    const std::string png = (report_dir / "report.png").string();
    const std::string chromium =
        "chromium --headless --no-sandbox --disable-gpu "
        "--disable-dev-shm-usage --window-size=1280,2400 ";
    ASSERT_EQ(std::system((chromium + "--dump-dom file://" + html + " >" + dom +
                           " 2>/dev/null")
                              .c_str()),
              0);
    EXPECT_EQ(std::system((chromium + "--screenshot=" + png + " file://" +
                           html + " >/dev/null 2>&1")
                              .c_str()),
              0);
    std::stringstream rendered;
    rendered << std::ifstream(dom).rdbuf();
    for (const char* section :
         {"Audit report: lot 09506000134352:A17", "<h2>Lot</h2>",
          "<h2>Genealogy</h2>", "<h2>Quality signatures</h2>",
          "<h2>Movements and where it went</h2>", "<h2>Recalls</h2>",
          "<h2>Verification</h2>", "Intact:", "C-100:R5",
          "label printed with the wrong expiry", "R-2026-7"}) {
      EXPECT_NE(rendered.str().find(section), std::string::npos)
          << section << " missing from the rendered report " << dom;
    }
    EXPECT_TRUE(std::filesystem::exists(png));
    std::fprintf(stderr, "audit report: %s, screenshot %s\n", html.c_str(),
                 png.c_str());
    ::testing::Test::RecordProperty("audit_report_screenshot", png);
  }

  // Readers only; an unknown lot is NOT_FOUND.
  grpc::Status denied;
  History(kA17, false, "nobody", &denied);
  EXPECT_EQ(denied.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  grpc::Status missing;
  History("09506000134352:NOPE", false, "auditor", &missing);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::NOT_FOUND);

  // Every chain intact, checked by the service.
  v1::VerifyLotRequest vreq;
  vreq.set_lot_id(kA17);
  vreq.set_include_components(true);
  *vreq.mutable_after() = token_;
  v1::VerifyLotResponse verified;
  ASSERT_TRUE(
      audit_->VerifyLot(stack_->Ctx("auditor").get(), vreq, &verified).ok());
  EXPECT_TRUE(verified.ok()) << verified.first_break().what();
  EXPECT_GE(verified.records_checked(), 8u);

  // As of the shipment: the system then knew the old expiry; in the world
  // the lot always had the corrected one.
  const v1::LotAsOf known = AsOf(h[4].recorded_at(), v1::TIME_AXIS_RECORD);
  const v1::LotAsOf world = AsOf(h[4].recorded_at(), v1::TIME_AXIS_BUSINESS);
  EXPECT_EQ(known.lot().expires_on().year(), 2028);
  EXPECT_EQ(known.lot().expires_on().month(), 3);
  EXPECT_EQ(world.lot().expires_on().year(), 2028);
  EXPECT_EQ(world.lot().expires_on().month(), 1);
  EXPECT_EQ(known.disposition(), v1::DISPOSITION_RELEASED);
  EXPECT_EQ(known.on_hand(), 70);
  ASSERT_EQ(known.customers_holding_size(), 1);
  EXPECT_EQ(known.customers_holding(0), "H-12");
  EXPECT_FALSE(known.recalled());
  // Once the recall was recorded, the lot is recalled.
  const v1::LotAsOf recalled = AsOf(h[5].recorded_at(), v1::TIME_AXIS_RECORD);
  EXPECT_TRUE(recalled.recalled());
  EXPECT_EQ(recalled.recall_id(), "R-2026-7");
  // Once the correction was recorded, both axes agree.
  EXPECT_EQ(
      AsOf(h[6].recorded_at(), v1::TIME_AXIS_RECORD).lot().expires_on().month(),
      1);
  // Before the receipt was recorded nothing was in stock.
  EXPECT_EQ(AsOf(h[2].recorded_at(), v1::TIME_AXIS_RECORD).on_hand(), 0);

  // Offline: the whole log is intact. An embedded log has one process at
  // a time, so the server stops first.
  if (GetParam() == Backend::kEmbedded) stack_->Stop();
  std::string out;
  EXPECT_EQ(VerifyOffline(&out), 0) << out;
  EXPECT_NE(out.find("intact"), std::string::npos) << out;

  // Tamper with the shipment record.
  const v1::HistoryEntry& shipped = h[4];
  const std::string topic =
      stack_->config().topic_prefix + "lotledger.inventory.v1";
  int32_t broken_partition = shipped.partition();
  int64_t broken_offset = shipped.offset();
  if (GetParam() == Backend::kEmbedded) {
    rocksdb::DB* raw = nullptr;
    const std::string path =
        (std::filesystem::path(stack_->config().data_dir) / "log").string();
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), path, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    std::string key = "r" + topic;
    key.push_back('\0');
    for (int i = 3; i >= 0; --i) {
      key.push_back(static_cast<char>((broken_partition >> (8 * i)) & 0xff));
    }
    for (int i = 7; i >= 0; --i) {
      key.push_back(static_cast<char>((broken_offset >> (8 * i)) & 0xff));
    }
    std::string value;
    ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), key, &value).ok());
    v1::EmbeddedRecord stored;
    ASSERT_TRUE(stored.ParseFromString(value));
    v1::EventRecord rec;
    ASSERT_TRUE(rec.ParseFromString(stored.value()));
    const std::string before = stored.value();
    (*rec.mutable_body())[rec.body().size() / 2] ^= 0x01;
    stored.set_value(rec.SerializeAsString());
    // Exactly one byte of the stored record differs.
    ASSERT_EQ(stored.value().size(), before.size());
    int differing = 0;
    for (size_t i = 0; i < before.size(); ++i) {
      differing += before[i] != stored.value()[i];
    }
    ASSERT_EQ(differing, 1);
    ASSERT_TRUE(
        db->Put(rocksdb::WriteOptions(), key, stored.SerializeAsString()).ok());
  } else {
    eventlog::KafkaOptions k;
    k.bootstrap_servers = stack_->config().kafka_bootstrap;
    k.transactional_id = "forger-" + NewRequestId();
    absl::StatusOr<std::unique_ptr<eventlog::EventLog>> forger =
        eventlog::KafkaEventLog::Create(k);
    ASSERT_TRUE(forger.ok()) << forger.status();
    // A forger with produce rights appends a changed copy of the shipment
    // (one byte of its payload flipped) with a freshly computed hash, as
    // the first record of its aggregate: its own hash is valid, its chain
    // is not.
    v1::Event changed = shipped.event();
    std::string body = changed.SerializeAsString();
    body[body.size() / 2] ^= 0x01;
    v1::EventRecord rec;
    rec.set_body(body);
    rec.set_seq(1);
    rec.set_prev_hash(std::string(32, '\0'));
    rec.set_hash(ChainHash(rec.prev_hash(), rec.seq(), rec.body()));
    eventlog::OutgoingRecord forged;
    forged.key = kA17;
    forged.value = rec.SerializeAsString();
    absl::StatusOr<std::vector<eventlog::Position>> at =
        (*forger)->Append(topic, {forged});
    ASSERT_TRUE(at.ok()) << at.status();
    broken_partition = (*at)[0].partition;
    broken_offset = (*at)[0].offset;
    // The audit service indexes it and its VerifyLot names it.
    v1::VerifyLotRequest again;
    again.set_lot_id(kA17);
    v1::TopicOffset* o = again.mutable_after()->add_offsets();
    o->set_topic(topic);
    o->set_partition(broken_partition);
    o->set_offset(broken_offset + 1);
    v1::VerifyLotResponse found;
    grpc::Status vs =
        audit_->VerifyLot(stack_->Ctx("auditor").get(), again, &found);
    ASSERT_TRUE(vs.ok()) << vs.error_message();
    EXPECT_FALSE(found.ok());
    EXPECT_EQ(found.first_break().topic(), "lotledger.inventory.v1");
    EXPECT_EQ(found.first_break().partition(), broken_partition);
    EXPECT_EQ(found.first_break().offset(), broken_offset);
    EXPECT_EQ(found.first_break().aggregate_id(), kA17);
    EXPECT_EQ(found.first_break().found(), std::string(64, '0'));
    EXPECT_EQ(found.first_break().expected(), HexEncode(shipped.hash()));
  }
  EXPECT_EQ(VerifyOffline(&out), 1) << out;
  EXPECT_NE(out.find(absl::StrCat("lotledger.inventory.v1  ")),
            std::string::npos)
      << out;
  EXPECT_NE(out.find(absl::StrCat("BROKEN at partition ", broken_partition,
                                  " offset ", broken_offset, " (aggregate ",
                                  kA17, ")")),
            std::string::npos)
      << out;
  // Embedded: the stored bytes no longer match the hash; Kafka: the
  // forged record does not follow its aggregate's chain.
  EXPECT_NE(out.find(GetParam() == Backend::kEmbedded ? "does not match"
                                                      : "seq 1 follows seq"),
            std::string::npos)
      << out;
}

// A host with a checkpoint key signs its writers' topics; a clean
// shutdown leaves every record covered; verify checks the signatures, and
// with the checkpoints kept from that run finds a tail cut off later.
TEST(AuditCheckpointTest, HostSignsCheckpointsAndVerifyFindsACutTail) {
  const std::filesystem::path dir =
      std::filesystem::path(::testing::TempDir()) /
      ("audit-cp-" + NewRequestId());
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "dev-tokens") << "tok-admin admin admin\n"
                                    << "tok-operator operator operator\n";
  const std::string priv = (dir / "checkpoint.pem").string();
  const std::string pub = (dir / "checkpoint.pub.pem").string();
  std::ostringstream o, e;
  ASSERT_EQ(
      lotctl::RunLotctl(
          {"audit", "keygen", "--private=" + priv, "--public=" + pub}, o, e),
      0)
      << e.str();
  server::ProcessConfig c;
  c.listen = "127.0.0.1:0";
  c.data_dir = (dir / "data").string();
  c.dev_tokens = (dir / "dev-tokens").string();
  c.tls.insecure_dev = true;
  c.partitions = 1;
  c.shutdown_grace = absl::Seconds(5);
  c.checkpoint_key = priv;
  c.checkpoint_every_records = 2;
  {
    absl::StatusOr<std::unique_ptr<ServerHost>> host =
        ServerHost::Start(c, "test-checkpoints", {"lots", "audit"});
    ASSERT_TRUE(host.ok()) << host.status();
    auto channel = grpc::CreateChannel((*host)->target(),
                                       grpc::InsecureChannelCredentials());
    auto lots = v1::LotsService::NewStub(channel);
    v1::DefineProductRequest def;
    def.set_request_id(NewRequestId());
    def.mutable_product()->set_item(kComponent);
    def.mutable_product()->set_name("tubing");
    def.mutable_product()->set_uom("EA");
    def.mutable_product()->set_kind(v1::ITEM_KIND_COMPONENT);
    def.mutable_product()->mutable_policy()->set_shelf_life_days(365);
    for (int i = 0; i < 5; ++i) {
      grpc::ClientContext ctx;
      ctx.AddMetadata("authorization", "Bearer tok-admin");
      def.set_request_id(NewRequestId());
      def.mutable_product()->set_name(absl::StrCat("tubing v", i));
      v1::DefineProductResponse resp;
      grpc::Status s = lots->DefineProduct(&ctx, def, &resp);
      ASSERT_TRUE(s.ok()) << s.error_message();
    }
    (*host)->Shutdown();
  }
  const std::string anchors = (dir / "kept-checkpoints").string();
  auto verify = [&](std::vector<std::string> extra, std::string* out) {
    std::vector<std::string> args = {
        "audit", "verify", "--embedded-dir=" + c.data_dir,
        "--public-key=" + pub, "--topic=lotledger.lots.v1"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::ostringstream vo, ve;
    const int code = lotctl::RunLotctl(args, vo, ve);
    *out = vo.str() + ve.str();
    return code;
  };
  std::string out;
  ASSERT_EQ(verify({"--save-checkpoints=" + anchors}, &out), 0) << out;
  // 5 records: checkpoints after 2 and 4 (maybe more), the last at
  // shutdown; nothing left uncovered; every signature checked.
  EXPECT_NE(out.find("signatures checked"), std::string::npos) << out;
  EXPECT_EQ(out.find(" 0 signatures checked"), std::string::npos) << out;
  std::ifstream kept(anchors);
  std::string line;
  std::getline(kept, line);
  EXPECT_TRUE(line.starts_with("lotledger.lots.v1 0 ")) << line;

  // Cut the tail after the third record: whichever checkpoints were
  // written by then, the last products and the final checkpoint go.
  {
    rocksdb::DB* raw = nullptr;
    const std::string path = c.data_dir + "/log";
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), path, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    std::string prefix = "rlotledger.lots.v1";
    prefix.push_back('\0');
    prefix.append(4, '\0');
    std::unique_ptr<rocksdb::Iterator> it(
        db->NewIterator(rocksdb::ReadOptions()));
    std::vector<std::string> keys;
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix);
         it->Next()) {
      keys.push_back(it->key().ToString());
    }
    ASSERT_GE(keys.size(), 6u);  // 5 products and at least one checkpoint
    for (size_t i = 3; i < keys.size(); ++i) {
      ASSERT_TRUE(db->Delete(rocksdb::WriteOptions(), keys[i]).ok());
    }
  }
  EXPECT_EQ(verify({}, &out), 0) << out;  // consistent on its own
  EXPECT_EQ(verify({"--checkpoints=" + anchors}, &out), 1) << out;
  EXPECT_NE(out.find("its tail was removed"), std::string::npos) << out;
}

INSTANTIATE_TEST_SUITE_P(Backends, AuditTest,
                         ::testing::Values(Backend::kEmbedded, Backend::kKafka),
                         [](const auto& info) {
                           return BackendName(info.param);
                         });

}  // namespace
}  // namespace lotledger::testing
