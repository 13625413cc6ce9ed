// Server-side rendering of the console's pages from the services' answers
// (protobuf messages), as HTML strings. Pure functions: no I/O, no clock
// (today's date is passed in), so tests feed them messages directly.
//
// Every string that comes from a request or from the services (lot
// numbers, units, names, reasons, descriptions, query strings) goes
// through HtmlEscape (libs/common/html.h), in text and in attributes; URLs
// built from them are %-encoded first (PercentEncode) and then escaped.
// Pages carry no inline script or style (the CSP forbids both): colours
// come from /static/console.css by class, and SVG uses presentation
// attributes only.
//
// The element ids and classes are the contract with the browser test
// (docs/console.md lists them): lot-facts, disposition (tr.signature),
// timeline (li.event with data-service, data-type, data-record-time),
// genealogy (a.lot-link), verify-form, verify-button, verify-result,
// as-of-form, as-of, as-of-submit, as-of-banner, epcis-download, recalls
// (a.recall-link), recall-scope, recall-impact, notifications,
// effectiveness-chart (circle.point with data-time, data-percent),
// report-download, expiry-heatmap (cells with data-qty), expiry-alerts,
// fefo-form, fefo-item, fefo-suggestion, search, q, search-error,
// refusal, not-found.
//
// Thread-safety: pure functions.
#ifndef LOTLEDGER_SERVICES_CONSOLE_RENDER_H_
#define LOTLEDGER_SERVICES_CONSOLE_RENDER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "lotledger/v1/audit.pb.h"
#include "lotledger/v1/inventory.pb.h"
#include "lotledger/v1/lots.pb.h"
#include "lotledger/v1/quality.pb.h"
#include "lotledger/v1/recall.pb.h"

namespace lotledger::console {

// ---- Shared pieces (render_common.cc)
// ----------------------------------------

// A whole page: doctype, <html lang="en">, <title>, the stylesheet, the
// nav (Search, Recalls, Expiry, Sign out; `signed_in` false leaves out the
// sign-out link) and `body_html` (already escaped HTML) in <main>.
std::string RenderPage(std::string_view title, std::string_view body_html,
                       bool signed_in = true);

// The stylesheet served at /static/console.css: high contrast (text at
// least 7:1 on its background), visible focus outlines, heat-map levels.
std::string_view ConsoleCss();

// "/lots/<lot id %-encoded>" (no escaping: pass through HtmlEscape when
// putting it into an attribute).
std::string LotPath(std::string_view lot_id);
std::string RecallPath(std::string_view recall_id);

// "2026-03-20", "" for an unset date (year 0).
std::string FormatDate(const lotledger::v1::Date& date);
// "2026-03-20 14:02:11 UTC", "" for an unset timestamp.
std::string FormatTime(const google::protobuf::Timestamp& ts);
// "2026-03-20T14:02:11.123456Z" (machine-readable, for attributes).
std::string Rfc3339(const google::protobuf::Timestamp& ts);
std::string DispositionName(lotledger::v1::Disposition d);

// The login form (token field); `next` is where to go after; `error`
// (escaped here) shown above it.
std::string RenderLogin(std::string_view next, std::string_view error);
// The search page: lot id, GTIN + lot, or a GS1 scan; `error` (escaped
// here) shown as #search-error.
std::string RenderSearch(std::string_view q, std::string_view error);
// A refusal by a service (HTTP 401/403): #refusal with `reason`.
std::string RenderRefusal(int http_status, std::string_view reason);
// #not-found with `reason`.
std::string RenderNotFound(std::string_view reason);
// Any other failure: the gRPC code name and message.
std::string RenderError(std::string_view code, std::string_view reason);

// ---- Lot page (render_lot.cc, render_genealogy.cc)
// ---------------------------

struct LotPageData {
  std::string lot_id;
  lotledger::v1::Lot lot;
  std::optional<lotledger::v1::Product> product;
  std::optional<lotledger::v1::QualityRecord> quality;
  std::optional<lotledger::v1::LotInventory> inventory;
  // Why a section is missing (a refusal or an error), shown in its place.
  std::string quality_error;
  std::string inventory_error;
  std::vector<lotledger::v1::HistoryEntry> history;
  std::string history_error;
  lotledger::v1::TraceResponse backward;
  lotledger::v1::TraceResponse forward;
  std::string trace_error;
  // With ?as_of: what the user asked (shown back in the date field) and
  // the AsOf answer, which replaces facts, disposition and stock.
  std::string as_of_input;
  std::optional<lotledger::v1::LotAsOf> as_of;
  // After "verify".
  std::optional<lotledger::v1::VerifyLotResponse> verify;
  std::string verify_error;
  // Today (warehouse calendar) for "expired" in the status.
  lotledger::v1::Date today;
};

std::string RenderLotPage(const LotPageData& data);

// The genealogy graph: an inline <svg> inside #genealogy, the lot in the
// middle, components (backward trace) to its left by depth, derived lots
// (forward) to its right; each node an <a class="lot-link"> to its page.
std::string RenderGenealogy(std::string_view lot_id,
                            const lotledger::v1::TraceResponse& backward,
                            const lotledger::v1::TraceResponse& forward);

// ---- Recall pages (render_recall.cc)
// -----------------------------------------

std::string RenderRecallList(
    const std::vector<lotledger::v1::RecallSummary>& recalls);

struct RecallPageData {
  lotledger::v1::Recall recall;
  std::optional<lotledger::v1::RecallImpact> impact;
  std::string impact_error;
  std::vector<lotledger::v1::RecallNotification> notifications;
  std::string notifications_error;
  std::optional<lotledger::v1::Effectiveness> effectiveness;
  std::string effectiveness_error;
};

// One point of the effectiveness chart.
struct EffectivenessPoint {
  absl::Time time;
  int64_t recovered = 0;
  double percent = 0;
};

// Effectiveness over time (no RPC gives a series): at initiation what had
// already come back (distributed minus outstanding at initiation), then
// after each recorded response (in business-time order) the quantities the
// customers reported returned or destroyed added up, and last the
// service's own figure as of now (GetEffectiveness), which is what counts.
// Percent = 100 * recovered / distributed, capped at 100; 100 when nothing
// was distributed.
std::vector<EffectivenessPoint> EffectivenessSeries(
    const lotledger::v1::Recall& recall,
    const std::optional<lotledger::v1::Effectiveness>& effectiveness);

std::string RenderRecallPage(const RecallPageData& data);

// ---- Expiry page (render_expiry.cc)
// ------------------------------------------

struct ExpiryPageData {
  std::string location;  // the ?location= filter, "" for all
  // Stock expiring within the heat map's horizon, and expired stock.
  std::vector<lotledger::v1::NearExpiryRow> stock;
  std::string stock_error;
  // Stock past one of its product's alert thresholds.
  std::vector<lotledger::v1::NearExpiryRow> alerts;
  std::string alerts_error;
  // The FEFO form as submitted, and the answer.
  std::string fefo_item;
  std::string fefo_quantity;
  std::optional<lotledger::v1::AllocateFefoResponse> fefo;
  std::string fefo_error;
};

// The heat map's columns: expired, each of the next 12 weeks, then 13-26
// weeks, 27-52 weeks, 1-2 years and later. The page asks for the stock
// expiring within kHeatmapHorizonDays (all of it, in practice).
inline constexpr int kHeatmapHorizonDays = 36500;

std::string RenderExpiryPage(const ExpiryPageData& data);

}  // namespace lotledger::console

#endif  // LOTLEDGER_SERVICES_CONSOLE_RENDER_H_
