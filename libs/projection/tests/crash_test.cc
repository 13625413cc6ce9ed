// Kills a projector (projection_crash_child) with SIGKILL at random moments
// while it applies a synthetic stream, restarts it each time from the
// committed offsets, and checks that the final projection is identical to
// a clean replay: state and offsets are committed atomically, so no event
// was applied twice or skipped.
#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "libs/projection/projection_store.h"
#include "libs/projection/tests/synthetic_stream.h"

namespace lotledger::projection::testing {
namespace {

constexpr uint64_t kSeed = 20240601;
constexpr int64_t kEvents = 20000;
constexpr int kKills = 16;

int64_t CommittedOffset(const std::string& dir) {
  auto store = ProjectionStore::Open(StreamOptions(dir));
  EXPECT_TRUE(store.ok()) << store.status();
  if (!store.ok()) return -1;
  eventlog::Offsets offsets = (*store)->Offsets();
  auto it = offsets.find(StreamPartition());
  return it == offsets.end() ? 0 : it->second;
}

struct Child {
  pid_t pid = -1;
  int ready_fd = -1;  // read end: one byte after the child's first commit
};

Child StartChild(const std::string& dir, uint64_t batch_seed) {
  int fds[2];
  EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0);
  // Everything exec needs is built before fork: between fork and exec the
  // child of a (RocksDB-)threaded process may only make async-signal-safe
  // calls.
  std::vector<std::string> args = {
      PROJECTION_CRASH_CHILD, dir,
      absl::StrCat(kSeed),    absl::StrCat(kEvents),
      absl::StrCat(fds[1]),   absl::StrCat(batch_seed)};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    // Keep the write end open across exec (it was made O_CLOEXEC so other
    // children don't inherit it).
    fcntl(fds[1], F_SETFD, 0);
    execv(argv[0], argv.data());
    _exit(127);
  }
  EXPECT_GT(pid, 0);
  close(fds[1]);
  return Child{pid, fds[0]};
}

// Waits for the child; returns its wait status.
int Reap(pid_t pid) {
  int status = 0;
  EXPECT_EQ(waitpid(pid, &status, 0), pid);
  return status;
}

TEST(ProjectionCrashTest, KilledProjectorEndsIdenticalToCleanReplay) {
  const ScopedTempDir tmp;
  const std::string& dir = tmp.path();
  uint64_t rng = 42;  // fixed: the kill schedule is reproducible-ish
  std::vector<int64_t> offsets_after_kill;
  int64_t last = 0;
  for (int k = 0; k < kKills; ++k) {
    Child child = StartChild(dir, SplitMix64(rng));
    if (k % 4 == 3) {
      // Now and then kill it early, likely while RocksDB opens and recovers
      // the previous run's WAL: recovery itself must survive a crash.
      close(child.ready_fd);
      std::this_thread::sleep_for(
          std::chrono::microseconds(SplitMix64(rng) % 3000));
    } else {
      char byte;
      ssize_t got = read(child.ready_fd, &byte, 1);  // until its 1st commit
      close(child.ready_fd);
      ASSERT_EQ(got, 1) << "child exited before its first commit, kill " << k;
      // The sleep only randomizes where in the stream the kill lands.
      std::this_thread::sleep_for(
          std::chrono::microseconds(SplitMix64(rng) % 12000));
    }
    kill(child.pid, SIGKILL);
    int status = Reap(child.pid);
    // A child that finished before the kill exits 0; anything else is a bug.
    ASSERT_TRUE((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) ||
                (WIFEXITED(status) && WEXITSTATUS(status) == 0))
        << "status " << status;
    int64_t offset = CommittedOffset(dir);
    ASSERT_GE(offset, last) << "committed offset went backwards";
    last = offset;
    offsets_after_kill.push_back(offset);
  }

  // Let it finish.
  Child child = StartChild(dir, SplitMix64(rng));
  int status = Reap(child.pid);
  close(child.ready_fd);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "status " << status;

  // Not vacuous: most kills must have landed mid-stream.
  int mid_stream = 0;
  for (int64_t offset : offsets_after_kill) {
    if (offset > 0 && offset < kEvents) ++mid_stream;
  }
  std::string trail;
  for (int64_t offset : offsets_after_kill)
    absl::StrAppend(&trail, offset, " ");
  EXPECT_GE(mid_stream, kKills * 3 / 4) << "offsets after kills: " << trail;
  std::printf("committed offsets after each kill: %s\n", trail.c_str());

  std::string crashed_digest;
  {
    auto store = ProjectionStore::Open(StreamOptions(dir));
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_EQ((*store)->Offsets(),
              (eventlog::Offsets{{StreamPartition(), kEvents}}));
    auto digest = (*store)->Digest();
    ASSERT_TRUE(digest.ok()) << digest.status();
    crashed_digest = *digest;
  }

  const ScopedTempDir clean_tmp;
  const std::string& clean_dir = clean_tmp.path();
  auto clean = ProjectionStore::Open(StreamOptions(clean_dir));
  ASSERT_TRUE(clean.ok()) << clean.status();
  ASSERT_TRUE(ApplyStream(**clean, kSeed, kEvents, [] { return 500; }).ok());
  auto clean_digest = (*clean)->Digest();
  ASSERT_TRUE(clean_digest.ok()) << clean_digest.status();
  EXPECT_EQ(crashed_digest, *clean_digest) << "offsets after kills: " << trail;

  clean->reset();
  EXPECT_TRUE(ProjectionStore::Destroy(clean_dir).ok());
  EXPECT_TRUE(ProjectionStore::Destroy(dir).ok());
}

}  // namespace
}  // namespace lotledger::projection::testing
