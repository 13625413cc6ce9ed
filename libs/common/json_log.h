// One structured log line per call: a JSON object on stderr with "level",
// "msg" and the given string fields, every string escaped (quotes,
// backslashes, control characters), written with one write so lines of
// concurrent threads never interleave. For code below libs/server, which
// has the per-call logger (libs/server/rpc.h).
//
// Thread-safety: LogJson may be called from any thread.
#ifndef LOTLEDGER_LIBS_COMMON_JSON_LOG_H_
#define LOTLEDGER_LIBS_COMMON_JSON_LOG_H_

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace lotledger {

// `value` as a JSON string literal, quotes included.
std::string JsonString(std::string_view value);

using JsonFields =
    std::initializer_list<std::pair<std::string_view, std::string_view>>;

// {"level":level,"msg":msg,"k1":"v1",...} without the newline.
std::string JsonLine(std::string_view level, std::string_view msg,
                     JsonFields fields = {});

// Writes JsonLine(...) and a newline to stderr.
void LogJson(std::string_view level, std::string_view msg,
             JsonFields fields = {});

}  // namespace lotledger

#endif  // LOTLEDGER_LIBS_COMMON_JSON_LOG_H_
