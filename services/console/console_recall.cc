// The recall pages' handlers (console.h): ListRecalls; GetRecall,
// AnalyzeImpact, ListNotifications and GetEffectiveness for one recall;
// GetReport for the downloads.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/console/console.h"
#include "services/console/render.h"

namespace lotledger::console {
namespace {

namespace v1 = lotledger::v1;

// The most recalls listed (pages of 1000).
constexpr int kMaxRecallPages = 10;

std::string SectionError(const grpc::Status& s) {
  return absl::StrCat(s.error_code() == grpc::StatusCode::PERMISSION_DENIED
                          ? "not allowed: "
                          : "",
                      s.error_message());
}

}  // namespace

HttpResponse Console::RecallList(const std::string& token) const {
  std::vector<v1::RecallSummary> recalls;
  v1::ListRecallsRequest req;
  req.set_page_size(1000);
  for (int page = 0; page < kMaxRecallPages; ++page) {
    v1::ListRecallsResponse resp;
    grpc::Status s =
        clients_.recall().ListRecalls(clients_.Call(token).get(), req, &resp);
    if (!s.ok()) return StatusPage(s);
    for (v1::RecallSummary& r : *resp.mutable_recalls()) {
      recalls.push_back(std::move(r));
    }
    if (resp.next_page_token().empty()) break;
    req.set_page_token(resp.next_page_token());
  }
  return HtmlResponse(200, RenderRecallList(recalls));
}

HttpResponse Console::RecallPage(const std::string& token,
                                 const std::string& recall_id) const {
  RecallPageData d;
  {
    v1::GetRecallRequest req;
    req.set_recall_id(recall_id);
    v1::GetRecallResponse resp;
    grpc::Status s =
        clients_.recall().GetRecall(clients_.Call(token).get(), req, &resp);
    if (!s.ok()) return StatusPage(s);
    d.recall = resp.recall();
  }
  {
    v1::AnalyzeImpactRequest req;
    req.set_recall_id(recall_id);
    v1::AnalyzeImpactResponse resp;
    grpc::Status s =
        clients_.recall().AnalyzeImpact(clients_.Call(token).get(), req, &resp);
    if (s.ok()) {
      d.impact = resp.impact();
    } else {
      d.impact_error = SectionError(s);
    }
  }
  {
    v1::ListNotificationsRequest req;
    req.set_recall_id(recall_id);
    v1::ListNotificationsResponse resp;
    grpc::Status s = clients_.recall().ListNotifications(
        clients_.Call(token).get(), req, &resp);
    if (s.ok()) {
      d.notifications.assign(resp.notifications().begin(),
                             resp.notifications().end());
    } else {
      d.notifications_error = SectionError(s);
    }
  }
  {
    v1::GetEffectivenessRequest req;
    req.set_recall_id(recall_id);
    v1::GetEffectivenessResponse resp;
    grpc::Status s = clients_.recall().GetEffectiveness(
        clients_.Call(token).get(), req, &resp);
    if (s.ok()) {
      d.effectiveness = resp.effectiveness();
    } else {
      d.effectiveness_error = SectionError(s);
    }
  }
  return HtmlResponse(200, RenderRecallPage(d));
}

HttpResponse Console::RecallReport(const std::string& token,
                                   const std::string& recall_id,
                                   bool html) const {
  v1::GetReportRequest req;
  req.set_recall_id(recall_id);
  req.set_format(html ? v1::REPORT_FORMAT_HTML : v1::REPORT_FORMAT_CSV);
  v1::GetReportResponse resp;
  grpc::Status s =
      clients_.recall().GetReport(clients_.Call(token).get(), req, &resp);
  if (!s.ok()) return StatusPage(s);
  // Always an attachment: the HTML report is the recall service's page,
  // saved by the browser rather than shown under the console's origin.
  return Download(
      resp.content_type().empty()
          ? (html ? "text/html; charset=utf-8" : "text/csv")
          : resp.content_type(),
      resp.file_name().empty()
          ? absl::StrCat("recall-", recall_id, html ? ".html" : ".csv")
          : resp.file_name(),
      resp.content());
}

}  // namespace lotledger::console
