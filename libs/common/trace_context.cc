#include "libs/common/trace_context.h"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace lotledger {
namespace {

thread_local TraceContext current_trace;

bool IsLowerHex(std::string_view s, size_t n) {
  if (s.size() != n) return false;
  for (const char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool AllZero(std::string_view s) {
  return s.find_first_not_of('0') == std::string_view::npos;
}

// `bytes` (at most 16) random bytes as lowercase hex, never all zero.
std::string RandomHex(size_t bytes) {
  std::array<unsigned char, 16> buf{};
  auto all_zero = [&] {
    return std::all_of(buf.begin(), buf.begin() + bytes,
                       [](unsigned char b) { return b == 0; });
  };
  do {
    if (RAND_bytes(buf.data(), static_cast<int>(bytes)) != 1) {
      // No entropy from OpenSSL: a trace id needs uniqueness, not secrecy.
      thread_local std::mt19937_64 gen{std::random_device{}()};
      for (size_t i = 0; i < bytes; ++i) {
        buf[i] = static_cast<unsigned char>(gen());
      }
    }
  } while (all_zero());
  std::string hex;
  for (size_t i = 0; i < bytes; ++i) {
    absl::StrAppend(&hex, absl::Hex(buf[i], absl::kZeroPad2));
  }
  return hex;
}

}  // namespace

std::string TraceContext::ToTraceparent() const {
  return absl::StrFormat("00-%s-%s-%02x", trace_id, parent_id, flags);
}

std::optional<TraceContext> ParseTraceparent(std::string_view v) {
  // 2 + 1 + 32 + 1 + 16 + 1 + 2 = 55 characters.
  if (v.size() != 55 || v[2] != '-' || v[35] != '-' || v[52] != '-') {
    return std::nullopt;
  }
  const std::string_view version = v.substr(0, 2);
  const std::string_view trace_id = v.substr(3, 32);
  const std::string_view parent_id = v.substr(36, 16);
  const std::string_view flags = v.substr(53, 2);
  if (version != "00" || !IsLowerHex(trace_id, 32) || AllZero(trace_id) ||
      !IsLowerHex(parent_id, 16) || AllZero(parent_id) ||
      !IsLowerHex(flags, 2)) {
    return std::nullopt;
  }
  TraceContext c;
  c.trace_id = std::string(trace_id);
  c.parent_id = std::string(parent_id);
  const auto nibble = [](char h) { return h <= '9' ? h - '0' : h - 'a' + 10; };
  c.flags = static_cast<uint8_t>(nibble(flags[0]) * 16 + nibble(flags[1]));
  return c;
}

TraceContext NewTrace() {
  TraceContext c;
  c.trace_id = RandomHex(16);
  c.parent_id = RandomHex(8);
  c.flags = 0x01;
  return c;
}

TraceContext ChildOf(const TraceContext& parent) {
  if (!parent.valid()) return NewTrace();
  TraceContext c = parent;
  c.parent_id = RandomHex(8);
  return c;
}

TraceContext TraceFromHeader(std::string_view value) {
  std::optional<TraceContext> parsed = ParseTraceparent(value);
  return parsed.has_value() ? *std::move(parsed) : NewTrace();
}

const TraceContext& CurrentTrace() { return current_trace; }

ScopedTraceContext::ScopedTraceContext(TraceContext context)
    : previous_(std::move(current_trace)) {
  current_trace = std::move(context);
}

ScopedTraceContext::~ScopedTraceContext() {
  current_trace = std::move(previous_);
}

}  // namespace lotledger
