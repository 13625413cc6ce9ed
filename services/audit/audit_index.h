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
#include "libs/command/service_core.h"
#include "lotledger/v1/audit.pb.h"
#include "lotledger/v1/events.pb.h"

namespace lotledger::audit {

command::ServiceSpec AuditServiceSpec(int32_t partitions);

absl::Status ApplyAuditEvent(const eventlog::Record& record,
                             const v1::Event& event,
                             projection::ProjectionStore::Batch& batch);

// One indexed record, read back.
struct IndexedRecord {
  std::string topic;  // as in the log (with any deployment prefix)
  int32_t partition = 0;
  int64_t offset = 0;
  v1::EventRecord record;
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
};

// One record of a history, with the lot of the scope it was found for.
struct ScopedRecord {
  IndexedRecord rec;
  std::string lot_id;
  v1::LotRelation relation = v1::LOT_RELATION_UNSPECIFIED;
};

class AuditIndex {
 public:
  explicit AuditIndex(const projection::ProjectionStore* store)
      : store_(store) {}

  // Every record that names `lot_id`, in business-time order. DataLoss for
  // a stored record that does not decode.
  absl::StatusOr<std::vector<IndexedRecord>> LotRecords(
      const std::string& lot_id) const {
    return LotRecords(lot_id, std::nullopt, 0);
  }
  // Those after `after` (PositionOf order), and, with `limit`, at least the
  // first `limit` of them (Scope::after, Scope::limit).
  absl::StatusOr<std::vector<IndexedRecord>> LotRecords(
      const std::string& lot_id, const std::optional<HistoryPosition>& after,
      size_t limit) const;

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
