#include "libs/common/ids.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace lotledger {
namespace {

TEST(UuidV7, HasVersionVariantAndSortsByCreation) {
  const absl::Time t = absl::FromUnixMillis(1767225600000);
  std::string prev;
  std::set<std::string> seen;
  for (int i = 0; i < 5000; ++i) {
    std::string id = NewUuidV7(t);
    ASSERT_EQ(id.size(), 36u);
    EXPECT_EQ(id[14], '7');
    EXPECT_TRUE(id[19] == '8' || id[19] == '9' || id[19] == 'a' ||
                id[19] == 'b');
    EXPECT_GT(id, prev);
    prev = id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 5000u);
  EXPECT_EQ(
      NewUuidV7(absl::FromUnixMillis(1767225600000 + 100000)).substr(0, 8),
      "019b76dc");
}

TEST(LotId, JoinsItemAndLotNumber) {
  EXPECT_EQ(MakeLotId("09506000134352", "A17"), "09506000134352:A17");
}

// An item code never holds a ':'; a lot number may.
TEST(LotId, ItemIsUpToTheFirstColon) {
  EXPECT_EQ(ItemOfLotId(MakeLotId("09506000134352", "A:17")), "09506000134352");
  EXPECT_EQ(ItemOfLotId(MakeLotId("RM-RESIN", "R1")), "RM-RESIN");
  EXPECT_EQ(ItemOfLotId("no-colon"), "");
}

}  // namespace
}  // namespace lotledger
