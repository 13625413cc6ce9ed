// Unsettled append, writer killed (issue 23): lots-service appends every
// command in a Kafka transaction; here transactions are left with an
// unknown outcome and the writer is killed before it can settle them.
//   - A Kafka broker of the test's own (tools/kafka/start through
//     OwnBroker), frozen with SIGSTOP and thawed with SIGCONT: appends and
//     commits in flight hang, the broker's state stays as it was.
//   - lots-service as a child process (ServiceProcess) on a fixed port,
//     data dir and writer id (its transactional id), kept across restarts.
//   - kClients client threads send CreateLot (a new lot) and CorrectLot
//     (the site of one of kBaseLots shared lots: chains that go on across
//     the kills) with a kCallDeadline deadline, and keep every request id
//     with what its first answer was: acknowledged, or unknown
//     (UNAVAILABLE / DEADLINE_EXCEEDED).
//   - LOTLEDGER_FAULT_ITERATIONS times (4), each time one of four ways in
//     turn (Variant): under that load the broker is frozen until calls
//     time out, then (a) the service is killed with SIGKILL and the broker
//     thawed, (b) the broker is thawed and the service killed a moment
//     later, while its appender resumes the commit, (c) the service is
//     killed and started again while the broker is still frozen, or
//     (d) without a freeze, the service is killed under load with commits
//     in flight. The service is started again on the same data dir, writer
//     id and port, and every request id whose outcome is unknown is sent
//     again, the same request, until it is acknowledged (bounded).
// What users rely on, asserted afterwards:
//   - every command is acknowledged in the end (also each sent again);
//   - every acknowledged command is in the log exactly once: 0 lost, 0
//     doubled (each command writes one event);
//   - every hash chain verifies: a check per aggregate here (seq and
//     prev_hash), ChainVerifier, and audit::VerifyLog over every audited
//     topic, as `lotctl audit verify` does, on a read-only log;
//   - the projection agrees with the log (each base lot's corrections, in
//     log order; every created lot readable), a request sent once more is
//     answered from the first outcome and writes nothing;
//   - the service still answers commands after the last restart.
// Printed on every run (not asserted, the timing is the broker's): per
// iteration the commands, acknowledged, unknown, and how many unknown ones
// had been written by the killed process (committed although its client
// heard nothing); at the end commands, acknowledged, unknown-then-retried,
// lost, doubled and chain breaks. On failure the service logs' tails are
// printed and the test's directory is kept.
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/types.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "libs/audit/log_verify.h"
#include "libs/common/ids.h"
#include "libs/common/proto_time.h"
#include "libs/eventlog/kafka/kafka_event_log.h"
#include "libs/eventlog/record_codec.h"
#include "lotledger/v1/lots.grpc.pb.h"
#include "tests/faults/own_broker.h"
#include "tests/support/service_cluster.h"
#include "tests/support/tokens.h"

#ifndef LOTS_SERVICE_PATH
#error "LOTS_SERVICE_PATH must name the lots-service binary (CMakeLists.txt)"
#endif

namespace lotledger::testing {
namespace {

constexpr char kDevice[] = "09506000134352";
constexpr int kBaseLots = 4;
constexpr int kClients = 3;
constexpr absl::Duration kCallDeadline = absl::Seconds(2);
// Small load: a pause between a client's calls, and a cap per iteration.
constexpr absl::Duration kPacing = absl::Milliseconds(20);
constexpr int kMaxPerClient = 300;
// Acknowledgements in an iteration before the broker is frozen.
constexpr int kAckedBeforeFreeze = 6;
constexpr absl::Duration kLoadBound = absl::Seconds(60);
// Frozen at least this long (longer than a call's deadline, so every call
// in flight times out) and until a call's outcome is unknown.
constexpr absl::Duration kFrozenAtLeast = absl::Milliseconds(2500);
constexpr absl::Duration kFrozenBound = absl::Seconds(20);
// Variant (b): the broker runs again this long (at most) before the kill.
constexpr int kThawedBeforeKillMaxMs = 250;
// Sending a request again: each attempt's deadline, the pause between
// attempts, the bound per request (above the broker's transaction timeout,
// 60 s, in case a transaction the killed writer left open is only aborted
// by it).
constexpr absl::Duration kRetryDeadline = absl::Seconds(5);
constexpr absl::Duration kRetryPause = absl::Milliseconds(250);
constexpr absl::Duration kRetryBound = absl::Seconds(150);

// How an iteration leaves appends unsettled and kills the writer.
enum class Variant {
  // Broker frozen until calls time out; service killed; broker thawed;
  // service started.
  kKillFrozenThenThaw,
  // Broker frozen until calls time out, thawed; a moment later (while the
  // appender resumes its commit) the service is killed, then started.
  kThawThenKill,
  // Broker frozen until calls time out; service killed and started again
  // while the broker is still frozen (its InitTransactions waits), the
  // broker thawed kFrozenAfterRestart later.
  kRestartWhileFrozen,
  // No freeze: the service killed under load, commits in flight.
  kKillUnderLoad,
};
constexpr int kVariants = 4;
constexpr absl::Duration kFrozenAfterRestart = absl::Seconds(3);

std::string VariantName(Variant v, int thawed_before_kill_ms) {
  switch (v) {
    case Variant::kKillFrozenThenThaw:
      return "killed while frozen, then thawed and started";
    case Variant::kThawThenKill:
      return absl::StrCat("thawed, killed ", thawed_before_kill_ms,
                          " ms later, started");
    case Variant::kRestartWhileFrozen:
      return absl::StrCat("killed and started while frozen, thawed ",
                          absl::FormatDuration(kFrozenAfterRestart), " later");
    case Variant::kKillUnderLoad:
      return "killed under load, no freeze, started";
  }
  return "?";
}

int Iterations() {
  const char* env = std::getenv("LOTLEDGER_FAULT_ITERATIONS");
  return env != nullptr && std::atoi(env) > 0 ? std::atoi(env) : 4;
}

std::string BaseLotNumber(int i) { return absl::StrCat("BASE", i); }
std::string BaseLotId(int i) { return MakeLotId(kDevice, BaseLotNumber(i)); }

bool Unknown(const grpc::Status& s) {
  return s.error_code() == grpc::StatusCode::UNAVAILABLE ||
         s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
}

// One command and what its client saw.
struct Command {
  bool create = true;  // CreateLot, else CorrectLot
  v1::CreateLotRequest create_req;
  v1::CorrectLotRequest correct_req;
  int iteration = 0;  // -1: set-up; Iterations(): after the last restart
  std::string lot_id;
  // The first answer.
  grpc::StatusCode first_code = grpc::StatusCode::OK;
  std::string first_message;
  // First answered UNAVAILABLE or DEADLINE_EXCEEDED: sent again.
  bool unknown = false;
  // Answered with another error at some attempt (none is expected).
  std::vector<std::string> unexpected;
  bool acked = false;
  int attempts = 0;
  absl::Time first_sent;
  // The service was killed after the first attempt of an unknown one.
  absl::Time killed_at = absl::InfiniteFuture();

  const std::string& request_id() const {
    return create ? create_req.request_id() : correct_req.request_id();
  }
  std::string Describe() const {
    return absl::StrCat(create ? "CreateLot " : "CorrectLot ", lot_id,
                        create ? "" : " site=" + correct_req.new_value(),
                        " (request ", request_id(), ", iteration ", iteration,
                        ")");
  }
};

v1::CreateLotRequest NewCreate(const std::string& lot_number) {
  v1::CreateLotRequest req;
  req.set_request_id(NewUuidV7(absl::Now()));
  req.set_item(kDevice);
  req.set_lot_number(lot_number);
  const absl::CivilDay made =
      absl::ToCivilDay(absl::Now(), absl::UTCTimeZone()) - 30;
  req.mutable_manufactured_on()->set_year(static_cast<int32_t>(made.year()));
  req.mutable_manufactured_on()->set_month(made.month());
  req.mutable_manufactured_on()->set_day(made.day());
  req.mutable_quantity()->set_amount(1000);
  req.mutable_quantity()->set_uom("EA");
  req.set_site("Galway");
  return req;
}

Command CreateCommand(const std::string& lot_number, int iteration) {
  Command c;
  c.create = true;
  c.create_req = NewCreate(lot_number);
  c.lot_id = MakeLotId(kDevice, lot_number);
  c.iteration = iteration;
  return c;
}

Command CorrectCommand(int base_lot, const std::string& site, int iteration) {
  Command c;
  c.create = false;
  c.correct_req.set_request_id(NewUuidV7(absl::Now()));
  c.correct_req.set_lot_id(BaseLotId(base_lot));
  c.correct_req.set_field("site");
  c.correct_req.set_new_value(site);
  c.correct_req.set_reason("site recorded wrongly at creation");
  c.lot_id = BaseLotId(base_lot);
  c.iteration = iteration;
  return c;
}

// One attempt of `cmd` (the same request every time).
grpc::Status Send(v1::LotsService::Stub& lots, const Command& cmd,
                  absl::Duration deadline, TokenSet& tokens) {
  if (cmd.create) {
    v1::CreateLotResponse resp;
    grpc::Status s = lots.CreateLot(
        BearerContext("tok-operator", deadline).get(), cmd.create_req, &resp);
    if (s.ok()) {
      tokens.Add(resp.token());
      if (resp.lot().lot_id() != cmd.lot_id ||
          resp.lot().quantity().amount() !=
              cmd.create_req.quantity().amount()) {
        ADD_FAILURE() << cmd.Describe() << " answered with another lot: "
                      << resp.lot().ShortDebugString();
      }
    }
    return s;
  }
  v1::CorrectLotResponse resp;
  grpc::Status s = lots.CorrectLot(BearerContext("tok-qa", deadline).get(),
                                   cmd.correct_req, &resp);
  if (s.ok()) tokens.Add(resp.token());
  return s;
}

// Records the answer of one attempt in `cmd`.
void Note(Command& cmd, const grpc::Status& s) {
  if (++cmd.attempts == 1) {
    cmd.first_code = s.error_code();
    cmd.first_message = s.error_message();
    cmd.unknown = Unknown(s);
  }
  if (s.ok()) {
    cmd.acked = true;
  } else if (!Unknown(s)) {
    cmd.unexpected.push_back(absl::StrCat("attempt ", cmd.attempts, ": code ",
                                          static_cast<int>(s.error_code()),
                                          ": ", s.error_message()));
  }
}

// Sends `cmd` again until it is acknowledged, refused for a reason other
// than an unknown outcome, or kRetryBound passed.
void UntilAcknowledged(v1::LotsService::Stub& lots, Command& cmd,
                       TokenSet& tokens) {
  const absl::Time give_up = absl::Now() + kRetryBound;
  while (!cmd.acked) {
    const grpc::Status s = Send(lots, cmd, kRetryDeadline, tokens);
    Note(cmd, s);
    if (!s.ok() && !Unknown(s)) return;
    if (cmd.acked || absl::Now() + kRetryPause >= give_up) return;
    absl::SleepFor(kRetryPause);
  }
}

// Polls `pred` every 10 ms until it holds or `bound` passed.
template <typename Pred>
bool WaitUntil(Pred pred, absl::Duration bound) {
  const absl::Time give_up = absl::Now() + bound;
  while (!pred()) {
    if (absl::Now() > give_up) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

// The own broker's JVM, stopped (SIGSTOP) and continued (SIGCONT): its
// sockets stay open, requests in flight wait, nothing is lost. Continued
// on destruction, so a failed test never leaves it frozen.
class BrokerFreezer {
 public:
  explicit BrokerFreezer(pid_t pid) : pid_(pid) {}
  ~BrokerFreezer() { Thaw(); }

  // Reads the pid the start script wrote; 0 (and a test failure) when it
  // is not a live java process.
  static pid_t ReadPid(const std::string& run_dir) {
    std::ifstream in(run_dir + "/broker.pid");
    pid_t pid = 0;
    in >> pid;
    std::ifstream comm(absl::StrCat("/proc/", pid, "/comm"));
    std::string name;
    std::getline(comm, name);
    if (pid <= 0 || name != "java") {
      ADD_FAILURE() << run_dir << "/broker.pid: " << pid << " is not the "
                    << "broker's JVM (comm \"" << name << "\")";
      return 0;
    }
    return pid;
  }

  bool Freeze() {
    if (kill(pid_, SIGSTOP) != 0) {
      ADD_FAILURE() << "SIGSTOP to the broker (pid " << pid_ << ") failed";
      return false;
    }
    frozen_ = true;
    if (!WaitUntil([&] { return State() == 'T'; }, absl::Seconds(5))) {
      ADD_FAILURE() << "the broker (pid " << pid_ << ") did not stop";
      return false;
    }
    return true;
  }

  bool Thaw() {
    if (!frozen_) return true;
    frozen_ = false;
    if (kill(pid_, SIGCONT) != 0) {
      ADD_FAILURE() << "SIGCONT to the broker (pid " << pid_ << ") failed";
      return false;
    }
    if (!WaitUntil([&] { return State() != 'T'; }, absl::Seconds(5))) {
      ADD_FAILURE() << "the broker (pid " << pid_ << ") did not continue";
      return false;
    }
    return true;
  }

 private:
  // The state letter of /proc/<pid>/status ('T': stopped).
  char State() const {
    std::ifstream in(absl::StrCat("/proc/", pid_, "/status"));
    std::string line;
    while (std::getline(in, line)) {
      absl::string_view v = line;
      if (absl::ConsumePrefix(&v, "State:")) {
        v = absl::StripLeadingAsciiWhitespace(v);
        return v.empty() ? '?' : v[0];
      }
    }
    return '?';
  }

  const pid_t pid_;
  bool frozen_ = false;
};

// lots-service on fixed flags: each run on the same port, data dir and
// writer id.
class LotsService {
 public:
  LotsService(std::string root, const std::string& bootstrap)
      : root_(std::move(root)) {
    const std::string id = NewUuidV7(absl::Now());
    prefix_ = absl::StrCat("unsettled", id.substr(0, 8), id.substr(24), ".");
    const std::string tokens = root_ + "/tokens";
    std::ofstream(tokens) << "tok-admin admin admin\n"
                             "tok-operator operator operator\n"
                             "tok-qa qa.approver qa_approver\n"
                             "tok-auditor auditor auditor\n";
    port_ = PickFreePort();
    args_ = {absl::StrCat("--listen=127.0.0.1:", port_),
             "--metrics-listen=127.0.0.1:0",
             "--health-listen=127.0.0.1:0",
             "--log=kafka",
             "--kafka-bootstrap=" + bootstrap,
             "--topic-prefix=" + prefix_,
             "--writer-id=" + prefix_ + "lots",
             "--data-dir=" + root_ + "/lots",
             "--dev-tokens=" + tokens,
             "--insecure-dev=true",
             "--partitions=3",
             "--shutdown-grace-seconds=5"};
    grpc::ChannelArguments channel_args;
    // Reconnect soon after a restart (the default backoff grows to 120 s).
    channel_args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    channel_args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
    channel_args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
    channel_ = grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port_),
                                         grpc::InsecureChannelCredentials(),
                                         channel_args);
  }

  // Starts a run (from the test's main thread) and waits until it serves.
  bool Start() {
    Launch();
    return AwaitUp();
  }
  // Starts a run (from the test's main thread) without waiting.
  void Launch() {
    process_ = std::make_unique<ServiceProcess>(
        LOTS_SERVICE_PATH, args_,
        absl::StrCat(root_, "/lots-", ++runs_, ".log"));
  }
  // Waits until the run serves.
  bool AwaitUp() {
    if (!process_->AwaitServing()) return false;
    if (process_->target() != absl::StrCat("127.0.0.1:", port_)) {
      ADD_FAILURE() << "lots-service serves at " << process_->target()
                    << ", not on port " << port_;
      return false;
    }
    return AwaitHealthServing(process_->target(), "lotledger.v1.LotsService",
                              process_.get());
  }
  // SIGKILL: no shutdown, appends and commits in flight cut off.
  void Kill() {
    if (process_ != nullptr) process_->Kill();
  }
  // SIGTERM; the exit status.
  int Terminate() {
    return process_ == nullptr ? 0 : process_->Terminate(absl::Seconds(60));
  }

  std::shared_ptr<grpc::Channel> channel() const { return channel_; }
  const std::string& prefix() const { return prefix_; }
  int runs() const { return runs_; }
  // The last lines of every run's log.
  std::string Tails() const {
    std::string out;
    for (int r = 1; r <= runs_; ++r) {
      const std::string path = absl::StrCat(root_, "/lots-", r, ".log");
      std::ifstream in(path);
      std::deque<std::string> tail;
      std::string line;
      while (std::getline(in, line)) {
        tail.push_back(line);
        if (tail.size() > 20) tail.pop_front();
      }
      absl::StrAppend(&out, "---- ", path, "\n", absl::StrJoin(tail, "\n"),
                      "\n");
    }
    return out;
  }

 private:
  std::string root_;
  std::string prefix_;
  int port_ = 0;
  std::vector<std::string> args_;
  int runs_ = 0;
  std::unique_ptr<ServiceProcess> process_;
  std::shared_ptr<grpc::Channel> channel_;
};

// One event of the log, where it is and what it says.
struct Written {
  int32_t partition = 0;
  int64_t offset = 0;
  std::string aggregate;
  uint64_t seq = 0;
  absl::Time recorded_at;
  std::string type;
  std::string corrected_to;  // LotCorrected's new value
};

std::string Describe(const Written& w) {
  return absl::StrCat(w.partition, "/", w.offset, " ", w.aggregate, " seq ",
                      w.seq, " ", w.type, " recorded ",
                      absl::FormatTime(w.recorded_at));
}

struct LogContents {
  uint64_t records = 0;
  std::map<std::string, std::vector<Written>> by_request;
  // Per aggregate, its events in log order (one aggregate, one partition).
  std::map<std::string, std::vector<Written>> by_aggregate;
  // Records whose seq or prev_hash does not follow the aggregate's last
  // record, or that do not decode.
  std::vector<std::string> chain_breaks;
  // ChainVerifier's verdict (stops at the first break).
  std::string verifier_break;
};

// Reads every partition of `topic` to its end.
absl::StatusOr<LogContents> ReadTopic(eventlog::EventLog& log,
                                      const std::string& topic) {
  LogContents out;
  absl::StatusOr<int32_t> partitions = log.PartitionCount(topic);
  if (!partitions.ok()) return partitions.status();
  eventlog::ChainVerifier verifier;
  std::map<std::string, eventlog::ChainHead> heads;
  for (int32_t p = 0; p < *partitions; ++p) {
    const eventlog::TopicPartition tp{topic, p};
    absl::StatusOr<int64_t> end = log.EndOffset(topic, p);
    if (!end.ok()) return end.status();
    absl::StatusOr<std::unique_ptr<eventlog::LogReader>> reader =
        log.OpenReader({{tp, 0}});
    if (!reader.ok()) return reader.status();
    int64_t next = 0;
    for (int idle = 0; next < *end;) {
      absl::StatusOr<eventlog::PollResult> polled =
          (*reader)->Poll(1024, absl::Milliseconds(500));
      if (!polled.ok()) return polled.status();
      for (const eventlog::Record& r : polled->records) {
        ++out.records;
        if (!verifier.Add(r) && out.verifier_break.empty()) {
          const auto& b = *verifier.first_break();
          out.verifier_break =
              absl::StrCat(b.topic, "/", b.partition, " offset ", b.offset,
                           " (", b.aggregate_id, "): ", b.what);
        }
        absl::StatusOr<v1::EventRecord> rec = eventlog::DecodeRecord(r.value);
        if (!rec.ok()) {
          out.chain_breaks.push_back(absl::StrCat(
              p, "/", r.offset, " ", r.key, ": ", rec.status().message()));
          continue;
        }
        eventlog::ChainHead& head = heads[r.key];
        if (rec->seq() != head.seq + 1 || rec->prev_hash() != head.hash) {
          out.chain_breaks.push_back(absl::StrCat(
              p, "/", r.offset, " ", r.key, ": seq ", rec->seq(), " after seq ",
              head.seq,
              rec->prev_hash() == head.hash ? "" : ", prev_hash differs"));
        }
        head.seq = rec->seq();
        head.hash = rec->hash();
        absl::StatusOr<v1::Event> event = eventlog::DecodeEvent(*rec);
        if (!event.ok()) {
          out.chain_breaks.push_back(absl::StrCat(
              p, "/", r.offset, " ", r.key, ": ", event.status().message()));
          continue;
        }
        Written w;
        w.partition = p;
        w.offset = r.offset;
        w.aggregate = event->aggregate_id();
        w.seq = rec->seq();
        w.recorded_at = FromTimestamp(event->recorded_at());
        w.type = eventlog::EventType(*event);
        if (event->has_lot_corrected()) {
          w.corrected_to = event->lot_corrected().new_value();
        }
        out.by_request[event->request_id()].push_back(w);
        out.by_aggregate[w.aggregate].push_back(std::move(w));
      }
      const int64_t advanced = polled->next_offsets[tp];
      if (advanced == next && ++idle > 60) {
        return absl::UnavailableError(absl::StrCat(
            "reading ", topic, "/", p, " stalled at offset ", next));
      }
      next = advanced;
    }
  }
  return out;
}

class UnsettledAppendKillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = ::testing::TempDir() + "/unsettled-kill-" + NewUuidV7(absl::Now());
    std::filesystem::create_directories(root_);
    broker_ = std::make_unique<faults::OwnBroker>(root_ + "/kafka");
    bootstrap_ = broker_->Start();
    ASSERT_FALSE(bootstrap_.empty());
    const pid_t pid = BrokerFreezer::ReadPid(root_ + "/kafka");
    ASSERT_GT(pid, 0);
    freezer_ = std::make_unique<BrokerFreezer>(pid);
    service_ = std::make_unique<LotsService>(root_, bootstrap_);
    ASSERT_TRUE(service_->Start());
    lots_ = v1::LotsService::NewStub(service_->channel());
    std::printf("unsettled-kill: broker %s (pid %d), topic prefix %s, dir %s\n",
                bootstrap_.c_str(), static_cast<int>(pid),
                service_->prefix().c_str(), root_.c_str());
    std::fflush(stdout);
  }

  void TearDown() override {
    if (HasFailure() && service_ != nullptr) {
      std::printf("unsettled-kill: service logs (kept in %s):\n%s\n",
                  root_.c_str(), service_->Tails().c_str());
    }
    // The service before the broker, the broker thawed before it stops.
    service_.reset();
    freezer_.reset();
    broker_.reset();
    if (!HasFailure()) std::filesystem::remove_all(root_);
  }

  // The product and kBaseLots lots that CorrectLot changes.
  void SetUpMasterData() {
    v1::DefineProductRequest def;
    def.set_request_id(NewUuidV7(absl::Now()));
    def.mutable_product()->set_item(kDevice);
    def.mutable_product()->set_name("Sterile catheter 12Fr");
    def.mutable_product()->set_uom("EA");
    def.mutable_product()->set_kind(v1::ITEM_KIND_FINISHED_DEVICE);
    def.mutable_product()->mutable_policy()->set_shelf_life_days(730);
    v1::DefineProductResponse defined;
    grpc::Status s = lots_->DefineProduct(
        BearerContext("tok-admin", absl::Seconds(30)).get(), def, &defined);
    ASSERT_TRUE(s.ok()) << s.error_message();
    tokens_.Add(defined.token());
    for (int i = 0; i < kBaseLots; ++i) {
      Command c = CreateCommand(BaseLotNumber(i), -1);
      UntilAcknowledged(*lots_, c, tokens_);
      ASSERT_TRUE(c.acked) << c.Describe() << ": "
                           << absl::StrJoin(c.unexpected, "; ");
      commands_.push_back(std::move(c));
    }
  }

  // A client thread of iteration `it`: CreateLot and CorrectLot in turn,
  // each sent once, until `stop` (or kMaxPerClient).
  void Client(int it, int client, const std::atomic<bool>& stop,
              std::atomic<int>& acked, std::atomic<int>& unknown,
              std::vector<Command>& out) {
    for (int n = 0; n < kMaxPerClient && !stop; ++n) {
      Command c =
          n % 2 == 0
              ? CreateCommand(absl::StrCat("I", it, "C", client, "N", n), it)
              : CorrectCommand((n / 2 + client) % kBaseLots,
                               absl::StrCat("site-", it, "-", client, "-", n),
                               it);
      c.first_sent = absl::Now();
      Note(c, Send(*lots_, c, kCallDeadline, tokens_));
      if (c.acked) ++acked;
      if (c.unknown) ++unknown;
      out.push_back(std::move(c));
      absl::SleepFor(kPacing);
    }
  }

  std::string root_;
  std::string bootstrap_;
  std::unique_ptr<faults::OwnBroker> broker_;
  std::unique_ptr<BrokerFreezer> freezer_;
  std::unique_ptr<LotsService> service_;
  std::unique_ptr<v1::LotsService::Stub> lots_;
  TokenSet tokens_;
  std::vector<Command> commands_;
};

TEST_F(UnsettledAppendKillTest, WriterKilledMidAppendLosesAndDoublesNothing) {
  ASSERT_NO_FATAL_FAILURE(SetUpMasterData());
  std::mt19937 rng(static_cast<uint32_t>(absl::ToUnixNanos(absl::Now())));

  // 1. Iterations: load, freeze, kill, thaw, restart, send again.
  for (int it = 0; it < Iterations(); ++it) {
    const Variant variant = static_cast<Variant>(it % kVariants);
    const bool freeze = variant != Variant::kKillUnderLoad;
    std::atomic<bool> stop{false};
    std::atomic<int> acked{0}, unknown{0};
    std::vector<std::vector<Command>> per_client(kClients);
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
      clients.emplace_back(
          [&, c] { Client(it, c, stop, acked, unknown, per_client[c]); });
    }
    const bool loaded =
        WaitUntil([&] { return acked >= kAckedBeforeFreeze; }, kLoadBound);
    // A random moment within the stream of commits.
    absl::SleepFor(
        absl::Milliseconds(std::uniform_int_distribution<int>(0, 100)(rng)));
    const bool frozen = !freeze || (loaded && freezer_->Freeze());
    const absl::Time frozen_at = absl::Now();
    const bool timed_out =
        !freeze ||
        (frozen && WaitUntil(
                       [&] {
                         return unknown > 0 &&
                                absl::Now() - frozen_at >= kFrozenAtLeast;
                       },
                       kFrozenBound));
    int thawed_before_kill_ms = -1;
    stop = true;
    if (variant == Variant::kThawThenKill) {
      freezer_->Thaw();
      thawed_before_kill_ms =
          std::uniform_int_distribution<int>(0, kThawedBeforeKillMaxMs)(rng);
      absl::SleepFor(absl::Milliseconds(thawed_before_kill_ms));
    }
    const absl::Time killed_at = absl::Now();
    service_->Kill();
    const absl::Time restart_from = absl::Now();
    if (variant == Variant::kRestartWhileFrozen) {
      service_->Launch();
      absl::SleepFor(kFrozenAfterRestart);
    }
    const bool thawed = freezer_->Thaw();
    for (std::thread& t : clients) t.join();
    ASSERT_TRUE(loaded) << "iteration " << it << ": fewer than "
                        << kAckedBeforeFreeze << " commands acknowledged in "
                        << kLoadBound;
    ASSERT_TRUE(frozen);
    ASSERT_TRUE(timed_out) << "iteration " << it
                           << ": no call timed out while the broker was "
                              "frozen";
    ASSERT_TRUE(thawed);

    if (variant == Variant::kRestartWhileFrozen) {
      ASSERT_TRUE(service_->AwaitUp()) << "restart after iteration " << it;
    } else {
      ASSERT_TRUE(service_->Start()) << "restart after iteration " << it;
    }
    const absl::Duration restart_took = absl::Now() - restart_from;

    int sent = 0, acked_first = 0, unknown_first = 0, deadline_first = 0;
    for (auto& list : per_client) {
      for (Command& c : list) {
        ++sent;
        if (c.acked) ++acked_first;
        if (c.unknown) {
          ++unknown_first;
          if (c.first_code == grpc::StatusCode::DEADLINE_EXCEEDED) {
            ++deadline_first;
          }
          c.killed_at = killed_at;
        }
        commands_.push_back(std::move(c));
      }
    }
    // Every unknown outcome so far, the same request again.
    const absl::Time retry_from = absl::Now();
    int retried = 0, failed = 0;
    for (Command& c : commands_) {
      if (c.acked || !c.unexpected.empty()) continue;
      ++retried;
      UntilAcknowledged(*lots_, c, tokens_);
      if (!c.acked) ++failed;
    }
    std::printf(
        "unsettled-kill: iteration %d (%s): %d commands sent, %d "
        "acknowledged, %d unknown (%d UNAVAILABLE, %d DEADLINE_EXCEEDED); "
        "restart "
        "took %.1f s; %d sent again, %d acknowledged then, %d not within "
        "%.0f s (retries took %.1f s)\n",
        it + 1, VariantName(variant, thawed_before_kill_ms).c_str(), sent,
        acked_first, unknown_first, unknown_first - deadline_first,
        deadline_first, absl::ToDoubleSeconds(restart_took), retried,
        retried - failed, failed, absl::ToDoubleSeconds(kRetryBound),
        absl::ToDoubleSeconds(absl::Now() - retry_from));
    std::fflush(stdout);
  }

  // 2. The service still answers commands after the last restart.
  {
    const int last = Iterations();
    for (Command c : {CreateCommand(absl::StrCat("I", last, "END"), last),
                      CorrectCommand(0, "site-final", last)}) {
      UntilAcknowledged(*lots_, c, tokens_);
      EXPECT_TRUE(c.acked) << "after the last restart: " << c.Describe() << ": "
                           << absl::StrJoin(c.unexpected, "; ");
      commands_.push_back(std::move(c));
    }
  }

  // 3. A request sent once more is answered from its first outcome.
  int resent = 0;
  for (size_t i = 0; i < commands_.size(); ++i) {
    Command& c = commands_[i];
    if (!c.acked || (!c.unknown && i % 5 != 0)) continue;
    ++resent;
    const grpc::Status s = Send(*lots_, c, absl::Seconds(30), tokens_);
    EXPECT_TRUE(s.ok()) << "sent once more: " << c.Describe() << ": "
                        << s.error_code() << " " << s.error_message();
  }

  // 4. The log, read-only.
  eventlog::KafkaOptions k;
  k.bootstrap_servers = bootstrap_;
  k.read_only = true;
  absl::StatusOr<std::unique_ptr<eventlog::EventLog>> log =
      eventlog::KafkaEventLog::Create(k);
  ASSERT_TRUE(log.ok()) << log.status();
  const std::string topic = service_->prefix() + "lotledger.lots.v1";
  absl::StatusOr<LogContents> contents = ReadTopic(**log, topic);
  ASSERT_TRUE(contents.ok()) << contents.status();
  absl::StatusOr<audit::LogVerification> verified =
      audit::VerifyLog(**log, service_->prefix(), {});
  ASSERT_TRUE(verified.ok()) << verified.status();

  int acked = 0, unknown = 0, unknown_acked = 0, landed_before_kill = 0;
  int lost = 0, doubled = 0, not_acked = 0, unexpected = 0;
  // Per iteration: unknown outcomes, and those the killed writer wrote.
  std::map<int, std::pair<int, int>> unknown_per_iteration;
  std::vector<std::string> findings;
  for (const Command& c : commands_) {
    if (c.acked) ++acked;
    if (c.unknown) ++unknown;
    if (c.unknown && c.acked) ++unknown_acked;
    if (!c.acked) {
      ++not_acked;
      findings.push_back(absl::StrCat("not acknowledged: ", c.Describe()));
    }
    if (!c.unexpected.empty()) {
      ++unexpected;
      findings.push_back(absl::StrCat("unexpected answer: ", c.Describe(), ": ",
                                      absl::StrJoin(c.unexpected, "; ")));
    }
    const auto it = contents->by_request.find(c.request_id());
    const std::vector<Written> none;
    const std::vector<Written>& written =
        it == contents->by_request.end() ? none : it->second;
    if (c.acked && written.empty()) {
      ++lost;
      findings.push_back(
          absl::StrCat("LOST: ", c.Describe(), ", first answer code ",
                       static_cast<int>(c.first_code), " ", c.first_message,
                       ", ", c.attempts, " attempts"));
    }
    if (written.size() > 1) {
      ++doubled;
      std::vector<std::string> where;
      for (const Written& w : written) where.push_back(Describe(w));
      findings.push_back(absl::StrCat(
          "DOUBLED: ", c.Describe(), " written ", written.size(),
          " times: ", absl::StrJoin(where, "; "), "; first answer code ",
          static_cast<int>(c.first_code), " ", c.first_message,
          absl::StrCat(", killed at ", absl::FormatTime(c.killed_at)), ", ",
          c.attempts, " attempts"));
    }
    if (c.unknown && c.killed_at != absl::InfiniteFuture() &&
        !written.empty() && written.front().recorded_at < c.killed_at) {
      ++landed_before_kill;  // committed, although its client heard nothing
      ++unknown_per_iteration[c.iteration].second;
    }
    if (c.unknown) ++unknown_per_iteration[c.iteration].first;
    for (const Written& w : written) {
      if (w.aggregate != c.lot_id) {
        findings.push_back(absl::StrCat("on another aggregate: ", c.Describe(),
                                        ": ", Describe(w)));
      }
    }
  }
  std::vector<std::string> broken_topics;
  for (const audit::TopicVerification& t : verified->topics) {
    if (t.first_break.has_value()) {
      broken_topics.push_back(absl::StrCat(
          t.topic, " at ", t.first_break->partition, "/", t.first_break->offset,
          " (", t.first_break->aggregate_id, "): ", t.first_break->what));
    }
  }
  std::printf(
      "unsettled-kill: %d iterations, %d service runs: %zu commands, %d "
      "acknowledged, %d unknown then sent again (%d acknowledged then, %d "
      "written by the killed writer before the kill), %d sent once more; "
      "log %s: %llu records; lost %d, doubled %d, chain breaks %zu (audit "
      "verify: %zu topics broken)\n",
      Iterations(), service_->runs(), commands_.size(), acked, unknown,
      unknown_acked, landed_before_kill, resent, topic.c_str(),
      static_cast<unsigned long long>(contents->records), lost, doubled,
      contents->chain_breaks.size(), broken_topics.size());
  for (const auto& [it, counts] : unknown_per_iteration) {
    std::printf(
        "unsettled-kill: iteration %d: %d unknown outcomes, %d of them "
        "written by the killed writer (committed, its client heard "
        "nothing)\n",
        it + 1, counts.first, counts.second);
  }
  for (const std::string& f : findings) {
    std::printf("unsettled-kill: %s\n", f.c_str());
  }
  for (const std::string& b : contents->chain_breaks) {
    std::printf("unsettled-kill: chain break: %s\n", b.c_str());
  }
  for (const std::string& b : broken_topics) {
    std::printf("unsettled-kill: audit verify: %s\n", b.c_str());
  }
  std::fflush(stdout);
  EXPECT_EQ(not_acked, 0);
  EXPECT_EQ(unexpected, 0);
  EXPECT_EQ(lost, 0);
  EXPECT_EQ(doubled, 0);
  EXPECT_TRUE(contents->chain_breaks.empty());
  EXPECT_EQ(contents->verifier_break, "");
  EXPECT_TRUE(verified->ok()) << absl::StrJoin(broken_topics, "; ");
  EXPECT_GT(unknown, 0) << "no append was left unsettled: the test tested "
                           "nothing";

  // 5. The projection agrees with the log: each base lot's corrections in
  // log order, every created lot.
  const v1::ConsistencyToken after = tokens_.Get();
  for (int i = 0; i < kBaseLots; ++i) {
    v1::GetLotRequest get;
    get.set_lot_id(BaseLotId(i));
    *get.mutable_after() = after;
    v1::GetLotResponse got;
    const grpc::Status s = lots_->GetLot(
        BearerContext("tok-auditor", absl::Seconds(60)).get(), get, &got);
    ASSERT_TRUE(s.ok()) << get.lot_id() << ": " << s.error_message();
    std::vector<std::string> in_log;
    for (const Written& w : contents->by_aggregate[BaseLotId(i)]) {
      if (!w.corrected_to.empty()) in_log.push_back(w.corrected_to);
    }
    std::vector<std::string> projected;
    for (const v1::LotCorrection& c : got.lot().corrections()) {
      projected.push_back(c.correction().new_value());
    }
    EXPECT_EQ(projected, in_log) << get.lot_id();
    if (!in_log.empty()) {
      EXPECT_EQ(got.lot().site(), in_log.back()) << get.lot_id();
    }
  }
  for (const Command& c : commands_) {
    if (!c.create || !c.acked) continue;
    v1::GetLotRequest get;
    get.set_lot_id(c.lot_id);
    *get.mutable_after() = after;
    v1::GetLotResponse got;
    const grpc::Status s = lots_->GetLot(
        BearerContext("tok-auditor", absl::Seconds(30)).get(), get, &got);
    EXPECT_TRUE(s.ok()) << c.Describe() << ": " << s.error_message();
  }

  // 6. A clean stop at the end.
  EXPECT_EQ(service_->Terminate(), 0) << "lots-service on SIGTERM";
}

}  // namespace
}  // namespace lotledger::testing
