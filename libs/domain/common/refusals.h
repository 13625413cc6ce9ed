// The two ways a Decide says no, shared by every domain area:
//   Invalid(...)  the command is malformed: InvalidArgument, naming the
//                 field and the rule ("create_lot.lot_number: 21
//                 characters, at most 20");
//   Refuse(...)   a business rule says no: FailedPrecondition, in a
//                 sentence a quality manager understands, naming the rule
//                 and the lot.
// Header-only and pure; thread-safe.
#ifndef LOTLEDGER_LIBS_DOMAIN_COMMON_REFUSALS_H_
#define LOTLEDGER_LIBS_DOMAIN_COMMON_REFUSALS_H_

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace lotledger::domain {

template <typename... Args>
absl::Status Invalid(const Args&... args) {
  return absl::InvalidArgumentError(absl::StrCat(args...));
}

template <typename... Args>
absl::Status Refuse(const Args&... args) {
  return absl::FailedPreconditionError(absl::StrCat(args...));
}

// Empty or only white space: a required text that says nothing.
inline bool IsBlank(absl::string_view s) {
  return absl::StripAsciiWhitespace(s).empty();
}

}  // namespace lotledger::domain

#endif  // LOTLEDGER_LIBS_DOMAIN_COMMON_REFUSALS_H_
