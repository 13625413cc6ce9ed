// lotctl inventory end to end: the real RunLotctl against a real
// in-process server (TestStack, embedded log, a ManualClock) — locations,
// a receipt by GS1 scan, a FEFO pick list, a shipment, the queries, a
// refused shipment and the alert stream, as a script sees them: output,
// --json and exit codes.
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "libs/common/clock.h"
#include "lotledger/v1/inventory.pb.h"
#include "tests/support/stack.h"
#include "tools/lotctl/cli.h"
#include "tools/lotctl/tests/run_lotctl.h"

namespace lotledger::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kGtin[] = "09506000134352";
constexpr char kLot[] = "09506000134352:A17";
constexpr char kBin[] = "FRA-WH1-B07";

using Result = LotctlResult;

class InventoryCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    stack_ = TestStack::Start(Backend::kEmbedded,
                              {"lots", "quality", "inventory"}, &clock_);
    ASSERT_NE(stack_, nullptr);
    env_ = TestEnvironment();
  }

  Result Lotctl(const std::string& who, std::vector<std::string> args) {
    return RunLotctlAs(*stack_, who, std::move(args), env_);
  }

  // "YYYY-MM-DD" of today (by the clock) plus `days`.
  std::string Day(int days) const {
    const absl::CivilDay d =
        absl::ToCivilDay(clock_.Now(), absl::UTCTimeZone()) + days;
    return absl::StrFormat("%04d-%02d-%02d", d.year(), d.month(), d.day());
  }

  template <typename M>
  M Json(const std::string& text) {
    M m;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(text, &m).ok())
        << text;
    return m;
  }

  ManualClock clock_{absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()))};
  std::unique_ptr<TestStack> stack_;
  lotctl::Environment env_;
};

TEST_F(InventoryCliTest, ReceiveShipQueryAndWatch) {
  Result r =
      Lotctl("admin", {"product", "define", absl::StrCat("--item=", kGtin),
                       "--name=Sterile catheter", "--uom=EA", "--kind=finished",
                       "--shelf-life-days=730", "--alert-days=180,90,30",
                       "--min-ship-days=60"});
  ASSERT_EQ(r.code, 0) << r.err;
  // A17 has 100 days left: inside the 180-day alert window.
  r = Lotctl("operator",
             {"lot", "create", absl::StrCat("--item=", kGtin), "--lot=A17",
              "--manufactured=" + Day(-10), "--expires=" + Day(100),
              "--quantity=100", "--uom=EA"});
  ASSERT_EQ(r.code, 0) << r.err;
  for (const std::vector<std::string>& loc :
       std::vector<std::vector<std::string>>{
           {"EU", "--kind=site"},
           {"EU-W", "--kind=region", "--parent=EU"},
           {"FRA-WH1", "--kind=warehouse", "--parent=EU-W"},
           {kBin, "--kind=bin", "--parent=FRA-WH1"}}) {
    std::vector<std::string> args = {"inventory", "location-create", loc[0],
                                     "--name=" + loc[0] + " location"};
    args.insert(args.end(), loc.begin() + 1, loc.end());
    r = Lotctl("admin", args);
    ASSERT_EQ(r.code, 0) << r.err;
  }
  r = Lotctl("auditor", {"inventory", "locations", "--under=EU-W"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("FRA-WH1-B07  bin"));

  const std::string expiry = Day(100);
  const std::string scan =
      absl::StrCat("(01)", kGtin, "(17)", expiry.substr(2, 2),
                   expiry.substr(5, 2), expiry.substr(8, 2), "(10)A17");
  r = Lotctl("operator", {"inventory", "receive", "--scan=" + scan,
                          absl::StrCat("--location=", kBin), "--quantity=100",
                          "--source=production"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("100 EA"));

  // Unreleased: FEFO finds nothing and says why; a shipment is refused.
  r = Lotctl("operator", {"inventory", "fefo", absl::StrCat("--item=", kGtin),
                          "--quantity=30", "--customer=H-12"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("SHORT 30 EA"));
  EXPECT_THAT(r.out, HasSubstr("not released"));
  r = Lotctl("operator", {"inventory", "ship", "--customer=H-12",
                          absl::StrCat("--line=", kLot, "@", kBin, ":30")});
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_THAT(r.err, HasSubstr("FAILED_PRECONDITION"));
  // A malformed line is a usage error.
  r = Lotctl("operator",
             {"inventory", "ship", "--customer=H-12", "--line=nonsense"});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("LOT_ID@LOCATION:QUANTITY"));

  r = Lotctl("inspector", {"inspect", kLot, "--type=final", "--sample-size=8",
                           "--result=seal strength|>= 1.2|1.45|N/15mm|pass"});
  ASSERT_EQ(r.code, 0) << r.err;
  r = Lotctl("approver", {"release", kLot, "--meaning=release",
                          "--reason=final inspection passed"});
  ASSERT_EQ(r.code, 0) << r.err;

  r = Lotctl("operator", {"inventory", "fefo", absl::StrCat("--item=", kGtin),
                          "--quantity=30", "--customer=H-12", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto picks = Json<v1::AllocateFefoResponse>(r.out);
  ASSERT_EQ(picks.lines_size(), 1);
  EXPECT_EQ(picks.lines(0).lot_id(), kLot);
  EXPECT_EQ(picks.lines(0).quantity().amount(), 30);

  r = Lotctl("operator", {"inventory", "ship", "--customer=H-12",
                          "--customer-name=St. Mary's",
                          absl::StrCat("--line=", kLot, "@", kBin, ":30")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("shipment "));
  EXPECT_THAT(r.out, HasSubstr("30 EA"));

  r = Lotctl("auditor", {"inventory", "where", kLot});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("H-12"));
  EXPECT_THAT(r.out, HasSubstr("St. Mary's"));
  r = Lotctl("auditor", {"inventory", "movements", kLot, "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto moves = Json<v1::ListMovementsResponse>(r.out);
  ASSERT_EQ(moves.events_size(), 2);
  EXPECT_TRUE(moves.events(1).has_stock_shipped());
  r = Lotctl("auditor", {"inventory", "stock", absl::StrCat("--item=", kGtin)});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat("total ", kGtin, ": 70 EA")));
  r = Lotctl("auditor", {"inventory", "kpis", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto kpis = Json<v1::GetKpisResponse>(r.out);
  ASSERT_EQ(kpis.items_size(), 1);
  EXPECT_EQ(kpis.items(0).on_hand(), 70);
  EXPECT_EQ(kpis.items(0).shipped(), 30);
  // `lotctl kpi` is the same command under the management's name.
  r = Lotctl("auditor", {"kpi", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Json<v1::GetKpisResponse>(r.out).items(0).on_hand(), 70);
  r = Lotctl("auditor", {"inventory", "near-expiry"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(kLot));

  // The sweep raises the 180-day alert; a watcher replaying from the
  // start of the topic sees it.
  absl::StatusOr<int> raised = stack_->SweepExpiry();
  ASSERT_TRUE(raised.ok()) << raised.status();
  EXPECT_EQ(*raised, 1);
  r = Lotctl("auditor",
             {"inventory", "alerts", "--limit=1",
              "--resume-after={\"offsets\":[{\"topic\":"
              "\"lotledger.inventory.v1\",\"partition\":0,\"offset\":0}]}"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat("WITHIN 180d  ", kLot)));
  EXPECT_THAT(r.out, HasSubstr("resume with --resume-after="));
  r = Lotctl("auditor", {"inventory", "get", kLot});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("within 180 days"));

  // A17 has 100 days left: below a customer minimum of 120 it is refused,
  // and an override needs a signed reason; with one it ships.
  const std::vector<std::string> short_dated = {
      "inventory", "ship", "--customer=H-14", "--min-shelf-life-days=120",
      absl::StrCat("--line=", kLot, "@", kBin, ":1")};
  r = Lotctl("operator", short_dated);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_THAT(r.err, HasSubstr("FAILED_PRECONDITION"));
  std::vector<std::string> waived = short_dated;
  waived.push_back("--override-min-days=90");
  r = Lotctl("operator", waived);
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_THAT(r.err, HasSubstr("--override-reason: required"));
  waived.push_back("--override-reason=H-14 accepted 100 days, ticket 4711");
  r = Lotctl("operator", waived);
  ASSERT_EQ(r.code, 0) << r.err;
  r = Lotctl("auditor", {"inventory", "movements", kLot, "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto after = Json<v1::ListMovementsResponse>(r.out);
  const v1::StockShipped* overridden = nullptr;
  for (const v1::Event& e : after.events()) {
    if (e.has_stock_shipped() &&
        e.stock_shipped().customer().customer_id() == "H-14") {
      overridden = &e.stock_shipped();
    }
  }
  ASSERT_NE(overridden, nullptr);
  EXPECT_EQ(overridden->shelf_life_override().signature().reason(),
            "H-14 accepted 100 days, ticket 4711");
  EXPECT_FALSE(overridden->shelf_life_override().signature().signer().empty());
}

}  // namespace
}  // namespace lotledger::testing
