// FoldOnce: folds each record of the log into a cache once, however many
// projectors feed it. An in-memory index kept current through a service's
// apply function is fed by the live projector and by an online rebuild's
// projector (libs/command/rebuild.h), which replays records the live one
// already applied; folding a record only if no record of its partition at
// or after its offset was folded before makes that replay change nothing,
// and after the switch the live projector goes on from where it was.
//
// Thread-safety: Fold may be called from several projectors at once; it
// serializes them, and runs `fold` under its lock.
#ifndef LOTLEDGER_LIBS_EVENTLOG_FOLD_ONCE_H_
#define LOTLEDGER_LIBS_EVENTLOG_FOLD_ONCE_H_

#include <cstdint>
#include <functional>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "libs/eventlog/event_log.h"

namespace lotledger::eventlog {

class FoldOnce {
 public:
  // Runs `fold` unless `record`'s position was folded before; a record
  // without a topic (made by a test, not read from a log) always folds.
  // When `fold` fails, the position stays unfolded.
  absl::Status Fold(const Record& record,
                    const std::function<absl::Status()>& fold) {
    absl::MutexLock l(&mu_);
    int64_t* next = nullptr;
    if (!record.topic.empty()) {
      next = &next_[{record.topic, record.partition}];
      if (record.offset < *next) return absl::OkStatus();  // folded before
    }
    if (absl::Status s = fold(); !s.ok()) return s;
    if (next != nullptr) *next = record.offset + 1;
    return absl::OkStatus();
  }

 private:
  absl::Mutex mu_;
  Offsets next_ ABSL_GUARDED_BY(mu_);  // next offset to fold per partition
};

}  // namespace lotledger::eventlog

#endif  // LOTLEDGER_LIBS_EVENTLOG_FOLD_ONCE_H_
