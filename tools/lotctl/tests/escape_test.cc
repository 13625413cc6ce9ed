// What lotctl writes into HTML and DOT stays data, whatever a lot number or
// unit holds.
#include "tools/lotctl/escape.h"

#include "gtest/gtest.h"

namespace lotledger::lotctl {
namespace {

TEST(Escape, HtmlTurnsMarkupIntoText) {
  EXPECT_EQ(
      HtmlEscape(R"(<script>alert('x')</script> & "q")"),
      "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;");
  EXPECT_EQ(HtmlEscape(std::string("a\x01\x1b[31mb\tc\n")), "a[31mb\tc\n");
}

TEST(Escape, DotStringsCannotEndEarlyOrEscape) {
  EXPECT_EQ(DotQuoted(R"x(EA" URL="javascript:alert(1)")x"),
            R"x("EA\" URL=\"javascript:alert(1)\"")x");
  EXPECT_EQ(DotQuoted(R"(Q"->"FAKE:LOT)"), R"("Q\"->\"FAKE:LOT")");
  // A trailing backslash would otherwise escape the closing quote; \N and
  // \l would be label escapes.
  EXPECT_EQ(DotQuoted("A\\"), R"("A\\")");
  EXPECT_EQ(DotQuoted("\\N\\l"), R"("\\N\\l")");
  EXPECT_EQ(DotQuoted("two\nlines\r"), R"("two\nlines")");
}

}  // namespace
}  // namespace lotledger::lotctl
