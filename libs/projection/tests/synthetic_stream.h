// A deterministic synthetic event stream for projection tests. Event i is a
// pure function of (seed, i), so a projector can resume anywhere. Applying
// an event reads and rewrites state (a counter folded with the event number,
// a list the event number is appended to, occasional deletes), so applying
// an event twice, skipping one or reordering two changes the final state.
// Thread-compatible: no shared state.
#ifndef LOTLEDGER_LIBS_PROJECTION_TESTS_SYNTHETIC_STREAM_H_
#define LOTLEDGER_LIBS_PROJECTION_TESTS_SYNTHETIC_STREAM_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "libs/eventlog/event_log.h"
#include "libs/projection/projection_store.h"

namespace lotledger::projection::testing {

inline constexpr char kCounters[] = "counters";
inline constexpr char kLists[] = "lists";

// The stream's input partition.
eventlog::TopicPartition StreamPartition();

// Options for a store the stream can be applied to.
ProjectionStore::Options StreamOptions(const std::string& path);

// Applies event `i` through `batch` (reads see the batch's own writes).
absl::Status ApplyEvent(uint64_t seed, int64_t i,
                        ProjectionStore::Batch& batch);

// Applies events from the store's committed offset up to `n`, committing
// batches of batch_size() events (>= 1) each with the offset they reach;
// after_commit(next_offset) runs after every commit.
absl::Status ApplyStream(
    ProjectionStore& store, uint64_t seed, int64_t n,
    const std::function<int()>& batch_size,
    const std::function<void(int64_t)>& after_commit = nullptr);

// SplitMix64: a tiny PRNG whose output is fixed by the algorithm (the
// standard distributions are implementation-defined).
uint64_t SplitMix64(uint64_t& state);

// A temporary directory under $TMPDIR (or /tmp), made with mkdtemp.
std::string MakeTempDir();

// A MakeTempDir() removed (with whatever is in it) on destruction, so a
// test that fails half-way leaves nothing behind.
class ScopedTempDir {
 public:
  ScopedTempDir() : path_(MakeTempDir()) {}
  ~ScopedTempDir();
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace lotledger::projection::testing

#endif  // LOTLEDGER_LIBS_PROJECTION_TESTS_SYNTHETIC_STREAM_H_
