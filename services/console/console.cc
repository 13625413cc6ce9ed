// Routing, sign-in and search (console.h). The pages' handlers are in
// console_lot.cc, console_recall.cc and console_expiry.cc.
#include "services/console/console.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "libs/server/status.h"
#include "services/console/render.h"

namespace lotledger::console {
namespace {

namespace v1 = lotledger::v1;

constexpr size_t kMaxTokenBytes = 8 * 1024;

// A token fits in a cookie unchanged: visible ASCII without the cookie's
// separators (JWTs and dev tokens do).
bool IsCookieSafe(std::string_view token) {
  for (char c : token) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == ';' || c == ',' || c == '"' ||
        c == '\\') {
      return false;
    }
  }
  return true;
}

// Only a local path: "/..." but not "//host" or "/\host".
std::string SafeNext(std::string_view next) {
  if (next.empty() || next[0] != '/' ||
      (next.size() > 1 && (next[1] == '/' || next[1] == '\\'))) {
    return "/";
  }
  for (char c : next) {
    if (static_cast<unsigned char>(c) < 0x20) return "/";
  }
  return std::string(next);
}

// A GS1 scan rather than a lot id: bracketed AIs, an AIM symbology
// identifier, a GS separator, or a long run of digits starting with AI 01.
bool LooksLikeGs1(std::string_view q) {
  if (q.empty()) return false;
  if (q[0] == '(' || q[0] == ']' || q.find('\x1D') != std::string_view::npos) {
    return true;
  }
  return q.size() > 16 && q.substr(0, 2) == "01" &&
         q.find(':') == std::string_view::npos &&
         absl::ascii_isdigit(static_cast<unsigned char>(q[2]));
}

}  // namespace

HttpResponse HtmlResponse(int status, std::string html) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(html);
  return r;
}

HttpResponse Redirect(std::string location) {
  HttpResponse r;
  r.status = 303;
  r.content_type = "text/plain; charset=utf-8";
  r.body = "See " + location + "\n";
  r.headers.emplace_back("Location", std::move(location));
  return r;
}

HttpResponse Download(std::string content_type, std::string_view file_name,
                      std::string body) {
  std::string name;
  for (char c : file_name) {
    name.push_back(absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
                           c == '.' || c == '_' || c == '-'
                       ? c
                       : '_');
  }
  if (name.empty()) name = "download";
  HttpResponse r;
  r.content_type = std::move(content_type);
  r.headers.emplace_back("Content-Disposition",
                         absl::StrCat("attachment; filename=\"", name, "\""));
  r.body = std::move(body);
  return r;
}

HttpResponse StatusPage(const grpc::Status& status) {
  const std::string& message = status.error_message();
  switch (status.error_code()) {
    case grpc::StatusCode::PERMISSION_DENIED:
      return HtmlResponse(403, RenderRefusal(403, message));
    case grpc::StatusCode::UNAUTHENTICATED:
      return HtmlResponse(401, RenderRefusal(401, message));
    case grpc::StatusCode::NOT_FOUND:
      return HtmlResponse(404, RenderNotFound(message));
    default:
      break;
  }
  int http = 502;
  if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) http = 400;
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) http = 503;
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) http = 504;
  return HtmlResponse(
      http, RenderError(server::CodeName(status.error_code()), message));
}

Console::Console(ConsoleClients clients, bool secure_cookie,
                 std::function<absl::Time()> now)
    : clients_(std::move(clients)),
      secure_cookie_(secure_cookie),
      now_(now ? std::move(now) : [] { return absl::Now(); }) {}

HttpResponse Console::Handle(const HttpRequest& request) const {
  const bool get = request.method == "GET";
  const bool post = request.method == "POST";
  if (!get && !post) {
    HttpResponse r = HtmlResponse(
        405, RenderError("METHOD_NOT_ALLOWED", "only GET and POST"));
    r.headers.emplace_back("Allow", "GET, POST");
    return r;
  }
  const std::vector<std::string>& seg = request.segments;
  const Query query = ParseForm(request.query);

  if (request.path == "/healthz") {  // for probes; no sign-in, no data
    HttpResponse r;
    r.content_type = "text/plain; charset=utf-8";
    r.body = "ok\n";
    return r;
  }
  if (request.path == "/static/console.css") {
    HttpResponse r;
    r.content_type = "text/css; charset=utf-8";
    r.body = std::string(ConsoleCss());
    return r;
  }
  if (request.path == "/login") {
    if (post) return Login(request);
    auto next = query.find("next");
    return HtmlResponse(
        200,
        RenderLogin(next == query.end() ? "/" : SafeNext(next->second), ""));
  }
  if (request.path == "/logout") {
    HttpResponse r = Redirect("/login");
    r.headers.emplace_back(
        "Set-Cookie", absl::StrCat(kTokenCookie,
                                   "=; Max-Age=0; HttpOnly; SameSite=Strict; "
                                   "Path=/",
                                   secure_cookie_ ? "; Secure" : ""));
    return r;
  }

  const std::string token = CookieValue(request.Header("cookie"), kTokenCookie);
  if (token.empty()) {
    return Redirect("/login?next=" + PercentEncode(request.target, "/:"));
  }

  const bool verify = seg.size() == 3 && seg[0] == "lots" && seg[2] == "verify";
  if (post && !verify) {
    return HtmlResponse(
        405, RenderError("METHOD_NOT_ALLOWED", "this page is read with GET"));
  }
  if (request.path == "/") return HtmlResponse(200, RenderSearch("", ""));
  if (request.path == "/search") return Search(token, query);
  if (seg.size() >= 2 && seg[0] == "lots" && !seg[1].empty()) {
    if (seg.size() == 2) return LotPage(token, seg[1], query, false);
    if (verify) return LotPage(token, seg[1], query, true);
    if (seg.size() == 3 && seg[2] == "epcis.json") return Epcis(token, seg[1]);
  }
  if (seg.size() == 1 && seg[0] == "recalls") return RecallList(token);
  if (seg.size() >= 2 && seg[0] == "recalls" && !seg[1].empty()) {
    if (seg.size() == 2) return RecallPage(token, seg[1]);
    if (seg.size() == 3 && seg[2] == "report.csv") {
      return RecallReport(token, seg[1], false);
    }
    if (seg.size() == 3 && seg[2] == "report.html") {
      return RecallReport(token, seg[1], true);
    }
  }
  if (request.path == "/expiry") return Expiry(token, query);
  return HtmlResponse(
      404, RenderNotFound(absl::StrCat("no console page at ", request.path)));
}

HttpResponse Console::Login(const HttpRequest& request) const {
  const Query form = ParseForm(request.body);
  auto get = [&](const char* name) {
    auto it = form.find(name);
    return it == form.end() ? std::string() : it->second;
  };
  const std::string next = SafeNext(get("next"));
  const std::string token(absl::StripAsciiWhitespace(get("token")));
  std::string error;
  if (token.empty()) {
    error = "Enter a token.";
  } else if (token.size() > kMaxTokenBytes) {
    error = "That token is too long.";
  } else if (!IsCookieSafe(token)) {
    error = "That is not a token (it holds spaces, quotes or separators).";
  }
  if (!error.empty()) return HtmlResponse(400, RenderLogin(next, error));
  HttpResponse r = Redirect(next);
  r.headers.emplace_back("Set-Cookie",
                         absl::StrCat(kTokenCookie, "=", token,
                                      "; HttpOnly; SameSite=Strict; Path=/",
                                      secure_cookie_ ? "; Secure" : ""));
  return r;
}

HttpResponse Console::Search(const std::string& token,
                             const Query& query) const {
  auto get = [&](const char* name) {
    auto it = query.find(name);
    return it == query.end()
               ? std::string()
               : std::string(absl::StripAsciiWhitespace(it->second));
  };
  const std::string q = get("q");
  const std::string gtin = get("gtin");
  const std::string lot_number = get("lot");
  if (q.empty() && (gtin.empty() || lot_number.empty())) {
    return HtmlResponse(
        400, RenderSearch(q,
                          "Enter a lot id (item:lot number), a GS1 scan, "
                          "or both a GTIN and a lot number."));
  }
  if (!q.empty() && LooksLikeGs1(q)) {
    v1::ResolveUdiRequest req;
    req.set_scan(q);
    v1::ResolveUdiResponse resp;
    grpc::Status s =
        clients_.lots().ResolveUdi(clients_.Call(token).get(), req, &resp);
    if (s.error_code() == grpc::StatusCode::PERMISSION_DENIED ||
        s.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
      return StatusPage(s);
    }
    if (!s.ok()) {
      return HtmlResponse(
          s.error_code() == grpc::StatusCode::INVALID_ARGUMENT ? 400 : 502,
          RenderSearch(
              q, absl::StrCat("The scan cannot be read: ", s.error_message())));
    }
    if (!resp.has_lot()) {
      return HtmlResponse(
          404, RenderSearch(q, absl::StrCat("No lot ", resp.gtin(), ":",
                                            resp.lot_number(),
                                            " is known (from the scan).")));
    }
    return Redirect(LotPath(resp.lot().lot_id()));
  }
  const std::string lot_id = q.empty() ? gtin + ":" + lot_number : q;
  if (lot_id.find(':') == std::string::npos) {
    return HtmlResponse(400,
                        RenderSearch(q,
                                     "A lot id is <item>:<lot number>, e.g. "
                                     "09506000134352:A17."));
  }
  v1::GetLotRequest req;
  req.set_lot_id(lot_id);
  v1::GetLotResponse resp;
  grpc::Status s =
      clients_.lots().GetLot(clients_.Call(token).get(), req, &resp);
  if (s.ok()) return Redirect(LotPath(lot_id));
  if (s.error_code() == grpc::StatusCode::NOT_FOUND ||
      s.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
    return HtmlResponse(
        s.error_code() == grpc::StatusCode::NOT_FOUND ? 404 : 400,
        RenderSearch(q.empty() ? lot_id : q, s.error_message()));
  }
  return StatusPage(s);
}

}  // namespace lotledger::console
