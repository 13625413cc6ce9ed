// The in-memory genealogy (genealogy_index.h) answers every trace exactly as
// the RocksDB walk (LotsQueries::TraceFromStore) does: on a generated
// genealogy with diamonds, a raw lot used in many lots, repeated input
// lines, a lot consumed but never created, expiry corrections and a
// redelivered LotCreated, in both directions and at several depths; when
// kept current by the live projector, when loaded while the projector
// replays, after a restart (loaded from the projection), and after an
// online rebuild of the projection and facts applied after it. Real parts:
// an embedded event log, the service's projector and RocksDB projection.
#include "services/lots/genealogy_index.h"

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
#include "lotledger/v1/domain.pb.h"
#include "services/lots/lots_projection.h"
#include "services/lots/lots_service.h"

namespace lotledger::lots {
namespace {

constexpr int32_t kPartitions = 3;

// Lots by level: raw materials, components, assemblies, finished devices.
constexpr const char* kItems[] = {"RM", "CMP", "ASM", "FG"};
constexpr v1::ItemKind kKinds[] = {
    v1::ITEM_KIND_RAW_MATERIAL, v1::ITEM_KIND_COMPONENT,
    v1::ITEM_KIND_COMPONENT, v1::ITEM_KIND_FINISHED_DEVICE};

// Writes events to the lots topic as the service would have: sealed, each
// its own aggregate (spread over the partitions by key).
class Writer {
 public:
  explicit Writer(eventlog::EventLog* log) : log_(log) {}

  void Add(v1::Event e) {
    e.set_event_id(absl::StrCat("ev-", ++n_));
    e.set_aggregate_id(e.event_id());
    e.set_actor("test");
    e.mutable_recorded_at()->set_seconds(1790000000 + n_);
    eventlog::ChainHead head;
    batch_.push_back(
        eventlog::ToOutgoing(e, eventlog::Seal(e, head), "genealogy-test"));
  }

  // Appends what was added; the log's end offsets.
  eventlog::Offsets Flush() {
    if (!batch_.empty()) {
      auto pos = log_->Append(topics::kLots, std::move(batch_));
      EXPECT_TRUE(pos.ok()) << pos.status();
      batch_.clear();
    }
    eventlog::Offsets end;
    for (int32_t p = 0; p < kPartitions; ++p) {
      auto e = log_->EndOffset(topics::kLots, p);
      EXPECT_TRUE(e.ok()) << e.status();
      end[{topics::kLots, p}] = e.ok() ? *e : 0;
    }
    return end;
  }

 private:
  eventlog::EventLog* log_;
  int n_ = 0;
  std::vector<eventlog::OutgoingRecord> batch_;
};

v1::Event Product(int level) {
  v1::Event e;
  v1::Product* p = e.mutable_product_defined()->mutable_product();
  p->set_item(kItems[level]);
  p->set_uom("EA");
  p->set_kind(kKinds[level]);
  return e;
}

v1::Event Created(const std::string& item, const std::string& number,
                  const std::vector<std::pair<std::string, int>>& inputs,
                  const std::string& lot_id = "") {
  v1::Event e;
  v1::LotCreated* c = e.mutable_lot_created();
  c->set_lot_id(lot_id.empty() ? absl::StrCat(item, ":", number) : lot_id);
  c->set_item(item);
  c->set_lot_number(number);
  c->mutable_expires_on()->set_year(2029);
  c->mutable_expires_on()->set_month(1 + number.size() % 12);
  c->mutable_expires_on()->set_day(1 + number.back() % 28);
  c->mutable_quantity()->set_amount(1000);
  c->mutable_quantity()->set_uom("EA");
  e.add_lot_ids(c->lot_id());
  for (const auto& [in, amount] : inputs) {
    v1::LotInput* line = c->add_inputs();
    line->set_lot_id(in);
    line->mutable_quantity()->set_amount(amount);
    line->mutable_quantity()->set_uom(amount % 2 == 0 ? "EA" : "G");
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
  c->set_old_value("");
  c->set_new_value(value);
  c->set_reason("label misprint");
  e.add_lot_ids(lot_id);
  return e;
}

// A seeded genealogy, written in rounds.
class Genealogy {
 public:
  explicit Genealogy(uint64_t seed) : rng_(seed) {}

  // Products, raw lots (one, RM:HUB, goes into about half of all lots)
  // and `per_level` lots per level above, each of 1-3 inputs from any
  // level below (shared inputs make diamonds), sometimes a line twice.
  void Round(Writer& w, int per_level) {
    if (lots_.empty()) {
      for (int level = 0; level < 4; ++level) w.Add(Product(level));
      lots_.resize(4);
      Create(w, 0, "HUB", {});
      // Consumed by one component, never created itself.
      lots_[1].push_back("CMP:GHOSTLY");
      w.Add(Created("CMP", "GHOSTLY", {{"RM:GHOST", 3}}));
      // A lot whose number is not its id's tail; an item never defined.
      w.Add(Created("FG", "odd-number", {{"RM:HUB", 5}}, "FG:other"));
      lots_[3].push_back("FG:other");
      w.Add(Created("TOOL", "T1", {}));
      lots_[0].push_back("TOOL:T1");
    }
    for (int i = 0; i < per_level * 2; ++i) {
      Create(w, 0, absl::StrFormat("R%03d", ++serial_), {});
    }
    for (int level = 1; level < 4; ++level) {
      for (int i = 0; i < per_level; ++i) {
        std::vector<std::pair<std::string, int>> inputs;
        const int n = 1 + static_cast<int>(rng_() % 3);
        for (int k = 0; k < n; ++k) {
          const int below = static_cast<int>(rng_() % level);
          const auto& pool = lots_[below];
          inputs.emplace_back(pool[rng_() % pool.size()],
                              1 + static_cast<int>(rng_() % 9));
        }
        if (rng_() % 2 == 0) inputs.emplace_back("RM:HUB", 2);
        if (rng_() % 7 == 0) inputs.push_back(inputs.front());  // twice
        Create(w, level, absl::StrFormat("L%d-%03d", level, ++serial_), inputs);
      }
    }
  }

  // Expiry corrections (one not a date, one of another field) and a
  // LotCreated delivered again after its lot's expiry was corrected.
  void Corrections(Writer& w) {
    for (int level = 0; level < 4; ++level) {
      for (int i = 0; i < 3; ++i) {
        const auto& pool = lots_[level];
        const std::string& lot = pool[rng_() % pool.size()];
        w.Add(Corrected(lot, "expires_on",
                        absl::StrFormat("2031-%02d-%02d", 1 + i, 10 + level)));
      }
    }
    w.Add(Corrected(lots_[2].back(), "expires_on", "31.12.2030"));
    w.Add(Corrected(lots_[2].back(), "site", "Cork"));
    const v1::Event& again = created_.at(lots_[1][3]);
    w.Add(Corrected(again.lot_created().lot_id(), "expires_on", "2032-02-02"));
    w.Add(again);
    w.Add(Corrected(lots_[1][4], "expires_on", "2033-03-03"));
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
              const std::vector<std::pair<std::string, int>>& inputs) {
    v1::Event e = Created(kItems[level], number, inputs);
    const std::string id = e.lot_created().lot_id();
    lots_[level].push_back(id);
    created_[id] = e;
    w.Add(std::move(e));
  }

  std::mt19937_64 rng_;
  int serial_ = 0;
  std::vector<std::vector<std::string>> lots_;
  std::map<std::string, v1::Event> created_;
};

// Every trace of `ids`, both ways, at depths 1, 2, 3 and the default, as
// "<status>" or the serialized response.
std::vector<std::string> AllTraces(const LotsQueries& queries,
                                   const std::vector<std::string>& ids,
                                   bool from_store) {
  std::vector<std::string> out;
  for (const std::string& id : ids) {
    for (auto direction :
         {v1::TRACE_DIRECTION_BACKWARD, v1::TRACE_DIRECTION_FORWARD}) {
      for (int depth : {1, 2, 3, 0}) {
        v1::TraceRequest req;
        req.set_lot_id(id);
        req.set_direction(direction);
        req.set_max_depth(depth);
        absl::StatusOr<v1::TraceResponse> r =
            from_store ? queries.TraceFromStore(req) : queries.Trace(req);
        out.push_back(r.ok() ? r->SerializeAsString()
                             : absl::StrCat("status ", r.status().ToString()));
      }
    }
  }
  return out;
}

class GenealogyIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = eventlog::OpenEmbeddedEventLog(
        {.path = tmp_.path() + "/log", .sync = false});
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
    ASSERT_TRUE(log_->EnsureTopic(topics::kLots, kPartitions).ok());
  }

  void Open() {
    auto core = command::ServiceCore::Open(
        log_.get(), LotsServiceSpec(kPartitions), tmp_.path() + "/lots");
    ASSERT_TRUE(core.ok()) << core.status();
    core_ = *std::move(core);
    index_ = GenealogyIndexOf(*core_);
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

  // The index's answers equal the store walk's, trace by trace; returns
  // the index's.
  std::vector<std::string> ExpectIndexEqualsStore() {
    LotsQueries queries(&core_->store(), index_.get());
    const std::vector<std::string> ids = genealogy_.Ids();
    std::vector<std::string> from_index = AllTraces(queries, ids, false);
    std::vector<std::string> from_store = AllTraces(queries, ids, true);
    EXPECT_EQ(from_index.size(), from_store.size());
    int differ = 0, ok = 0, not_found = 0, deep = 0;
    for (size_t i = 0; i < from_index.size() && i < from_store.size(); ++i) {
      if (from_index[i] != from_store[i] && ++differ <= 3) {
        ADD_FAILURE() << "trace " << i << " of lot " << ids[i / 8]
                      << " differs:\nindex: " << from_index[i]
                      << "\nstore: " << from_store[i];
      }
      if (from_store[i].starts_with("status NOT_FOUND: lot ")) ++not_found;
      if (!from_store[i].starts_with("status ")) ++ok;
      v1::TraceResponse r;
      if (r.ParseFromString(from_store[i]) && r.nodes_size() >= 8) ++deep;
    }
    EXPECT_EQ(differ, 0);
    // The comparison covers answers of every kind.
    EXPECT_GT(ok, 100);
    EXPECT_GT(not_found, 8);
    EXPECT_GT(deep, 20);
    return from_index;
  }

  projection::testing::ScopedTempDir tmp_;
  std::unique_ptr<eventlog::EventLog> log_;
  std::unique_ptr<command::ServiceCore> core_;
  std::shared_ptr<GenealogyIndex> index_;
  Genealogy genealogy_{17};
};

TEST_F(GenealogyIndexTest, KeptCurrentByTheProjectorItAnswersAsTheStore) {
  Open();
  Load();  // an empty projection: everything comes through the projector
  Writer w(log_.get());
  genealogy_.Round(w, 20);
  WaitFor(w.Flush());
  ExpectIndexEqualsStore();
  genealogy_.Round(w, 20);
  genealogy_.Corrections(w);
  WaitFor(w.Flush());
  ExpectIndexEqualsStore();

  // Spot checks the comparison rests on: the hub's forward edges are
  // sorted and counted once; a corrected expiry shows.
  v1::TraceRequest req;
  req.set_lot_id("RM:HUB");
  req.set_direction(v1::TRACE_DIRECTION_FORWARD);
  req.set_max_depth(1);
  auto hub = LotsQueries(&core_->store(), index_.get()).Trace(req);
  ASSERT_TRUE(hub.ok()) << hub.status();
  ASSERT_GT(hub->nodes_size(), 20);
  for (int i = 2; i < hub->nodes_size(); ++i) {
    EXPECT_LT(hub->nodes(i - 1).lot_id(), hub->nodes(i).lot_id());
  }
  EXPECT_EQ(hub->nodes(0).kind(), v1::ITEM_KIND_RAW_MATERIAL);
  EXPECT_TRUE(hub->truncated());
  req.set_lot_id("RM:GHOST");
  auto ghost = LotsQueries(&core_->store(), index_.get()).Trace(req);
  EXPECT_EQ(ghost.status(), absl::NotFoundError("lot RM:GHOST does not exist"));
  const GenealogyIndex::Stats stats = index_->stats();
  EXPECT_EQ(stats.lots, 205u);  // 2 x (40 raw + 3 x 20) + 5 of Round's own
  EXPECT_GT(stats.backward_edges, stats.lots);
  EXPECT_GT(stats.forward_edges, 0u);
  EXPECT_GT(stats.bytes, 0u);
}

TEST_F(GenealogyIndexTest, LoadedWhileTheProjectorReplaysItAnswersAsTheStore) {
  Writer w(log_.get());
  genealogy_.Round(w, 60);
  genealogy_.Corrections(w);
  genealogy_.Round(w, 60);
  const eventlog::Offsets end = w.Flush();
  Open();  // the projector replays from offset 0 while the index loads
  Load();
  WaitFor(end);
  ExpectIndexEqualsStore();
}

TEST_F(GenealogyIndexTest, AfterARestartTheLoadedIndexAnswersAsTheLiveOne) {
  Open();
  Load();
  Writer w(log_.get());
  genealogy_.Round(w, 20);
  genealogy_.Corrections(w);
  WaitFor(w.Flush());
  const std::vector<std::string> live = ExpectIndexEqualsStore();
  core_->Stop();
  core_.reset();
  index_.reset();

  Open();
  Load();
  EXPECT_GT(index_->stats().lots, 100u);
  EXPECT_EQ(ExpectIndexEqualsStore(), live);
}

TEST_F(GenealogyIndexTest, AnOnlineRebuildLeavesTracesRight) {
  Open();
  Load();
  Writer w(log_.get());
  // Enough records for the rebuild to replay them in several steps, the
  // corrections after the lots they correct.
  genealogy_.Round(w, 400);
  genealogy_.Corrections(w);
  genealogy_.Round(w, 400);
  genealogy_.Corrections(w);
  WaitFor(w.Flush());
  const std::vector<std::string> before = ExpectIndexEqualsStore();
  const GenealogyIndex::Stats stats = index_->stats();

  // The rebuild's projector replays every fact through the same apply
  // function; the index folds none of them again, so traces answered
  // while it replays are the live ones (an index folding the replay would
  // answer a corrected lot's first expiry until the correction came).
  const std::vector<std::string> ids = genealogy_.Ids();
  const LotsQueries queries(&core_->store(), index_.get());
  int replaying = 0;
  command::RebuildOptions options;
  options.report_every = absl::ZeroDuration();  // a report per step
  options.pause_within = 0;
  auto rebuilt = command::RebuildProjection(
      *core_, options, [&](const command::RebuildProgress& p) {
        if (p.phase == command::RebuildPhase::kReplaying &&
            p.records_applied > 0 && p.records_applied < p.records_total) {
          ++replaying;
          EXPECT_TRUE(AllTraces(queries, ids, false) == before)
              << "while replaying, at " << p.records_applied << " of "
              << p.records_total;
        }
        return true;
      });
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status();
  EXPECT_GT(replaying, 0);
  EXPECT_EQ(rebuilt->old_digest, rebuilt->new_digest);
  EXPECT_EQ(ExpectIndexEqualsStore(), before);
  EXPECT_EQ(index_->stats().forward_edges, stats.forward_edges);
  EXPECT_EQ(index_->stats().bytes, stats.bytes);

  // Facts after the switch reach the index through the live projector.
  genealogy_.Round(w, 10);
  genealogy_.Corrections(w);
  WaitFor(w.Flush());
  EXPECT_GT(index_->stats().lots, stats.lots);
  ExpectIndexEqualsStore();
}

}  // namespace
}  // namespace lotledger::lots
