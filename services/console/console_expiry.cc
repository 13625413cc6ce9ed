// The expiry page's handler (console.h): NearExpiryReport twice (stock
// within the heat map's horizon; stock past its product's alert
// thresholds) and AllocateFefo when the FEFO form was sent.
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "services/console/console.h"
#include "services/console/render.h"

namespace lotledger::console {
namespace {

namespace v1 = lotledger::v1;

constexpr int kMaxReportPages = 10;  // of 1000 rows

std::string Param(const std::map<std::string, std::string>& query,
                  const char* name) {
  auto it = query.find(name);
  return it == query.end()
             ? std::string()
             : std::string(absl::StripAsciiWhitespace(it->second));
}

}  // namespace

HttpResponse Console::Expiry(const std::string& token,
                             const Query& query) const {
  ExpiryPageData d;
  d.location = Param(query, "location");
  // within_days 0 = each product's largest alert threshold: the alerts.
  for (int within : {kHeatmapHorizonDays, 0}) {
    v1::NearExpiryReportRequest req;
    req.set_within_days(within);
    req.set_location_id(d.location);
    req.set_page_size(1000);
    std::vector<v1::NearExpiryRow>& rows = within > 0 ? d.stock : d.alerts;
    std::string& error = within > 0 ? d.stock_error : d.alerts_error;
    for (int page = 0; page < kMaxReportPages; ++page) {
      v1::NearExpiryReportResponse resp;
      grpc::Status s = clients_.inventory().NearExpiryReport(
          clients_.Call(token).get(), req, &resp);
      if (s.error_code() == grpc::StatusCode::PERMISSION_DENIED ||
          s.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
        return StatusPage(s);
      }
      if (!s.ok()) {
        error = s.error_message();
        break;
      }
      rows.insert(rows.end(), resp.rows().begin(), resp.rows().end());
      if (resp.next_page_token().empty()) break;
      req.set_page_token(resp.next_page_token());
    }
  }
  d.fefo_item = Param(query, "item");
  d.fefo_quantity = Param(query, "quantity");
  if (!d.fefo_item.empty()) {
    int64_t amount = 0;
    if (!absl::SimpleAtoi(d.fefo_quantity, &amount) || amount <= 0) {
      d.fefo_error = "Quantity: enter a whole number above 0.";
    } else {
      v1::AllocateFefoRequest req;
      req.set_item(d.fefo_item);
      req.mutable_quantity()->set_amount(amount);
      req.set_from_location_id(d.location);
      v1::AllocateFefoResponse resp;
      grpc::Status s = clients_.inventory().AllocateFefo(
          clients_.Call(token).get(), req, &resp);
      if (s.ok()) {
        d.fefo = resp;
      } else {
        d.fefo_error = s.error_message();
      }
    }
  }
  return HtmlResponse(200, RenderExpiryPage(d));
}

}  // namespace lotledger::console
