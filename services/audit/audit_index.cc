#include "services/audit/audit_index.h"

#include <algorithm>
#include <deque>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/audit/as_of.h"
#include "libs/audit/topics.h"
#include "libs/common/hash.h"
#include "libs/common/proto_time.h"
#include "libs/common/status_macros.h"
#include "libs/common/wire.h"
#include "libs/eventlog/record_codec.h"

namespace lotledger::audit {
namespace {

constexpr char kLots[] = "audit_lots";
constexpr char kChains[] = "audit_chains";

void PutBe(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) {
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
}

uint64_t GetBe(std::string_view in, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) {
    v = (v << 8) | static_cast<unsigned char>(in[i]);
  }
  return v;
}

void PutTime(std::string& out, absl::Time t) {
  PutBe(out, static_cast<uint64_t>(absl::ToUnixMicros(t)) ^ (1ull << 63), 8);
}

std::string Position(const std::string& topic, int32_t partition,
                     int64_t offset) {
  std::string k = topic;
  k.push_back('\0');
  PutBe(k, static_cast<uint32_t>(partition), 4);
  PutBe(k, static_cast<uint64_t>(offset), 8);
  return k;
}

// Parses "topic \0 partition(4) offset(8)".
bool ParsePosition(std::string_view k, std::string* topic, int32_t* partition,
                   int64_t* offset) {
  const size_t nul = k.find('\0');
  if (nul == std::string_view::npos || k.size() != nul + 13) return false;
  topic->assign(k.substr(0, nul));
  *partition = static_cast<int32_t>(GetBe(k.substr(nul + 1), 4));
  *offset = static_cast<int64_t>(GetBe(k.substr(nul + 5), 8));
  return true;
}

// Whether the message `wire` has a field `number`, or does not parse (so
// that the caller decodes it and reports it).
bool HasFieldOrIsBroken(std::string_view wire, int number) {
  bool found = false;
  const bool parses = ForEachWireField(wire, [&](const WireField& f) {
    found = f.number == number;
    return !found;
  });
  return found || !parses;
}

// The parts of an EventRecord (events.proto) a read needs, read in place:
// its body stays a view into `wire`. Last occurrence wins, as protobuf
// parses; a field of the wrong wire type is an unknown field.
struct RecordView {
  std::string_view body;
  uint64_t seq = 0;
  std::string_view hash;
};
bool ReadRecord(std::string_view wire, RecordView* out) {
  return ForEachWireField(wire, [&](const WireField& f) {
    if (f.type == WireField::kLengthDelimited &&
        f.number == v1::EventRecord::kBodyFieldNumber) {
      out->body = f.bytes;
    } else if (f.type == WireField::kVarint &&
               f.number == v1::EventRecord::kSeqFieldNumber) {
      out->seq = f.varint;
    } else if (f.type == WireField::kLengthDelimited &&
               f.number == v1::EventRecord::kHashFieldNumber) {
      out->hash = f.bytes;
    }
    return true;
  });
}

std::string ChainPrefix(const std::string& topic, const std::string& agg) {
  return absl::StrCat(topic, std::string(1, '\0'), agg, std::string(1, '\0'));
}

}  // namespace

command::ServiceSpec AuditServiceSpec(int32_t partitions) {
  command::ServiceSpec spec;
  spec.name = "audit";
  spec.own_topic = "";  // read-only
  spec.partitions = partitions;
  spec.input_topics = AuditedTopics();
  spec.column_families = {kLots, kChains};
  spec.apply = ApplyAuditEvent;
  // 2: the records are kept under their lots and chains (no audit_records).
  spec.projection_format = 2;
  return spec;
}

absl::Status ApplyAuditEvent(const eventlog::Record& record,
                             const v1::Event& event,
                             projection::ProjectionStore::Batch& batch) {
  // Records that name no lot (products, locations) are not part of any
  // lot's history.
  if (event.lot_ids().empty()) return absl::OkStatus();
  // The record's exact bytes under its chain and under each lot it names:
  // a history is one prefix scan, a chain walk another, and neither reads
  // elsewhere (every point read at 10^7 events is a block from disk).
  const std::string pos =
      Position(record.topic, record.partition, record.offset);
  std::string chain = ChainPrefix(record.topic, record.key);
  chain.append(pos.substr(record.topic.size() + 1));
  batch.Put(kChains, chain, record.value);
  std::set<std::string> seen;
  for (const std::string& lot : event.lot_ids()) {
    if (!seen.insert(lot).second) continue;
    std::string key = lot;
    key.push_back('\0');
    PutTime(key, BusinessTime(event));
    PutTime(key, RecordTime(event));
    key.append(pos);
    batch.Put(kLots, key, record.value);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<IndexedRecord>> AuditIndex::LotRecords(
    const std::string& lot_id, const Scope& own, bool* named) const {
  std::string prefix = lot_id;
  prefix.push_back('\0');
  // Keys order a lot's records by business time in microseconds, then
  // record time, then position; the history's order is the same in
  // nanoseconds. So every record after `after` is at or past the key of
  // its business time's microsecond, and once `limit` of them are read,
  // only records of the same business microsecond can still come before
  // the last one read.
  std::string start;
  if (own.after.has_value()) {
    start = prefix;
    PutTime(start, absl::FromUnixNanos(std::get<0>(*own.after)));
  }
  // As of `at`: a key's time (microseconds, rounded down) past at's
  // microsecond is a time past `at`.
  std::string at_key;
  size_t at_field = 0;  // where the axis's time is in the key
  if (own.as_of.has_value()) {
    PutTime(at_key, own.as_of->at);
    at_field =
        prefix.size() + (own.as_of->axis == v1::TIME_AXIS_RECORD ? 8 : 0);
  }
  std::string last_micros;  // set once `limit` records were read
  std::vector<IndexedRecord> out;
  absl::Status bad;
  if (named != nullptr) *named = false;
  RETURN_IF_ERROR(store_->Scan(
      kLots, prefix, start, [&](std::string_view key, std::string_view value) {
        if (key.size() < prefix.size() + 16) {
          bad = absl::DataLossError("audit lot index key does not decode");
          return false;
        }
        if (named != nullptr) *named = true;
        const std::string_view micros = key.substr(prefix.size(), 8);
        if (!last_micros.empty() && micros != last_micros) return false;
        const bool past = own.as_of.has_value() &&
                          key.substr(at_field, 8) > std::string_view(at_key);
        if (past && own.as_of->axis == v1::TIME_AXIS_RECORD) return true;
        IndexedRecord r;
        if (!ParsePosition(key.substr(prefix.size() + 16), &r.topic,
                           &r.partition, &r.offset)) {
          bad = absl::DataLossError("audit lot index key does not decode");
          return false;
        }
        RecordView view;
        const bool decoded = ReadRecord(value, &view);
        if (decoded && past &&
            !HasFieldOrIsBroken(view.body,
                                v1::Event::kLotCorrectedFieldNumber)) {
          return true;
        }
        if (!decoded ||
            !r.event.ParseFromArray(view.body.data(),
                                    static_cast<int>(view.body.size()))) {
          bad = absl::DataLossError(absl::StrCat("record at ", r.topic, "/",
                                                 r.partition, " offset ",
                                                 r.offset, " does not decode"));
          return false;
        }
        if (own.after.has_value() && !(*own.after < PositionOf(r))) {
          return true;
        }
        r.seq = view.seq;
        r.hash.assign(view.hash);
        out.push_back(std::move(r));
        if (own.limit > 0 && out.size() == own.limit) last_micros = micros;
        return true;
      }));
  RETURN_IF_ERROR(bad);
  return out;
}

HistoryPosition PositionOf(const IndexedRecord& r) {
  return {absl::ToUnixNanos(BusinessTime(r.event)),
          absl::ToUnixNanos(RecordTime(r.event)), r.topic, r.partition,
          r.offset};
}

absl::StatusOr<std::vector<ScopedRecord>> AuditIndex::History(
    const Scope& scope) const {
  std::vector<ScopedRecord> out;
  std::set<std::tuple<std::string, int32_t, int64_t>> seen;
  std::map<std::string, v1::LotRelation> visited;
  struct Item {
    std::string lot;
    v1::LotRelation relation;
    int depth;
  };
  std::deque<Item> queue = {{scope.lot_id, v1::LOT_RELATION_SELF, 0}};
  visited[scope.lot_id] = v1::LOT_RELATION_SELF;
  // Only a lot's own history is read in pages or as of a time: a genealogy
  // is walked whole.
  const bool page = !scope.include_components && !scope.include_derived;
  const Scope whole;
  while (!queue.empty()) {
    Item item = queue.front();
    queue.pop_front();
    bool named = false;
    ASSIGN_OR_RETURN(std::vector<IndexedRecord> records,
                     LotRecords(item.lot, page ? scope : whole, &named));
    if (item.relation == v1::LOT_RELATION_SELF && !named &&
        !(page && scope.after.has_value())) {
      return absl::NotFoundError(
          absl::StrCat("lot ", item.lot, " has no events: no record names it"));
    }
    for (IndexedRecord& r : records) {
      const bool more = item.depth < scope.depth;
      if (r.event.has_lot_created() && more) {
        const v1::LotCreated& c = r.event.lot_created();
        auto follow = [&](const std::string& lot, v1::LotRelation rel) {
          if (visited.emplace(lot, rel).second) {
            queue.push_back({lot, rel, item.depth + 1});
          }
        };
        // Components: the inputs of this lot's own creation.
        if (c.lot_id() == item.lot && scope.include_components &&
            item.relation != v1::LOT_RELATION_DERIVED) {
          for (const v1::LotInput& in : c.inputs()) {
            follow(in.lot_id(), v1::LOT_RELATION_COMPONENT);
          }
        }
        // Derived: a lot created from this one.
        if (c.lot_id() != item.lot && scope.include_derived &&
            item.relation != v1::LOT_RELATION_COMPONENT) {
          follow(c.lot_id(), v1::LOT_RELATION_DERIVED);
        }
      }
      if (!seen.emplace(r.topic, r.partition, r.offset).second) continue;
      out.push_back({std::move(r), item.lot, item.relation});
    }
  }
  // Each record's key once, then the records in key order (keys are
  // unique: the log position ends them).
  std::vector<std::pair<HistoryPosition, size_t>> order;
  order.reserve(out.size());
  for (size_t i = 0; i < out.size(); ++i) {
    order.emplace_back(PositionOf(out[i].rec), i);
  }
  std::sort(order.begin(), order.end());
  std::vector<ScopedRecord> sorted;
  sorted.reserve(out.size());
  for (const auto& [key, i] : order) sorted.push_back(std::move(out[i]));
  return sorted;
}

v1::LotAsOf FoldScope(const std::string& lot_id,
                      std::vector<ScopedRecord> records,
                      const Scope::AsOfBound& bound) {
  // Log order per aggregate is what Evolve expects; the index gives
  // business-time order, which keeps it within an aggregate except for
  // back-dated events, so restore log order first.
  std::stable_sort(records.begin(), records.end(),
                   [](const ScopedRecord& a, const ScopedRecord& b) {
                     return RecordTime(a.rec.event) < RecordTime(b.rec.event);
                   });
  std::vector<v1::Event> events;
  events.reserve(records.size());
  for (ScopedRecord& r : records) events.push_back(std::move(r.rec.event));
  return FoldAsOf(lot_id, events, bound.at, bound.axis);
}

absl::StatusOr<v1::VerifyLotResponse> AuditIndex::VerifyChains(
    const std::vector<ScopedRecord>& records,
    const std::string& topic_prefix) const {
  // Chains in a fixed order: topic, then aggregate.
  std::set<std::pair<std::string, std::string>> chains;
  for (const ScopedRecord& r : records) {
    chains.emplace(r.rec.topic, r.rec.event.aggregate_id());
  }
  v1::VerifyLotResponse resp;
  resp.set_ok(true);
  for (const auto& [topic, aggregate] : chains) {
    resp.set_chains_checked(resp.chains_checked() + 1);
    const std::string prefix = ChainPrefix(topic, aggregate);
    std::vector<std::tuple<int32_t, int64_t, std::string>> records_of_chain;
    RETURN_IF_ERROR(store_->Scan(
        kChains, prefix, "", [&](std::string_view key, std::string_view value) {
          std::string_view rest = key.substr(prefix.size());
          if (rest.size() != 12) return true;
          records_of_chain.emplace_back(
              static_cast<int32_t>(GetBe(rest, 4)),
              static_cast<int64_t>(GetBe(rest.substr(4), 8)),
              std::string(value));
          return true;
        }));
    eventlog::ChainHead head;
    for (const auto& [p, o, value] : records_of_chain) {
      resp.set_records_checked(resp.records_checked() + 1);
      v1::ChainBreak b;
      b.set_topic(StripPrefix(topic, topic_prefix));
      b.set_partition(p);
      b.set_offset(o);
      b.set_aggregate_id(aggregate);
      v1::EventRecord rec;
      if (!rec.ParseFromString(value)) {
        b.set_what("the record is not an EventRecord");
      } else {
        b.set_seq(rec.seq());
        const std::string computed =
            ChainHash(rec.prev_hash(), rec.seq(), rec.body());
        if (computed != rec.hash()) {
          b.set_expected(HexEncode(computed));
          b.set_found(HexEncode(rec.hash()));
          b.set_what(
              "the record's contents do not match its hash: it was altered");
        } else if (rec.seq() != head.seq + 1) {
          b.set_what(absl::StrCat("seq ", rec.seq(), " follows seq ", head.seq,
                                  "; expected ", head.seq + 1,
                                  ": a record is missing or repeated"));
          b.set_expected(HexEncode(head.hash));
          b.set_found(HexEncode(rec.prev_hash()));
        } else if (rec.prev_hash() != head.hash) {
          b.set_expected(HexEncode(head.hash));
          b.set_found(HexEncode(rec.prev_hash()));
          b.set_what(absl::StrCat(
              "prev_hash does not match the hash of seq ", head.seq,
              ": the record does not follow its predecessor"));
        } else {
          head.seq = rec.seq();
          head.hash = rec.hash();
          continue;
        }
      }
      resp.set_ok(false);
      *resp.mutable_first_break() = std::move(b);
      return resp;
    }
  }
  return resp;
}

}  // namespace lotledger::audit
