// The page frame, formatting helpers and the small pages (login, search,
// refusal, not found, error).
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "libs/common/html.h"
#include "libs/common/proto_time.h"
#include "services/console/http.h"
#include "services/console/render.h"

namespace lotledger::console {

std::string_view ConsoleCss() {
  static constexpr std::string_view kCss = R"css(
:root { color-scheme: light; }
body { font-family: system-ui, sans-serif; margin: 0; color: #000;
  background: #fff; line-height: 1.4; }
nav { background: #002b5c; padding: .5rem 1rem; }
nav a { color: #fff; margin-right: 1.5rem; font-weight: bold; }
main { padding: 1rem 1.5rem; max-width: 80rem; }
a { color: #00327a; }
a:focus, button:focus, input:focus, select:focus {
  outline: 3px solid #c45500; outline-offset: 2px; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: .5rem 0; }
th, td { border: 1px solid #444; padding: .25rem .5rem; text-align: left;
  vertical-align: top; }
th { background: #e6e6e6; }
td.num { text-align: right; }
dl.facts { display: grid; grid-template-columns: max-content auto;
  gap: .2rem 1rem; } dl.facts dt { font-weight: bold; }
label { font-weight: bold; margin-right: .3rem; }
form { margin: .6rem 0; }
input, select, button { font-size: 1rem; padding: .25rem .4rem; }
button { background: #002b5c; color: #fff; border: 2px solid #002b5c;
  cursor: pointer; }
.banner { background: #fff3cd; border: 2px solid #5c4400; padding: .5rem; }
.refusal, .error, .broken { background: #fde8e8; border: 2px solid #8b0000;
  color: #5a0000; padding: .5rem; }
.ok { background: #e3f4e3; border: 2px solid #0b5d1e; color: #063d12;
  padding: .5rem; }
.note { color: #333; }
ol.timeline { list-style: none; padding-left: 0; }
ol.timeline li { border-left: 4px solid #002b5c; margin: 0 0 .6rem 0;
  padding: .2rem .6rem;
  content-visibility: auto; contain-intrinsic-size: auto 3.2rem; }
ol.timeline li.later { opacity: .6; }
.svc { display: inline-block; min-width: 5.5rem; font-weight: bold; }
.heat-0 { background: #fff; } .heat-1 { background: #fde3c8; }
.heat-2 { background: #f9b97a; } .heat-3 { background: #e8772e; color: #000; }
.heat-4 { background: #8b2500; color: #fff; }
svg text { font-size: 12px; }
svg a:focus rect { stroke: #c45500; stroke-width: 4; }
)css";
  return kCss;
}

std::string RenderPage(std::string_view title, std::string_view body_html,
                       bool signed_in) {
  return absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, "
      "initial-scale=1\"><title>",
      HtmlEscape(title),
      " · lotledger</title><link rel=\"stylesheet\" "
      "href=\"/static/console.css\"></head><body>"
      "<nav aria-label=\"Main\"><a href=\"/\">Search</a>"
      "<a href=\"/recalls\">Recalls</a><a href=\"/expiry\">Expiry</a>",
      signed_in ? "<a href=\"/logout\">Sign out</a>" : "", "</nav><main>",
      std::string(body_html), "</main></body></html>\n");
}

std::string LotPath(std::string_view lot_id) {
  return "/lots/" + PercentEncode(lot_id, ":");
}

std::string RecallPath(std::string_view recall_id) {
  return "/recalls/" + PercentEncode(recall_id);
}

std::string FormatDate(const lotledger::v1::Date& date) {
  if (date.year() == 0) return "";
  return absl::StrFormat("%04d-%02d-%02d", date.year(), date.month(),
                         date.day());
}

std::string FormatTime(const google::protobuf::Timestamp& ts) {
  if (ts.seconds() == 0 && ts.nanos() == 0) return "";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", FromTimestamp(ts),
                          absl::UTCTimeZone());
}

std::string Rfc3339(const google::protobuf::Timestamp& ts) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", FromTimestamp(ts),
                          absl::UTCTimeZone());
}

std::string DispositionName(lotledger::v1::Disposition d) {
  switch (d) {
    case lotledger::v1::DISPOSITION_RELEASED:
      return "released";
    case lotledger::v1::DISPOSITION_ON_HOLD:
      return "on hold";
    case lotledger::v1::DISPOSITION_REJECTED:
      return "rejected";
    default:
      return "not released (no disposition yet)";
  }
}

std::string RenderLogin(std::string_view next, std::string_view error) {
  std::string body =
      "<h1>Sign in</h1><p>Paste your access token (in development: a token "
      "from <code>data/dev-tokens</code>). The console sends it to the "
      "services with every request; they decide what you may see.</p>";
  if (!error.empty()) {
    absl::StrAppend(&body, "<p class=\"error\" id=\"login-error\">",
                    HtmlEscape(error), "</p>");
  }
  absl::StrAppend(
      &body,
      "<form id=\"login\" method=\"post\" action=\"/login\">"
      "<input type=\"hidden\" name=\"next\" value=\"",
      HtmlEscape(next),
      "\"><label for=\"token\">Access token</label>"
      "<input type=\"password\" id=\"token\" name=\"token\" "
      "autocomplete=\"off\" required autofocus> "
      "<button type=\"submit\" id=\"login-submit\">Sign in</button></form>");
  return RenderPage("Sign in", body, /*signed_in=*/false);
}

std::string RenderSearch(std::string_view q, std::string_view error) {
  std::string body = absl::StrCat(
      "<h1>Find a lot</h1>"
      "<form id=\"search\" method=\"get\" action=\"/search\" role=\"search\">"
      "<p><label for=\"q\">Lot id or GS1 scan</label>"
      "<input type=\"search\" id=\"q\" name=\"q\" size=\"48\" value=\"",
      HtmlEscape(q),
      "\" placeholder=\"09506000134352:A17 or (01)09506000134352(10)A17\" "
      "autofocus></p>"
      "<p class=\"note\">or by GTIN and lot number:</p><p>"
      "<label for=\"gtin\">GTIN / item</label>"
      "<input type=\"text\" id=\"gtin\" name=\"gtin\" size=\"16\"> "
      "<label for=\"lot-number\">Lot number</label>"
      "<input type=\"text\" id=\"lot-number\" name=\"lot\" size=\"20\"></p>"
      "<button type=\"submit\" id=\"search-submit\">Open lot</button></form>");
  if (!error.empty()) {
    absl::StrAppend(&body,
                    "<p class=\"error\" id=\"search-error\" "
                    "role=\"alert\">",
                    HtmlEscape(error), "</p>");
  }
  return RenderPage("Search", body);
}

std::string RenderRefusal(int http_status, std::string_view reason) {
  std::string body =
      absl::StrCat("<h1>", http_status == 401 ? "Not signed in" : "Not allowed",
                   "</h1><p class=\"refusal\" id=\"refusal\" role=\"alert\">",
                   HtmlEscape(reason), "</p>");
  if (http_status == 401) {
    absl::StrAppend(&body,
                    "<p>The service did not accept your token. "
                    "<a href=\"/login\">Sign in again</a>.</p>");
  } else {
    absl::StrAppend(&body,
                    "<p>Your role does not allow this. Ask an administrator "
                    "if you need it (docs/security.md lists the roles).</p>");
  }
  return RenderPage("Not allowed", body);
}

std::string RenderNotFound(std::string_view reason) {
  return RenderPage(
      "Not found",
      absl::StrCat("<h1>Not found</h1><p class=\"error\" id=\"not-found\">",
                   HtmlEscape(reason), "</p>"));
}

std::string RenderError(std::string_view code, std::string_view reason) {
  return RenderPage(
      "Error",
      absl::StrCat("<h1>Something went wrong</h1><p class=\"error\" "
                   "id=\"error\">",
                   HtmlEscape(code), ": ", HtmlEscape(reason), "</p>"));
}

}  // namespace lotledger::console
