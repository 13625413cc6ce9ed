#include "libs/common/hash.h"

#include <openssl/evp.h>

#include "libs/common/check.h"

namespace lotledger {
namespace {

// Incremental SHA-256 over several pieces, without copying them together.
class Sha256Builder {
 public:
  Sha256Builder() : ctx_(EVP_MD_CTX_new()) {
    CHECK(ctx_ != nullptr);
    CHECK_EQ(EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr), 1);
  }
  ~Sha256Builder() { EVP_MD_CTX_free(ctx_); }
  Sha256Builder(const Sha256Builder&) = delete;
  Sha256Builder& operator=(const Sha256Builder&) = delete;

  void Add(std::string_view piece) {
    CHECK_EQ(EVP_DigestUpdate(ctx_, piece.data(), piece.size()), 1);
  }
  std::string Finish() {
    std::string out(kSha256Size, '\0');
    unsigned int len = 0;
    CHECK_EQ(EVP_DigestFinal_ex(
                 ctx_, reinterpret_cast<unsigned char*>(out.data()), &len),
             1);
    CHECK_EQ(len, kSha256Size);
    return out;
  }

 private:
  EVP_MD_CTX* ctx_;
};

}  // namespace

std::string Sha256(std::string_view data) {
  Sha256Builder b;
  b.Add(data);
  return b.Finish();
}

std::string ChainHash(std::string_view prev_hash, uint64_t seq,
                      std::string_view body) {
  char seq_be[8];
  for (int i = 0; i < 8; ++i)
    seq_be[i] = static_cast<char>(seq >> (56 - 8 * i));
  Sha256Builder b;
  b.Add(prev_hash);
  b.Add(std::string_view(seq_be, 8));
  b.Add(body);
  return b.Finish();
}

int32_t Murmur2(std::string_view key) {
  const uint32_t seed = 0x9747b28c;
  const uint32_t m = 0x5bd1e995;
  const int r = 24;
  const auto* data = reinterpret_cast<const uint8_t*>(key.data());
  const size_t length = key.size();
  uint32_t h = seed ^ static_cast<uint32_t>(length);
  const size_t length4 = length / 4;
  for (size_t i = 0; i < length4; ++i) {
    const size_t i4 = i * 4;
    uint32_t k = data[i4] | (data[i4 + 1] << 8) | (data[i4 + 2] << 16) |
                 (static_cast<uint32_t>(data[i4 + 3]) << 24);
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  const size_t tail = length4 * 4;
  switch (length % 4) {
    case 3:
      h ^= static_cast<uint32_t>(data[tail + 2]) << 16;
      [[fallthrough]];
    case 2:
      h ^= static_cast<uint32_t>(data[tail + 1]) << 8;
      [[fallthrough]];
    case 1:
      h ^= data[tail];
      h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return static_cast<int32_t>(h);
}

int32_t PartitionForKey(std::string_view key, int32_t partitions) {
  CHECK_GT(partitions, 0);
  return (Murmur2(key) & 0x7fffffff) % partitions;
}

std::string HexEncode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
  return out;
}

}  // namespace lotledger
