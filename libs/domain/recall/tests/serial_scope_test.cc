// Recall by serial over tests/world.h, whose catheter lot DEV:F1 is taken
// as serialised: SN0001..SN0030 received, SN0001..SN0010 shipped to H-1
// (SN0003 reported used, SN0010 returned), SN0011..SN0015 to H-2. The
// criteria's shape and its refusal texts, the serials grouped by lot with
// the refusal of one not assigned, the scope rows (SERIAL_LISTED with the
// lot's serials; a lot listed whole and by serial is whole), the impact
// counted in the serials in scope with used / unused per customer and lot,
// and the notice lines and effectiveness that follow from it.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libs/domain/recall/decider.h"
#include "libs/domain/recall/impact.h"
#include "libs/domain/recall/scope.h"
#include "libs/domain/recall/tests/world.h"
#include "libs/domain/serials/serials.h"

namespace lotledger::recall {
namespace {

using testing::Hospitals;
using testing::World;

std::vector<std::string> Serials(int first, int last) {
  std::vector<std::string> out;
  for (int i = first; i <= last; ++i) {
    out.push_back(absl::StrCat("SN", std::string(i < 10 ? "000" : "00"), i));
  }
  return out;
}

void AddRange(v1::RecallCriteria* c, const std::string& first,
              const std::string& last = "") {
  v1::SerialRange* r = c->add_serials();
  r->set_first(first);
  r->set_last(last);
}

// F1's serial detail as the recall projection keeps it.
SerialDetail F1Detail() {
  SerialDetail d;
  LotSerials& f1 = d["DEV:F1"];
  for (const std::string& s : Serials(1, 10)) {
    f1.holdings.push_back({.customer_id = "H-1",
                           .serial = s,
                           .shipped = 1,
                           .returned = s == "SN0010" ? 1 : 0,
                           .used = s == "SN0003"});
  }
  for (const std::string& s : Serials(11, 15)) {
    f1.holdings.push_back({.customer_id = "H-2", .serial = s, .shipped = 1});
  }
  for (const std::string& s : Serials(16, 30)) {
    f1.stock.push_back({.serial = s, .location_id = "WH1"});
  }
  f1.stock.push_back({.serial = "SN0010", .location_id = "QA"});
  return d;
}

// The scope and impact of serial `criteria` as the service computes them:
// serials grouped by lot (F1 holds SN0001..SN0030), the lot walk, the
// marks, the lot-level impact refined by F1's serial detail.
struct Computed {
  ScopeList scope;
  v1::RecallImpact impact;
};
Computed Compute(World& w, const v1::RecallCriteria& criteria) {
  Computed out;
  absl::StatusOr<std::vector<std::string>> serials =
      domain::ExpandSerials(criteria.serials(), "criteria.serials");
  EXPECT_TRUE(serials.ok()) << serials.status();
  std::vector<std::string> lot_of(serials->size(), "DEV:F1");
  absl::StatusOr<SerialLots> lots =
      GroupSerialsByLot(criteria.item(), *serials, lot_of);
  EXPECT_TRUE(lots.ok()) << lots.status();
  NodeMap nodes;
  absl::StatusOr<ScopeList> scope =
      ComputeScope(LotCriteriaOf(criteria, *lots), {}, w.Fetch(), &nodes);
  EXPECT_TRUE(scope.ok()) << scope.status();
  out.scope = *scope;
  MarkSerialScope(criteria, *lots, &out.scope);
  ComputeImpact(out.scope, nodes, w.customers, &out.impact);
  ApplySerialDetail(out.scope, F1Detail(), w.customers, &out.impact);
  return out;
}

TEST(SerialScopeTest, CriteriaShapeNamesTheFieldAndWhy) {
  v1::RecallCriteria c;
  AddRange(&c, "SN0001", "SN0005");
  absl::Status s = ValidateCriteria(c, "criteria");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "criteria.item: required with serials: the serialised product "
            "whose units they are");
  c.set_item("DEV");
  EXPECT_TRUE(ValidateCriteria(c, "criteria").ok());
  c.set_include_derived(true);
  s = ValidateCriteria(c, "criteria");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("criteria.include_derived: not with serials: a "
                             "lot made from a serialised unit does not carry "
                             "its serial"),
            std::string::npos)
      << s.message();
  c.set_include_derived(false);
  c.mutable_made_from()->set_year(2026);
  s = ValidateCriteria(c, "criteria");
  EXPECT_NE(s.message().find("criteria.made_from: not with serials"),
            std::string::npos)
      << s.message();
  c.clear_made_from();
  AddRange(&c, "SN0009", "SN0007");
  s = ValidateCriteria(c, "criteria");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("criteria.serials[1]"), std::string::npos)
      << s.message();
}

TEST(SerialScopeTest, SerialsGroupByLotAndAnUnassignedOneIsRefused) {
  absl::StatusOr<SerialLots> lots =
      GroupSerialsByLot("DEV", {"A1", "B1", "B2", "C1"},
                        {"DEV:F2", "DEV:F1", "DEV:F1", "DEV:F2"});
  ASSERT_TRUE(lots.ok()) << lots.status();
  EXPECT_EQ(lots->lot_ids, (std::vector<std::string>{"DEV:F2", "DEV:F1"}));
  EXPECT_EQ(lots->serials.at("DEV:F2"), (std::vector<std::string>{"A1", "C1"}));
  absl::StatusOr<SerialLots> one =
      GroupSerialsByLot("DEV", {"4711", "B1"}, {"", "DEV:F1"});
  EXPECT_EQ(one.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(one.status().message(),
            "serial 4711 of DEV is not assigned to any lot; check the "
            "serial, or pass the lots service's token as `after`");
  absl::StatusOr<SerialLots> two =
      GroupSerialsByLot("DEV", {"4711", "4712"}, {"", ""});
  EXPECT_NE(two.status().message().find(
                "serials 4711..4712 of DEV are not assigned to any lot"),
            std::string::npos)
      << two.status().message();
}

TEST(SerialScopeTest, ScopeIsTheSerialsLotRestrictedToThem) {
  World w = Hospitals();
  v1::RecallCriteria c;
  c.set_item("DEV");
  AddRange(&c, "SN0003", "SN0004");
  AddRange(&c, "SN0012");
  Computed got = Compute(w, c);
  ASSERT_EQ(got.scope.size(), 1);
  const v1::ScopedLot& f1 = got.scope.Get(0);
  EXPECT_EQ(f1.lot_id(), "DEV:F1");
  EXPECT_EQ(f1.reason(), v1::SCOPE_REASON_SERIAL_LISTED);
  EXPECT_EQ(domain::FormatSerials(f1.serials()), "SN0003..SN0004, SN0012");

  // Listed whole as well: whole, no serials.
  c.add_lot_ids("DEV:F1");
  Computed whole = Compute(w, c);
  ASSERT_EQ(whole.scope.size(), 1);
  EXPECT_EQ(whole.scope.Get(0).reason(), v1::SCOPE_REASON_LISTED);
  EXPECT_TRUE(whole.scope.Get(0).serials().empty());
}

TEST(SerialScopeTest, ImpactCountsOnlyTheSerialsInScopeWithUsedAndUnused) {
  World w = Hospitals();
  v1::RecallCriteria c;
  c.set_item("DEV");
  AddRange(&c, "SN0003", "SN0004");
  AddRange(&c, "SN0012");
  AddRange(&c, "SN0020");  // in own stock
  const v1::RecallImpact impact = Compute(w, c).impact;
  ASSERT_EQ(impact.lots_size(), 1);
  const v1::LotImpact& lot = impact.lots(0);
  EXPECT_EQ(lot.lot().reason(), v1::SCOPE_REASON_SERIAL_LISTED);
  EXPECT_EQ(lot.shipped(), 3);
  EXPECT_EQ(lot.returned(), 0);
  EXPECT_EQ(lot.outstanding(), 3);
  EXPECT_EQ(lot.customers(), 2);
  EXPECT_EQ(lot.used(), 1);
  EXPECT_EQ(lot.unused(), 2);
  EXPECT_EQ(lot.on_hand(), 1);
  ASSERT_EQ(lot.stock_size(), 1);
  EXPECT_EQ(lot.stock(0).location_id(), "WH1");
  ASSERT_EQ(impact.customers_size(), 2);
  const v1::CustomerLotImpact& h1 = impact.customers(0).lots(0);
  EXPECT_EQ(impact.customers(0).customer().customer_id(), "H-1");
  EXPECT_EQ(domain::FormatSerials(h1.serials()), "SN0003..SN0004");
  EXPECT_EQ(h1.shipped(), 2);
  EXPECT_EQ(h1.held(), 2);
  EXPECT_EQ(h1.used(), 1);
  EXPECT_EQ(h1.unused(), 1);
  EXPECT_EQ(impact.customers(0).held(), 2);
  const v1::CustomerLotImpact& h2 = impact.customers(1).lots(0);
  EXPECT_EQ(domain::FormatSerials(h2.serials()), "SN0012");
  EXPECT_EQ(h2.used(), 0);
  EXPECT_EQ(h2.unused(), 1);
  EXPECT_EQ(impact.distributed(), 3);
  EXPECT_EQ(impact.on_hand(), 1);
  EXPECT_EQ(impact.customers_affected(), 2);

  // Only H-1's serials: H-2 received the lot, not these units.
  v1::RecallCriteria only_h1;
  only_h1.set_item("DEV");
  AddRange(&only_h1, "SN0003");
  const v1::RecallImpact narrow = Compute(w, only_h1).impact;
  ASSERT_EQ(narrow.customers_size(), 1);
  EXPECT_EQ(narrow.customers(0).customer().customer_id(), "H-1");
  EXPECT_EQ(narrow.customers_affected(), 1);
  EXPECT_EQ(narrow.distributed(), 1);
  EXPECT_EQ(narrow.lots(0).used(), 1);
  EXPECT_EQ(narrow.lots(0).unused(), 0);
  EXPECT_EQ(narrow.on_hand(), 0);
  EXPECT_TRUE(narrow.on_hand_by_location().empty());
}

TEST(SerialScopeTest, AWholeSerialisedLotKeepsItsCountsAndListsSerials) {
  World w = Hospitals();
  NodeMap nodes;
  v1::RecallCriteria c;
  c.add_lot_ids("DEV:F1");
  absl::StatusOr<ScopeList> scope = ComputeScope(c, {}, w.Fetch(), &nodes);
  ASSERT_TRUE(scope.ok());
  v1::RecallImpact impact = ComputeImpact(*scope, nodes, w.customers);
  ApplySerialDetail(*scope, F1Detail(), w.customers, &impact);
  // The lot-level counts (world.h: 10 to H-1, 5 to H-2, 30 received).
  EXPECT_EQ(impact.lots(0).shipped(), 15);
  EXPECT_EQ(impact.on_hand(), 15);
  // H-1 holds SN0001..SN0009 (SN0010 came back), one used.
  const v1::CustomerLotImpact& h1 = impact.customers(0).lots(0);
  EXPECT_EQ(domain::FormatSerials(h1.serials()), "SN0001..SN0009");
  EXPECT_EQ(h1.used(), 1);
  EXPECT_EQ(h1.unused(), 8);
  EXPECT_EQ(impact.lots(0).used(), 1);
  EXPECT_EQ(impact.lots(0).unused(), 8 + 5);
}

TEST(SerialScopeTest, NoticeLinesCarryTheSerialsAndUsed) {
  World w = Hospitals();
  v1::RecallCriteria c;
  c.set_item("DEV");
  AddRange(&c, "SN0001", "SN0004");
  Computed got = Compute(w, c);
  v1::RecallDecisionState state;
  state.set_exists(true);
  v1::Recall* r = state.mutable_recall();
  r->set_recall_id("R-SN");
  r->set_status(v1::RECALL_STATUS_OPEN);
  r->set_classification(v1::RECALL_CLASS_I);
  r->set_title("weld crack");
  *r->mutable_scope() = got.scope;
  *state.mutable_scope() = got.scope;
  *state.mutable_impact() = got.impact;
  v1::RecallCommand cmd;
  cmd.set_actor("qa");
  cmd.mutable_notify()->set_recall_id("R-SN");
  absl::StatusOr<std::vector<v1::Event>> events = Decide(state, cmd);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 1u);  // H-1 only
  const v1::RecallNotificationIssued& n =
      (*events)[0].recall_notification_issued();
  EXPECT_EQ(n.customer().customer_id(), "H-1");
  ASSERT_EQ(n.lines_size(), 1);
  EXPECT_EQ(domain::FormatSerials(n.lines(0).serials()), "SN0001..SN0004");
  EXPECT_EQ(n.lines(0).used(), 1);
  EXPECT_EQ(n.lines(0).held(), 4);

  // Effectiveness counts the serials in scope: 4 distributed, none back.
  google::protobuf::Timestamp now;
  const v1::Effectiveness eff =
      ComputeEffectiveness(state.recall(), got.impact, now, 30);
  EXPECT_EQ(eff.overall().distributed(), 4);
  EXPECT_EQ(eff.overall().outstanding(), 4);
}

}  // namespace
}  // namespace lotledger::recall
