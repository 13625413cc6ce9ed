#include "libs/common/json_log.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "libs/common/trace_context.h"

namespace lotledger {
namespace {

constexpr int kUnset = -1;
std::atomic<int> min_level{kUnset};

LogLevel MinLevelFromEnv() {
  const char* env = std::getenv("LOTLEDGER_LOG_LEVEL");
  if (env == nullptr || *env == '\0') return LogLevel::kInfo;
  std::optional<LogLevel> level = ParseLogLevel(env);
  return level.value_or(LogLevel::kInfo);
}

// The length of the valid UTF-8 sequence at the start of `s`, 0 when it
// does not start with one (RFC 3629: no overlong forms, no surrogates,
// nothing above U+10FFFF).
size_t Utf8Length(std::string_view s) {
  const auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const auto cont = [&](size_t i) {
    return i < s.size() && (b(i) & 0xC0) == 0x80;
  };
  const unsigned char c = b(0);
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (s.size() < 3 || !cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && b(1) < 0xA0) return 0;  // overlong
    if (c == 0xED && b(1) > 0x9F) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (s.size() < 4 || !cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && b(1) < 0x90) return 0;  // overlong
    if (c == 0xF4 && b(1) > 0x8F) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

}  // namespace

std::optional<LogLevel> ParseLogLevel(std::string_view name) {
  if (name == "debug") return LogLevel::kDebug;
  if (name == "info") return LogLevel::kInfo;
  if (name == "warn" || name == "warning") return LogLevel::kWarn;
  if (name == "error") return LogLevel::kError;
  return std::nullopt;
}

void SetMinLogLevel(LogLevel level) {
  min_level.store(static_cast<int>(level), std::memory_order_relaxed);
}

LogLevel MinLogLevel() {
  int level = min_level.load(std::memory_order_relaxed);
  if (level == kUnset) {
    int from_env = static_cast<int>(MinLevelFromEnv());
    // SetMinLogLevel, when it came first, wins.
    min_level.compare_exchange_strong(level, from_env);
    level = min_level.load(std::memory_order_relaxed);
  }
  return static_cast<LogLevel>(level);
}

bool LogEnabled(std::string_view level) {
  std::optional<LogLevel> parsed = ParseLogLevel(level);
  return !parsed.has_value() || *parsed >= MinLogLevel();
}

std::string JsonString(std::string_view value) {
  std::string out = "\"";
  out.reserve(value.size() + 2);
  for (size_t i = 0; i < value.size();) {
    const char c = value[i];
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80) {
      const size_t n = Utf8Length(value.substr(i));
      if (n == 0) {
        out += "\\ufffd";  // not UTF-8: the replacement character
        ++i;
      } else {
        out.append(value.substr(i, n));
        i += n;
      }
      continue;
    }
    ++i;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (u < 0x20 || u == 0x7F) {
          absl::StrAppend(&out, "\\u00", absl::Hex(u, absl::kZeroPad2));
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

std::string JsonLine(std::string_view level, std::string_view msg,
                     JsonFields fields) {
  std::string line = absl::StrCat("{\"level\":", JsonString(level),
                                  ",\"msg\":", JsonString(msg));
  for (const auto& [key, value] : fields) {
    absl::StrAppend(&line, ",", JsonString(key), ":", JsonString(value));
  }
  line += "}";
  return line;
}

std::string LogLineText(std::string_view level, std::string_view msg,
                        const JsonRawFields& fields) {
  std::string line = absl::StrCat(
      "{\"ts\":\"",
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(),
                       absl::UTCTimeZone()),
      "\",\"level\":", JsonString(level), ",\"msg\":", JsonString(msg));
  for (const auto& [key, value] : fields) {
    absl::StrAppend(&line, ",", JsonString(key), ":", value);
  }
  // Last, so the fields keep their places for readers that match text.
  if (const TraceContext& trace = CurrentTrace(); trace.valid()) {
    absl::StrAppend(&line, ",\"trace_id\":", JsonString(trace.trace_id));
  }
  line += "}";
  return line;
}

void LogJsonRaw(std::string_view level, std::string_view msg,
                const JsonRawFields& fields) {
  if (!LogEnabled(level)) return;
  const std::string line = LogLineText(level, msg, fields) + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

void LogJson(std::string_view level, std::string_view msg, JsonFields fields) {
  if (!LogEnabled(level)) return;
  JsonRawFields raw;
  raw.reserve(fields.size());
  for (const auto& [key, value] : fields) {
    raw.emplace_back(std::string(key), JsonString(value));
  }
  LogJsonRaw(level, msg, raw);
}

}  // namespace lotledger
