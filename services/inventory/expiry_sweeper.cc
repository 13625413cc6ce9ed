#include "services/inventory/expiry_sweeper.h"

#include <algorithm>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "libs/common/hash.h"
#include "libs/common/json_log.h"
#include "libs/common/proto_time.h"
#include "libs/common/status_macros.h"
#include "libs/domain/inventory/decider.h"
#include "libs/domain/inventory/expiry.h"
#include "libs/domain/inventory/gate.h"

namespace lotledger::inventory {
namespace {

// How often a waiting sweep checks whether the sweeper is stopping.
constexpr absl::Duration kStopCheck = absl::Milliseconds(200);
// The actor of the alerts the sweep writes.
constexpr char kSweepActor[] = "system:expiry-sweep";

}  // namespace

ExpirySweeper::ExpirySweeper(command::ServiceCore* core,
                             const InventoryQueries* queries,
                             const Clock* clock, DecideFn decide,
                             Options options)
    : core_(core),
      queries_(queries),
      clock_(clock),
      decide_(std::move(decide)),
      options_(options) {}

ExpirySweeper::~ExpirySweeper() { Stop(); }

void ExpirySweeper::Start() {
  if (options_.sweep_interval > absl::ZeroDuration() && !thread_.joinable()) {
    thread_ = std::thread([this] { Loop(); });
  }
}

void ExpirySweeper::Stop() {
  {
    absl::MutexLock l(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

bool ExpirySweeper::Stopping() {
  absl::MutexLock l(&mu_);
  return stopping_;
}

bool ExpirySweeper::WaitUnlessStopped(absl::Duration d) {
  absl::MutexLock l(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(&stopping_), d);
  return !stopping_;
}

absl::Status ExpirySweeper::CatchUp(absl::Time deadline) {
  if (options_.log == nullptr) return absl::OkStatus();
  // The topic as the projector reads it (with the deployment's prefix).
  const std::string& topic = core_->setup().projector.own_topic;
  ASSIGN_OR_RETURN(const int32_t partitions,
                   options_.log->PartitionCount(topic));
  eventlog::Offsets target;
  for (int32_t p = 0; p < partitions; ++p) {
    ASSIGN_OR_RETURN(const int64_t end, options_.log->EndOffset(topic, p));
    target[{topic, p}] = end;
  }
  // In short steps, so that Stop() is not held up by a long catch-up.
  while (true) {
    const absl::Time step = std::min(deadline, absl::Now() + kStopCheck);
    absl::Status s = core_->projector().WaitFor(target, step);
    if (s.code() != absl::StatusCode::kDeadlineExceeded || step == deadline) {
      return s;
    }
    if (Stopping()) return absl::CancelledError("the service is stopping");
  }
}

absl::StatusOr<SweepResult> ExpirySweeper::SweepExpiry() {
  absl::MutexLock sweep(&sweep_mu_);
  const absl::Time now = clock_->Now();
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  RETURN_IF_ERROR(CatchUp(deadline));
  google::protobuf::Timestamp now_ts;
  ToTimestamp(now, &now_ts);
  const v1::Date today = BusinessDay(now_ts, kWarehouseUtcOffsetMinutes);
  ASSIGN_OR_RETURN(const auto products, queries_->LoadProducts());
  int64_t widest = 0;
  for (const auto& [item, product] : products) {
    for (int32_t t : product.policy().alert_thresholds_days()) {
      widest = std::max<int64_t>(widest, t);
    }
  }
  const absl::CivilDay last =
      absl::CivilDay(today.year(), today.month(), today.day()) + widest;
  const std::string last_key =
      absl::StrFormat("%04d%02d%02d", last.year(), last.month(), last.day());
  // Lots with stock whose expiry is inside the widest alert window.
  std::vector<std::string> ids;
  RETURN_IF_ERROR(queries_->ScanStockByExpiry(
      [&](std::string_view expiry, std::string_view lot_id) {
        if (expiry > last_key) return false;
        ids.emplace_back(lot_id);
        return true;
      }));
  SweepResult result;
  result.lots_checked = static_cast<int>(ids.size());
  ASSIGN_OR_RETURN(std::vector<v1::LotInventory> lots, queries_->LoadLots(ids));
  for (const v1::LotInventory& lot : lots) {
    if (Stopping()) return absl::CancelledError("the service is stopping");
    auto product = products.find(lot.item());
    const std::vector<v1::Event> due =
        DueExpiryAlerts(lot,
                        product == products.end() ? v1::ShelfLifePolicy()
                                                  : product->second.policy(),
                        today);
    if (due.empty()) continue;
    // The same alerts due for the same expiry get the same request id:
    // however many sweeps (or processes) find them, they are written once.
    std::string request_id =
        absl::StrCat("expiry:", lot.lot_id(), ":", ExpiryKey(lot));
    for (const v1::Event& e : due) {
      absl::StrAppend(&request_id, ":",
                      e.has_lot_expired()
                          ? 0
                          : e.expiry_threshold_crossed().threshold_days());
    }
    if (request_id.size() > 128) {
      request_id =
          absl::StrCat("expiry:", absl::BytesToHexString(Sha256(request_id)));
    }
    v1::InventoryCommand cmd;
    cmd.mutable_evaluate_expiry()->set_lot_id(lot.lot_id());
    ToTimestamp(now, cmd.mutable_now());
    cmd.set_actor(kSweepActor);
    cmd.set_utc_offset_minutes(kWarehouseUtcOffsetMinutes);
    command::CommandContext cc;
    cc.request_id = request_id;
    cc.actor = kSweepActor;
    cc.now = now;
    cc.deadline = deadline;
    const std::vector<std::string> lot_ids = {lot.lot_id()};
    ASSIGN_OR_RETURN(command::CommandResult r,
                     core_->runner().Run(
                         cc, lot_ids, [&]() { return decide_(lot_ids, cmd); }));
    result.alerts_raised += static_cast<int>(r.events.size());
  }
  return result;
}

void ExpirySweeper::Loop() {
  absl::Duration next = options_.sweep_interval;
  do {
    // A standby replica leaves the sweep to the writer (writer_role.h).
    if (!core_->runner().writing()) {
      next = std::min(options_.sweep_interval, absl::Minutes(1));
      continue;
    }
    absl::StatusOr<SweepResult> r = SweepExpiry();
    next = options_.sweep_interval;
    if (!r.ok()) {
      if (Stopping()) return;
      // Typically the projection still catching up after a start: try
      // again soon rather than a whole period later.
      next = std::min(next, absl::Minutes(1));
      // Counts as JSON numbers; the error escaped.
      LogJsonRaw("warn", "expiry sweep failed; retrying",
                 {{"retry_seconds", absl::StrCat(absl::ToInt64Seconds(next))},
                  {"error", JsonString(std::string(r.status().message()))}});
    } else if (r->alerts_raised > 0) {
      LogJsonRaw("info", "expiry sweep",
                 {{"lots_checked", absl::StrCat(r->lots_checked)},
                  {"alerts_raised", absl::StrCat(r->alerts_raised)}});
    }
  } while (WaitUnlessStopped(next));
}

}  // namespace lotledger::inventory
