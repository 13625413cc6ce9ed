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
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "libs/audit/topics.h"
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
    AddEvent(offset, event);
  }

  // `event` (its lot_ids and times set) as the record at `offset`, its
  // hash "h<offset>" padded to 32 bytes.
  void AddEvent(int64_t offset, const v1::Event& event) {
    v1::EventRecord record;
    record.set_seq(offset + 1);
    record.set_body(event.SerializeAsString());
    record.set_prev_hash(std::string(32, '\0'));
    record.set_hash(
        absl::StrCat("h", offset, std::string(31, '.')).substr(0, 32));
    eventlog::Record r;
    r.topic = kTopic;
    r.offset = offset;
    r.key = kLot;
    r.value = record.SerializeAsString();
    Apply(r, event);
  }

  void Apply(const eventlog::Record& r, const v1::Event& event) {
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

absl::Time Day(int d) {
  return absl::FromCivil(absl::CivilDay(2026, 3, d), absl::UTCTimeZone());
}

v1::Event At(const std::string& id, absl::Time occurred, absl::Time recorded) {
  v1::Event e;
  e.set_event_id(id);
  e.set_aggregate_id(kLot);
  e.add_lot_ids(kLot);
  ToTimestamp(occurred, e.mutable_occurred_at());
  ToTimestamp(recorded, e.mutable_recorded_at());
  return e;
}

// A movement of `amount` EA of kLot at one warehouse.
template <typename Movement>
void Moves(Movement* m, int64_t amount) {
  m->set_lot_id(kLot);
  m->set_location_id("FRA-WH1");
  m->mutable_quantity()->set_amount(amount);
  m->mutable_quantity()->set_uom("EA");
}

// An as-of scope leaves out, undecoded, the records that cannot count by
// its time, and the state folded from what is left is the state folded
// from the whole history, on both axes, at every day of the lot's life.
TEST_F(AuditIndexTest, AsOfReadsOnlyWhatCanCountAndFoldsTheSameState) {
  v1::Event created = At("e0", Day(2), Day(2));
  v1::LotCreated* c = created.mutable_lot_created();
  c->set_lot_id(kLot);
  c->set_item("ITEM");
  c->set_lot_number("L1");
  c->mutable_expires_on()->set_year(2028);
  c->mutable_expires_on()->set_month(3);
  c->mutable_expires_on()->set_day(2);
  c->mutable_quantity()->set_amount(100);
  c->mutable_quantity()->set_uom("EA");
  AddEvent(0, created);
  v1::Event received = At("e1", Day(3), Day(3));
  Moves(received.mutable_stock_received(), 100);
  AddEvent(1, received);
  // Back-dated: happened on day 4, recorded on day 8.
  v1::Event scrapped = At("e2", Day(4), Day(8));
  Moves(scrapped.mutable_stock_scrapped(), 10);
  AddEvent(2, scrapped);
  // A correction entered on day 10: on the business axis it holds from the
  // lot's creation.
  v1::Event corrected = At("e3", Day(10), Day(10));
  v1::LotCorrected* k = corrected.mutable_lot_corrected();
  k->set_lot_id(kLot);
  k->set_field("expires_on");
  k->set_old_value("2028-03-02");
  k->set_new_value("2027-03-02");
  AddEvent(3, corrected);

  AuditIndex index(store_.get());
  Scope whole;
  whole.lot_id = kLot;
  absl::StatusOr<std::vector<ScopedRecord>> all = index.History(whole);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 4u);
  for (v1::TimeAxis axis : {v1::TIME_AXIS_RECORD, v1::TIME_AXIS_BUSINESS}) {
    for (int day = 1; day <= 11; ++day) {
      SCOPED_TRACE(testing::Message() << "axis " << axis << ", day " << day);
      const absl::Time at = Day(day);
      Scope as_of = whole;
      as_of.as_of = Scope::AsOfBound{.at = at, .axis = axis};
      absl::StatusOr<std::vector<ScopedRecord>> some = index.History(as_of);
      ASSERT_TRUE(some.ok()) << some.status();
      std::vector<std::string> read;
      for (const ScopedRecord& s : *some)
        read.push_back(s.rec.event.event_id());
      // Record axis: what was recorded by `at`. Business axis: what had
      // happened by `at`, and the correction whenever it happened.
      std::vector<std::string> expected;
      for (const ScopedRecord& s : *all) {
        const v1::Event& e = s.rec.event;
        const bool counts =
            axis == v1::TIME_AXIS_RECORD
                ? RecordTime(e) <= at
                : BusinessTime(e) <= at || e.has_lot_corrected();
        if (counts) expected.push_back(e.event_id());
      }
      EXPECT_EQ(read, expected);
      const v1::LotAsOf want = FoldScope(kLot, *all, *as_of.as_of);
      const v1::LotAsOf got = FoldScope(kLot, *std::move(some), *as_of.as_of);
      EXPECT_EQ(got.SerializeAsString(), want.SerializeAsString())
          << got.DebugString() << " against " << want.DebugString();
    }
  }
  // The premise: the two axes differ on day 5 (the correction, the scrap).
  Scope day5 = whole;
  day5.as_of = Scope::AsOfBound{.at = Day(5), .axis = v1::TIME_AXIS_RECORD};
  absl::StatusOr<std::vector<ScopedRecord>> known = index.History(day5);
  ASSERT_TRUE(known.ok());
  EXPECT_EQ(FoldScope(kLot, *known, *day5.as_of).lot().expires_on().year(),
            2028);
  day5.as_of->axis = v1::TIME_AXIS_BUSINESS;
  absl::StatusOr<std::vector<ScopedRecord>> world = index.History(day5);
  ASSERT_TRUE(world.ok());
  const v1::LotAsOf w = FoldScope(kLot, *world, *day5.as_of);
  EXPECT_EQ(w.lot().expires_on().year(), 2027);
  EXPECT_EQ(w.on_hand(), 90);

  // Before anything was recorded the lot is known and empty (nothing
  // decoded), where a lot no record names is not found.
  Scope before = whole;
  before.as_of = Scope::AsOfBound{.at = Day(1), .axis = v1::TIME_AXIS_RECORD};
  absl::StatusOr<std::vector<ScopedRecord>> none = index.History(before);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->empty());
  before.lot_id = "ITEM:NEVER";
  EXPECT_EQ(index.History(before).status().code(), absl::StatusCode::kNotFound);
}

// A record's envelope is read in place (not decoded into an EventRecord):
// what a history shows of it must still be what was stored, and a record
// that does not parse is reported, not skipped.
TEST_F(AuditIndexTest, ReadsTheEnvelopeInPlaceAndReportsABrokenRecord) {
  for (int64_t i = 0; i < 3; ++i) {
    AddEvent(i, At(absl::StrCat("e", i), Day(2 + static_cast<int>(i)),
                   Day(2 + static_cast<int>(i))));
  }
  AuditIndex index(store_.get());
  absl::StatusOr<std::vector<IndexedRecord>> got = index.LotRecords(kLot);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 3u);
  for (int64_t i = 0; i < 3; ++i) {
    const IndexedRecord& r = (*got)[static_cast<size_t>(i)];
    EXPECT_EQ(r.offset, i);
    EXPECT_EQ(r.seq, static_cast<uint64_t>(i + 1));
    EXPECT_EQ(r.hash, absl::StrCat("h", i, std::string(31, '.')).substr(0, 32));
    EXPECT_EQ(r.event.event_id(), absl::StrCat("e", i));
  }

  // A body that claims 5 bytes and has 2.
  v1::Event event = At("broken", Day(9), Day(9));
  eventlog::Record r;
  r.topic = kTopic;
  r.offset = 3;
  r.key = kLot;
  r.value = std::string(
      "\x0a\x05"
      "ab",
      4);
  Apply(r, event);
  absl::StatusOr<std::vector<IndexedRecord>> broken = index.LotRecords(kLot);
  EXPECT_EQ(broken.status().code(), absl::StatusCode::kDataLoss)
      << broken.status();
}

}  // namespace
}  // namespace lotledger::audit
