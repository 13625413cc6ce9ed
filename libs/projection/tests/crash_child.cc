// projection_crash_child DIR SEED N READY_FD BATCH_SEED
//
// Applies the synthetic stream (synthetic_stream.h) to the projection in DIR
// from its committed offset up to N, in batches of 1..64 events drawn from
// BATCH_SEED. After its first commit it writes one byte to READY_FD, so the
// parent (crash_test.cc) kills it mid-stream rather than while it opens.
// Exits 0 when the stream is fully applied, 2 on any error.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/numbers.h"
#include "libs/projection/projection_store.h"
#include "libs/projection/tests/synthetic_stream.h"

namespace lotledger::projection::testing {
namespace {

int Run(int argc, char** argv) {
  uint64_t seed = 0;
  int64_t n = 0;
  int ready_fd = -1;
  uint64_t batch_seed = 0;
  if (argc != 6 || !absl::SimpleAtoi(argv[2], &seed) ||
      !absl::SimpleAtoi(argv[3], &n) || !absl::SimpleAtoi(argv[4], &ready_fd) ||
      !absl::SimpleAtoi(argv[5], &batch_seed)) {
    std::fprintf(stderr, "usage: %s DIR SEED N READY_FD BATCH_SEED\n", argv[0]);
    return 2;
  }
  // A parent that stopped listening must not kill us with SIGPIPE.
  signal(SIGPIPE, SIG_IGN);
  auto store = ProjectionStore::Open(StreamOptions(argv[1]));
  if (!store.ok()) {
    std::fprintf(stderr, "open: %s\n", store.status().ToString().c_str());
    return 2;
  }
  absl::Status s = ApplyStream(
      **store, seed, n,
      [&] { return 1 + static_cast<int>(SplitMix64(batch_seed) % 64); },
      [&](int64_t) {
        if (ready_fd >= 0) {
          char byte = 'R';
          if (write(ready_fd, &byte, 1) != 1) std::perror("write ready");
          close(ready_fd);
          ready_fd = -1;
        }
      });
  if (!s.ok()) {
    std::fprintf(stderr, "apply: %s\n", s.ToString().c_str());
    return 2;
  }
  return 0;
}

}  // namespace
}  // namespace lotledger::projection::testing

int main(int argc, char** argv) {
  return lotledger::projection::testing::Run(argc, argv);
}
