// The in-memory recall index (recall_index.h) answers every scope and impact
// exactly as the RocksDB path (RecallQueries::ScopeAndImpactFromStore and
// ImpactFromStore) does, field for field and in the same order: on a
// generated genealogy with diamonds, a raw lot used in many lots, a lot
// consumed but never created, a lot number that is not its id's tail,
// manufacture and expiry corrections, receipts, transfers, shipments (one
// lot to every customer), returns, scrapping and count adjustments, and
// lots made later from lots already shipped; for listed lots with and
// without derived lots, date ranges, both, and refusals. When kept current
// by the live projector, when loaded while the projector replays, after a
// restart (loaded from the projection), and after an online rebuild of the
// projection and facts applied after it. Lots shipped to hundreds of
// customers one by one, with sums past 32 bits, a return past 16 bits and
// dates outside 1970-2097 (a holding that does not pack),
// answer as the store too, and folding them takes the memory a restart
// loads. Real parts: an embedded event log, the service's projector and
// RocksDB projection.
#include "services/recall/recall_index.h"

#include <map>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "libs/command/rebuild.h"
#include "libs/command/service_core.h"
#include "libs/common/topics.h"
#include "libs/eventlog/embedded/embedded_event_log.h"
#include "libs/eventlog/record_codec.h"
#include "libs/projection/tests/synthetic_stream.h"
#include "services/recall/recall_projection.h"
#include "services/recall/recall_service.h"
#include "services/recall/tests/recall_world.h"

namespace lotledger::recall {
namespace {

using testing::kCustomers;
using testing::kItems;
using testing::kPartitions;
using testing::Received;
using testing::Returned;
using testing::SetDate;
using testing::Shipped;
using testing::World;
using testing::Writer;

// The criteria every comparison asks about: every third lot listed, with
// and without derived lots; several listed (a duplicate, a lot also in
// range); unknown and never-created lots (refused); every product over
// date windows, with and without derived lots, alone and with a listed lot.
std::vector<v1::RecallCriteria> AllCriteria(
    const std::vector<std::string>& ids) {
  std::vector<v1::RecallCriteria> out;
  for (size_t i = 0; i < ids.size(); i += 3) {
    for (bool derived : {false, true}) {
      v1::RecallCriteria c;
      c.add_lot_ids(ids[i]);
      c.set_include_derived(derived);
      out.push_back(c);
    }
  }
  v1::RecallCriteria several;
  for (const char* id : {"RM:HUB", "CMP:GHOSTLY", "FG:other", "RM:HUB"}) {
    several.add_lot_ids(id);
  }
  several.set_include_derived(true);
  out.push_back(several);
  for (const char* item : kItems) {
    for (const auto& [from, to] :
         std::vector<std::pair<int, int>>{{1, 12}, {3, 5}, {6, 6}, {13, 13}}) {
      for (bool derived : {false, true}) {
        v1::RecallCriteria c;
        c.set_item(item);
        SetDate(c.mutable_made_from(), 2026, std::min(from, 12), 1);
        SetDate(c.mutable_made_to(), to > 12 ? 2027 : 2026, std::min(to, 12),
                28);
        c.set_include_derived(derived);
        out.push_back(c);
        c.add_lot_ids(absl::StrCat(item, ":HUB"));  // RM:HUB only exists
        c.add_lot_ids("RM:HUB");
        out.push_back(c);
      }
    }
  }
  return out;
}

class RecallIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = eventlog::OpenEmbeddedEventLog(
        {.path = tmp_.path() + "/log", .sync = false});
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
    for (const std::string& topic : topics::ReadBy("recall")) {
      ASSERT_TRUE(log_->EnsureTopic(topic, kPartitions).ok()) << topic;
    }
  }

  void Open() {
    auto core = command::ServiceCore::Open(
        log_.get(), RecallServiceSpec(kPartitions), tmp_.path() + "/recall");
    ASSERT_TRUE(core.ok()) << core.status();
    core_ = *std::move(core);
    index_ = RecallIndexOf(*core_);
    ASSERT_NE(index_, nullptr);
  }

  void Load() {
    absl::Status s = index_->Load(core_->store());
    ASSERT_TRUE(s.ok()) << s;
    ASSERT_TRUE(index_->loaded());
  }

  void WaitFor(const eventlog::Offsets& end) {
    absl::Status s =
        core_->projector().WaitFor(end, absl::Now() + absl::Seconds(60));
    ASSERT_TRUE(s.ok()) << s;
  }

  // Every answer for AllCriteria, then the impact of some recorded scopes,
  // as "status ..." or the serialized scope and impact.
  std::vector<std::string> Answers(bool from_store) const {
    const RecallQueries queries(&core_->store());
    std::vector<std::string> out;
    std::vector<ScopeList> scopes;
    int n = 0;
    for (const v1::RecallCriteria& c : AllCriteria(world_.Ids())) {
      // Every other answer on one arena, as RunDrill asks (the impact's
      // lots then share the scope's rows); each asked twice into the same
      // messages (cleared and filled again).
      google::protobuf::Arena arena;
      v1::RecallDecisionState on_heap;
      v1::RecallDecisionState* r =
          ++n % 2 == 0
              ? google::protobuf::Arena::CreateMessage<v1::RecallDecisionState>(
                    &arena)
              : &on_heap;
      absl::Status s = absl::OkStatus();
      for (int again = 0; again < 2; ++again) {
        s = from_store ? queries.ScopeAndImpactFromStore(c, r->mutable_scope(),
                                                         r->mutable_impact())
                       : index_->ScopeAndImpact(c, r->mutable_scope(),
                                                r->mutable_impact());
      }
      if (!s.ok()) {
        out.push_back(absl::StrCat("status ", s.ToString()));
        continue;
      }
      out.push_back(r->SerializeAsString());
      if (r->scope_size() > 5) scopes.push_back(r->scope());
    }
    // A recorded scope also naming lots the service never heard of.
    for (ScopeList& scope : scopes) {
      scope.Add()->set_lot_id("NOPE:2");
      v1::RecallImpact impact;
      absl::Status s = from_store ? queries.ImpactFromStore(scope, &impact)
                                  : absl::OkStatus();
      if (!from_store) index_->Impact(scope, &impact);
      out.push_back(s.ok() ? impact.SerializeAsString() : s.ToString());
      // Its views, whole and page by page (AnalyzeImpact): the store path
      // cuts them from the full impact, the index builds them alone.
      StoredScope stored;
      stored.Assign(scope);
      for (const v1::ImpactView view :
           {v1::IMPACT_VIEW_SUMMARY, v1::IMPACT_VIEW_LOTS,
            v1::IMPACT_VIEW_CUSTOMERS}) {
        for (const int64_t limit : {0, 1, 4}) {
          ImpactSlice slice;
          slice.view = view;
          slice.limit = limit;
          for (int pages = 0; pages < 1000; ++pages) {
            v1::RecallImpact page;
            ImpactNext next;
            if (from_store) {
              SliceImpact(impact, slice, &page, &next);
            } else {
              index_->Impact(stored, slice, &page, &next);
            }
            out.push_back(page.SerializeAsString());
            if (!next.more) break;
            slice.first_lot = next.lot;
            slice.after_customer = next.customer;
          }
        }
      }
    }
    return out;
  }

  // The index's answers equal the store's, one by one; returns the index's.
  std::vector<std::string> ExpectIndexEqualsStore() {
    const std::vector<std::string> from_index = Answers(false);
    const std::vector<std::string> from_store = Answers(true);
    EXPECT_EQ(from_index.size(), from_store.size());
    int differ = 0, ok = 0, refused = 0, wide = 0, shipped = 0, returned = 0;
    for (size_t i = 0; i < from_index.size() && i < from_store.size(); ++i) {
      if (from_index[i] != from_store[i] && ++differ <= 3) {
        v1::RecallDecisionState a, b;
        a.ParseFromString(from_index[i]);
        b.ParseFromString(from_store[i]);
        ADD_FAILURE() << "answer " << i << " differs:\nindex: "
                      << a.ShortDebugString().substr(0, 3000)
                      << "\nstore: " << b.ShortDebugString().substr(0, 3000);
      }
      if (from_store[i].starts_with("status FAILED_PRECONDITION: lot ")) {
        ++refused;
      }
      v1::RecallDecisionState r;
      if (from_store[i].starts_with("status ") ||
          !r.ParseFromString(from_store[i])) {
        continue;
      }
      ++ok;
      if (r.scope_size() >= 20) ++wide;
      if (r.impact().customers_affected() > 0) ++shipped;
      if (r.impact().returned() > 0) ++returned;
    }
    EXPECT_EQ(differ, 0);
    // The comparison covers answers of every kind.
    EXPECT_GT(ok, 100);
    EXPECT_GE(refused, 3);
    EXPECT_GT(wide, 10);
    EXPECT_GT(shipped, 20);
    EXPECT_GT(returned, 5);
    return from_index;
  }

  projection::testing::ScopedTempDir tmp_;
  std::unique_ptr<eventlog::EventLog> log_;
  std::unique_ptr<command::ServiceCore> core_;
  std::shared_ptr<RecallIndex> index_;
  World world_{23};
};

TEST_F(RecallIndexTest, KeptCurrentByTheProjectorItAnswersAsTheStore) {
  Open();
  Load();  // an empty projection: everything comes through the projector
  Writer w(log_.get());
  world_.Round(w, 20);
  world_.Distribute(w);
  WaitFor(w.Flush());
  ExpectIndexEqualsStore();
  // Lots made later from lots already shipped, more shipments, corrections.
  world_.Round(w, 20);
  world_.Distribute(w);
  world_.Corrections(w);
  WaitFor(w.Flush());
  ExpectIndexEqualsStore();

  // Spot checks the comparison rests on: the hub's derived scope is wide
  // and walked level by level; the big lot's customers all show, named as
  // on their latest shipment, sorted by id.
  v1::RecallCriteria hub;
  hub.add_lot_ids("RM:HUB");
  hub.set_include_derived(true);
  ScopeList scope;
  v1::RecallImpact impact;
  ASSERT_TRUE(index_->ScopeAndImpact(hub, &scope, &impact).ok());
  ASSERT_GT(scope.size(), 40);
  for (int i = 1; i < scope.size(); ++i) {
    EXPECT_LE(scope[i - 1].depth(), scope[i].depth());
  }
  EXPECT_EQ(impact.customers_affected(), kCustomers);
  ASSERT_EQ(impact.customers_size(), kCustomers);
  EXPECT_EQ(impact.customers(0).customer().customer_id(), "C-000");
  EXPECT_EQ(impact.customers(0).customer().name(), "Hospital 0 v2");
  EXPECT_GT(impact.on_hand_by_location_size(), 1);
  v1::RecallCriteria ghost;
  ghost.add_lot_ids("RM:GHOST");
  EXPECT_EQ(index_->ScopeAndImpact(ghost, &scope, &impact),
            absl::FailedPreconditionError(
                "lot RM:GHOST is not known to the recall service (no "
                "LotCreated seen); check the lot id or pass the lots "
                "service's token as `after`"));
  const RecallIndex::Stats stats = index_->stats();
  EXPECT_GT(stats.lots, 200u);
  EXPECT_GT(stats.forward_edges, stats.lots);
  EXPECT_GT(stats.distributed_lots, 40u);
  EXPECT_GT(stats.holdings, stats.distributed_lots);
  EXPECT_EQ(stats.customers, kCustomers + 1u);  // and C-999, never shipped
  EXPECT_GT(stats.bytes, 0u);
}

TEST_F(RecallIndexTest, LoadedWhileTheProjectorReplaysItAnswersAsTheStore) {
  Writer w(log_.get());
  world_.Round(w, 60);
  world_.Distribute(w);
  world_.Corrections(w);
  world_.Round(w, 60);
  world_.Distribute(w);
  const eventlog::Offsets end = w.Flush();
  Open();  // the projector replays from offset 0 while the index loads
  Load();
  WaitFor(end);
  ExpectIndexEqualsStore();
}

TEST_F(RecallIndexTest, AfterARestartTheLoadedIndexAnswersAsTheLiveOne) {
  Open();
  Load();
  Writer w(log_.get());
  world_.Round(w, 20);
  world_.Distribute(w);
  world_.Corrections(w);
  WaitFor(w.Flush());
  const std::vector<std::string> live = ExpectIndexEqualsStore();
  const RecallIndex::Stats stats = index_->stats();
  core_->Stop();
  core_.reset();
  index_.reset();

  Open();
  Load();
  EXPECT_EQ(index_->stats().lots, stats.lots);
  EXPECT_EQ(index_->stats().holdings, stats.holdings);
  EXPECT_EQ(ExpectIndexEqualsStore(), live);
}

TEST_F(RecallIndexTest, AnOnlineRebuildLeavesAnswersRight) {
  Open();
  Load();
  Writer w(log_.get());
  // Enough records for the rebuild to replay them in several steps.
  world_.Round(w, 150);
  world_.Distribute(w);
  world_.Corrections(w);
  world_.Round(w, 150);
  world_.Distribute(w);
  WaitFor(w.Flush());
  const std::vector<std::string> before = ExpectIndexEqualsStore();
  const RecallIndex::Stats stats = index_->stats();

  // The rebuild's projector replays every fact through the same apply
  // function; the index folds none of them again, so answers given while
  // it replays are the live ones (an index folding the replay would answer
  // with the distribution as it was part way).
  int replaying = 0;
  command::RebuildOptions options;
  options.report_every = absl::ZeroDuration();  // a report per step
  options.pause_within = 0;
  auto rebuilt = command::RebuildProjection(
      *core_, options, [&](const command::RebuildProgress& p) {
        if (p.phase == command::RebuildPhase::kReplaying &&
            p.records_applied > 0 && p.records_applied < p.records_total &&
            replaying++ % 4 == 0) {
          EXPECT_TRUE(Answers(false) == before)
              << "while replaying, at " << p.records_applied << " of "
              << p.records_total;
        }
        return true;
      });
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status();
  EXPECT_GT(replaying, 0);
  EXPECT_EQ(rebuilt->old_digest, rebuilt->new_digest);
  EXPECT_EQ(ExpectIndexEqualsStore(), before);
  EXPECT_EQ(index_->stats().holdings, stats.holdings);
  EXPECT_EQ(index_->stats().bytes, stats.bytes);

  // Facts after the switch reach the index through the live projector.
  world_.Round(w, 10);
  world_.Distribute(w);
  WaitFor(w.Flush());
  EXPECT_GT(index_->stats().lots, stats.lots);
  ExpectIndexEqualsStore();
}

// Lots shipped to many customers one by one, interleaved (each lot's
// holdings grow by one per shipment, hundreds of times), then returns, one
// shipment too large for 32 bits and one dated past year 65535: the index
// answers as the store, and its memory after folding all of it live is
// what a restart loads, not a multiple of it (a lot's holdings block is
// replaced when it grows, nothing left behind).
TEST_F(RecallIndexTest, ManyCustomersPerLotFoldedOneByOneAnswerAsTheStore) {
  Open();
  Load();
  Writer w(log_.get());
  world_.Round(w, 30);
  world_.Distribute(w);
  std::vector<std::string> finished;
  for (const std::string& id : world_.Ids()) {
    if (id.starts_with("FG:L3-")) finished.push_back(id);
  }
  ASSERT_GE(finished.size(), 20u);
  finished.resize(20);
  constexpr int kMany = 200;
  for (int c = 0; c < kMany; ++c) {
    for (const std::string& lot : finished) {
      w.Add(topics::kInventory, Received(lot, "WH7", 3));
      w.Add(topics::kInventory, Shipped(lot, "WH7", c, 2, 1 + c % 28, 1));
    }
  }
  WaitFor(w.Flush());
  ExpectIndexEqualsStore();
  for (int c = 0; c < kMany; c += 3) {
    for (size_t i = 0; i < finished.size(); i += 2) {
      w.Add(topics::kInventory,
            Returned(finished[i], absl::StrFormat("C-%03d", c), "RET", 1));
    }
  }
  // Values a packed holding cannot hold: that lot keeps them whole.
  w.Add(topics::kInventory, Received(finished[0], "WH7", 3000000000));
  w.Add(topics::kInventory,
        Shipped(finished[0], "WH7", kMany, 3000000000, 2, 1));
  v1::Event far = Shipped(finished[1], "WH7", kMany + 1, 1, 3, 1);
  SetDate(far.mutable_stock_shipped()->mutable_ship_date(), 70000, 1, 2);
  w.Add(topics::kInventory, far);
  // Stock past 32 bits kept at a location.
  w.Add(topics::kInventory, Received(finished[8], "WH9", 5000000000));
  // A return past 16 bits, and dates just outside (1969, 2098) and at the
  // ends (1970-01-01, 2097-12-31) of the packed range.
  w.Add(topics::kInventory, Received(finished[3], "WH7", 40000));
  w.Add(topics::kInventory, Shipped(finished[3], "WH7", kMany, 40000, 4, 1));
  w.Add(topics::kInventory,
        Returned(finished[3], absl::StrFormat("C-%03d", kMany), "RET", 40000));
  const std::vector<std::tuple<int, int, int>> edges = {
      {1969, 12, 31}, {2098, 1, 1}, {1970, 1, 1}, {2097, 12, 31}};
  for (size_t i = 0; i < edges.size(); ++i) {
    v1::Event edge = Shipped(finished[4 + i], "WH7", kMany + 1, 1, 5, 1);
    const auto& [year, month, day] = edges[i];
    SetDate(edge.mutable_stock_shipped()->mutable_ship_date(), year, month,
            day);
    w.Add(topics::kInventory, edge);
  }
  WaitFor(w.Flush());
  const std::vector<std::string> live = ExpectIndexEqualsStore();
  const RecallIndex::Stats stats = index_->stats();
  EXPECT_GE(stats.holdings, finished.size() * kMany);
  v1::RecallCriteria wide;
  wide.add_lot_ids(finished[0]);
  wide.add_lot_ids(finished[1]);
  ScopeList scope;
  v1::RecallImpact impact;
  ASSERT_TRUE(index_->ScopeAndImpact(wide, &scope, &impact).ok());
  EXPECT_EQ(impact.lots(0).customers(), kMany + 1);
  EXPECT_GE(impact.lots(0).shipped(), 2 * kMany + 3000000000);  // and more
  ASSERT_EQ(impact.customers_affected(), kMany + 2);
  EXPECT_EQ(impact.customers(kMany + 1).lots(0).last_shipped_on().year(),
            70000);
  // Each edge date comes back as shipped, and the big return whole.
  for (size_t i = 0; i < edges.size(); ++i) {
    v1::RecallCriteria one;
    one.add_lot_ids(finished[4 + i]);
    ASSERT_TRUE(index_->ScopeAndImpact(one, &scope, &impact).ok());
    const v1::CustomerImpact* to = nullptr;
    for (const v1::CustomerImpact& c : impact.customers()) {
      if (c.customer().customer_id() == absl::StrFormat("C-%03d", kMany + 1)) {
        to = &c;
      }
    }
    ASSERT_NE(to, nullptr) << finished[4 + i];
    const v1::Date& on = to->lots(0).last_shipped_on();
    EXPECT_EQ(std::make_tuple(on.year(), on.month(), on.day()), edges[i]);
  }
  v1::RecallCriteria returned;
  returned.add_lot_ids(finished[3]);
  ASSERT_TRUE(index_->ScopeAndImpact(returned, &scope, &impact).ok());
  EXPECT_EQ(impact.returned(), 40000);

  core_->Stop();
  core_.reset();
  index_.reset();
  Open();
  Load();
  EXPECT_EQ(index_->stats().holdings, stats.holdings);
  EXPECT_EQ(ExpectIndexEqualsStore(), live);
  // Folded one by one it takes what loading takes, give or take growing
  // vectors elsewhere; pools that moved a growing range to their end at
  // twice the size held several times the loaded bytes.
  EXPECT_LE(stats.bytes, index_->stats().bytes * 5 / 4)
      << stats.bytes << " folded, " << index_->stats().bytes << " loaded";

  // A lot whose values fit again packs again; another that stops fitting
  // takes the room it left.
  w.Add(topics::kInventory,
        Shipped(finished[0], "WH7", kMany, -3000000000, 4, 1));
  w.Add(topics::kInventory, Received(finished[2], "WH7", 3000000000));
  w.Add(topics::kInventory,
        Shipped(finished[2], "WH7", kMany, 3000000000, 5, 1));
  WaitFor(w.Flush());
  ExpectIndexEqualsStore();
  ASSERT_TRUE(index_->ScopeAndImpact(wide, &scope, &impact).ok());
  EXPECT_LT(impact.lots(0).shipped(), 2 * kMany + 1000);
}

}  // namespace
}  // namespace lotledger::recall
