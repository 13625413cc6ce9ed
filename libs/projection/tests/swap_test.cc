// ProjectionStore::SwapIn, the switch of a projection rebuild
// (libs/command/rebuild.h): the store keeps its identity and serves the
// new database; a read in flight finishes on the old one; the old one is
// closed when SwapIn returns.
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "libs/projection/projection_store.h"
#include "libs/projection/tests/synthetic_stream.h"

namespace lotledger::projection {
namespace {

std::unique_ptr<ProjectionStore> OpenWith(const std::string& path,
                                          const std::string& value, int n) {
  auto store = ProjectionStore::Open({.path = path, .column_families = {"s"}});
  EXPECT_TRUE(store.ok()) << store.status();
  ProjectionStore::Batch b = (*store)->NewBatch();
  for (int i = 0; i < n; ++i) b.Put("s", absl::StrCat("k", i), value);
  b.SetOffset({"t", 0}, n);
  EXPECT_TRUE((*store)->Commit(std::move(b)).ok());
  return *std::move(store);
}

TEST(ProjectionSwapTest, ServesTheNewDatabaseUnderTheSameObject) {
  const std::string dir = testing::MakeTempDir();
  std::unique_ptr<ProjectionStore> live = OpenWith(dir + "/a", "old", 10);
  std::unique_ptr<ProjectionStore> rebuilt = OpenWith(dir + "/b", "new", 20);
  const std::string rebuilt_digest = *rebuilt->Digest();

  live->SwapIn(*rebuilt);
  rebuilt.reset();  // an emptied store may only be destroyed

  EXPECT_EQ(live->Get("s", "k15")->value_or(""), "new");
  EXPECT_EQ(live->Offsets().at({"t", 0}), 20);
  EXPECT_EQ(*live->Digest(), rebuilt_digest);
  EXPECT_EQ(live->options().path, dir + "/b");
  ProjectionStore::Batch fresh = live->NewBatch();
  fresh.Put("s", "x", "y");
  EXPECT_TRUE(live->Commit(std::move(fresh)).ok());
  // The old database is closed: it opens again (RocksDB's lock is free).
  auto old =
      ProjectionStore::Open({.path = dir + "/a", .column_families = {"s"}});
  ASSERT_TRUE(old.ok()) << old.status();
  EXPECT_EQ((*old)->Get("s", "k1")->value_or(""), "old");
}

TEST(ProjectionSwapTest, AScanInFlightFinishesOnTheOldDatabase) {
  const std::string dir = testing::MakeTempDir();
  std::unique_ptr<ProjectionStore> live = OpenWith(dir + "/a", "old", 100);
  std::unique_ptr<ProjectionStore> rebuilt = OpenWith(dir + "/b", "new", 100);
  absl::Notification in_scan;
  absl::Notification go_on;
  std::vector<std::string> seen;
  std::thread reader([&] {
    absl::Status s = live->Scan("s", "", "", [&](auto, std::string_view v) {
      seen.emplace_back(v);
      if (!in_scan.HasBeenNotified()) {
        in_scan.Notify();
        go_on.WaitForNotification();
      }
      return true;
    });
    EXPECT_TRUE(s.ok()) << s;
  });
  in_scan.WaitForNotification();
  std::thread swapper([&] { live->SwapIn(*rebuilt); });
  // The swap waits for the scan; reads that start now may see either
  // database, never a closed one.
  EXPECT_TRUE(live->Get("s", "k5")->has_value());
  go_on.Notify();
  reader.join();
  swapper.join();
  ASSERT_EQ(seen.size(), 100u);
  for (const std::string& v : seen) EXPECT_EQ(v, "old");
  EXPECT_EQ(live->Get("s", "k5")->value_or(""), "new");
}

TEST(ProjectionSwapTest, DigestLaterPinsThePointAndKeepsTheOldDatabaseOpen) {
  const std::string dir = testing::MakeTempDir();
  std::unique_ptr<ProjectionStore> live = OpenWith(dir + "/a", "old", 10);
  std::unique_ptr<ProjectionStore> rebuilt = OpenWith(dir + "/b", "new", 10);
  const std::string before = *live->Digest();
  std::function<absl::StatusOr<std::string>()> pinned = live->DigestLater();
  absl::Notification closed;
  live->SwapIn(*rebuilt, &closed);
  EXPECT_NE(*live->Digest(), before);
  EXPECT_FALSE(closed.HasBeenNotified());  // `pinned` holds it open
  EXPECT_EQ(*pinned(), before);
  pinned = nullptr;
  EXPECT_TRUE(closed.HasBeenNotified());
}

}  // namespace
}  // namespace lotledger::projection
