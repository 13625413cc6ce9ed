#include "libs/gs1/ai_table.h"

#include <algorithm>
#include <string>

#include "gtest/gtest.h"

namespace lotledger::gs1 {
namespace {

TEST(AiTableTest, HasEveryAiOfTheSyntaxDictionary) {
  // 224 dictionary entries, ranges such as 3100-3105 expanded.
  EXPECT_EQ(AllAis().size(), 541u);
}

TEST(AiTableTest, IsSortedSoFindAiCanBisect) {
  EXPECT_TRUE(std::is_sorted(
      AllAis().begin(), AllAis().end(),
      [](const AiSpec& a, const AiSpec& b) { return a.ai < b.ai; }));
}

// Splitting "0109506000134352..." without delimiters depends on it.
TEST(AiTableTest, NoAiIsAPrefixOfAnother) {
  for (const AiSpec& a : AllAis()) {
    for (const AiSpec& b : AllAis()) {
      if (a.ai != b.ai) {
        EXPECT_FALSE(b.ai.substr(0, a.ai.size()) == a.ai)
            << a.ai << " is a prefix of " << b.ai;
      }
    }
  }
}

TEST(AiTableTest, EveryEntryIsConsistent) {
  for (const AiSpec& spec : AllAis()) {
    SCOPED_TRACE(std::string(spec.ai));
    EXPECT_GE(spec.ai.size(), 2u);
    EXPECT_LE(spec.ai.size(), 4u);
    EXPECT_FALSE(spec.title.empty());
    ASSERT_GE(spec.num_components, 1);
    ASSERT_LE(spec.num_components, kMaxComponents);
    int min = 0, max = 0;
    for (int i = 0; i < spec.num_components; ++i) {
      const Component& c = spec.components[i];
      if (!c.optional) min += c.min_length;
      max += c.max_length;
      // Only the last component may vary in length.
      if (i + 1 < spec.num_components) {
        EXPECT_EQ(c.min_length, c.max_length);
      }
    }
    EXPECT_EQ(spec.min_length, min);
    EXPECT_EQ(spec.max_length, max);
    // The parser takes exactly max_length characters of these.
    if (spec.predefined_length) {
      EXPECT_EQ(spec.min_length, spec.max_length);
    }
  }
}

// The General Specifications' table of predefined-length prefixes.
TEST(AiTableTest, PredefinedLengthFollowsTheTwoDigitPrefix) {
  for (const AiSpec& spec : AllAis()) {
    const int prefix = std::stoi(std::string(spec.ai.substr(0, 2)));
    const bool expected = prefix <= 4 || (prefix >= 11 && prefix <= 20) ||
                          (prefix >= 31 && prefix <= 36) || prefix == 41;
    EXPECT_EQ(spec.predefined_length, expected) << spec.ai;
  }
}

TEST(AiTableTest, KnowsTheUdiAis) {
  const AiSpec* gtin = FindAi("01");
  ASSERT_NE(gtin, nullptr);
  EXPECT_EQ(gtin->title, "GTIN");
  EXPECT_TRUE(gtin->predefined_length);
  EXPECT_EQ(gtin->max_length, 14);
  EXPECT_EQ(gtin->components[0].charset, Charset::kNumeric);
  EXPECT_EQ(gtin->components[0].checks, kCheckDigit);

  const AiSpec* lot = FindAi("10");
  ASSERT_NE(lot, nullptr);
  EXPECT_EQ(lot->title, "BATCH/LOT");
  EXPECT_FALSE(lot->predefined_length);
  EXPECT_EQ(lot->min_length, 1);
  EXPECT_EQ(lot->max_length, 20);
  EXPECT_EQ(lot->components[0].charset, Charset::kCset82);

  const AiSpec* expiry = FindAi("17");
  ASSERT_NE(expiry, nullptr);
  EXPECT_EQ(expiry->components[0].checks, kDateYymmd0);

  const AiSpec* expiry_time = FindAi("7003");
  ASSERT_NE(expiry_time, nullptr);
  EXPECT_EQ(expiry_time->num_components, 2);
  EXPECT_EQ(expiry_time->components[0].checks, kDateYymmdd);
  EXPECT_EQ(expiry_time->components[1].checks, kHourMinute);
}

TEST(AiTableTest, FixedLengthIsNotPredefinedLength) {
  // (422) is always 3 digits but still needs a separator after it.
  const AiSpec* origin = FindAi("422");
  ASSERT_NE(origin, nullptr);
  EXPECT_EQ(origin->min_length, 3);
  EXPECT_EQ(origin->max_length, 3);
  EXPECT_FALSE(origin->predefined_length);
}

TEST(AiTableTest, CharsetsAndRanges) {
  EXPECT_EQ(FindAi("8010")->components[0].charset, Charset::kCset39);
  EXPECT_EQ(FindAi("8030")->components[0].charset, Charset::kCset64);
  ASSERT_NE(FindAi("3103"), nullptr);
  EXPECT_EQ(FindAi("3103")->title, "NET WEIGHT (kg)");
  EXPECT_EQ(FindAi("3106"), nullptr);  // Only 0-5 decimals exist.
  EXPECT_NE(FindAi("99"), nullptr);
  EXPECT_EQ(FindAi("0"), nullptr);
  EXPECT_EQ(FindAi("010"), nullptr);
  EXPECT_EQ(FindAi(""), nullptr);
}

TEST(AiTableTest, NamesTheLintersItDoesNotCheck) {
  EXPECT_EQ(FindAi("01")->unchecked_linters, "gcppos2");
  EXPECT_EQ(FindAi("10")->unchecked_linters, "");
  EXPECT_EQ(FindAi("422")->unchecked_linters, "iso3166");
}

}  // namespace
}  // namespace lotledger::gs1
