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

}  // namespace
}  // namespace lotledger::server
