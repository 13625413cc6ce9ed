// "As of": a lot's state at a past time, folded from the lot's events with
// the services' own Evolve functions (libs/domain/lots, quality,
// inventory), so the audit answers exactly what the services would have
// answered.
//
// Two axes (docs/design.md, "Two clocks"):
//   * record time: the events the log had taken at T (recorded_at <= T):
//     what the system knew then;
//   * business time: the events that had happened in the world by T
//     (occurred_at <= T), including those recorded later. A LotCorrected
//     fixes master data that was wrong since the lot was made, so on this
//     axis it takes effect at the lot's creation (or its own business time
//     when that is earlier).
//
// Thread-safety: pure function.
#ifndef LOTLEDGER_LIBS_AUDIT_AS_OF_H_
#define LOTLEDGER_LIBS_AUDIT_AS_OF_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "lotledger/v1/audit.pb.h"
#include "lotledger/v1/events.pb.h"

namespace lotledger::audit {

// When `event` takes effect on `axis` for the lot `lot_id`, given all of
// that lot's events (to find its creation).
absl::Time EffectiveTime(const v1::Event& event, v1::TimeAxis axis,
                         absl::Time lot_created_business_time);

// Folds the events of `lot_id` (every event that names it, in log order
// per aggregate; any interleaving of topics) up to `at` on `axis`.
v1::LotAsOf FoldAsOf(const std::string& lot_id,
                     const std::vector<v1::Event>& events, absl::Time at,
                     v1::TimeAxis axis);

}  // namespace lotledger::audit

#endif  // LOTLEDGER_LIBS_AUDIT_AS_OF_H_
