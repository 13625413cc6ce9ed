// The lots projection's genealogy: forward edges (used_in) are kept as keys
// of their own, a redelivered LotCreated counts once, and a projection
// written before the edges moved out of the stored lot still answers right
// and moves its lists on the next touch.
#include "services/lots/lots_projection.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/projection/tests/synthetic_stream.h"
#include "lotledger/v1/domain.pb.h"

namespace lotledger::lots {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

v1::Event Created(const std::string& lot_id,
                  const std::vector<std::string>& inputs) {
  v1::Event e;
  v1::LotCreated& c = *e.mutable_lot_created();
  c.set_lot_id(lot_id);
  c.set_item(lot_id.substr(0, lot_id.find(':')));
  c.set_lot_number(lot_id.substr(lot_id.find(':') + 1));
  c.mutable_quantity()->set_amount(100);
  c.mutable_quantity()->set_uom("EA");
  c.mutable_expires_on()->set_year(2030);
  c.mutable_expires_on()->set_month(1);
  c.mutable_expires_on()->set_day(1);
  e.add_lot_ids(lot_id);
  for (const std::string& in : inputs) {
    v1::LotInput& line = *c.add_inputs();
    line.set_lot_id(in);
    line.mutable_quantity()->set_amount(10);
    line.mutable_quantity()->set_uom("EA");
    e.add_lot_ids(in);
  }
  return e;
}

class LotsProjectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = projection::ProjectionStore::Open(
        {.path = tmp_.path(), .column_families = LotsColumnFamilies()});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  void Apply(const std::vector<v1::Event>& events) {
    projection::ProjectionStore::Batch batch = store_->NewBatch();
    for (const v1::Event& e : events) {
      ASSERT_TRUE(ApplyLotsEvent(eventlog::Record(), e, batch).ok());
    }
    ASSERT_TRUE(store_->Commit(std::move(batch)).ok());
  }

  std::vector<std::string> UsedIn(const std::string& lot_id) {
    auto lot = LotsQueries(store_.get()).GetLot(lot_id);
    EXPECT_TRUE(lot.ok()) << lot.status();
    return lot.ok() ? std::vector<std::string>(lot->used_in().begin(),
                                               lot->used_in().end())
                    : std::vector<std::string>();
  }

  std::vector<std::string> ForwardTrace(const std::string& lot_id) {
    v1::TraceRequest req;
    req.set_lot_id(lot_id);
    req.set_direction(v1::TRACE_DIRECTION_FORWARD);
    auto trace = LotsQueries(store_.get()).Trace(req);
    EXPECT_TRUE(trace.ok()) << trace.status();
    std::vector<std::string> ids;
    if (trace.ok()) {
      for (const v1::TraceNode& n : trace->nodes()) ids.push_back(n.lot_id());
    }
    return ids;
  }

  projection::testing::ScopedTempDir tmp_;
  std::unique_ptr<projection::ProjectionStore> store_;
};

TEST_F(LotsProjectionTest, ForwardEdgesAreSortedAndARedeliveryCountsOnce) {
  Apply({Created("RM:R1", {}), Created("FG:F2", {"RM:R1"})});
  // The same LotCreated twice in one batch and once more in the next.
  Apply({Created("FG:F1", {"RM:R1"}), Created("FG:F1", {"RM:R1"})});
  Apply({Created("FG:F1", {"RM:R1"})});

  EXPECT_THAT(UsedIn("RM:R1"), ElementsAre("FG:F1", "FG:F2"));
  auto raw = LotsQueries(store_.get()).GetLot("RM:R1");
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->consumed().amount(), 20);
  EXPECT_THAT(ForwardTrace("RM:R1"),
              UnorderedElementsAre("RM:R1", "FG:F1", "FG:F2"));
}

TEST_F(LotsProjectionTest, AProjectionWithListsInsideTheLotStillAnswers) {
  Apply({Created("RM:R1", {}), Created("FG:OLD", {"RM:R1"})});
  // Rewrite R1 as an older version stored it: the list inside the lot and
  // its genealogy node, nothing under used_in.
  {
    projection::ProjectionStore::Batch batch = store_->NewBatch();
    auto lot = LotsQueries(store_.get()).GetLot("RM:R1");
    ASSERT_TRUE(lot.ok());
    v1::GenealogyNode node;
    node.set_item(lot->item());
    node.set_lot_number(lot->lot_number());
    *node.mutable_expires_on() = lot->expires_on();
    node.add_used_in("FG:OLD");
    node.set_created(true);
    batch.Delete("used_in", std::string("RM:R1") + '\0' + "FG:OLD");
    batch.Put("lots", "RM:R1", lot->SerializeAsString());
    batch.Put("genealogy", "RM:R1", node.SerializeAsString());
    ASSERT_TRUE(store_->Commit(std::move(batch)).ok());
  }
  EXPECT_THAT(UsedIn("RM:R1"), ElementsAre("FG:OLD"));
  EXPECT_THAT(ForwardTrace("RM:R1"), ElementsAre("RM:R1", "FG:OLD"));

  // The next lot made from it moves the list out; nothing is doubled.
  Apply({Created("FG:NEW", {"RM:R1"}), Created("FG:OLD", {"RM:R1"})});
  EXPECT_THAT(UsedIn("RM:R1"), ElementsAre("FG:NEW", "FG:OLD"));
  EXPECT_THAT(ForwardTrace("RM:R1"), ElementsAre("RM:R1", "FG:NEW", "FG:OLD"));
  auto raw = LotsQueries(store_.get()).GetLot("RM:R1");
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->consumed().amount(), 20);
}

}  // namespace
}  // namespace lotledger::lots
