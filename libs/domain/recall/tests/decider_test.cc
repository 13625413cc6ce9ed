// The recall's life over tests/world.h: initiation in parts, effectiveness
// arithmetic with partial returns and destruction on site, responses
// refused where they make no sense, close rules, a closed recall being
// read-only, and a drill leaving every lot shippable.
#include "libs/domain/recall/decider.h"

#include "gtest/gtest.h"
#include "libs/domain/inventory/decider.h"
#include "libs/domain/recall/impact.h"
#include "libs/domain/recall/scope.h"
#include "libs/domain/recall/tests/world.h"
#include "libs/domain/testing/decider_table.h"

namespace lotledger::recall {
namespace {

using domain::testing::ExpectRefused;
using domain::testing::kInvalid;
using domain::testing::kRefused;
using testing::Hospitals;
using testing::Returned;
using testing::World;

constexpr int64_t kNow = 1775001600;  // 2026-04-01T00:00:00Z

class RecallLifeTest : public ::testing::Test {
 protected:
  void SetUp() override { world_ = Hospitals(); }

  // The decision state for a command on recall `id` (or a new one).
  v1::RecallDecisionState State(const v1::RecallCriteria* criteria) {
    v1::RecallDecisionState s;
    s.set_exists(exists_);
    *s.mutable_recall() = recall_;
    NodeMap nodes;
    if (criteria != nullptr) {
      absl::StatusOr<ScopeList> scope =
          ComputeScope(*criteria, {}, world_.Fetch(), &nodes);
      EXPECT_TRUE(scope.ok()) << scope.status();
      *s.mutable_scope() = *scope;
    } else {
      *s.mutable_scope() = recall_.scope();
      for (const v1::ScopedLot& l : recall_.scope()) {
        nodes[l.lot_id()] = world_.nodes.at(l.lot_id());
      }
    }
    *s.mutable_impact() = ComputeImpact(s.scope(), nodes, world_.customers);
    return s;
  }

  absl::StatusOr<std::vector<v1::Event>> Run(v1::RecallCommand cmd,
                                             bool apply = true) {
    cmd.mutable_now()->set_seconds(now_);
    cmd.set_actor("qa.li");
    const v1::RecallCriteria* criteria = nullptr;
    if (cmd.has_initiate()) criteria = &cmd.initiate().criteria();
    if (cmd.has_drill()) criteria = &cmd.drill().criteria();
    absl::StatusOr<std::vector<v1::Event>> events =
        Decide(State(criteria), cmd);
    if (apply && events.ok()) {
      for (v1::Event e : *events) {
        e.set_actor("qa.li");
        if (!e.has_occurred_at()) e.mutable_occurred_at()->set_seconds(now_);
        Evolve(recall_, e);
        exists_ = exists_ || e.has_recall_initiated();
      }
    }
    return events;
  }

  v1::RecallCommand Initiate() {
    v1::RecallCommand cmd;
    cmd.set_id("R-1");
    v1::InitiateRequest* r = cmd.mutable_initiate();
    r->set_classification(v1::RECALL_CLASS_II);
    r->set_title("Resin contamination");
    r->set_reason("resin lot R1 failed biocompatibility retest");
    r->set_health_hazard("possible cytotoxic residue; reversible irritation");
    r->mutable_criteria()->add_lot_ids("RM:R1");
    r->mutable_criteria()->set_include_derived(true);
    return cmd;
  }

  v1::RecallCommand Respond(const std::string& customer, const std::string& lot,
                            int64_t returned, int64_t destroyed) {
    v1::RecallCommand cmd;
    v1::RecordResponseRequest* r = cmd.mutable_respond();
    r->set_request_id("req-" + customer + lot);
    r->set_recall_id("R-1");
    r->set_customer_id(customer);
    r->set_acknowledged(true);
    if (!lot.empty()) {
      v1::RecallResponseLine* l = r->add_lines();
      l->set_lot_id(lot);
      l->set_returned(returned);
      l->set_destroyed(destroyed);
    }
    return cmd;
  }

  v1::RecallCommand Close(const std::string& reason) {
    v1::RecallCommand cmd;
    cmd.mutable_close()->set_recall_id("R-1");
    cmd.mutable_close()->set_summary("all affected stock recovered");
    cmd.mutable_close()->set_unanswered_reason(reason);
    return cmd;
  }

  v1::Effectiveness Effect(int days) {
    v1::RecallDecisionState s = State(nullptr);
    google::protobuf::Timestamp now;
    now.set_seconds(now_);
    return ComputeEffectiveness(recall_, s.impact(), now, days);
  }

  World world_;
  v1::Recall recall_;
  bool exists_ = false;
  int64_t now_ = kNow;
};

TEST_F(RecallLifeTest, InitiationRecordsScopeAndImpact) {
  absl::StatusOr<std::vector<v1::Event>> events = Run(Initiate());
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 1u);
  const v1::Event& e = events->front();
  EXPECT_EQ(e.aggregate_id(), "R-1");
  EXPECT_EQ(e.lot_ids_size(), 6);
  EXPECT_EQ(e.recall_initiated().customers_affected(), 2);
  EXPECT_EQ(e.recall_initiated().distributed(), 22);
  EXPECT_EQ(recall_.status(), v1::RECALL_STATUS_OPEN);
  EXPECT_EQ(recall_.scope_size(), 6);
  EXPECT_FALSE(recall_.instructions().empty());  // the default
  // The same id again is refused.
  ExpectRefused(Run(Initiate()).status(), kRefused,
                "recall R-1 already exists (initiated 2026-04-01 by qa.li)");
}

TEST_F(RecallLifeTest, MissingHealthHazardNamesTheField) {
  v1::RecallCommand cmd = Initiate();
  cmd.mutable_initiate()->clear_health_hazard();
  ExpectRefused(Run(cmd).status(), kInvalid, "health_hazard: required");
}

TEST_F(RecallLifeTest, LargeScopeIsWrittenInParts) {
  for (int i = 0; i < 2 * kLotsPerPart + 5; ++i) {
    world_.Apply(testing::Created(absl::StrCat("DEV:X", i), 9, {"DEV:F2"}));
  }
  absl::StatusOr<std::vector<v1::Event>> events = Run(Initiate());
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 3u);
  int lots = 0;
  for (const v1::Event& e : *events) {
    EXPECT_EQ(e.recall_initiated().part_count(), 3);
    EXPECT_LE(e.lot_ids_size(), kLotsPerPart);
    lots += e.lot_ids_size();
  }
  EXPECT_EQ(lots, 6 + 2 * kLotsPerPart + 5);
  EXPECT_EQ(recall_.scope_size(), lots);
  EXPECT_EQ(recall_.parts_applied(), 3);
}

TEST_F(RecallLifeTest, NotificationsOncePerAffectedCustomer) {
  ASSERT_TRUE(Run(Initiate()).ok());
  v1::RecallCommand notify;
  notify.mutable_notify()->set_recall_id("R-1");
  absl::StatusOr<std::vector<v1::Event>> events = Run(notify);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 2u);
  const v1::RecallNotificationIssued& h2 =
      events->at(1).recall_notification_issued();
  EXPECT_EQ(h2.customer().customer_id(), "H-2");
  ASSERT_EQ(h2.lines_size(), 2);
  EXPECT_EQ(h2.lines(0).held(), 5);
  EXPECT_EQ(h2.lines(1).held(), 7);
  EXPECT_NE(h2.subject().find("Class II"), std::string::npos);
  // Again: nobody new to notify.
  events = Run(notify);
  ASSERT_TRUE(events.ok());
  EXPECT_TRUE(events->empty());
}

TEST_F(RecallLifeTest, EffectivenessWithPartialReturnsAndDestruction) {
  ASSERT_TRUE(Run(Initiate()).ok());
  // H-1 returns 4 of 10 of F1; H-2 destroys 2 of its 5 F1 on site.
  world_.Apply(Returned("DEV:F1", "H-1", 4));
  ASSERT_TRUE(Run(Respond("H-2", "DEV:F1", 0, 2)).ok());
  v1::Effectiveness e = Effect(30);
  EXPECT_EQ(e.overall().distributed(), 22);
  EXPECT_EQ(e.overall().returned(), 4);
  EXPECT_EQ(e.overall().destroyed(), 2);
  EXPECT_EQ(e.overall().recovered(), 6);
  EXPECT_EQ(e.overall().outstanding(), 16);
  EXPECT_NEAR(e.overall().percent(), 100.0 * 6 / 22, 1e-9);
  // Per lot: F1 6 of 15; F2 0 of 7; lots never shipped count as 100%.
  for (const v1::LotEffectiveness& l : e.lots()) {
    if (l.lot_id() == "DEV:F1") {
      EXPECT_EQ(l.recovery().recovered(), 6);
      EXPECT_EQ(l.recovery().distributed(), 15);
    } else if (l.lot_id() == "DEV:F2") {
      EXPECT_EQ(l.recovery().recovered(), 0);
      EXPECT_EQ(l.recovery().percent(), 0.0);
    } else {
      EXPECT_EQ(l.recovery().percent(), 100.0) << l.lot_id();
    }
  }
  // Per customer: H-1 answered nothing yet (returns alone are not an
  // answer); H-2 answered.
  ASSERT_EQ(e.customers_size(), 2);
  EXPECT_FALSE(e.customers(0).answered());
  EXPECT_EQ(e.customers(0).recovery().recovered(), 4);
  EXPECT_TRUE(e.customers(1).answered());
  EXPECT_EQ(e.customers(1).recovery().recovered(), 2);
  EXPECT_EQ(e.customers_answered(), 1);
  // H-1 is listed as unanswered after 0 days, not yet after 30.
  EXPECT_TRUE(e.unanswered_customer_ids().empty());
  EXPECT_EQ(Effect(0).unanswered_customer_ids_size(), 1);
  now_ += 31 * 86400;
  EXPECT_EQ(Effect(30).unanswered_customer_ids(0), "H-1");
  EXPECT_EQ(Effect(30).customers(0).days_without_answer(), 31);

  // The rest comes back: 100%.
  world_.Apply(Returned("DEV:F1", "H-1", 6));
  world_.Apply(Returned("DEV:F1", "H-2", 3));
  world_.Apply(Returned("DEV:F2", "H-2", 7));
  EXPECT_EQ(Effect(30).overall().percent(), 100.0);
  EXPECT_EQ(Effect(30).overall().outstanding(), 0);
}

TEST_F(RecallLifeTest, ResponsesThatMakeNoSenseAreRefused) {
  ASSERT_TRUE(Run(Initiate()).ok());
  ExpectRefused(Run(Respond("H-3", "", 0, 0)).status(), kRefused,
                "customer H-3 received no lot of recall R-1; only affected "
                "customers answer a recall");
  ExpectRefused(Run(Respond("H-1", "DEV:F3", 0, 1)).status(), kRefused,
                "lot DEV:F3 is not in the scope of recall R-1");
  ExpectRefused(Run(Respond("H-1", "DEV:F2", 0, 1)).status(), kRefused,
                "customer H-1 never received lot DEV:F2");
  ExpectRefused(Run(Respond("H-1", "DEV:F1", -1, 0)).status(), kInvalid,
                "lines[0].returned: must be >= 0, got -1");
  ASSERT_TRUE(Run(Respond("H-1", "DEV:F1", 0, 8)).ok());
  ExpectRefused(Run(Respond("H-1", "DEV:F1", 0, 3)).status(), kRefused,
                "customer H-1 holds 10 EA of lot DEV:F1 (shipped 10, returned "
                "0); cannot have destroyed 11 in total");
}

TEST_F(RecallLifeTest, ClosingWithUnansweredCustomersNeedsAReason) {
  ASSERT_TRUE(Run(Initiate()).ok());
  ASSERT_TRUE(Run(Respond("H-2", "", 0, 0)).ok());
  ExpectRefused(Run(Close("")).status(), kRefused,
                "1 affected customer has not answered recall R-1 (H-1); "
                "closing it needs unanswered_reason");
  absl::StatusOr<std::vector<v1::Event>> closed =
      Run(Close("H-1 closed its ward; three letters sent"));
  ASSERT_TRUE(closed.ok()) << closed.status();
  EXPECT_EQ(closed->front().recall_closed().unanswered_customer_ids(0), "H-1");
  EXPECT_EQ(recall_.status(), v1::RECALL_STATUS_CLOSED);
  EXPECT_EQ(recall_.closed_by(), "qa.li");
}

TEST_F(RecallLifeTest, EveryoneAnsweredClosesWithoutReasonAndIsReadOnly) {
  ASSERT_TRUE(Run(Initiate()).ok());
  ASSERT_TRUE(Run(Respond("H-1", "", 0, 0)).ok());
  ASSERT_TRUE(Run(Respond("H-2", "", 0, 0)).ok());
  absl::StatusOr<std::vector<v1::Event>> closed = Run(Close(""));
  ASSERT_TRUE(closed.ok()) << closed.status();
  EXPECT_TRUE(closed->front().recall_closed().unanswered_reason().empty());
  // Read-only now.
  ExpectRefused(Run(Respond("H-1", "", 0, 0)).status(), kRefused,
                "recall R-1 is closed since 2026-04-01 by qa.li; a closed "
                "recall is read-only");
  ExpectRefused(Run(Close("x")).status(), kRefused,
                "a closed recall is read-only");
  v1::RecallCommand notify;
  notify.mutable_notify()->set_recall_id("R-1");
  ExpectRefused(Run(notify).status(), kRefused, "a closed recall is read-only");
}

v1::Signature Signed(const std::string& meaning, const std::string& reason) {
  v1::Signature sig;
  sig.set_signer("qa.li");
  sig.set_meaning(meaning);
  sig.set_reason(reason);
  sig.mutable_signed_at()->set_seconds(kNow);
  sig.set_authentication("jwt auth_time=2026-03-31T23:58:00Z");
  return sig;
}

TEST_F(RecallLifeTest, InitiationAndClosureRecordTheirSignatures) {
  for (int i = 0; i < kLotsPerPart + 5; ++i) {
    world_.Apply(testing::Created(absl::StrCat("DEV:X", i), 9, {"DEV:F2"}));
  }
  v1::RecallCommand init = Initiate();
  *init.mutable_signature() = Signed("recall initiated", "resin retest");
  absl::StatusOr<std::vector<v1::Event>> events = Run(init);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 2u);
  // Part 0 carries the signature, once.
  EXPECT_EQ(events->at(0).recall_initiated().signature().signer(), "qa.li");
  EXPECT_EQ(events->at(0).recall_initiated().signature().meaning(),
            "recall initiated");
  EXPECT_FALSE(events->at(1).recall_initiated().has_signature());
  EXPECT_EQ(recall_.initiation_signature().reason(), "resin retest");
  EXPECT_EQ(recall_.initiation_signature().authentication(),
            "jwt auth_time=2026-03-31T23:58:00Z");
  EXPECT_FALSE(recall_.has_closure_signature());

  v1::RecallCommand close = Close("customers unreachable after 3 letters");
  *close.mutable_signature() = Signed("recall closed", "all recovered");
  absl::StatusOr<std::vector<v1::Event>> closed = Run(close);
  ASSERT_TRUE(closed.ok()) << closed.status();
  EXPECT_EQ(closed->front().recall_closed().signature().meaning(),
            "recall closed");
  EXPECT_FALSE(closed->back().recall_closed().has_signature());
  EXPECT_EQ(recall_.closure_signature().signer(), "qa.li");
  EXPECT_EQ(recall_.closure_signature().reason(), "all recovered");
  EXPECT_EQ(recall_.initiation_signature().meaning(), "recall initiated");
}

// Folds `events` into the inventory view of every lot in `lots`, the way
// the inventory projection does, and says which lots came out recalled.
std::vector<std::string> RecalledLots(const std::vector<v1::Event>& events,
                                      const std::vector<std::string>& lots) {
  std::vector<std::string> out;
  for (const std::string& id : lots) {
    v1::LotInventory lot;
    lot.set_lot_id(id);
    for (const v1::Event& e : events) {
      for (const std::string& listed : e.lot_ids()) {
        if (listed == id) inventory::Evolve(lot, e);
      }
    }
    if (lot.recalled()) out.push_back(id);
  }
  return out;
}

TEST_F(RecallLifeTest, DrillLeavesNothingBlocked) {
  v1::RecallCommand drill;
  drill.set_id("DRILL-1");
  drill.set_elapsed_us(1234);
  *drill.mutable_drill()->mutable_criteria() = Initiate().initiate().criteria();
  absl::StatusOr<std::vector<v1::Event>> events = Run(drill);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 1u);
  const v1::RecallDrillCompleted& d = events->front().recall_drill_completed();
  EXPECT_EQ(d.lots_in_scope(), 6);
  EXPECT_EQ(d.customers_affected(), 2);
  EXPECT_EQ(d.elapsed_us(), 1234);
  EXPECT_EQ(events->front().aggregate_id(), "DRILL-1");
  EXPECT_FALSE(exists_);  // no recall came of it
  const std::vector<std::string> scope(events->front().lot_ids().begin(),
                                       events->front().lot_ids().end());
  EXPECT_TRUE(RecalledLots(*events, scope).empty());
  // The same scope recalled for real blocks every lot.
  absl::StatusOr<std::vector<v1::Event>> real = Run(Initiate());
  ASSERT_TRUE(real.ok());
  EXPECT_EQ(RecalledLots(*real, scope).size(), scope.size());
}

// ---- Lots made later --------------------------------------------------------
// A lot made after the initiation from a lot in the scope of a recall that
// includes derived lots joins the scope (the recall service's reactor
// decides extend_scope when it sees the lot's LotCreated).

v1::RecallCommand ExtendScope(const std::string& lot_id,
                              const std::string& via) {
  v1::RecallCommand cmd;
  v1::ExtendScopeCommand* x = cmd.mutable_extend_scope();
  x->set_recall_id("R-1");
  x->mutable_lot()->set_lot_id(lot_id);
  x->mutable_lot()->set_item(lot_id.substr(0, lot_id.find(':')));
  x->mutable_lot()->set_lot_number(lot_id.substr(lot_id.find(':') + 1));
  x->mutable_lot()->set_via_lot_id(via);
  x->mutable_lot()->set_depth(4);
  return cmd;
}

TEST_F(RecallLifeTest, LotMadeLaterJoinsTheScopeAndIsBlocked) {
  ASSERT_TRUE(Run(Initiate()).ok());
  world_.Apply(testing::Created("DEV:F9", 20, {"DEV:F1"}));
  world_.Apply(testing::Shipped("DEV:F9", "H-9", 3));
  absl::StatusOr<std::vector<v1::Event>> events =
      Run(ExtendScope("DEV:F9", "DEV:F1"));
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 1u);
  const v1::Event& e = events->front();
  EXPECT_EQ(e.aggregate_id(), "R-1");
  ASSERT_EQ(e.lot_ids_size(), 1);
  EXPECT_EQ(e.lot_ids(0), "DEV:F9");
  const v1::RecallScopeExtended& x = e.recall_scope_extended();
  EXPECT_EQ(x.recall_id(), "R-1");
  EXPECT_EQ(x.reason(), "resin lot R1 failed biocompatibility retest");
  ASSERT_EQ(x.lots_size(), 1);
  EXPECT_EQ(x.lots(0).reason(), v1::SCOPE_REASON_DERIVED);
  EXPECT_EQ(x.lots(0).via_lot_id(), "DEV:F1");
  // The recall's scope holds it once, and inventory blocks it.
  EXPECT_EQ(recall_.scope_size(), 7);
  EXPECT_EQ(recall_.lots_in_scope(), 7);
  EXPECT_EQ(RecalledLots(*events, {"DEV:F9"}).size(), 1u);
  Evolve(recall_, e);  // a second writer's copy adds nothing
  EXPECT_EQ(recall_.scope_size(), 7);
  // Already in scope: nothing to write.
  absl::StatusOr<std::vector<v1::Event>> again =
      Run(ExtendScope("DEV:F9", "DEV:F1"));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->empty());
  // Its customer is affected now and is notified.
  v1::RecallCommand notify;
  notify.mutable_notify()->set_recall_id("R-1");
  absl::StatusOr<std::vector<v1::Event>> notices = Run(notify);
  ASSERT_TRUE(notices.ok()) << notices.status();
  bool h9 = false;
  for (const v1::Event& n : *notices) {
    h9 = h9 || n.recall_notification_issued().customer().customer_id() == "H-9";
  }
  EXPECT_TRUE(h9);
}

TEST_F(RecallLifeTest, ScopeOfRecallOfListedLotsOnlyDoesNotGrow) {
  v1::RecallCommand init = Initiate();
  init.mutable_initiate()->mutable_criteria()->set_include_derived(false);
  ASSERT_TRUE(Run(init).ok());
  world_.Apply(testing::Created("DEV:F9", 20, {"RM:R1"}));
  absl::Status refused = Run(ExtendScope("DEV:F9", "RM:R1")).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.message(),
            "recall R-1 covers the lots it names, not lots made from them; "
            "lot DEV:F9 does not join its scope");
}

TEST_F(RecallLifeTest, ClosedRecallScopeDoesNotGrow) {
  ASSERT_TRUE(Run(Initiate()).ok());
  ASSERT_TRUE(Run(Close("letters sent")).ok());
  world_.Apply(testing::Created("DEV:F9", 20, {"DEV:F1"}));
  absl::Status refused = Run(ExtendScope("DEV:F9", "DEV:F1")).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.message(),
            "recall R-1 is closed since 2026-04-01 by qa.li; a closed recall "
            "is read-only and its scope no longer grows; lot DEV:F9 does not "
            "join it");
}

TEST_F(RecallLifeTest, LotMadeFromLotOutsideScopeDoesNotJoin) {
  ASSERT_TRUE(Run(Initiate()).ok());
  world_.Apply(testing::Created("DEV:F9", 20, {"RM:R2"}));
  absl::Status refused = Run(ExtendScope("DEV:F9", "RM:R2")).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.message(),
            "lot DEV:F9 was made from RM:R2, which is not in the scope of "
            "recall R-1");
}

}  // namespace
}  // namespace lotledger::recall
