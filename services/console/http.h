// The console's small HTTP/1.1 server on POSIX sockets: no third-party
// dependency, one thread per connection (at most kMaxConnections at once;
// one more is answered 503 and closed), one request per connection
// (`Connection: close`).
//
// Requests are bounded before anything is decoded: the request line and
// headers at most kMaxHeaderBytes (431 past it), at most kMaxHeaders header
// lines, a body only with Content-Length (no chunked encoding: 411/400) of
// at most kMaxBodyBytes (413). Anything malformed (a bad request line,
// control characters, a header without a colon, folded lines, conflicting
// Content-Length, a target not starting with '/', a bad %-escape or an
// encoded NUL in the path) is answered 400 and closed; the handler never
// sees it. A client that sends nothing for kReadTimeout is dropped (408).
//
// Logs one JSON line per request ("http": method, path, status,
// latency_ms; never the query or a header, since the cookie holds the
// token) and one per refused request ("http refused": status, reason).
//
// ParseHttpHead and the URL and form helpers are pure functions, tested on
// hostile input without sockets (tests/http_test.cc); HttpServer is tested
// over real sockets on 127.0.0.1.
//
// Thread-safety: the handler is called concurrently from connection
// threads; Start/Stop from one thread.
#ifndef LOTLEDGER_SERVICES_CONSOLE_HTTP_H_
#define LOTLEDGER_SERVICES_CONSOLE_HTTP_H_

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace lotledger::console {

inline constexpr size_t kMaxHeaderBytes = 16 * 1024;
inline constexpr size_t kMaxHeaders = 64;
inline constexpr size_t kMaxBodyBytes = 64 * 1024;
inline constexpr int kMaxConnections = 64;
inline constexpr int kReadTimeoutSeconds = 10;

struct HttpRequest {
  std::string method;  // "GET", "POST", ... as sent (case-sensitive)
  std::string target;  // as sent: path and query
  std::string path;    // %-decoded path, always starting with '/'
  // The path's segments, each %-decoded on its own (so an encoded '/' in
  // a lot number stays inside its segment): "/lots/A%2FB/verify" is
  // {"lots", "A/B", "verify"}.
  std::vector<std::string> segments;
  std::string query;  // raw, without '?'
  // Header names lowercased; a repeated header keeps its values joined
  // with ", " (Cookie with "; ").
  std::map<std::string, std::string> headers;
  std::string body;

  // The header's value, or "" when absent.
  std::string Header(std::string_view lowercase_name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/html; charset=utf-8";
  // Extra headers (Location, Set-Cookie, Content-Disposition, ...).
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// An HTTP error the parser answers with itself: the status and a short
// plain-text reason.
struct HttpError {
  int status;
  std::string reason;
};

// Parses the request line and headers (everything before the blank line,
// which `head` must not include). Fills method, target, path, query and
// headers; the body is left to the caller. Content-Length is checked to be
// one decimal number (repeats must agree) within kMaxBodyBytes.
// Returns HttpError for every malformed or over-limit input.
std::optional<HttpError> ParseHttpHead(std::string_view head,
                                       HttpRequest* request);

// The body length the parsed head announces (0 without Content-Length).
size_t ContentLength(const HttpRequest& request);

// %-decoding; '+' becomes ' ' when `plus_is_space` (form and query
// encoding). nullopt for a bad escape (not two hex digits) or an encoded
// NUL.
std::optional<std::string> PercentDecode(std::string_view s,
                                         bool plus_is_space);
// %-encodes everything but unreserved characters (A-Z a-z 0-9 - . _ ~) and
// those in `keep` (e.g. ":" in a lot path).
std::string PercentEncode(std::string_view s, std::string_view keep = "");

// application/x-www-form-urlencoded (a query string or a form body) as
// name -> value, the first of repeated names winning; pairs that do not
// decode are dropped.
std::map<std::string, std::string> ParseForm(std::string_view encoded);

// The cookie's value from a Cookie header ("a=1; b=2"), "" when absent.
std::string CookieValue(std::string_view cookie_header, std::string_view name);

// The response as bytes on the wire (status line, Content-Type,
// Content-Length, Connection: close, the security headers every console
// response carries, the extra headers, the body).
std::string SerializeResponse(const HttpResponse& response);

// The reason phrase of a status code ("OK", "Not Found", ...).
const char* ReasonPhrase(int status);

// `s` split at every `sep` (empty pieces kept), and `s` without leading
// and trailing spaces and tabs. (std::string_view helpers: this abseil's
// string functions take absl::string_view only.)
std::vector<std::string_view> Split(std::string_view s, std::string_view sep);
std::string_view Trim(std::string_view s);

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  // Binds `listen` ("host:port", an IPv4 address or "localhost"; port 0 =
  // any free port) and serves `handler` from a background thread.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(
      const std::string& listen, Handler handler);
  ~HttpServer();  // Stop()

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // "host:port" as bound (the real port when 0 was asked).
  const std::string& address() const { return address_; }
  int port() const { return port_; }

  // Stops accepting and waits for the connections in progress.
  void Stop();

 private:
  HttpServer(int fd, std::string address, int port, Handler handler);
  void AcceptLoop();
  void Serve(int fd);

  int listen_fd_;
  std::string address_;
  int port_;
  Handler handler_;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::condition_variable idle_;
  int active_ = 0;  // guarded by mu_
};

}  // namespace lotledger::console

#endif  // LOTLEDGER_SERVICES_CONSOLE_HTTP_H_
