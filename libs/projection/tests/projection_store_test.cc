#include "libs/projection/projection_store.h"

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/projection/tests/synthetic_stream.h"

namespace lotledger::projection {
namespace {

using ::testing::ElementsAre;
using testing::MakeTempDir;
using ::testing::Optional;
using ::testing::Pair;

class ProjectionStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = MakeTempDir(); }
  void TearDown() override {
    store_.reset();
    EXPECT_TRUE(ProjectionStore::Destroy(dir_).ok());
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);  // if a test failed half-way
  }

  void Open(std::vector<std::string> cfs = {"lots", "by_product"}) {
    store_.reset();
    auto store = ProjectionStore::Open({.path = dir_, .column_families = cfs});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  std::optional<std::string> MustGet(std::string_view cf,
                                     std::string_view key) {
    auto v = store_->Get(cf, key);
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? *v : std::nullopt;
  }

  std::vector<std::pair<std::string, std::string>> MustScan(
      std::string_view cf, std::string_view prefix,
      std::string_view start_after, size_t limit = 1000) {
    std::vector<std::pair<std::string, std::string>> out;
    absl::Status s = store_->Scan(cf, prefix, start_after,
                                  [&](std::string_view k, std::string_view v) {
                                    out.emplace_back(k, v);
                                    return out.size() < limit;
                                  });
    EXPECT_TRUE(s.ok()) << s;
    return out;
  }

  std::string dir_;
  std::unique_ptr<ProjectionStore> store_;
};

const eventlog::TopicPartition kLots{"lotledger.lots.v1", 2};

TEST_F(ProjectionStoreTest, PutGetDelete) {
  Open();
  EXPECT_EQ(MustGet("lots", "a"), std::nullopt);
  auto batch = store_->NewBatch();
  EXPECT_TRUE(batch.empty());
  batch.Put("lots", "a", "1");
  batch.Put("lots", "b", std::string("\0x\0", 3));  // binary-safe
  batch.Put("by_product", "a", "other family");
  EXPECT_FALSE(batch.empty());
  ASSERT_TRUE(store_->Commit(std::move(batch)).ok());
  EXPECT_THAT(MustGet("lots", "a"), Optional(std::string("1")));
  EXPECT_THAT(MustGet("lots", "b"), Optional(std::string("\0x\0", 3)));
  EXPECT_THAT(MustGet("by_product", "a"),
              Optional(std::string("other family")));

  batch = store_->NewBatch();
  batch.Delete("lots", "a");
  batch.Delete("lots", "never-there");
  ASSERT_TRUE(store_->Commit(std::move(batch)).ok());
  EXPECT_EQ(MustGet("lots", "a"), std::nullopt);
  EXPECT_THAT(MustGet("lots", "b"), Optional(std::string("\0x\0", 3)));
}

TEST_F(ProjectionStoreTest, ScanPrefixAndPaging) {
  Open();
  auto batch = store_->NewBatch();
  for (std::string k : {"p/1", "p/2", "p/3", "p/4", "p/5", "q/1", "o/9", "p"}) {
    batch.Put("by_product", k, "v" + k);
  }
  ASSERT_TRUE(store_->Commit(std::move(batch)).ok());

  EXPECT_THAT(
      MustScan("by_product", "p/", ""),
      ElementsAre(Pair("p/1", "vp/1"), Pair("p/2", "vp/2"), Pair("p/3", "vp/3"),
                  Pair("p/4", "vp/4"), Pair("p/5", "vp/5")));
  // Paging: two at a time, each page starting after the last key seen.
  std::vector<std::string> keys;
  std::string after;
  while (true) {
    auto page = MustScan("by_product", "p/", after, 2);
    if (page.empty()) break;
    for (auto& [k, v] : page) keys.push_back(k);
    after = page.back().first;
  }
  EXPECT_THAT(keys, ElementsAre("p/1", "p/2", "p/3", "p/4", "p/5"));
  // start_after need not be a stored key, and may sort before the prefix.
  EXPECT_THAT(MustScan("by_product", "p/", "p/2x"),
              ElementsAre(Pair("p/3", "vp/3"), Pair("p/4", "vp/4"),
                          Pair("p/5", "vp/5")));
  EXPECT_EQ(MustScan("by_product", "p/", "a").size(), 5u);
  EXPECT_TRUE(MustScan("by_product", "p/", "p/5").empty());
  EXPECT_TRUE(MustScan("by_product", "z", "").empty());
  // Empty prefix: everything, in order.
  EXPECT_EQ(MustScan("by_product", "", "").size(), 8u);
  EXPECT_EQ(MustScan("by_product", "", "").front().first, "o/9");
}

TEST_F(ProjectionStoreTest, ReopenKeepsStateAndOffsets) {
  Open();
  EXPECT_TRUE(store_->Offsets().empty());
  auto batch = store_->NewBatch();
  batch.Put("lots", "lot-1", "state");
  batch.SetOffset(kLots, 17);
  batch.SetOffset({"lotledger.quality.v1", 0}, 5);
  batch.SetOffset({"lotledger.quality.v1", 0}, 6);  // last call wins
  ASSERT_TRUE(store_->Commit(std::move(batch)).ok());
  const eventlog::Offsets want = {{kLots, 17},
                                  {{"lotledger.quality.v1", 0}, 6}};
  EXPECT_EQ(store_->Offsets(), want);

  Open();
  EXPECT_EQ(store_->Offsets(), want);
  EXPECT_THAT(MustGet("lots", "lot-1"), Optional(std::string("state")));
  // Offsets are readable (not writable) in their own family.
  EXPECT_EQ(MustScan(kOffsetsColumnFamily, "", "").size(), 2u);
}

TEST_F(ProjectionStoreTest, OffsetOnlyBatchCommits) {
  Open();
  auto batch = store_->NewBatch();
  batch.SetOffset(kLots, 3);  // events that changed nothing still count
  EXPECT_FALSE(batch.empty());
  ASSERT_TRUE(store_->Commit(std::move(batch)).ok());
  EXPECT_EQ(store_->Offsets(), (eventlog::Offsets{{kLots, 3}}));
  ASSERT_TRUE(store_->Commit(store_->NewBatch()).ok());  // empty: no-op
  EXPECT_EQ(store_->Offsets(), (eventlog::Offsets{{kLots, 3}}));
}

TEST_F(ProjectionStoreTest, BatchReadsThroughItsOwnWrites) {
  Open();
  auto setup = store_->NewBatch();
  setup.Put("lots", "committed", "old");
  setup.Put("lots", "doomed", "x");
  ASSERT_TRUE(store_->Commit(std::move(setup)).ok());

  auto batch = store_->NewBatch();
  auto get = [&](std::string_view key) {
    auto v = batch.Get("lots", key);
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? *v : std::nullopt;
  };
  EXPECT_THAT(get("committed"), Optional(std::string("old")));
  batch.Put("lots", "committed", "new");
  batch.Put("lots", "fresh", "1");
  batch.Put("lots", "fresh", "2");
  batch.Delete("lots", "doomed");
  EXPECT_THAT(get("committed"), Optional(std::string("new")));
  EXPECT_THAT(get("fresh"), Optional(std::string("2")));
  EXPECT_EQ(get("doomed"), std::nullopt);
  // Nothing is visible outside the batch before Commit.
  EXPECT_THAT(MustGet("lots", "committed"), Optional(std::string("old")));
  EXPECT_EQ(MustGet("lots", "fresh"), std::nullopt);
  ASSERT_TRUE(store_->Commit(std::move(batch)).ok());
  EXPECT_THAT(MustGet("lots", "committed"), Optional(std::string("new")));
  EXPECT_THAT(MustGet("lots", "fresh"), Optional(std::string("2")));
  EXPECT_EQ(MustGet("lots", "doomed"), std::nullopt);
}

TEST_F(ProjectionStoreTest, UnknownColumnFamilyIsInvalidArgument) {
  Open();
  EXPECT_EQ(store_->Get("nope", "k").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_
                ->Scan("nope", "", "",
                       [](std::string_view, std::string_view) { return true; })
                .code(),
            absl::StatusCode::kInvalidArgument);
  auto batch = store_->NewBatch();
  EXPECT_EQ(batch.Get("nope", "k").status().code(),
            absl::StatusCode::kInvalidArgument);
  batch.Put("lots", "k", "v");
  batch.Put("nope", "k", "v");
  batch.SetOffset(kLots, 9);
  // The whole batch is refused: neither state nor offsets move.
  EXPECT_EQ(store_->Commit(std::move(batch)).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MustGet("lots", "k"), std::nullopt);
  EXPECT_TRUE(store_->Offsets().empty());
}

TEST_F(ProjectionStoreTest, OffsetsFamilyIsNotWritableDirectly) {
  Open();
  auto batch = store_->NewBatch();
  batch.Put(kOffsetsColumnFamily, "x", "y");
  EXPECT_EQ(store_->Commit(std::move(batch)).code(),
            absl::StatusCode::kInvalidArgument);
  batch = store_->NewBatch();
  batch.SetOffset({std::string("bad\0topic", 9), 0}, 1);
  EXPECT_EQ(store_->Commit(std::move(batch)).code(),
            absl::StatusCode::kInvalidArgument);
  batch = store_->NewBatch();
  batch.SetOffset(kLots, -1);
  EXPECT_EQ(store_->Commit(std::move(batch)).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ProjectionStore::Open(
                {.path = dir_ + "x", .column_families = {"__offsets"}})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ProjectionStoreTest, OpenWithFewerFamiliesKeepsTheOthers) {
  Open({"lots", "by_product"});
  auto batch = store_->NewBatch();
  batch.Put("by_product", "p", "kept");
  ASSERT_TRUE(store_->Commit(std::move(batch)).ok());
  Open({"lots"});
  EXPECT_THAT(MustGet("by_product", "p"), Optional(std::string("kept")));
  Open({"lots", "new_index"});  // adds a family, keeps the rest
  EXPECT_THAT(MustGet("by_product", "p"), Optional(std::string("kept")));
  EXPECT_EQ(MustGet("new_index", "p"), std::nullopt);
}

TEST_F(ProjectionStoreTest, DestroyDeletesTheProjection) {
  Open();
  auto batch = store_->NewBatch();
  batch.Put("lots", "k", "v");
  batch.SetOffset(kLots, 1);
  ASSERT_TRUE(store_->Commit(std::move(batch)).ok());
  store_.reset();
  ASSERT_TRUE(ProjectionStore::Destroy(dir_).ok());
  EXPECT_FALSE(std::filesystem::exists(dir_));
  EXPECT_TRUE(ProjectionStore::Destroy(dir_).ok());  // nothing there: OK
  Open();
  EXPECT_EQ(MustGet("lots", "k"), std::nullopt);
  EXPECT_TRUE(store_->Offsets().empty());
}

TEST_F(ProjectionStoreTest, EmptyPathIsInvalidArgument) {
  EXPECT_EQ(ProjectionStore::Open({}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Readers run from many threads while the projector commits; each batch
// keeps "a" and "b" equal, and a reader must never see them differ within
// one Scan (one snapshot).
TEST_F(ProjectionStoreTest, ConcurrentReadersSeeWholeCommits) {
  Open();
  std::atomic<bool> done = false;
  std::atomic<int> torn = 0;
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!done) {
        std::vector<std::string> values;
        ASSERT_TRUE(store_
                        ->Scan("lots", "", "",
                               [&](std::string_view, std::string_view v) {
                                 values.emplace_back(v);
                                 return true;
                               })
                        .ok());
        if (values.size() == 2 && values[0] != values[1]) ++torn;
        ASSERT_TRUE(store_->Get("lots", "a").ok());
        ASSERT_TRUE(store_->Digest().ok());
        store_->Offsets();
      }
    });
  }
  for (int i = 0; i < 300; ++i) {
    auto batch = store_->NewBatch();
    batch.Put("lots", "a", absl::StrCat(i));
    batch.Put("lots", "b", absl::StrCat(i));
    batch.SetOffset(kLots, i + 1);
    ASSERT_TRUE(store_->Commit(std::move(batch)).ok());
  }
  done = true;
  for (auto& r : readers) r.join();
  EXPECT_EQ(torn, 0);
  EXPECT_EQ(store_->Offsets(), (eventlog::Offsets{{kLots, 300}}));
}

}  // namespace
}  // namespace lotledger::projection
