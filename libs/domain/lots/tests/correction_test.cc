// The one reader of correction values: what a value may be, the canonical
// text, and a bad value in the log read as a clear error (never a crash)
// by every view that folds corrections.
#include "libs/domain/lots/correction.h"

#include <string>

#include "gtest/gtest.h"
#include "libs/domain/lots/dates.h"
#include "libs/domain/lots/decider.h"

namespace lotledger::lots {
namespace {

v1::LotCorrected Corrected(const std::string& field,
                           const std::string& new_value) {
  v1::LotCorrected c;
  c.set_lot_id("C-100:L5");
  c.set_field(field);
  c.set_old_value(field == "quantity" ? "1000" : "2028-01-10");
  c.set_new_value(new_value);
  c.set_reason("label misprint");
  return c;
}

TEST(CorrectionValue, ParsesEachKindOfField) {
  absl::StatusOr<CorrectionValue> date =
      ParseCorrectionValue("expires_on", "2027-12-31");
  ASSERT_TRUE(date.ok()) << date.status();
  EXPECT_EQ(date->date.year(), 2027);
  EXPECT_EQ(date->date.month(), 12);
  EXPECT_EQ(date->date.day(), 31);
  EXPECT_EQ(FormatCorrectionValue(*date), "2027-12-31");

  absl::StatusOr<CorrectionValue> amount =
      ParseCorrectionValue("quantity", "0600");
  ASSERT_TRUE(amount.ok()) << amount.status();
  EXPECT_EQ(amount->amount, 600);
  EXPECT_EQ(FormatCorrectionValue(*amount), "600");

  absl::StatusOr<CorrectionValue> site = ParseCorrectionValue("site", "Cork");
  ASSERT_TRUE(site.ok()) << site.status();
  EXPECT_EQ(FormatCorrectionValue(*site), "Cork");
}

TEST(CorrectionValue, RefusalsSayWhatIsWrong) {
  EXPECT_EQ(ParseCorrectionValue("quantity", "12.5").status().message(),
            "\"12.5\" is not a whole number");
  EXPECT_EQ(ParseCorrectionValue("expires_on", "31.12.2027").status().message(),
            "\"31.12.2027\" is not a date written YYYY-MM-DD");
  const absl::Status item = ParseCorrectionValue("item", "X").status();
  EXPECT_EQ(item.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(item.message(),
            "\"item\" cannot be corrected; one of expires_on, "
            "manufactured_on, quantity, site, production_order, supplier, "
            "supplier_lot");
}

TEST(CorrectionValue, BadValueInTheLogIsAnErrorNamingTheEvent) {
  const absl::Status bad =
      CorrectedNewValue(Corrected("quantity", "lots")).status();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.message(),
            "LotCorrected of lot C-100:L5: new_value of quantity: \"lots\" is "
            "not a whole number");
  v1::LotCorrected old_bad = Corrected("expires_on", "2027-12-31");
  old_bad.set_old_value("soon");
  EXPECT_EQ(CorrectedOldValue(old_bad).status().message(),
            "LotCorrected of lot C-100:L5: old_value of expires_on: \"soon\" "
            "is not a date written YYYY-MM-DD");
}

TEST(CorrectionValue, LotsViewSkipsABadValueAndKeepsTheHistory) {
  v1::Lot lot;
  lot.set_lot_id("C-100:L5");
  lot.mutable_quantity()->set_amount(1000);
  v1::Event event;
  *event.mutable_lot_corrected() = Corrected("quantity", "lots");
  Evolve(lot, event);  // must not crash
  EXPECT_EQ(lot.quantity().amount(), 1000);
  ASSERT_EQ(lot.corrections_size(), 1);
  EXPECT_EQ(lot.corrections(0).correction().new_value(), "lots");

  *event.mutable_lot_corrected() = Corrected("quantity", "900");
  Evolve(lot, event);
  EXPECT_EQ(lot.quantity().amount(), 900);
}

TEST(CorrectionValue, CorrectedExpiryIsGivenByAPerson) {
  v1::Lot lot;
  lot.set_expiry_source(v1::EXPIRY_SOURCE_COMPONENT_CAP);
  lot.set_expiry_set_by_lot_id("C-100:L6");
  ApplyCorrectionValue(lot, *ParseCorrectionValue("expires_on", "2027-01-02"));
  EXPECT_EQ(CurrentText(lot, "expires_on"), "2027-01-02");
  EXPECT_EQ(lot.expiry_source(), v1::EXPIRY_SOURCE_GIVEN);
  EXPECT_TRUE(lot.expiry_set_by_lot_id().empty());
}

TEST(CorrectionValue, DateViewsTakeOnlyDatesThatParse) {
  v1::Date expires;
  v1::Date made;
  ApplyCorrectedDate(Corrected("expires_on", "2027-12-31"), &expires, &made);
  EXPECT_EQ(FormatDate(expires), "2027-12-31");
  EXPECT_EQ(made.year(), 0);
  ApplyCorrectedDate(Corrected("expires_on", "someday"), &expires, &made);
  EXPECT_EQ(FormatDate(expires), "2027-12-31");  // a bad value changes nothing
  ApplyCorrectedDate(Corrected("quantity", "5"), &expires, &made);
  EXPECT_EQ(FormatDate(expires), "2027-12-31");
  EXPECT_EQ(made.year(), 0);
}

}  // namespace
}  // namespace lotledger::lots
