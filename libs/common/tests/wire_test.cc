// Reading stored messages in place (wire.h) gives what decoding them
// gives: the fields protobuf itself reads, the last of a repeated scalar,
// a stop where the visit stops, and "does not parse" for bytes protobuf
// refuses.
#include "libs/common/wire.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "lotledger/v1/events.pb.h"
#include "lotledger/v1/recall.pb.h"

namespace lotledger {
namespace {

TEST(WireTest, ReadsTheFieldsProtobufWrites) {
  v1::EventRecord record;
  record.set_body(std::string("body\0with nul", 13));
  record.set_seq(300);  // a two-byte varint
  record.set_prev_hash(std::string(32, 'p'));
  record.set_hash(std::string(32, 'h'));
  const std::string wire = record.SerializeAsString();

  std::vector<int> numbers;
  std::string_view body, hash;
  uint64_t seq = 0;
  ASSERT_TRUE(ForEachWireField(wire, [&](const WireField& f) {
    numbers.push_back(f.number);
    if (f.number == v1::EventRecord::kBodyFieldNumber) body = f.bytes;
    if (f.number == v1::EventRecord::kSeqFieldNumber) seq = f.varint;
    if (f.number == v1::EventRecord::kHashFieldNumber) hash = f.bytes;
    return true;
  }));
  EXPECT_EQ(numbers, (std::vector<int>{1, 2, 3, 4}));
  EXPECT_EQ(body, record.body());
  EXPECT_EQ(seq, 300u);
  EXPECT_EQ(hash, record.hash());
  // Views into the message, not copies.
  EXPECT_GE(body.data(), wire.data());
  EXPECT_LE(body.data() + body.size(), wire.data() + wire.size());

  std::string_view first;
  ASSERT_TRUE(FirstWireBytes(wire, v1::EventRecord::kHashFieldNumber, &first));
  EXPECT_EQ(first, record.hash());
  ASSERT_TRUE(FirstWireBytes(wire, 9, &first));
  EXPECT_TRUE(first.empty());  // absent
}

TEST(WireTest, TheLastVarintCountsAsProtobufReadsIt) {
  v1::Recall a;
  a.set_status(v1::RECALL_STATUS_OPEN);
  v1::Recall b;
  b.set_status(v1::RECALL_STATUS_CLOSED);
  // Two serialized messages back to back merge: the later status wins.
  const std::string wire = a.SerializeAsString() + b.SerializeAsString();
  v1::Recall decoded;
  ASSERT_TRUE(decoded.ParseFromString(wire));
  uint64_t status = 0;
  ASSERT_TRUE(LastWireVarint(wire, v1::Recall::kStatusFieldNumber, &status));
  EXPECT_EQ(status, static_cast<uint64_t>(decoded.status()));
  EXPECT_EQ(status, static_cast<uint64_t>(v1::RECALL_STATUS_CLOSED));
  ASSERT_TRUE(LastWireVarint("", v1::Recall::kStatusFieldNumber, &status));
  EXPECT_EQ(status, 0u);
}

TEST(WireTest, AVisitThatStopsStopsAndBrokenBytesDoNotParse) {
  v1::EventRecord record;
  record.set_body("b");
  record.set_seq(7);
  std::string wire = record.SerializeAsString();
  int seen = 0;
  EXPECT_TRUE(ForEachWireField(wire, [&](const WireField&) {
    ++seen;
    return false;
  }));
  EXPECT_EQ(seen, 1);

  const auto parses = [](const std::string& bytes) {
    return ForEachWireField(bytes, [](const WireField&) { return true; });
  };
  EXPECT_TRUE(parses(wire));
  // Each of these is refused by protobuf too.
  const std::vector<std::string> broken = {
      std::string("\x0a\x05"
                  "ab",
                  4),                  // length past the end
      std::string("\x10", 1),          // varint cut off
      std::string("\x10\xff", 2),      // varint cut off mid-way
      std::string("\x0b", 1),          // a group start
      std::string("\x00\x01", 2),      // field number 0
      std::string("\x09\x01\x02", 3),  // fixed64 cut short
      std::string("\x0d\x01", 2),      // fixed32 cut short
  };
  for (const std::string& bytes : broken) {
    SCOPED_TRACE(testing::Message() << "bytes of size " << bytes.size());
    v1::EventRecord decoded;
    EXPECT_FALSE(decoded.ParseFromString(bytes));
    EXPECT_FALSE(parses(bytes));
  }
}

}  // namespace
}  // namespace lotledger
