#include "libs/common/ids.h"

#include <cstdint>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"

namespace lotledger {

std::string NewUuidV7(absl::Time now) {
  static absl::Mutex mu(absl::kConstInit);
  static std::mt19937_64* rng = new std::mt19937_64(std::random_device{}());
  static uint64_t last_ms = 0;
  static uint64_t counter = 0;  // 12-bit rand_a used as a monotonic counter
  uint64_t ms = static_cast<uint64_t>(absl::ToUnixMillis(now));
  uint64_t rand_b, rand_a;
  {
    absl::MutexLock l(&mu);
    if (ms <= last_ms) {
      ms = last_ms;
      if (++counter > 0xfff) {  // counter overflow: borrow the next ms
        ++ms;
        counter = 0;
      }
    } else {
      counter = (*rng)() & 0x7ff;  // leave room to count up within the ms
    }
    last_ms = ms;
    rand_a = counter;
    rand_b = (*rng)();
  }
  const uint64_t hi = (ms << 16) | (0x7ULL << 12) | rand_a;
  const uint64_t lo = (rand_b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  return absl::StrFormat("%08x-%04x-%04x-%04x-%012x", hi >> 32,
                         (hi >> 16) & 0xffff, hi & 0xffff, lo >> 48,
                         lo & 0xffffffffffffULL);
}

std::string MakeLotId(std::string_view item, std::string_view lot_number) {
  std::string id;
  id.reserve(item.size() + 1 + lot_number.size());
  id.append(item).append(":").append(lot_number);
  return id;
}

std::string_view ItemOfLotId(std::string_view lot_id) {
  const size_t colon = lot_id.find(':');
  return colon == std::string_view::npos ? std::string_view()
                                         : lot_id.substr(0, colon);
}

}  // namespace lotledger
