// RecallServiceImpl: the gRPC face of the recall service
// (proto/lotledger/v1/recall.proto). Commands go through the shared
// command path (libs/command); the rules are the pure recall::Decide
// (libs/domain/recall); scope and impact are answered from the in-memory
// recall index (recall_index.h), which the service's apply function keeps
// current and the constructor loads from the projection before the service
// serves; without it (not loaded, or LOTLEDGER_GENEALOGY_INDEX=off) from
// the projection (recall_projection.h) with the domain's ComputeScope /
// ComputeImpact; reports are rendered by recall_report.h. Registers the gauge
// lotledger_recalls_open in metrics::Default() while it lives.
//
// A reactor thread records the lots made later from lots in the scope of
// an open recall that includes derived lots (the projection's pending
// lots, docs/recall.md "Lots made later"): for each lot and recall one
// extend_scope command through the normal command runner, under a request
// id derived from the recall and lot ids, so a lot is written into a
// recall's scope once however often the reactor (or another process)
// retries, also across restarts.
//
// Thread-safety: gRPC calls the handlers from many threads at once; all
// state is in the ServiceCore, which is thread-safe. ExtendScopes may be
// called from any thread (calls are serialized).
#ifndef LOTLEDGER_SERVICES_RECALL_RECALL_SERVICE_H_
#define LOTLEDGER_SERVICES_RECALL_RECALL_SERVICE_H_

#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "libs/command/service_core.h"
#include "libs/common/clock.h"
#include "libs/metrics/metrics.h"
#include "libs/server/auth.h"
#include "lotledger/v1/recall.grpc.pb.h"
#include "lotledger/v1/recall_domain.pb.h"
#include "services/recall/recall_projection.h"

namespace lotledger::recall {

// What the recall service is made of: its topic, inputs (lots and
// inventory topics) and projection.
// Its apply function (IndexedRecallApply) holds a new recall index.
command::ServiceSpec RecallServiceSpec(int32_t partitions);

// The recall index the apply function of `core` feeds (a core opened with
// RecallServiceSpec); null for a core opened with another function.
std::shared_ptr<RecallIndex> RecallIndexOf(const command::ServiceCore& core);

class RecallServiceImpl final : public v1::RecallService::Service {
 public:
  // Loads the core's recall index from the projection (RecallIndexOf; a
  // failure is logged and scope and impact read RocksDB instead). Env
  // LOTLEDGER_GENEALOGY_INDEX=off leaves it unloaded (to compare the two,
  // e.g. in the recall_drill bench).
  RecallServiceImpl(command::ServiceCore* core, const server::Guard* guard,
                    const Clock* clock);
  ~RecallServiceImpl() override;  // stops the reactor

  // One pass of the reactor: an extend_scope command for every lot waiting
  // to join a recall's scope. Returns how many lots were recorded. A lot
  // the rules refuse (the recall closed meanwhile) is logged and not tried
  // again by this process.
  absl::StatusOr<int> ExtendScopes();

  grpc::Status Initiate(grpc::ServerContext* ctx,
                        const v1::InitiateRequest* req,
                        v1::InitiateResponse* resp) override;
  grpc::Status GetRecall(grpc::ServerContext* ctx,
                         const v1::GetRecallRequest* req,
                         v1::GetRecallResponse* resp) override;
  grpc::Status ListRecalls(grpc::ServerContext* ctx,
                           const v1::ListRecallsRequest* req,
                           v1::ListRecallsResponse* resp) override;
  grpc::Status AnalyzeImpact(grpc::ServerContext* ctx,
                             const v1::AnalyzeImpactRequest* req,
                             v1::AnalyzeImpactResponse* resp) override;
  grpc::Status GenerateNotifications(
      grpc::ServerContext* ctx, const v1::GenerateNotificationsRequest* req,
      v1::GenerateNotificationsResponse* resp) override;
  grpc::Status ListNotifications(grpc::ServerContext* ctx,
                                 const v1::ListNotificationsRequest* req,
                                 v1::ListNotificationsResponse* resp) override;
  grpc::Status RecordResponse(grpc::ServerContext* ctx,
                              const v1::RecordResponseRequest* req,
                              v1::RecordResponseResponse* resp) override;
  grpc::Status GetEffectiveness(grpc::ServerContext* ctx,
                                const v1::GetEffectivenessRequest* req,
                                v1::GetEffectivenessResponse* resp) override;
  grpc::Status CloseRecall(grpc::ServerContext* ctx,
                           const v1::CloseRecallRequest* req,
                           v1::CloseRecallResponse* resp) override;
  grpc::Status RunDrill(grpc::ServerContext* ctx,
                        const v1::RunDrillRequest* req,
                        v1::RunDrillResponse* resp) override;
  grpc::Status GetReport(grpc::ServerContext* ctx,
                         const v1::GetReportRequest* req,
                         v1::GetReportResponse* resp) override;

 private:
  // The scope of `criteria` and its impact, over the projection as it is.
  // By serial: the item must be tracked by serial; the serials' lots (the
  // projection's register) are walked as listed lots, then marked
  // SCOPE_REASON_SERIAL_LISTED with their serials.
  absl::Status ScopeAndImpact(const v1::RecallCriteria& criteria,
                              ScopeList* scope, v1::RecallImpact* impact) const;
  // The impact now of a recorded scope, into `impact`.
  absl::Status ImpactOf(const ScopeList& scope, v1::RecallImpact* impact) const;
  // Refines a lot-level impact of `scope` with the serial detail of its
  // serialised lots (ApplySerialDetail); reads nothing more while no
  // product is tracked by serial.
  absl::Status AddSerialDetail(const ScopeList& scope,
                               v1::RecallImpact* impact) const;
  // Loads the recall (and its impact now) and decides `cmd` on it.
  absl::StatusOr<std::vector<v1::Event>> DecideOnRecall(
      const std::string& recall_id, const v1::RecallCommand& cmd) const;
  // Runs `decide` as a command on `aggregate` for the caller.
  absl::StatusOr<command::CommandResult> RunCommand(
      const grpc::ServerContext& ctx, const server::Principal& principal,
      const std::string& request_id, const v1::ConsistencyToken& after,
      const std::string& aggregate, const command::DecideFn& decide);
  v1::RecallCommand NewCommand(const server::Principal& principal) const;
  // Waits for `after`, then loads the recall and its effectiveness now.
  absl::StatusOr<v1::Effectiveness> EffectivenessOf(const v1::Recall& recall,
                                                    int days) const;

  void ReactorLoop();

  command::ServiceCore* core_;
  const server::Guard* guard_;
  const Clock* clock_;
  RecallQueries queries_;
  std::shared_ptr<const RecallIndex> index_;  // loaded, or null
  // lotledger_recalls_open: recalls not closed, counted at each scrape.
  metrics::CallbackGauge open_recalls_;

  absl::Mutex reactor_mu_;  // serializes ExtendScopes
  // "<recall id>\0<lot id>" the rules refused: not tried again.
  std::set<std::string> given_up_ ABSL_GUARDED_BY(reactor_mu_);
  absl::Mutex stop_mu_;
  bool stopping_ ABSL_GUARDED_BY(stop_mu_) = false;
  std::thread reactor_;
};

}  // namespace lotledger::recall

#endif  // LOTLEDGER_SERVICES_RECALL_RECALL_SERVICE_H_
