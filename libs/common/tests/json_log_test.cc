#include "libs/common/json_log.h"

#include "gtest/gtest.h"

namespace lotledger {
namespace {

// A log line must stay one valid JSON object whatever a message carries:
// a lot number with quotes, a status with a newline, a control byte.
TEST(JsonLogTest, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(JsonString("plain"), "\"plain\"");
  EXPECT_EQ(JsonString("Q\"->\"FAKE:LOT"), "\"Q\\\"->\\\"FAKE:LOT\"");
  EXPECT_EQ(JsonString("a\\b"), "\"a\\\\b\"");
  EXPECT_EQ(JsonString("line1\nline2\r\t"), "\"line1\\nline2\\r\\t\"");
  EXPECT_EQ(JsonString(std::string("\x01\x1f", 2)), "\"\\u0001\\u001f\"");
  EXPECT_EQ(JsonLine("error", "chain \"broken\"", {{"aggregate", "A\nB"}}),
            "{\"level\":\"error\",\"msg\":\"chain \\\"broken\\\"\","
            "\"aggregate\":\"A\\nB\"}");
}

}  // namespace
}  // namespace lotledger
