// CHECK macros for broken invariants (Abseil 20220623, the Debian 12
// version, has no absl/log yet). A failed CHECK prints where and what, then
// aborts: a broken invariant crashes instead of limping on. Bad input and
// environment failures are absl::Status values, never CHECKs.
#ifndef LOTLEDGER_LIBS_COMMON_CHECK_H_
#define LOTLEDGER_LIBS_COMMON_CHECK_H_

#include <cstdio>
#include <cstdlib>

namespace lotledger::internal {
[[noreturn]] inline void CheckFailed(const char* file, int line,
                                     const char* what) {
  std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", file, line, what);
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
