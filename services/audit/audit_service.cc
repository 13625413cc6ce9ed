#include "services/audit/audit_service.h"

#include <algorithm>
#include <optional>
#include <set>
#include <tuple>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "libs/audit/describe.h"
#include "libs/audit/epcis.h"
#include "libs/audit/serial_history.h"
#include "libs/audit/topics.h"
#include "libs/common/proto_time.h"
#include "libs/common/status_macros.h"
#include "libs/domain/serials/serials.h"
#include "libs/eventlog/record_codec.h"
#include "libs/server/rpc.h"

namespace lotledger::audit {
namespace {

std::string Method(const char* name) {
  return absl::StrCat("/lotledger.v1.AuditService/", name);
}

// GetLotHistory's page bounds (audit.proto).
constexpr int kDefaultHistoryPage = 200;
constexpr int kMaxHistoryPage = 1000;
constexpr size_t kHistoryPageBytes = 2 << 20;

// "h1.<business ns>.<record ns>.<partition>.<offset>.<topic>", base64
// (web-safe): opaque to clients, and the topic may hold dots, so it comes
// last.
std::string HistoryPageToken(const HistoryPosition& p) {
  const auto& [business, recorded, topic, partition, offset] = p;
  return absl::WebSafeBase64Escape(absl::StrCat(
      "h1.", business, ".", recorded, ".", partition, ".", offset, ".", topic));
}

absl::StatusOr<HistoryPosition> ParseHistoryPageToken(
    const std::string& token) {
  const auto bad = [] {
    return absl::InvalidArgumentError(
        "page_token: not a token GetLotHistory gave; pass next_page_token "
        "as received, or none for the first page");
  };
  std::string text;
  if (!absl::WebSafeBase64Unescape(token, &text)) return bad();
  std::vector<std::string> parts =
      absl::StrSplit(text, absl::MaxSplits('.', 5));
  HistoryPosition p;
  auto& [business, recorded, topic, partition, offset] = p;
  if (parts.size() != 6 || parts[0] != "h1" ||
      !absl::SimpleAtoi(parts[1], &business) ||
      !absl::SimpleAtoi(parts[2], &recorded) ||
      !absl::SimpleAtoi(parts[3], &partition) ||
      !absl::SimpleAtoi(parts[4], &offset) || parts[5].empty()) {
    return bad();
  }
  topic = parts[5];
  return p;
}

// The scope a request names: its lot and how much of its genealogy.
template <typename Request>
Scope ScopeOf(const Request& req) {
  Scope scope;
  scope.lot_id = req.lot_id();
  scope.include_components = req.include_components();
  scope.include_derived = req.include_derived();
  scope.depth = req.depth();
  return scope;
}

}  // namespace

AuditServiceImpl::AuditServiceImpl(command::ServiceCore* core,
                                   const server::Guard* guard,
                                   std::string topic_prefix)
    : core_(core),
      guard_(guard),
      topic_prefix_(std::move(topic_prefix)),
      index_(&core->store()) {}

absl::StatusOr<std::vector<ScopedRecord>> AuditServiceImpl::LoadScope(
    const grpc::ServerContext& ctx, Scope scope,
    const v1::ConsistencyToken& after) const {
  if (scope.lot_id.empty())
    return absl::InvalidArgumentError("lot_id: required");
  if (scope.depth < 0 || scope.depth > 100) {
    return absl::InvalidArgumentError(
        absl::StrCat("depth: must be 0..100 (0 means 10), got ", scope.depth));
  }
  if (scope.depth == 0) scope.depth = 10;
  RETURN_IF_ERROR(server::WaitForToken(core_->projector(), ctx, after));
  RETURN_IF_ERROR(core_->projector().health());
  return index_.History(scope);
}

v1::HistoryEntry AuditServiceImpl::ToEntry(ScopedRecord r) const {
  v1::Event& e = r.rec.event;
  v1::HistoryEntry h;
  h.set_lot_id(std::move(r.lot_id));
  h.set_relation(r.relation);
  h.set_topic(StripPrefix(r.rec.topic, topic_prefix_));
  h.set_partition(r.rec.partition);
  h.set_offset(r.rec.offset);
  h.set_seq(r.rec.seq);
  h.set_aggregate_id(e.aggregate_id());
  h.set_event_type(eventlog::EventType(e));
  ToTimestamp(BusinessTime(e), h.mutable_occurred_at());
  *h.mutable_recorded_at() = e.recorded_at();
  h.set_actor(e.actor());
  h.set_description(Describe(e));
  h.set_reason(Reason(e));
  h.set_request_id(e.request_id());
  h.set_correlation_id(e.correlation_id());
  h.set_causation_id(e.causation_id());
  h.set_hash(std::move(r.rec.hash));
  *h.mutable_event() = std::move(e);
  return h;
}

absl::StatusOr<std::vector<ScopedRecord>> AuditServiceImpl::LoadHistory(
    const grpc::ServerContext& ctx, const v1::LotHistoryRequest& req,
    const std::optional<HistoryPosition>& page_after, size_t page_limit) const {
  if (!req.serial().empty()) {
    RETURN_IF_ERROR(domain::ValidateSerial(req.serial(), "serial"));
    if (req.include_components() || req.include_derived()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "serial: not with ",
          req.include_components() ? "include_components" : "include_derived",
          ": a serial names a unit of the requested lot only"));
    }
  }
  Scope scope = ScopeOf(req);
  scope.after = page_after;
  scope.limit = req.serial().empty() ? page_limit : 0;
  ASSIGN_OR_RETURN(std::vector<ScopedRecord> records,
                   LoadScope(ctx, std::move(scope), req.after()));
  if (!req.serial().empty()) {
    std::erase_if(records, [&](const ScopedRecord& r) {
      return !InSerialHistory(r.rec.event, req.lot_id(), req.serial());
    });
  }
  return records;
}

grpc::Status AuditServiceImpl::LotHistory(
    grpc::ServerContext* ctx, const v1::LotHistoryRequest* req,
    grpc::ServerWriter<v1::HistoryEntry>* out) {
  return server::Serve(
      *guard_, *ctx, Method("LotHistory"),
      [&](const server::Principal&) -> absl::Status {
        ASSIGN_OR_RETURN(std::vector<ScopedRecord> records,
                         LoadHistory(*ctx, *req));
        for (ScopedRecord& r : records) {
          if (!out->Write(ToEntry(std::move(r)))) {
            return absl::CancelledError("the client went away");
          }
        }
        return absl::OkStatus();
      });
}

grpc::Status AuditServiceImpl::GetLotHistory(
    grpc::ServerContext* ctx, const v1::GetLotHistoryRequest* req,
    v1::GetLotHistoryResponse* resp) {
  return server::Serve(
      *guard_, *ctx, Method("GetLotHistory"),
      [&](const server::Principal&) -> absl::Status {
        if (req->page_size() < 0 || req->page_size() > kMaxHistoryPage) {
          return absl::InvalidArgumentError(absl::StrCat(
              "page_size: must be 0..", kMaxHistoryPage, " (0 means ",
              kDefaultHistoryPage, "), got ", req->page_size()));
        }
        const size_t page_size = req->page_size() == 0
                                     ? kDefaultHistoryPage
                                     : static_cast<size_t>(req->page_size());
        std::optional<HistoryPosition> after;
        if (!req->page_token().empty()) {
          ASSIGN_OR_RETURN(after, ParseHistoryPageToken(req->page_token()));
        }
        // One more than the page: it tells whether another page follows.
        ASSIGN_OR_RETURN(
            std::vector<ScopedRecord> records,
            LoadHistory(*ctx, req->history(), after, page_size + 1));
        auto it = records.begin();
        if (after.has_value()) {
          it = std::upper_bound(
              records.begin(), records.end(), *after,
              [](const HistoryPosition& p, const ScopedRecord& r) {
                return p < PositionOf(r.rec);
              });
        }
        size_t bytes = 0;
        HistoryPosition last;
        for (; it != records.end(); ++it) {
          if (resp->entries_size() > 0 &&
              (static_cast<size_t>(resp->entries_size()) >= page_size ||
               bytes >= kHistoryPageBytes)) {
            resp->set_next_page_token(HistoryPageToken(last));
            break;
          }
          last = PositionOf(it->rec);
          v1::HistoryEntry* entry = resp->add_entries();
          *entry = ToEntry(std::move(*it));
          bytes += entry->ByteSizeLong();
        }
        return absl::OkStatus();
      });
}

grpc::Status AuditServiceImpl::VerifyLot(grpc::ServerContext* ctx,
                                         const v1::VerifyLotRequest* req,
                                         v1::VerifyLotResponse* resp) {
  return server::Serve(
      *guard_, *ctx, Method("VerifyLot"),
      [&](const server::Principal&) -> absl::Status {
        ASSIGN_OR_RETURN(std::vector<ScopedRecord> records,
                         LoadScope(*ctx, ScopeOf(*req), req->after()));
        ASSIGN_OR_RETURN(*resp, index_.VerifyChains(records, topic_prefix_));
        return absl::OkStatus();
      });
}

grpc::Status AuditServiceImpl::AsOf(grpc::ServerContext* ctx,
                                    const v1::AsOfRequest* req,
                                    v1::AsOfResponse* resp) {
  return server::Serve(
      *guard_, *ctx, Method("AsOf"),
      [&](const server::Principal&) -> absl::Status {
        if (!req->has_at()) return absl::InvalidArgumentError("at: required");
        if (!v1::TimeAxis_IsValid(req->axis())) {
          return absl::InvalidArgumentError(
              "axis: must be TIME_AXIS_BUSINESS or TIME_AXIS_RECORD");
        }
        const v1::TimeAxis axis = req->axis() == v1::TIME_AXIS_UNSPECIFIED
                                      ? v1::TIME_AXIS_BUSINESS
                                      : req->axis();
        // Only the records that can count by `at` are decoded (Scope).
        Scope scope;
        scope.lot_id = req->lot_id();
        const Scope::AsOfBound bound{.at = FromTimestamp(req->at()),
                                     .axis = axis};
        scope.as_of = bound;
        ASSIGN_OR_RETURN(std::vector<ScopedRecord> records,
                         LoadScope(*ctx, std::move(scope), req->after()));
        *resp->mutable_state() =
            FoldScope(req->lot_id(), std::move(records), bound);
        return absl::OkStatus();
      });
}

grpc::Status AuditServiceImpl::ExportEpcis(grpc::ServerContext* ctx,
                                           const v1::ExportEpcisRequest* req,
                                           v1::ExportEpcisResponse* resp) {
  return server::Serve(
      *guard_, *ctx, Method("ExportEpcis"),
      [&](const server::Principal&) -> absl::Status {
        ASSIGN_OR_RETURN(std::vector<ScopedRecord> records,
                         LoadScope(*ctx, ScopeOf(*req), req->after()));
        std::vector<v1::Event> events;
        std::set<std::string> lots;
        for (const ScopedRecord& r : records) {
          events.push_back(r.rec.event);
          lots.insert(r.lot_id);
        }
        EpcisExport doc = ToEpcisDocument(events, lots, absl::Now());
        resp->set_document(std::move(doc.document));
        resp->set_event_count(doc.events);
        return absl::OkStatus();
      });
}

}  // namespace lotledger::audit
