// ExpirySweeper: raises the inventory service's expiry alerts
// (ExpiryThresholdCrossed, LotExpired) for lots with stock on hand.
//
// Contract: a sweep decides "today" by the injected Clock (in the
// warehouse calendar, kWarehouseUtcOffsetMinutes), finds the lots with
// stock whose expiry lies inside the widest alert window of any product,
// and runs one EvaluateExpiryCommand per lot with an alert due through
// the ordinary command path: durable, chain-hashed, and deduplicated by a
// request id derived from the lot, its expiry and the thresholds due. So
// each alert is written once per lot, threshold and expiry date, also
// across restarts, rebuilds and concurrent sweeps (of this or another
// process). Before deciding, a sweep waits until the projection has
// applied the inventory topic up to its end (options.log), so alerts
// written before a restart are seen. A background thread sweeps every
// options.sweep_interval (the first at Start); SweepExpiry() runs one now
// (tests move a ManualClock, then call it). See docs/inventory.md.
//
// Thread-safety: SweepExpiry and Stop may be called from any thread;
// sweeps run one at a time. Start once, from the owner's thread.
#ifndef LOTLEDGER_SERVICES_INVENTORY_EXPIRY_SWEEPER_H_
#define LOTLEDGER_SERVICES_INVENTORY_EXPIRY_SWEEPER_H_

#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/command/service_core.h"
#include "libs/common/clock.h"
#include "libs/eventlog/event_log.h"
#include "lotledger/v1/events.pb.h"
#include "lotledger/v1/inventory_domain.pb.h"
#include "services/inventory/inventory_projection.h"

namespace lotledger::inventory {

// What one expiry sweep did.
struct SweepResult {
  int lots_checked = 0;   // lots with stock within some alert window
  int alerts_raised = 0;  // events written
};

class ExpirySweeper {
 public:
  struct Options {
    // The log the service writes; null: sweeps decide on the projection
    // as it is (only safe when nothing else writes the topic).
    eventlog::EventLog* log = nullptr;
    // Period of the background sweep; zero: Start runs none.
    absl::Duration sweep_interval = absl::ZeroDuration();
  };
  // Decides an inventory command on the state of `lot_ids` as the
  // projection has it (the service's decision path).
  using DecideFn = std::function<absl::StatusOr<std::vector<v1::Event>>(
      const std::vector<std::string>& lot_ids,
      const v1::InventoryCommand& cmd)>;

  // `core`, `queries` and `clock` outlive the sweeper.
  ExpirySweeper(command::ServiceCore* core, const InventoryQueries* queries,
                const Clock* clock, DecideFn decide, Options options);
  ~ExpirySweeper();  // Stop()

  // Starts the background thread when options.sweep_interval > 0.
  void Start();
  // Raises every expiry alert due today (by the clock) for lots with stock
  // on hand; returns what it did. Cancelled once Stop() was called.
  absl::StatusOr<SweepResult> SweepExpiry();
  // Ends the background thread (a sweep in progress stops at its next
  // lot). Idempotent.
  void Stop();

 private:
  void Loop();
  // Waits until the projection applied the inventory topic to its end.
  absl::Status CatchUp(absl::Time deadline);
  bool Stopping();
  // Sleeps up to `d`; false once Stop() was called.
  bool WaitUnlessStopped(absl::Duration d);

  command::ServiceCore* const core_;
  const InventoryQueries* const queries_;
  const Clock* const clock_;
  const DecideFn decide_;
  const Options options_;

  absl::Mutex sweep_mu_;  // one sweep at a time
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace lotledger::inventory

#endif  // LOTLEDGER_SERVICES_INVENTORY_EXPIRY_SWEEPER_H_
