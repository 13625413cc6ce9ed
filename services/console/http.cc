#include "services/console/http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "libs/common/json_log.h"

namespace lotledger::console {
namespace {

// RFC 9110 token characters (method and header names).
bool IsTokenChar(char c) {
  if (absl::ascii_isalnum(static_cast<unsigned char>(c))) return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0';
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsTokenChar(c)) return false;
  }
  return true;
}

// Header values: visible ASCII, obs-text and tab/space; no other control
// characters.
bool IsFieldValue(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) return false;
  }
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

HttpResponse PlainError(int status, std::string_view reason) {
  HttpResponse r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = absl::StrCat(status, " ", ReasonPhrase(status), ": ",
                        std::string(reason), "\n");
  return r;
}

}  // namespace

std::vector<std::string_view> Split(std::string_view s, std::string_view sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t at = s.find(sep, start);
    if (at == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, at - start));
    start = at + sep.size();
  }
}

std::string_view Trim(std::string_view s) {
  const size_t first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const size_t last = s.find_last_not_of(" \t");
  return s.substr(first, last - first + 1);
}

std::string HttpRequest::Header(std::string_view lowercase_name) const {
  auto it = headers.find(std::string(lowercase_name));
  return it == headers.end() ? "" : it->second;
}

std::optional<HttpError> ParseHttpHead(std::string_view head,
                                       HttpRequest* request) {
  if (head.size() > kMaxHeaderBytes) {
    return HttpError{431, "request line and headers too large"};
  }
  std::vector<std::string_view> lines = Split(head, "\r\n");
  if (lines.empty() || lines[0].empty()) {
    return HttpError{400, "empty request line"};
  }
  if (lines.size() - 1 > kMaxHeaders) {
    return HttpError{431, "too many header lines"};
  }
  // Request line: METHOD SP target SP HTTP/1.x
  std::vector<std::string_view> parts = Split(lines[0], " ");
  if (parts.size() != 3) return HttpError{400, "malformed request line"};
  if (!IsToken(parts[0])) return HttpError{400, "malformed method"};
  if (parts[2] != "HTTP/1.1" && parts[2] != "HTTP/1.0") {
    return HttpError{400, "unsupported protocol version"};
  }
  std::string_view target = parts[1];
  if (target.empty() || target[0] != '/') {
    return HttpError{400, "the target must be a path starting with '/'"};
  }
  for (char c : target) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) {
      return HttpError{400, "invalid character in the target"};
    }
  }
  request->method = std::string(parts[0]);
  request->target = std::string(target);
  const size_t q = target.find('?');
  std::optional<std::string> path =
      PercentDecode(target.substr(0, q), /*plus_is_space=*/false);
  if (!path.has_value()) return HttpError{400, "malformed %-escape in path"};
  request->path = *std::move(path);
  const std::string_view raw_path =
      q == std::string_view::npos ? target : target.substr(0, q);
  for (std::string_view segment : Split(raw_path.substr(1), "/")) {
    std::optional<std::string> decoded =
        PercentDecode(segment, /*plus_is_space=*/false);
    if (!decoded.has_value()) return HttpError{400, "malformed path segment"};
    request->segments.push_back(*std::move(decoded));
  }
  request->query =
      q == std::string_view::npos ? "" : std::string(target.substr(q + 1));

  bool have_length = false;
  for (size_t i = 1; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    if (line.empty()) return HttpError{400, "empty header line"};
    if (line[0] == ' ' || line[0] == '\t') {
      return HttpError{400, "folded header lines are not accepted"};
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return HttpError{400, "header line without ':'"};
    }
    std::string_view name = line.substr(0, colon);
    if (!IsToken(name)) return HttpError{400, "malformed header name"};
    std::string_view value = Trim(line.substr(colon + 1));
    if (!IsFieldValue(value)) {
      return HttpError{400, "control character in a header value"};
    }
    std::string key = absl::AsciiStrToLower(std::string(name));
    if (key == "transfer-encoding") {
      return HttpError{411,
                       "chunked bodies are not accepted; send "
                       "Content-Length"};
    }
    if (key == "content-length") {
      uint64_t n = 0;
      if (value.empty() || value.size() > 19 ||
          value.find_first_not_of("0123456789") != std::string_view::npos ||
          !absl::SimpleAtoi(std::string(value), &n)) {
        return HttpError{400, "malformed Content-Length"};
      }
      if (have_length && request->headers[key] != value) {
        return HttpError{400, "conflicting Content-Length headers"};
      }
      if (n > kMaxBodyBytes) return HttpError{413, "request body too large"};
      have_length = true;
      request->headers[key] = std::string(value);
      continue;
    }
    auto [it, inserted] = request->headers.emplace(key, std::string(value));
    if (!inserted) {
      absl::StrAppend(&it->second, key == "cookie" ? "; " : ", ",
                      std::string(value));
      if (it->second.size() > kMaxHeaderBytes) {
        return HttpError{431, "header too large"};
      }
    }
  }
  if (request->method == "POST" && !have_length) {
    return HttpError{411, "a POST needs Content-Length"};
  }
  return std::nullopt;
}

size_t ContentLength(const HttpRequest& request) {
  size_t n = 0;
  if (!absl::SimpleAtoi(request.Header("content-length"), &n)) return 0;
  return n;
}

std::optional<std::string> PercentDecode(std::string_view s,
                                         bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      const int hi = HexValue(s[i + 1]);
      const int lo = HexValue(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      const char decoded = static_cast<char>(hi * 16 + lo);
      if (decoded == '\0') return std::nullopt;
      out.push_back(decoded);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string PercentEncode(std::string_view s, std::string_view keep) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (absl::ascii_isalnum(u) || c == '-' || c == '.' || c == '_' ||
        c == '~' || (c != '\0' && keep.find(c) != std::string_view::npos)) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xf]);
    }
  }
  return out;
}

std::map<std::string, std::string> ParseForm(std::string_view encoded) {
  std::map<std::string, std::string> out;
  for (std::string_view pair : Split(encoded, "&")) {
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    std::optional<std::string> name =
        PercentDecode(pair.substr(0, eq), /*plus_is_space=*/true);
    std::optional<std::string> value =
        eq == std::string_view::npos
            ? std::optional<std::string>("")
            : PercentDecode(pair.substr(eq + 1), /*plus_is_space=*/true);
    if (!name.has_value() || !value.has_value()) continue;
    out.emplace(*std::move(name), *std::move(value));
  }
  return out;
}

std::string CookieValue(std::string_view cookie_header, std::string_view name) {
  for (std::string_view part : Split(cookie_header, ";")) {
    part = Trim(part);
    const size_t eq = part.find('=');
    if (eq == std::string_view::npos) continue;
    if (part.substr(0, eq) == name) return std::string(part.substr(eq + 1));
  }
  return "";
}

const char* ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 303:
      return "See Other";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Status";
  }
}

std::string SerializeResponse(const HttpResponse& response) {
  std::string out = absl::StrCat("HTTP/1.1 ", response.status, " ",
                                 ReasonPhrase(response.status), "\r\n");
  absl::StrAppend(
      &out, "Content-Type: ", response.content_type, "\r\n",
      "Content-Length: ", response.body.size(), "\r\n", "Connection: close\r\n",
      "Content-Security-Policy: default-src 'self'; "
      "script-src 'self'; style-src 'self'\r\n",
      "X-Content-Type-Options: nosniff\r\n", "X-Frame-Options: DENY\r\n",
      "Referrer-Policy: same-origin\r\n", "Cache-Control: no-store\r\n");
  for (const auto& [name, value] : response.headers) {
    absl::StrAppend(&out, name, ": ", value, "\r\n");
  }
  absl::StrAppend(&out, "\r\n", response.body);
  return out;
}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(
    const std::string& listen, Handler handler) {
  const size_t colon = listen.rfind(':');
  int port = 0;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(listen.substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("--listen: expected host:port, got '", listen, "'"));
  }
  std::string host = listen.substr(0, colon);
  if (host == "localhost") host = "127.0.0.1";
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--listen: the host must be an IPv4 address or localhost, got '", host,
        "'"));
  }
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError("socket() failed");
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    const int err = errno;
    close(fd);
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", listen, ": ", std::strerror(err)));
  }
  if (::listen(fd, 128) != 0) {
    close(fd);
    return absl::UnavailableError(absl::StrCat("cannot listen on ", listen));
  }
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int bound = ntohs(addr.sin_port);
  auto server = std::unique_ptr<HttpServer>(new HttpServer(
      fd, absl::StrCat(host, ":", bound), bound, std::move(handler)));
  server->acceptor_ = std::thread([s = server.get()] { s->AcceptLoop(); });
  return server;
}

HttpServer::HttpServer(int fd, std::string address, int port, Handler handler)
    : listen_fd_(fd),
      address_(std::move(address)),
      port_(port),
      handler_(std::move(handler)) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Stop() {
  if (stopping_.exchange(true)) return;
  shutdown(listen_fd_, SHUT_RDWR);
  if (acceptor_.joinable()) acceptor_.join();
  close(listen_fd_);
  std::unique_lock<std::mutex> lock(mu_);
  idle_.wait(lock, [this] { return active_ == 0; });
}

void HttpServer::AcceptLoop() {
  while (!stopping_.load()) {
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (stopping_.load()) return;
      if (errno == EMFILE || errno == ENFILE) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        continue;
      }
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (active_ >= kMaxConnections) {
        WriteAll(fd, SerializeResponse(
                         PlainError(503, "too many connections; retry")));
        close(fd);
        continue;
      }
      ++active_;
    }
    std::thread([this, fd] {
      Serve(fd);
      close(fd);
      std::lock_guard<std::mutex> lock(mu_);
      if (--active_ == 0) idle_.notify_all();
    }).detach();
  }
}

void HttpServer::Serve(int fd) {
  timeval tv{};
  tv.tv_sec = kReadTimeoutSeconds;
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));

  std::string buffer;
  size_t head_end = std::string::npos;
  char chunk[4096];
  auto read_more = [&]() -> ssize_t {
    while (true) {
      const ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n > 0) buffer.append(chunk, static_cast<size_t>(n));
      return n;
    }
  };
  auto fail = [&](int status, std::string_view reason) {
    LogJsonRaw("warn", "http refused",
               {{"status", absl::StrCat(status)},
                {"reason", JsonString(std::string(reason))}});
    WriteAll(fd, SerializeResponse(PlainError(status, reason)));
    shutdown(fd, SHUT_WR);
    // Read (bounded) what the client is still sending, so that closing
    // with unread bytes does not reset the connection before the client
    // read the answer.
    timeval drain{};
    drain.tv_sec = 1;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &drain, sizeof(drain));
    size_t drained = 0;
    ssize_t n = 0;
    while (drained < 4 * kMaxBodyBytes &&
           (n = recv(fd, chunk, sizeof(chunk), 0)) > 0) {
      drained += static_cast<size_t>(n);
    }
  };
  while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
    if (buffer.size() > kMaxHeaderBytes + 4) {
      return fail(431, "request line and headers too large");
    }
    const ssize_t n = read_more();
    if (n == 0 && buffer.empty()) return;  // closed without a request
    if (n == 0) return fail(400, "connection closed inside the headers");
    if (n < 0) return fail(408, "no complete request in time");
  }
  HttpRequest request;
  if (std::optional<HttpError> err = ParseHttpHead(
          std::string_view(buffer).substr(0, head_end), &request)) {
    return fail(err->status, err->reason);
  }
  const size_t length = ContentLength(request);
  request.body = buffer.substr(head_end + 4);
  while (request.body.size() < length) {
    const size_t before = buffer.size();
    const ssize_t n = read_more();
    if (n <= 0) return fail(n == 0 ? 400 : 408, "incomplete request body");
    request.body.append(buffer, before, std::string::npos);
  }
  if (request.body.size() > length) request.body.resize(length);

  const absl::Time start = absl::Now();
  HttpResponse response;
  try {
    response = handler_(request);
  } catch (const std::exception& e) {
    LogJson("error", "console handler failed",
            {{"path", request.path}, {"error", e.what()}});
    response = PlainError(500, "the console failed on this request");
  }
  // One line per request: the path, never the query or a header (the
  // cookie holds the token).
  LogJsonRaw(
      "info", "http",
      {{"method", JsonString(request.method)},
       {"path", JsonString(request.path)},
       {"status", absl::StrCat(response.status)},
       {"latency_ms", absl::StrFormat("%.3f", absl::ToDoubleMilliseconds(
                                                  absl::Now() - start))}});
  WriteAll(fd, SerializeResponse(response));
  shutdown(fd, SHUT_WR);
  // Drain what the client still sends (a pipelined request) so close()
  // does not reset the connection before the answer is read.
  while (recv(fd, chunk, sizeof(chunk), MSG_DONTWAIT) > 0) {
  }
}

}  // namespace lotledger::console
