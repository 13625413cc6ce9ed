// RebuildProjection: rebuilds a running service's projection from the log
// without downtime (docs/adr/0003-projection-rebuild-without-downtime.md).
//
// A second ProjectionStore, in `<projection dir>.rebuild-<n>`, is filled by
// a second Projector (the service's own apply function) that this code
// drives itself: it reads the input topics from offset 0 and applies only
// records below the live projector's applied offsets, holding back the
// rest, so it can stop at exactly the live projection's position. When it
// is close, the live projector is stopped (commands wait for it; none
// fails), the rebuild applies the last records up to exactly the live
// offsets, both projections are pinned at that point (RocksDB snapshots,
// for the digests), the live store switches to the new database
// (ProjectionStore::SwapIn: queries never fail) and the live projector
// starts again on it: the pause ends. Then both digests are computed and
// compared, and, once the old database is closed, the directory
// `<projection dir>` becomes a symbolic link to the new directory (the old
// one is deleted), so a restart opens the rebuilt projection.
//
// Thread-safety: RebuildProjection may be called from any thread; a second
// call for the same ServiceCore while one runs is refused.
#ifndef LOTLEDGER_LIBS_COMMAND_REBUILD_H_
#define LOTLEDGER_LIBS_COMMAND_REBUILD_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/command/service_core.h"

namespace lotledger::command {

enum class RebuildPhase { kReplaying, kCatchingUp, kVerifying, kSwitched };
const char* RebuildPhaseName(RebuildPhase phase);

struct RebuildProgress {
  RebuildPhase phase = RebuildPhase::kReplaying;
  // Log positions (offsets) applied by the rebuild, summed over the input
  // partitions, and where it must get to (the live projection's offsets).
  int64_t records_applied = 0;
  int64_t records_total = 0;
  absl::Duration elapsed;
  double records_per_second = 0;
  double eta_seconds = 0;  // 0 when unknown or done
  std::string directory;   // the rebuild's
  // With kSwitched:
  std::string old_digest;
  std::string new_digest;
  bool old_healthy = true;
  absl::Duration pause;  // how long the live projector was stopped
};

struct RebuildOptions {
  // The label of the rebuild's events-applied metric
  // (lotledger_events_applied_total{service=...}); "<service>-rebuild".
  std::string metrics_label;
  // Progress is reported at most this often (and at each phase change).
  absl::Duration report_every = absl::Milliseconds(200);
  // The live projector is paused once the rebuild is at most this many
  // records behind it.
  int64_t pause_within = 2048;
};

// Returns false to abandon the rebuild (the caller went away).
using RebuildProgressFn = std::function<bool(const RebuildProgress&)>;

// Runs a whole rebuild of `core`'s projection (see above) and returns the
// final progress (phase kSwitched, with both digests). FailedPrecondition
// when a rebuild of `core` is already running or `core` was stopped;
// Cancelled when `progress` returned false (the rebuild directory is
// deleted and the live projection is untouched); the log's or the
// projector's error otherwise. A digest mismatch is not an error: it is
// logged and reported, and the switch happens (the rebuilt projection is
// the log's truth).
absl::StatusOr<RebuildProgress> RebuildProjection(
    ServiceCore& core, const RebuildOptions& options,
    const RebuildProgressFn& progress);

}  // namespace lotledger::command

#endif  // LOTLEDGER_LIBS_COMMAND_REBUILD_H_
