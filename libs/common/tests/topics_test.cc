// The topic registry: names follow "lotledger.<service>.v1", each topic
// has exactly one writer, every topic read is one some service writes, and
// the audit reads them all.
#include "libs/common/topics.h"

#include <map>
#include <string>

#include "gtest/gtest.h"

namespace lotledger::topics {
namespace {

TEST(TopicsTest, EachWriterWritesItsNamedVersionedTopic) {
  EXPECT_EQ(WrittenBy("lots"), "lotledger.lots.v1");
  EXPECT_EQ(WrittenBy("quality"), "lotledger.quality.v1");
  EXPECT_EQ(WrittenBy("inventory"), "lotledger.inventory.v1");
  EXPECT_EQ(WrittenBy("recall"), "lotledger.recall.v1");
  EXPECT_EQ(WrittenBy("audit"), "");
  for (const ServiceTopics& s : Services()) {
    if (s.writes.empty()) continue;
    EXPECT_EQ(s.writes, "lotledger." + std::string(s.service) + ".v1");
  }
}

TEST(TopicsTest, EveryTopicHasOneWriterAndEveryReadHasAWriter) {
  std::map<std::string, int> writers;
  for (const ServiceTopics& s : Services()) {
    if (!s.writes.empty()) ++writers[std::string(s.writes)];
  }
  for (const auto& [topic, n] : writers) EXPECT_EQ(n, 1) << topic;
  for (const ServiceTopics& s : Services()) {
    for (std::string_view t : s.reads) {
      EXPECT_TRUE(writers.contains(std::string(t)))
          << s.service << " reads " << t << ", which no service writes";
      EXPECT_NE(t, s.writes) << s.service << " lists its own topic as input";
    }
  }
}

TEST(TopicsTest, ReadsAsTheServicesSubscribe) {
  EXPECT_EQ(ReadBy("lots"), (std::vector<std::string>{kQuality, kRecall}));
  EXPECT_EQ(ReadBy("quality"), (std::vector<std::string>{kLots, kRecall}));
  EXPECT_EQ(ReadBy("inventory"),
            (std::vector<std::string>{kLots, kQuality, kRecall}));
  EXPECT_EQ(ReadBy("recall"), (std::vector<std::string>{kLots, kInventory}));
  // The audit reads every topic, in report order.
  EXPECT_EQ(ReadBy("audit"), All());
  EXPECT_EQ(All(),
            (std::vector<std::string>{kLots, kQuality, kInventory, kRecall}));
}

TEST(TopicsTest, UnknownServiceHasNoTopics) {
  EXPECT_EQ(Find("billing"), nullptr);
  EXPECT_EQ(WrittenBy("billing"), "");
  EXPECT_TRUE(ReadBy("billing").empty());
  ASSERT_NE(Find("recall"), nullptr);
  EXPECT_EQ(Find("recall")->writes, kRecall);
}

}  // namespace
}  // namespace lotledger::topics
