#include "libs/command/rebuild.h"

#include <algorithm>
#include <deque>
#include <filesystem>
#include <map>
#include <set>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "libs/command/projection_check.h"
#include "libs/common/json_log.h"
#include "libs/common/status_macros.h"

namespace lotledger::command {
namespace {

namespace fs = std::filesystem;

int64_t Sum(const eventlog::Offsets& offsets) {
  int64_t sum = 0;
  for (const auto& [tp, offset] : offsets) sum += offset;
  return sum;
}

int64_t At(const eventlog::Offsets& offsets,
           const eventlog::TopicPartition& tp) {
  auto it = offsets.find(tp);
  return it == offsets.end() ? 0 : it->second;
}

// The cores being rebuilt now: one rebuild per core at a time.
absl::Mutex registry_mu(absl::kConstInit);
std::set<const ServiceCore*>& Running()
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(registry_mu) {
  static auto* running = new std::set<const ServiceCore*>();
  return *running;
}

class RunningEntry {
 public:
  explicit RunningEntry(const ServiceCore* core) : core_(core) {}
  bool Claim() {
    absl::MutexLock l(&registry_mu);
    claimed_ = Running().insert(core_).second;
    return claimed_;
  }
  ~RunningEntry() {
    if (!claimed_) return;
    absl::MutexLock l(&registry_mu);
    Running().erase(core_);
  }

 private:
  const ServiceCore* core_;
  bool claimed_ = false;
};

// Feeds a Projector (never Started) from its own reader, applying only
// records below a limit per partition and holding back the rest, so the
// projection it builds stops at exactly the limit.
class LimitedReplay {
 public:
  LimitedReplay(Projector* projector, std::unique_ptr<eventlog::LogReader> r)
      : projector_(projector), reader_(std::move(r)) {}

  // Applies what is below `limit`: held-back records first, then one poll
  // of the log (waiting up to `timeout` for records).
  absl::Status Step(const eventlog::Offsets& limit, absl::Duration timeout) {
    eventlog::PollResult batch;
    size_t held = 0;
    for (auto& [tp, queue] : held_) {
      const int64_t lim = At(limit, tp);
      while (!queue.empty() && queue.front().offset < lim) {
        batch.records.push_back(std::move(queue.front()));
        queue.pop_front();
      }
      held += queue.size();
    }
    // Held-back records are the ones the live projector has not applied
    // yet (milliseconds of lag); bound them anyway.
    if (held < kMaxHeld) {
      ASSIGN_OR_RETURN(eventlog::PollResult polled,
                       reader_->Poll(kMaxBatch, timeout));
      for (eventlog::Record& r : polled.records) {
        const eventlog::TopicPartition tp{r.topic, r.partition};
        std::deque<eventlog::Record>& queue = held_[tp];
        if (queue.empty() && r.offset < At(limit, tp)) {
          batch.records.push_back(std::move(r));
        } else {
          queue.push_back(std::move(r));
        }
      }
      for (const auto& [tp, next] : polled.next_offsets)
        reader_next_[tp] = next;
    } else {
      absl::SleepFor(timeout);  // until the live projector moves on
    }
    // Every record of a partition below this has been applied: the first
    // held-back record is at or past the limit, and the reader's position
    // may run past transaction markers.
    for (const auto& [tp, next] : reader_next_) {
      batch.next_offsets[tp] = std::min(next, At(limit, tp));
    }
    return projector_->ApplyPolled(batch);
  }

  // Whether every partition of `limit` is applied up to it.
  bool Reached(const eventlog::Offsets& limit) const {
    const eventlog::Offsets applied = projector_->Applied();
    for (const auto& [tp, offset] : limit) {
      if (At(applied, tp) < offset) return false;
    }
    return true;
  }

 private:
  static constexpr size_t kMaxBatch = 2048;
  static constexpr size_t kMaxHeld = 100000;
  Projector* projector_;
  std::unique_ptr<eventlog::LogReader> reader_;
  std::map<eventlog::TopicPartition, std::deque<eventlog::Record>> held_;
  eventlog::Offsets reader_next_;
};

// Where a rebuild of the projection at `live` goes: `<live>.rebuild-<n>`,
// n one more than any such directory. Leftovers of an abandoned rebuild
// (any such directory no `<live>*` link leads to) are deleted; a link
// other than `<live>` is a damaged projection moved aside at start
// (projection_check.h), kept for an operator together with its target.
absl::StatusOr<fs::path> NextDirectory(const fs::path& live) {
  const fs::path parent = live.parent_path();
  const std::string base = live.filename().string();
  const std::string prefix = base + ".rebuild-";
  std::error_code ec;
  std::set<std::string> linked;
  int64_t max = 0;
  std::vector<fs::path> candidates;
  for (const fs::directory_entry& e : fs::directory_iterator(parent, ec)) {
    const std::string name = e.path().filename().string();
    if (!name.starts_with(base)) continue;
    std::error_code link_ec;
    if (fs::is_symlink(e.path(), link_ec)) {
      linked.insert(fs::read_symlink(e.path(), link_ec).filename().string());
      continue;
    }
    int64_t n = 0;
    if (!name.starts_with(prefix) ||
        !absl::SimpleAtoi(name.substr(prefix.size()), &n)) {
      continue;
    }
    max = std::max(max, n);
    candidates.push_back(e.path());
  }
  std::vector<fs::path> stale;
  for (const fs::path& p : candidates) {
    if (!linked.contains(p.filename().string())) stale.push_back(p);
  }
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("listing ", parent.string(), ": ", ec.message()));
  }
  for (const fs::path& p : stale) {
    LogJsonRaw("warn", "deleting an abandoned projection rebuild",
               {{"directory", JsonString(p.string())}});
    RETURN_IF_ERROR(projection::ProjectionStore::Destroy(p.string()));
  }
  return parent / absl::StrCat(prefix, max + 1);
}

// Makes `live` lead to `rebuilt` (a sibling) and returns the directory it
// led to before, to delete. `live` is a symbolic link after the first
// rebuild; the first time it is the original directory, which is moved
// aside. Replacing a link is one rename, so a crash leaves `live` leading
// to one complete projection or the other; a crash between the two
// renames of the first switch leaves no `live`, and the restart replays
// the log from offset 0 (a projection is a cache).
absl::StatusOr<fs::path> PointAt(const fs::path& live,
                                 const fs::path& rebuilt) {
  const fs::path parent = live.parent_path();
  const std::string base = live.filename().string();
  const fs::path link = parent / (base + ".switching");
  std::error_code ec;
  auto failed = [&](const std::string& what) {
    return absl::UnavailableError(absl::StrCat(what, ": ", ec.message()));
  };
  fs::remove(link, ec);
  ec.clear();
  fs::create_directory_symlink(rebuilt.filename(), link, ec);
  if (ec) return failed(absl::StrCat("linking ", link.string()));
  fs::path old;
  if (fs::is_symlink(live, ec)) {
    old = parent / fs::read_symlink(live, ec);
  } else {
    old = parent / (base + ".old");
    fs::remove_all(old, ec);
    ec.clear();
    fs::rename(live, old, ec);
    if (ec) return failed(absl::StrCat("moving ", live.string(), " aside"));
  }
  fs::rename(link, live, ec);
  if (ec) return failed(absl::StrCat("renaming ", link.string()));
  return old;
}

}  // namespace

const char* RebuildPhaseName(RebuildPhase phase) {
  switch (phase) {
    case RebuildPhase::kReplaying:
      return "replaying";
    case RebuildPhase::kCatchingUp:
      return "catching_up";
    case RebuildPhase::kVerifying:
      return "verifying";
    case RebuildPhase::kSwitched:
      return "switched";
  }
  return "unknown";
}

absl::StatusOr<RebuildProgress> RebuildProjection(
    ServiceCore& core, const RebuildOptions& options,
    const RebuildProgressFn& progress) {
  const ServiceCore::Setup& setup = core.setup();
  const std::string service = setup.projector.service;
  RunningEntry entry(&core);
  if (!entry.Claim()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "a rebuild of the ", service, " projection is already running"));
  }
  const fs::path live(setup.store.path);
  ASSIGN_OR_RETURN(const fs::path dir, NextDirectory(live));
  const absl::Time start = absl::Now();
  RebuildProgress p;
  p.directory = dir.string();
  p.old_healthy = core.projector().health().ok();
  LogJsonRaw("info", "projection rebuild started",
             {{"service", JsonString(service)},
              {"directory", JsonString(p.directory)},
              {"live_healthy", p.old_healthy ? "true" : "false"}});

  projection::ProjectionStore::Options store_options = setup.store;
  store_options.path = dir.string();
  {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
      return absl::UnavailableError(
          absl::StrCat("creating ", dir.string(), ": ", ec.message()));
    }
  }
  ASSIGN_OR_RETURN(std::unique_ptr<projection::ProjectionStore> store,
                   projection::ProjectionStore::Open(store_options));
  RETURN_IF_ERROR(StampProjectionFormat(*store, setup.projection_format));
  ProjectorOptions po = setup.projector;
  po.service = options.metrics_label.empty() ? service + "-rebuild"
                                             : options.metrics_label;
  auto projector = std::make_unique<Projector>(setup.log, store.get(),
                                               std::move(po), setup.apply);
  eventlog::Offsets zero;
  for (const std::string& topic : setup.projector.input_topics) {
    ASSIGN_OR_RETURN(const int32_t parts, setup.log->PartitionCount(topic));
    for (int32_t i = 0; i < parts; ++i) zero[{topic, i}] = 0;
  }
  std::unique_ptr<eventlog::LogReader> reader;
  {
    absl::StatusOr<std::unique_ptr<eventlog::LogReader>> r =
        setup.log->OpenReader(zero);
    if (!r.ok()) return r.status();
    reader = *std::move(r);
  }
  LimitedReplay replay(projector.get(), std::move(reader));

  // Abandons the rebuild: the live projection stays as it was.
  auto abandon = [&](absl::Status why) {
    projector.reset();
    store.reset();
    projection::ProjectionStore::Destroy(dir.string()).IgnoreError();
    LogJsonRaw("warn", "projection rebuild abandoned",
               {{"service", JsonString(service)},
                {"error", JsonString(std::string(why.message()))}});
    return why;
  };
  // The target: the live projection's position, or, when its projector
  // stopped on an error, the log's end.
  auto target = [&]() -> absl::StatusOr<eventlog::Offsets> {
    if (p.old_healthy) return core.projector().Applied();
    eventlog::Offsets end;
    for (const auto& [tp, unused] : zero) {
      ASSIGN_OR_RETURN(end[tp], setup.log->EndOffset(tp.topic, tp.partition));
    }
    return end;
  };
  absl::Time last_report = absl::InfinitePast();
  auto report = [&](const eventlog::Offsets& limit, bool force) {
    const absl::Time now = absl::Now();
    if (!force && now - last_report < options.report_every) return true;
    last_report = now;
    // After the switch the rebuild's projector is gone: it reached `limit`.
    p.records_applied =
        projector != nullptr ? Sum(projector->Applied()) : Sum(limit);
    p.records_total = Sum(limit);
    p.elapsed = now - start;
    const double seconds = absl::ToDoubleSeconds(p.elapsed);
    p.records_per_second = seconds > 0 ? p.records_applied / seconds : 0;
    const int64_t left =
        std::max<int64_t>(0, p.records_total - p.records_applied);
    p.eta_seconds =
        p.records_per_second > 0 && left > 0 ? left / p.records_per_second : 0;
    return progress(p);
  };

  // 1. Replay up to (near) the live projection while it serves.
  absl::StatusOr<eventlog::Offsets> limit = target();
  if (!limit.ok()) return abandon(limit.status());
  if (!report(*limit, true)) return abandon(absl::CancelledError("cancelled"));
  while (true) {
    absl::Status s = replay.Step(*limit, absl::Milliseconds(50));
    if (s.ok()) s = projector->health();
    if (!s.ok()) return abandon(s);
    limit = target();
    if (!limit.ok()) return abandon(limit.status());
    if (!report(*limit, false)) {
      return abandon(absl::CancelledError("cancelled"));
    }
    if (Sum(*limit) - Sum(projector->Applied()) <= options.pause_within) break;
  }

  // 2. Pause the live projector and catch up to exactly its offsets.
  absl::ReleasableMutexLock lifecycle(&core.lifecycle_mu());
  if (core.stopped()) {
    return abandon(absl::FailedPreconditionError(
        absl::StrCat("the ", service, " service is shutting down")));
  }
  const absl::Time paused = absl::Now();
  core.projector().Stop();
  auto resume = [&](absl::Status why) {
    absl::Status started = core.projector().Start();
    if (!started.ok()) {
      LogJsonRaw("error", "projector did not start again after a rebuild",
                 {{"service", JsonString(service)},
                  {"error", JsonString(std::string(started.message()))}});
    }
    return abandon(why);
  };
  limit = target();
  if (!limit.ok()) return resume(limit.status());
  p.phase = RebuildPhase::kCatchingUp;
  if (!report(*limit, true)) return resume(absl::CancelledError("cancelled"));
  while (!replay.Reached(*limit)) {
    absl::Status s = replay.Step(*limit, absl::Milliseconds(10));
    if (s.ok()) s = projector->health();
    if (!s.ok()) return resume(s);
    if (!report(*limit, false)) {
      return resume(absl::CancelledError("cancelled"));
    }
  }

  // 3. Both projections are at `limit` now and nothing writes either:
  // pin that point for the digests, then switch queries and the projector
  // to the new database. Commands flow again after this.
  std::function<absl::StatusOr<std::string>()> old_digest_fn =
      core.store().DigestLater();
  std::function<absl::StatusOr<std::string>()> new_digest_fn =
      store->DigestLater();
  projector.reset();
  absl::Notification old_closed;
  core.store().SwapIn(*store, &old_closed);
  store.reset();
  absl::Status started = core.projector().Start();
  p.pause = absl::Now() - paused;
  lifecycle.Release();
  if (!started.ok()) {
    LogJsonRaw("error", "projector did not start on the rebuilt projection",
               {{"service", JsonString(service)},
                {"error", JsonString(std::string(started.message()))}});
  }

  // 4. Verify while serving: both digests of the switch point, in
  // parallel. Not abandonable any more: the new projection serves.
  p.phase = RebuildPhase::kVerifying;
  report(*limit, true);
  absl::StatusOr<std::string> old_digest;
  std::thread old_thread([&old_digest, &old_digest_fn] {
    old_digest = old_digest_fn();
    old_digest_fn = nullptr;  // lets the old database close
  });
  absl::StatusOr<std::string> new_digest = new_digest_fn();
  new_digest_fn = nullptr;
  old_thread.join();
  p.new_digest = new_digest.ok() ? *new_digest : "";
  p.old_digest = old_digest.ok() ? *old_digest : "";
  if (!new_digest.ok() || p.old_digest != p.new_digest) {
    LogJsonRaw(p.old_healthy ? "error" : "warn",
               p.old_healthy
                   ? "projection rebuild: digests differ, the live "
                     "projection had drifted from the log; the rebuilt "
                     "one serves now"
                   : "projection rebuild: digests differ (the live "
                     "projector had stopped on an error)",
               {{"service", JsonString(service)},
                {"old_digest", JsonString(p.old_digest)},
                {"new_digest", JsonString(p.new_digest)}});
  }

  // 5. The directory: once the old database is closed, <dir> leads to the
  // new one and the old one goes. Until then a restart opens the old
  // projection and catches up from its offsets.
  old_closed.WaitForNotification();
  absl::StatusOr<fs::path> old_dir = PointAt(live, dir);
  p.phase = RebuildPhase::kSwitched;
  p.records_applied = Sum(*limit);
  p.records_total = Sum(*limit);
  p.elapsed = absl::Now() - start;
  p.records_per_second =
      p.records_applied / std::max(1e-9, absl::ToDoubleSeconds(p.elapsed));
  p.eta_seconds = 0;
  if (!started.ok()) return started;
  if (!new_digest.ok()) return new_digest.status();
  if (!old_dir.ok()) {
    LogJsonRaw(
        "error", "projection rebuild: switched, but the directory was not",
        {{"service", JsonString(service)},
         {"error", JsonString(std::string(old_dir.status().message()))}});
    return old_dir.status();
  }
  std::error_code ec;
  fs::remove_all(*old_dir, ec);
  if (ec) {
    LogJsonRaw("warn", "projection rebuild: the old projection was not deleted",
               {{"directory", JsonString(old_dir->string())},
                {"error", JsonString(std::string(ec.message()))}});
  }
  LogJsonRaw(
      "info", "projection rebuild switched",
      {{"service", JsonString(service)},
       {"directory", JsonString(p.directory)},
       {"records", absl::StrCat(p.records_applied)},
       {"seconds", absl::StrCat(absl::ToDoubleSeconds(p.elapsed))},
       {"records_per_second", absl::StrCat(p.records_per_second)},
       {"pause_ms", absl::StrCat(absl::ToInt64Milliseconds(p.pause))},
       {"digests_match", p.old_digest == p.new_digest ? "true" : "false"},
       {"old_digest", JsonString(p.old_digest)},
       {"new_digest", JsonString(p.new_digest)}});
  progress(p);
  return p;
}

}  // namespace lotledger::command
