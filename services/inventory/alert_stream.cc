#include "services/inventory/alert_stream.h"

#include <algorithm>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"
#include "libs/domain/inventory/gate.h"

namespace lotledger::inventory {
namespace {

// How often an open stream looks for new alerts.
constexpr absl::Duration kPoll = absl::Milliseconds(100);

}  // namespace

AlertStreams::AlertStreams(command::ServiceCore* core,
                           const InventoryQueries* queries)
    : core_(core), queries_(queries) {}

void AlertStreams::Stop() {
  absl::MutexLock l(&mu_);
  stopping_ = true;
}

bool AlertStreams::WaitUnlessStopped(absl::Duration d) {
  absl::MutexLock l(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(&stopping_), d);
  return !stopping_;
}

absl::Status AlertStreams::Serve(
    const grpc::ServerContext& ctx, const v1::WatchAlertsRequest& req,
    grpc::ServerWriter<v1::InventoryAlert>* writer) {
  // The topic as the projector reads it (with the deployment's prefix).
  const std::string& topic = core_->setup().projector.own_topic;
  // Next offset to look at per partition of the inventory topic.
  std::map<int32_t, int64_t> cursor;
  for (const auto& [tp, offset] : core_->projector().Applied()) {
    if (tp.topic == topic) cursor[tp.partition] = offset;
  }
  if (req.resume_after().offsets_size() > 0) {
    for (auto& [p, offset] : cursor) offset = 0;
    for (const v1::TopicOffset& o : req.resume_after().offsets()) {
      if (o.topic() != topic) continue;
      if (o.offset() < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("resume_after.offsets: negative offset ", o.offset()));
      }
      cursor[o.partition()] = o.offset();
    }
  }
  LocationMap locations;
  auto matches = [&](const v1::InventoryAlert& a) -> absl::StatusOr<bool> {
    const bool expired = a.has_expired();
    const std::string& item =
        expired ? a.expired().item() : a.threshold_crossed().item();
    if (!req.item().empty() && item != req.item()) return false;
    if (req.region_id().empty()) return true;
    const auto& stock =
        expired ? a.expired().stock() : a.threshold_crossed().stock();
    for (const v1::LocationStock& s : stock) {
      if (!locations.contains(s.location_id())) {
        locations.clear();
        RETURN_IF_ERROR(queries_->LoadLocations(&locations));
      }
      auto it = locations.find(s.location_id());
      if (it != locations.end() && it->second.region_id() == req.region_id()) {
        return true;
      }
    }
    return false;
  };
  while (!ctx.IsCancelled()) {
    // New alerts of every partition, in record-time order.
    std::vector<std::tuple<int64_t, int32_t, int64_t, v1::InventoryAlert>>
        fresh;
    for (const auto& [p, from] : cursor) {
      const int32_t partition = p;
      RETURN_IF_ERROR(queries_->ScanAlerts(
          partition, from, [&](int64_t offset, const v1::InventoryAlert& a) {
            fresh.emplace_back(a.recorded_at().seconds() * 1000000000 +
                                   a.recorded_at().nanos(),
                               partition, offset, a);
            return true;
          }));
    }
    std::sort(fresh.begin(), fresh.end(), [](const auto& a, const auto& b) {
      return std::tie(std::get<0>(a), std::get<1>(a), std::get<2>(a)) <
             std::tie(std::get<0>(b), std::get<1>(b), std::get<2>(b));
    });
    for (auto& [time, partition, offset, alert] : fresh) {
      cursor[partition] = offset + 1;
      ASSIGN_OR_RETURN(const bool wanted, matches(alert));
      if (!wanted) continue;
      for (const auto& [p, next] : cursor) {
        v1::TopicOffset* o = alert.mutable_position()->add_offsets();
        o->set_topic(topic);
        o->set_partition(p);
        o->set_offset(next);
      }
      // The client went away: the stream is over.
      if (!writer->Write(alert)) return absl::OkStatus();
    }
    if (!WaitUnlessStopped(kPoll)) break;
  }
  return absl::OkStatus();
}

}  // namespace lotledger::inventory
