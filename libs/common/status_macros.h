// Status propagation helpers used across lotledger.
#ifndef LOTLEDGER_LIBS_COMMON_STATUS_MACROS_H_
#define LOTLEDGER_LIBS_COMMON_STATUS_MACROS_H_

#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace lotledger {
// Debian 12's Abseil is built with its own absl::string_view, which does not
// convert from std::string_view; use this to pass one to absl::StrCat and
// friends.
inline absl::string_view Sv(std::string_view s) { return {s.data(), s.size()}; }
}  // namespace lotledger

#define LL_CONCAT_INNER_(a, b) a##b
#define LL_CONCAT_(a, b) LL_CONCAT_INNER_(a, b)

// Returns from the current function when `expr` (an absl::Status) is not ok.
#define RETURN_IF_ERROR(expr)                \
  do {                                       \
    ::absl::Status ll_status_ = (expr);      \
    if (!ll_status_.ok()) return ll_status_; \
  } while (0)

// ASSIGN_OR_RETURN(lhs, rexpr): evaluates `rexpr` (an absl::StatusOr<T>);
// returns its status when not ok, else assigns the value to `lhs`.
#define ASSIGN_OR_RETURN(lhs, rexpr) \
  ASSIGN_OR_RETURN_IMPL_(LL_CONCAT_(ll_statusor_, __LINE__), lhs, rexpr)
#define ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                           \
  if (!statusor.ok()) return statusor.status();      \
  lhs = std::move(statusor).value()

#endif  // LOTLEDGER_LIBS_COMMON_STATUS_MACROS_H_
