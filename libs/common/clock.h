// Time sources. Domain code never reads a clock: services read one of these
// and pass the time into commands, so tests can move time instead of
// sleeping. SystemClock is thread-safe; ManualClock is thread-safe too.
#ifndef LOTLEDGER_LIBS_COMMON_CLOCK_H_
#define LOTLEDGER_LIBS_COMMON_CLOCK_H_

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace lotledger {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
  static SystemClock* Get();
};

// A clock that moves only when told to.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(absl::Time start) : now_(start) {}
  absl::Time Now() const override {
    absl::MutexLock l(&mu_);
    return now_;
  }
  void Set(absl::Time t) {
    absl::MutexLock l(&mu_);
    now_ = t;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock l(&mu_);
    now_ += d;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_;
};

}  // namespace lotledger

#endif  // LOTLEDGER_LIBS_COMMON_CLOCK_H_
