#include "services/recall/recall_report.h"

#include <limits>
#include <map>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "libs/common/html.h"
#include "libs/common/proto_time.h"
#include "libs/domain/recall/decider.h"
#include "libs/domain/recall/scope.h"
#include "libs/domain/serials/serials.h"

namespace lotledger::recall {
namespace {

// One RFC 4180 cell; a cell a spreadsheet would read as a formula
// (starting with = + - @, tab or CR) starts with ' so that it stays text.
std::string Csv(std::string_view s) {
  std::string cell;
  if (!s.empty() &&
      std::string_view("=+-@\t\r").find(s.front()) != std::string_view::npos) {
    cell = "'";
  }
  cell.append(s);
  if (cell.find_first_of(",\"\r\n") == std::string::npos) return cell;
  std::string out = "\"";
  for (char c : cell) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string Time(const google::protobuf::Timestamp& t) {
  if (t.seconds() == 0 && t.nanos() == 0) return "";
  return absl::FormatTime("%Y-%m-%d %H:%M UTC", FromTimestamp(t),
                          absl::UTCTimeZone());
}

std::string Date(const v1::Date& d) {
  if (d.year() == 0) return "";
  return absl::StrFormat("%04d-%02d-%02d", d.year(), d.month(), d.day());
}

std::string Status(v1::RecallStatus s) {
  return s == v1::RECALL_STATUS_CLOSED ? "closed" : "open";
}

// Every serial of `ranges` as ranges ("SN0001..SN0004, SN0009").
std::string AllSerials(const domain::SerialRanges& ranges) {
  return domain::FormatSerials(ranges, std::numeric_limits<int>::max());
}

std::string Percent(const v1::Recovery& r) {
  return absl::StrFormat("%.1f%%", r.percent());
}

// lot id -> "A > B > C", computed once per report.
std::unordered_map<std::string, std::string> Paths(const v1::Recall& recall) {
  std::unordered_map<std::string, const v1::ScopedLot*> by_id;
  for (const v1::ScopedLot& s : recall.scope()) by_id.emplace(s.lot_id(), &s);
  std::unordered_map<std::string, std::string> out;
  for (const v1::ScopedLot& s : recall.scope()) {
    auto via = out.find(s.via_lot_id());
    out[s.lot_id()] = s.via_lot_id().empty() || via == out.end()
                          ? s.lot_id()
                          : absl::StrCat(via->second, " > ", s.lot_id());
  }
  return out;
}

}  // namespace

std::string RenderCsv(const v1::Recall& recall, const v1::RecallImpact& impact,
                      const v1::Effectiveness& effectiveness) {
  const auto paths = Paths(recall);
  std::unordered_map<std::string, const v1::CustomerEffectiveness*> answers;
  for (const v1::CustomerEffectiveness& c : effectiveness.customers()) {
    answers.emplace(c.customer().customer_id(), &c);
  }
  // Destroyed per customer and lot, from the responses.
  std::map<std::pair<std::string, std::string>, int64_t> destroyed;
  for (const v1::CustomerResponse& r : recall.responses()) {
    for (const v1::RecallResponseLine& l : r.response().lines()) {
      destroyed[{r.response().customer_id(), l.lot_id()}] += l.destroyed();
    }
  }
  // Customers per lot.
  std::unordered_map<std::string,
                     std::vector<std::pair<const v1::CustomerImpact*,
                                           const v1::CustomerLotImpact*>>>
      by_lot;
  for (const v1::CustomerImpact& c : impact.customers()) {
    for (const v1::CustomerLotImpact& l : c.lots()) {
      by_lot[l.lot_id()].emplace_back(&c, &l);
    }
  }
  std::string out =
      "recall_id,class,status,lot_id,item,lot_number,scope,depth,"
      "genealogy_path,customer_id,customer_name,region,uom,shipped,returned,"
      "destroyed,recovered,outstanding,answered,lot_on_hand,serials,used\r\n";
  const std::string head = absl::StrCat(Csv(recall.recall_id()), ",",
                                        Csv(ClassName(recall.classification())),
                                        ",", Status(recall.status()), ",");
  for (const v1::LotImpact& li : impact.lots()) {
    const v1::ScopedLot& s = li.lot();
    const std::string lot_cols =
        absl::StrCat(Csv(s.lot_id()), ",", Csv(s.item()), ",",
                     Csv(s.lot_number()), ",", ScopeReasonName(s.reason()), ",",
                     s.depth(), ",", Csv(paths.at(s.lot_id())), ",");
    auto rows = by_lot.find(s.lot_id());
    if (rows == by_lot.end()) {
      absl::StrAppend(&out, head, lot_cols, ",,,", Csv(s.uom()), ",0,0,0,0,0,,",
                      li.on_hand(), ",,\r\n");
      continue;
    }
    for (const auto& [c, l] : rows->second) {
      const std::string& id = c->customer().customer_id();
      const int64_t d = destroyed[{id, s.lot_id()}];
      const int64_t recovered = std::min(l->shipped(), l->returned() + d);
      auto a = answers.find(id);
      absl::StrAppend(
          &out, head, lot_cols, Csv(id), ",", Csv(c->customer().name()), ",",
          Csv(c->customer().region()), ",", Csv(l->uom()), ",", l->shipped(),
          ",", l->returned(), ",", d, ",", recovered, ",",
          l->shipped() - recovered, ",",
          a != answers.end() && a->second->answered() ? "yes" : "no", ",",
          li.on_hand(), ",", Csv(AllSerials(l->serials())), ",",
          l->serials().empty() ? "" : absl::StrCat(l->used()), "\r\n");
    }
  }
  return out;
}

std::string RenderHtml(const v1::Recall& recall, const v1::RecallImpact& impact,
                       const v1::Effectiveness& eff) {
  const auto paths = Paths(recall);
  std::string o;
  const std::string title =
      absl::StrCat(ClassName(recall.classification()), " recall ",
                   recall.recall_id(), ": ", recall.title());
  absl::StrAppend(
      &o, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
      "<title>", HtmlEscape(title), "</title><style>",
      "body{font-family:system-ui,sans-serif;margin:2em;color:#222}",
      "table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:.9em}",
      "th,td{border:1px solid #bbb;padding:.25em .5em;text-align:left}",
      "td.n{text-align:right}th{background:#eee}",
      "dt{font-weight:bold}dd{margin:0 0 .5em 1em}",
      ".closed{color:#555}.open{color:#b00}", "</style></head><body>\n");
  absl::StrAppend(
      &o, "<h1>", HtmlEscape(title), "</h1>\n<p class=\"",
      Status(recall.status()), "\">Status: <b>", Status(recall.status()),
      "</b></p>\n<dl>", "<dt>Reason</dt><dd>", HtmlEscape(recall.reason()),
      "</dd>", "<dt>Health hazard assessment</dt><dd>",
      HtmlEscape(recall.health_hazard()), "</dd>",
      "<dt>Instructions to customers</dt><dd>",
      HtmlEscape(recall.instructions()), "</dd>", "<dt>Initiated</dt><dd>",
      HtmlEscape(Time(recall.initiated_at())), " by ",
      HtmlEscape(recall.initiated_by()), "</dd>");
  if (recall.status() == v1::RECALL_STATUS_CLOSED) {
    absl::StrAppend(&o, "<dt>Closed</dt><dd>",
                    HtmlEscape(Time(recall.closed_at())), " by ",
                    HtmlEscape(recall.closed_by()), ": ",
                    HtmlEscape(recall.summary()), "</dd>");
    if (!recall.unanswered_reason().empty()) {
      absl::StrAppend(
          &o, "<dt>Closed without answers from</dt><dd>",
          HtmlEscape(absl::StrJoin(recall.unanswered_customer_ids(), ", ")),
          ": ", HtmlEscape(recall.unanswered_reason()), "</dd>");
    }
  }
  absl::StrAppend(&o, "</dl>\n");

  const v1::Recovery& all = eff.overall();
  absl::StrAppend(
      &o, "<h2>Effectiveness</h2>\n<p>Recovered <b>", all.recovered(),
      "</b> of ", all.distributed(), " distributed (<b>", Percent(all),
      "</b>): ", all.returned(), " returned, ", all.destroyed(),
      " destroyed on site, ", all.outstanding(),
      " outstanding. Customers: ", eff.customers_affected(), " affected, ",
      eff.customers_notified(), " notified, ", eff.customers_answered(),
      " answered",
      eff.unanswered_customer_ids().empty()
          ? ""
          : absl::StrCat(
                "; without answer after ", eff.unanswered_after_days(),
                " days: ",
                HtmlEscape(absl::StrJoin(eff.unanswered_customer_ids(), ", "))),
      ". As of ", HtmlEscape(Time(eff.as_of())), ".</p>\n");

  absl::StrAppend(&o, "<h2>Scope: ", impact.lots_in_scope(),
                  " lots</h2>\n<table><tr><th>Lot</th><th>Item</th>"
                  "<th>Lot number</th><th>How</th><th>Genealogy path</th>"
                  "<th>Made</th><th>Expires</th><th>Shipped</th>"
                  "<th>Returned</th><th>Outstanding</th><th>On hand</th>"
                  "<th>Recovered</th></tr>\n");
  std::unordered_map<std::string, const v1::Recovery*> lot_eff;
  for (const v1::LotEffectiveness& l : eff.lots()) {
    lot_eff.emplace(l.lot_id(), &l.recovery());
  }
  for (const v1::LotImpact& li : impact.lots()) {
    const v1::ScopedLot& s = li.lot();
    auto le = lot_eff.find(s.lot_id());
    absl::StrAppend(
        &o, "<tr><td>", HtmlEscape(s.lot_id()), "</td><td>",
        HtmlEscape(s.item()), "</td><td>", HtmlEscape(s.lot_number()),
        "</td><td>", ScopeReasonName(s.reason()), "</td><td>",
        HtmlEscape(paths.at(s.lot_id())), "</td><td>",
        Date(s.manufactured_on()), "</td><td>", Date(s.expires_on()),
        "</td><td class=\"n\">", li.shipped(), "</td><td class=\"n\">",
        li.returned(), "</td><td class=\"n\">", li.outstanding(),
        "</td><td class=\"n\">", li.on_hand(), "</td><td class=\"n\">",
        le == lot_eff.end() ? "" : Percent(*le->second), "</td></tr>\n");
  }
  absl::StrAppend(&o, "</table>\n");

  absl::StrAppend(&o, "<h2>Customers: ", impact.customers_affected(),
                  "</h2>\n<table><tr><th>Customer</th><th>Name</th>"
                  "<th>Region</th><th>Lot</th><th>Shipped</th><th>Returned</th>"
                  "<th>Held</th><th>Last shipped</th>"
                  "<th>Serials held (used)</th></tr>\n");
  for (const v1::CustomerImpact& c : impact.customers()) {
    for (const v1::CustomerLotImpact& l : c.lots()) {
      absl::StrAppend(&o, "<tr><td>", HtmlEscape(c.customer().customer_id()),
                      "</td><td>", HtmlEscape(c.customer().name()), "</td><td>",
                      HtmlEscape(c.customer().region()), "</td><td>",
                      HtmlEscape(l.lot_id()), "</td><td class=\"n\">",
                      l.shipped(), " ", HtmlEscape(l.uom()),
                      "</td><td class=\"n\">", l.returned(),
                      "</td><td class=\"n\">", l.held(), "</td><td>",
                      Date(l.last_shipped_on()), "</td><td>",
                      l.serials().empty()
                          ? ""
                          : HtmlEscape(absl::StrCat(AllSerials(l.serials()),
                                                    " (", l.used(), " used)")),
                      "</td></tr>\n");
    }
  }
  absl::StrAppend(&o, "</table>\n");

  absl::StrAppend(&o, "<h2>Notifications: ", recall.notifications_size(),
                  "</h2>\n<table><tr><th>Notification</th><th>Customer</th>"
                  "<th>Issued</th><th>By</th><th>Lots</th></tr>\n");
  for (const v1::RecallNotification& n : recall.notifications()) {
    std::vector<std::string> lots;
    for (const v1::RecallNoticeLine& l : n.notice().lines()) {
      lots.push_back(
          absl::StrCat(l.lot_id(), " (", l.held(), " ", l.uom(), ")"));
    }
    absl::StrAppend(&o, "<tr><td>", HtmlEscape(n.notice().notification_id()),
                    "</td><td>", HtmlEscape(n.notice().customer().name()),
                    "</td><td>", HtmlEscape(Time(n.issued_at())), "</td><td>",
                    HtmlEscape(n.issued_by()), "</td><td>",
                    HtmlEscape(absl::StrJoin(lots, ", ")), "</td></tr>\n");
  }
  absl::StrAppend(&o, "</table>\n");

  absl::StrAppend(&o, "<h2>Responses: ", recall.responses_size(),
                  "</h2>\n<table><tr><th>Customer</th><th>Recorded</th>"
                  "<th>By</th><th>Acknowledged</th><th>Nothing found</th>"
                  "<th>Lines</th><th>Notes</th></tr>\n");
  for (const v1::CustomerResponse& r : recall.responses()) {
    std::vector<std::string> lines;
    for (const v1::RecallResponseLine& l : r.response().lines()) {
      lines.push_back(absl::StrCat(l.lot_id(), ": returned ", l.returned(),
                                   ", destroyed ", l.destroyed()));
    }
    absl::StrAppend(&o, "<tr><td>", HtmlEscape(r.response().customer_id()),
                    "</td><td>", HtmlEscape(Time(r.recorded_at())), "</td><td>",
                    HtmlEscape(r.recorded_by()), "</td><td>",
                    r.response().acknowledged() ? "yes" : "no", "</td><td>",
                    r.response().nothing_found() ? "yes" : "no", "</td><td>",
                    HtmlEscape(absl::StrJoin(lines, "; ")), "</td><td>",
                    HtmlEscape(r.response().notes()), "</td></tr>\n");
  }
  absl::StrAppend(&o, "</table>\n");

  absl::StrAppend(&o,
                  "<h2>Effectiveness by customer</h2>\n<table><tr>"
                  "<th>Customer</th><th>Distributed</th><th>Returned</th>"
                  "<th>Destroyed</th><th>Outstanding</th><th>Recovered</th>"
                  "<th>Answered</th><th>Days without answer</th></tr>\n");
  for (const v1::CustomerEffectiveness& c : eff.customers()) {
    const v1::Recovery& r = c.recovery();
    absl::StrAppend(
        &o, "<tr><td>", HtmlEscape(c.customer().customer_id()),
        "</td><td class=\"n\">", r.distributed(), "</td><td class=\"n\">",
        r.returned(), "</td><td class=\"n\">", r.destroyed(),
        "</td><td class=\"n\">", r.outstanding(), "</td><td class=\"n\">",
        Percent(r), "</td><td>", c.answered() ? "yes" : "no",
        "</td><td class=\"n\">", c.days_without_answer(), "</td></tr>\n");
  }
  absl::StrAppend(&o, "</table>\n</body></html>\n");
  return o;
}

}  // namespace lotledger::recall
