// Reading and writing chain heads in a projection's "chain" column family:
// 8 bytes seq (big endian) followed by the 32-byte hash. Pure helpers.
#ifndef LOTLEDGER_LIBS_COMMAND_CHAIN_STORE_H_
#define LOTLEDGER_LIBS_COMMAND_CHAIN_STORE_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "libs/eventlog/record_codec.h"
#include "libs/projection/projection_store.h"

namespace lotledger::command {

std::string EncodeChainHead(const eventlog::ChainHead& head);
absl::StatusOr<eventlog::ChainHead> DecodeChainHead(std::string_view value);

// The head of `aggregate_id` as the batch (and the store under it) sees it;
// a fresh head when the aggregate has no records yet.
absl::StatusOr<eventlog::ChainHead> LoadChainHead(
    const projection::ProjectionStore::Batch& batch,
    std::string_view aggregate_id);
absl::StatusOr<eventlog::ChainHead> LoadChainHead(
    const projection::ProjectionStore& store, std::string_view aggregate_id);
void StoreChainHead(projection::ProjectionStore::Batch& batch,
                    std::string_view aggregate_id,
                    const eventlog::ChainHead& head);

}  // namespace lotledger::command

#endif  // LOTLEDGER_LIBS_COMMAND_CHAIN_STORE_H_
