// The console's routes: sign-in with a cookie, then every page built from
// gRPC calls made with the signed-in person's token (clients.h) and
// rendered by render.h.
//
//   GET  /login, POST /login (form: token, next), GET /logout
//   GET  /                      search form
//   GET  /search?q=... | ?gtin=...&lot=...   303 to the lot, or the form
//                               with #search-error
//   GET  /lots/{lot_id}[?as_of=YYYY-MM-DD|RFC 3339&axis=business|record]
//   GET|POST /lots/{lot_id}/verify
//   GET  /lots/{lot_id}/epcis.json
//   GET  /recalls, /recalls/{recall_id}, /recalls/{id}/report.csv|.html
//   GET  /expiry[?location=...&item=...&quantity=...]
//   GET  /static/console.css
//   GET  /healthz               "ok" (a probe; no sign-in)
//
// Sign-in: POST /login stores the token in the cookie `lotledger_token`
// (HttpOnly, SameSite=Strict, Path=/, and Secure unless the console runs
// with --insecure-dev) and answers 303 to `next` (a local path only) or /.
// The console does not check the token itself; the services do, on every
// call. Without the cookie every page but /login and the stylesheet
// answers 303 to /login?next=<the page>.
//
// A service's refusal becomes the page: PERMISSION_DENIED 403 and
// UNAUTHENTICATED 401 with #refusal giving the service's reason,
// NOT_FOUND 404 with #not-found, INVALID_ARGUMENT 400, UNAVAILABLE 503,
// DEADLINE_EXCEEDED 504, anything else 502.
//
// Thread-safety: Handle may be called from many threads at once.
#ifndef LOTLEDGER_SERVICES_CONSOLE_CONSOLE_H_
#define LOTLEDGER_SERVICES_CONSOLE_CONSOLE_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <map>
#include <string>

#include "absl/time/time.h"
#include "services/console/clients.h"
#include "services/console/http.h"

namespace lotledger::console {

inline constexpr char kTokenCookie[] = "lotledger_token";

// The HTTP answer for a failed gRPC call (see the header comment).
HttpResponse StatusPage(const grpc::Status& status);
// A rendered page with its status.
HttpResponse HtmlResponse(int status, std::string html);
// 303 See Other to `location` (a local path).
HttpResponse Redirect(std::string location);
// A file download: content type, Content-Disposition attachment with
// `file_name` reduced to [A-Za-z0-9._-].
HttpResponse Download(std::string content_type, std::string_view file_name,
                      std::string body);

class Console {
 public:
  // `secure_cookie`: add Secure to the cookie (HTTPS in front of the
  // console). `now` (default absl::Now) gives today's date for "expired".
  Console(ConsoleClients clients, bool secure_cookie,
          std::function<absl::Time()> now = nullptr);

  HttpResponse Handle(const HttpRequest& request) const;

 private:
  using Query = std::map<std::string, std::string>;

  HttpResponse Login(const HttpRequest& request) const;
  HttpResponse Search(const std::string& token, const Query& query) const;
  HttpResponse LotPage(const std::string& token, const std::string& lot_id,
                       const Query& query, bool verify) const;
  HttpResponse Epcis(const std::string& token, const std::string& lot_id) const;
  HttpResponse RecallList(const std::string& token) const;
  HttpResponse RecallPage(const std::string& token,
                          const std::string& recall_id) const;
  HttpResponse RecallReport(const std::string& token,
                            const std::string& recall_id, bool html) const;
  HttpResponse Expiry(const std::string& token, const Query& query) const;

  ConsoleClients clients_;
  bool secure_cookie_;
  std::function<absl::Time()> now_;
};

}  // namespace lotledger::console

#endif  // LOTLEDGER_SERVICES_CONSOLE_CONSOLE_H_
