// console_paint_bench: the web console's first paint of a lot page (issue
// 20: "first paint of a lot page <= 300 ms for a lot with 1,000 events on
// this machine"), measured in Debian's headless Chromium.
//
// It hosts every service in process on the embedded log (as lotledgerd
// does), seeds one lot whose history (AuditService.LotHistory) holds
// --events events (created, inspected, released, received, then one
// shipment of one unit per further event), starts lotledger-console in
// front of it (--target, --insecure-dev), logs in with a dev token and
// opens the lot page --samples times, reading after each load:
//   fcp    first-contentful-paint (performance.getEntriesByType('paint')),
//          from the start of the navigation;
//   ttfb   responseStart of the navigation (the console and its gRPC
//          calls, before the browser parses a byte).
// It checks the page's timeline holds every event, then prints one JSON
// line on stdout (p50 and max of each, the first, cold load apart, and the
// page's size) and a readable line on stderr. Figures only: nothing is
// asserted.
//
//   console_paint_bench [--events=1000] [--samples=20] [--dir=DIR]
//                       [--console=PATH] [--chromium=PATH]
//                       [--chromedriver=PATH]
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "libs/common/ids.h"
#include "lotledger/v1/audit.grpc.pb.h"
#include "lotledger/v1/inventory.grpc.pb.h"
#include "lotledger/v1/lots.grpc.pb.h"
#include "lotledger/v1/quality.grpc.pb.h"
#include "services/host/host.h"
#include "tests/support/child_process.h"
#include "tests/support/webdriver.h"

#ifndef CONSOLE_PATH
#error "CONSOLE_PATH must be defined (tools/bench/CMakeLists.txt)"
#endif

namespace lotledger::bench {
namespace {

constexpr char kToken[] = "tok-paint";
constexpr char kDevice[] = "09506000134352";
constexpr char kLotNumber[] = "P1000";
constexpr char kBin[] = "WH1-B1";

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "console_paint_bench: %s\n", what.c_str());
  std::fflush(stderr);
  _exit(1);
}

void Check(const grpc::Status& s, const std::string& what) {
  if (!s.ok()) Die(what + ": " + s.error_message());
}

void Check(const absl::Status& s, const std::string& what) {
  if (!s.ok()) Die(what + ": " + s.ToString());
}

std::unique_ptr<grpc::ClientContext> Ctx() {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->AddMetadata("authorization", std::string("Bearer ") + kToken);
  ctx->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::seconds(30));
  return ctx;
}

std::string Rid() { return NewUuidV7(absl::Now()); }

// The lot's events: 4 before the shipments, one per shipment after.
void Seed(const std::string& target, int events) {
  auto channel =
      grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  auto lots = v1::LotsService::NewStub(channel);
  auto quality = v1::QualityService::NewStub(channel);
  auto inventory = v1::InventoryService::NewStub(channel);
  const int shipments = std::max(0, events - 4);
  {
    v1::DefineProductRequest req;
    req.set_request_id(Rid());
    req.mutable_product()->set_item(kDevice);
    req.mutable_product()->set_name("Sterile catheter 12Fr");
    req.mutable_product()->set_uom("EA");
    req.mutable_product()->set_kind(v1::ITEM_KIND_FINISHED_DEVICE);
    req.mutable_product()->mutable_policy()->set_shelf_life_days(730);
    v1::DefineProductResponse resp;
    Check(lots->DefineProduct(Ctx().get(), req, &resp), "define");
  }
  {
    const absl::CivilDay today =
        absl::ToCivilDay(absl::Now(), absl::UTCTimeZone());
    v1::CreateLotRequest req;
    req.set_request_id(Rid());
    req.set_item(kDevice);
    req.set_lot_number(kLotNumber);
    req.mutable_manufactured_on()->set_year(static_cast<int>(today.year()));
    req.mutable_manufactured_on()->set_month(today.month());
    req.mutable_manufactured_on()->set_day(today.day());
    req.mutable_quantity()->set_amount(shipments + 10);
    req.mutable_quantity()->set_uom("EA");
    v1::CreateLotResponse resp;
    Check(lots->CreateLot(Ctx().get(), req, &resp), "create lot");
  }
  const std::string lot_id = absl::StrCat(kDevice, ":", kLotNumber);
  {
    v1::RecordInspectionRequest req;
    req.set_request_id(Rid());
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
    Check(quality->RecordInspection(Ctx().get(), req, &resp), "inspect");
  }
  {
    v1::ChangeDispositionRequest req;
    req.set_request_id(Rid());
    req.set_lot_id(lot_id);
    req.set_to(v1::DISPOSITION_RELEASED);
    req.mutable_signature()->set_meaning("approved for release");
    req.mutable_signature()->set_reason("batch record reviewed");
    req.mutable_signature()->set_credential(kToken);
    v1::ChangeDispositionResponse resp;
    Check(quality->ChangeDisposition(Ctx().get(), req, &resp), "release");
  }
  struct Loc {
    const char* id;
    v1::LocationKind kind;
    const char* parent;
  };
  for (const Loc& l : {Loc{"IE", v1::LOCATION_KIND_SITE, ""},
                       Loc{"EU", v1::LOCATION_KIND_REGION, "IE"},
                       Loc{"WH1", v1::LOCATION_KIND_WAREHOUSE, "EU"},
                       Loc{kBin, v1::LOCATION_KIND_BIN, "WH1"}}) {
    v1::CreateLocationRequest req;
    req.set_request_id(Rid());
    req.set_location_id(l.id);
    req.set_name(l.id);
    req.set_kind(l.kind);
    req.set_parent_id(l.parent);
    v1::CreateLocationResponse resp;
    Check(inventory->CreateLocation(Ctx().get(), req, &resp), "location");
  }
  {
    v1::ReceiveStockRequest req;
    req.set_request_id(Rid());
    req.set_lot_id(lot_id);
    req.set_location_id(kBin);
    req.mutable_quantity()->set_amount(shipments + 10);
    req.mutable_quantity()->set_uom("EA");
    req.set_source(v1::RECEIPT_SOURCE_PRODUCTION);
    v1::ReceiveStockResponse resp;
    Check(inventory->ReceiveStock(Ctx().get(), req, &resp), "receive");
  }
  for (int i = 0; i < shipments; ++i) {
    v1::ShipStockRequest req;
    req.set_request_id(Rid());
    const std::string customer = absl::StrCat("HOSP-", i % 25);
    req.mutable_customer()->set_customer_id(customer);
    req.mutable_customer()->set_name("Hospital " + customer);
    req.mutable_customer()->set_region("EU");
    v1::ShipmentLine* line = req.add_lines();
    line->set_lot_id(lot_id);
    line->set_location_id(kBin);
    line->mutable_quantity()->set_amount(1);
    line->mutable_quantity()->set_uom("EA");
    v1::ShipStockResponse resp;
    Check(inventory->ShipStock(Ctx().get(), req, &resp),
          absl::StrCat("shipment ", i));
  }
}

// The console as a child process; its "serving" line names its address.
struct Console {
  pid_t pid = -1;
  std::string address;
  ~Console() { Stop(); }
  void Stop() {
    if (pid <= 0) return;
    kill(pid, SIGTERM);
    int status = 0;
    for (int i = 0; i < 200 && waitpid(pid, &status, WNOHANG) != pid; ++i) {
      absl::SleepFor(absl::Milliseconds(50));
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, WNOHANG);
    pid = -1;
  }
};

void StartConsole(const std::string& binary, const std::string& target,
                  const std::string& log, Console* console) {
  absl::StatusOr<pid_t> pid =
      testing::StartChild({binary, "--listen=127.0.0.1:0", "--target=" + target,
                           "--insecure-dev=true"},
                          log);
  if (!pid.ok()) Die(std::string(pid.status().message()));
  console->pid = *pid;
  const std::regex serving(
      "\"msg\":\"serving\".*\"listen\":\"([0-9.]+:[0-9]+)\"");
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  while (absl::Now() < give_up) {
    std::ifstream in(log);
    std::string line;
    while (std::getline(in, line)) {
      std::smatch m;
      if (std::regex_search(line, m, serving)) {
        console->address = m[1];
        return;
      }
    }
    int status = 0;
    if (waitpid(*pid, &status, WNOHANG) == *pid) {
      console->pid = -1;
      Die(binary + " exited before serving; see " + log);
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  Die(binary + " did not log \"serving\" within 60 s; see " + log);
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i =
      std::min(v.size() - 1, static_cast<size_t>(p / 100.0 * v.size()));
  return v[i];
}

std::string PathSegment(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      absl::StrAppendFormat(&out, "%%%02X", c);
    }
  }
  return out;
}

int Main(int argc, char** argv) {
  std::map<std::string, std::string> kv;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    const size_t eq = a.find('=');
    if (!a.starts_with("--") || eq == std::string::npos) {
      Die("argument \"" + a + "\": expected --flag=value");
    }
    kv[a.substr(2, eq - 2)] = a.substr(eq + 1);
  }
  auto get = [&](const std::string& k, const std::string& def) {
    auto it = kv.find(k);
    return it == kv.end() ? def : it->second;
  };
  auto num = [&](const std::string& k, int def) {
    int v = def;
    if (kv.contains(k) && !absl::SimpleAtoi(kv[k], &v)) {
      Die("--" + k + " needs an integer");
    }
    return v;
  };
  const int events = num("events", 1000);
  const int samples = num("samples", 20);
  const std::string dir =
      get("dir", absl::StrCat(std::filesystem::temp_directory_path().string(),
                              "/console-paint-bench"));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/tokens")
      << kToken
      << " paint admin,operator,auditor,qa_inspector,qa_approver,"
         "recall_manager\n";

  server::ProcessConfig c = HostDefaults("embedded");
  c.listen = "127.0.0.1:0";
  c.data_dir = dir + "/data";
  c.dev_tokens = dir + "/tokens";
  c.tls.insecure_dev = true;
  c.metrics_listen = "";
  c.log_requests = false;
  absl::StatusOr<std::unique_ptr<ServerHost>> host =
      ServerHost::Start(c, "console_paint_bench", HostableServices());
  Check(host.status(), "start the services");
  const std::string target = (*host)->target();

  const absl::Time seed_start = absl::Now();
  Seed(target, events);
  // The history as the console will read it.
  int history = 0;
  {
    auto audit = v1::AuditService::NewStub(
        grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
    v1::LotHistoryRequest req;
    req.set_lot_id(absl::StrCat(kDevice, ":", kLotNumber));
    auto ctx = Ctx();
    auto reader = audit->LotHistory(ctx.get(), req);
    v1::HistoryEntry e;
    while (reader->Read(&e)) ++history;
    Check(reader->Finish(), "history");
  }
  std::fprintf(stderr, "console_paint_bench: seeded %d events in %s\n", history,
               absl::FormatDuration(absl::Now() - seed_start).c_str());

  Console console;
  StartConsole(get("console", CONSOLE_PATH), target, dir + "/console.log",
               &console);
  const std::string base = "http://" + console.address;

  testing::WebDriver::Options o;
  o.work_dir = dir + "/browser";
  if (kv.contains("chromium")) o.chromium = kv["chromium"];
  if (kv.contains("chromedriver")) o.chromedriver = kv["chromedriver"];
  absl::StatusOr<std::unique_ptr<testing::WebDriver>> started =
      testing::WebDriver::Start(o);
  Check(started.status(), "start chromium");
  testing::WebDriver& wd = **started;

  Check(wd.Navigate(base + "/login"), "open /login");
  absl::StatusOr<testing::WebDriver::Element> field = wd.WaitFor("#token");
  Check(field.status(), "the login form");
  Check(wd.SendKeys(*field, kToken), "type the token");
  absl::StatusOr<testing::WebDriver::Element> submit = wd.Find("#login-submit");
  Check(submit.status(), "the login button");
  Check(wd.Click(*submit), "log in");

  const std::string lot_url =
      base + "/lots/" + PathSegment(absl::StrCat(kDevice, ":", kLotNumber));
  std::vector<double> fcp, ttfb;
  double cold_fcp = 0, cold_ttfb = 0;
  int shown = 0;
  double html_bytes = 0;
  for (int i = 0; i <= samples; ++i) {
    Check(wd.Navigate(lot_url), "open the lot page");
    // The paint entry is queued right after the paint; wait for it.
    absl::StatusOr<google::protobuf::Value> v;
    for (int tries = 0; tries < 50; ++tries) {
      v = wd.Execute(
          "const p = performance.getEntriesByType('paint').find("
          "    e => e.name === 'first-contentful-paint');"
          "const n = performance.getEntriesByType('navigation')[0];"
          "return p ? [p.startTime, n.responseStart,"
          "    document.querySelectorAll('#timeline li.event').length,"
          "    n.decodedBodySize] : null;");
      Check(v.status(), "read the paint timing");
      if (v->kind_case() == google::protobuf::Value::kListValue) break;
      absl::SleepFor(absl::Milliseconds(20));
    }
    if (v->kind_case() != google::protobuf::Value::kListValue) {
      Die("no first-contentful-paint entry for " + lot_url);
    }
    const auto& vals = v->list_value().values();
    if (vals.size() != 4) Die("unexpected timing answer");
    shown = static_cast<int>(vals[2].number_value());
    html_bytes = vals[3].number_value();
    if (i == 0) {
      cold_fcp = vals[0].number_value();
      cold_ttfb = vals[1].number_value();
    } else {
      fcp.push_back(vals[0].number_value());
      ttfb.push_back(vals[1].number_value());
    }
  }
  if (shown != history) {
    Die(absl::StrCat("the page shows ", shown, " timeline events of ",
                     history));
  }
  const double fcp_max = *std::max_element(fcp.begin(), fcp.end());
  const double ttfb_max = *std::max_element(ttfb.begin(), ttfb.end());
  std::printf(
      "{\"scenario\":\"console_first_paint\",\"backend\":\"embedded\","
      "\"events\":%d,\"samples\":%d,\"fcp_p50_ms\":%.1f,\"fcp_max_ms\":%.1f,"
      "\"ttfb_p50_ms\":%.1f,\"ttfb_max_ms\":%.1f,\"cold_fcp_ms\":%.1f,"
      "\"cold_ttfb_ms\":%.1f,\"html_kib\":%.0f}\n",
      history, samples, Percentile(fcp, 50), fcp_max, Percentile(ttfb, 50),
      ttfb_max, cold_fcp, cold_ttfb, html_bytes / 1024);
  std::fprintf(stderr,
               "console_first_paint: lot page with %d events, %d loads: first "
               "contentful paint p50 %.1f ms, max %.1f ms (server answer "
               "p50 %.1f ms, max %.1f ms); cold load %.1f ms; page %.0f KiB\n",
               history, samples, Percentile(fcp, 50), fcp_max,
               Percentile(ttfb, 50), ttfb_max, cold_fcp, html_bytes / 1024);
  std::fflush(stdout);
  std::fflush(stderr);
  started->reset();
  console.Stop();
  // Server threads may still run: no static destructors.
  _exit(0);
}

}  // namespace
}  // namespace lotledger::bench

int main(int argc, char** argv) { return lotledger::bench::Main(argc, argv); }
