// FUZZ_CHECK(cond, what...): a property a fuzz target asserts. On failure
// prints the condition and the pieces of `what` (absl::StrCat arguments)
// and aborts, which libFuzzer reports as a crash with the input saved.
#ifndef LOTLEDGER_TESTS_FUZZ_FUZZ_CHECK_H_
#define LOTLEDGER_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"

#define FUZZ_CHECK(cond, ...)                                            \
  do {                                                                   \
    if (!(cond)) {                                                       \
      const std::string fuzz_check_what = absl::StrCat(__VA_ARGS__);     \
      std::fprintf(stderr, "%s:%d: property failed: %s: %s\n", __FILE__, \
                   __LINE__, #cond, fuzz_check_what.c_str());            \
      std::fflush(stderr);                                               \
      std::abort();                                                      \
    }                                                                    \
  } while (0)

#endif  // LOTLEDGER_TESTS_FUZZ_FUZZ_CHECK_H_
