// AlertStreams: the inventory service's WatchAlerts streams.
//
// Contract: a stream sends the expiry alerts the projection holds for the
// inventory topic, merged across its partitions in record-time order
// (ties by partition, then offset), filtered by the request's item and
// region, each with its position: the next offset of every partition, so
// a client resumes after the last alert it saw (resume_after; without it
// the stream starts at what the projection has applied, i.e. new alerts
// only). It polls the projection every 100 ms, and ends when the client
// cancels or goes away, or when Stop() is called (before the gRPC server
// shuts down, so open streams do not hold it up).
//
// Thread-safety: Serve runs on many gRPC threads at once (one per stream);
// Stop may be called from any thread and ends them all.
#ifndef LOTLEDGER_SERVICES_INVENTORY_ALERT_STREAM_H_
#define LOTLEDGER_SERVICES_INVENTORY_ALERT_STREAM_H_

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/sync_stream.h>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/command/service_core.h"
#include "lotledger/v1/inventory.pb.h"
#include "services/inventory/inventory_projection.h"

namespace lotledger::inventory {

class AlertStreams {
 public:
  // `core` and `queries` outlive this object.
  AlertStreams(command::ServiceCore* core, const InventoryQueries* queries);

  // Streams alerts to `writer` until the client or Stop() ends it.
  // InvalidArgument for a negative resume offset.
  absl::Status Serve(const grpc::ServerContext& ctx,
                     const v1::WatchAlertsRequest& req,
                     grpc::ServerWriter<v1::InventoryAlert>* writer);

  // Ends every stream (open and future). Idempotent.
  void Stop();

 private:
  // Sleeps up to `d`; false once Stop() was called.
  bool WaitUnlessStopped(absl::Duration d);

  command::ServiceCore* const core_;
  const InventoryQueries* const queries_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace lotledger::inventory

#endif  // LOTLEDGER_SERVICES_INVENTORY_ALERT_STREAM_H_
