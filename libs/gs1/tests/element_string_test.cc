#include "libs/gs1/element_string.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lotledger::gs1 {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr ParseOptions kOptions{.allow_day_zero = true, .reference_year = 2025};
constexpr ParseOptions kNoDayZero{.allow_day_zero = false,
                                  .reference_year = 2025};
// Part of an item's data: association rules not checked.
constexpr ParseOptions kFragment{
    .allow_day_zero = true, .reference_year = 2025, .fragment = true};

// Element strings that satisfy the association rules on their own, to put
// in front of an AI whose field checks a test is about.
#define GTIN "(01)09506000134352"
#define SSCC "(00)106141411234567897"

// GS, spelled out so test strings stay readable.
#define GS "\x1D"

// The message of a failed Parse(), or "OK" so a mistaken success shows.
std::string ErrorOf(std::string_view scan,
                    const ParseOptions& options = kOptions) {
  absl::StatusOr<std::vector<Element>> result = Parse(scan, options);
  if (result.ok()) return "OK";
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(result.status().message());
}

const std::vector<Element> kUdiElements = {
    {"01", "GTIN", "09506000134352"},
    {"17", "USE BY or EXPIRY", "261231"},
    {"10", "BATCH/LOT", "A17"},
    {"21", "SERIAL", "S/N-0042"},
};

TEST(ParseTest, SameElementsFromEveryForm) {
  for (std::string_view scan : {
           // Bracketed, as printed under the barcode.
           "(01)09506000134352(17)261231(10)A17(21)S/N-0042",
           // Unbracketed without identifier.
           "010950600013435217261231"
           "10A17" GS "21S/N-0042",
           // What DataMatrix, GS1-128, QR, DotCode and DataBar readers send.
           "]d2010950600013435217261231"
           "10A17" GS "21S/N-0042",
           "]C1010950600013435217261231"
           "10A17" GS "21S/N-0042",
           "]Q3010950600013435217261231"
           "10A17" GS "21S/N-0042",
           "]J1010950600013435217261231"
           "10A17" GS "21S/N-0042",
           "]e0010950600013435217261231"
           "10A17" GS "21S/N-0042",
       }) {
    absl::StatusOr<std::vector<Element>> elements = Parse(scan, kOptions);
    ASSERT_TRUE(elements.ok()) << scan << ": " << elements.status();
    EXPECT_EQ(*elements, kUdiElements) << scan;
  }
}

TEST(ParseTest, TolerantOfUnambiguousExtraSeparators) {
  for (std::string_view scan : {
           // Leading FNC1 transmitted as GS, once or more.
           "]d2" GS "0109506000134352"
           "10A17",
           GS "0109506000134352"
              "10A17",
           "]d2" GS GS GS "0109506000134352"
           "10A17",
           // GS after a predefined-length field, once or more.
           "0109506000134352" GS "10A17",
           "0109506000134352" GS GS "10A17",
           // GS at the very end, once or more.
           "0109506000134352"
           "10A17" GS,
           "0109506000134352"
           "10A17" GS GS GS,
       }) {
    absl::StatusOr<std::vector<Element>> elements = Parse(scan, kOptions);
    ASSERT_TRUE(elements.ok()) << elements.status();
    EXPECT_THAT(*elements, ElementsAre(Element{"01", "GTIN", "09506000134352"},
                                       Element{"10", "BATCH/LOT", "A17"}));
  }
}

// Scanners configured to send FNC1 as GS send runs of it between fields.
TEST(ParseTest, RepeatedSeparatorsBetweenFields) {
  for (std::string_view scan : {
           "]d2010950600013435217261231"
           "10A17" GS GS "21S/N-0042",
           "]C1" GS GS "010950600013435217261231"
           "10A17" GS GS GS "21S/N-0042" GS GS,
           "01095060001343521726123110A17" GS GS "21S/N-0042",
       }) {
    absl::StatusOr<std::vector<Element>> elements = Parse(scan, kOptions);
    ASSERT_TRUE(elements.ok()) << elements.status();
    EXPECT_EQ(*elements, kUdiElements);
  }
}

TEST(ParseTest, SsccGlnAndCounts) {
  absl::StatusOr<std::vector<Element>> elements = Parse(
      "(00)106141411234567897(414)9521321000001(02)09506000134352(37)12"
      "(30)99999999",
      kOptions);
  ASSERT_TRUE(elements.ok()) << elements.status();
  EXPECT_THAT(*elements,
              ElementsAre(Element{"00", "SSCC", "106141411234567897"},
                          Element{"414", "LOC No.", "9521321000001"},
                          Element{"02", "CONTENT", "09506000134352"},
                          Element{"37", "COUNT", "12"},
                          Element{"30", "VAR. COUNT", "99999999"}));
  EXPECT_EQ(ErrorOf("(37)123456789"), "AI (37): 9 characters, at most 8");
  EXPECT_EQ(ErrorOf("(30)12A"),
            "AI (30): 'A' (character 3 of the value) is not in digits");
}

TEST(ParseTest, AdditionalIdsAndSecondarySerial) {
  absl::StatusOr<std::vector<Element>> elements =
      Parse("]C1240REF-1234" GS "241CUST/77" GS "250SEC.9" GS "21S1" GS
            "70032612312359" GS "01095060001343521524050015240500",
            kOptions);
  ASSERT_TRUE(elements.ok()) << elements.status();
  EXPECT_THAT(*elements,
              ElementsAre(Element{"240", "ADDITIONAL ID", "REF-1234"},
                          Element{"241", "CUST. PART No.", "CUST/77"},
                          Element{"250", "SECONDARY SERIAL", "SEC.9"},
                          Element{"21", "SERIAL", "S1"},
                          Element{"7003", "EXPIRY TIME", "2612312359"},
                          Element{"01", "GTIN", "09506000134352"},
                          Element{"15", "BEST BEFORE or BEST BY", "240500"},
                          Element{"15", "BEST BEFORE or BEST BY", "240500"}));
  EXPECT_EQ(ErrorOf("(240)" + std::string(31, 'A')),
            "AI (240): 31 characters, at most 30");
}

TEST(ParseTest, VariableLengthFieldRunsToTheSeparator) {
  // A fixed-length AI that is not predefined (422: N3) still ends at GS.
  absl::StatusOr<std::vector<Element>> elements =
      Parse("0109506000134352422276" GS "10LOT", kOptions);
  ASSERT_TRUE(elements.ok()) << elements.status();
  EXPECT_EQ((*elements)[1].value, "276");
  EXPECT_EQ(ErrorOf("010950600013435242227610LOT"),
            "AI (422): 8 characters, expected 3");
}

TEST(ParseTest, CheckDigits) {
  EXPECT_EQ(ErrorOf("(01)09506000134353"),
            "AI (01): check digit is 3, expected 2");
  EXPECT_EQ(ErrorOf("0209506000134350"),
            "AI (02): check digit is 0, expected 2");
  EXPECT_EQ(ErrorOf("(00)106141411234567890"),
            "AI (00): check digit is 0, expected 7");
  EXPECT_EQ(ErrorOf("(414)9521321000002"),
            "AI (414): check digit is 2, expected 1");
}

TEST(ParseTest, Dates) {
  EXPECT_EQ(ErrorOf("(17)260230"),
            "AI (17): day 30 does not exist in month 02 of 2026");
  EXPECT_EQ(ErrorOf("(17)270229"),
            "AI (17): day 29 does not exist in month 02 of 2027");
  EXPECT_EQ(ErrorOf(GTIN "(17)280229"), "OK");
  EXPECT_EQ(ErrorOf("(11)261301"), "AI (11): month 13 is not 01-12");
  EXPECT_EQ(ErrorOf("(13)260000"), "AI (13): month 00 is not 01-12");
  EXPECT_EQ(ErrorOf("(15)260431"),
            "AI (15): day 31 does not exist in month 04 of 2026");
  EXPECT_EQ(ErrorOf("(17)26123"), "AI (17): 5 characters, expected 6");
  EXPECT_EQ(ErrorOf("(17)26A231"),
            "AI (17): 'A' (character 3 of the value) is not in digits");
}

TEST(ParseTest, DayZeroFollowsTheOption) {
  EXPECT_EQ(ErrorOf(GTIN "(17)260200"), "OK");
  EXPECT_EQ(ErrorOf("(17)260200", kNoDayZero),
            "AI (17): day 00 (end of month) is refused by "
            "ParseOptions.allow_day_zero=false");
  EXPECT_EQ(ErrorOf("(11)260200", kNoDayZero),
            "AI (11): day 00 (end of month) is refused by "
            "ParseOptions.allow_day_zero=false");
  // YYMMDD fields whose format has no DD=00 refuse it whatever the option.
  EXPECT_EQ(ErrorOf("(7003)2602000000"),
            "AI (7003): day 00 is not a valid day here");
}

TEST(ParseTest, ExpiryTime) {
  EXPECT_EQ(ErrorOf("(7003)2612312400"), "AI (7003): hour 24 is not 00-23");
  EXPECT_EQ(ErrorOf("(7003)2612312360"), "AI (7003): minute 60 is not 00-59");
  EXPECT_EQ(ErrorOf("(7003)2602302300"),
            "AI (7003): day 30 does not exist in month 02 of 2026");
  EXPECT_EQ(ErrorOf("(7003)261231230"), "AI (7003): 9 characters, expected 10");
}

TEST(ParseTest, LotAndSerialLengthAndCharset) {
  EXPECT_EQ(ErrorOf(GTIN "(10)" + std::string(20, 'L')), "OK");
  EXPECT_EQ(ErrorOf("(10)" + std::string(21, 'L')),
            "AI (10): 21 characters, at most 20");
  EXPECT_EQ(ErrorOf("10ABC#1"),
            "AI (10): '#' (character 4 of the value) is not in CSET 82");
  EXPECT_EQ(ErrorOf("(21)A B"),
            "AI (21): ' ' (character 2 of the value) is not in CSET 82");
  EXPECT_EQ(ErrorOf("(21)\xC3\xA9"),
            "AI (21): '\\xC3' (character 1 of the value) is not in CSET 82");
  // All 82 characters are accepted.
  EXPECT_EQ(ErrorOf(GTIN "(10)!\"%&'\\()*+,-./0123(21):;<=>?ABCXYZ_abcxyz"),
            "OK");
}

TEST(ParseTest, OtherCharsets) {
  EXPECT_EQ(ErrorOf("(8010)ABC#-/123"), "OK");
  EXPECT_EQ(ErrorOf("(8010)abc"),
            "AI (8010): 'a' (character 1 of the value) is not in CSET 39");
  EXPECT_EQ(ErrorOf(SSCC "(8030)AZaz09-_=="), "OK");
  EXPECT_EQ(ErrorOf("(8030)AB=C"),
            "AI (8030): '=' (character 3 of the value) is not in CSET 64");
}

TEST(ParseTest, UnknownAis) {
  EXPECT_EQ(ErrorOf("(01)09506000134352(98x)1"),
            "unknown AI \"98x\" at position 19");
  EXPECT_EQ(ErrorOf("(3106)123456"), "unknown AI \"3106\" at position 1");
  EXPECT_EQ(ErrorOf("(1)2"), "unknown AI \"1\" at position 1");
  EXPECT_EQ(ErrorOf("0109506000134352"
                    "19123456"),
            "unknown AI at position 16: data starts \"191234\"");
  EXPECT_EQ(ErrorOf("0109506000134352"
                    "A"),
            "expected an AI at position 16, found 'A'");
}

TEST(ParseTest, EmptyAndTruncatedInput) {
  EXPECT_EQ(ErrorOf(""), "empty scan");
  EXPECT_EQ(ErrorOf("]d2"), "no element strings in the scan");
  EXPECT_EQ(ErrorOf(GS), "no element strings in the scan");
  EXPECT_EQ(ErrorOf("010950600013"),
            "AI (01): data ends after 10 characters, expected 14");
  EXPECT_EQ(ErrorOf("01"),
            "AI (01): data ends after 0 characters, expected 14");
  EXPECT_EQ(ErrorOf("10"), "AI (10): empty value");
  EXPECT_EQ(ErrorOf("(10)"), "AI (10): empty value");
  EXPECT_EQ(ErrorOf("(10)A(21)"), "AI (21): empty value");
  EXPECT_EQ(ErrorOf("(01"), "'(' at position 0 is not closed");
}

TEST(ParseTest, MisplacedSeparators) {
  EXPECT_EQ(ErrorOf("01095060" GS "00134352"),
            "AI (01): separator (GS) at position 8 inside its 14-character "
            "field");
  EXPECT_EQ(ErrorOf("01095060" GS GS "0134352"),
            "AI (01): separator (GS) at position 8 inside its 14-character "
            "field");
  EXPECT_EQ(ErrorOf("0109506000134352"
                    "17" GS "261231"),
            "AI (17): separator (GS) at position 18 inside its 6-character "
            "field");
  // A GS straight after an AI leaves its field empty, however many follow.
  EXPECT_EQ(ErrorOf("0109506000134352"
                    "10" GS GS "21S1"),
            "AI (10): empty value");
  EXPECT_EQ(ErrorOf(GS GS GS), "no element strings in the scan");
  EXPECT_EQ(ErrorOf("]d2" GS GS), "no element strings in the scan");
}

TEST(ParseTest, MixedFormsAreRefused) {
  EXPECT_EQ(ErrorOf("(10)A17" GS "(21)S1"),
            "AI (10): separator (GS) at position 7: the bracketed form has "
            "none");
  EXPECT_EQ(ErrorOf("0109506000134352(10)A17"),
            "'(' at position 16 where an AI was expected: the bracketed form "
            "must start with '(' and cannot be mixed with unbracketed data");
}

TEST(ParseTest, SymbologyIdentifiers) {
  EXPECT_EQ(ErrorOf("]d10109506000134352"),
            "symbology identifier \"]d1\" does not announce GS1 data "
            "(expected one of ]C1, ]e0, ]d2, ]Q3, ]J1)");
  EXPECT_EQ(ErrorOf("]C00109506000134352"),
            "symbology identifier \"]C0\" does not announce GS1 data "
            "(expected one of ]C1, ]e0, ]d2, ]Q3, ]J1)");
  EXPECT_EQ(ErrorOf("]d"),
            "symbology identifier \"]d\" does not announce GS1 data "
            "(expected one of ]C1, ]e0, ]d2, ]Q3, ]J1)");
}

TEST(ParseTest, RepeatedAiMustRepeatItsValue) {
  EXPECT_EQ(ErrorOf(GTIN "(17)261231(17)261231"), "OK");
  EXPECT_EQ(ErrorOf("(17)261231(10)A(17)270101"),
            "AI (17): occurs twice with different values \"261231\" and "
            "\"270101\"");
}

TEST(ParseTest, BracketedEscapesParenthesis) {
  absl::StatusOr<std::vector<Element>> elements =
      Parse(GTIN "(10)A\\(1)(21)X", kOptions);
  ASSERT_TRUE(elements.ok()) << elements.status();
  EXPECT_THAT(*elements, ElementsAre(Element{"01", "GTIN", "09506000134352"},
                                     Element{"10", "BATCH/LOT", "A(1)"},
                                     Element{"21", "SERIAL", "X"}));
}

TEST(ParseTest, RequiresAReferenceYear) {
  EXPECT_EQ(ErrorOf("(10)A", ParseOptions{}),
            "ParseOptions.reference_year is 0, expected the current year "
            "(1900-9949): the library reads no clock, so two-digit years "
            "need it");
}

TEST(ParseTest, OtherLinters) {
  EXPECT_EQ(ErrorOf("(8006)095060001343520102"), "OK");
  EXPECT_EQ(ErrorOf("(8006)095060001343520302"),
            "AI (8006): piece 03 of total 02 is not 01 <= piece <= total");
  EXPECT_EQ(ErrorOf("(4321)2"), "AI (4321): 2 is not 0 (no) or 1 (yes)");
  EXPECT_EQ(ErrorOf("(8011)0123"), "AI (8011): 0123 must not start with 0");
  EXPECT_EQ(ErrorOf("(8008)26123123595"),
            "AI (8008): 11 characters: part 4 needs 2 more, has 1");
  EXPECT_EQ(ErrorOf(GTIN "(8008)2612312359"), "OK");
  EXPECT_EQ(ErrorOf(GTIN "(7007)261231270101"), "OK");
  EXPECT_EQ(ErrorOf(SSCC "(4330)001234-"), "OK");
  EXPECT_EQ(ErrorOf("(4330)001234+"), "AI (4330): '+' must be '-'");
}

// The Syntax Dictionary's req= and ex= rules, case by case from its lines
// (quoted in each comment).
TEST(AssociationTest, RulesOfTheSyntaxDictionary) {
  struct Case {
    std::string scan;
    std::string error;  // "OK" when it parses.
  };
  const Case cases[] = {
      // 21: req=01,03,8006 ex=235.
      {GTIN "(21)S1", "OK"},
      {"(21)S1",
       "AI (21): SERIAL needs one of GTIN (01), MTO GTIN (03) or ITIP (8006) "
       "in the same element string"},
      {"(03)09506000134352(21)S1", "OK"},
      {"(8006)095060001343520102(21)S1", "OK"},
      {GTIN "(235)TPX1(21)S1",
       "AI (21): SERIAL cannot appear with TPX (235) in the same element "
       "string"},
      // 250: req=01,8006 req=21 (two clauses, both must hold).
      {GTIN "(21)S1(250)SEC.9", "OK"},
      {"(8006)095060001343520102(21)S1(250)SEC.9", "OK"},
      {GTIN "(250)SEC.9",
       "AI (250): SECONDARY SERIAL needs SERIAL (21) in the same element "
       "string"},
      // 02: ex=01,03 req=37; 37: req=00 req=02,8026.
      {SSCC "(02)09506000134352(37)12", "OK"},
      {SSCC "(02)09506000134352",
       "AI (02): CONTENT needs COUNT (37) in the same element string"},
      {"(02)09506000134352(37)12",
       "AI (37): COUNT needs SSCC (00) in the same element string"},
      {SSCC "(37)12",
       "AI (37): COUNT needs CONTENT (02) or ITIP CONTENT (8026) in the "
       "same element string"},
      // 01 and 02 exclude each other, in either order; the exclusion is
      // named before the (37) that (02) lacks.
      {"(02)09506000134352" GTIN,
       "AI (02): CONTENT cannot appear with GTIN (01) in the same element "
       "string"},
      {GTIN "(02)09506000134352",
       "AI (02): CONTENT cannot appear with GTIN (01) in the same element "
       "string"},
      // 01: ex=255,37.
      {SSCC GTIN "(37)12",
       "AI (01): GTIN cannot appear with COUNT (37) in the same element "
       "string"},
      // 10: req=01,02,03,8006,8026; any one alternative is enough.
      {GTIN "(10)A17", "OK"},
      {SSCC "(02)09506000134352(37)12(10)A17", "OK"},
      {"(8006)095060001343520102(10)A17", "OK"},
      {"(10)A17(17)261231",
       "AI (10): BATCH/LOT needs one of GTIN (01), CONTENT (02), MTO GTIN "
       "(03), ITIP (8006) or ITIP CONTENT (8026) in the same element "
       "string"},
      // 7004: req=01+10, both of a combination.
      {GTIN "(10)A17(7004)12", "OK"},
      {GTIN "(7004)12",
       "AI (7004): ACTIVE POTENCY needs GTIN (01) together with BATCH/LOT "
       "(10) in the same element string"},
      // 8041: req=01+21+8040 (named first: the rules run in scan order).
      {GTIN "(21)S1(8040)490154203237518(8041)490154203237519", "OK"},
      {GTIN "(8041)490154203237519(8040)490154203237518",
       "AI (8041): IMEI2 needs GTIN (01) together with SERIAL (21) and IMEI "
       "(8040) in the same element string"},
      // 8030: req=00,01+21,253,...: a combination among alternatives.
      {GTIN "(21)S1(8030)AZaz09", "OK"},
      {GTIN "(10)A17(8030)AZaz09",
       "AI (8030): DIGSIG needs one of SSCC (00), GTIN (01) together with "
       "SERIAL (21), GDTI (253), GCN (255), GRAI (8003), GIAI (8004), ITIP "
       "(8006) together with SERIAL (21), CPID (8010) together with CPID "
       "SERIAL (8011), GSRN - PROVIDER (8017) or GSRN - RECIPIENT (8018) in "
       "the same element string"},
      // Patterns: 3103 ex=310n (not itself), 3920 req=01 req=30,31nn,...
      {GTIN "(3103)000150(3103)000150", "OK"},
      {GTIN "(3102)001500(3103)000150",
       "AI (3102): NET WEIGHT (kg) cannot appear with NET WEIGHT (kg) (3103) "
       "in the same element string"},
      {GTIN "(3103)000150(3922)1250", "OK"},
      {GTIN "(3922)1250",
       "AI (3922): PRICE needs one of VAR. COUNT (30), AI (31nn), AI (32nn), "
       "AI (35nn) or AI (36nn) in the same element string"},
      // Scanner form: the same rules.
      {"]d2" GS "21S1",
       "AI (21): SERIAL needs one of GTIN (01), MTO GTIN "
       "(03) or ITIP (8006) in the same element string"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ErrorOf(c.scan), c.error) << c.scan;
  }
}

// A label may split an item's data over two symbols, e.g. a primary
// GS1-128 with the GTIN and a secondary one with expiry, lot and serial;
// the rules apply to what the two carry together.
TEST(AssociationTest, FragmentsAreCheckedTogether) {
  const std::string primary = "]C1010950600013435217261231";
  const std::string secondary = "]C110A17" GS "21S/N-0042";
  EXPECT_EQ(ErrorOf(secondary),
            "AI (10): BATCH/LOT needs one of GTIN (01), CONTENT (02), MTO "
            "GTIN (03), ITIP (8006) or ITIP CONTENT (8026) in the same "
            "element string");
  absl::StatusOr<std::vector<Element>> first = Parse(primary, kFragment);
  absl::StatusOr<std::vector<Element>> second = Parse(secondary, kFragment);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(CheckAssociations(*second),
            absl::InvalidArgumentError(
                "AI (10): BATCH/LOT needs one of GTIN (01), CONTENT (02), MTO "
                "GTIN (03), ITIP (8006) or ITIP CONTENT (8026) in the same "
                "element string"));
  std::vector<Element> item = *first;
  item.insert(item.end(), second->begin(), second->end());
  EXPECT_EQ(CheckAssociations(item), absl::OkStatus());
  EXPECT_EQ(item.size(), 4u);
  // Every other check still applies to a fragment.
  EXPECT_EQ(ErrorOf("(10)A17(17)260230", kFragment),
            "AI (17): day 30 does not exist in month 02 of 2026");
}

TEST(AssociationTest, CheckAssociationsRefusesUnknownAis) {
  EXPECT_EQ(CheckAssociations({{"01", "GTIN", "09506000134352"},
                               {"3106", "NET WEIGHT (kg)", "000150"}}),
            absl::InvalidArgumentError("AI (3106): not a known AI"));
  EXPECT_EQ(CheckAssociations({}), absl::OkStatus());
}

TEST(ParseYymmddTest, SlidingCenturyWindow) {
  auto year = [](std::string_view yymmdd, int reference_year) {
    absl::StatusOr<Date> date =
        ParseYymmdd(yymmdd, {.reference_year = reference_year});
    EXPECT_TRUE(date.ok()) << date.status();
    return date.ok() ? date->year : 0;
  };
  // [reference_year - 49, reference_year + 50].
  EXPECT_EQ(year("750101", 2025), 2075);
  EXPECT_EQ(year("760101", 2025), 1976);
  EXPECT_EQ(year("000101", 2025), 2000);
  EXPECT_EQ(year("990101", 2025), 1999);
  EXPECT_EQ(year("490101", 2098), 2049);
  EXPECT_EQ(year("480101", 2098), 2148);
  EXPECT_EQ(year("490101", 2099), 2149);
  EXPECT_EQ(year("500101", 2099), 2050);
  EXPECT_EQ(year("510101", 2001), 2051);
  EXPECT_EQ(year("520101", 2001), 1952);
}

TEST(ParseYymmddTest, DayZeroIsTheLastDayOfTheMonth) {
  auto date = [](std::string_view yymmdd) {
    absl::StatusOr<Date> date = ParseYymmdd(yymmdd, kOptions);
    EXPECT_TRUE(date.ok()) << date.status();
    return date.value_or(Date{});
  };
  EXPECT_EQ(date("260200"), (Date{2026, 2, 28}));
  EXPECT_EQ(date("280200"), (Date{2028, 2, 29}));  // Leap year.
  EXPECT_EQ(date("000200"), (Date{2000, 2, 29}));  // Divisible by 400.
  EXPECT_EQ(date("260400"), (Date{2026, 4, 30}));
  EXPECT_EQ(date("261200"), (Date{2026, 12, 31}));
  EXPECT_EQ(date("261231"), (Date{2026, 12, 31}));
  // 2100 is not a leap year.
  absl::StatusOr<Date> d2100 = ParseYymmdd("000200", {.reference_year = 2090});
  ASSERT_TRUE(d2100.ok());
  EXPECT_EQ(*d2100, (Date{2100, 2, 28}));
  EXPECT_FALSE(ParseYymmdd("260200", kNoDayZero).ok());
  EXPECT_FALSE(ParseYymmdd("26020", kOptions).ok());
  EXPECT_FALSE(ParseYymmdd("2602O1", kOptions).ok());
}

TEST(ParseUdiTest, ExtractsTheUdiFields) {
  absl::StatusOr<Udi> udi = ParseUdi(
      "]d2010950600013435211250600"
      "17261200"
      "10A17" GS "21S/N-0042",
      kOptions);
  ASSERT_TRUE(udi.ok()) << udi.status();
  EXPECT_EQ(udi->gtin, "09506000134352");
  EXPECT_EQ(udi->lot, "A17");
  EXPECT_EQ(udi->serial, "S/N-0042");
  EXPECT_EQ(udi->produced, (Date{2025, 6, 30}));
  EXPECT_EQ(udi->expiry, (Date{2026, 12, 31}));
  EXPECT_EQ(udi->elements.size(), 5u);
}

TEST(ParseUdiTest, OptionalFieldsMayBeAbsent) {
  absl::StatusOr<Udi> udi = ParseUdi("(01)09506000134352", kOptions);
  ASSERT_TRUE(udi.ok()) << udi.status();
  EXPECT_EQ(udi->lot, "");
  EXPECT_EQ(udi->serial, "");
  EXPECT_EQ(udi->expiry, std::nullopt);
  EXPECT_EQ(udi->produced, std::nullopt);
}

TEST(ParseUdiTest, NeedsAGtinAndAValidScan) {
  // Named as a missing GTIN, not as (10) lacking its partner.
  absl::StatusOr<Udi> udi = ParseUdi("(10)A17(17)261231", kOptions);
  EXPECT_EQ(udi.status(),
            absl::InvalidArgumentError("AI (01): missing; a UDI needs the "
                                       "GTIN as its device identifier"));
  EXPECT_EQ(ParseUdi("(21)S1", kOptions).status(),
            absl::InvalidArgumentError("AI (01): missing; a UDI needs the "
                                       "GTIN as its device identifier"));
  EXPECT_EQ(ParseUdi(GTIN "(10)A17(250)SEC.9", kOptions).status(),
            absl::InvalidArgumentError(
                "AI (250): SECONDARY SERIAL needs SERIAL (21) in the same "
                "element string"));
  EXPECT_EQ(ParseUdi(GTIN "(02)09506000134352", kOptions).status(),
            absl::InvalidArgumentError(
                "AI (02): CONTENT cannot appear with GTIN (01) in the same "
                "element string"));
  EXPECT_TRUE(ParseUdi(GTIN "(10)A17(250)SEC.9", kFragment).ok());
  EXPECT_EQ(
      ParseUdi("(01)09506000134352(17)261200", kNoDayZero).status(),
      absl::InvalidArgumentError("AI (17): day 00 (end of month) is refused by "
                                 "ParseOptions.allow_day_zero=false"));
}

TEST(CheckDigitTest, Gs1Mod10) {
  EXPECT_EQ(CheckDigit("0950600013435"), 2);
  EXPECT_EQ(CheckDigit("10614141123456789"), 7);  // SSCC.
  EXPECT_EQ(CheckDigit("952132100000"), 1);       // GLN.
  EXPECT_EQ(CheckDigit("0"), 0);
  EXPECT_EQ(CheckDigit("1"), 7);
}

TEST(CheckDigitTest, IsValidGtin14) {
  EXPECT_TRUE(IsValidGtin14("09506000134352"));
  EXPECT_FALSE(IsValidGtin14("09506000134353"));
  EXPECT_FALSE(IsValidGtin14("9506000134352"));
  EXPECT_FALSE(IsValidGtin14("0950600013435A"));
  EXPECT_FALSE(IsValidGtin14(""));
}

TEST(SerializeTest, RoundTripsThroughBothForms) {
  const std::vector<Element> elements = {
      {"01", "GTIN", "09506000134352"},
      {"10", "BATCH/LOT", "A(1)"},
      {"17", "USE BY or EXPIRY", "261231"},
      {"422", "ORIGIN", "276"},
      {"21", "SERIAL", "S1"},
  };
  EXPECT_EQ(ToBracketed(elements),
            "(01)09506000134352(10)A\\(1)(17)261231(422)276(21)S1");
  EXPECT_EQ(ToElementString(elements),
            "0109506000134352"
            "10A(1)" GS
            "17261231"
            "422276" GS "21S1");
  for (const std::string& form :
       {ToBracketed(elements), ToElementString(elements)}) {
    absl::StatusOr<std::vector<Element>> parsed = Parse(form, kOptions);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, elements);
  }
}

}  // namespace
}  // namespace lotledger::gs1
