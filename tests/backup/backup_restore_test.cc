// Online backup and verified restore of lotledgerd's embedded log
// (docs/backup.md), with real processes: lotledgerd signs chain
// checkpoints, a client keeps creating lots, and an admin takes backups
// with AdminService.Backup while it does. What operators rely on:
//   (a) the server is destroyed; `lotledgerd --restore-from` on a fresh
//       data dir serves every lot acknowledged before the backup began,
//       answering GetLot as the original did, and its log's chains and
//       signed checkpoints verify;
//   (b) a backup that ends before a later signed checkpoint (its tail is
//       missing) is refused with --require-checkpoint, naming the topic and
//       partition, and leaves no log behind;
//   (c) a second backup into the same directory shares the first one's
//       files: the directory grows by less than the backup's size.
// No timing is asserted; every wait is bounded.
#include <sys/wait.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "libs/audit/checkpoint.h"
#include "libs/audit/log_verify.h"
#include "libs/eventlog/embedded/embedded_event_log.h"
#include "lotledger/v1/admin.grpc.pb.h"
#include "lotledger/v1/lots.grpc.pb.h"
#include "tests/support/service_cluster.h"
#include "tests/support/stack.h"

#ifndef LOTLEDGERD_PATH
#error "LOTLEDGERD_PATH must be defined (tests/CMakeLists.txt)"
#endif

namespace lotledger::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kDevice[] = "09506000134352";
constexpr char kLotsTopic[] = "lotledger.lots.v1";

std::shared_ptr<grpc::Channel> Connect(const std::string& target) {
  return grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class BackupRestoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = ::testing::TempDir() + "/backup-" + NewRequestId();
    fs::create_directories(root_);
    tokens_ = root_ + "/tokens";
    std::ofstream(tokens_) << "tok-admin admin admin\n"
                              "tok-operator operator operator\n";
    absl::StatusOr<std::pair<std::string, std::string>> pems =
        audit::GenerateEd25519Pem();
    ASSERT_TRUE(pems.ok()) << pems.status();
    private_key_ = root_ + "/checkpoint.key";
    public_key_ = root_ + "/checkpoint.pub";
    std::ofstream(private_key_) << pems->first;
    std::ofstream(public_key_) << pems->second;
    backups_ = root_ + "/backups";
  }

  void TearDown() override {
    if (!HasFailure()) fs::remove_all(root_);
  }

  // lotledgerd on `data` with `extra` flags (restore flags).
  std::unique_ptr<ServiceProcess> Lotledgerd(
      const std::string& data, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {
        "--listen=127.0.0.1:0",        "--log=embedded",
        "--data-dir=" + data,          "--dev-tokens=" + tokens_,
        "--insecure-dev=true",         "--partitions=3",
        "--shutdown-grace-seconds=5",  "--checkpoint-key=" + private_key_,
        "--checkpoint-every-records=5"};
    args.insert(args.end(), extra.begin(), extra.end());
    return std::make_unique<ServiceProcess>(
        LOTLEDGERD_PATH, args,
        absl::StrCat(root_, "/lotledgerd-", ++runs_, ".log"));
  }

  // Backs up through AdminService.Backup; the DONE message.
  v1::BackupProgress Backup(const std::string& target) {
    auto admin = v1::AdminService::NewStub(Connect(target));
    v1::BackupRequest req;
    req.set_request_id(NewRequestId());
    req.set_out_dir(backups_);
    auto ctx = BearerContext("tok-admin", absl::Seconds(300));
    auto reader = admin->Backup(ctx.get(), req);
    v1::BackupProgress p;
    v1::BackupProgress last;
    std::set<int> phases;
    while (reader->Read(&p)) {
      phases.insert(p.phase());
      last = p;
    }
    grpc::Status s = reader->Finish();
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(last.phase(), v1::BackupProgress::PHASE_DONE);
    EXPECT_TRUE(phases.contains(v1::BackupProgress::PHASE_CHECKPOINT));
    EXPECT_TRUE(phases.contains(v1::BackupProgress::PHASE_COPYING));
    return last;
  }

  std::string root_, tokens_, private_key_, public_key_, backups_;
  int runs_ = 0;
};

// Creates lots until stopped; remembers each acknowledged one (in order).
class Writer {
 public:
  explicit Writer(const std::string& target)
      : lots_(v1::LotsService::NewStub(Connect(target))) {
    thread_ = std::thread([this] { Run(); });
  }
  ~Writer() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::vector<std::string> Acked() {
    absl::MutexLock l(&mu_);
    return acked_;
  }
  // Waits (bounded) until at least `n` lots are acknowledged.
  bool AwaitAcked(size_t n) {
    absl::MutexLock l(&mu_);
    auto enough = [&] { return acked_.size() >= n || failed_; };
    mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Minutes(2));
    return acked_.size() >= n;
  }

 private:
  void Run() {
    const absl::CivilDay made =
        absl::ToCivilDay(absl::Now(), absl::UTCTimeZone()) - 30;
    for (int i = 0; !stop_; ++i) {
      v1::CreateLotRequest req;
      req.set_request_id(NewRequestId());
      req.set_item(kDevice);
      req.set_lot_number(absl::StrCat("B", i));
      req.mutable_manufactured_on()->set_year(
          static_cast<int32_t>(made.year()));
      req.mutable_manufactured_on()->set_month(made.month());
      req.mutable_manufactured_on()->set_day(made.day());
      req.mutable_quantity()->set_amount(100);
      req.mutable_quantity()->set_uom("EA");
      v1::CreateLotResponse resp;
      grpc::Status s =
          lots_->CreateLot(BearerContext("tok-operator").get(), req, &resp);
      absl::MutexLock l(&mu_);
      if (!s.ok()) {
        ADD_FAILURE() << "CreateLot: " << s.error_message();
        failed_ = true;
        return;
      }
      acked_.push_back(resp.lot().lot_id());
    }
  }

  std::unique_ptr<v1::LotsService::Stub> lots_;
  std::atomic<bool> stop_{false};
  absl::Mutex mu_;
  std::vector<std::string> acked_ ABSL_GUARDED_BY(mu_);
  bool failed_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

void DefineProduct(const std::string& target) {
  auto lots = v1::LotsService::NewStub(Connect(target));
  v1::DefineProductRequest def;
  def.set_request_id(NewRequestId());
  def.mutable_product()->set_item(kDevice);
  def.mutable_product()->set_name("catheter");
  def.mutable_product()->set_uom("EA");
  def.mutable_product()->set_kind(v1::ITEM_KIND_FINISHED_DEVICE);
  def.mutable_product()->mutable_policy()->set_shelf_life_days(730);
  v1::DefineProductResponse defined;
  grpc::Status s =
      lots->DefineProduct(BearerContext("tok-admin").get(), def, &defined);
  ASSERT_TRUE(s.ok()) << s.error_message();
}

// GetLot of each lot on `target`, waiting (bounded) for lots a projection
// still replays.
std::map<std::string, std::string> GetLots(
    const std::string& target, const std::vector<std::string>& ids) {
  auto lots = v1::LotsService::NewStub(Connect(target));
  std::map<std::string, std::string> out;
  const absl::Time deadline = absl::Now() + absl::Minutes(2);
  for (const std::string& id : ids) {
    v1::GetLotRequest req;
    req.set_lot_id(id);
    v1::GetLotResponse resp;
    grpc::Status s;
    do {
      s = lots->GetLot(BearerContext("tok-operator").get(), req, &resp);
      if (s.error_code() != grpc::StatusCode::NOT_FOUND) break;
      absl::SleepFor(absl::Milliseconds(50));
    } while (absl::Now() < deadline);
    EXPECT_TRUE(s.ok()) << id << ": " << s.error_message();
    out[id] = resp.lot().SerializeAsString();
  }
  return out;
}

TEST_F(BackupRestoreTest, OnlineBackupRestoresAndCutTailIsRefused) {
  const std::string data = root_ + "/data";
  auto daemon = Lotledgerd(data);
  ASSERT_TRUE(daemon->AwaitServing());
  const std::string target = daemon->target();
  ASSERT_NO_FATAL_FAILURE(DefineProduct(target));

  // Backup 1 while the writer keeps writing.
  Writer writer(target);
  ASSERT_TRUE(writer.AwaitAcked(20));
  const std::vector<std::string> before = writer.Acked();
  const v1::BackupProgress first = Backup(target);
  ASSERT_TRUE(writer.AwaitAcked(before.size() + 30));
  writer.Stop();
  const std::vector<std::string> all = writer.Acked();
  EXPECT_EQ(first.backup_id(), 1u);
  EXPECT_TRUE(first.chains_intact()) << first.first_break();
  EXPECT_GT(first.records(), static_cast<int64_t>(before.size()));
  EXPECT_TRUE(fs::exists(first.manifest_path()));
  EXPECT_NE(ReadFile(first.manifest_path()).find(kLotsTopic),
            std::string::npos);
  int64_t lots_end = 0;
  for (const v1::BackupPartition& p : first.partitions()) {
    if (p.topic() == kLotsTopic) lots_end += p.end_offset();
  }
  EXPECT_GE(lots_end, static_cast<int64_t>(before.size()));
  const std::map<std::string, std::string> original = GetLots(target, before);

  // A clean stop covers every record with a checkpoint; backup 2, after
  // a restart, holds them all (the later checkpoint backup 1 lacks).
  ASSERT_EQ(daemon->Terminate(), 0);
  daemon = Lotledgerd(data);
  ASSERT_TRUE(daemon->AwaitServing());
  const v1::BackupProgress second = Backup(daemon->target());
  EXPECT_EQ(second.backup_id(), 2u);
  EXPECT_TRUE(second.chains_intact()) << second.first_break();
  EXPECT_EQ(second.uncovered_records(), 0);
  EXPECT_GT(second.checkpoints(), first.checkpoints());
  // (c) Incremental: backup 2 needs more than backup 1, but the
  // directory grew by less than backup 2's size.
  EXPECT_GT(second.size_bytes(), first.size_bytes());
  EXPECT_LT(second.added_bytes(), second.size_bytes());
  EXPECT_GT(second.added_bytes(), 0);

  // The server is destroyed.
  daemon->Kill();
  daemon.reset();
  fs::remove_all(data);

  // (b) Backup 1 against backup 2's checkpoints: its tail is missing.
  const std::string cut = root_ + "/cut";
  {
    auto refused =
        Lotledgerd(cut, {"--restore-from=" + backups_, "--restore-backup-id=1",
                         "--require-checkpoint=" + second.checkpoints_path(),
                         "--restore-public-key=" + public_key_});
    const int status = refused->Wait(absl::Minutes(2));
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2) << status;
    const std::string log = refused->LogText();
    EXPECT_NE(log.find("restored log refused"), std::string::npos) << log;
    EXPECT_NE(log.find(kLotsTopic), std::string::npos) << log;
    EXPECT_NE(log.find("its tail was removed"), std::string::npos) << log;
    EXPECT_FALSE(fs::exists(cut + "/log")) << "a refused restore left a log";
  }

  // (a) Backup 1 alone restores: every lot acknowledged before it began,
  // answered as the original answered.
  const std::string restored = root_ + "/restored";
  {
    auto daemon1 = Lotledgerd(
        restored, {"--restore-from=" + backups_, "--restore-backup-id=1",
                   "--require-checkpoint=" + first.checkpoints_path(),
                   "--restore-public-key=" + public_key_});
    ASSERT_TRUE(daemon1->AwaitServing());
    EXPECT_EQ(GetLots(daemon1->target(), before), original);
    ASSERT_EQ(daemon1->Terminate(), 0);
  }
  // Its log verifies offline: chains and signed checkpoints.
  {
    absl::StatusOr<std::unique_ptr<eventlog::EventLog>> log =
        eventlog::OpenEmbeddedEventLog({.path = restored + "/log"});
    ASSERT_TRUE(log.ok()) << log.status();
    absl::StatusOr<std::unique_ptr<audit::PublicKeys>> keys =
        audit::PublicKeys::FromPemFiles({public_key_});
    ASSERT_TRUE(keys.ok()) << keys.status();
    audit::VerifyOptions options;
    options.keys = keys->get();
    absl::StatusOr<audit::LogVerification> v =
        audit::VerifyLog(**log, "", options);
    ASSERT_TRUE(v.ok()) << v.status();
    EXPECT_TRUE(v->ok());
    uint64_t signatures = 0;
    for (const auto& t : v->topics) signatures += t.signatures_checked;
    EXPECT_GT(signatures, 0u);
  }

  // The latest backup, with its own checkpoints required: every lot.
  {
    auto daemon2 =
        Lotledgerd(root_ + "/latest",
                   {"--restore-from=" + backups_,
                    "--require-checkpoint=" + second.checkpoints_path()});
    ASSERT_TRUE(daemon2->AwaitServing());
    const std::map<std::string, std::string> latest =
        GetLots(daemon2->target(), all);
    EXPECT_EQ(latest.size(), all.size());
    ASSERT_EQ(daemon2->Terminate(), 0);
  }
}

TEST_F(BackupRestoreTest, RestoreRefusesADataDirThatHoldsALog) {
  const std::string data = root_ + "/data";
  {
    auto daemon = Lotledgerd(data);
    ASSERT_TRUE(daemon->AwaitServing());
    ASSERT_NO_FATAL_FAILURE(DefineProduct(daemon->target()));
    Backup(daemon->target());
    ASSERT_EQ(daemon->Terminate(), 0);
  }
  auto again = Lotledgerd(data, {"--restore-from=" + backups_});
  const int status = again->Wait(absl::Minutes(2));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2) << status;
  EXPECT_NE(again->LogText().find("already holds a log"), std::string::npos)
      << again->LogText();
}

}  // namespace
}  // namespace lotledger::testing
