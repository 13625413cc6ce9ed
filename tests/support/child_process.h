// Starting a helper program (a server under test, chromedriver, the
// console) as a child process of a test or a bench.
//
// Thread-safety: call from the thread that should own the child: it gets
// SIGKILL when that thread ends (PR_SET_PDEATHSIG), so a crashed or
// timed-out test leaves nothing running.
#ifndef LOTLEDGER_TESTS_SUPPORT_CHILD_PROCESS_H_
#define LOTLEDGER_TESTS_SUPPORT_CHILD_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace lotledger::testing {

// Starts `argv` (argv[0] the program's path) with its stdout and stderr
// going to `log_path`, truncated first unless `append`. Returns its pid;
// InternalError when the log cannot be created or the fork fails.
absl::StatusOr<pid_t> StartChild(std::vector<std::string> argv,
                                 const std::string& log_path,
                                 bool append = false);

}  // namespace lotledger::testing

#endif  // LOTLEDGER_TESTS_SUPPORT_CHILD_PROCESS_H_
