// CHECK macros for broken invariants (Abseil 20220623, the Debian 12
// version, has no absl/log yet). A failed CHECK prints where and what, then
// aborts: a broken invariant crashes instead of limping on. Bad input and
// environment failures are absl::Status values, never CHECKs.
//
// The line is JSON like every other log line (libs/common/json_log.h), but
// written here without it: this header has no library to link.
#ifndef LOTLEDGER_LIBS_COMMON_CHECK_H_
#define LOTLEDGER_LIBS_COMMON_CHECK_H_

#include <cstdio>
#include <cstdlib>
#include <string>

namespace lotledger::internal {
// Appends `text` to `out` as the body of a JSON string: quotes, backslashes
// and control characters escaped (source text is ASCII).
inline void AppendCheckJson(std::string& out, const char* text) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (const char* c = text; *c != '\0'; ++c) {
    const unsigned char u = static_cast<unsigned char>(*c);
    if (u == '"' || u == '\\') {
      out += '\\';
      out += static_cast<char>(u);
    } else if (u < 0x20) {
      out += "\\u00";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += static_cast<char>(u);
    }
  }
}

// One line, one write, so it never interleaves with another thread's line.
[[noreturn]] inline void CheckFailed(const char* file, int line,
                                     const char* what) {
  std::string out = R"({"level":"fatal","msg":"CHECK failed","check":")";
  AppendCheckJson(out, what);
  out += R"(","file":")";
  AppendCheckJson(out, file);
  out += R"(","line":)";
  out += std::to_string(line);
  out += "}\n";
  std::fwrite(out.data(), 1, out.size(), stderr);
  std::fflush(stderr);
  std::abort();
}
}  // namespace lotledger::internal

#define CHECK(cond)                                                  \
  do {                                                               \
    if (!(cond))                                                     \
      ::lotledger::internal::CheckFailed(__FILE__, __LINE__, #cond); \
  } while (0)
#define CHECK_EQ(a, b) CHECK((a) == (b))
#define CHECK_NE(a, b) CHECK((a) != (b))
#define CHECK_GT(a, b) CHECK((a) > (b))
#define CHECK_GE(a, b) CHECK((a) >= (b))
#define CHECK_LT(a, b) CHECK((a) < (b))
#define CHECK_OK(expr) CHECK((expr).ok())

#endif  // LOTLEDGER_LIBS_COMMON_CHECK_H_
