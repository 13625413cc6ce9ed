// Hashes with fixed, documented definitions: SHA-256 for the event hash
// chain, and Kafka's murmur2 partitioner so every backend and every Kafka
// client (Java's default partitioner, librdkafka's murmur2_random) agrees on
// which partition a key lives in. All functions are pure and thread-safe.
#ifndef LOTLEDGER_LIBS_COMMON_HASH_H_
#define LOTLEDGER_LIBS_COMMON_HASH_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace lotledger {

inline constexpr size_t kSha256Size = 32;

// SHA-256 of `data`, as 32 raw bytes.
std::string Sha256(std::string_view data);

// The chain hash of docs/design.md: SHA-256(prev_hash || seq (8 bytes, big
// endian) || body).
std::string ChainHash(std::string_view prev_hash, uint64_t seq,
                      std::string_view body);

// Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2).
int32_t Murmur2(std::string_view key);

// The partition Java's default partitioner picks for a non-empty key:
// (murmur2(key) & 0x7fffffff) % partitions.
int32_t PartitionForKey(std::string_view key, int32_t partitions);

// Lower-case hex of raw bytes.
std::string HexEncode(std::string_view bytes);

}  // namespace lotledger

#endif  // LOTLEDGER_LIBS_COMMON_HASH_H_
