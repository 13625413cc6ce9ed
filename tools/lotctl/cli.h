// lotctl: the command-line client of lotledger. RunLotctl is the whole
// program minus main(), so tests run it in-process against a TestStack.
//
// Exit codes, a contract for scripts (also printed by `lotctl --help`):
//   0  ok
//   1  the server refused: FAILED_PRECONDITION, ALREADY_EXISTS, NOT_FOUND,
//      PERMISSION_DENIED, UNAUTHENTICATED (and ABORTED); also a
//      UDI scan that does not match master data or names no known lot
//   2  usage or bad input, including the server's INVALID_ARGUMENT and
//      OUT_OF_RANGE
//   3  the server is unreachable or not serving: UNAVAILABLE,
//      DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, and CANCELLED (lotctl never
//      cancels a call, so it comes from a server that stopped with the call
//      running): the outcome is unknown; safe to retry with the same
//      --request-id
//   4  `lotctl import` found bad or refused rows
//   5  the server failed: INTERNAL, DATA_LOSS, UNKNOWN, UNIMPLEMENTED
//      (not a verdict on the request; report it)
// Errors print as `error: <CODE>: <server message>` on the error stream;
// the server's message names the field or the rule.
//
// Thread-safety: RunLotctl may run on several threads at once (it keeps no
// global state); each call writes only to its own streams.
#ifndef LOTLEDGER_TOOLS_LOTCTL_CLI_H_
#define LOTLEDGER_TOOLS_LOTCTL_CLI_H_

#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace lotledger::lotctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitRefused = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitUnavailable = 3;
inline constexpr int kExitBadRows = 4;
inline constexpr int kExitServerFault = 5;

// What lotctl reads from its process besides the arguments; injected so
// tests control it.
struct Environment {
  // Environment variables (LOTLEDGER_SERVER, LOTLEDGER_TOKEN).
  std::function<std::optional<std::string>(const std::string&)> getenv;
  // Whether the error stream is a terminal: then `import` draws a progress
  // bar on it.
  bool err_is_tty = false;
  std::function<absl::Time()> now;

  // The real process: ::getenv, isatty(2), absl::Now.
  static Environment Process();
};

// Runs lotctl with `args` (without the program name), writing results to
// `out` and diagnostics to `err`. Returns the exit code.
int RunLotctl(std::vector<std::string> args, std::ostream& out,
              std::ostream& err);
int RunLotctl(std::vector<std::string> args, const Environment& env,
              std::ostream& out, std::ostream& err);

}  // namespace lotledger::lotctl

#endif  // LOTLEDGER_TOOLS_LOTCTL_CLI_H_
