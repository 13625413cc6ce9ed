// The projection format (projection_check.h): a projection written in the
// service's format is opened as it is; one of another format, or a
// non-empty one that records none (written before formats were recorded),
// is moved aside and an empty projection in the service's format opened in
// its place, so the projector rebuilds it from the log instead of misreading
// it. Real RocksDB in a temporary directory.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "gtest/gtest.h"
#include "libs/command/projection_check.h"
#include "libs/common/ids.h"
#include "libs/projection/projection_store.h"

namespace lotledger::command {
namespace {

namespace fs = std::filesystem;

class ProjectionFormatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.path = ::testing::TempDir() + "/projection-format-" +
                    NewUuidV7(absl::Now()) + "/lots";
    options_.column_families = {"lots"};
    fs::create_directories(options_.path);  // as ServiceCore::Open does
  }

  // Opens as a service with `format` does; the projection's state is one
  // value and one applied offset, written when `fill` is set.
  CheckedProjection Open(int format, bool fill = false) {
    absl::StatusOr<CheckedProjection> checked = OpenCheckedProjection(
        "lots", options_, ProjectionVerify::kQuick, format);
    EXPECT_TRUE(checked.ok()) << checked.status();
    if (!checked.ok()) return {};
    if (fill) {
      projection::ProjectionStore::Batch batch = checked->store->NewBatch();
      batch.Put("lots", "L1", "a lot as format 1 lays it out");
      batch.SetOffset({"lotledger.lots.v1", 0}, 1);
      EXPECT_TRUE(checked->store->Commit(std::move(batch)).ok());
    }
    return *std::move(checked);
  }

  static std::optional<std::string> Format(
      const projection::ProjectionStore& store) {
    absl::StatusOr<std::optional<std::string>> v =
        store.Get("default", kProjectionFormatKey);
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? *v : std::nullopt;
  }

  static std::optional<std::string> Lot(
      const projection::ProjectionStore& store) {
    absl::StatusOr<std::optional<std::string>> v = store.Get("lots", "L1");
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? *v : std::nullopt;
  }

  projection::ProjectionStore::Options options_;
};

TEST_F(ProjectionFormatTest, TheSameFormatIsKept) {
  Open(1, /*fill=*/true);
  CheckedProjection again = Open(1);
  ASSERT_NE(again.store, nullptr);
  EXPECT_EQ(again.rebuilt_reason, "");
  EXPECT_EQ(Format(*again.store), "1");
  EXPECT_EQ(Lot(*again.store), "a lot as format 1 lays it out");
  EXPECT_FALSE(again.store->Offsets().empty());
}

TEST_F(ProjectionFormatTest, AnotherFormatIsMovedAsideAndRebuilt) {
  Open(1, /*fill=*/true);
  CheckedProjection newer = Open(2);
  ASSERT_NE(newer.store, nullptr);
  EXPECT_EQ(newer.rebuilt_reason, "format");
  // Empty, in the new format: the projector starts at offset 0.
  EXPECT_EQ(Format(*newer.store), "2");
  EXPECT_EQ(Lot(*newer.store), std::nullopt);
  EXPECT_TRUE(newer.store->Offsets().empty());
  // The old one is kept for an operator.
  ASSERT_FALSE(newer.damaged_dir.empty());
  EXPECT_TRUE(fs::exists(newer.damaged_dir));
}

TEST_F(ProjectionFormatTest, AProjectionWithoutAFormatIsRebuilt) {
  {
    // Written by a build that recorded no format.
    absl::StatusOr<std::unique_ptr<projection::ProjectionStore>> old =
        projection::ProjectionStore::Open(options_);
    ASSERT_TRUE(old.ok()) << old.status();
    projection::ProjectionStore::Batch batch = (*old)->NewBatch();
    batch.Put("lots", "L1", "laid out before formats");
    batch.SetOffset({"lotledger.lots.v1", 0}, 1);
    ASSERT_TRUE((*old)->Commit(std::move(batch)).ok());
  }
  CheckedProjection opened = Open(1);
  ASSERT_NE(opened.store, nullptr);
  EXPECT_EQ(opened.rebuilt_reason, "format");
  EXPECT_EQ(Format(*opened.store), "1");
  EXPECT_EQ(Lot(*opened.store), std::nullopt);
}

TEST_F(ProjectionFormatTest, AnEmptyProjectionGetsTheFormat) {
  CheckedProjection fresh = Open(3);
  ASSERT_NE(fresh.store, nullptr);
  EXPECT_EQ(fresh.rebuilt_reason, "");
  EXPECT_EQ(Format(*fresh.store), "3");
}

}  // namespace
}  // namespace lotledger::command
