// The logger: every line one valid JSON object whatever a message or a
// field carries (quotes, newlines, control characters, invalid UTF-8),
// with ts, level, msg and the current trace id; lines below the minimum
// level are not written.
#include "libs/common/json_log.h"

#include "gtest/gtest.h"
#include "libs/common/check.h"
#include "libs/common/tests/json_check.h"
#include "libs/common/trace_context.h"

namespace lotledger {
namespace {

using ::lotledger::testing::CaptureStderr;
using ::lotledger::testing::HostileMessages;
using ::lotledger::testing::StrictJson;

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

TEST(JsonLogTest, ReplacesInvalidUtf8AndKeepsValidUtf8) {
  EXPECT_EQ(JsonString("a\x80z"), "\"a\\ufffdz\"");
  EXPECT_EQ(JsonString("\xC0\xAF"), "\"\\ufffd\\ufffd\"");  // overlong '/'
  EXPECT_EQ(JsonString("\xED\xA0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");
  EXPECT_EQ(JsonString("end \xE2\x82"), "\"end \\ufffd\\ufffd\"");
  EXPECT_EQ(JsonString("Lösung \xF0\x9F\x92\x89"),
            "\"Lösung \xF0\x9F\x92\x89\"");
}

TEST(JsonLogTest, EveryLineIsOneValidObjectWithTsLevelMsgAndTrace) {
  CaptureStderr capture(::testing::TempDir() + "/json_log_test.stderr");
  const TraceContext trace = NewTrace();
  {
    ScopedTraceContext scope(trace);
    for (const std::string& m : HostileMessages()) {
      LogJson("warn", m, {{m, m}, {"lot", "L-1"}});
      LogJsonRaw("error", m, {{m, JsonString(m)}, {"n", "42"}});
    }
  }
  LogJson("info", "outside any call");
  capture.Restore();

  const std::vector<std::string> lines = capture.Lines();
  ASSERT_EQ(lines.size(), 2 * HostileMessages().size() + 1);
  for (size_t i = 0; i < lines.size(); ++i) {
    std::map<std::string, std::string> fields;
    EXPECT_EQ(StrictJson::CheckObject(lines[i], &fields), "") << lines[i];
    EXPECT_FALSE(fields["ts"].empty()) << lines[i];
    EXPECT_FALSE(fields["msg"].empty()) << lines[i];
    if (i + 1 < lines.size()) {
      EXPECT_EQ(fields["trace_id"], trace.trace_id) << lines[i];
      EXPECT_EQ(fields["level"], i % 2 == 0 ? "warn" : "error");
    } else {
      EXPECT_EQ(fields.count("trace_id"), 0u) << lines[i];
      EXPECT_EQ(fields["level"], "info");
    }
  }
}

// A failed CHECK is the last line a process writes: it must be JSON too,
// with the condition's quotes and backslashes escaped.
TEST(JsonLogDeathTest, FailedCheckWritesOneJsonLine) {
  const std::string path = ::testing::TempDir() + "/check_failed.stderr";
  EXPECT_DEATH(
      {
        if (std::freopen(path.c_str(), "w", stderr) == nullptr) std::abort();
        CHECK(std::string("a\"b\\c") == "d");
      },
      "");
  std::ifstream in(path);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  std::map<std::string, std::string> fields;
  EXPECT_EQ(StrictJson::CheckObject(line, &fields), "") << line;
  EXPECT_EQ(fields["level"], "fatal");
  EXPECT_EQ(fields["msg"], "CHECK failed");
  // The validator keeps values as written, escapes and all.
  EXPECT_EQ(fields["check"], R"(std::string(\"a\\\"b\\\\c\") == \"d\")");
  EXPECT_NE(fields["file"].find("json_log_test.cc"), std::string::npos);
}

// The validator the log tests rely on refuses what a log pipeline would.
TEST(JsonLogTest, TheStrictValidatorRefusesBrokenLines) {
  for (const char* bad : {
           "{\"msg\":\"a\"b\"}",        // unescaped quote
           "{\"msg\":\"a\nb\"}",        // raw newline
           "{\"msg\":\"a\x01\"}",       // raw control character
           "{\"msg\":\"\xC0\xAF\"}",    // overlong UTF-8
           "{\"msg\":\"a\\q\"}",        // bad escape
           "{\"msg\":\"a\"} trailing",  // two values
           "{\"n\":01}",                // leading zero
           "{\"msg\":\"unterminated}",
       }) {
    EXPECT_NE(StrictJson::CheckObject(bad, nullptr), "") << bad;
  }
  std::map<std::string, std::string> f;
  EXPECT_EQ(
      StrictJson::CheckObject(
          "{\"a\":\"x\\n\\u00e9\",\"n\":-1.5e3,\"o\":{\"l\":[true,null]}}", &f),
      "");
  EXPECT_EQ(f["a"], "x\\n\\u00e9");
}

TEST(JsonLogTest, LinesBelowTheMinimumLevelAreNotWritten) {
  CaptureStderr capture(::testing::TempDir() + "/json_log_level.stderr");
  SetMinLogLevel(LogLevel::kWarn);
  LogJson("debug", "not written");
  LogJson("info", "not written");
  LogJson("warn", "written");
  LogJsonRaw("error", "written", {});
  SetMinLogLevel(LogLevel::kDebug);
  LogJson("debug", "written");
  SetMinLogLevel(LogLevel::kInfo);
  LogJson("debug", "not written");
  capture.Restore();
  const std::vector<std::string> lines = capture.Lines();
  ASSERT_EQ(lines.size(), 3u);
  for (const std::string& line : lines) {
    EXPECT_NE(line.find("\"msg\":\"written\""), std::string::npos) << line;
  }
  EXPECT_EQ(ParseLogLevel("warning"), LogLevel::kWarn);
  EXPECT_EQ(ParseLogLevel("loud"), std::nullopt);
}

}  // namespace
}  // namespace lotledger
