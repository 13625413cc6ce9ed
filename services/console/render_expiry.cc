// The expiry page: a heat map of stock by location and weeks to expiry,
// the stock past its alert thresholds, and a FEFO suggestion (render.h).
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/common/html.h"
#include "services/console/http.h"
#include "services/console/render.h"

namespace lotledger::console {
namespace {

namespace v1 = lotledger::v1;

struct Band {
  std::string label;
  int max_days;  // days left at most (the previous band's max + 1 at least)
};

// Expired (<= 0 days left), weeks 1..12, then wider bands (render.h).
const std::vector<Band>& Bands() {
  static const auto* bands = [] {
    auto* b = new std::vector<Band>{{"expired", 0}};
    for (int week = 1; week <= 12; ++week) {
      b->push_back({absl::StrCat(week - 1, "–", week, " wk"), week * 7});
    }
    b->push_back({"13–26 wk", 26 * 7});
    b->push_back({"27–52 wk", 52 * 7});
    b->push_back({"1–2 yr", 2 * 365});
    b->push_back({"later", kHeatmapHorizonDays});
    return b;
  }();
  return *bands;
}

// The band of a row; Bands().size() for stock beyond the horizon.
size_t Column(int days_left) {
  size_t c = 0;
  while (c < Bands().size() && days_left > Bands()[c].max_days) ++c;
  return c;
}

std::string LotLink(std::string_view lot_id) {
  return absl::StrCat("<a href=\"", HtmlEscape(LotPath(lot_id)), "\">",
                      HtmlEscape(lot_id), "</a>");
}

std::string RenderHeatmap(const ExpiryPageData& d) {
  std::map<std::string, std::map<size_t, int64_t>> cells;
  int64_t max = 0;
  for (const v1::NearExpiryRow& r : d.stock) {
    const size_t column = Column(r.days_left());
    if (column >= Bands().size()) continue;
    int64_t& q = cells[r.location_id()][column];
    q += r.quantity().amount();
    max = std::max(max, q);
  }
  std::string out = absl::StrCat(
      "<h2 id=\"heatmap-heading\">Stock by weeks to expiry</h2>"
      "<p class=\"note\">Quantities on hand per location by the time left "
      "to their expiry, each lot in its own unit (stock without an expiry "
      "is not shown); darker is more.</p>");
  if (!d.stock_error.empty()) {
    absl::StrAppend(
        &out, "<p class=\"error\">Stock: ", HtmlEscape(d.stock_error), "</p>");
  }
  absl::StrAppend(&out,
                  "<table id=\"expiry-heatmap\" "
                  "aria-labelledby=\"heatmap-heading\"><thead><tr>"
                  "<th scope=\"col\">Location</th>");
  for (const Band& b : Bands()) {
    absl::StrAppend(&out, "<th scope=\"col\">", b.label, "</th>");
  }
  absl::StrAppend(&out, "</tr></thead><tbody>");
  for (const auto& [location, row] : cells) {
    absl::StrAppend(&out, "<tr data-location=\"", HtmlEscape(location),
                    "\"><th scope=\"row\"><a href=\"/expiry?location=",
                    HtmlEscape(PercentEncode(location)), "\">",
                    HtmlEscape(location), "</a></th>");
    for (size_t c = 0; c < Bands().size(); ++c) {
      auto it = row.find(c);
      const int64_t q = it == row.end() ? 0 : it->second;
      const int64_t level = q == 0 || max == 0
                                ? 0
                                : std::max<int64_t>(1, (q * 4 + max - 1) / max);
      absl::StrAppend(&out, "<td class=\"num heat-", level, "\" data-qty=\"", q,
                      "\" data-column=\"", Bands()[c].label, "\">",
                      q == 0 ? "" : absl::StrCat(q), "</td>");
    }
    absl::StrAppend(&out, "</tr>");
  }
  absl::StrAppend(&out, "</tbody></table>");
  if (cells.empty()) {
    absl::StrAppend(&out, "<p>No stock with an expiry date.</p>");
  }
  return out;
}

std::string RenderAlerts(const ExpiryPageData& d) {
  std::string out =
      "<h2 id=\"alerts-heading\">Open expiry alerts</h2><p class=\"note\">"
      "Stock past one of its product's alert thresholds, and expired stock "
      "(to scrap).</p>";
  if (!d.alerts_error.empty()) {
    absl::StrAppend(&out,
                    "<p class=\"error\">Alerts: ", HtmlEscape(d.alerts_error),
                    "</p>");
  }
  absl::StrAppend(&out,
                  "<table id=\"expiry-alerts\" "
                  "aria-labelledby=\"alerts-heading\"><thead><tr>"
                  "<th scope=\"col\">Lot</th><th scope=\"col\">Location</th>"
                  "<th scope=\"col\">Expires</th>"
                  "<th scope=\"col\">Days left</th>"
                  "<th scope=\"col\">Alert</th>"
                  "<th scope=\"col\">Quantity</th></tr></thead><tbody>");
  for (const v1::NearExpiryRow& r : d.alerts) {
    absl::StrAppend(
        &out, "<tr class=\"alert\"><td>", LotLink(r.lot_id()), "</td><td>",
        HtmlEscape(r.location_id()), "</td><td>", FormatDate(r.expires_on()),
        "</td><td class=\"num\">", r.days_left(), "</td><td>",
        r.days_left() <= 0 ? std::string("expired")
                           : absl::StrCat(r.threshold_days(), "-day threshold"),
        "</td><td class=\"num\">", r.quantity().amount(), " ",
        HtmlEscape(r.quantity().uom()), "</td></tr>");
  }
  absl::StrAppend(&out, "</tbody></table>");
  if (d.alerts.empty() && d.alerts_error.empty()) {
    absl::StrAppend(&out, "<p>No open alerts.</p>");
  }
  return out;
}

std::string RenderFefo(const ExpiryPageData& d) {
  std::string out = absl::StrCat(
      "<h2 id=\"fefo-heading\">FEFO suggestion</h2>"
      "<form id=\"fefo-form\" method=\"get\" action=\"/expiry\">"
      "<input type=\"hidden\" name=\"location\" value=\"",
      HtmlEscape(d.location),
      "\"><label for=\"fefo-item\">Item (GTIN or code)</label>"
      "<input type=\"text\" id=\"fefo-item\" name=\"item\" value=\"",
      HtmlEscape(d.fefo_item),
      "\" required> <label for=\"fefo-quantity\">Quantity</label>"
      "<input type=\"number\" id=\"fefo-quantity\" name=\"quantity\" "
      "min=\"1\" value=\"",
      HtmlEscape(d.fefo_quantity.empty() ? "1" : d.fefo_quantity),
      "\" required> <button type=\"submit\" id=\"fefo-submit\">Suggest "
      "picks</button></form>");
  if (!d.fefo_error.empty()) {
    absl::StrAppend(&out,
                    "<p class=\"error\" id=\"fefo-suggestion\" "
                    "role=\"alert\">",
                    HtmlEscape(d.fefo_error), "</p>");
    return out;
  }
  if (!d.fefo.has_value()) return out;
  const v1::AllocateFefoResponse& f = *d.fefo;
  absl::StrAppend(
      &out, "<section id=\"fefo-suggestion\" role=\"status\"><p>",
      f.allocated().amount(), " of ", f.requested().amount(), " ",
      HtmlEscape(f.requested().uom()), " allocated",
      f.shortfall().amount() > 0
          ? absl::StrCat(", short by ", f.shortfall().amount())
          : "",
      f.required_shelf_life_days() > 0
          ? absl::StrCat("; needs ", f.required_shelf_life_days(),
                         " days of shelf life (", HtmlEscape(f.required_by()),
                         ")")
          : "",
      "; ship date ", FormatDate(f.ship_date()),
      ".</p><table id=\"fefo-lines\"><thead><tr><th scope=\"col\">Lot</th>"
      "<th scope=\"col\">Location</th><th scope=\"col\">Quantity</th>"
      "<th scope=\"col\">Expires</th><th scope=\"col\">Days left</th>"
      "</tr></thead><tbody>");
  for (int i = 0; i < f.lines_size(); ++i) {
    const v1::ShipmentLine& l = f.lines(i);
    absl::StrAppend(&out, "<tr class=\"pick\"><td>", LotLink(l.lot_id()),
                    "</td><td>", HtmlEscape(l.location_id()),
                    "</td><td class=\"num\">", l.quantity().amount(), " ",
                    HtmlEscape(l.quantity().uom()), "</td><td>",
                    i < f.expires_on_size() ? FormatDate(f.expires_on(i)) : "",
                    "</td><td class=\"num\">",
                    i < f.days_left_size() ? absl::StrCat(f.days_left(i)) : "",
                    "</td></tr>");
  }
  absl::StrAppend(&out, "</tbody></table>");
  if (f.skipped_size() > 0) {
    absl::StrAppend(&out, "<h3>Kept out by the shipping gate</h3><ul>");
    for (const v1::FefoSkip& s : f.skipped()) {
      absl::StrAppend(&out, "<li>", HtmlEscape(s.lot_id()),
                      s.location_id().empty()
                          ? ""
                          : absl::StrCat(" at ", HtmlEscape(s.location_id())),
                      " (", s.amount(), "): ", HtmlEscape(s.reason()), "</li>");
    }
    absl::StrAppend(&out, "</ul>");
  }
  absl::StrAppend(&out, "</section>");
  return out;
}

}  // namespace

std::string RenderExpiryPage(const ExpiryPageData& d) {
  std::string body = absl::StrCat(
      "<h1>Expiry</h1><form id=\"location-form\" method=\"get\" "
      "action=\"/expiry\"><label for=\"location\">Location (with everything "
      "below it)</label><input type=\"text\" id=\"location\" "
      "name=\"location\" value=\"",
      HtmlEscape(d.location),
      "\"> <button type=\"submit\" id=\"location-submit\">Filter</button>",
      d.location.empty() ? "" : " <a href=\"/expiry\">all locations</a>",
      "</form>", RenderHeatmap(d), RenderAlerts(d), RenderFefo(d));
  return RenderPage("Expiry", body);
}

}  // namespace lotledger::console
