// A lot's history at serial level and the sentences that name serials:
// which events of a serialised lot concern one unit (those naming it,
// recalls of the whole lot or of it, the lot's own events about the lot as
// a whole), range membership without expanding, and the readable text of
// movements, assignments and usage reports.
#include "libs/audit/serial_history.h"

#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "libs/audit/describe.h"

namespace lotledger::audit {
namespace {

v1::Event Ev(const std::string& text) {
  v1::Event e;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &e)) << text;
  return e;
}

TEST(SerialHistoryTest, RangesContainWithoutExpanding) {
  const v1::Event e =
      Ev("stock_shipped { serials { first: 'SN0001' last: 'SN0100' } "
         "serials { first: 'A09' last: 'A11' } serials { first: 'X-7' } }");
  const auto& r = e.stock_shipped().serials();
  EXPECT_TRUE(RangesContain(r, "SN0001"));
  EXPECT_TRUE(RangesContain(r, "SN0042"));
  EXPECT_TRUE(RangesContain(r, "SN0100"));
  EXPECT_FALSE(RangesContain(r, "SN0101"));
  EXPECT_FALSE(RangesContain(r, "SN00A1"));
  EXPECT_FALSE(RangesContain(r, "SN001"));
  EXPECT_TRUE(RangesContain(r, "A10"));
  EXPECT_FALSE(RangesContain(r, "B10"));
  EXPECT_TRUE(RangesContain(r, "X-7"));
  EXPECT_FALSE(RangesContain(r, "X-8"));
}

TEST(SerialHistoryTest, OnlyEventsNamingTheUnitAndTheLotsOwn) {
  const std::string lot = "IMP:L1";
  const v1::Event created =
      Ev("lot_created { lot_id: 'IMP:L1' item: 'IMP' lot_number: 'L1' }");
  const v1::Event assigned =
      Ev("serials_assigned { lot_id: 'IMP:L1' serials { first: 'SN0001' last: "
         "'SN0010' } }");
  const v1::Event shipped_it =
      Ev("stock_shipped { lot_id: 'IMP:L1' serials { first: 'SN0002' last: "
         "'SN0003' } }");
  const v1::Event shipped_other =
      Ev("stock_shipped { lot_id: 'IMP:L1' serials { first: 'SN0004' } }");
  const v1::Event used =
      Ev("device_usage_reported { lot_id: 'IMP:L1' serials { first: "
         "'SN0003' } }");
  const v1::Event found =
      Ev("stock_adjusted { lot_id: 'IMP:L1' serials_missing { first: 'SN0003' "
         "} }");
  const v1::Event whole_recall =
      Ev("recall_initiated { lots { lot_id: 'IMP:L1' } }");
  const v1::Event other_units =
      Ev("recall_initiated { lots { lot_id: 'IMP:L1' serials { first: 'SN0009' "
         "} } }");
  const v1::Event released =
      Ev("disposition_changed { lot_id: 'IMP:L1' to: DISPOSITION_RELEASED }");
  EXPECT_TRUE(InSerialHistory(created, lot, "SN0003"));
  EXPECT_TRUE(InSerialHistory(assigned, lot, "SN0003"));
  EXPECT_TRUE(InSerialHistory(shipped_it, lot, "SN0003"));
  EXPECT_FALSE(InSerialHistory(shipped_other, lot, "SN0003"));
  EXPECT_TRUE(InSerialHistory(used, lot, "SN0003"));
  EXPECT_TRUE(InSerialHistory(found, lot, "SN0003"));
  EXPECT_TRUE(InSerialHistory(whole_recall, lot, "SN0003"));
  EXPECT_FALSE(InSerialHistory(other_units, lot, "SN0003"));
  EXPECT_TRUE(InSerialHistory(other_units, lot, "SN0009"));
  EXPECT_TRUE(InSerialHistory(released, lot, "SN0003"));
}

TEST(SerialHistoryTest, SentencesNameTheSerials) {
  EXPECT_EQ(Describe(Ev("stock_shipped { shipment_id: 'S-1' line_count: 1 "
                        "lot_id: 'IMP:L1' from_location_id: 'WH1' quantity "
                        "{ amount: 2 uom: 'EA' } customer { customer_id: "
                        "'H-12' } serials { first: 'SN0001' last: 'SN0002' "
                        "} }")),
            "shipped 2 EA (SN0001..SN0002) of IMP:L1 from WH1 to customer "
            "H-12 (shipment S-1, line 1 of 1)");
  EXPECT_EQ(Describe(Ev("serials_assigned { lot_id: 'IMP:L1' item: 'IMP' "
                        "serials { first: 'SN0001' last: 'SN0100' } count: "
                        "100 lot_total: 100 }")),
            "serials SN0001..SN0100 assigned to lot IMP:L1 (100, 100 in the "
            "lot)");
  EXPECT_EQ(Describe(Ev("device_usage_reported { lot_id: 'IMP:L1' customer_id: "
                        "'H-12' serials { first: 'SN0002' } count: 1 used_on { "
                        "year: 2026 month: 5 day: 4 } site: 'OR 3' report_id: "
                        "'UR-9' }")),
            "customer H-12 reported 1 of IMP:L1 used (SN0002) on 2026-05-04, "
            "report UR-9");
  // A product tracked by lot reads as before.
  EXPECT_EQ(Describe(Ev("stock_received { lot_id: 'GLV:G1' location_id: "
                        "'WH1' quantity { amount: 40 uom: 'EA' } }")),
            "received 40 EA of GLV:G1 at WH1");
}

}  // namespace
}  // namespace lotledger::audit
