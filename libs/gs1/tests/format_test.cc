#include "libs/gs1/format.h"

#include <vector>

#include "gtest/gtest.h"

namespace lotledger::gs1 {
namespace {

TEST(FormatTextTest, AlignsColumns) {
  const std::vector<Element> elements = {
      {"01", "GTIN", "09506000134352"},
      {"17", "USE BY or EXPIRY", "261231"},
      {"3103", "NET WEIGHT (kg)", "000525"},
  };
  EXPECT_EQ(FormatText(elements),
            "AI      TITLE             VALUE\n"
            "(01)    GTIN              09506000134352\n"
            "(17)    USE BY or EXPIRY  261231\n"
            "(3103)  NET WEIGHT (kg)   000525\n");
}

TEST(FormatTextTest, CountsUtf8CodePointsNotBytes) {
  const std::vector<Element> elements = {
      {"3140", "AREA (m²)", "000100"},
      {"3100", "NET WEIGHT (kg)", "000200"},
  };
  EXPECT_EQ(FormatText(elements),
            "AI      TITLE            VALUE\n"
            "(3140)  AREA (m²)        000100\n"
            "(3100)  NET WEIGHT (kg)  000200\n");
}

TEST(FormatTextTest, EmptyListIsJustTheHeader) {
  EXPECT_EQ(FormatText({}), "AI  TITLE  VALUE\n");
}

TEST(FormatJsonTest, ListsElements) {
  EXPECT_EQ(FormatJson(
                {{"01", "GTIN", "09506000134352"}, {"10", "BATCH/LOT", "A17"}}),
            R"([{"ai":"01","title":"GTIN","value":"09506000134352"},)"
            R"({"ai":"10","title":"BATCH/LOT","value":"A17"}])");
  EXPECT_EQ(FormatJson({}), "[]");
}

TEST(FormatJsonTest, EscapesStrings) {
  EXPECT_EQ(
      FormatJson({{"10", "AREA (m²)", "a\"b\\c/\x1D\n\t\x7F"}}),
      // The delimiter keeps "(m²)" from ending the raw string.
      R"json([{"ai":"10","title":"AREA (m²)","value":"a\"b\\c/\u001d\n\t\u007f"}])json");
}

}  // namespace
}  // namespace lotledger::gs1
