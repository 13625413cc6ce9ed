// The production shape: the five service binaries as separate processes on
// the real Kafka broker (tests/support/service_cluster.h), each client
// talking only to its own service, and NO consistency token ever passed
// from one service's answer to another service's request — what a
// customer's integration does when it calls each service as it needs it.
// What users rely on there:
//   - a lot put on hold (quality answered OK) or recalled (recall answered
//     OK) never ships afterwards: inventory refuses the next shipment, with
//     FAILED_PRECONDITION naming the hold or the recall;
//   - no command is refused for lack of a fact another service has already
//     acknowledged ("lot ... does not exist", "not known to the recall
//     service", "not released by quality" after the release);
//   - after every service is stopped (SIGTERM) and started again, every
//     acknowledged fact answers the same and the gates still hold;
//   - the README's "Five minutes with lotctl" walk works against the
//     separate services, audit-service included.
// Counts of violations are printed on every run (grep "production shape:"),
// so runs before and after a change compare. No timing is asserted; every
// wait is bounded.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "libs/common/ids.h"
#include "lotledger/v1/audit.pb.h"
#include "lotledger/v1/inventory.grpc.pb.h"
#include "lotledger/v1/lots.grpc.pb.h"
#include "lotledger/v1/quality.grpc.pb.h"
#include "lotledger/v1/recall.grpc.pb.h"
#include "tests/support/service_cluster.h"
#include "tools/lotctl/cli.h"

#if !defined(LOTS_SERVICE_PATH) || !defined(QUALITY_SERVICE_PATH) ||     \
    !defined(INVENTORY_SERVICE_PATH) || !defined(RECALL_SERVICE_PATH) || \
    !defined(AUDIT_SERVICE_PATH)
#error "the five service binaries' paths must be defined (tests/CMakeLists.txt)"
#endif

namespace lotledger::testing {
namespace {

ServiceBinaries Binaries() {
  return {.lots = LOTS_SERVICE_PATH,
          .quality = QUALITY_SERVICE_PATH,
          .inventory = INVENTORY_SERVICE_PATH,
          .recall = RECALL_SERVICE_PATH,
          .audit = AUDIT_SERVICE_PATH};
}

std::string NewRequestId() { return NewUuidV7(absl::Now()); }

constexpr char kDevice[] = "09506000134352";
constexpr char kBin[] = "WH1-B1";
constexpr int kClients = 8;
constexpr int kDefaultRaceLots = 200;
constexpr int64_t kReceived = 100;

// LOTLEDGER_RACE_LOTS may lower the number of lots (local iteration); the
// suite runs the default.
int RaceLots() {
  const char* v = std::getenv("LOTLEDGER_RACE_LOTS");
  int n = 0;
  if (v != nullptr && absl::SimpleAtoi(v, &n) && n >= 2 &&
      n < kDefaultRaceLots) {
    return n;
  }
  return kDefaultRaceLots;
}

absl::CivilDay Today() {
  return absl::ToCivilDay(absl::Now(), absl::UTCTimeZone());
}

void SetDate(absl::CivilDay d, v1::Date* out) {
  out->set_year(static_cast<int32_t>(d.year()));
  out->set_month(d.month());
  out->set_day(d.day());
}

std::string LotId(int i) { return absl::StrCat(kDevice, ":R", i); }
std::string RecallId(int i) { return absl::StrCat("RC-R", i); }
// Even lots are put on hold, odd lots recalled.
bool HeldLot(int i) { return i % 2 == 0; }

std::string CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return absl::StrCat("code ", static_cast<int>(code));
  }
}

// A refusal that says the service has not seen a fact that another
// service acknowledged before the call: the lot (lots-service), or the
// release (quality-service).
bool RefusedForUnseenFact(const grpc::Status& s) {
  if (s.error_code() != grpc::StatusCode::FAILED_PRECONDITION &&
      s.error_code() != grpc::StatusCode::NOT_FOUND) {
    return false;
  }
  const std::string& m = s.error_message();
  return absl::StrContains(m, "does not exist") ||
         absl::StrContains(m, "is not known to") ||
         absl::StrContains(m, "not released by quality");
}

// What the race saw; printed on every run.
class Tally {
 public:
  struct Incident {
    std::string step;
    std::string lot_id;
    std::string what;
  };

  void AcceptedAfterHold(const std::string& lot, const std::string& id) {
    Add(&accepted_after_hold_, {"ship", lot, "accepted: shipment " + id});
  }
  void AcceptedAfterRecall(const std::string& lot, const std::string& id) {
    Add(&accepted_after_recall_, {"ship", lot, "accepted: shipment " + id});
  }
  void RefusedUnseen(const std::string& step, const std::string& lot,
                     const grpc::Status& s) {
    Add(&refused_unseen_, {step, lot, Describe(s)});
    std::lock_guard<std::mutex> l(mu_);
    ++refused_unseen_by_step_[step];
  }
  void Unexpected(const std::string& step, const std::string& lot,
                  const grpc::Status& s) {
    Add(&unexpected_, {step, lot, Describe(s)});
  }
  void RightRefusal() {
    std::lock_guard<std::mutex> l(mu_);
    ++right_refusals_;
  }
  void LotDone() {
    std::lock_guard<std::mutex> l(mu_);
    ++lots_done_;
  }

  int accepted_after_hold() const { return Size(accepted_after_hold_); }
  int accepted_after_recall() const { return Size(accepted_after_recall_); }
  int refused_unseen() const { return Size(refused_unseen_); }
  int unexpected() const { return Size(unexpected_); }
  int lots_done() const {
    std::lock_guard<std::mutex> l(mu_);
    return lots_done_;
  }
  int right_refusals() const {
    std::lock_guard<std::mutex> l(mu_);
    return right_refusals_;
  }
  // Accepted shipments per lot (each ships 1 unit).
  std::map<std::string, int> AcceptedByLot() const {
    std::lock_guard<std::mutex> l(mu_);
    std::map<std::string, int> out;
    for (const auto* list : {&accepted_after_hold_, &accepted_after_recall_}) {
      for (const Incident& i : *list) ++out[i.lot_id];
    }
    return out;
  }

  // One paragraph: the counts, then up to `examples` incidents of each
  // kind.
  std::string Report(const std::string& label, int examples = 5) const {
    std::lock_guard<std::mutex> l(mu_);
    std::string by_step;
    for (const auto& [step, n] : refused_unseen_by_step_) {
      absl::StrAppend(&by_step, by_step.empty() ? "" : ", ", step, " ", n);
    }
    std::string out = absl::StrCat(
        "production shape: ", label, ": lots completed ", lots_done_,
        "; shipments accepted after an acknowledged hold ",
        accepted_after_hold_.size(), ", after an acknowledged recall ",
        accepted_after_recall_.size(),
        "; commands refused for a fact another service had acknowledged ",
        refused_unseen_.size(), by_step.empty() ? "" : " (" + by_step + ")",
        "; shipments refused for the hold or recall ", right_refusals_,
        "; unexpected answers ", unexpected_.size(), "\n");
    auto list = [&](const char* title, const std::vector<Incident>& v) {
      if (v.empty()) return;
      absl::StrAppend(&out, "  ", title, " (first ",
                      std::min<size_t>(v.size(), examples), " of ", v.size(),
                      "):\n");
      for (size_t i = 0; i < v.size() && i < static_cast<size_t>(examples);
           ++i) {
        absl::StrAppend(&out, "    ", v[i].step, " ", v[i].lot_id, ": ",
                        v[i].what, "\n");
      }
    };
    list("shipped after hold", accepted_after_hold_);
    list("shipped after recall", accepted_after_recall_);
    list("refused for an acknowledged fact", refused_unseen_);
    list("unexpected", unexpected_);
    return out;
  }

 private:
  static std::string Describe(const grpc::Status& s) {
    return absl::StrCat(CodeName(s.error_code()), ": ", s.error_message());
  }
  void Add(std::vector<Incident>* list, Incident i) {
    std::lock_guard<std::mutex> l(mu_);
    list->push_back(std::move(i));
  }
  int Size(const std::vector<Incident>& v) const {
    std::lock_guard<std::mutex> l(mu_);
    return static_cast<int>(v.size());
  }

  mutable std::mutex mu_;
  std::vector<Incident> accepted_after_hold_;
  std::vector<Incident> accepted_after_recall_;
  std::vector<Incident> refused_unseen_;
  std::map<std::string, int> refused_unseen_by_step_;
  std::vector<Incident> unexpected_;
  int right_refusals_ = 0;
  int lots_done_ = 0;
};

class ProductionShapeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = ServiceCluster::Start(Binaries());
    ASSERT_NE(cluster_, nullptr) << "the five services did not come up";
    lots_ = v1::LotsService::NewStub(cluster_->channel(Service::kLots));
    quality_ =
        v1::QualityService::NewStub(cluster_->channel(Service::kQuality));
    inventory_ =
        v1::InventoryService::NewStub(cluster_->channel(Service::kInventory));
    recall_ = v1::RecallService::NewStub(cluster_->channel(Service::kRecall));
  }

  std::unique_ptr<grpc::ClientContext> Ctx(const std::string& principal) {
    return cluster_->Ctx(principal);
  }

  // The race's master data: the device (lots-service) and a bin with its
  // parents (inventory-service). Each service's own facts only.
  void SetUpMasterData() {
    v1::DefineProductRequest def;
    def.set_request_id(NewRequestId());
    def.mutable_product()->set_item(kDevice);
    def.mutable_product()->set_name("Sterile catheter 12Fr");
    def.mutable_product()->set_uom("EA");
    def.mutable_product()->set_kind(v1::ITEM_KIND_FINISHED_DEVICE);
    def.mutable_product()->mutable_policy()->set_shelf_life_days(730);
    v1::DefineProductResponse defined;
    grpc::Status s = lots_->DefineProduct(Ctx("admin").get(), def, &defined);
    ASSERT_TRUE(s.ok()) << s.error_message();
    for (const v1::CreateLocationRequest& req :
         LocationTree({kBin}, {.site = "IE", .region = "EU"})) {
      v1::CreateLocationResponse created;
      s = inventory_->CreateLocation(Ctx("admin").get(), req, &created);
      ASSERT_TRUE(s.ok()) << req.location_id() << ": " << s.error_message();
    }
  }

  // Sends a command built afresh by `call` (a new request id each time)
  // until it is acknowledged. A refusal for a fact another service had
  // already acknowledged is counted and the command sent again (bounded),
  // so the rest of the lot's path still runs; any other failure is counted
  // as unexpected. True when acknowledged.
  bool Acknowledged(const std::string& step, const std::string& lot_id,
                    const std::function<grpc::Status()>& call) {
    const absl::Time give_up = absl::Now() + absl::Seconds(60);
    while (true) {
      const grpc::Status s = call();
      if (s.ok()) return true;
      if (!RefusedForUnseenFact(s)) {
        tally_.Unexpected(step, lot_id, s);
        return false;
      }
      tally_.RefusedUnseen(step, lot_id, s);
      if (absl::Now() > give_up) {
        tally_.Unexpected(step, lot_id,
                          grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                                       "still refused after 60 s"));
        return false;
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
  }

  // One shipment of one unit of lot `i` right after its hold or recall was
  // acknowledged: must be refused for that hold or recall.
  void ShipAfterBlock(int i) {
    const std::string lot_id = LotId(i);
    v1::ShipStockRequest ship;
    ship.set_request_id(NewRequestId());
    ship.mutable_customer()->set_customer_id("HOSP-1");
    ship.mutable_customer()->set_name("St James's Hospital");
    ship.mutable_customer()->set_region("EU");
    v1::ShipmentLine* line = ship.add_lines();
    line->set_lot_id(lot_id);
    line->set_location_id(kBin);
    line->mutable_quantity()->set_amount(1);
    line->mutable_quantity()->set_uom("EA");
    v1::ShipStockResponse shipped;
    const grpc::Status s =
        inventory_->ShipStock(Ctx("operator").get(), ship, &shipped);
    if (s.ok()) {
      if (HeldLot(i)) {
        tally_.AcceptedAfterHold(lot_id, shipped.shipment().shipment_id());
      } else {
        tally_.AcceptedAfterRecall(lot_id, shipped.shipment().shipment_id());
      }
      return;
    }
    const bool right =
        s.error_code() == grpc::StatusCode::FAILED_PRECONDITION &&
        absl::StrContains(s.error_message(),
                          HeldLot(i) ? "is on hold" : "is under recall");
    if (right) {
      tally_.RightRefusal();
    } else if (RefusedForUnseenFact(s)) {
      // Refused, but because inventory had not seen the release (or the
      // lot): decided on stale facts.
      tally_.RefusedUnseen("ship", lot_id, s);
    } else {
      tally_.Unexpected("ship", lot_id, s);
    }
  }

  // The path of lot `i`, every step at the next service right after the
  // previous one answered OK: create (lots) -> inspect, release (quality)
  // -> receive (inventory) -> hold (quality) or recall (recall) -> ship
  // (inventory).
  void RunLot(int i) {
    const std::string lot_id = LotId(i);
    v1::CreateLotRequest create;
    create.set_request_id(NewRequestId());
    create.set_item(kDevice);
    create.set_lot_number(absl::StrCat("R", i));
    SetDate(Today() - 30, create.mutable_manufactured_on());
    create.mutable_quantity()->set_amount(kReceived);
    create.mutable_quantity()->set_uom("EA");
    v1::CreateLotResponse created;
    const grpc::Status s =
        lots_->CreateLot(Ctx("operator").get(), create, &created);
    if (!s.ok()) {
      tally_.Unexpected("create", lot_id, s);
      return;
    }
    if (!Acknowledged("inspect", lot_id, [&] {
          v1::RecordInspectionRequest req;
          req.set_request_id(NewRequestId());
          req.set_lot_id(lot_id);
          req.set_type(v1::INSPECTION_TYPE_FINAL);
          req.set_sample_size(32);
          v1::CharacteristicResult* r = req.add_results();
          r->set_characteristic("seal strength");
          r->set_specification(">= 1.2 N/15mm");
          r->set_measured_value("1.45");
          r->set_unit("N/15mm");
          r->set_passed(true);
          v1::RecordInspectionResponse resp;
          return quality_->RecordInspection(Ctx("qa.inspector").get(), req,
                                            &resp);
        })) {
      return;
    }
    if (!Acknowledged("release", lot_id, [&] {
          return ChangeDisposition(lot_id, v1::DISPOSITION_RELEASED,
                                   "approved for release",
                                   "final inspection passed");
        })) {
      return;
    }
    if (!Acknowledged("receive", lot_id, [&] {
          v1::ReceiveStockRequest req;
          req.set_request_id(NewRequestId());
          req.set_lot_id(lot_id);
          req.set_location_id(kBin);
          req.mutable_quantity()->set_amount(kReceived);
          req.mutable_quantity()->set_uom("EA");
          req.set_source(v1::RECEIPT_SOURCE_PRODUCTION);
          v1::ReceiveStockResponse resp;
          return inventory_->ReceiveStock(Ctx("operator").get(), req, &resp);
        })) {
      return;
    }
    if (HeldLot(i)) {
      if (!Acknowledged("hold", lot_id, [&] {
            return ChangeDisposition(lot_id, v1::DISPOSITION_ON_HOLD,
                                     "placed on hold", "sterility retest");
          })) {
        return;
      }
    } else {
      if (!Acknowledged("recall", lot_id, [&] {
            v1::InitiateRequest req;
            req.set_request_id(NewRequestId());
            req.set_recall_id(RecallId(i));
            req.set_classification(v1::RECALL_CLASS_II);
            req.set_title("Seal leak");
            req.set_reason("supplier notice on the pouch film");
            req.set_health_hazard("possible loss of sterility");
            req.mutable_criteria()->add_lot_ids(lot_id);
            req.mutable_signature()->set_meaning("recall initiated");
            req.mutable_signature()->set_reason("supplier notice");
            req.mutable_signature()->set_credential(
                cluster_->Token("recall.manager"));
            v1::InitiateResponse resp;
            return recall_->Initiate(Ctx("recall.manager").get(), req, &resp);
          })) {
        return;
      }
    }
    ShipAfterBlock(i);
    tally_.LotDone();
  }

  grpc::Status ChangeDisposition(const std::string& lot_id, v1::Disposition to,
                                 const std::string& meaning,
                                 const std::string& reason) {
    v1::ChangeDispositionRequest req;
    req.set_request_id(NewRequestId());
    req.set_lot_id(lot_id);
    req.set_to(to);
    req.mutable_signature()->set_meaning(meaning);
    req.mutable_signature()->set_reason(reason);
    req.mutable_signature()->set_credential(cluster_->Token("qa.approver"));
    v1::ChangeDispositionResponse resp;
    return quality_->ChangeDisposition(Ctx("qa.approver").get(), req, &resp);
  }

  // Lots [from, to) over kClients threads, each taking the next lot.
  void Race(int from, int to) {
    std::atomic<int> next{from};
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
      clients.emplace_back([&] {
        for (int i = next++; i < to; i = next++) RunLot(i);
      });
    }
    for (std::thread& t : clients) t.join();
  }

  // The counts are printed on every run; the failure message has them
  // all, with examples of each kind.
  void ExpectNoViolations(const std::string& label) {
    const std::string report = tally_.Report(label);
    std::printf("%s", report.c_str());
    std::fflush(stdout);
    const bool clean = tally_.accepted_after_hold() == 0 &&
                       tally_.accepted_after_recall() == 0 &&
                       tally_.refused_unseen() == 0 && tally_.unexpected() == 0;
    EXPECT_TRUE(clean)
        << "want 0 shipments accepted after an acknowledged hold or recall, "
           "0 commands refused for a fact another service had acknowledged "
           "and 0 unexpected answers; got\n"
        << report;
  }

  // What each service answers about lot `i` from its own facts, as text
  // (compared before and after a restart).
  struct OwnFacts {
    std::string lot;        // lots-service: the lot
    std::string quality;    // quality-service: the quality record
    std::string inventory;  // inventory-service: its own stock movements
    std::string recall;     // recall-service: the recall (odd lots)
  };
  OwnFacts ReadOwnFacts(int i) {
    OwnFacts f;
    const std::string lot_id = LotId(i);
    v1::GetLotRequest get;
    get.set_lot_id(lot_id);
    v1::GetLotResponse lot;
    grpc::Status s = lots_->GetLot(Ctx("auditor").get(), get, &lot);
    EXPECT_TRUE(s.ok()) << lot_id << " lots: " << s.error_message();
    f.lot = lot.lot().ShortDebugString();
    v1::GetQualityRecordRequest qreq;
    qreq.set_lot_id(lot_id);
    v1::GetQualityRecordResponse qual;
    s = quality_->GetQualityRecord(Ctx("auditor").get(), qreq, &qual);
    EXPECT_TRUE(s.ok()) << lot_id << " quality: " << s.error_message();
    f.quality = qual.record().ShortDebugString();
    v1::GetLotInventoryRequest ireq;
    ireq.set_lot_id(lot_id);
    v1::GetLotInventoryResponse inv;
    s = inventory_->GetLotInventory(Ctx("auditor").get(), ireq, &inv);
    EXPECT_TRUE(s.ok()) << lot_id << " inventory: " << s.error_message();
    v1::LotInventory own;
    *own.mutable_stock() = inv.lot().stock();
    *own.mutable_customers() = inv.lot().customers();
    own.set_on_hand(inv.lot().on_hand());
    own.set_received(inv.lot().received());
    own.set_shipped(inv.lot().shipped());
    own.set_returned(inv.lot().returned());
    own.set_scrapped(inv.lot().scrapped());
    f.inventory = own.ShortDebugString();
    if (!HeldLot(i)) {
      v1::GetRecallRequest rreq;
      rreq.set_recall_id(RecallId(i));
      v1::GetRecallResponse rec;
      s = recall_->GetRecall(Ctx("auditor").get(), rreq, &rec);
      EXPECT_TRUE(s.ok()) << RecallId(i) << ": " << s.error_message();
      f.recall = rec.recall().ShortDebugString();
    }
    return f;
  }

  // Each owner's answer matches what the clients were told: the lot
  // exists with its quantity, the disposition the last acknowledged
  // change set, the stock received less what shipped, the recall open
  // with exactly the lot in scope.
  void ExpectAcknowledgedFacts(int i, int shipped) {
    const std::string lot_id = LotId(i);
    SCOPED_TRACE(lot_id);
    v1::GetLotRequest get;
    get.set_lot_id(lot_id);
    v1::GetLotResponse lot;
    grpc::Status s = lots_->GetLot(Ctx("auditor").get(), get, &lot);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(lot.lot().quantity().amount(), kReceived);
    v1::GetQualityRecordRequest qreq;
    qreq.set_lot_id(lot_id);
    v1::GetQualityRecordResponse qual;
    s = quality_->GetQualityRecord(Ctx("auditor").get(), qreq, &qual);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(qual.record().disposition(),
              HeldLot(i) ? v1::DISPOSITION_ON_HOLD : v1::DISPOSITION_RELEASED);
    v1::GetLotInventoryRequest ireq;
    ireq.set_lot_id(lot_id);
    v1::GetLotInventoryResponse inv;
    s = inventory_->GetLotInventory(Ctx("auditor").get(), ireq, &inv);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(inv.lot().received(), kReceived);
    EXPECT_EQ(inv.lot().shipped(), shipped);
    EXPECT_EQ(inv.lot().on_hand(), kReceived - shipped);
    if (!HeldLot(i)) {
      v1::GetRecallRequest rreq;
      rreq.set_recall_id(RecallId(i));
      v1::GetRecallResponse rec;
      s = recall_->GetRecall(Ctx("auditor").get(), rreq, &rec);
      ASSERT_TRUE(s.ok()) << s.error_message();
      EXPECT_EQ(rec.recall().status(), v1::RECALL_STATUS_OPEN);
      ASSERT_EQ(rec.recall().scope_size(), 1);
      EXPECT_EQ(rec.recall().scope(0).lot_id(), lot_id);
    }
  }

  std::unique_ptr<ServiceCluster> cluster_;
  std::unique_ptr<v1::LotsService::Stub> lots_;
  std::unique_ptr<v1::QualityService::Stub> quality_;
  std::unique_ptr<v1::InventoryService::Stub> inventory_;
  std::unique_ptr<v1::RecallService::Stub> recall_;
  Tally tally_;
};

// 1. The race: N lots, 8 client threads, every step at the next service
// right after the previous one answered.
TEST_F(ProductionShapeTest, HoldOrRecallAcknowledgedNothingShipsAfter) {
  ASSERT_NO_FATAL_FAILURE(SetUpMasterData());
  const int n = RaceLots();
  Race(0, n);
  EXPECT_EQ(tally_.lots_done(), n) << tally_.Report("race");
  ExpectNoViolations(absl::StrCat("race of ", n, " lots"));
}

// 2. The same race with every service stopped (SIGTERM) and started again
// half way: the acknowledged facts answer the same, the holds and recalls
// still stop shipments, and the second half behaves as the first.
TEST_F(ProductionShapeTest, EveryServiceRestartedMidRaceKeepsFactsAndGates) {
  ASSERT_NO_FATAL_FAILURE(SetUpMasterData());
  const int n = RaceLots();
  const int half = n / 2;
  Race(0, half);
  const std::map<std::string, int> shipped_before = tally_.AcceptedByLot();
  std::vector<OwnFacts> before;
  for (int i = 0; i < half; ++i) before.push_back(ReadOwnFacts(i));

  ASSERT_TRUE(cluster_->RestartAll());

  for (int i = 0; i < half; ++i) {
    const OwnFacts after = ReadOwnFacts(i);
    SCOPED_TRACE(LotId(i));
    EXPECT_EQ(after.lot, before[i].lot);
    EXPECT_EQ(after.quality, before[i].quality);
    EXPECT_EQ(after.inventory, before[i].inventory);
    EXPECT_EQ(after.recall, before[i].recall);
    const auto it = shipped_before.find(LotId(i));
    ExpectAcknowledgedFacts(i, it == shipped_before.end() ? 0 : it->second);
  }
  // The gates hold after the restart: a second shipment of every lot of
  // the first half is refused for its hold or recall.
  for (int i = 0; i < half; ++i) ShipAfterBlock(i);
  Race(half, n);
  EXPECT_EQ(tally_.lots_done(), n) << tally_.Report("restart");
  ExpectNoViolations(absl::StrCat("restart after ", half, " of ", n, " lots"));
}

// ---- 3. The README's "Five minutes with lotctl" ----------------------------

struct LotctlResult {
  int code;
  std::string out;
  std::string err;
};

// The README's walk with lotctl (in process), each verb pointed at the
// service that owns it, as a script in a deployment of separate services
// would. The dates keep their distance from today as in the README (written
// on 2026-12-06), so the lots have the same age and shelf life left
// whenever the test runs.
class ProductionShapeReadmeTest : public ProductionShapeTest {
 protected:
  LotctlResult Lotctl(Service service, const std::string& principal,
                      std::vector<std::string> args) {
    args.push_back("--server=" + cluster_->target(service));
    args.push_back("--token=" + cluster_->Token(principal));
    lotctl::Environment env;
    env.getenv = [](const std::string&) { return std::nullopt; };
    env.now = [] { return absl::Now(); };
    std::ostringstream out, err;
    const int code = lotctl::RunLotctl(std::move(args), env, out, err);
    return {code, out.str(), err.str()};
  }

  // Runs and expects exit 0; the output.
  std::string Ok(Service service, const std::string& principal,
                 std::vector<std::string> args) {
    const std::string line = absl::StrJoin(args, " ");
    const LotctlResult r = Lotctl(service, principal, std::move(args));
    EXPECT_EQ(r.code, 0) << "lotctl " << line << " at " << ServiceName(service)
                         << "-service:\n"
                         << r.out << r.err;
    return r.out;
  }

  static std::string Day(absl::CivilDay d) { return absl::FormatCivilTime(d); }
};

TEST_F(ProductionShapeReadmeTest,
       FiveMinutesWithLotctlAgainstSeparateServices) {
  // README: today 2026-12-06, R-88 made 2026-03-02, A17 made 2026-03-20.
  const absl::CivilDay today = Today();
  const absl::CivilDay resin_made = today - 279;
  const absl::CivilDay device_made = today - 261;
  const absl::CivilDay device_expiry = device_made + 730;
  const std::string device = "09506000134352";
  const std::string a17 = device + ":A17";
  const std::string r88 = "RM-RESIN:R-88";
  using S = Service;

  // Master data (admin).
  Ok(S::kLots, "admin",
     {"product", "define", "--item=RM-RESIN", "--name=Medical-grade PVC resin",
      "--uom=EA", "--kind=raw", "--shelf-life-days=1095"});
  Ok(S::kLots, "admin",
     {"product", "define", "--item=" + device, "--name=Sterile catheter 12Fr",
      "--uom=EA", "--kind=finished", "--shelf-life-days=730",
      "--alert-days=180,90,30", "--min-ship-days=90",
      "--cap-expiry-by-components", "--require-released-components"});

  // Lots (operator).
  Ok(S::kLots, "operator",
     {"lot", "create", "--item=RM-RESIN", "--lot=R-88",
      "--manufactured=" + Day(resin_made), "--quantity=1000", "--uom=EA",
      "--supplier=Polymed GmbH", "--supplier-lot=PM-5521"});
  Ok(S::kLots, "operator",
     {"lot", "create", "--item=" + device, "--lot=A17",
      "--manufactured=" + Day(device_made), "--quantity=500", "--uom=EA",
      "--site=Galway", "--input=RM-RESIN:R-88:200"});

  // Quality: inspect, the refused release, release.
  Ok(S::kQuality, "qa.inspector",
     {"inspect", r88, "--type=incoming", "--sample-size=5",
      "--result=melt flow|8-12 g/10min|10.1|g/10min|pass"});
  LotctlResult refused =
      Lotctl(S::kQuality, "qa.approver",
             {"release", a17, "--meaning=approved for release",
              "--reason=batch record reviewed"});
  EXPECT_EQ(refused.code, 1) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("FAILED_PRECONDITION: lot " + a17 +
                             " cannot be released: component lot " + r88 +
                             " is not released"),
            std::string::npos)
      << refused.err;
  Ok(S::kQuality, "qa.approver",
     {"release", r88, "--meaning=approved for use",
      "--reason=CoA and incoming inspection OK"});
  Ok(S::kQuality, "qa.inspector",
     {"inspect", a17, "--type=final", "--sample-size=32",
      "--result=seal strength|>= 1.2 N/15mm|1.45|N/15mm|pass"});
  Ok(S::kQuality, "qa.approver",
     {"release", a17, "--meaning=approved for release",
      "--reason=batch record reviewed"});

  // Trace and the label scan (lots).
  std::string out = Ok(S::kLots, "auditor", {"trace", a17});
  EXPECT_NE(out.find("200 EA of " + r88), std::string::npos) << out;
  EXPECT_NE(out.find("expires " + Day(device_expiry)), std::string::npos)
      << out;
  out = Ok(S::kLots, "auditor", {"trace", r88, "--forward"});
  EXPECT_NE(out.find(a17), std::string::npos) << out;
  Ok(S::kLots, "auditor",
     {"udi", "resolve",
      absl::StrFormat("(01)%s(17)%02d%02d%02d(10)A17", device,
                      device_expiry.year() % 100, device_expiry.month(),
                      device_expiry.day())});

  // Inventory.
  Ok(S::kInventory, "admin",
     {"inventory", "location-create", "IE", "--name=Ireland", "--kind=site"});
  Ok(S::kInventory, "admin",
     {"inventory", "location-create", "EU", "--name=Europe", "--kind=region",
      "--parent=IE"});
  Ok(S::kInventory, "admin",
     {"inventory", "location-create", "WH-DUB", "--name=Dublin DC",
      "--kind=warehouse", "--parent=EU"});
  Ok(S::kInventory, "admin",
     {"inventory", "location-create", "Q-DUB", "--name=Dublin quarantine",
      "--kind=bin", "--parent=WH-DUB", "--quarantine"});
  Ok(S::kInventory, "operator",
     {"inventory", "receive", a17, "--location=WH-DUB", "--quantity=500",
      "--source=production"});
  LotctlResult fefo = Lotctl(
      S::kInventory, "operator",
      {"inventory", "fefo", "--item=" + device, "--quantity=120", "--json"});
  EXPECT_EQ(fefo.code, 0) << fefo.err;
  v1::AllocateFefoResponse pick;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(fefo.out, &pick).ok())
      << fefo.out;
  ASSERT_EQ(pick.lines_size(), 1) << fefo.out;
  EXPECT_EQ(pick.lines(0).lot_id(), a17);
  EXPECT_EQ(pick.lines(0).location_id(), "WH-DUB");
  EXPECT_EQ(pick.lines(0).quantity().amount(), 120);
  Ok(S::kInventory, "operator",
     {"inventory", "ship", "--customer=HOSP-STJ",
      "--customer-name=St James's Hospital", "--customer-region=EU",
      "--line=" + a17 + "@WH-DUB:120"});
  out = Ok(S::kInventory, "auditor", {"inventory", "where", a17});
  EXPECT_NE(out.find("HOSP-STJ"), std::string::npos) << out;

  // Recall: a drill, then the recall; inventory refuses to ship at once.
  out = Ok(S::kRecall, "recall.manager",
           {"recall", "drill", "--lot=" + r88, "--derived"});
  EXPECT_NE(out.find(a17), std::string::npos) << out;
  out = Ok(S::kRecall, "recall.manager",
           {"recall", "initiate", "--recall-id=RC-1", "--class=II",
            "--title=Resin contamination", "--reason=supplier notice PM-5521",
            "--hazard=possible particulate", "--lot=" + r88, "--derived"});
  EXPECT_NE(out.find(a17), std::string::npos) << out;
  EXPECT_NE(out.find("HOSP-STJ"), std::string::npos) << out;
  LotctlResult blocked = Lotctl(S::kInventory, "operator",
                                {"inventory", "ship", "--customer=HOSP-STJ",
                                 "--line=" + a17 + "@WH-DUB:10"});
  EXPECT_EQ(blocked.code, 1) << blocked.out << blocked.err;
  EXPECT_NE(blocked.err.find("is under recall RC-1"), std::string::npos)
      << blocked.err;
  // One notification: recall-service knows the shipment to HOSP-STJ.
  out = Ok(S::kRecall, "recall.manager", {"recall", "notify", "RC-1"});
  EXPECT_NE(out.find("1 notifications issued"), std::string::npos) << out;
  Ok(S::kInventory, "operator",
     {"inventory", "return", a17, "--customer=HOSP-STJ", "--location=Q-DUB",
      "--quantity=120", "--condition=recalled"});
  Ok(S::kRecall, "recall.manager",
     {"recall", "respond", "RC-1", "--customer=HOSP-STJ", "--acknowledged",
      "--returned=" + a17 + ":120"});
  Ok(S::kRecall, "recall.manager",
     {"recall", "close", "RC-1", "--summary=all units recovered"});

  // Audit through audit-service: the lot's whole life, from all four
  // services' topics, checked, exported, printed.
  LotctlResult history =
      Lotctl(S::kAudit, "auditor", {"audit", "history", a17, "--json"});
  ASSERT_EQ(history.code, 0) << history.err;
  std::multiset<std::string> types;
  std::set<std::string> topics;
  std::string seen;  // one line per entry, for the failure message
  for (absl::string_view line :
       absl::StrSplit(history.out, '\n', absl::SkipEmpty())) {
    v1::HistoryEntry e;
    ASSERT_TRUE(
        google::protobuf::util::JsonStringToMessage(std::string(line), &e).ok())
        << line;
    types.insert(e.event_type());
    topics.insert(e.topic());
    absl::StrAppend(&seen, "  ", e.topic(), "/", e.partition(), "@", e.offset(),
                    " ", e.event_type(), " (", e.actor(), ")\n");
  }
  const std::multiset<std::string> expected_types = {
      "lotledger.v1.LotCreated",
      "lotledger.v1.InspectionRecorded",
      "lotledger.v1.DispositionChanged",
      "lotledger.v1.StockReceived",
      "lotledger.v1.StockShipped",
      "lotledger.v1.StockReturned",
      "lotledger.v1.RecallDrillCompleted",
      "lotledger.v1.RecallInitiated",
      "lotledger.v1.RecallNotificationIssued",
      "lotledger.v1.RecallResponseRecorded",
      "lotledger.v1.RecallClosed"};
  EXPECT_EQ(types, expected_types)
      << "the history audit-service gave right after the last write:\n"
      << seen;
  EXPECT_EQ(topics, (std::set<std::string>{
                        "lotledger.lots.v1", "lotledger.quality.v1",
                        "lotledger.inventory.v1", "lotledger.recall.v1"}))
      << seen;
  out = Ok(S::kAudit, "auditor", {"audit", "verify", a17});
  EXPECT_EQ(out, absl::StrCat("intact: ", expected_types.size(),
                              " records in 5 chains\n"))
      << "README: intact: 11 records in 5 chains";
  const std::string jsonld = cluster_->root_dir() + "/a17.jsonld";
  const std::string html = cluster_->root_dir() + "/a17.html";
  Ok(S::kAudit, "auditor", {"audit", "export", a17, "--out=" + jsonld});
  Ok(S::kAudit, "auditor", {"audit", "report", a17, "--html=" + html});
  std::ifstream doc(jsonld);
  const std::string document(std::istreambuf_iterator<char>(doc), {});
  EXPECT_NE(document.find("EPCISDocument"), std::string::npos);
  EXPECT_NE(document.find("A17"), std::string::npos);
  std::ifstream page(html);
  const std::string report(std::istreambuf_iterator<char>(page), {});
  EXPECT_NE(report.find("RC-1"), std::string::npos);

  // And the offline check, straight from Kafka with no service at all.
  LotctlResult offline =
      Lotctl(S::kAudit, "auditor",
             {"audit", "verify", "--kafka-bootstrap=" + TestKafkaAddress(),
              "--topic-prefix=" + cluster_->topic_prefix()});
  EXPECT_EQ(offline.code, 0) << offline.out << offline.err;
}

}  // namespace
}  // namespace lotledger::testing
