#include "tests/support/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"

namespace lotledger::testing {

absl::StatusOr<pid_t> StartChild(std::vector<std::string> argv,
                                 const std::string& log_path, bool append) {
  // Everything the child needs is made before fork: after it only
  // async-signal-safe calls.
  std::vector<char*> args;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  const int log_fd = open(
      log_path.c_str(),
      O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0644);
  if (log_fd < 0) return absl::InternalError("cannot create " + log_path);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(126);  // the parent already died
    dup2(log_fd, STDERR_FILENO);
    dup2(log_fd, STDOUT_FILENO);
    execv(args[0], args.data());
    _exit(127);
  }
  close(log_fd);
  if (pid < 0)
    return absl::InternalError(absl::StrCat("fork failed for ", argv[0]));
  return pid;
}

}  // namespace lotledger::testing
