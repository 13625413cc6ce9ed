// W3C traceparent: valid headers are taken as they are, anything else is
// replaced by a fresh trace (never refused); the thread's current context
// is scoped.
#include "libs/common/trace_context.h"

#include "gtest/gtest.h"

namespace lotledger {
namespace {

constexpr char kValid[] =
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(TraceContextTest, ParsesAValidHeaderAndFormatsItBack) {
  std::optional<TraceContext> c = ParseTraceparent(kValid);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(c->parent_id, "00f067aa0ba902b7");
  EXPECT_EQ(c->flags, 1);
  EXPECT_EQ(c->ToTraceparent(), kValid);
}

TEST(TraceContextTest, RefusesMalformedHeaders) {
  for (const char* bad : {
           "",
           "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // ver
           "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // zero
           "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  // zero
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  // upper
           "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",   // short
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1x",  // flags
           "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
       }) {
    EXPECT_FALSE(ParseTraceparent(bad).has_value()) << bad;
  }
}

TEST(TraceContextTest, AnInvalidHeaderIsReplacedByAFreshTrace) {
  const TraceContext a = TraceFromHeader("garbage");
  const TraceContext b = TraceFromHeader("");
  ASSERT_TRUE(a.valid());
  EXPECT_TRUE(ParseTraceparent(a.ToTraceparent()).has_value());
  EXPECT_NE(a.trace_id, b.trace_id);
  EXPECT_EQ(TraceFromHeader(kValid).trace_id,
            "4bf92f3577b34da6a3ce929d0e0e4736");
}

TEST(TraceContextTest, ChildKeepsTheTraceWithANewParent) {
  const TraceContext parent = *ParseTraceparent(kValid);
  const TraceContext child = ChildOf(parent);
  EXPECT_EQ(child.trace_id, parent.trace_id);
  EXPECT_NE(child.parent_id, parent.parent_id);
  EXPECT_EQ(child.flags, parent.flags);
}

TEST(TraceContextTest, ScopedContextIsRestored) {
  EXPECT_FALSE(CurrentTrace().valid());
  {
    ScopedTraceContext outer(*ParseTraceparent(kValid));
    EXPECT_EQ(CurrentTrace().parent_id, "00f067aa0ba902b7");
    {
      ScopedTraceContext inner(NewTrace());
      EXPECT_NE(CurrentTrace().parent_id, "00f067aa0ba902b7");
    }
    EXPECT_EQ(CurrentTrace().parent_id, "00f067aa0ba902b7");
  }
  EXPECT_FALSE(CurrentTrace().valid());
}

}  // namespace
}  // namespace lotledger
