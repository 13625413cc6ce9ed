// Disk full on the embedded log, on a real full filesystem: a 1 MiB tmpfs
// mounted for the test (needs root, as ./tools/test runs in CI; without it
// the test fails, it never skips). Appends fail cleanly with
// RESOURCE_EXHAUSTED, nothing of a failed append is ever readable (also
// after a restart), and appends work again once space returns (the tmpfs
// is remounted larger), without reopening the log.
#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "libs/eventlog/embedded/embedded_event_log.h"
#include "tests/support/stack.h"

namespace lotledger::eventlog {
namespace {

constexpr char kTopic[] = "faults.disk.v1";

class DiskFullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mount_ = ::testing::TempDir() + "/disk-full-" + testing::NewRequestId();
    std::filesystem::create_directories(mount_);
    ASSERT_EQ(mount("tmpfs", mount_.c_str(), "tmpfs", 0, "size=1m"), 0)
        << "mounting a 1 MiB tmpfs needs root (CI runs as root): "
        << std::strerror(errno);
    mounted_ = true;
  }
  void TearDown() override {
    log_.reset();
    if (mounted_) umount2(mount_.c_str(), MNT_DETACH);
    std::filesystem::remove_all(mount_);
  }

  void OpenLog() {
    log_.reset();
    auto log = OpenEmbeddedEventLog({.path = mount_ + "/log"});
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
    ASSERT_TRUE(log_->EnsureTopic(kTopic, 1).ok());
  }

  // Batch `n`: three records whose values name the batch.
  absl::Status AppendBatch(int n) {
    std::vector<OutgoingRecord> records;
    for (int i = 0; i < 3; ++i) {
      OutgoingRecord r;
      r.key = "lot-1";
      r.value = absl::StrCat("batch ", n, " record ", i, " ");
      r.value.resize(16 << 10, 'x');
      records.push_back(std::move(r));
    }
    return log_->Append(kTopic, std::move(records)).status();
  }

  // Every record in the log, checked to be exactly batches 0..batches-1.
  void ExpectExactlyBatches(int batches) {
    auto end = log_->EndOffset(kTopic, 0);
    ASSERT_TRUE(end.ok()) << end.status();
    EXPECT_EQ(*end, 3 * batches);
    auto reader = log_->OpenReader({{{kTopic, 0}, 0}});
    ASSERT_TRUE(reader.ok());
    int64_t seen = 0;
    while (seen < *end) {
      auto polled = (*reader)->Poll(100, absl::Seconds(5));
      ASSERT_TRUE(polled.ok()) << polled.status();
      ASSERT_FALSE(polled->records.empty()) << "stalled at " << seen;
      for (const Record& r : polled->records) {
        const std::string want =
            absl::StrCat("batch ", seen / 3, " record ", seen % 3, " ");
        EXPECT_EQ(r.value.substr(0, want.size()), want) << "offset " << seen;
        ++seen;
      }
    }
  }

  std::string mount_;
  bool mounted_ = false;
  std::unique_ptr<EventLog> log_;
};

TEST_F(DiskFullTest, AppendsFailCleanlyAndRecoverWhenSpaceReturns) {
  OpenLog();
  int acked = 0;
  absl::Status failed;
  for (; acked < 1000; ++acked) {
    failed = AppendBatch(acked);
    if (!failed.ok()) break;
  }
  ASSERT_FALSE(failed.ok()) << "1 MiB never filled up";
  EXPECT_TRUE(absl::IsResourceExhausted(failed)) << failed;
  // Still full: still a clean refusal, no hang, no crash.
  for (int i = 0; i < 3; ++i) {
    const absl::Status again = AppendBatch(acked);
    EXPECT_TRUE(absl::IsResourceExhausted(again)) << again;
  }
  ExpectExactlyBatches(acked);

  // Space returns (RocksDB wants a write buffer's worth, 64 MiB, free): the
  // same open log takes appends again. Until RocksDB has seen the space the
  // append is refused as before; the caller retries (bounded).
  ASSERT_EQ(mount("tmpfs", mount_.c_str(), "tmpfs", MS_REMOUNT, "size=256m"), 0)
      << std::strerror(errno);
  absl::Status resumed;
  for (int attempt = 0; attempt < 120; ++attempt) {
    resumed = AppendBatch(acked);
    if (resumed.ok()) break;
    ASSERT_TRUE(absl::IsResourceExhausted(resumed)) << resumed;
    absl::SleepFor(absl::Milliseconds(250));  // a client's retry backoff
  }
  ASSERT_TRUE(resumed.ok()) << resumed;
  ++acked;
  ExpectExactlyBatches(acked);

  // After a restart: the acknowledged batches, and nothing of the failed
  // ones.
  OpenLog();
  ExpectExactlyBatches(acked);
}

}  // namespace
}  // namespace lotledger::eventlog
