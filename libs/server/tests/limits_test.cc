// The server-wide string limit names the offending field at any depth.
#include "libs/server/limits.h"

#include "gtest/gtest.h"
#include "lotledger/v1/lots.pb.h"

namespace lotledger::server {
namespace {

TEST(StringLimits, NamesTheFieldAtAnyDepth) {
  v1::CreateLotRequest req;
  req.set_lot_number("A17");
  EXPECT_TRUE(CheckStringLengths(req, 8).ok());
  req.set_lot_number(std::string(9, 'x'));
  absl::Status s = CheckStringLengths(req, 8);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "lot_number: at most 8 bytes (got 9)");
  req.set_lot_number("A17");
  req.add_inputs()->set_lot_id("ok");
  req.add_inputs()->set_lot_id(std::string(100, 'y'));
  s = CheckStringLengths(req, 8);
  EXPECT_EQ(s.message(), "inputs[1].lot_id: at most 8 bytes (got 100)");
}

TEST(RequestSizeLimits, FitEachMethodUnderTheCap) {
  constexpr size_t kCap = 4 << 20;
  EXPECT_EQ(MaxRequestBytes("/lotledger.v1.LotsService/GetLot", kCap),
            64u * 1024);
  EXPECT_EQ(
      MaxRequestBytes("/lotledger.v1.QualityService/ChangeDisposition", kCap),
      256u * 1024);
  EXPECT_EQ(MaxRequestBytes("/lotledger.v1.LotsService/CreateLot", kCap),
            1024u * 1024);
  EXPECT_EQ(MaxRequestBytes("/lotledger.v1.InventoryService/ShipStock", kCap),
            1024u * 1024);
  EXPECT_EQ(LargestRequestBytes(kCap), 1024u * 1024);
  // --max-message-bytes lower than a method's own limit wins.
  EXPECT_EQ(MaxRequestBytes("/lotledger.v1.LotsService/CreateLot", 2048),
            2048u);
  EXPECT_EQ(LargestRequestBytes(2048), 2048u);

  v1::CreateLotRequest req;
  req.set_lot_number(std::string(3000, 'x'));
  EXPECT_TRUE(
      CheckRequestSize("/lotledger.v1.LotsService/CreateLot", req, kCap).ok());
  absl::Status s =
      CheckRequestSize("/lotledger.v1.LotsService/CreateLot", req, 2048);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(),
            "CreateLot: a request of at most 2048 bytes (got 3003)");
}

}  // namespace
}  // namespace lotledger::server
