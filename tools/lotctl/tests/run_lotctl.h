// What the lotctl end-to-end tests share: lotctl run in process against a
// TestStack, as one of its principals, with no environment variables.
#ifndef LOTLEDGER_TOOLS_LOTCTL_TESTS_RUN_LOTCTL_H_
#define LOTLEDGER_TOOLS_LOTCTL_TESTS_RUN_LOTCTL_H_

#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "tests/support/stack.h"
#include "tools/lotctl/cli.h"

namespace lotledger::testing {

struct LotctlResult {
  int code;
  std::string out;
  std::string err;
};

// No LOTLEDGER_* variables (the tests pass --server and --token), the real
// clock, not a terminal.
inline lotctl::Environment TestEnvironment() {
  lotctl::Environment env;
  env.getenv = [](const std::string&) { return std::nullopt; };
  env.now = [] { return absl::Now(); };
  return env;
}

// `lotctl ARGS --server=<stack> --token=<who's token>`.
inline LotctlResult RunLotctlAs(const TestStack& stack, const std::string& who,
                                std::vector<std::string> args,
                                const lotctl::Environment& env) {
  args.push_back("--server=" + stack.target());
  args.push_back("--token=" + stack.Token(who));
  std::ostringstream out, err;
  const int code = lotctl::RunLotctl(std::move(args), env, out, err);
  return {code, out.str(), err.str()};
}

}  // namespace lotledger::testing

#endif  // LOTLEDGER_TOOLS_LOTCTL_TESTS_RUN_LOTCTL_H_
