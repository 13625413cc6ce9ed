// AuditIndex's pages of a lot's history on a real RocksDB projection: the
// records are folded by ApplyAuditEvent, as the projector does, with
// business times chosen so that several fall in one microsecond and, in
// it, the nanosecond order differs from the log order. Reading page after
// page from each page's last position (LotRecords with `after` and
// `limit`, what GetLotHistory does) must give the whole history in its
// order, each record once, and must stop reading soon after the page.
#include "services/audit/audit_index.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "libs/common/proto_time.h"
#include "libs/eventlog/event_log.h"
#include "libs/projection/projection_store.h"
#include "libs/projection/tests/synthetic_stream.h"

namespace lotledger::audit {
namespace {

constexpr char kLot[] = "ITEM:L1";
constexpr char kTopic[] = "lotledger.lots";

class AuditIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    command::ServiceSpec spec = AuditServiceSpec(1);
    projection::ProjectionStore::Options options;
    options.path = tmp_.path() + "/audit";
    options.column_families = spec.column_families;
    auto store = projection::ProjectionStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  // One record of kLot at log offset `offset`, its business time `at`.
  void Add(int64_t offset, absl::Time at) {
    v1::Event event;
    event.set_event_id(absl::StrCat("e", offset));
    event.add_lot_ids(kLot);
    // Set field by field: ToTimestamp keeps microseconds, and a client's
    // business time may carry nanoseconds.
    const int64_t ns = absl::ToUnixNanos(at);
    event.mutable_occurred_at()->set_seconds(ns / 1000000000);
    event.mutable_occurred_at()->set_nanos(
        static_cast<int32_t>(ns % 1000000000));
    ToTimestamp(absl::FromUnixSeconds(1800000000), event.mutable_recorded_at());
    v1::EventRecord record;
    record.set_seq(offset + 1);
    record.set_body(event.SerializeAsString());
    eventlog::Record r;
    r.topic = kTopic;
    r.offset = offset;
    r.key = kLot;
    r.value = record.SerializeAsString();
    projection::ProjectionStore::Batch batch = store_->NewBatch();
    ASSERT_TRUE(ApplyAuditEvent(r, event, batch).ok());
    ASSERT_TRUE(store_->Commit(std::move(batch)).ok());
  }

  projection::testing::ScopedTempDir tmp_;
  std::unique_ptr<projection::ProjectionStore> store_;
};

TEST_F(AuditIndexTest, PagesFromEachLastPositionAreTheWholeHistoryOnce) {
  const absl::Time base = absl::FromUnixSeconds(1790000000);
  // 30 records: in groups of three per microsecond, each group's
  // nanoseconds running against the log order (the later offset earlier).
  for (int64_t i = 0; i < 30; ++i) {
    const absl::Time micro = base + absl::Microseconds(i / 3);
    Add(i, micro + absl::Nanoseconds(900 - 300 * (i % 3)));
  }
  AuditIndex index(store_.get());
  Scope whole;
  whole.lot_id = kLot;
  absl::StatusOr<std::vector<ScopedRecord>> all = index.History(whole);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 30u);
  // Within a microsecond the history's order is by nanosecond: offsets
  // 2, 1, 0, then 5, 4, 3, ...
  EXPECT_EQ((*all)[0].rec.offset, 2);
  EXPECT_EQ((*all)[1].rec.offset, 1);
  EXPECT_EQ((*all)[3].rec.offset, 5);

  for (size_t limit : {1u, 2u, 4u, 7u}) {
    SCOPED_TRACE(testing::Message() << "page of " << limit);
    std::vector<int64_t> paged;
    Scope page = whole;
    page.limit = limit;
    for (int pages = 0; pages < 40; ++pages) {
      absl::StatusOr<std::vector<ScopedRecord>> got = index.History(page);
      ASSERT_TRUE(got.ok()) << got.status();
      // Read from the token on: nothing at or before it comes back, and
      // the read stopped within the last record's microsecond.
      EXPECT_LE(got->size(), limit + 2);
      if (got->empty()) break;
      const size_t take = std::min(limit, got->size());
      for (size_t i = 0; i < take; ++i) paged.push_back((*got)[i].rec.offset);
      page.after = PositionOf((*got)[take - 1].rec);
    }
    std::vector<int64_t> expected;
    for (const ScopedRecord& r : *all) expected.push_back(r.rec.offset);
    EXPECT_EQ(paged, expected);
  }
}

TEST_F(AuditIndexTest, AGenealogyScopeIsReadWhole) {
  const absl::Time base = absl::FromUnixSeconds(1790000000);
  for (int64_t i = 0; i < 6; ++i) Add(i, base + absl::Seconds(i));
  AuditIndex index(store_.get());
  Scope scope;
  scope.lot_id = kLot;
  scope.include_components = true;
  scope.limit = 2;
  absl::StatusOr<std::vector<ScopedRecord>> got = index.History(scope);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->size(), 6u);
}

}  // namespace
}  // namespace lotledger::audit
