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
// projection and facts applied after it. Real parts: an embedded event
// log, the service's projector and RocksDB projection.
#include "services/recall/recall_index.h"

#include <map>
#include <memory>
#include <random>
#include <string>
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

namespace lotledger::recall {
namespace {

constexpr int32_t kPartitions = 3;

// Lots by level: raw materials, components, assemblies, finished devices.
constexpr const char* kItems[] = {"RM", "CMP", "ASM", "FG"};
constexpr int kCustomers = 30;

// Writes events to the lots and inventory topics as the services would
// have: sealed, each its own aggregate (spread over the partitions).
class Writer {
 public:
  explicit Writer(eventlog::EventLog* log) : log_(log) {}

  void Add(const std::string& topic, v1::Event e) {
    e.set_event_id(absl::StrCat("ev-", ++n_));
    e.set_aggregate_id(e.event_id());
    e.set_actor("test");
    e.mutable_recorded_at()->set_seconds(1790000000 + n_);
    eventlog::ChainHead head;
    batches_[topic].push_back(
        eventlog::ToOutgoing(e, eventlog::Seal(e, head), "recall-index-test"));
  }

  // Appends what was added; the log's end offsets.
  eventlog::Offsets Flush() {
    for (auto& [topic, batch] : batches_) {
      if (batch.empty()) continue;
      auto pos = log_->Append(topic, std::move(batch));
      EXPECT_TRUE(pos.ok()) << pos.status();
      batch.clear();
    }
    eventlog::Offsets end;
    for (const char* topic : {topics::kLots, topics::kInventory}) {
      for (int32_t p = 0; p < kPartitions; ++p) {
        auto e = log_->EndOffset(topic, p);
        EXPECT_TRUE(e.ok()) << e.status();
        end[{topic, p}] = e.ok() ? *e : 0;
      }
    }
    return end;
  }

 private:
  eventlog::EventLog* log_;
  int n_ = 0;
  std::map<std::string, std::vector<eventlog::OutgoingRecord>> batches_;
};

void SetDate(v1::Date* d, int year, int month, int day) {
  d->set_year(year);
  d->set_month(month);
  d->set_day(day);
}

v1::Event Created(const std::string& item, const std::string& number,
                  const std::vector<std::string>& inputs, int serial,
                  const std::string& lot_id = "") {
  v1::Event e;
  v1::LotCreated* c = e.mutable_lot_created();
  c->set_lot_id(lot_id.empty() ? absl::StrCat(item, ":", number) : lot_id);
  c->set_item(item);
  c->set_lot_number(number);
  SetDate(c->mutable_manufactured_on(), 2026, 1 + serial % 12, 1 + serial % 28);
  SetDate(c->mutable_expires_on(), 2029, 1 + serial % 12, 1 + serial % 28);
  c->mutable_quantity()->set_amount(1000);
  c->mutable_quantity()->set_uom(serial % 5 == 0 ? "KG" : "EA");
  e.add_lot_ids(c->lot_id());
  for (const std::string& in : inputs) {
    v1::LotInput* line = c->add_inputs();
    line->set_lot_id(in);
    line->mutable_quantity()->set_amount(2);
    line->mutable_quantity()->set_uom("EA");
    bool listed = false;
    for (const std::string& id : e.lot_ids()) listed |= id == in;
    if (!listed) e.add_lot_ids(in);
  }
  return e;
}

v1::Event Corrected(const std::string& lot_id, const std::string& field,
                    const std::string& value) {
  v1::Event e;
  v1::LotCorrected* c = e.mutable_lot_corrected();
  c->set_lot_id(lot_id);
  c->set_field(field);
  c->set_new_value(value);
  c->set_reason("label misprint");
  e.add_lot_ids(lot_id);
  return e;
}

v1::Event Received(const std::string& lot, const std::string& location,
                   int64_t amount) {
  v1::Event e;
  e.add_lot_ids(lot);
  v1::StockReceived* r = e.mutable_stock_received();
  r->set_lot_id(lot);
  r->set_location_id(location);
  r->mutable_quantity()->set_amount(amount);
  r->mutable_quantity()->set_uom("EA");
  return e;
}

v1::Event Transferred(const std::string& lot, const std::string& from,
                      const std::string& to, int64_t amount) {
  v1::Event e;
  e.add_lot_ids(lot);
  v1::StockTransferred* t = e.mutable_stock_transferred();
  t->set_lot_id(lot);
  t->set_from_location_id(from);
  t->set_to_location_id(to);
  t->mutable_quantity()->set_amount(amount);
  return e;
}

v1::Event Shipped(const std::string& lot, const std::string& from, int customer,
                  int64_t amount, int day, int version) {
  v1::Event e;
  e.add_lot_ids(lot);
  v1::StockShipped* s = e.mutable_stock_shipped();
  s->set_shipment_id(absl::StrCat("SHP-", lot, "-", customer, "-", day));
  s->set_lot_id(lot);
  s->set_from_location_id(from);
  s->mutable_quantity()->set_amount(amount);
  s->mutable_quantity()->set_uom("EA");
  v1::Customer* c = s->mutable_customer();
  c->set_customer_id(absl::StrFormat("C-%03d", customer));
  // A customer's name changes: the latest shipment's counts.
  c->set_name(absl::StrFormat("Hospital %d v%d", customer, version));
  c->set_region(absl::StrCat("R", customer % 4));
  SetDate(s->mutable_ship_date(), 2026, 6, day);
  return e;
}

v1::Event Returned(const std::string& lot, const std::string& customer_id,
                   const std::string& to, int64_t amount) {
  v1::Event e;
  e.add_lot_ids(lot);
  v1::StockReturned* r = e.mutable_stock_returned();
  r->set_lot_id(lot);
  r->set_customer_id(customer_id);
  r->set_to_location_id(to);
  r->mutable_quantity()->set_amount(amount);
  return e;
}

v1::Event Scrapped(const std::string& lot, const std::string& location,
                   int64_t amount) {
  v1::Event e;
  e.add_lot_ids(lot);
  v1::StockScrapped* s = e.mutable_stock_scrapped();
  s->set_lot_id(lot);
  s->set_location_id(location);
  s->mutable_quantity()->set_amount(amount);
  return e;
}

v1::Event Adjusted(const std::string& lot, const std::string& location,
                   int64_t delta) {
  v1::Event e;
  e.add_lot_ids(lot);
  v1::StockAdjusted* a = e.mutable_stock_adjusted();
  a->set_lot_id(lot);
  a->set_location_id(location);
  a->set_delta(delta);
  return e;
}

// A seeded genealogy and its distribution, written in rounds.
class World {
 public:
  explicit World(uint64_t seed) : rng_(seed) {}

  // Raw lots (one, RM:HUB, goes into about half of all lots) and
  // `per_level` lots per level above, each of 1-3 inputs from any level
  // below (shared inputs make diamonds).
  void Round(Writer& w, int per_level) {
    if (lots_.empty()) {
      lots_.resize(4);
      Create(w, 0, "HUB", {});
      // Consumed by one component, never created itself.
      lots_[1].push_back("CMP:GHOSTLY");
      w.Add(topics::kLots, Created("CMP", "GHOSTLY", {"RM:GHOST"}, ++serial_));
      // A lot whose number is not its id's tail.
      w.Add(topics::kLots,
            Created("FG", "odd-number", {"RM:HUB"}, ++serial_, "FG:other"));
      lots_[3].push_back("FG:other");
    }
    for (int i = 0; i < per_level * 2; ++i) {
      Create(w, 0, absl::StrFormat("R%03d", ++serial_), {});
    }
    for (int level = 1; level < 4; ++level) {
      for (int i = 0; i < per_level; ++i) {
        std::vector<std::string> inputs;
        const int n = 1 + static_cast<int>(rng_() % 3);
        for (int k = 0; k < n; ++k) {
          const auto& pool = lots_[rng_() % level];
          inputs.push_back(pool[rng_() % pool.size()]);
        }
        if (rng_() % 2 == 0) inputs.push_back("RM:HUB");
        Create(w, level, absl::StrFormat("L%d-%03d", level, ++serial_), inputs);
      }
    }
  }

  // Assemblies and finished lots received, moved, shipped, returned,
  // scrapped and counted; one finished lot shipped to every customer.
  void Distribute(Writer& w) {
    ++version_;
    for (int level = 2; level < 4; ++level) {
      for (const std::string& lot : lots_[level]) {
        if (lot == "CMP:GHOSTLY" || rng_() % 3 == 0) continue;
        const std::string wh = rng_() % 2 ? "WH1" : "WH2";
        w.Add(topics::kInventory, Received(lot, wh, 100));
        if (rng_() % 4 == 0) {
          w.Add(topics::kInventory, Transferred(lot, wh, "QA", 10));
        }
        const int shipments = static_cast<int>(rng_() % 4);
        for (int s = 0; s < shipments; ++s) {
          const int customer = static_cast<int>(rng_() % kCustomers);
          w.Add(topics::kInventory,
                Shipped(lot, wh, customer, 5 + s, 1 + s, version_));
          if (rng_() % 3 == 0) {
            w.Add(topics::kInventory,
                  Returned(lot, absl::StrFormat("C-%03d", customer), "RET", 2));
          }
        }
        if (rng_() % 5 == 0) w.Add(topics::kInventory, Scrapped(lot, wh, 3));
        if (rng_() % 6 == 0) w.Add(topics::kInventory, Adjusted(lot, wh, -4));
        // Everything moved out of a location: its entry goes.
        if (rng_() % 9 == 0) {
          w.Add(topics::kInventory, Received(lot, "DOCK", 7));
          w.Add(topics::kInventory, Transferred(lot, "DOCK", wh, 7));
        }
      }
    }
    const std::string& big = lots_[3][1];
    for (int c = 0; c < kCustomers; ++c) {
      w.Add(topics::kInventory, Shipped(big, "WH9", c, 1, 9, version_));
    }
    // A return from a customer never shipped that lot: a holding with
    // nothing shipped, which no impact lists.
    w.Add(topics::kInventory, Returned(lots_[3][2], "C-999", "RET", 1));
  }

  // Manufacture dates (moving lots in and out of date ranges) and expiry
  // dates corrected.
  void Corrections(Writer& w) {
    for (int level = 0; level < 4; ++level) {
      for (int i = 0; i < 3; ++i) {
        const auto& pool = lots_[level];
        const std::string& lot = pool[rng_() % pool.size()];
        w.Add(topics::kLots,
              Corrected(lot, "manufactured_on",
                        absl::StrFormat("2026-%02d-%02d", 3 + i, 10 + level)));
        w.Add(topics::kLots, Corrected(lot, "expires_on",
                                       absl::StrFormat("2031-%02d-01", 1 + i)));
      }
    }
  }

  // Every lot id written, and ones never created or never named.
  std::vector<std::string> Ids() const {
    std::vector<std::string> ids = {"RM:GHOST", "NOPE:1", "FG:odd-number"};
    for (const auto& level : lots_)
      ids.insert(ids.end(), level.begin(), level.end());
    return ids;
  }

 private:
  void Create(Writer& w, int level, const std::string& number,
              const std::vector<std::string>& inputs) {
    v1::Event e = Created(kItems[level], number, inputs, ++serial_);
    lots_[level].push_back(e.lot_created().lot_id());
    w.Add(topics::kLots, std::move(e));
  }

  std::mt19937_64 rng_;
  int serial_ = 0;
  int version_ = 0;
  std::vector<std::vector<std::string>> lots_;
};

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

}  // namespace
}  // namespace lotledger::recall
