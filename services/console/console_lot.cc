// The lot page's handler (console.h): GetLot, GetProduct, the quality
// record, the lot's inventory, its history from AuditService.GetLotHistory,
// both genealogy traces, and on demand AsOf, VerifyLot and ExportEpcis.
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "libs/common/proto_time.h"
#include "services/console/console.h"
#include "services/console/render.h"

namespace lotledger::console {
namespace {

namespace v1 = lotledger::v1;

// Genealogy levels drawn each way, and the most history entries shown.
constexpr int kTraceDepth = 6;
constexpr size_t kMaxHistoryEntries = 20000;

// "YYYY-MM-DD" is the end of that day (UTC): the state after everything
// that happened on it; an RFC 3339 time is that instant.
std::optional<absl::Time> ParseAsOf(const std::string& text) {
  absl::CivilDay day;
  if (text.size() == 10 && absl::ParseCivilTime(text, &day)) {
    return absl::FromCivil(day + 1, absl::UTCTimeZone()) -
           absl::Microseconds(1);
  }
  absl::Time t;
  std::string err;
  if (absl::ParseTime(absl::RFC3339_full, text, &t, &err)) return t;
  return std::nullopt;
}

// A refusal or a failure of one section, in words.
std::string SectionError(const grpc::Status& s) {
  return absl::StrCat(s.error_code() == grpc::StatusCode::PERMISSION_DENIED
                          ? "not allowed: "
                          : "",
                      s.error_message());
}

}  // namespace

HttpResponse Console::LotPage(const std::string& token,
                              const std::string& lot_id, const Query& query,
                              bool verify) const {
  LotPageData d;
  d.lot_id = lot_id;
  {
    v1::GetLotRequest req;
    req.set_lot_id(lot_id);
    v1::GetLotResponse resp;
    grpc::Status s =
        clients_.lots().GetLot(clients_.Call(token).get(), req, &resp);
    if (!s.ok()) return StatusPage(s);
    d.lot = resp.lot();
  }
  const absl::CivilDay today = absl::ToCivilDay(now_(), absl::UTCTimeZone());
  d.today.set_year(static_cast<int32_t>(today.year()));
  d.today.set_month(today.month());
  d.today.set_day(today.day());

  if (auto it = query.find("as_of"); it != query.end() && !it->second.empty()) {
    std::optional<absl::Time> at = ParseAsOf(it->second);
    if (!at.has_value()) {
      return HtmlResponse(
          400, RenderError("INVALID_ARGUMENT",
                           "as_of: expected YYYY-MM-DD or an RFC 3339 time "
                           "such as 2026-03-20T14:00:00Z"));
    }
    v1::AsOfRequest req;
    req.set_lot_id(lot_id);
    ToTimestamp(*at, req.mutable_at());
    auto axis = query.find("axis");
    req.set_axis(axis != query.end() && axis->second == "record"
                     ? v1::TIME_AXIS_RECORD
                     : v1::TIME_AXIS_BUSINESS);
    v1::AsOfResponse resp;
    grpc::Status s =
        clients_.audit().AsOf(clients_.Call(token).get(), req, &resp);
    if (!s.ok()) return StatusPage(s);
    d.as_of = resp.state();
    d.as_of_input = it->second;
  }
  {
    v1::GetProductRequest req;
    req.set_item(d.lot.item());
    v1::GetProductResponse resp;
    if (clients_.lots()
            .GetProduct(clients_.Call(token).get(), req, &resp)
            .ok()) {
      d.product = resp.product();
    }
  }
  {
    v1::GetQualityRecordRequest req;
    req.set_lot_id(lot_id);
    v1::GetQualityRecordResponse resp;
    grpc::Status s = clients_.quality().GetQualityRecord(
        clients_.Call(token).get(), req, &resp);
    if (s.ok()) {
      d.quality = resp.record();
    } else if (s.error_code() != grpc::StatusCode::NOT_FOUND) {
      d.quality_error = SectionError(s);
    }
  }
  {
    v1::GetLotInventoryRequest req;
    req.set_lot_id(lot_id);
    v1::GetLotInventoryResponse resp;
    grpc::Status s = clients_.inventory().GetLotInventory(
        clients_.Call(token).get(), req, &resp);
    if (s.ok()) {
      d.inventory = resp.lot();
    } else if (s.error_code() != grpc::StatusCode::NOT_FOUND) {
      d.inventory_error = SectionError(s);
    }
  }
  {
    // In pages (one unary call for a lot's usual few dozen events).
    v1::GetLotHistoryRequest req;
    req.mutable_history()->set_lot_id(lot_id);
    req.set_page_size(1000);
    do {
      v1::GetLotHistoryResponse resp;
      grpc::Status s = clients_.audit().GetLotHistory(
          clients_.Call(token).get(), req, &resp);
      if (!s.ok()) {
        d.history_error = SectionError(s);
        break;
      }
      for (v1::HistoryEntry& entry : *resp.mutable_entries()) {
        if (d.history.size() < kMaxHistoryEntries) {
          d.history.push_back(std::move(entry));
        }
      }
      req.set_page_token(resp.next_page_token());
    } while (!req.page_token().empty() &&
             d.history.size() < kMaxHistoryEntries);
  }
  for (v1::TraceDirection dir :
       {v1::TRACE_DIRECTION_BACKWARD, v1::TRACE_DIRECTION_FORWARD}) {
    v1::TraceRequest req;
    req.set_lot_id(lot_id);
    req.set_direction(dir);
    req.set_max_depth(kTraceDepth);
    v1::TraceResponse& resp =
        dir == v1::TRACE_DIRECTION_BACKWARD ? d.backward : d.forward;
    grpc::Status s =
        clients_.lots().Trace(clients_.Call(token).get(), req, &resp);
    if (!s.ok()) d.trace_error = SectionError(s);
  }
  if (verify) {
    v1::VerifyLotRequest req;
    req.set_lot_id(lot_id);
    v1::VerifyLotResponse resp;
    grpc::Status s =
        clients_.audit().VerifyLot(clients_.Call(token).get(), req, &resp);
    if (s.error_code() == grpc::StatusCode::PERMISSION_DENIED ||
        s.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
      return StatusPage(s);
    }
    if (s.ok()) {
      d.verify = resp;
    } else {
      d.verify_error = SectionError(s);
    }
  }
  return HtmlResponse(200, RenderLotPage(d));
}

HttpResponse Console::Epcis(const std::string& token,
                            const std::string& lot_id) const {
  v1::ExportEpcisRequest req;
  req.set_lot_id(lot_id);
  v1::ExportEpcisResponse resp;
  grpc::Status s =
      clients_.audit().ExportEpcis(clients_.Call(token).get(), req, &resp);
  if (!s.ok()) return StatusPage(s);
  return Download("application/ld+json",
                  absl::StrCat("epcis-", lot_id, ".jsonld"), resp.document());
}

}  // namespace lotledger::console
