// How lotctl prints money and the value KPIs (kpi_values.h).
#include "tools/lotctl/kpi_values.h"

#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lotledger::lotctl {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

v1::Money Eur(int64_t micros) {
  v1::Money m;
  m.set_currency("EUR");
  m.set_micros(micros);
  return m;
}

TEST(MoneyTextTest, CurrencyThousandsAndCents) {
  EXPECT_EQ(MoneyText(Eur(1'234'560'000)), "EUR 1,234.56");
  EXPECT_EQ(MoneyText(Eur(0)), "EUR 0.00");
  EXPECT_EQ(MoneyText(Eur(12'500'000)), "EUR 12.50");
  EXPECT_EQ(MoneyText(Eur(1'234'567'890'000)), "EUR 1,234,567.89");
  EXPECT_EQ(MoneyText(Eur(12'500)), "EUR 0.0125");  // below a cent: shown
  EXPECT_EQ(MoneyText(Eur(999'999)), "EUR 0.999999");
  EXPECT_EQ(MoneyText(Eur(-5'000'000)), "EUR -5.00");
  EXPECT_EQ(MoneyText(v1::Money()), "-");
}

TEST(ParseMoneyTextTest, CurrencyAndAnExactAmount) {
  absl::StatusOr<v1::Money> m = ParseMoneyText("EUR 12.50");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->currency(), "EUR");
  EXPECT_EQ(m->micros(), 12'500'000);
  EXPECT_EQ(ParseMoneyText("USD 1,234.5")->micros(), 1'234'500'000);
  EXPECT_EQ(ParseMoneyText("EUR 0.0125")->micros(), 12'500);
  EXPECT_EQ(ParseMoneyText("EUR 7")->micros(), 7'000'000);
  EXPECT_EQ(ParseMoneyText("eur 1").status().message(),
            "\"eur 1\": the currency is three upper-case letters; expected "
            "e.g. \"EUR 12.50\"");
  EXPECT_EQ(ParseMoneyText("12.50").status().message(),
            "\"12.50\": a currency code of three letters first; expected "
            "e.g. \"EUR 12.50\"");
  EXPECT_EQ(ParseMoneyText("EUR 1.0000001").status().message(),
            "\"EUR 1.0000001\": at most six decimals; expected e.g. \"EUR "
            "12.50\"");
  EXPECT_FALSE(ParseMoneyText("EUR -1").ok());
  EXPECT_FALSE(ParseMoneyText("EUR ").ok());
  // What MoneyText prints reads back.
  EXPECT_EQ(ParseMoneyText(MoneyText(*m))->micros(), 12'500'000);
}

TEST(PrintValueKpisTest, ItemsMonthsShareAndRecalls) {
  v1::GetKpisResponse resp;
  v1::ItemKpis* k = resp.add_items();
  k->set_item("09506000010001");
  *k->mutable_unit_cost() = Eur(18'500'000);
  v1::ThresholdValue* t = k->add_near_expiry_value();
  t->set_threshold_days(90);
  *t->mutable_value() = Eur(185'000'000);
  *k->mutable_expired_value() = Eur(37'000'000);
  *k->mutable_received_value() = Eur(18'500'000'000);
  *k->mutable_expired_written_off() = Eur(370'000'000);
  k->set_expiry_loss_rate(0.02);
  v1::MonthlyValue* m = k->add_written_off();
  m->set_month("2026-03");
  m->set_reason(v1::SCRAP_REASON_DAMAGED);
  *m->mutable_value() = Eur(55'500'000);
  resp.add_items()->set_item("NO-COST");  // no cost: no value row
  resp.set_lots_expired(8);
  resp.set_lots_alerted_90_days(6);
  resp.set_alerted_90_days_share(0.75);
  v1::RecallKpis* r = resp.add_recalls();
  r->set_recall_id("RC-1");
  r->set_units_in_scope(1200);
  *r->add_cost() = Eur(22'200'000'000);
  r->mutable_initiated_on()->set_year(2026);
  r->mutable_initiated_on()->set_month(1);
  r->mutable_initiated_on()->set_day(2);
  r->set_days_to_95(-1);

  std::ostringstream out;
  PrintValueKpis(out, resp);
  const std::string text = out.str();
  EXPECT_THAT(text, HasSubstr("09506000010001  EUR 18.50  <=90d:EUR 185.00  "
                              "EUR 37.00  EUR 18,500.00  EUR 370.00  "));
  EXPECT_THAT(text, HasSubstr("EUR 370.00           2.0 %\n"));
  EXPECT_THAT(text, Not(HasSubstr("NO-COST")));
  EXPECT_THAT(text, HasSubstr("2026-03  09506000010001  damaged  EUR 55.50"));
  EXPECT_THAT(text, HasSubstr("lots expired in the period: 8, alerted 90+ "
                              "days before: 6 (75.0 %)"));
  EXPECT_THAT(text, HasSubstr("RC-1    2026-01-02  1200   EUR 22,200.00"));
  EXPECT_THAT(text, HasSubstr("not yet"));
}

}  // namespace
}  // namespace lotledger::lotctl
