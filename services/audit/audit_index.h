// The audit service's projection (docs/audit.md): built by reading every
// audited topic, so that a lot's history, verification, as-of and export
// read a few keys instead of scanning the log.
//
// Column families:
//   audit_lots     lot id \0 business time (8) record time (8) topic \0
//                  partition (4) offset (8) -> the record value exactly
//                  as stored in the log (an EventRecord): every record
//                  that names the lot (Event.lot_ids), in business-time
//                  order, so a lot's history is one prefix scan;
//   audit_chains   topic \0 aggregate id \0 partition (4) offset (8) ->
//                  the record value: every record of an aggregate that
//                  touches a lot, in log order, to walk its hash chain
//                  from seq 1 in one prefix scan.
// A record is stored once per lot it names and once in its chain: more
// bytes on disk for reads that touch a few neighbouring blocks instead of
// one random block per event (projection format 2; format 1 kept one copy
// keyed by position and read it per event).
// Integers are big-endian; times are microseconds since the epoch with
// the sign bit flipped, so keys sort by time.
//
// Thread-safety: the read functions are const over a thread-safe store.
#ifndef LOTLEDGER_SERVICES_AUDIT_AUDIT_INDEX_H_
#define LOTLEDGER_SERVICES_AUDIT_AUDIT_INDEX_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/command/service_core.h"
#include "lotledger/v1/audit.pb.h"
#include "lotledger/v1/events.pb.h"

namespace lotledger::audit {

command::ServiceSpec AuditServiceSpec(int32_t partitions);

absl::Status ApplyAuditEvent(const eventlog::Record& record,
                             const v1::Event& event,
                             projection::ProjectionStore::Batch& batch);

// One indexed record, read back: its event, and of its EventRecord
// envelope what a history shows (the chain's links are checked from the
// chain family, VerifyChains).
struct IndexedRecord {
  std::string topic;  // as in the log (with any deployment prefix)
  int32_t partition = 0;
  int64_t offset = 0;
  uint64_t seq = 0;  // EventRecord.seq
  std::string hash;  // EventRecord.hash
  v1::Event event;
};

// A record's place in a history's order (AuditIndex::History): business
// time, record time, then log position. Times in nanoseconds, the precision
// of the events' timestamps, so GetLotHistory's page tokens, which carry
// it, resume exactly where a page ended.
using HistoryPosition =
    std::tuple<int64_t, int64_t, std::string, int32_t, int64_t>;
HistoryPosition PositionOf(const IndexedRecord& r);

// What a history covers: a lot, and optionally its genealogy.
struct Scope {
  std::string lot_id;
  bool include_components = false;
  bool include_derived = false;
  int depth = 10;
  // A page of the lot's own history (GetLotHistory): only records after
  // `after` in PositionOf order are needed, and of those, with `limit`,
  // the first `limit`. The lot's records are then read from the token's
  // place on, and the read stops soon after `limit` (it may return a few
  // more: records of the last one's microsecond). Ignored, and the whole
  // history read, when the scope includes components or derived lots.
  std::optional<HistoryPosition> after;
  size_t limit = 0;  // 0: no limit
  // AsOf (libs/audit/as_of.h): only the records that can take effect by
  // `at` on `axis` are needed. The others are left out undecoded, told
  // apart by their keys: on the record axis those recorded after `at`, on
  // the business axis those that happened after it, except a LotCorrected
  // (it takes effect at the lot's creation; its presence is read from the
  // record's tags). Like a page, for the lot's own history only.
  struct AsOfBound {
    absl::Time at;
    v1::TimeAxis axis = v1::TIME_AXIS_BUSINESS;
  };
  std::optional<AsOfBound> as_of;
};

// One record of a history, with the lot of the scope it was found for.
struct ScopedRecord {
  IndexedRecord rec;
  std::string lot_id;
  v1::LotRelation relation = v1::LOT_RELATION_UNSPECIFIED;
};

// AsOf's answer from the records History gave for an as-of scope: their
// events put back in log order per aggregate and folded up to bound.at on
// bound.axis (libs/audit/as_of.h).
v1::LotAsOf FoldScope(const std::string& lot_id,
                      std::vector<ScopedRecord> records,
                      const Scope::AsOfBound& bound);

class AuditIndex {
 public:
  explicit AuditIndex(const projection::ProjectionStore* store)
      : store_(store) {}

  // Every record that names `lot_id`, in business-time order. DataLoss for
  // a stored record that does not decode.
  absl::StatusOr<std::vector<IndexedRecord>> LotRecords(
      const std::string& lot_id) const {
    return LotRecords(lot_id, Scope{});
  }
  // Those within the bounds `own` sets for a lot's own history: after
  // own.after (PositionOf order), with own.limit at least the first that
  // many of them, with own.as_of those it needs (Scope). `named`, when
  // given, is set to whether any record names the lot, decoded or not.
  absl::StatusOr<std::vector<IndexedRecord>> LotRecords(
      const std::string& lot_id, const Scope& own, bool* named = nullptr) const;

  // The records of the scope (or of its page), each once, in PositionOf
  // order. NotFound when no record names scope.lot_id (for a page after a
  // token of the lot's own history: an empty page instead).
  absl::StatusOr<std::vector<ScopedRecord>> History(const Scope& scope) const;

  // Checks the hash chain of every (topic, aggregate) that has a record in
  // `records`, from seq 1 to its last indexed record.
  absl::StatusOr<v1::VerifyLotResponse> VerifyChains(
      const std::vector<ScopedRecord>& records,
      const std::string& topic_prefix) const;

 private:
  const projection::ProjectionStore* store_;
};

}  // namespace lotledger::audit

#endif  // LOTLEDGER_SERVICES_AUDIT_AUDIT_INDEX_H_
