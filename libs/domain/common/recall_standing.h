// Recalls as the gates of other services see them (the lots service's
// genealogy gate, the quality release gate, the inventory shipping gate):
// which lots a recall-topic event puts in a recall's scope, whether the
// recall is open, and how a refusal names it. Drills are not recalls:
// their events change nothing here.
//
// A service keeps, from the recall topic, one RecallStanding per recall
// (EvolveRecallStanding) and, per lot, the ids of the recalls whose scope
// includes it (ScopeAdditions). A lot is blocked while one of those
// recalls is open. A recall by serial (ScopedLot.serials, reason
// SCOPE_REASON_SERIAL_LISTED) blocks only those serials of its lots
// (ScopedSerialsOf): the inventory service keeps them per lot and refuses
// shipping them, not the rest of the lot.
//
// Header-only and pure; thread-safe.
#ifndef LOTLEDGER_LIBS_DOMAIN_COMMON_RECALL_STANDING_H_
#define LOTLEDGER_LIBS_DOMAIN_COMMON_RECALL_STANDING_H_

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/map.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "google/protobuf/timestamp.pb.h"
#include "lotledger/v1/domain.pb.h"
#include "lotledger/v1/events.pb.h"

namespace lotledger::domain {

// The recall a recall-topic event is about; "" for drills and events of
// other topics.
inline std::string RecallIdOf(const v1::Event& event) {
  switch (event.payload_case()) {
    case v1::Event::kRecallInitiated:
      return event.recall_initiated().recall_id();
    case v1::Event::kRecallScopeExtended:
      return event.recall_scope_extended().recall_id();
    case v1::Event::kRecallClosed:
      return event.recall_closed().recall_id();
    case v1::Event::kRecallNotificationIssued:
      return event.recall_notification_issued().recall_id();
    case v1::Event::kRecallResponseRecorded:
      return event.recall_response_recorded().recall_id();
    default:
      return "";
  }
}

// The lots an event adds to a recall's scope: those of a RecallInitiated
// part and of a RecallScopeExtended; none for any other event.
inline std::vector<std::string> ScopeAdditions(const v1::Event& event) {
  std::vector<std::string> out;
  if (event.has_recall_initiated()) {
    for (const v1::ScopedLot& s : event.recall_initiated().lots()) {
      out.push_back(s.lot_id());
    }
  } else if (event.has_recall_scope_extended()) {
    for (const v1::ScopedLot& s : event.recall_scope_extended().lots()) {
      out.push_back(s.lot_id());
    }
  }
  return out;
}

// The entry of `lot_id` in a RecallInitiated or RecallScopeExtended; null
// when the event does not list the lot.
inline const v1::ScopedLot* ScopedLotOf(const v1::Event& event,
                                        const std::string& lot_id) {
  const google::protobuf::RepeatedPtrField<v1::ScopedLot>* lots = nullptr;
  if (event.has_recall_initiated()) {
    lots = &event.recall_initiated().lots();
  } else if (event.has_recall_scope_extended()) {
    lots = &event.recall_scope_extended().lots();
  } else {
    return nullptr;
  }
  for (const v1::ScopedLot& s : *lots) {
    if (s.lot_id() == lot_id) return &s;
  }
  return nullptr;
}

// The serials of `lot_id` the event puts in scope when it puts only those
// serials of the lot in scope (ScopedLot.serials non-empty); null when it
// puts the whole lot in scope or does not list the lot.
inline const google::protobuf::RepeatedPtrField<v1::SerialRange>*
ScopedSerialsOf(const v1::Event& event, const std::string& lot_id) {
  const v1::ScopedLot* scoped = ScopedLotOf(event, lot_id);
  if (scoped == nullptr || scoped->serials().empty()) return nullptr;
  return &scoped->serials();
}

// Folds a recall-topic event into the standing of its recall: part 0 of
// RecallInitiated opens it (reason, since = business time,
// include_derived from the criteria), part 0 of RecallClosed closes it;
// anything else leaves it as it is. Total.
inline void EvolveRecallStanding(v1::RecallStanding& standing,
                                 const v1::Event& event) {
  if (event.has_recall_initiated()) {
    const v1::RecallInitiated& r = event.recall_initiated();
    standing.set_recall_id(r.recall_id());
    if (r.part_index() != 0) return;
    standing.set_open(true);
    standing.set_reason(r.reason());
    *standing.mutable_since() =
        event.has_occurred_at() ? event.occurred_at() : event.recorded_at();
    standing.set_include_derived(r.criteria().include_derived());
  } else if (event.has_recall_closed()) {
    const v1::RecallClosed& c = event.recall_closed();
    standing.set_recall_id(c.recall_id());
    if (c.part_index() == 0) standing.set_open(false);
  }
}

// Adds `id` to the sorted list `ids` unless it is there; true when added.
inline bool AddSorted(google::protobuf::RepeatedPtrField<std::string>* ids,
                      const std::string& id) {
  auto it = std::lower_bound(ids->begin(), ids->end(), id);
  if (it != ids->end() && *it == id) return false;
  const int index = static_cast<int>(it - ids->begin());
  ids->Add(std::string(id));
  for (int i = ids->size() - 1; i > index; --i) ids->SwapElements(i, i - 1);
  return true;
}

// The open recalls among `recall_ids`, as `recalls` knows them, in the
// order of `recall_ids` (an id `recalls` does not know is not open).
inline std::vector<const v1::RecallStanding*> OpenRecalls(
    const google::protobuf::RepeatedPtrField<std::string>& recall_ids,
    const google::protobuf::Map<std::string, v1::RecallStanding>& recalls) {
  std::vector<const v1::RecallStanding*> out;
  for (const std::string& id : recall_ids) {
    auto it = recalls.find(id);
    if (it != recalls.end() && it->second.open()) out.push_back(&it->second);
  }
  return out;
}

// "is under recall RC-7 since 2026-03-02: resin contamination", leaving
// out what is unknown.
inline std::string UnderRecall(const v1::RecallStanding& recall) {
  std::string out = absl::StrCat("is under recall ", recall.recall_id());
  const google::protobuf::Timestamp& t = recall.since();
  if (t.seconds() != 0 || t.nanos() != 0) {
    absl::StrAppend(
        &out, " since ",
        absl::FormatTime("%Y-%m-%d", absl::FromUnixSeconds(t.seconds()),
                         absl::UTCTimeZone()));
  }
  if (!recall.reason().empty()) absl::StrAppend(&out, ": ", recall.reason());
  return out;
}

}  // namespace lotledger::domain

#endif  // LOTLEDGER_LIBS_DOMAIN_COMMON_RECALL_STANDING_H_
