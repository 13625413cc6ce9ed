#include "libs/common/hash.h"

#include <string>

#include "gtest/gtest.h"

namespace lotledger {
namespace {

TEST(Sha256, MatchesFipsVector) {
  EXPECT_EQ(HexEncode(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ChainHash, IsShaOfPrevSeqBigEndianAndBody) {
  const std::string prev(32, '\0');
  std::string manual = prev;
  manual += std::string("\0\0\0\0\0\0\0\x07", 8);
  manual += "body";
  EXPECT_EQ(ChainHash(prev, 7, "body"), Sha256(manual));
  EXPECT_NE(ChainHash(prev, 8, "body"), ChainHash(prev, 7, "body"));
}

// Vectors from Apache Kafka's UtilsTest.testMurmur2, which pins the Java
// partitioner's hash.
TEST(Murmur2, MatchesJavaClient) {
  EXPECT_EQ(Murmur2("21"), -973932308);
  EXPECT_EQ(Murmur2("foobar"), -790332482);
  EXPECT_EQ(Murmur2("a-little-bit-long-string"), -985981536);
  EXPECT_EQ(Murmur2("a-little-bit-longer-string"), -1486304829);
  EXPECT_EQ(Murmur2("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"),
            -58897971);
  EXPECT_EQ(Murmur2("abc"), 479470107);
}

TEST(PartitionForKey, IsPositiveModulo) {
  for (int parts : {1, 3, 12}) {
    const int32_t p = PartitionForKey("foobar", parts);
    EXPECT_GE(p, 0);
    EXPECT_LT(p, parts);
    EXPECT_EQ(p, (Murmur2("foobar") & 0x7fffffff) % parts);
  }
}

}  // namespace
}  // namespace lotledger
