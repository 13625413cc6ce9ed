// Reading and writing chain heads in a projection's "chain" column family:
// 8 bytes seq (big endian), the 32-byte hash and, since business time is
// bounded by it, 8 bytes of the last event's occurred_at (Unix micros, big
// endian; absent in heads written before; INT64_MIN for none), then, only
// for an aggregate whose chain broke in the log, the incident's text (the
// head stays at the last record that chained). Pure helpers.
#ifndef LOTLEDGER_LIBS_COMMAND_CHAIN_STORE_H_
#define LOTLEDGER_LIBS_COMMAND_CHAIN_STORE_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/eventlog/record_codec.h"
#include "libs/projection/projection_store.h"

namespace lotledger::command {

// An aggregate's chain head, the business time of its last event and,
// once its chain broke in the log, what broke (projector.h).
struct AggregateHead {
  eventlog::ChainHead chain;
  absl::Time last_occurred_at = absl::InfinitePast();  // none recorded
  std::string broken;  // empty while the chain is intact
};

std::string EncodeChainHead(const AggregateHead& head);
absl::StatusOr<AggregateHead> DecodeChainHead(std::string_view value);

// The head of `aggregate_id` as the batch (and the store under it) sees it;
// a fresh head when the aggregate has no records yet.
absl::StatusOr<AggregateHead> LoadChainHead(
    const projection::ProjectionStore::Batch& batch,
    std::string_view aggregate_id);
absl::StatusOr<AggregateHead> LoadChainHead(
    const projection::ProjectionStore& store, std::string_view aggregate_id);
void StoreChainHead(projection::ProjectionStore::Batch& batch,
                    std::string_view aggregate_id, const AggregateHead& head);

}  // namespace lotledger::command

#endif  // LOTLEDGER_LIBS_COMMAND_CHAIN_STORE_H_
