#include "tools/lotctl/csv.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lotledger::lotctl {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::vector<std::string>> Fields(std::string_view text) {
  absl::StatusOr<std::vector<CsvRecord>> records = ParseCsv(text);
  EXPECT_TRUE(records.ok()) << records.status();
  std::vector<std::vector<std::string>> out;
  if (records.ok()) {
    for (const CsvRecord& r : *records) out.push_back(r.fields);
  }
  return out;
}

TEST(CsvTest, PlainRecordsWithAndWithoutFinalLineBreak) {
  EXPECT_THAT(Fields("a,b\n1,2\n"),
              ElementsAre(ElementsAre("a", "b"), ElementsAre("1", "2")));
  EXPECT_THAT(Fields("a,b\n1,2"),
              ElementsAre(ElementsAre("a", "b"), ElementsAre("1", "2")));
}

TEST(CsvTest, EmptyFieldsAreKept) {
  EXPECT_THAT(Fields("a,,c,\n"), ElementsAre(ElementsAre("a", "", "c", "")));
  EXPECT_THAT(Fields("\"\",x\n"), ElementsAre(ElementsAre("", "x")));
}

TEST(CsvTest, QuotedFieldsHoldCommasQuotesAndLineBreaks) {
  EXPECT_THAT(Fields("\"Catheter, 12Fr\",\"say \"\"hi\"\"\"\n"),
              ElementsAre(ElementsAre("Catheter, 12Fr", "say \"hi\"")));
  EXPECT_THAT(Fields("name,notes\nx,\"line one\nline two\"\ny,z\n"),
              ElementsAre(ElementsAre("name", "notes"),
                          ElementsAre("x", "line one\nline two"),
                          ElementsAre("y", "z")));
}

TEST(CsvTest, CrLfEndsRecordsButStaysInsideQuotes) {
  EXPECT_THAT(Fields("a,b\r\n1,\"x\r\ny\"\r\n2,3\r\n"),
              ElementsAre(ElementsAre("a", "b"), ElementsAre("1", "x\r\ny"),
                          ElementsAre("2", "3")));
  // A lone CR inside an unquoted field is data, not a line end.
  EXPECT_THAT(Fields("a\rb,c\n"), ElementsAre(ElementsAre("a\rb", "c")));
}

TEST(CsvTest, LineNumbersCountLineBreaksInsideQuotes) {
  absl::StatusOr<std::vector<CsvRecord>> records =
      ParseCsv("h\n\"1\n2\n3\"\nnext\n");
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 3u);
  EXPECT_EQ((*records)[0].line, 1);
  EXPECT_EQ((*records)[1].line, 2);
  EXPECT_EQ((*records)[2].line, 5);
}

TEST(CsvTest, RaggedRowsAreReturnedAsTheyAre) {
  EXPECT_THAT(Fields("a,b,c\n1\n1,2,3,4\n"),
              ElementsAre(ElementsAre("a", "b", "c"), ElementsAre("1"),
                          ElementsAre("1", "2", "3", "4")));
}

TEST(CsvTest, BlankLinesAndByteOrderMark) {
  absl::StatusOr<std::vector<CsvRecord>> records =
      ParseCsv("\xEF\xBB\xBFitem\n\nx\n");
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 3u);
  EXPECT_EQ((*records)[0].fields[0], "item");  // BOM gone
  EXPECT_TRUE(IsBlank((*records)[1]));
  EXPECT_FALSE(IsBlank((*records)[2]));
  EXPECT_TRUE(Fields("").empty());
}

TEST(CsvTest, MalformedQuotingNamesTheLine) {
  absl::StatusOr<std::vector<CsvRecord>> r = ParseCsv("a\n\"open\nx\n");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(),
              HasSubstr("line 2: quoted field is not closed"));

  r = ParseCsv("a\nb\"c\n");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(),
              HasSubstr("line 2: a \" inside an unquoted"));

  r = ParseCsv("\"a\"b,c\n");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(),
              HasSubstr("line 1: text after the closing quote"));
}

}  // namespace
}  // namespace lotledger::lotctl
