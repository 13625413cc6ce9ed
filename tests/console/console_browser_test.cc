// The web console (services/console, issue 20) in a real browser, in the
// production shape: the five service binaries as separate processes on
// the real Kafka broker (tests/support/service_cluster.h), the console
// binary in front of them (one --*-target flag each, --insecure-dev), and
// Debian's headless Chromium driven over W3C WebDriver
// (tests/support/webdriver.h). What auditors, QA and recall managers rely
// on, asserted on the DOM (never on pixels):
//   - logging in with a dev token and finding a lot from the search box, by
//     its lot id and by a label's GS1 element string;
//   - the lot page: facts, every signature of the disposition, a timeline
//     with exactly the events AuditService.LotHistory gives (count and
//     types), the genealogy graph with the component, whose node moves to
//     the component's page (and back, forward, to the finished lot);
//   - "verify" says the chains are intact; "as of" a day before the
//     release shows the hold that was in force then, not the release;
//   - the recall page: scope, impact per customer, notifications, and the
//     effectiveness chart's points ending at the recall's recovery;
//   - the expiry page: stock per location by weeks to expiry, and a FEFO
//     suggestion that keeps the recalled lot out, saying why;
//   - a principal whose role may not read lots or recalls, and a token the
//     services do not know, get the refusal page (403, 401) with the
//     service's reason; a lot that does not exist, the not-found page;
//   - hostile lot numbers, units, reasons, customer names and recall texts
//     (markup, quotes, ampersands, script) are shown as TEXT exactly as
//     entered, and no element, attribute or script came from them.
// Screenshots of every page go to CONSOLE_SCREENSHOT_DIR (the build
// folder's console-screenshots/). Fails, never skips, without chromium or
// chromedriver (tools/bootstrap test installs them) or without
// $LOTLEDGER_TEST_KAFKA (tools/test starts the broker). Nothing is timed;
// every wait is bounded.
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "libs/common/ids.h"
#include "libs/common/proto_time.h"
#include "lotledger/v1/audit.grpc.pb.h"
#include "lotledger/v1/inventory.grpc.pb.h"
#include "lotledger/v1/lots.grpc.pb.h"
#include "lotledger/v1/quality.grpc.pb.h"
#include "lotledger/v1/recall.grpc.pb.h"
#include "tests/support/service_cluster.h"
#include "tests/support/tokens.h"
#include "tests/support/webdriver.h"

#if !defined(LOTS_SERVICE_PATH) || !defined(QUALITY_SERVICE_PATH) ||     \
    !defined(INVENTORY_SERVICE_PATH) || !defined(RECALL_SERVICE_PATH) || \
    !defined(AUDIT_SERVICE_PATH) || !defined(CONSOLE_PATH) ||            \
    !defined(CONSOLE_SCREENSHOT_DIR)
#error "the binaries' and the screenshot folder's paths must be defined"
#endif

namespace lotledger::testing {
namespace {

using google::protobuf::Value;

// ---- The hostile values, each accepted by the service that takes it ------

// Lot numbers: GS1 AI 10 (CSET 82, at most 20 characters) allows quotes,
// ampersands and angle brackets. <x-pwn> would become an element if
// unescaped; &amp; would turn into "&" if escaped once too few; / % ?
// must be encoded in the lot's URL (the genealogy click-through opens it).
constexpr char kComponentItem[] = "RM-1";
constexpr char kComponentNumber[] = R"("'><x-pwn>&amp;/%?)";
constexpr char kDevice[] = "09506000134352";
constexpr char kDeviceNumber[] = R"(A17"><x-pwn>&)";
// The unit of both products (free text).
constexpr char kUnit[] = "<img src=x onerror=window.__pwned=1>";
// Signature reasons (free text).
constexpr char kHoldReason[] = R"("><script>window.__pwned=2</script>)";
constexpr char kReleaseReason[] = "<img src=x onerror=window.__pwned=3>";
// Customers (names free text; ids plain, they are keys).
constexpr char kCustomer1[] = "HOSP-1";
constexpr char kCustomer1Name[] = "<img src=x onerror=window.__pwned=4>";
constexpr char kCustomer2[] = "HOSP-2";
constexpr char kCustomer2Name[] =
    R"(St James's "><script>window.__pwned=5</script>)";
// The recall.
constexpr char kRecallId[] = "RC-1";
constexpr char kRecallTitle[] = "<x-pwn>Seal leak</x-pwn> & co";
constexpr char kRecallReason[] = R"('"><img src=x onerror=window.__pwned=6>)";

constexpr char kBin[] = "WH1-B1";
constexpr char kQuarantine[] = "WH1-Q";

// Who may not read: a principal whose only role is in no row of the role
// table (docs/security.md: deny by default; every role of the table reads).
constexpr char kVisitor[] = "visitor";
constexpr char kVisitorToken[] = "dev-visitor-token";

ServiceBinaries Binaries() {
  return {.lots = LOTS_SERVICE_PATH,
          .quality = QUALITY_SERVICE_PATH,
          .inventory = INVENTORY_SERVICE_PATH,
          .recall = RECALL_SERVICE_PATH,
          .audit = AUDIT_SERVICE_PATH};
}

std::string ComponentLot() {
  return absl::StrCat(kComponentItem, ":", kComponentNumber);
}
std::string DeviceLot() { return absl::StrCat(kDevice, ":", kDeviceNumber); }

// Every byte but the unreserved ones percent-encoded: a path segment.
std::string PathSegment(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' ||
        c == '~') {
      out += static_cast<char>(c);
    } else {
      absl::StrAppendFormat(&out, "%%%02X", c);
    }
  }
  return out;
}

// "lotledger.v1.StockShipped" and "StockShipped" compare equal.
std::string ShortType(const std::string& type) {
  const size_t dot = type.rfind('.');
  return dot == std::string::npos ? type : type.substr(dot + 1);
}

v1::Date DateOf(absl::Time t) {
  const absl::CivilDay d = absl::ToCivilDay(t, absl::UTCTimeZone());
  v1::Date out;
  out.set_year(static_cast<int32_t>(d.year()));
  out.set_month(d.month());
  out.set_day(d.day());
  return out;
}

std::string JsonOf(const Value& v) {
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(v, &out);
  return out;
}

Value StrValue(const std::string& s) {
  Value v;
  v.set_string_value(s);
  return v;
}

// Asserts that a WebDriver call succeeded and binds its value.
#define WD_ASSIGN(lhs, expr)                                        \
  auto lhs##_or = (expr);                                           \
  ASSERT_TRUE(lhs##_or.ok()) << #expr << ": " << lhs##_or.status(); \
  auto lhs = *std::move(lhs##_or)
#define WD_OK(expr)                                            \
  do {                                                         \
    const absl::Status wd_status = (expr);                     \
    ASSERT_TRUE(wd_status.ok()) << #expr << ": " << wd_status; \
  } while (false)

class ConsoleBrowserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = absl::StrCat(::testing::TempDir(), "/console-browser-",
                        NewUuidV7(absl::Now()));
    std::filesystem::create_directories(dir_);
    // The cluster's six principals (ServiceCluster::Token), and the
    // visitor.
    const std::string tokens = dir_ + "/dev-tokens";
    {
      std::ofstream out(tokens);
      for (const auto& [name, role] :
           std::vector<std::pair<std::string, std::string>>{
               {"admin", "admin"},
               {"operator", "operator"},
               {"qa.inspector", "qa_inspector"},
               {"qa.approver", "qa_approver"},
               {"recall.manager", "recall_manager"},
               {"auditor", "auditor"}}) {
        out << "dev-" << name << "-token " << name << " " << role << "\n";
      }
      out << kVisitorToken << " " << kVisitor << " visitor\n";
    }
    ServiceCluster::Options options;
    options.extra_args = {"--dev-tokens=" + tokens};
    cluster_ = ServiceCluster::Start(Binaries(), options);
    ASSERT_NE(cluster_, nullptr) << "the five services did not come up";
    ASSERT_EQ(cluster_->Token("auditor"), "dev-auditor-token")
        << "the dev token file above must hold the cluster's tokens";
    lots_ = v1::LotsService::NewStub(cluster_->channel(Service::kLots));
    quality_ =
        v1::QualityService::NewStub(cluster_->channel(Service::kQuality));
    inventory_ =
        v1::InventoryService::NewStub(cluster_->channel(Service::kInventory));
    recall_ = v1::RecallService::NewStub(cluster_->channel(Service::kRecall));
    audit_ = v1::AuditService::NewStub(cluster_->channel(Service::kAudit));
  }

  void TearDown() override {
    driver_.reset();
    if (console_ != nullptr) {
      if (HasFailure()) {
        std::fprintf(stderr, "---- lotledger-console (%s) ----\n%s",
                     console_->log_path().c_str(),
                     console_->LogTail(60).c_str());
      }
      console_->Terminate(absl::Seconds(20));
    }
    // The browser's profile and the console's log stay for a failed test.
    if (!HasFailure()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  std::unique_ptr<grpc::ClientContext> Ctx(const std::string& principal) {
    return cluster_->Ctx(principal);
  }

  template <typename Call>
  void Must(const std::string& what, Call call) {
    const grpc::Status s = call();
    ASSERT_TRUE(s.ok()) << what << ": " << s.error_message();
  }

  grpc::Status Disposition(const std::string& lot_id, v1::Disposition to,
                           const std::string& meaning,
                           const std::string& reason, absl::Time at) {
    v1::ChangeDispositionRequest req;
    req.set_request_id(NewUuidV7(absl::Now()));
    req.set_lot_id(lot_id);
    req.set_to(to);
    req.mutable_signature()->set_meaning(meaning);
    req.mutable_signature()->set_reason(reason);
    req.mutable_signature()->set_credential(cluster_->Token("qa.approver"));
    ToTimestamp(at, req.mutable_occurred_at());
    *req.mutable_after() = token_.Get();
    v1::ChangeDispositionResponse resp;
    grpc::Status s =
        quality_->ChangeDisposition(Ctx("qa.approver").get(), req, &resp);
    if (s.ok()) token_.Add(resp.token());
    return s;
  }

  grpc::Status Inspect(const std::string& lot_id, v1::InspectionType type,
                       absl::Time at) {
    v1::RecordInspectionRequest req;
    req.set_request_id(NewUuidV7(absl::Now()));
    req.set_lot_id(lot_id);
    req.set_type(type);
    req.set_sample_size(8);
    v1::CharacteristicResult* r = req.add_results();
    r->set_characteristic("seal strength");
    r->set_specification(">= 1.2 N/15mm");
    r->set_measured_value("1.45");
    r->set_unit("N/15mm");
    r->set_passed(true);
    ToTimestamp(at, req.mutable_occurred_at());
    *req.mutable_after() = token_.Get();
    v1::RecordInspectionResponse resp;
    grpc::Status s =
        quality_->RecordInspection(Ctx("qa.inspector").get(), req, &resp);
    if (s.ok()) token_.Add(resp.token());
    return s;
  }

  // The component lot, the finished lot made of it (six and five days
  // ago), inspected; the finished lot held four days ago and released now
  // (so "as of" two days ago shows the hold), received, shipped to two
  // customers, recalled, notified, partly returned and destroyed.
  void Seed() {
    const absl::Time now = absl::Now();
    made_ = now - absl::Hours(24 * 6);
    held_ = now - absl::Hours(24 * 4);
    for (const auto& [item, kind] :
         std::vector<std::pair<std::string, v1::ItemKind>>{
             {kComponentItem, v1::ITEM_KIND_COMPONENT},
             {kDevice, v1::ITEM_KIND_FINISHED_DEVICE}}) {
      v1::DefineProductRequest req;
      req.set_request_id(NewUuidV7(absl::Now()));
      req.mutable_product()->set_item(item);
      req.mutable_product()->set_name(item == kDevice ? "Sterile catheter 12Fr"
                                                      : "Catheter hub");
      req.mutable_product()->set_uom(kUnit);
      req.mutable_product()->set_kind(kind);
      req.mutable_product()->mutable_policy()->set_shelf_life_days(120);
      v1::DefineProductResponse resp;
      ASSERT_NO_FATAL_FAILURE(Must("define " + item, [&] {
        return lots_->DefineProduct(Ctx("admin").get(), req, &resp);
      }));
      token_.Add(resp.token());
    }
    for (const auto& [item, number, input, at] : std::vector<
             std::tuple<std::string, std::string, std::string, absl::Time>>{
             {kComponentItem, kComponentNumber, "", made_ - absl::Hours(2)},
             {kDevice, kDeviceNumber, ComponentLot(), made_}}) {
      v1::CreateLotRequest req;
      req.set_request_id(NewUuidV7(absl::Now()));
      req.set_item(item);
      req.set_lot_number(number);
      *req.mutable_manufactured_on() = DateOf(at);
      req.mutable_quantity()->set_amount(100);
      req.mutable_quantity()->set_uom(kUnit);
      req.set_site("Galway");
      if (!input.empty()) {
        v1::LotInput* in = req.add_inputs();
        in->set_lot_id(input);
        in->mutable_quantity()->set_amount(20);
        in->mutable_quantity()->set_uom(kUnit);
      }
      ToTimestamp(at, req.mutable_occurred_at());
      v1::CreateLotResponse resp;
      ASSERT_NO_FATAL_FAILURE(Must("create " + number, [&] {
        return lots_->CreateLot(Ctx("operator").get(), req, &resp);
      }));
      token_.Add(resp.token());
    }
    ASSERT_NO_FATAL_FAILURE(Must("inspect the component", [&] {
      return Inspect(ComponentLot(), v1::INSPECTION_TYPE_FINAL,
                     made_ + absl::Hours(1));
    }));
    ASSERT_NO_FATAL_FAILURE(Must("release the component", [&] {
      return Disposition(ComponentLot(), v1::DISPOSITION_RELEASED,
                         "approved for use", "CoA reviewed",
                         made_ + absl::Hours(2));
    }));
    ASSERT_NO_FATAL_FAILURE(Must("inspect the device", [&] {
      return Inspect(DeviceLot(), v1::INSPECTION_TYPE_FINAL,
                     made_ + absl::Hours(24));
    }));
    ASSERT_NO_FATAL_FAILURE(Must("hold", [&] {
      return Disposition(DeviceLot(), v1::DISPOSITION_ON_HOLD, "placed on hold",
                         kHoldReason, held_);
    }));
    ASSERT_NO_FATAL_FAILURE(Must("release", [&] {
      return Disposition(DeviceLot(), v1::DISPOSITION_RELEASED,
                         "approved for release", kReleaseReason, absl::Now());
    }));

    struct Loc {
      const char* id;
      v1::LocationKind kind;
      const char* parent;
      bool quarantine;
    };
    for (const Loc& l :
         {Loc{"IE", v1::LOCATION_KIND_SITE, "", false},
          Loc{"EU", v1::LOCATION_KIND_REGION, "IE", false},
          Loc{"WH1", v1::LOCATION_KIND_WAREHOUSE, "EU", false},
          Loc{kBin, v1::LOCATION_KIND_BIN, "WH1", false},
          Loc{kQuarantine, v1::LOCATION_KIND_BIN, "WH1", true}}) {
      v1::CreateLocationRequest req;
      req.set_request_id(NewUuidV7(absl::Now()));
      req.set_location_id(l.id);
      req.set_name(l.id);
      req.set_kind(l.kind);
      req.set_parent_id(l.parent);
      req.set_quarantine(l.quarantine);
      v1::CreateLocationResponse resp;
      ASSERT_NO_FATAL_FAILURE(Must(std::string("location ") + l.id, [&] {
        return inventory_->CreateLocation(Ctx("admin").get(), req, &resp);
      }));
      token_.Add(resp.token());
    }
    {
      v1::ReceiveStockRequest req;
      req.set_request_id(NewUuidV7(absl::Now()));
      req.set_lot_id(DeviceLot());
      req.set_location_id(kBin);
      req.mutable_quantity()->set_amount(100);
      req.mutable_quantity()->set_uom(kUnit);
      req.set_source(v1::RECEIPT_SOURCE_PRODUCTION);
      *req.mutable_after() = token_.Get();
      v1::ReceiveStockResponse resp;
      ASSERT_NO_FATAL_FAILURE(Must("receive", [&] {
        return inventory_->ReceiveStock(Ctx("operator").get(), req, &resp);
      }));
      token_.Add(resp.token());
    }
    for (const auto& [id, name, qty] :
         std::vector<std::tuple<std::string, std::string, int>>{
             {kCustomer1, kCustomer1Name, 40},
             {kCustomer2, kCustomer2Name, 30}}) {
      v1::ShipStockRequest req;
      req.set_request_id(NewUuidV7(absl::Now()));
      req.mutable_customer()->set_customer_id(id);
      req.mutable_customer()->set_name(name);
      req.mutable_customer()->set_region("EU");
      v1::ShipmentLine* line = req.add_lines();
      line->set_lot_id(DeviceLot());
      line->set_location_id(kBin);
      line->mutable_quantity()->set_amount(qty);
      line->mutable_quantity()->set_uom(kUnit);
      *req.mutable_after() = token_.Get();
      v1::ShipStockResponse resp;
      ASSERT_NO_FATAL_FAILURE(Must("ship to " + id, [&] {
        return inventory_->ShipStock(Ctx("operator").get(), req, &resp);
      }));
      token_.Add(resp.token());
    }
    {
      v1::InitiateRequest req;
      req.set_request_id(NewUuidV7(absl::Now()));
      req.set_recall_id(kRecallId);
      req.set_classification(v1::RECALL_CLASS_II);
      req.set_title(kRecallTitle);
      req.set_reason(kRecallReason);
      req.set_health_hazard("possible loss of sterility");
      req.mutable_criteria()->add_lot_ids(DeviceLot());
      req.mutable_signature()->set_meaning("recall initiated");
      req.mutable_signature()->set_reason("supplier notice");
      req.mutable_signature()->set_credential(
          cluster_->Token("recall.manager"));
      *req.mutable_after() = token_.Get();
      v1::InitiateResponse resp;
      ASSERT_NO_FATAL_FAILURE(Must("initiate", [&] {
        return recall_->Initiate(Ctx("recall.manager").get(), req, &resp);
      }));
      token_.Add(resp.token());
    }
    {
      v1::GenerateNotificationsRequest req;
      req.set_request_id(NewUuidV7(absl::Now()));
      req.set_recall_id(kRecallId);
      *req.mutable_after() = token_.Get();
      v1::GenerateNotificationsResponse resp;
      ASSERT_NO_FATAL_FAILURE(Must("notify", [&] {
        return recall_->GenerateNotifications(Ctx("recall.manager").get(), req,
                                              &resp);
      }));
      ASSERT_EQ(resp.issued_size(), 2) << resp.DebugString();
      token_.Add(resp.token());
    }
    {
      // Customer 1 sends 10 back (inventory records the return) ...
      v1::ReturnStockRequest req;
      req.set_request_id(NewUuidV7(absl::Now()));
      req.set_lot_id(DeviceLot());
      req.set_customer_id(kCustomer1);
      req.set_location_id(kQuarantine);
      req.mutable_quantity()->set_amount(10);
      req.mutable_quantity()->set_uom(kUnit);
      req.set_condition(v1::RETURN_CONDITION_RECALLED);
      *req.mutable_after() = token_.Get();
      v1::ReturnStockResponse resp;
      ASSERT_NO_FATAL_FAILURE(Must("return", [&] {
        return inventory_->ReturnStock(Ctx("operator").get(), req, &resp);
      }));
      token_.Add(resp.token());
    }
    // ... and says so; customer 2 destroyed 6 on site.
    for (const auto& [customer, returned, destroyed] :
         std::vector<std::tuple<std::string, int, int>>{{kCustomer1, 10, 0},
                                                        {kCustomer2, 0, 6}}) {
      v1::RecordResponseRequest req;
      req.set_request_id(NewUuidV7(absl::Now()));
      req.set_recall_id(kRecallId);
      req.set_customer_id(customer);
      req.set_acknowledged(true);
      v1::RecallResponseLine* l = req.add_lines();
      l->set_lot_id(DeviceLot());
      l->set_returned(returned);
      l->set_destroyed(destroyed);
      req.set_notes(kRecallReason);
      *req.mutable_after() = token_.Get();
      v1::RecordResponseResponse resp;
      ASSERT_NO_FATAL_FAILURE(Must("respond for " + customer, [&] {
        return recall_->RecordResponse(Ctx("recall.manager").get(), req, &resp);
      }));
      token_.Add(resp.token());
    }
  }

  // The finished lot's history as audit-service gives it once it has read
  // every write above (the console then reads the same).
  std::vector<v1::HistoryEntry> History(const std::string& lot_id) {
    v1::LotHistoryRequest req;
    req.set_lot_id(lot_id);
    *req.mutable_after() = token_.Get();
    auto ctx = Ctx("auditor");
    auto reader = audit_->LotHistory(ctx.get(), req);
    std::vector<v1::HistoryEntry> out;
    v1::HistoryEntry e;
    while (reader->Read(&e)) out.push_back(e);
    const grpc::Status s = reader->Finish();
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  v1::Effectiveness Effectiveness() {
    v1::GetEffectivenessRequest req;
    req.set_recall_id(kRecallId);
    *req.mutable_after() = token_.Get();
    v1::GetEffectivenessResponse resp;
    const grpc::Status s =
        recall_->GetEffectiveness(Ctx("auditor").get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.effectiveness();
  }

  void StartConsole() {
    ASSERT_EQ(access(CONSOLE_PATH, X_OK), 0)
        << CONSOLE_PATH << " is missing: build the lotledger-console target "
        << "(services/console)";
    console_ = std::make_unique<ServiceProcess>(
        CONSOLE_PATH,
        std::vector<std::string>{
            "--listen=127.0.0.1:0",
            "--lots-target=" + cluster_->target(Service::kLots),
            "--quality-target=" + cluster_->target(Service::kQuality),
            "--inventory-target=" + cluster_->target(Service::kInventory),
            "--recall-target=" + cluster_->target(Service::kRecall),
            "--audit-target=" + cluster_->target(Service::kAudit),
            "--insecure-dev=true"},
        dir_ + "/console.log");
    ASSERT_TRUE(console_->AwaitServing(absl::Seconds(60)));
    base_ = "http://" + console_->target();
    WebDriver::Options o;
    o.work_dir = dir_ + "/browser";
    o.window_height = 1400;
    absl::StatusOr<std::unique_ptr<WebDriver>> wd = WebDriver::Start(o);
    ASSERT_TRUE(wd.ok()) << wd.status();
    driver_ = *std::move(wd);
  }

  WebDriver& wd() { return *driver_; }

  void Shot(const std::string& name) {
    const std::string path =
        absl::StrCat(CONSOLE_SCREENSHOT_DIR, "/", name, ".png");
    const absl::Status s = wd().ScreenshotFullPage(path);
    EXPECT_TRUE(s.ok()) << s;
    std::printf("console screenshot: %s\n", path.c_str());
  }

  void Login(const std::string& token) {
    WD_OK(wd().Navigate(base_ + "/logout"));
    WD_OK(wd().Navigate(base_ + "/login"));
    WD_ASSIGN(field, wd().WaitFor("input#token[name=token]"));
    WD_ASSIGN(label, wd().FindAll("label[for=token]"));
    EXPECT_EQ(label.size(), 1u) << "the token field has a label";
    WD_OK(wd().SendKeys(field, token));
    WD_ASSIGN(submit, wd().Find("#login-submit"));
    WD_OK(wd().Click(submit));
    const absl::Time give_up = absl::Now() + absl::Seconds(20);
    while (true) {
      WD_ASSIGN(url, wd().CurrentUrl());
      if (!absl::StrContains(url, "/login")) break;
      ASSERT_LT(absl::Now(), give_up) << "still at " << url << " after login";
      absl::SleepFor(absl::Milliseconds(100));
    }
  }

  // Logs in with `token` and opens `path`; the text of the refusal shown
  // (at the login already, when the console checks the token there).
  std::string RefusalFor(const std::string& token, const std::string& path) {
    if (!wd().Navigate(base_ + "/logout").ok() ||
        !wd().Navigate(base_ + "/login").ok()) {
      return "(cannot open /login)";
    }
    absl::StatusOr<WebDriver::Element> field = wd().WaitFor("input#token");
    absl::StatusOr<WebDriver::Element> submit = wd().Find("#login-submit");
    if (!field.ok() || !submit.ok() || !wd().SendKeys(*field, token).ok() ||
        !wd().Click(*submit).ok()) {
      return "(cannot log in)";
    }
    const absl::Time give_up = absl::Now() + absl::Seconds(20);
    while (absl::Now() < give_up) {
      absl::StatusOr<std::vector<WebDriver::Element>> refusal =
          wd().FindAll("#refusal");
      if (refusal.ok() && !refusal->empty()) return TextOf("#refusal");
      if (Path() != "/login") break;
      absl::SleepFor(absl::Milliseconds(100));
    }
    if (!wd().Navigate(base_ + path).ok()) return "(cannot open " + path + ")";
    absl::StatusOr<WebDriver::Element> refusal = wd().WaitFor("#refusal");
    if (!refusal.ok()) return refusal.status().ToString();
    return TextOf("#refusal");
  }

  // The HTTP status of the page's document (the console's answer).
  int HttpStatus() {
    absl::StatusOr<Value> v = wd().Execute(
        "return performance.getEntriesByType('navigation')[0]"
        "    .responseStatus;");
    return v.ok() ? static_cast<int>(v->number_value()) : -1;
  }

  // The page's path, percent-decoded.
  std::string Path() {
    absl::StatusOr<Value> v =
        wd().Execute("return decodeURIComponent(location.pathname);");
    return v.ok() ? v->string_value() : "?";
  }

  std::string TextOf(const std::string& css) {
    absl::StatusOr<WebDriver::Element> e = wd().Find(css);
    if (!e.ok()) return "(no " + css + ": " + e.status().ToString() + ")";
    absl::StatusOr<Value> v = wd().Execute("return arguments[0].textContent;",
                                           {WebDriver::ElementArg(*e)});
    return v.ok() ? v->string_value() : v.status().ToString();
  }

  // True when some element under `root` has exactly `text` as its text
  // (whitespace around it aside): the value was rendered as text, whole.
  bool HasTextElement(const std::string& root, const std::string& text) {
    absl::StatusOr<Value> v = wd().Execute(
        "const root = document.querySelector(arguments[0]);"
        "if (!root) return false;"
        "return [root, ...root.querySelectorAll('*')].some("
        "    e => e.textContent.trim() === arguments[1]);",
        {StrValue(root), StrValue(text)});
    return v.ok() && v->bool_value();
  }

  // Nothing on the page came from a hostile value: no script ran, no
  // element or attribute was made from one, and no inline script exists.
  void ExpectNoInjection(const std::string& page) {
    absl::StatusOr<Value> v = wd().Execute(R"js(
      const scripts = Array.from(document.scripts);
      return {
        pwned: window.__pwned === undefined ? '' : String(window.__pwned),
        img_x: document.querySelectorAll('img[src="x"]').length,
        x_pwn: document.querySelectorAll('x-pwn').length,
        onerror: document.querySelectorAll('[onerror]').length,
        inline_scripts: scripts.filter(s => !s.src).length,
        hostile_scripts: scripts.filter(
            s => s.textContent.includes('__pwned')).length,
      };)js");
    ASSERT_TRUE(v.ok()) << page << ": " << v.status();
    const auto& f = v->struct_value().fields();
    EXPECT_EQ(f.at("pwned").string_value(), "") << page << ": a script ran";
    EXPECT_EQ(f.at("img_x").number_value(), 0) << page << ": " << JsonOf(*v);
    EXPECT_EQ(f.at("x_pwn").number_value(), 0) << page << ": " << JsonOf(*v);
    EXPECT_EQ(f.at("onerror").number_value(), 0) << page << ": " << JsonOf(*v);
    EXPECT_EQ(f.at("inline_scripts").number_value(), 0)
        << page << ": the console serves no inline script";
    EXPECT_EQ(f.at("hostile_scripts").number_value(), 0)
        << page << ": " << JsonOf(*v);
  }

  // Every page: lang, a title, the nav to Search, Recalls and Expiry, a
  // label on every field.
  void ExpectFrame(const std::string& page) {
    absl::StatusOr<Value> v = wd().Execute(R"js(
      const hrefs = Array.from(document.querySelectorAll('nav a'))
          .map(a => new URL(a.href).pathname);
      return document.documentElement.lang + '|' +
          (document.title.length > 0) + '|' +
          ['/', '/recalls', '/expiry'].every(p => hrefs.includes(p));)js");
    ASSERT_TRUE(v.ok()) << v.status();
    EXPECT_EQ(v->string_value(), "en|true|true") << page;
    // Every field a person fills in has a label a screen reader reads.
    absl::StatusOr<Value> unlabelled = wd().Execute(R"js(
      return Array.from(document.querySelectorAll('input, select, textarea'))
          .filter(e => !['hidden', 'submit', 'button'].includes(e.type))
          .filter(e => !(e.labels && e.labels.length) &&
                       !e.getAttribute('aria-label') &&
                       !e.getAttribute('aria-labelledby'))
          .map(e => e.id || e.name).join(' ');)js");
    ASSERT_TRUE(unlabelled.ok()) << unlabelled.status();
    EXPECT_EQ(unlabelled->string_value(), "")
        << page << ": fields without a label";
  }

  std::string dir_;
  std::unique_ptr<ServiceCluster> cluster_;
  std::unique_ptr<v1::LotsService::Stub> lots_;
  std::unique_ptr<v1::QualityService::Stub> quality_;
  std::unique_ptr<v1::InventoryService::Stub> inventory_;
  std::unique_ptr<v1::RecallService::Stub> recall_;
  std::unique_ptr<v1::AuditService::Stub> audit_;
  TokenSet token_;
  absl::Time made_;
  absl::Time held_;
  std::unique_ptr<ServiceProcess> console_;
  std::unique_ptr<WebDriver> driver_;
  std::string base_;
};

TEST_F(ConsoleBrowserTest, AuditorWalksLotAndRecallRefusedRoleSeesWhy) {
  ASSERT_NO_FATAL_FAILURE(Seed());
  const std::vector<v1::HistoryEntry> history = History(DeviceLot());
  const v1::Effectiveness effectiveness = Effectiveness();
  ASSERT_NO_FATAL_FAILURE(StartConsole());

  // ---- Log in, search -----------------------------------------------------
  WD_OK(wd().Navigate(base_ + "/"));
  WD_ASSIGN(login_page, wd().WaitFor("input#token"));
  (void)login_page;
  EXPECT_EQ(Path(), "/login") << "no cookie: to the login page";
  Shot("login");
  ASSERT_NO_FATAL_FAILURE(Login(cluster_->Token("auditor")));
  WD_OK(wd().Navigate(base_ + "/"));
  WD_ASSIGN(q, wd().WaitFor("form#search input#q[name=q]"));
  ExpectFrame("search");
  Shot("search");
  WD_OK(wd().SendKeys(q, DeviceLot() + "\xEE\x80\x87"));  // U+E007 Enter
  WD_ASSIGN(facts, wd().WaitFor("#lot-facts"));
  (void)facts;
  EXPECT_EQ(Path(), "/lots/" + DeviceLot()) << "found by its lot id";
  // The same lot from a label's GS1 element string, as a scanner types it.
  WD_OK(wd().Navigate(base_ + "/"));
  WD_ASSIGN(scan, wd().WaitFor("form#search input#q"));
  WD_OK(wd().SendKeys(scan, absl::StrCat("(01)", kDevice, "(10)", kDeviceNumber,
                                         "\xEE\x80\x87")));
  WD_ASSIGN(scanned, wd().WaitFor("#lot-facts, #search-error"));
  (void)scanned;

  // ---- The lot page -------------------------------------------------------
  EXPECT_EQ(Path(), "/lots/" + DeviceLot())
      << "found by its GS1 string: " << TextOf("#search-error");
  ExpectFrame("lot");
  ExpectNoInjection("lot");
  Shot("lot");
  EXPECT_TRUE(HasTextElement("#lot-facts", kDeviceNumber) ||
              HasTextElement("#lot-facts", DeviceLot()))
      << "the lot number as text: " << TextOf("#lot-facts");
  // The hostile unit as text, wherever a quantity shows it.
  EXPECT_TRUE(absl::StrContains(TextOf("main, body"), kUnit))
      << "the unit as text";
  // Disposition: one row per signature, the hostile reasons as text.
  WD_ASSIGN(signatures, wd().FindAll("#disposition .signature"));
  EXPECT_EQ(signatures.size(), 2u) << TextOf("#disposition");
  EXPECT_TRUE(HasTextElement("#disposition", kHoldReason))
      << TextOf("#disposition");
  EXPECT_TRUE(HasTextElement("#disposition", kReleaseReason))
      << TextOf("#disposition");
  EXPECT_TRUE(absl::StrContains(TextOf("#disposition"), "qa.approver"));
  EXPECT_TRUE(
      absl::StrContains(TextOf("#disposition"), "approved for release"));

  // Timeline: exactly LotHistory's events.
  {
    WD_ASSIGN(events, wd().FindAll("#timeline li.event"));
    std::multiset<std::string> shown, services, expected;
    for (const WebDriver::Element& e : events) {
      WD_ASSIGN(type, wd().Attribute(e, "data-type"));
      WD_ASSIGN(service, wd().Attribute(e, "data-service"));
      WD_ASSIGN(record_time, wd().Attribute(e, "data-record-time"));
      shown.insert(ShortType(type.value_or("(none)")));
      services.insert(service.value_or("(none)"));
      EXPECT_TRUE(record_time.has_value() && !record_time->empty());
    }
    for (const v1::HistoryEntry& h : history) {
      expected.insert(ShortType(h.event_type()));
    }
    EXPECT_EQ(events.size(), history.size());
    EXPECT_EQ(shown, expected);
    // What the seed wrote, at least: the test would catch a history that
    // lost events as much as a timeline that did.
    for (const auto& [type, n] : std::vector<std::pair<std::string, size_t>>{
             {"LotCreated", 1},
             {"InspectionRecorded", 1},
             {"DispositionChanged", 2},
             {"StockReceived", 1},
             {"StockShipped", 2},
             {"StockReturned", 1},
             {"RecallInitiated", 1},
             {"RecallResponseRecorded", 2}}) {
      EXPECT_GE(shown.count(type), n) << type;
    }
    for (const char* s : {"lots", "quality", "inventory", "recall"}) {
      EXPECT_GE(services.count(s), 1u) << "events of the " << s << " service";
    }
  }

  // Genealogy: the component, as a link; its node moves to its page.
  {
    WD_ASSIGN(links, wd().FindAll("#genealogy a.lot-link"));
    WD_ASSIGN(target,
              wd().Execute("return Array.from(document.querySelectorAll("
                           "    '#genealogy a.lot-link')).findIndex(a =>"
                           "  decodeURIComponent(new URL(a.href.baseVal ||"
                           "      a.getAttribute('href'), location.href)"
                           "      .pathname) === arguments[0]);",
                           {StrValue("/lots/" + ComponentLot())}));
    ASSERT_GE(target.number_value(), 0)
        << "no node of the component " << ComponentLot() << " among "
        << links.size() << " links: " << TextOf("#genealogy");
    EXPECT_TRUE(absl::StrContains(TextOf("#genealogy"), kComponentNumber))
        << "the component's node names it as text";
    WD_OK(wd().Click(links[static_cast<size_t>(target.number_value())]));
    WD_OK(wd().WaitForUrlContaining("/lots/" + PathSegment(kComponentItem)));
    WD_ASSIGN(component_facts, wd().WaitFor("#lot-facts"));
    (void)component_facts;
    EXPECT_EQ(Path(), "/lots/" + ComponentLot());
    EXPECT_TRUE(HasTextElement("#lot-facts", kComponentNumber) ||
                HasTextElement("#lot-facts", ComponentLot()))
        << TextOf("#lot-facts");
    ExpectNoInjection("component lot");
    Shot("lot-component");
    // Forward: the finished lot from the component's graph.
    WD_ASSIGN(forward,
              wd().Execute("return Array.from(document.querySelectorAll("
                           "    '#genealogy a.lot-link')).some(a =>"
                           "  decodeURIComponent(new URL(a.href.baseVal ||"
                           "      a.getAttribute('href'), location.href)"
                           "      .pathname) === arguments[0]);",
                           {StrValue("/lots/" + DeviceLot())}));
    EXPECT_TRUE(forward.bool_value()) << TextOf("#genealogy");
  }

  // Verify.
  WD_OK(wd().Navigate(base_ + "/lots/" + PathSegment(DeviceLot())));
  {
    WD_ASSIGN(verify, wd().WaitFor("#verify-form #verify-button"));
    WD_OK(wd().Click(verify));
    WD_ASSIGN(result, wd().WaitFor("#verify-result"));
    (void)result;
    const std::string text = TextOf("#verify-result");
    EXPECT_TRUE(absl::StrContains(absl::AsciiStrToLower(text), "intact"))
        << text;
    EXPECT_TRUE(absl::StrContains(text, absl::StrCat(history.size())))
        << "the record count: " << text;
    ExpectNoInjection("verified lot");
    Shot("lot-verified");
  }

  // As of two days ago: on hold (since four days ago), not yet released.
  {
    WD_OK(wd().Navigate(base_ + "/lots/" + PathSegment(DeviceLot())));
    WD_ASSIGN(as_of, wd().WaitFor("#as-of-form input#as-of[type=date]"));
    const std::string day = absl::FormatCivilTime(
        absl::ToCivilDay(absl::Now() - absl::Hours(48), absl::UTCTimeZone()));
    WD_OK(wd().Execute("arguments[0].value = arguments[1];",
                       {WebDriver::ElementArg(as_of), StrValue(day)})
              .status());
    WD_ASSIGN(submit, wd().Find("#as-of-submit"));
    WD_OK(wd().Click(submit));
    WD_ASSIGN(banner, wd().WaitFor("#as-of-banner"));
    (void)banner;
    EXPECT_TRUE(absl::StrContains(TextOf("#as-of-banner"), day))
        << TextOf("#as-of-banner");
    const std::string then =
        absl::AsciiStrToLower(TextOf("#lot-facts") + TextOf("#disposition"));
    EXPECT_TRUE(absl::StrContains(then, "hold")) << then;
    EXPECT_TRUE(HasTextElement("#disposition", kHoldReason))
        << TextOf("#disposition");
    EXPECT_FALSE(HasTextElement("#disposition", kReleaseReason))
        << "the release came after " << day << ": " << TextOf("#disposition");
    ExpectNoInjection("lot as of");
    Shot("lot-as-of");
  }

  // EPCIS download link.
  {
    WD_ASSIGN(epcis, wd().Find("a#epcis-download"));
    WD_ASSIGN(href, wd().Attribute(epcis, "href"));
    ASSERT_TRUE(href.has_value());
    EXPECT_TRUE(absl::StrContains(*href, "epcis.json")) << *href;
  }

  // ---- The recall ---------------------------------------------------------
  WD_OK(wd().Navigate(base_ + "/recalls"));
  {
    WD_ASSIGN(list, wd().WaitFor("#recalls"));
    (void)list;
    ExpectFrame("recalls");
    ExpectNoInjection("recalls");
    EXPECT_TRUE(absl::StrContains(TextOf("#recalls"), kRecallTitle))
        << TextOf("#recalls");
    Shot("recalls");
    WD_ASSIGN(links, wd().FindAll("#recalls a.recall-link"));
    ASSERT_EQ(links.size(), 1u) << TextOf("#recalls");
    WD_OK(wd().Click(links[0]));
    WD_ASSIGN(scope, wd().WaitFor("#recall-scope"));
    (void)scope;
  }
  EXPECT_EQ(Path(), std::string("/recalls/") + kRecallId);
  ExpectFrame("recall");
  ExpectNoInjection("recall");
  // Text that holds the whole hostile value verbatim: escaped, or markup
  // would have eaten its tags.
  EXPECT_TRUE(absl::StrContains(TextOf("h1"), kRecallTitle))
      << "the title as text: " << TextOf("h1");
  EXPECT_TRUE(HasTextElement("body", kRecallReason)) << "the reason as text";
  EXPECT_TRUE(HasTextElement("#recall-scope", kDeviceNumber) ||
              HasTextElement("#recall-scope", DeviceLot()))
      << TextOf("#recall-scope");
  EXPECT_TRUE(absl::StrContains(TextOf("#recall-impact"), kCustomer1Name))
      << TextOf("#recall-impact");
  EXPECT_TRUE(absl::StrContains(TextOf("#recall-impact"), kCustomer2Name))
      << TextOf("#recall-impact");
  EXPECT_TRUE(absl::StrContains(TextOf("#notifications"), kCustomer1) &&
              absl::StrContains(TextOf("#notifications"), kCustomer2))
      << TextOf("#notifications");
  {
    WD_ASSIGN(points,
              wd().Execute("return Array.from(document.querySelectorAll("
                           "    '#effectiveness-chart [data-percent]')).map("
                           "  p => [p.getAttribute('data-time') || '',"
                           "        p.getAttribute('data-percent')]);"));
    const auto& list = points.list_value().values();
    // A point at the initiation, one per response, the last now.
    ASSERT_GE(list.size(), 3)
        << "the effectiveness chart's points: " << JsonOf(points);
    // The latest point is the recall's recovery now: 16 of 70 units
    // (10 returned, 6 destroyed on site).
    absl::Time latest_time = absl::InfinitePast();
    absl::Time earliest_time = absl::InfiniteFuture();
    double latest = -1, earliest = -1;
    for (const Value& p : list) {
      absl::Time time;
      std::string error;
      double percent = -1;
      EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full,
                                  p.list_value().values(0).string_value(),
                                  &time, &error))
          << "each point has its time (RFC 3339): " << error << " in "
          << JsonOf(points);
      EXPECT_TRUE(
          absl::SimpleAtod(p.list_value().values(1).string_value(), &percent))
          << JsonOf(points);
      if (time >= latest_time) {
        latest_time = time;
        latest = percent;
      }
      if (time < earliest_time) {
        earliest_time = time;
        earliest = percent;
      }
    }
    EXPECT_EQ(effectiveness.overall().recovered(), 16);
    EXPECT_EQ(effectiveness.overall().distributed(), 70);
    EXPECT_NEAR(latest, effectiveness.overall().percent(), 0.051)
        << JsonOf(points);
    EXPECT_EQ(earliest, 0) << "nothing recovered at the initiation: "
                           << JsonOf(points);
    std::printf("effectiveness chart points (time, percent): %s\n",
                JsonOf(points).c_str());
  }
  {
    WD_ASSIGN(report, wd().Find("a#report-download"));
    (void)report;
  }
  Shot("recall");

  // ---- Expiry -------------------------------------------------------------
  WD_OK(wd().Navigate(base_ + "/expiry"));
  {
    WD_ASSIGN(heatmap, wd().WaitFor("#expiry-heatmap"));
    (void)heatmap;
    ExpectFrame("expiry");
    ExpectNoInjection("expiry");
    // What is on hand per location: 30 in the bin, 10 returned to
    // quarantine.
    WD_ASSIGN(qty, wd().Execute(R"js(
      const out = {};
      for (const row of document.querySelectorAll(
               '#expiry-heatmap tr[data-location]')) {
        let sum = 0;
        for (const c of row.querySelectorAll('[data-qty]')) {
          sum += Number(c.getAttribute('data-qty'));
        }
        out[row.getAttribute('data-location')] = sum;
      }
      return out;)js"));
    const auto& by_location = qty.struct_value().fields();
    EXPECT_EQ(
        by_location.contains(kBin) ? by_location.at(kBin).number_value() : -1,
        30)
        << JsonOf(qty);
    EXPECT_EQ(by_location.contains(kQuarantine)
                  ? by_location.at(kQuarantine).number_value()
                  : -1,
              10)
        << JsonOf(qty);
    Shot("expiry");
    // FEFO never picks the recalled lot.
    WD_ASSIGN(item, wd().Find("#fefo-form #fefo-item"));
    WD_OK(wd().SendKeys(item, std::string(kDevice) + "\xEE\x80\x87"));
    WD_ASSIGN(suggestion, wd().WaitFor("#fefo-suggestion"));
    (void)suggestion;
    WD_ASSIGN(picks, wd().FindAll("#fefo-suggestion tr.pick"));
    EXPECT_TRUE(picks.empty()) << TextOf("#fefo-suggestion");
    EXPECT_TRUE(absl::StrContains(TextOf("#fefo-suggestion"),
                                  std::string("is under recall ") + kRecallId))
        << "why the lot is kept out: " << TextOf("#fefo-suggestion");
    ExpectNoInjection("expiry with FEFO");
    std::printf("FEFO for the recalled lot's item: %s\n",
                TextOf("#fefo-suggestion").c_str());
    Shot("expiry-fefo");
  }

  // ---- Refusals -----------------------------------------------------------
  // A role without access: the service's reason, on the lot and the recall.
  for (const auto& [page, path] :
       std::vector<std::pair<std::string, std::string>>{
           {"lot", "/lots/" + PathSegment(DeviceLot())},
           {"recall", std::string("/recalls/") + kRecallId}}) {
    const std::string text = RefusalFor(kVisitorToken, path);
    EXPECT_TRUE(absl::StrContains(text, "visitor may not call /lotledger.v1."))
        << page << ": " << text;
    EXPECT_TRUE(absl::StrContains(text, "none of their roles is allowed"))
        << page << ": " << text;
    EXPECT_FALSE(HasTextElement("body", kHoldReason))
        << page << ": nothing of the lot shows";
    WD_ASSIGN(leaked, wd().FindAll("#lot-facts, #timeline, #recall-impact"));
    EXPECT_TRUE(leaked.empty()) << page;
    EXPECT_EQ(HttpStatus(), 403) << page;
    ExpectNoInjection("refusal");
    Shot("refusal-" + page);
  }
  // A token the services do not know.
  const std::string unknown =
      RefusalFor("not-a-token", "/lots/" + PathSegment(DeviceLot()));
  EXPECT_TRUE(absl::StrContains(unknown, "the bearer token is not valid"))
      << unknown;
  EXPECT_EQ(HttpStatus(), 401);
  Shot("refusal-unknown-token");

  // A lot that does not exist: the not-found page.
  ASSERT_NO_FATAL_FAILURE(Login(cluster_->Token("auditor")));
  WD_OK(wd().Navigate(base_ + "/lots/" + PathSegment(ComponentLot() + "X")));
  WD_ASSIGN(not_found, wd().WaitFor("#not-found"));
  (void)not_found;
  EXPECT_EQ(HttpStatus(), 404);
  EXPECT_TRUE(absl::StrContains(TextOf("#not-found"), ComponentLot() + "X"))
      << "names what was not found: " << TextOf("#not-found");
  ExpectNoInjection("not found");
  Shot("not-found");
}

}  // namespace
}  // namespace lotledger::testing
