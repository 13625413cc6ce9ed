// The one structured logger of every lotledger binary: one JSON object per
// line on stderr,
//   {"ts":"2026-12-06T19:48:02.123Z","level":"info","msg":"...",<fields>,
//    "trace_id":"<32 hex>"}
// with "trace_id" (last) present while the thread works for a traced call
// (trace_context.h). Every string is escaped (quotes, backslashes, control
// characters) and invalid UTF-8 is replaced by U+FFFD, so whatever a
// message carries the line stays one valid JSON object. A line is written
// with one write, so lines of concurrent threads never interleave.
//
// Levels: debug < info < warn < error. Lines below the minimum level are
// not written; the minimum comes from env LOTLEDGER_LOG_LEVEL (debug,
// info, warn, error; default info) at the first line, or SetMinLogLevel.
// A level name the logger does not know is always written.
//
// Thread-safety: every function may be called from any thread.
#ifndef LOTLEDGER_LIBS_COMMON_JSON_LOG_H_
#define LOTLEDGER_LIBS_COMMON_JSON_LOG_H_

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lotledger {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// "debug", "info", "warn" (or "warning"), "error"; nullopt otherwise.
std::optional<LogLevel> ParseLogLevel(std::string_view name);
void SetMinLogLevel(LogLevel level);
LogLevel MinLogLevel();
// Whether a line of `level` would be written now.
bool LogEnabled(std::string_view level);

// `value` as a JSON string literal, quotes included.
std::string JsonString(std::string_view value);

// Fields whose values are strings.
using JsonFields =
    std::initializer_list<std::pair<std::string_view, std::string_view>>;
// Fields whose values are already JSON (JsonString for a string, a number
// as digits, true/false).
using JsonRawFields = std::vector<std::pair<std::string, std::string>>;

// {"level":level,"msg":msg,"k1":"v1",...} without the newline, timestamp
// or trace id: the body of a line.
std::string JsonLine(std::string_view level, std::string_view msg,
                     JsonFields fields = {});

// The whole line as the logger writes it, without the newline: ts (now),
// level, msg, `fields`, trace_id (when the thread has a trace context).
std::string LogLineText(std::string_view level, std::string_view msg,
                        const JsonRawFields& fields);

// Writes a line (string fields) to stderr.
void LogJson(std::string_view level, std::string_view msg,
             JsonFields fields = {});
// Writes a line (fields already JSON) to stderr.
void LogJsonRaw(std::string_view level, std::string_view msg,
                const JsonRawFields& fields);

}  // namespace lotledger

#endif  // LOTLEDGER_LIBS_COMMON_JSON_LOG_H_
