#include "libs/gs1/ai_table.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "gtest/gtest.h"

namespace lotledger::gs1 {
namespace {

// AIs with a req= and with an ex= attribute in gs1-syntax-dictionary.txt,
// ranges such as 3100-3105 expanded (six AIs that each require (01) or (02)
// and exclude 310n).
constexpr int kExpectedWithRequisites = 502;
constexpr int kExpectedWithExclusions = 393;

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

// req= and ex= as the dictionary writes them, e.g.
//   21   X..20   req=01,03,8006 ex=235           # SERIAL
//   250  X..30   req=01,8006 req=21              # SECONDARY SERIAL
TEST(AiTableTest, CarriesTheAssociationRules) {
  using Requisites = std::array<std::string_view, kMaxRequisites>;
  struct Case {
    std::string_view ai;
    Requisites requisites;
    std::string_view exclusions;
  };
  const Case cases[] = {
      {"00", {"", ""}, ""},
      {"01", {"", ""}, "255,37"},
      {"02", {"37", ""}, "01,03"},
      {"10", {"01,02,03,8006,8026", ""}, ""},
      {"17", {"01,02,03,255,8006,8026", ""}, ""},
      {"21", {"01,03,8006", ""}, "235"},
      {"250", {"01,8006", "21"}, ""},
      {"37", {"00", "02,8026"}, ""},
      {"3103", {"01,02", ""}, "310n"},
      {"3920", {"01", "30,31nn,32nn,35nn,36nn"}, "392n,393n"},
      {"7004", {"01+10", ""}, ""},
      {"8030",
       {"00,01+21,253,255,8003,8004,8006+21,8010+8011,8017,8018", ""},
       ""},
      {"90", {"", ""}, ""},
  };
  for (const Case& c : cases) {
    const AiSpec* spec = FindAi(c.ai);
    ASSERT_NE(spec, nullptr) << c.ai;
    EXPECT_EQ(spec->requisites, c.requisites) << c.ai;
    EXPECT_EQ(spec->exclusions, c.exclusions) << c.ai;
  }
}

// Every AI or pattern a rule names is well formed and matches an AI of the
// table, and a used req= slot is never after an empty one.
TEST(AiTableTest, RulesNameAisOfTheTable) {
  auto matches_some_ai = [](std::string_view pattern) {
    return std::any_of(AllAis().begin(), AllAis().end(),
                       [&](const AiSpec& spec) {
                         if (spec.ai.size() != pattern.size()) return false;
                         for (size_t i = 0; i < pattern.size(); ++i) {
                           if (pattern[i] != 'n' && pattern[i] != spec.ai[i]) {
                             return false;
                           }
                         }
                         return true;
                       });
  };
  int with_requisites = 0;
  int with_exclusions = 0;
  for (const AiSpec& spec : AllAis()) {
    SCOPED_TRACE(std::string(spec.ai));
    if (!spec.requisites[1].empty()) {
      EXPECT_FALSE(spec.requisites[0].empty());
    }
    const std::string rules = std::string(spec.requisites[0]) + "," +
                              std::string(spec.requisites[1]) + "," +
                              std::string(spec.exclusions);
    size_t begin = 0;
    while (begin < rules.size()) {
      size_t end = rules.find_first_of(",+", begin);
      if (end == rules.npos) end = rules.size();
      const std::string_view pattern =
          std::string_view(rules).substr(begin, end - begin);
      begin = end + 1;
      if (pattern.empty()) continue;
      EXPECT_TRUE(pattern.size() >= 2 && pattern.size() <= 4 &&
                  pattern.find_first_not_of("0123456789n") == pattern.npos)
          << pattern;
      EXPECT_TRUE(matches_some_ai(pattern)) << pattern;
    }
    with_requisites += spec.requisites[0].empty() ? 0 : 1;
    with_exclusions += spec.exclusions.empty() ? 0 : 1;
  }
  EXPECT_EQ(with_requisites, kExpectedWithRequisites);
  EXPECT_EQ(with_exclusions, kExpectedWithExclusions);
}

TEST(AiTableTest, NamesTheLintersItDoesNotCheck) {
  EXPECT_EQ(FindAi("01")->unchecked_linters, "gcppos2");
  EXPECT_EQ(FindAi("10")->unchecked_linters, "");
  EXPECT_EQ(FindAi("422")->unchecked_linters, "iso3166");
}

}  // namespace
}  // namespace lotledger::gs1
