#include "tests/support/service_cluster.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "libs/common/ids.h"
#include "tests/support/child_process.h"

namespace lotledger::testing {
namespace {

// One principal per role (docs/security.md), named as the README's
// walk-through names them.
struct DevPrincipal {
  const char* name;
  const char* roles;
};
constexpr DevPrincipal kPrincipals[] = {
    {"admin", "admin"},
    {"operator", "operator"},
    {"qa.inspector", "qa_inspector"},
    {"qa.approver", "qa_approver"},
    {"recall.manager", "recall_manager"},
    {"auditor", "auditor"},
};

std::string DevToken(const std::string& principal) {
  return "dev-" + principal + "-token";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

int PickFreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  int port = 0;
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

std::string TestKafkaAddress() {
  const char* addr = std::getenv("LOTLEDGER_TEST_KAFKA");
  return addr == nullptr ? "" : addr;
}

// ---- ServiceProcess
// ----------------------------------------------------------

ServiceProcess::ServiceProcess(std::string binary,
                               std::vector<std::string> args,
                               std::string log_path)
    : binary_(std::move(binary)), log_path_(std::move(log_path)) {
  std::vector<std::string> argv = {binary_};
  argv.insert(argv.end(), args.begin(), args.end());
  absl::StatusOr<pid_t> pid = StartChild(std::move(argv), log_path_);
  if (!pid.ok()) {
    ADD_FAILURE() << pid.status();
    return;
  }
  pid_ = *pid;
}

ServiceProcess::~ServiceProcess() { Kill(); }

bool ServiceProcess::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

bool ServiceProcess::AwaitServing(absl::Duration timeout) {
  const std::regex serving(
      "\"msg\":\"serving\".*\"listen\":\"([0-9.]+:[0-9]+)\".*"
      "\"metrics_port\":([0-9]+),\"health_port\":([0-9]+)");
  const absl::Time give_up = absl::Now() + timeout;
  while (true) {
    std::ifstream in(log_path_);
    std::string line;
    while (std::getline(in, line)) {
      std::smatch m;
      if (std::regex_search(line, m, serving)) {
        target_ = m[1];
        metrics_port_ = std::stoi(m[2]);
        health_port_ = std::stoi(m[3]);
        return true;
      }
    }
    if (!running()) {
      ADD_FAILURE() << binary_ << " exited before serving; " << log_path_
                    << ":\n"
                    << LogTail(40);
      return false;
    }
    if (absl::Now() > give_up) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  ADD_FAILURE() << binary_ << " did not log \"serving\" within " << timeout
                << "; " << log_path_ << ":\n"
                << LogTail(40);
  return false;
}

void ServiceProcess::SignalTerm() {
  if (pid_ <= 0 || signalled_) return;
  signalled_ = true;
  signalled_at_ = absl::Now();
  kill(pid_, SIGTERM);
}

int ServiceProcess::Wait(absl::Duration give_up) {
  if (pid_ <= 0) return 0;
  const absl::Time deadline = absl::Now() + give_up;
  int status = 0;
  while (waitpid(pid_, &status, WNOHANG) != pid_) {
    if (absl::Now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      break;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  pid_ = -1;
  return status;
}

int ServiceProcess::Terminate(absl::Duration give_up, absl::Duration* elapsed) {
  SignalTerm();
  const absl::Time signalled = signalled_at_;
  const int status = Wait(give_up);
  if (elapsed != nullptr) *elapsed = absl::Now() - signalled;
  return status;
}

void ServiceProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

std::string ServiceProcess::LogText() const { return ReadFile(log_path_); }

std::string ServiceProcess::LogTail(int lines) const {
  std::ifstream in(log_path_);
  std::deque<std::string> tail;
  std::string line;
  while (std::getline(in, line)) {
    tail.push_back(line);
    if (static_cast<int>(tail.size()) > lines) tail.pop_front();
  }
  std::string out;
  for (const std::string& l : tail) absl::StrAppend(&out, l, "\n");
  return out;
}

bool AwaitHealthServing(const std::string& target, const std::string& service,
                        ServiceProcess* process, absl::Duration timeout) {
  auto health = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  const absl::Time give_up = absl::Now() + timeout;
  std::string last = "no answer";
  while (absl::Now() < give_up) {
    grpc::health::v1::HealthCheckRequest req;
    req.set_service(service);
    grpc::health::v1::HealthCheckResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(2));
    const grpc::Status s = health->Check(&ctx, req, &resp);
    if (s.ok() &&
        resp.status() == grpc::health::v1::HealthCheckResponse::SERVING) {
      return true;
    }
    last = s.ok() ? absl::StrCat("status ", static_cast<int>(resp.status()))
                  : absl::StrCat("code ", static_cast<int>(s.error_code()),
                                 ": ", s.error_message());
    if (process != nullptr && !process->running()) {
      ADD_FAILURE() << service << " at " << target << " exited before SERVING; "
                    << process->log_path() << ":\n"
                    << process->LogTail(40);
      return false;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  ADD_FAILURE() << service << " at " << target << " not SERVING within "
                << timeout << " (last: " << last << ")\n"
                << (process == nullptr ? "" : process->LogTail(40));
  return false;
}

// ---- ServiceCluster
// ------------------------------------------------------------

std::string ServiceName(Service s) {
  switch (s) {
    case Service::kLots:
      return "lots";
    case Service::kQuality:
      return "quality";
    case Service::kInventory:
      return "inventory";
    case Service::kRecall:
      return "recall";
    case Service::kAudit:
      return "audit";
  }
  return "?";
}

std::string HealthName(Service s) {
  switch (s) {
    case Service::kLots:
      return "lotledger.v1.LotsService";
    case Service::kQuality:
      return "lotledger.v1.QualityService";
    case Service::kInventory:
      return "lotledger.v1.InventoryService";
    case Service::kRecall:
      return "lotledger.v1.RecallService";
    case Service::kAudit:
      return "lotledger.v1.AuditService";
  }
  return "?";
}

std::unique_ptr<ServiceCluster> ServiceCluster::Start(
    const ServiceBinaries& binaries, Options options) {
  const std::string bootstrap = TestKafkaAddress();
  if (bootstrap.empty()) {
    ADD_FAILURE() << "LOTLEDGER_TEST_KAFKA is not set: run the tests with "
                     "./tools/test, which starts a real Kafka broker";
    return nullptr;
  }
  auto cluster = std::unique_ptr<ServiceCluster>(new ServiceCluster());
  ServiceCluster& c = *cluster;
  c.options_ = std::move(options);
  c.bootstrap_ = bootstrap;
  const std::string id = NewUuidV7(absl::Now());
  // Unique per cluster: topics, writer ids and directories.
  c.prefix_ = absl::StrCat("cluster-", id, ".");
  c.root_ = absl::StrCat(::testing::TempDir(), "/cluster-", id);
  std::filesystem::create_directories(c.root_);
  c.tokens_path_ = c.root_ + "/dev-tokens";
  {
    std::ofstream tokens(c.tokens_path_);
    for (const DevPrincipal& p : kPrincipals) {
      tokens << DevToken(p.name) << " " << p.name << " " << p.roles << "\n";
    }
  }
  const std::string paths[] = {binaries.lots, binaries.quality,
                               binaries.inventory, binaries.recall,
                               binaries.audit};
  for (Service s : kAllServices) {
    Member& m = c.member(s);
    m.service = s;
    m.binary = paths[static_cast<size_t>(s)];
    m.port = PickFreePort();
    m.data_dir = absl::StrCat(c.root_, "/", ServiceName(s));
    if (m.port == 0) {
      ADD_FAILURE() << "no free port for " << ServiceName(s);
      return nullptr;
    }
    m.channel =
        grpc::CreateChannel(c.target(s), grpc::InsecureChannelCredentials());
  }
  // All at once, as a deployment starts them; each creates the topics it
  // needs when missing.
  for (Member& m : c.members_) c.Launch(m);
  bool up = true;
  for (Member& m : c.members_) up = c.AwaitUp(m) && up;
  if (!up) return nullptr;  // the destructor stops the others
  return cluster;
}

ServiceCluster::~ServiceCluster() {
  if (::testing::Test::HasFailure()) {
    std::fprintf(stderr, "---- service processes (topic prefix %s) ----\n%s",
                 prefix_.c_str(), StderrTails().c_str());
  }
  std::vector<Service> running;
  for (Member& m : members_) {
    if (m.process != nullptr) running.push_back(m.service);
  }
  // Expected to stop cleanly here too, but the verdict belongs to the
  // tests that restart; here it only must not leave a process behind.
  for (Service s : running) member(s).process->SignalTerm();
  for (Service s : running) {
    member(s).process->Wait(
        absl::Seconds(options_.shutdown_grace_seconds + 30));
  }
  // Logs and data stay for a failed test to be looked into.
  if (!::testing::Test::HasFailure()) {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
}

std::string ServiceCluster::target(Service s) const {
  return absl::StrCat("127.0.0.1:", member(s).port);
}

std::shared_ptr<grpc::Channel> ServiceCluster::channel(Service s) const {
  return member(s).channel;
}

ServiceProcess* ServiceCluster::process(Service s) const {
  return member(s).process.get();
}

std::string ServiceCluster::Token(const std::string& principal) const {
  for (const DevPrincipal& p : kPrincipals) {
    if (principal == p.name) return DevToken(p.name);
  }
  ADD_FAILURE() << "no dev principal named " << principal;
  return "";
}

std::unique_ptr<grpc::ClientContext> BearerContext(const std::string& token,
                                                   absl::Duration deadline) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->AddMetadata("authorization", "Bearer " + token);
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  return ctx;
}

std::unique_ptr<grpc::ClientContext> ServiceCluster::Ctx(
    const std::string& principal, absl::Duration deadline) const {
  return BearerContext(Token(principal), deadline);
}

void ServiceCluster::Launch(Member& m) {
  const std::string name = ServiceName(m.service);
  std::vector<std::string> args = {
      "--log=kafka",
      "--kafka-bootstrap=" + bootstrap_,
      "--topic-prefix=" + prefix_,
      // The transactional id; the default (the program name) would fence
      // the same service of a test running at the same time.
      "--writer-id=" + prefix_ + name,
      absl::StrCat("--partitions=", options_.partitions),
      absl::StrCat("--listen=", target(m.service)),
      "--metrics-listen=127.0.0.1:0",
      "--data-dir=" + m.data_dir,
      "--dev-tokens=" + tokens_path_,
      "--insecure-dev=true",
      absl::StrCat("--shutdown-grace-seconds=",
                   options_.shutdown_grace_seconds),
  };
  args.insert(args.end(), options_.extra_args.begin(),
              options_.extra_args.end());
  m.process = std::make_unique<ServiceProcess>(
      m.binary, std::move(args),
      absl::StrCat(root_, "/", name, "-", ++m.runs, ".log"));
}

bool ServiceCluster::AwaitUp(Member& m) {
  if (!m.process->AwaitServing()) return false;
  if (m.process->target() != target(m.service)) {
    ADD_FAILURE() << ServiceName(m.service) << " serves at "
                  << m.process->target() << ", not at " << target(m.service);
    return false;
  }
  return AwaitHealthServing(target(m.service), HealthName(m.service),
                            m.process.get());
}

bool ServiceCluster::StopAll(const std::vector<Service>& which) {
  for (Service s : which) {
    if (member(s).process != nullptr) member(s).process->SignalTerm();
  }
  bool clean = true;
  for (Service s : which) {
    Member& m = member(s);
    if (m.process == nullptr) continue;
    const int status =
        m.process->Wait(absl::Seconds(options_.shutdown_grace_seconds + 30));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      clean = false;
      ADD_FAILURE() << ServiceName(s) << " did not stop cleanly on SIGTERM ("
                    << (WIFEXITED(status)
                            ? absl::StrCat("exit ", WEXITSTATUS(status))
                            : absl::StrCat("signal ", WTERMSIG(status)))
                    << "); " << m.process->log_path() << ":\n"
                    << m.process->LogTail(40);
    }
    // The log stays on disk for StderrTails of the next run's failure.
    m.process.reset();
  }
  return clean;
}

bool ServiceCluster::Restart(Service s) {
  const bool clean = StopAll({s});
  Member& m = member(s);
  Launch(m);
  return AwaitUp(m) && clean;
}

bool ServiceCluster::RestartAll() {
  const bool clean =
      StopAll(std::vector<Service>(kAllServices.begin(), kAllServices.end()));
  for (Member& m : members_) Launch(m);
  bool up = true;
  for (Member& m : members_) up = AwaitUp(m) && up;
  return up && clean;
}

std::string ServiceCluster::StderrTails(int lines) const {
  std::string out;
  for (const Member& m : members_) {
    if (m.runs == 0) continue;
    // The current run, or the last one when the service is stopped.
    const std::string path =
        absl::StrCat(root_, "/", ServiceName(m.service), "-", m.runs, ".log");
    std::istringstream text(ReadFile(path));
    std::deque<std::string> tail;
    std::string line;
    while (std::getline(text, line)) {
      tail.push_back(line);
      if (static_cast<int>(tail.size()) > lines) tail.pop_front();
    }
    absl::StrAppend(&out, "== ", ServiceName(m.service), " (", path,
                    m.runs > 1 ? absl::StrCat(", run ", m.runs) : "",
                    "), last ", tail.size(), " lines:\n");
    for (const std::string& l : tail) absl::StrAppend(&out, l, "\n");
  }
  return out;
}

std::vector<v1::CreateLocationRequest> LocationTree(
    const std::vector<std::string>& bins, const LocationNames& names) {
  std::vector<v1::CreateLocationRequest> out;
  auto add = [&](const std::string& id, v1::LocationKind kind,
                 const std::string& parent) {
    v1::CreateLocationRequest& req = out.emplace_back();
    req.set_request_id(NewUuidV7(absl::Now()));
    req.set_location_id(id);
    req.set_name(id);
    req.set_kind(kind);
    req.set_parent_id(parent);
  };
  add(names.site, v1::LOCATION_KIND_SITE, "");
  add(names.region, v1::LOCATION_KIND_REGION, names.site);
  add(names.warehouse, v1::LOCATION_KIND_WAREHOUSE, names.region);
  for (const std::string& bin : bins) {
    add(bin, v1::LOCATION_KIND_BIN, names.warehouse);
  }
  return out;
}

}  // namespace lotledger::testing
