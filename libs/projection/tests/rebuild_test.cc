// Rebuild = Destroy + replay from offset 0 (docs/design.md, "Projections"): the
// rebuilt projection must be byte-identical to the live one, however each
// was batched, flushed or compacted.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libs/projection/projection_store.h"
#include "libs/projection/tests/synthetic_stream.h"

namespace lotledger::projection::testing {
namespace {

constexpr uint64_t kSeed = 7;
constexpr int64_t kEvents = 5000;

std::string MustDigest(const ProjectionStore& store) {
  auto digest = store.Digest();
  EXPECT_TRUE(digest.ok()) << digest.status();
  return digest.ok() ? *digest : "";
}

TEST(ProjectionRebuildTest, RebuiltFromScratchIsIdenticalToIncremental) {
  const ScopedTempDir tmp;
  const std::string& dir = tmp.path();
  // Live projection: many small commits, reopened (and so recovered from
  // the WAL) along the way.
  uint64_t rng = 1;
  for (int64_t stop : std::vector<int64_t>{1000, 2500, 4000, kEvents}) {
    auto store = ProjectionStore::Open(StreamOptions(dir));
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE(ApplyStream(**store, kSeed, stop, [&] {
                  return 1 + static_cast<int>(SplitMix64(rng) % 3);
                }).ok());
  }
  auto live = ProjectionStore::Open(StreamOptions(dir));
  ASSERT_TRUE(live.ok()) << live.status();
  const std::string live_digest = MustDigest(**live);
  // A different file layout (everything compacted into the last level)
  // holds the same keys and values: same digest.
  ASSERT_TRUE((*live)->Compact().ok());
  EXPECT_EQ(MustDigest(**live), live_digest);
  const eventlog::Offsets live_offsets = (*live)->Offsets();
  live->reset();

  // Rebuild in place, twice, with different batchings.
  for (int batch_size : {static_cast<int>(kEvents), 97}) {
    ASSERT_TRUE(ProjectionStore::Destroy(dir).ok());
    auto rebuilt = ProjectionStore::Open(StreamOptions(dir));
    ASSERT_TRUE(rebuilt.ok()) << rebuilt.status();
    ASSERT_TRUE((*rebuilt)->Offsets().empty());
    ASSERT_TRUE(ApplyStream(**rebuilt, kSeed, kEvents, [&] {
                  return batch_size;
                }).ok());
    EXPECT_EQ((*rebuilt)->Offsets(), live_offsets);
    EXPECT_EQ(MustDigest(**rebuilt), live_digest) << "batch " << batch_size;
  }
  ASSERT_TRUE(ProjectionStore::Destroy(dir).ok());
}

// The digest is sensitive: one event more or less, or an event applied
// twice, changes it (otherwise the rebuild and crash tests prove nothing).
TEST(ProjectionRebuildTest, DigestDetectsSkippedAndRepeatedEvents) {
  auto digest_of = [](const std::function<void(ProjectionStore&)>& apply) {
    const ScopedTempDir tmp;
    const std::string& dir = tmp.path();
    auto store = ProjectionStore::Open(StreamOptions(dir));
    EXPECT_TRUE(store.ok()) << store.status();
    apply(**store);
    std::string digest = MustDigest(**store);
    store->reset();
    EXPECT_TRUE(ProjectionStore::Destroy(dir).ok());
    return digest;
  };
  auto apply_events = [](ProjectionStore& store, std::vector<int64_t> events) {
    auto batch = store.NewBatch();
    for (int64_t i : events) ASSERT_TRUE(ApplyEvent(kSeed, i, batch).ok());
    batch.SetOffset(StreamPartition(), 100);
    ASSERT_TRUE(store.Commit(std::move(batch)).ok());
  };
  std::vector<int64_t> all;
  for (int64_t i = 0; i < 100; ++i) all.push_back(i);
  std::vector<int64_t> skipped = all;
  skipped.erase(skipped.begin() + 50);
  std::vector<int64_t> repeated = all;
  repeated.insert(repeated.begin() + 50, 50);

  const std::string base =
      digest_of([&](ProjectionStore& s) { apply_events(s, all); });
  EXPECT_EQ(base, digest_of([&](ProjectionStore& s) { apply_events(s, all); }));
  EXPECT_NE(base,
            digest_of([&](ProjectionStore& s) { apply_events(s, skipped); }));
  EXPECT_NE(base,
            digest_of([&](ProjectionStore& s) { apply_events(s, repeated); }));
  EXPECT_EQ(base.size(), 64u);  // hex SHA-256
}

}  // namespace
}  // namespace lotledger::projection::testing
