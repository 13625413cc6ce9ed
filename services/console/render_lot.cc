// The lot page: facts, disposition with its signatures, stock, genealogy,
// timeline, and the verify / as-of / EPCIS actions (render.h).
#include <string>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "libs/common/html.h"
#include "libs/common/proto_time.h"
#include "services/console/http.h"
#include "services/console/render.h"

namespace lotledger::console {
namespace {

namespace v1 = lotledger::v1;

bool DateBefore(const v1::Date& a, const v1::Date& b) {
  return std::make_tuple(a.year(), a.month(), a.day()) <
         std::make_tuple(b.year(), b.month(), b.day());
}

std::string Qty(const v1::Quantity& q) {
  return absl::StrCat(q.amount(), " ", HtmlEscape(q.uom()));
}

void Fact(std::string& out, std::string_view label, std::string_view html) {
  if (html.empty()) return;
  absl::StrAppend(&out, "<dt>", std::string(label), "</dt><dd>",
                  std::string(html), "</dd>");
}

// "lots" from "lotledger.lots.v1" (a topic without deployment prefix).
std::string ServiceOfTopic(std::string_view topic) {
  std::vector<std::string_view> parts = Split(topic, ".");
  return parts.size() >= 2 ? std::string(parts[1]) : std::string(topic);
}

// "StockShipped" from "lotledger.v1.StockShipped".
std::string_view ShortType(std::string_view type) {
  const size_t dot = type.rfind('.');
  return dot == std::string_view::npos ? type : type.substr(dot + 1);
}

std::string ExpirySourceName(v1::ExpirySource s) {
  switch (s) {
    case v1::EXPIRY_SOURCE_GIVEN:
      return "entered with the lot";
    case v1::EXPIRY_SOURCE_SHELF_LIFE:
      return "manufacture date + shelf life";
    case v1::EXPIRY_SOURCE_COMPONENT_CAP:
      return "capped by a component";
    default:
      return "";
  }
}

std::string RenderFacts(const LotPageData& d) {
  const v1::Lot& lot = d.as_of.has_value() ? d.as_of->lot() : d.lot;
  std::string out =
      "<h2 id=\"facts-heading\">Facts</h2>"
      "<dl class=\"facts\" id=\"lot-facts\" "
      "aria-labelledby=\"facts-heading\">";
  if (d.as_of.has_value() && !d.as_of->exists()) {
    absl::StrAppend(&out,
                    "<dt>Status</dt><dd id=\"lot-status\">not yet "
                    "created at that time</dd></dl>");
    return out;
  }
  std::string product = HtmlEscape(lot.item());
  if (d.product.has_value() && !d.product->name().empty()) {
    product = absl::StrCat(HtmlEscape(d.product->name()), " (",
                           HtmlEscape(lot.item()), ")");
  }
  Fact(out, "Product", product);
  Fact(out, "Lot number", HtmlEscape(lot.lot_number()));
  Fact(out, "Manufactured", FormatDate(lot.manufactured_on()));
  std::string expiry = FormatDate(lot.expires_on());
  if (!expiry.empty()) {
    std::string source = ExpirySourceName(lot.expiry_source());
    if (!lot.expiry_set_by_lot_id().empty()) {
      absl::StrAppend(&source, " ", HtmlEscape(lot.expiry_set_by_lot_id()));
    }
    if (!source.empty()) absl::StrAppend(&expiry, " (", source, ")");
  }
  Fact(out, "Expires", expiry);
  Fact(out, "Quantity", Qty(lot.quantity()));
  if (lot.consumed().amount() != 0) {
    Fact(out, "Consumed by other lots", Qty(lot.consumed()));
  }
  Fact(out, "Site", HtmlEscape(lot.site()));
  Fact(out, "Production order", HtmlEscape(lot.production_order()));
  Fact(out, "Supplier", HtmlEscape(lot.supplier()));
  Fact(out, "Supplier lot", HtmlEscape(lot.supplier_lot()));

  // Status: disposition, recall, expiry, stock.
  std::string status;
  bool recalled = false;
  std::string recall_id;
  int64_t on_hand = 0;
  bool have_stock = false;
  if (d.as_of.has_value()) {
    status = DispositionName(d.as_of->disposition());
    recalled = d.as_of->recalled();
    recall_id = d.as_of->recall_id();
    on_hand = d.as_of->on_hand();
    have_stock = true;
  } else {
    status = d.quality.has_value()
                 ? DispositionName(d.quality->disposition())
                 : DispositionName(v1::DISPOSITION_UNSPECIFIED);
    if (d.inventory.has_value()) {
      recalled = d.inventory->recalled();
      recall_id = d.inventory->recall_id();
      on_hand = d.inventory->on_hand();
      have_stock = true;
    }
    if (lot.expires_on().year() != 0 &&
        !DateBefore(d.today, lot.expires_on())) {
      absl::StrAppend(&status, "; expired");
    }
  }
  if (recalled) {
    absl::StrAppend(&status, "; recalled (", HtmlEscape(recall_id), ")");
  }
  if (have_stock) {
    absl::StrAppend(&status, "; ", on_hand, " ",
                    HtmlEscape(lot.quantity().uom()), " on hand");
  }
  absl::StrAppend(&out, "<dt>Status</dt><dd id=\"lot-status\">", status,
                  "</dd>");
  Fact(out, "Created",
       absl::StrCat(FormatTime(lot.created_at()), " by ",
                    HtmlEscape(lot.created_by())));
  if (lot.corrections_size() > 0) {
    std::string list = "<ul>";
    for (const v1::LotCorrection& c : lot.corrections()) {
      absl::StrAppend(&list, "<li>", HtmlEscape(c.correction().field()), ": ",
                      HtmlEscape(c.correction().old_value()), " → ",
                      HtmlEscape(c.correction().new_value()), " — ",
                      HtmlEscape(c.correction().reason()), " (",
                      HtmlEscape(c.actor()), ", ", FormatTime(c.recorded_at()),
                      ")</li>");
    }
    absl::StrAppend(&list, "</ul>");
    Fact(out, "Corrections", list);
  }
  absl::StrAppend(&out, "</dl>");
  return out;
}

std::string SignatureRow(const std::string& change, const v1::Signature& s,
                         const std::string& extra) {
  return absl::StrCat("<tr class=\"signature\"><td>", change,
                      "</td><td class=\"signer\">", HtmlEscape(s.signer()),
                      "</td><td class=\"meaning\">", HtmlEscape(s.meaning()),
                      "</td><td class=\"reason\">", HtmlEscape(s.reason()),
                      extra,
                      "</td><td class=\"signed-at\"><time "
                      "datetime=\"",
                      Rfc3339(s.signed_at()), "\">", FormatTime(s.signed_at()),
                      "</time></td></tr>");
}

std::string RenderDisposition(const LotPageData& d) {
  std::string out =
      "<h2 id=\"disposition-heading\">Disposition and signatures</h2>"
      "<table id=\"disposition\" aria-labelledby=\"disposition-heading\">"
      "<thead><tr><th scope=\"col\">Change</th><th scope=\"col\">Who</th>"
      "<th scope=\"col\">Meaning</th><th scope=\"col\">Reason</th>"
      "<th scope=\"col\">When</th></tr></thead><tbody>";
  if (d.as_of.has_value()) {
    // As the AsOf answer folds it: the disposition in force then.
    if (d.as_of->disposition() != v1::DISPOSITION_UNSPECIFIED) {
      v1::Signature s;
      s.set_signer(d.as_of->disposition_by());
      s.set_meaning(DispositionName(d.as_of->disposition()));
      s.set_reason(d.as_of->disposition_reason());
      *s.mutable_signed_at() = d.as_of->disposition_since();
      absl::StrAppend(&out, SignatureRow("in force then", s, ""));
    }
  } else if (d.quality.has_value()) {
    for (const v1::SignedDisposition& sd : d.quality->signatures()) {
      const v1::DispositionChanged& c = sd.change();
      std::string extra;
      if (c.has_deviation()) {
        absl::StrAppend(
            &extra, "<br>deviation ", HtmlEscape(c.deviation().deviation_id()),
            ": ", HtmlEscape(c.deviation().justification()), "; co-signed by ",
            HtmlEscape(c.deviation().approval().signer()), " (",
            HtmlEscape(c.deviation().approval().meaning()), ")");
      }
      absl::StrAppend(
          &out, SignatureRow(absl::StrCat(DispositionName(c.from()), " → ",
                                          DispositionName(c.to())),
                             c.signature(), extra));
    }
  }
  absl::StrAppend(&out, "</tbody></table>");
  if (!d.quality_error.empty() && !d.as_of.has_value()) {
    absl::StrAppend(&out, "<p class=\"error\">Quality record: ",
                    HtmlEscape(d.quality_error), "</p>");
  }
  return out;
}

std::string RenderStock(const LotPageData& d) {
  const google::protobuf::RepeatedPtrField<v1::LocationStock>* stock = nullptr;
  if (d.as_of.has_value()) {
    stock = &d.as_of->stock();
  } else if (d.inventory.has_value()) {
    stock = &d.inventory->stock();
  }
  std::string out = "<h2 id=\"stock-heading\">Stock by location</h2>";
  if (stock == nullptr) {
    if (!d.inventory_error.empty()) {
      absl::StrAppend(&out, "<p class=\"error\">Inventory: ",
                      HtmlEscape(d.inventory_error), "</p>");
    }
    return out;
  }
  absl::StrAppend(&out,
                  "<table id=\"stock\" aria-labelledby=\"stock-heading\">"
                  "<thead><tr><th scope=\"col\">Location</th>"
                  "<th scope=\"col\">On hand</th></tr></thead><tbody>");
  for (const v1::LocationStock& s : *stock) {
    absl::StrAppend(&out, "<tr><td>", HtmlEscape(s.location_id()),
                    "</td><td class=\"num\">", s.amount(), "</td></tr>");
  }
  absl::StrAppend(&out, "</tbody></table>");
  return out;
}

std::string RenderTimeline(const LotPageData& d) {
  std::string out =
      absl::StrCat("<h2 id=\"timeline-heading\">Timeline (", d.history.size(),
                   " events, business time order)</h2>");
  if (!d.history_error.empty()) {
    absl::StrAppend(&out,
                    "<p class=\"error\">History: ", HtmlEscape(d.history_error),
                    "</p>");
  }
  absl::StrAppend(&out,
                  "<ol class=\"timeline\" id=\"timeline\" "
                  "aria-labelledby=\"timeline-heading\">");
  const bool record_axis =
      d.as_of.has_value() && d.as_of->axis() == v1::TIME_AXIS_RECORD;
  for (const v1::HistoryEntry& e : d.history) {
    bool later = false;
    if (d.as_of.has_value()) {
      const auto& t = record_axis ? e.recorded_at() : e.occurred_at();
      later = FromTimestamp(t) > FromTimestamp(d.as_of->at());
    }
    const std::string service = ServiceOfTopic(e.topic());
    absl::StrAppend(&out, "<li class=\"event", later ? " later" : "",
                    "\" data-service=\"", HtmlEscape(service),
                    "\" data-type=\"", HtmlEscape(e.event_type()),
                    "\" data-business-time=\"", Rfc3339(e.occurred_at()),
                    "\" data-record-time=\"", Rfc3339(e.recorded_at()),
                    "\"><time datetime=\"", Rfc3339(e.occurred_at()), "\">",
                    FormatTime(e.occurred_at()), "</time> <span class=\"svc\">",
                    HtmlEscape(service), "</span> <strong>",
                    HtmlEscape(ShortType(e.event_type())), "</strong> ",
                    HtmlEscape(e.description()));
    if (!e.reason().empty()) {
      absl::StrAppend(&out, " <span class=\"reason\">reason: ",
                      HtmlEscape(e.reason()), "</span>");
    }
    absl::StrAppend(&out, "<br><span class=\"note\">by ", HtmlEscape(e.actor()),
                    "; recorded ", FormatTime(e.recorded_at()), "; ",
                    HtmlEscape(e.topic()), " seq ", e.seq(),
                    later ? "; after the as-of time" : "", "</span></li>");
  }
  absl::StrAppend(&out, "</ol>");
  return out;
}

std::string RenderActions(const LotPageData& d) {
  const std::string path = HtmlEscape(LotPath(d.lot_id));
  std::string date = d.as_of_input.substr(0, 10);
  const bool record_axis =
      d.as_of.has_value() && d.as_of->axis() == v1::TIME_AXIS_RECORD;
  return absl::StrCat(
      "<section aria-label=\"Actions\"><form id=\"verify-form\" "
      "method=\"post\" action=\"",
      path,
      "/verify\"><button type=\"submit\" id=\"verify-button\">Verify the "
      "hash chains</button></form>"
      "<form id=\"as-of-form\" method=\"get\" action=\"",
      path,
      "\"><label for=\"as-of\">State as of</label>"
      "<input type=\"date\" id=\"as-of\" name=\"as_of\" value=\"",
      HtmlEscape(date),
      "\"> <label for=\"as-of-axis\">clock</label>"
      "<select id=\"as-of-axis\" name=\"axis\">"
      "<option value=\"business\"",
      record_axis ? "" : " selected",
      ">as it was (business time)</option><option value=\"record\"",
      record_axis ? " selected" : "",
      ">as we knew it (record time)</option></select> "
      "<button type=\"submit\" id=\"as-of-submit\">Show</button>",
      d.as_of.has_value()
          ? absl::StrCat(" <a href=\"", path, "\" id=\"as-of-clear\">now</a>")
          : "",
      "</form><p><a id=\"epcis-download\" href=\"", path,
      "/epcis.json\" download>Download EPCIS 2.0 (JSON-LD)</a></p>"
      "</section>");
}

std::string RenderVerify(const LotPageData& d) {
  if (!d.verify_error.empty()) {
    return absl::StrCat(
        "<p class=\"broken\" id=\"verify-result\" "
        "role=\"status\">Verification failed: ",
        HtmlEscape(d.verify_error), "</p>");
  }
  if (!d.verify.has_value()) return "";
  const v1::VerifyLotResponse& v = *d.verify;
  if (v.ok()) {
    return absl::StrCat(
        "<p class=\"ok\" id=\"verify-result\" "
        "role=\"status\">intact: ",
        v.records_checked(), " records in ", v.chains_checked(), " chains</p>");
  }
  const v1::ChainBreak& b = v.first_break();
  return absl::StrCat(
      "<p class=\"broken\" id=\"verify-result\" role=\"status\">BROKEN at ",
      HtmlEscape(b.topic()), "/", b.partition(), " offset ", b.offset(),
      " (aggregate ", HtmlEscape(b.aggregate_id()), ", seq ", b.seq(),
      "): ", HtmlEscape(b.what()),
      b.expected().empty()
          ? ""
          : absl::StrCat("<br>expected ", HtmlEscape(b.expected()),
                         "<br>found ", HtmlEscape(b.found())),
      "<br>", v.records_checked(), " records in ", v.chains_checked(),
      " chains checked</p>");
}

}  // namespace

std::string RenderLotPage(const LotPageData& d) {
  std::string body = absl::StrCat("<h1>Lot <span id=\"lot-id\">",
                                  HtmlEscape(d.lot_id), "</span></h1>");
  if (d.as_of.has_value()) {
    absl::StrAppend(
        &body,
        "<p class=\"banner\" id=\"as-of-banner\" role=\"status\">"
        "State as of ",
        FormatTime(d.as_of->at()),
        d.as_of->axis() == v1::TIME_AXIS_RECORD
            ? " as the system knew it (record time)"
            : " as it was (business time)",
        ": ", d.as_of->events_folded(),
        " events folded. Facts, disposition and stock below are as of then; "
        "later events in the timeline are dimmed.</p>");
  }
  absl::StrAppend(&body, RenderVerify(d), RenderActions(d), RenderFacts(d),
                  RenderDisposition(d), RenderStock(d),
                  RenderGenealogy(d.lot_id, d.backward, d.forward));
  if (!d.trace_error.empty()) {
    absl::StrAppend(&body,
                    "<p class=\"error\">Genealogy: ", HtmlEscape(d.trace_error),
                    "</p>");
  }
  absl::StrAppend(&body, RenderTimeline(d));
  return RenderPage(absl::StrCat("Lot ", d.lot_id), body);
}

}  // namespace lotledger::console
