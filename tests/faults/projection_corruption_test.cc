// A damaged projection is found when its service starts and rebuilt from
// the log (issue 8, "Corruption"): bytes flipped in a table file (RocksDB's
// checksums), a value changed behind the service's back (the digest stored
// at the last clean close), each moved aside as <dir>.damaged-<time>, one
// log line, lotledger_projection_rebuilds_total, and a rebuilt projection
// equal to the one before (Digest). A clean restart rebuilds nothing.
// Real parts: the embedded RocksDB log, RocksDB projections, ServiceCore.
#include <rocksdb/db.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/command/projection_check.h"
#include "libs/command/service_core.h"
#include "libs/eventlog/embedded/embedded_event_log.h"
#include "libs/eventlog/record_codec.h"
#include "libs/metrics/metrics.h"

namespace lotledger::command {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kTopic[] = "faults.corrupt.v1";
constexpr int kLots = 3000;

// lotledger_projection_rebuilds_total{service="lots",reason=...} now.
double Rebuilds(const std::string& reason) {
  const std::string text = metrics::Default().Text();
  const std::regex line(
      absl::StrCat(R"(lotledger_projection_rebuilds_total\{reason=")", reason,
                   R"(",service="lots"\} ([0-9.e+]+))"));
  std::smatch m;
  if (!std::regex_search(text, m, line)) return 0;
  double v = 0;
  EXPECT_TRUE(absl::SimpleAtod(m[1].str(), &v));
  return v;
}

class ProjectionCorruptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/projection-corruption-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto log = eventlog::OpenEmbeddedEventLog({.path = dir_ + "/log"});
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
    ASSERT_TRUE(log_->EnsureTopic(kTopic, 1).ok());
    std::vector<eventlog::OutgoingRecord> batch;
    for (int i = 0; i < kLots; ++i) {
      const std::string lot = absl::StrCat("09506000134352:L", i);
      v1::Event e;
      e.set_event_id(absl::StrCat("ev-", i));
      e.set_aggregate_id(lot);
      e.set_request_id(absl::StrCat("req-", i));
      e.add_lot_ids(lot);
      e.mutable_lot_created()->set_lot_id(lot);
      eventlog::ChainHead head;
      batch.push_back(eventlog::ToOutgoing(e, eventlog::Seal(e, head), "test"));
      if (batch.size() == 500) {
        ASSERT_TRUE(log_->Append(kTopic, std::move(batch)).ok());
        batch.clear();
      }
    }
    // A projection caught up with the log, in table files, closed cleanly.
    StartService();
    ASSERT_TRUE(core_->store().Compact().ok());
    auto digest = core_->store().Digest();
    ASSERT_TRUE(digest.ok()) << digest.status();
    digest_ = *digest;
    core_.reset();
    ASSERT_TRUE(fs::exists(Projection() + "/" + kCleanCloseFile));
  }
  void TearDown() override { core_.reset(); }

  std::string Projection() const { return dir_ + "/projection"; }

  void StartService() {
    ServiceSpec spec;
    spec.name = "lots";
    spec.own_topic = kTopic;
    spec.column_families = {"lots"};
    spec.apply = [](const eventlog::Record&, const v1::Event& event,
                    projection::ProjectionStore::Batch& batch) {
      batch.Put("lots", event.aggregate_id(), event.request_id());
      return absl::OkStatus();
    };
    auto core = ServiceCore::Open(log_.get(), spec, Projection());
    ASSERT_TRUE(core.ok()) << core.status();
    core_ = *std::move(core);
    absl::StatusOr<int64_t> end = log_->EndOffset(kTopic, 0);
    ASSERT_TRUE(end.ok());
    ASSERT_TRUE(
        core_->projector()
            .WaitFor({{{kTopic, 0}, *end}}, absl::Now() + absl::Seconds(60))
            .ok());
  }

  // Starts the service with stderr captured; its log.
  std::string StartLogged() {
    ::testing::internal::CaptureStderr();
    StartService();
    return ::testing::internal::GetCapturedStderr();
  }

  std::vector<std::string> MovedAside() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_)) {
      const std::string name = e.path().filename().string();
      if (name.starts_with("projection.damaged-")) out.push_back(name);
    }
    return out;
  }

  // The rebuilt projection holds what the damaged one held before.
  void ExpectRebuiltAsBefore() {
    auto digest = core_->store().Digest();
    ASSERT_TRUE(digest.ok()) << digest.status();
    EXPECT_EQ(*digest, digest_);
    auto lot = core_->store().Get("lots", "09506000134352:L7");
    ASSERT_TRUE(lot.ok());
    EXPECT_EQ(lot->value_or(""), "req-7");
  }

  std::string dir_;
  std::unique_ptr<eventlog::EventLog> log_;
  std::unique_ptr<ServiceCore> core_;
  std::string digest_;
};

// Flips bytes in the first data block of the largest table file; its name.
std::string FlipTableBytes(const std::string& dir) {
  std::string sst;
  uintmax_t largest = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".sst" && e.file_size() > largest) {
      largest = e.file_size();
      sst = e.path().string();
    }
  }
  EXPECT_FALSE(sst.empty());
  std::fstream f(sst, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(64);
  f.write("\xde\xad\xbe\xef", 4);
  return sst;
}

TEST_F(ProjectionCorruptionTest, FlippedTableBytesAreFoundAndRebuilt) {
  const std::string sst = FlipTableBytes(Projection());
  const double before = Rebuilds("rocksdb");
  const std::string logged = StartLogged();
  EXPECT_THAT(logged, HasSubstr(R"("msg":"projection damaged; moved aside)"));
  EXPECT_THAT(logged, HasSubstr(R"("service":"lots","reason":"rocksdb")"));
  EXPECT_THAT(logged, HasSubstr(absl::StrCat(R"("directory":")", Projection(),
                                             R"(")")));
  EXPECT_EQ(Rebuilds("rocksdb"), before + 1);
  const std::vector<std::string> aside = MovedAside();
  ASSERT_EQ(aside.size(), 1u);
  EXPECT_TRUE(fs::exists(dir_ + "/" + aside[0] + "/" +
                         fs::path(sst).filename().string()))
      << "the damaged files are kept for an operator";
  ExpectRebuiltAsBefore();
}

TEST_F(ProjectionCorruptionTest, RebuiltProjectionBehindALinkIsMovedItself) {
  // As an online rebuild leaves it: projection -> projection.rebuild-1.
  fs::rename(Projection(), Projection() + ".rebuild-1");
  fs::create_directory_symlink("projection.rebuild-1", Projection());
  const std::string sst = FlipTableBytes(Projection() + ".rebuild-1");
  const std::string logged = StartLogged();
  EXPECT_THAT(logged, HasSubstr(R"("service":"lots","reason":"rocksdb")"));
  const std::vector<std::string> aside = MovedAside();
  ASSERT_EQ(aside.size(), 1u);
  const fs::path damaged = fs::path(dir_) / aside[0];
  EXPECT_FALSE(fs::is_symlink(damaged));
  EXPECT_TRUE(fs::exists(damaged / fs::path(sst).filename()));
  EXPECT_FALSE(fs::exists(Projection() + ".rebuild-1"));
  EXPECT_FALSE(fs::is_symlink(Projection()));
  ExpectRebuiltAsBefore();
}

TEST_F(ProjectionCorruptionTest, QuickCheckFindsFlippedBytesToo) {
  // quick: RocksDB's checks (every block's checksum) without the digest.
  setenv("LOTLEDGER_VERIFY_PROJECTION", "quick", 1);
  FlipTableBytes(Projection());
  const std::string logged = StartLogged();
  unsetenv("LOTLEDGER_VERIFY_PROJECTION");
  EXPECT_THAT(logged, HasSubstr(R"("service":"lots","reason":"rocksdb")"));
  EXPECT_EQ(MovedAside().size(), 1u);
  ExpectRebuiltAsBefore();
  // quick records no digest at close.
  core_.reset();
  EXPECT_FALSE(fs::exists(Projection() + "/" + kCleanCloseFile));
}

TEST_F(ProjectionCorruptionTest, ValueChangedBehindTheServiceIsFoundByDigest) {
  {
    // Through RocksDB itself: every checksum stays right.
    rocksdb::DBOptions options;
    std::vector<std::string> names;
    ASSERT_TRUE(
        rocksdb::DB::ListColumnFamilies(options, Projection(), &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const std::string& n : names) {
      descriptors.emplace_back(n, rocksdb::ColumnFamilyOptions());
    }
    rocksdb::DB* raw = nullptr;
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    ASSERT_TRUE(
        rocksdb::DB::Open(options, Projection(), descriptors, &handles, &raw)
            .ok());
    for (rocksdb::ColumnFamilyHandle* h : handles) {
      if (h->GetName() == "lots") {
        ASSERT_TRUE(
            raw->Put(rocksdb::WriteOptions(), h, "09506000134352:L7", "forged")
                .ok());
      }
      raw->DestroyColumnFamilyHandle(h);
    }
    ASSERT_TRUE(raw->Close().ok());
    delete raw;
  }
  const double before = Rebuilds("digest");
  const std::string logged = StartLogged();
  EXPECT_THAT(logged, HasSubstr(R"("service":"lots","reason":"digest")"));
  EXPECT_THAT(logged, HasSubstr("differ from the ones stored at its last "
                                "clean close"));
  EXPECT_EQ(Rebuilds("digest"), before + 1);
  EXPECT_EQ(MovedAside().size(), 1u);
  ExpectRebuiltAsBefore();
}

TEST_F(ProjectionCorruptionTest, CleanRestartRebuildsNothing) {
  const double before = Rebuilds("rocksdb") + Rebuilds("digest");
  const std::string logged = StartLogged();
  EXPECT_THAT(logged, Not(HasSubstr("projection damaged")));
  EXPECT_EQ(Rebuilds("rocksdb") + Rebuilds("digest"), before);
  EXPECT_TRUE(MovedAside().empty());
  // The record is gone while the service runs (the store changes now)...
  EXPECT_FALSE(fs::exists(Projection() + "/" + kCleanCloseFile));
  ExpectRebuiltAsBefore();
  // ...and is written again at the next clean close.
  core_.reset();
  EXPECT_TRUE(fs::exists(Projection() + "/" + kCleanCloseFile));
}

}  // namespace
}  // namespace lotledger::command
