#include "libs/command/chain_store.h"

#include <cstdint>
#include <limits>

#include "absl/strings/str_cat.h"
#include "libs/command/projector.h"
#include "libs/common/status_macros.h"

namespace lotledger::command {

namespace {

// The stored occurred_at of a head that has none (a broken chain's head
// must keep the 8 bytes so the incident text can follow).
constexpr int64_t kNoTime = std::numeric_limits<int64_t>::min();

void PutBigEndian(uint64_t v, std::string& out) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
}

uint64_t GetBigEndian(std::string_view bytes) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v = (v << 8) | static_cast<unsigned char>(bytes[i]);
  return v;
}

absl::StatusOr<AggregateHead> FromStored(
    const absl::StatusOr<std::optional<std::string>>& stored) {
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) return AggregateHead{};
  return DecodeChainHead(**stored);
}

}  // namespace

std::string EncodeChainHead(const AggregateHead& head) {
  std::string out;
  PutBigEndian(head.chain.seq, out);
  out += head.chain.hash;
  if (head.last_occurred_at != absl::InfinitePast() || !head.broken.empty()) {
    const int64_t micros = head.last_occurred_at == absl::InfinitePast()
                               ? kNoTime
                               : absl::ToUnixMicros(head.last_occurred_at);
    PutBigEndian(static_cast<uint64_t>(micros), out);
  }
  out += head.broken;
  return out;
}

absl::StatusOr<AggregateHead> DecodeChainHead(std::string_view value) {
  if (value.size() != 8 + 32 && value.size() < 8 + 32 + 8) {
    return absl::DataLossError(
        "stored chain head is neither 40 nor at least 48 bytes");
  }
  AggregateHead head;
  head.chain.seq = GetBigEndian(value);
  head.chain.hash = std::string(value.substr(8, 32));
  if (value.size() >= 48) {
    const auto micros = static_cast<int64_t>(GetBigEndian(value.substr(40)));
    if (micros != kNoTime) head.last_occurred_at = absl::FromUnixMicros(micros);
    head.broken = std::string(value.substr(48));
  }
  return head;
}

absl::StatusOr<AggregateHead> LoadChainHead(
    const projection::ProjectionStore::Batch& batch,
    std::string_view aggregate_id) {
  return FromStored(batch.Get(kChainCf, aggregate_id));
}

absl::StatusOr<AggregateHead> LoadChainHead(
    const projection::ProjectionStore& store, std::string_view aggregate_id) {
  return FromStored(store.Get(kChainCf, aggregate_id));
}

void StoreChainHead(projection::ProjectionStore::Batch& batch,
                    std::string_view aggregate_id, const AggregateHead& head) {
  batch.Put(kChainCf, aggregate_id, EncodeChainHead(head));
}

}  // namespace lotledger::command
