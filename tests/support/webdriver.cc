#include "tests/support/webdriver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/json_util.h"
#include "tests/support/child_process.h"

namespace lotledger::testing {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

// The W3C key of an element reference in JSON.
constexpr char kElementKey[] = "element-6066-11e4-a52e-4f735466cecf";

constexpr char kMissingHint[] =
    "; run `tools/bootstrap test`, which installs Debian's chromium and "
    "chromium-driver";

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int port = 0;
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

struct HttpAnswer {
  int status = 0;
  std::string body;
};

// Decodes a chunked transfer-coded body; the input when it is malformed.
std::string Dechunk(const std::string& in) {
  std::string out;
  size_t at = 0;
  while (at < in.size()) {
    const size_t eol = in.find("\r\n", at);
    if (eol == std::string::npos) return in;
    size_t size = 0;
    std::string hex = in.substr(at, eol - at);
    hex = hex.substr(0, hex.find(';'));
    if (!absl::SimpleHexAtoi(absl::StripAsciiWhitespace(hex), &size)) return in;
    if (size == 0) break;
    at = eol + 2;
    if (at + size > in.size()) return in;
    out.append(in, at, size);
    at += size + 2;
  }
  return out;
}

// One HTTP/1.1 exchange with 127.0.0.1:`port` (Connection: close).
absl::StatusOr<HttpAnswer> Http(int port, const std::string& method,
                                const std::string& path,
                                const std::string& body,
                                absl::Duration timeout) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", errno));
  timeval tv = absl::ToTimeval(timeout);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    const int err = errno;
    close(fd);
    return absl::UnavailableError(absl::StrCat(
        "connect to chromedriver at 127.0.0.1:", port, ": ", strerror(err)));
  }
  std::string request =
      absl::StrCat(method, " ", path, " HTTP/1.1\r\nHost: 127.0.0.1:", port,
                   "\r\nConnection: close\r\nAccept: application/json\r\n");
  if (method != "GET" && method != "DELETE") {
    absl::StrAppend(&request,
                    "Content-Type: application/json; charset=utf-8\r\n"
                    "Content-Length: ",
                    body.size(), "\r\n");
  }
  absl::StrAppend(&request, "\r\n", body);
  size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n =
        send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      const int err = errno;
      close(fd);
      return absl::UnavailableError(
          absl::StrCat("send to chromedriver: ", strerror(err)));
    }
    sent += static_cast<size_t>(n);
  }
  std::string raw;
  char buf[65536];
  size_t header_end = std::string::npos;
  std::optional<size_t> content_length;
  while (true) {
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n == 0) break;
    if (n < 0) {
      const int err = errno;
      close(fd);
      if (err == EAGAIN || err == EWOULDBLOCK) {
        return absl::DeadlineExceededError(
            absl::StrCat("chromedriver did not answer ", method, " ", path,
                         " within ", absl::FormatDuration(timeout)));
      }
      return absl::UnavailableError(
          absl::StrCat("recv from chromedriver: ", strerror(err)));
    }
    raw.append(buf, static_cast<size_t>(n));
    if (header_end == std::string::npos) {
      header_end = raw.find("\r\n\r\n");
      if (header_end != std::string::npos) {
        const std::string head =
            absl::AsciiStrToLower(raw.substr(0, header_end));
        const size_t cl = head.find("\r\ncontent-length:");
        if (cl != std::string::npos) {
          const size_t start = cl + strlen("\r\ncontent-length:");
          const size_t eol = head.find("\r\n", start);
          size_t v = 0;
          if (absl::SimpleAtoi(
                  absl::StripAsciiWhitespace(head.substr(start, eol - start)),
                  &v)) {
            content_length = v;
          }
        }
      }
    }
    if (header_end != std::string::npos && content_length.has_value() &&
        raw.size() >= header_end + 4 + *content_length) {
      break;
    }
  }
  close(fd);
  if (header_end == std::string::npos) {
    return absl::UnavailableError(
        absl::StrCat("chromedriver closed the connection without an answer to ",
                     method, " ", path));
  }
  HttpAnswer answer;
  const std::string status_line = raw.substr(0, raw.find("\r\n"));
  // "HTTP/1.1 200 OK"
  const size_t sp = status_line.find(' ');
  if (sp == std::string::npos ||
      !absl::SimpleAtoi(status_line.substr(sp + 1, 3), &answer.status)) {
    return absl::UnavailableError("chromedriver answered: " + status_line);
  }
  answer.body = raw.substr(header_end + 4);
  if (content_length.has_value()) {
    answer.body.resize(std::min(answer.body.size(), *content_length));
  } else if (absl::StrContains(absl::AsciiStrToLower(raw.substr(0, header_end)),
                               "transfer-encoding: chunked")) {
    answer.body = Dechunk(answer.body);
  }
  return answer;
}

Value Str(const std::string& s) {
  Value v;
  v.set_string_value(s);
  return v;
}

absl::StatusCode CodeOf(const std::string& error) {
  if (error == "no such element") return absl::StatusCode::kNotFound;
  if (error == "timeout" || error == "script timeout") {
    return absl::StatusCode::kDeadlineExceeded;
  }
  if (error == "invalid argument" || error == "invalid selector") {
    return absl::StatusCode::kInvalidArgument;
  }
  if (error == "stale element reference") {
    return absl::StatusCode::kFailedPrecondition;
  }
  return absl::StatusCode::kInternal;
}

absl::StatusOr<WebDriver::Element> ToElement(const Value& v) {
  if (v.kind_case() == Value::kStructValue) {
    const auto& f = v.struct_value().fields();
    auto it = f.find(kElementKey);
    if (it != f.end()) return WebDriver::Element{it->second.string_value()};
  }
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(v, &json);
  return absl::InternalError("not an element reference: " + json);
}

}  // namespace

absl::StatusOr<std::unique_ptr<WebDriver>> WebDriver::Start(Options options) {
  for (const auto& [what, path] :
       {std::pair<const char*, std::string>{"chromium", options.chromium},
        {"chromedriver", options.chromedriver}}) {
    if (access(path.c_str(), X_OK) != 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          what, " is not installed (no executable ", path, ")", kMissingHint));
    }
  }
  if (options.work_dir.empty()) {
    return absl::InvalidArgumentError("WebDriver: work_dir is required");
  }
  std::error_code ec;
  std::filesystem::create_directories(options.work_dir + "/profile", ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("cannot create ", options.work_dir, ": ", ec.message()));
  }
  // Chromium is chromedriver's child: when chromedriver is killed (the
  // test or the bench crashed; chromedriver dies with them), the browser
  // must not stay behind. setpriv gives it a parent-death signal.
  std::string browser = options.chromium;
  if (access("/usr/bin/setpriv", X_OK) == 0 &&
      options.chromium.find('\'') == std::string::npos) {
    browser = options.work_dir + "/chromium-dies-with-chromedriver";
    std::ofstream(browser, std::ios::trunc)
        << "#!/bin/sh\nexec /usr/bin/setpriv --pdeathsig KILL '"
        << options.chromium << "' \"$@\"\n";
    std::filesystem::permissions(browser, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace, ec);
    if (ec) browser = options.chromium;
  }
  auto driver = std::unique_ptr<WebDriver>(new WebDriver());
  driver->options_ = options;
  driver->log_path_ = options.work_dir + "/chromedriver.log";

  // Chromedriver may lose the port to another process between the pick
  // and its bind: a few attempts.
  for (int attempt = 0; attempt < 3 && driver->session_.empty(); ++attempt) {
    driver->Stop();
    driver->port_ = FreePort();
    if (driver->port_ == 0) return absl::InternalError("no free port");
    absl::StatusOr<pid_t> pid = testing::StartChild(
        {options.chromedriver, absl::StrCat("--port=", driver->port_),
         "--allowed-ips=127.0.0.1"},
        driver->log_path_, /*append=*/true);
    if (!pid.ok()) return pid.status();
    driver->pid_ = *pid;

    // Ready when GET /status says so.
    const absl::Time give_up = absl::Now() + absl::Seconds(30);
    bool ready = false;
    while (absl::Now() < give_up) {
      int status = 0;
      if (waitpid(*pid, &status, WNOHANG) == *pid) {
        driver->pid_ = -1;
        break;
      }
      absl::StatusOr<HttpAnswer> a =
          Http(driver->port_, "GET", "/status", "", absl::Seconds(5));
      if (a.ok() && a->status == 200 &&
          absl::StrContains(a->body, "\"ready\":true")) {
        ready = true;
        break;
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
    if (!ready) continue;

    Struct caps;
    Struct* always = (*(*caps.mutable_fields())["capabilities"]
                           .mutable_struct_value()
                           ->mutable_fields())["alwaysMatch"]
                         .mutable_struct_value();
    (*always->mutable_fields())["browserName"] = Str("chrome");
    (*always->mutable_fields())["pageLoadStrategy"] = Str("normal");
    auto& co = *(*always->mutable_fields())["goog:chromeOptions"]
                    .mutable_struct_value()
                    ->mutable_fields();
    co["binary"] = Str(browser);
    auto* list = co["args"].mutable_list_value();
    for (const std::string& arg :
         {std::string("--headless=new"), std::string("--no-sandbox"),
          std::string("--disable-gpu"), std::string("--disable-dev-shm-usage"),
          std::string("--no-first-run"),
          std::string("--disable-background-networking"),
          absl::StrCat("--window-size=", options.window_width, ",",
                       options.window_height),
          "--user-data-dir=" + options.work_dir + "/profile"}) {
      *list->add_values() = Str(arg);
    }
    absl::StatusOr<Value> session = driver->Command("POST", "/session", &caps);
    if (!session.ok()) {
      return absl::Status(
          session.status().code(),
          absl::StrCat("chromedriver could not start chromium: ",
                       session.status().message(), kMissingHint,
                       "; chromedriver's log: ", driver->log_path_));
    }
    const auto& f = session->struct_value().fields();
    auto it = f.find("sessionId");
    if (it == f.end() || it->second.string_value().empty()) {
      return absl::InternalError("chromedriver gave no sessionId");
    }
    driver->session_ = it->second.string_value();
  }
  if (driver->session_.empty()) {
    return absl::UnavailableError(
        absl::StrCat("chromedriver did not become ready (3 attempts)",
                     kMissingHint, "; its log: ", driver->log_path_));
  }
  return driver;
}

WebDriver::~WebDriver() { Stop(); }

void WebDriver::Stop() {
  if (!session_.empty() && pid_ > 0) {
    (void)Command("DELETE", "/session/" + session_);
  }
  session_.clear();
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  int status = 0;
  while (waitpid(pid_, &status, WNOHANG) != pid_) {
    if (absl::Now() > give_up) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      break;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  pid_ = -1;
}

absl::StatusOr<Value> WebDriver::Command(const std::string& method,
                                         const std::string& path,
                                         const Struct* body) {
  std::string json;
  if (body != nullptr) {
    if (!google::protobuf::util::MessageToJsonString(*body, &json).ok()) {
      return absl::InternalError("cannot write the request as JSON");
    }
  } else if (method == "POST") {
    json = "{}";
  }
  absl::StatusOr<HttpAnswer> answer =
      Http(port_, method, path, json, options_.command_timeout);
  if (!answer.ok()) return answer.status();
  Struct parsed;
  if (!google::protobuf::util::JsonStringToMessage(answer->body, &parsed)
           .ok()) {
    return absl::InternalError(absl::StrCat(
        "chromedriver answered ", method, " ", path, " with HTTP ",
        answer->status, " and no JSON: ", answer->body.substr(0, 300)));
  }
  Value value = (*parsed.mutable_fields())["value"];
  if (answer->status != 200) {
    std::string error = "unknown error", message;
    if (value.kind_case() == Value::kStructValue) {
      const auto& f = value.struct_value().fields();
      if (auto it = f.find("error"); it != f.end()) {
        error = it->second.string_value();
      }
      if (auto it = f.find("message"); it != f.end()) {
        message = it->second.string_value();
      }
    }
    return absl::Status(CodeOf(error),
                        absl::StrCat("webdriver ", method, " ", path, ": ",
                                     error, ": ", message.substr(0, 500)));
  }
  return value;
}

absl::StatusOr<Value> WebDriver::SessionCommand(const std::string& method,
                                                const std::string& path,
                                                const Struct* body) {
  if (session_.empty()) return absl::FailedPreconditionError("no session");
  return Command(method, "/session/" + session_ + path, body);
}

absl::Status WebDriver::Navigate(const std::string& url) {
  Struct body;
  (*body.mutable_fields())["url"] = Str(url);
  return SessionCommand("POST", "/url", &body).status();
}

absl::StatusOr<std::string> WebDriver::CurrentUrl() {
  absl::StatusOr<Value> v = SessionCommand("GET", "/url");
  if (!v.ok()) return v.status();
  return v->string_value();
}

absl::StatusOr<std::string> WebDriver::Title() {
  absl::StatusOr<Value> v = SessionCommand("GET", "/title");
  if (!v.ok()) return v.status();
  return v->string_value();
}

absl::StatusOr<std::string> WebDriver::PageSource() {
  absl::StatusOr<Value> v = SessionCommand("GET", "/source");
  if (!v.ok()) return v.status();
  return v->string_value();
}

absl::StatusOr<WebDriver::Element> WebDriver::Find(const std::string& css) {
  Struct body;
  (*body.mutable_fields())["using"] = Str("css selector");
  (*body.mutable_fields())["value"] = Str(css);
  absl::StatusOr<Value> v = SessionCommand("POST", "/element", &body);
  if (!v.ok()) return v.status();
  return ToElement(*v);
}

namespace {
absl::StatusOr<std::vector<WebDriver::Element>> ToElements(
    const absl::StatusOr<Value>& v) {
  if (!v.ok()) return v.status();
  std::vector<WebDriver::Element> out;
  for (const Value& e : v->list_value().values()) {
    absl::StatusOr<WebDriver::Element> el = ToElement(e);
    if (!el.ok()) return el.status();
    out.push_back(*el);
  }
  return out;
}
}  // namespace

absl::StatusOr<std::vector<WebDriver::Element>> WebDriver::FindAll(
    const std::string& css) {
  Struct body;
  (*body.mutable_fields())["using"] = Str("css selector");
  (*body.mutable_fields())["value"] = Str(css);
  return ToElements(SessionCommand("POST", "/elements", &body));
}

absl::StatusOr<std::vector<WebDriver::Element>> WebDriver::FindAllIn(
    const Element& parent, const std::string& css) {
  Struct body;
  (*body.mutable_fields())["using"] = Str("css selector");
  (*body.mutable_fields())["value"] = Str(css);
  return ToElements(
      SessionCommand("POST", "/element/" + parent.id + "/elements", &body));
}

absl::StatusOr<WebDriver::Element> WebDriver::WaitFor(const std::string& css,
                                                      absl::Duration timeout) {
  const absl::Time give_up = absl::Now() + timeout;
  while (true) {
    absl::StatusOr<std::vector<Element>> all = FindAll(css);
    if (!all.ok()) return all.status();
    if (!all->empty()) return all->front();
    if (absl::Now() > give_up) {
      absl::StatusOr<std::string> url = CurrentUrl();
      return absl::DeadlineExceededError(absl::StrCat(
          "no element matches ", css, " within ", absl::FormatDuration(timeout),
          " at ", url.ok() ? *url : "?"));
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
}

absl::Status WebDriver::WaitForUrlContaining(const std::string& part,
                                             absl::Duration timeout) {
  const absl::Time give_up = absl::Now() + timeout;
  while (true) {
    absl::StatusOr<std::string> url = CurrentUrl();
    if (!url.ok()) return url.status();
    if (absl::StrContains(*url, part)) return absl::OkStatus();
    if (absl::Now() > give_up) {
      return absl::DeadlineExceededError(
          absl::StrCat("the URL is ", *url, ", still without ", part, " after ",
                       absl::FormatDuration(timeout)));
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
}

absl::Status WebDriver::Click(const Element& e) {
  return SessionCommand("POST", "/element/" + e.id + "/click").status();
}

absl::Status WebDriver::Clear(const Element& e) {
  return SessionCommand("POST", "/element/" + e.id + "/clear").status();
}

absl::Status WebDriver::SendKeys(const Element& e, const std::string& text) {
  Struct body;
  (*body.mutable_fields())["text"] = Str(text);
  return SessionCommand("POST", "/element/" + e.id + "/value", &body).status();
}

absl::StatusOr<std::string> WebDriver::Text(const Element& e) {
  absl::StatusOr<Value> v = SessionCommand("GET", "/element/" + e.id + "/text");
  if (!v.ok()) return v.status();
  return v->string_value();
}

absl::StatusOr<std::optional<std::string>> WebDriver::Attribute(
    const Element& e, const std::string& name) {
  absl::StatusOr<Value> v =
      SessionCommand("GET", "/element/" + e.id + "/attribute/" + name);
  if (!v.ok()) return v.status();
  if (v->kind_case() != Value::kStringValue) return std::nullopt;
  return v->string_value();
}

absl::StatusOr<Value> WebDriver::Property(const Element& e,
                                          const std::string& name) {
  return SessionCommand("GET", "/element/" + e.id + "/property/" + name);
}

absl::StatusOr<Value> WebDriver::Execute(const std::string& script,
                                         const std::vector<Value>& args) {
  Struct body;
  (*body.mutable_fields())["script"] = Str(script);
  auto* list = (*body.mutable_fields())["args"].mutable_list_value();
  for (const Value& a : args) *list->add_values() = a;
  return SessionCommand("POST", "/execute/sync", &body);
}

Value WebDriver::ElementArg(const Element& e) {
  Value v;
  (*v.mutable_struct_value()->mutable_fields())[kElementKey] = Str(e.id);
  return v;
}

absl::Status WebDriver::Screenshot(const std::string& path) {
  absl::StatusOr<Value> v = SessionCommand("GET", "/screenshot");
  if (!v.ok()) return v.status();
  std::string png;
  if (!absl::Base64Unescape(v->string_value(), &png)) {
    return absl::InternalError("the screenshot is not base64");
  }
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(),
                                      ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(png.data(), static_cast<std::streamsize>(png.size()));
  out.close();
  if (!out) return absl::InternalError("cannot write " + path);
  return absl::OkStatus();
}

absl::Status WebDriver::ScreenshotFullPage(const std::string& path,
                                           int max_height) {
  absl::StatusOr<Value> rect = SessionCommand("GET", "/window/rect");
  if (!rect.ok()) return rect.status();
  absl::StatusOr<Value> sizes = Execute(
      "return [document.documentElement.scrollHeight,"
      "        window.outerHeight - window.innerHeight];");
  if (!sizes.ok()) return sizes.status();
  if (sizes->list_value().values_size() != 2) {
    return absl::InternalError("cannot read the page's height");
  }
  const auto& f = rect->struct_value().fields();
  const double width = f.contains("width") ? f.at("width").number_value() : 0;
  const double height =
      f.contains("height") ? f.at("height").number_value() : 0;
  const double page = sizes->list_value().values(0).number_value() +
                      sizes->list_value().values(1).number_value();
  const bool resize = page > height;
  if (resize) {
    Struct body;
    (*body.mutable_fields())["width"].set_number_value(width);
    (*body.mutable_fields())["height"].set_number_value(
        std::min<double>(page, max_height));
    absl::Status s = SessionCommand("POST", "/window/rect", &body).status();
    if (!s.ok()) return s;
  }
  absl::Status shot = Screenshot(path);
  if (resize) {
    Struct body;
    (*body.mutable_fields())["width"].set_number_value(width);
    (*body.mutable_fields())["height"].set_number_value(height);
    absl::Status s = SessionCommand("POST", "/window/rect", &body).status();
    if (shot.ok() && !s.ok()) return s;
  }
  return shot;
}

}  // namespace lotledger::testing
