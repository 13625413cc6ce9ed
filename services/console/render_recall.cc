// The recall list and the recall page: scope, impact per customer and
// lot, notifications and responses, effectiveness with its chart over
// time, report downloads (render.h).
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/common/html.h"
#include "libs/common/proto_time.h"
#include "libs/domain/recall/decider.h"
#include "services/console/render.h"

namespace lotledger::console {
namespace {

namespace v1 = lotledger::v1;

std::string StatusName(v1::RecallStatus s) {
  switch (s) {
    case v1::RECALL_STATUS_OPEN:
      return "open";
    case v1::RECALL_STATUS_CLOSED:
      return "closed";
    default:
      return "initiating";
  }
}

std::string ScopeReasonText(const v1::ScopedLot& l) {
  switch (l.reason()) {
    case v1::SCOPE_REASON_LISTED:
      return "listed";
    case v1::SCOPE_REASON_MADE_IN_RANGE:
      return "made in the date range";
    case v1::SCOPE_REASON_DERIVED:
      return absl::StrCat("made from ", HtmlEscape(l.via_lot_id()));
    default:
      return "";
  }
}

std::string LotLink(std::string_view lot_id) {
  return absl::StrCat("<a href=\"", HtmlEscape(LotPath(lot_id)), "\">",
                      HtmlEscape(lot_id), "</a>");
}

std::string CustomerName(const v1::Customer& c) {
  if (c.name().empty()) return HtmlEscape(c.customer_id());
  return absl::StrCat(HtmlEscape(c.name()), " (", HtmlEscape(c.customer_id()),
                      ")");
}

std::string Percent(double p) { return absl::StrFormat("%.1f", p); }

std::string SignatureText(const v1::Signature& s) {
  if (s.signer().empty()) return "";
  return absl::StrCat("signed by ", HtmlEscape(s.signer()), " (",
                      HtmlEscape(s.meaning()), ": ", HtmlEscape(s.reason()),
                      ") at ", FormatTime(s.signed_at()));
}

std::string Th(std::initializer_list<const char*> names) {
  std::string out = "<thead><tr>";
  for (const char* n : names) {
    absl::StrAppend(&out, "<th scope=\"col\">", n, "</th>");
  }
  absl::StrAppend(&out, "</tr></thead>");
  return out;
}

std::string RenderHeader(const v1::Recall& r) {
  std::string out = absl::StrCat(
      "<h1>Recall <span id=\"recall-id\">", HtmlEscape(r.recall_id()),
      "</span>: ", HtmlEscape(r.title()),
      "</h1><dl class=\"facts\" "
      "id=\"recall-facts\"><dt>Status</dt><dd id=\"recall-status\">",
      StatusName(r.status()), "</dd><dt>Classification</dt><dd>",
      recall::ClassName(r.classification()), "</dd><dt>Reason</dt><dd>",
      HtmlEscape(r.reason()), "</dd><dt>Health hazard</dt><dd>",
      HtmlEscape(r.health_hazard()), "</dd><dt>Instructions</dt><dd>",
      HtmlEscape(r.instructions()), "</dd><dt>Initiated</dt><dd>",
      FormatTime(r.initiated_at()), " by ", HtmlEscape(r.initiated_by()),
      r.has_initiation_signature()
          ? absl::StrCat("; ", SignatureText(r.initiation_signature()))
          : "",
      "</dd>");
  if (r.status() == v1::RECALL_STATUS_CLOSED) {
    absl::StrAppend(&out, "<dt>Closed</dt><dd>", FormatTime(r.closed_at()),
                    " by ", HtmlEscape(r.closed_by()), ": ",
                    HtmlEscape(r.summary()));
    if (!r.unanswered_reason().empty()) {
      absl::StrAppend(&out,
                      "; unanswered: ", HtmlEscape(r.unanswered_reason()));
    }
    if (r.has_closure_signature()) {
      absl::StrAppend(&out, "; ", SignatureText(r.closure_signature()));
    }
    absl::StrAppend(&out, "</dd>");
  }
  absl::StrAppend(
      &out, "</dl><p>Report: <a id=\"report-download\" href=\"",
      HtmlEscape(RecallPath(r.recall_id())),
      "/report.csv\" download>CSV</a> · <a id=\"report-download-html\" "
      "href=\"",
      HtmlEscape(RecallPath(r.recall_id())),
      "/report.html\" download>HTML</a></p>");
  return out;
}

std::string RenderScope(const v1::Recall& r) {
  std::string out =
      absl::StrCat("<h2 id=\"scope-heading\">Scope (", r.scope_size(),
                   " lots)</h2><table id=\"recall-scope\" "
                   "aria-labelledby=\"scope-heading\">",
                   Th({"Lot", "Item", "Lot number", "Why in scope", "Level",
                       "Made", "Expires"}),
                   "<tbody>");
  for (const v1::ScopedLot& l : r.scope()) {
    absl::StrAppend(&out, "<tr class=\"scoped-lot\"><td>", LotLink(l.lot_id()),
                    "</td><td>", HtmlEscape(l.item()), "</td><td>",
                    HtmlEscape(l.lot_number()), "</td><td>", ScopeReasonText(l),
                    "</td><td class=\"num\">", l.depth(), "</td><td>",
                    FormatDate(l.manufactured_on()), "</td><td>",
                    FormatDate(l.expires_on()), "</td></tr>");
  }
  absl::StrAppend(&out, "</tbody></table>");
  return out;
}

std::string RenderImpact(const RecallPageData& d) {
  std::string out = "<h2 id=\"impact-heading\">Impact</h2>";
  if (!d.impact.has_value()) {
    absl::StrAppend(&out,
                    "<p class=\"error\">Impact: ", HtmlEscape(d.impact_error),
                    "</p>");
    return out;
  }
  const v1::RecallImpact& im = *d.impact;
  absl::StrAppend(
      &out,
      "<section id=\"recall-impact\" aria-labelledby=\"impact-heading\">"
      "<p>",
      im.customers_affected(), " customers affected; ", im.distributed(),
      " distributed, ", im.returned(), " returned, ", im.outstanding(),
      " outstanding at customers, ", im.on_hand(),
      " in own stock (each lot in its own unit).</p>"
      "<h3>Per customer and lot</h3><table id=\"impact-customers\">",
      Th({"Customer", "Region", "Lot", "Shipped", "Returned", "Held",
          "Last shipped"}),
      "<tbody>");
  for (const v1::CustomerImpact& c : im.customers()) {
    for (const v1::CustomerLotImpact& l : c.lots()) {
      absl::StrAppend(
          &out, "<tr class=\"customer-lot\" data-customer-id=\"",
          HtmlEscape(c.customer().customer_id()), "\" data-lot-id=\"",
          HtmlEscape(l.lot_id()), "\"><td>", CustomerName(c.customer()),
          "</td><td>", HtmlEscape(c.customer().region()), "</td><td>",
          LotLink(l.lot_id()), "</td><td class=\"num\">", l.shipped(), " ",
          HtmlEscape(l.uom()), "</td><td class=\"num\">", l.returned(),
          "</td><td class=\"num\">", l.held(), "</td><td>",
          FormatDate(l.last_shipped_on()), "</td></tr>");
    }
  }
  absl::StrAppend(
      &out,
      "</tbody></table><h3>Per lot</h3>"
      "<table id=\"impact-lots\">",
      Th({"Lot", "Shipped", "Returned", "Outstanding", "On hand", "Customers"}),
      "<tbody>");
  for (const v1::LotImpact& l : im.lots()) {
    absl::StrAppend(&out, "<tr><td>", LotLink(l.lot().lot_id()),
                    "</td><td class=\"num\">", l.shipped(), " ",
                    HtmlEscape(l.lot().uom()), "</td><td class=\"num\">",
                    l.returned(), "</td><td class=\"num\">", l.outstanding(),
                    "</td><td class=\"num\">", l.on_hand(),
                    "</td><td class=\"num\">", l.customers(), "</td></tr>");
  }
  absl::StrAppend(&out, "</tbody></table></section>");
  return out;
}

std::string RenderNotifications(const RecallPageData& d) {
  std::string out = absl::StrCat(
      "<h2 id=\"notifications-heading\">Notifications and responses</h2>",
      d.notifications_error.empty()
          ? ""
          : absl::StrCat("<p class=\"error\">Notifications: ",
                         HtmlEscape(d.notifications_error), "</p>"),
      "<table id=\"notifications\" aria-labelledby=\"notifications-heading\">",
      Th({"Customer", "Subject", "Lots held when issued", "Issued"}),
      "<tbody>");
  for (const v1::RecallNotification& n : d.notifications) {
    std::string lines;
    for (const v1::RecallNoticeLine& l : n.notice().lines()) {
      absl::StrAppend(&lines, lines.empty() ? "" : "<br>",
                      HtmlEscape(l.lot_id()), ": ", l.held(), " ",
                      HtmlEscape(l.uom()));
    }
    absl::StrAppend(&out, "<tr class=\"notification\"><td>",
                    CustomerName(n.notice().customer()), "</td><td>",
                    HtmlEscape(n.notice().subject()), "</td><td>", lines,
                    "</td><td>", FormatTime(n.issued_at()), " by ",
                    HtmlEscape(n.issued_by()), "</td></tr>");
  }
  absl::StrAppend(
      &out,
      "</tbody></table><h3>Responses</h3>"
      "<table id=\"responses\">",
      Th({"Customer", "Answer", "Returned / destroyed", "Notes", "When"}),
      "<tbody>");
  for (const v1::CustomerResponse& r : d.recall.responses()) {
    const v1::RecallResponseRecorded& x = r.response();
    std::string answer = x.nothing_found()  ? "nothing found"
                         : x.acknowledged() ? "acknowledged"
                                            : "reported";
    std::string lines;
    for (const v1::RecallResponseLine& l : x.lines()) {
      absl::StrAppend(&lines, lines.empty() ? "" : "<br>",
                      HtmlEscape(l.lot_id()), ": ", l.returned(), " / ",
                      l.destroyed());
    }
    absl::StrAppend(&out, "<tr class=\"response\"><td>",
                    HtmlEscape(x.customer_id()), "</td><td>", answer,
                    "</td><td>", lines, "</td><td>", HtmlEscape(x.notes()),
                    "</td><td>", FormatTime(r.recorded_at()), " by ",
                    HtmlEscape(r.recorded_by()), "</td></tr>");
  }
  absl::StrAppend(&out, "</tbody></table>");
  return out;
}

std::string RenderChart(const std::vector<EffectivenessPoint>& points) {
  constexpr int kW = 640, kH = 260, kLeft = 50, kRight = 20, kTop = 15,
                kBottom = 40;
  const int plot_w = kW - kLeft - kRight, plot_h = kH - kTop - kBottom;
  std::string svg = absl::StrCat(
      "<svg id=\"effectiveness-chart\" xmlns=\"http://www.w3.org/2000/svg\" "
      "width=\"",
      kW, "\" height=\"", kH, "\" viewBox=\"0 0 ", kW, " ", kH,
      "\" role=\"img\" aria-labelledby=\"effectiveness-title\">"
      "<title id=\"effectiveness-title\">Recovered share of distributed "
      "units over time</title>");
  for (int pct : {0, 50, 100}) {
    const int y = kTop + plot_h - pct * plot_h / 100;
    absl::StrAppend(&svg, "<line x1=\"", kLeft, "\" y1=\"", y, "\" x2=\"",
                    kLeft + plot_w, "\" y2=\"", y,
                    "\" stroke=\"#888\" stroke-width=\"1\"/><text x=\"4\" "
                    "y=\"",
                    y + 4, "\" fill=\"#000\">", pct, "%</text>");
  }
  if (points.empty()) return svg + "</svg>";
  const absl::Time first = points.front().time;
  const absl::Time last = points.back().time;
  const double span = absl::ToDoubleSeconds(last - first);
  auto x_of = [&](size_t i) {
    if (span <= 0) {
      return kLeft + (points.size() == 1
                          ? plot_w / 2.0
                          : plot_w * static_cast<double>(i) /
                                static_cast<double>(points.size() - 1));
    }
    return kLeft +
           plot_w * absl::ToDoubleSeconds(points[i].time - first) / span;
  };
  auto y_of = [&](size_t i) {
    return kTop + plot_h - points[i].percent * plot_h / 100.0;
  };
  // A step line: recovery holds its value until the next point.
  std::string path = absl::StrFormat("M %.1f %.1f", x_of(0), y_of(0));
  for (size_t i = 1; i < points.size(); ++i) {
    absl::StrAppend(&path, absl::StrFormat(" H %.1f V %.1f", x_of(i), y_of(i)));
  }
  absl::StrAppend(&svg, "<path d=\"", path,
                  "\" fill=\"none\" stroke=\"#002b5c\" stroke-width=\"2\"/>");
  for (size_t i = 0; i < points.size(); ++i) {
    google::protobuf::Timestamp ts;
    ToTimestamp(points[i].time, &ts);
    absl::StrAppend(&svg, "<circle class=\"point\" cx=\"",
                    absl::StrFormat("%.1f", x_of(i)), "\" cy=\"",
                    absl::StrFormat("%.1f", y_of(i)),
                    "\" r=\"5\" fill=\"#c45500\" data-time=\"", Rfc3339(ts),
                    "\" data-percent=\"", Percent(points[i].percent),
                    "\" data-recovered=\"", points[i].recovered, "\"><title>",
                    FormatTime(ts), ": ", Percent(points[i].percent), "% (",
                    points[i].recovered, " recovered)</title></circle>");
  }
  google::protobuf::Timestamp a, b;
  ToTimestamp(first, &a);
  ToTimestamp(last, &b);
  absl::StrAppend(
      &svg, "<text x=\"", kLeft, "\" y=\"", kH - 12, "\" fill=\"#000\">",
      FormatDate([&] {
        v1::Date d;
        const absl::CivilDay day = absl::ToCivilDay(first, absl::UTCTimeZone());
        d.set_year(static_cast<int32_t>(day.year()));
        d.set_month(day.month());
        d.set_day(day.day());
        return d;
      }()),
      "</text><text x=\"", kLeft + plot_w, "\" y=\"", kH - 12,
      "\" fill=\"#000\" text-anchor=\"end\">", FormatTime(b), "</text></svg>");
  return svg;
}

std::string RenderEffectiveness(const RecallPageData& d) {
  std::string out = "<h2 id=\"effectiveness-heading\">Effectiveness</h2>";
  if (d.effectiveness.has_value()) {
    const v1::Effectiveness& e = *d.effectiveness;
    absl::StrAppend(&out, "<p id=\"effectiveness-summary\">",
                    Percent(e.overall().percent()),
                    "% recovered: ", e.overall().recovered(), " of ",
                    e.overall().distributed(), " distributed (",
                    e.overall().returned(), " returned, ",
                    e.overall().destroyed(), " destroyed on site), ",
                    e.overall().outstanding(), " outstanding. ",
                    e.customers_notified(), " of ", e.customers_affected(),
                    " customers notified, ", e.customers_answered(),
                    " answered; as of ", FormatTime(e.as_of()), ".</p>");
    if (e.unanswered_customer_ids_size() > 0) {
      std::string ids;
      for (const std::string& id : e.unanswered_customer_ids()) {
        absl::StrAppend(&ids, ids.empty() ? "" : ", ", HtmlEscape(id));
      }
      absl::StrAppend(&out, "<p>No answer after ", e.unanswered_after_days(),
                      " days: ", ids, "</p>");
    }
  } else {
    absl::StrAppend(&out, "<p class=\"error\">Effectiveness: ",
                    HtmlEscape(d.effectiveness_error), "</p>");
  }
  absl::StrAppend(
      &out,
      "<p class=\"note\">Over time: at initiation, after each recorded "
      "response (what customers reported returned or destroyed), and now "
      "(the recall service's figure).</p>",
      RenderChart(EffectivenessSeries(d.recall, d.effectiveness)));
  return out;
}

}  // namespace

std::vector<EffectivenessPoint> EffectivenessSeries(
    const v1::Recall& recall,
    const std::optional<v1::Effectiveness>& effectiveness) {
  const int64_t distributed = effectiveness.has_value()
                                  ? effectiveness->overall().distributed()
                                  : recall.distributed_at_initiation();
  auto percent = [&](int64_t recovered) {
    if (distributed <= 0) return 100.0;
    return 100.0 * static_cast<double>(std::min(recovered, distributed)) /
           static_cast<double>(distributed);
  };
  std::vector<EffectivenessPoint> out;
  int64_t recovered =
      std::max<int64_t>(0, recall.distributed_at_initiation() -
                               recall.outstanding_at_initiation());
  out.push_back(
      {FromTimestamp(recall.initiated_at()), recovered, percent(recovered)});
  std::vector<const v1::CustomerResponse*> responses;
  for (const v1::CustomerResponse& r : recall.responses()) {
    responses.push_back(&r);
  }
  std::stable_sort(
      responses.begin(), responses.end(),
      [](const v1::CustomerResponse* a, const v1::CustomerResponse* b) {
        return FromTimestamp(a->recorded_at()) <
               FromTimestamp(b->recorded_at());
      });
  for (const v1::CustomerResponse* r : responses) {
    for (const v1::RecallResponseLine& l : r->response().lines()) {
      recovered += l.returned() + l.destroyed();
    }
    recovered = std::min(recovered, std::max<int64_t>(distributed, 0));
    out.push_back(
        {FromTimestamp(r->recorded_at()), recovered, percent(recovered)});
  }
  if (effectiveness.has_value() && effectiveness->has_as_of()) {
    const v1::Recovery& o = effectiveness->overall();
    out.push_back(
        {FromTimestamp(effectiveness->as_of()), o.recovered(), o.percent()});
  }
  return out;
}

std::string RenderRecallList(const std::vector<v1::RecallSummary>& recalls) {
  std::string body = absl::StrCat(
      "<h1>Recalls</h1><table id=\"recalls\">",
      Th({"Recall", "Title", "Class", "Status", "Lots", "Initiated", "Closed"}),
      "<tbody>");
  for (const v1::RecallSummary& r : recalls) {
    absl::StrAppend(
        &body, "<tr><td><a class=\"recall-link\" href=\"",
        HtmlEscape(RecallPath(r.recall_id())), "\">", HtmlEscape(r.recall_id()),
        "</a></td><td>", HtmlEscape(r.title()), "</td><td>",
        recall::ClassName(r.classification()), "</td><td>",
        StatusName(r.status()), "</td><td class=\"num\">", r.lots_in_scope(),
        "</td><td>", FormatTime(r.initiated_at()), " by ",
        HtmlEscape(r.initiated_by()), "</td><td>", FormatTime(r.closed_at()),
        "</td></tr>");
  }
  absl::StrAppend(&body, "</tbody></table>");
  if (recalls.empty()) absl::StrAppend(&body, "<p>No recalls.</p>");
  return RenderPage("Recalls", body);
}

std::string RenderRecallPage(const RecallPageData& d) {
  return RenderPage(absl::StrCat("Recall ", d.recall.recall_id()),
                    absl::StrCat(RenderHeader(d.recall), RenderScope(d.recall),
                                 RenderImpact(d), RenderNotifications(d),
                                 RenderEffectiveness(d)));
}

}  // namespace lotledger::console
