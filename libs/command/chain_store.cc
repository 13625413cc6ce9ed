#include "libs/command/chain_store.h"

#include "absl/strings/str_cat.h"
#include "libs/command/projector.h"
#include "libs/common/status_macros.h"

namespace lotledger::command {

std::string EncodeChainHead(const eventlog::ChainHead& head) {
  std::string out;
  for (int i = 7; i >= 0; --i)
    out.push_back(static_cast<char>(head.seq >> (8 * i)));
  out += head.hash;
  return out;
}

absl::StatusOr<eventlog::ChainHead> DecodeChainHead(std::string_view value) {
  if (value.size() != 8 + 32) {
    return absl::DataLossError("stored chain head is not 40 bytes");
  }
  eventlog::ChainHead head;
  head.seq = 0;
  for (int i = 0; i < 8; ++i) {
    head.seq = (head.seq << 8) | static_cast<unsigned char>(value[i]);
  }
  head.hash = std::string(value.substr(8));
  return head;
}

namespace {
absl::StatusOr<eventlog::ChainHead> FromStored(
    const absl::StatusOr<std::optional<std::string>>& stored) {
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) return eventlog::ChainHead{};
  return DecodeChainHead(**stored);
}
}  // namespace

absl::StatusOr<eventlog::ChainHead> LoadChainHead(
    const projection::ProjectionStore::Batch& batch,
    std::string_view aggregate_id) {
  return FromStored(batch.Get(kChainCf, aggregate_id));
}

absl::StatusOr<eventlog::ChainHead> LoadChainHead(
    const projection::ProjectionStore& store, std::string_view aggregate_id) {
  return FromStored(store.Get(kChainCf, aggregate_id));
}

void StoreChainHead(projection::ProjectionStore::Batch& batch,
                    std::string_view aggregate_id,
                    const eventlog::ChainHead& head) {
  batch.Put(kChainCf, aggregate_id, EncodeChainHead(head));
}

}  // namespace lotledger::command
