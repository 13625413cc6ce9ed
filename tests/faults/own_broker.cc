#include "tests/faults/own_broker.h"

#include <sys/wait.h>

#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

#ifndef LOTLEDGER_SOURCE_DIR
#error "LOTLEDGER_SOURCE_DIR must name the source tree (for tools/kafka)"
#endif

namespace lotledger::faults {

OwnBroker::OwnBroker(std::string run_dir) : run_dir_(std::move(run_dir)) {}

OwnBroker::~OwnBroker() {
  if (started_) Run("stop", "");
}

// Runs tools/kafka/<script>; returns its last stdout line ("" on failure).
std::string OwnBroker::Run(const std::string& script, const std::string& env) {
  const std::string cmd =
      absl::StrCat("LOTLEDGER_KAFKA_RUN_DIR='", run_dir_, "' ", env, " '",
                   LOTLEDGER_SOURCE_DIR, "/tools/kafka/", script, "' 2>>'",
                   run_dir_, ".tools.log'");
  FILE* out = popen(cmd.c_str(), "r");
  if (out == nullptr) return "";
  std::string last;
  char line[512];
  while (std::fgets(line, sizeof line, out) != nullptr) last = line;
  const int status = pclose(out);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    ADD_FAILURE() << "tools/kafka/" << script << " failed; see " << run_dir_
                  << ".tools.log";
    return "";
  }
  return std::string(absl::StripAsciiWhitespace(last));
}

std::string OwnBroker::Start() {
  started_ = true;
  return Run("start", "");
}

bool OwnBroker::Stop() {
  Run("stop", "LOTLEDGER_KAFKA_KEEP_RUN_DIR=1");
  return !::testing::Test::HasFailure();
}

bool OwnBroker::Resume() {
  return !Run("start", "LOTLEDGER_KAFKA_RESUME=1").empty();
}

}  // namespace lotledger::faults
