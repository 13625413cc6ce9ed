// QualityServiceImpl: inspections and signed dispositions
// (proto/lotledger/v1/quality.proto) over the shared command path.
//
// Projection (column families):
//   quality_lots    lot id -> QualityLotState (fed by lots and quality
//                   events, and the recalls whose scope includes the lot)
//   products        item -> Product (for the release-gating policy)
//   by_disposition  disposition (2 digits) \0 lot id -> ""
//   quality_recalls recall id -> RecallStanding (recall topic: open or
//                   closed), for the release gate
//
// Thread-safety: handlers run on many threads; state lives in the
// thread-safe ServiceCore.
#ifndef LOTLEDGER_SERVICES_QUALITY_QUALITY_SERVICE_H_
#define LOTLEDGER_SERVICES_QUALITY_QUALITY_SERVICE_H_

#include "libs/command/service_core.h"
#include "libs/common/clock.h"
#include "libs/server/auth.h"
#include "lotledger/v1/domain.pb.h"
#include "lotledger/v1/quality.grpc.pb.h"

namespace lotledger::quality {

command::ServiceSpec QualityServiceSpec(int32_t partitions);

absl::Status ApplyQualityEvent(const eventlog::Record& record,
                               const v1::Event& event,
                               projection::ProjectionStore::Batch& batch);

class QualityServiceImpl final : public v1::QualityService::Service {
 public:
  QualityServiceImpl(command::ServiceCore* core, const server::Guard* guard,
                     const Clock* clock);

  grpc::Status RecordInspection(grpc::ServerContext* ctx,
                                const v1::RecordInspectionRequest* req,
                                v1::RecordInspectionResponse* resp) override;
  grpc::Status ChangeDisposition(grpc::ServerContext* ctx,
                                 const v1::ChangeDispositionRequest* req,
                                 v1::ChangeDispositionResponse* resp) override;
  grpc::Status GetQualityRecord(grpc::ServerContext* ctx,
                                const v1::GetQualityRecordRequest* req,
                                v1::GetQualityRecordResponse* resp) override;
  grpc::Status ListLotsByDisposition(
      grpc::ServerContext* ctx, const v1::ListLotsByDispositionRequest* req,
      v1::ListLotsByDispositionResponse* resp) override;

 private:
  absl::StatusOr<std::optional<v1::QualityLotState>> FindLot(
      std::string_view lot_id) const;
  absl::StatusOr<v1::QualityRecord> GetRecord(std::string_view lot_id) const;
  // The lot's state; for a release also its whole genealogy and the
  // recalls those lots are in.
  absl::StatusOr<v1::QualityDecisionState> LoadState(const std::string& lot_id,
                                                     bool for_release) const;
  absl::StatusOr<command::CommandResult> RunCommand(
      const grpc::ServerContext& ctx, const server::Principal& principal,
      const std::string& request_id, const v1::ConsistencyToken& after,
      const std::string& lot_id, v1::QualityCommand cmd);

  command::ServiceCore* core_;
  const server::Guard* guard_;
  const Clock* clock_;
};

}  // namespace lotledger::quality

#endif  // LOTLEDGER_SERVICES_QUALITY_QUALITY_SERVICE_H_
