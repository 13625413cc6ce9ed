// A minimal W3C WebDriver client for driving Debian's headless Chromium
// from C++ tests and benchmarks, with no third-party dependency beyond what
// the project links already: HTTP/1.1 over a POSIX socket to a chromedriver
// child process on 127.0.0.1, JSON through protobuf's Struct/Value.
//
// WebDriver::Start starts `chromedriver --port=<free port>` (its output to
// a log file), waits until it reports ready, and opens one session of
// headless Chromium (--headless=new --no-sandbox --disable-gpu
// --disable-dev-shm-usage, a user-data dir of its own). The destructor
// deletes the session (Chromium exits) and stops chromedriver. Both die
// with the process that started them, a crash included (chromedriver by
// its parent-death signal, Chromium by one setpriv gives it). Start fails
// with a message naming `tools/bootstrap test` when chromium or
// chromedriver is not installed.
//
// Elements are the opaque W3C element references chromedriver hands out.
// Every call is bounded: a socket timeout on each command, and the Wait*
// helpers poll up to a given duration. Every failure is a Status carrying
// chromedriver's error and message.
//
// Thread-safety: one WebDriver is used by one thread at a time.
#ifndef LOTLEDGER_TESTS_SUPPORT_WEBDRIVER_H_
#define LOTLEDGER_TESTS_SUPPORT_WEBDRIVER_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/struct.pb.h"

namespace lotledger::testing {

class WebDriver {
 public:
  struct Options {
    std::string chromedriver = "/usr/bin/chromedriver";
    std::string chromium = "/usr/bin/chromium";
    // Holds chromedriver.log and the browser's profile; created if missing.
    std::string work_dir;
    int window_width = 1280;
    int window_height = 1024;
    // Bound of each WebDriver command (a page load included).
    absl::Duration command_timeout = absl::Seconds(60);
  };

  // An opaque element reference.
  struct Element {
    std::string id;
  };

  // Starts chromedriver and a headless Chromium session.
  static absl::StatusOr<std::unique_ptr<WebDriver>> Start(Options options);
  ~WebDriver();

  WebDriver(const WebDriver&) = delete;
  WebDriver& operator=(const WebDriver&) = delete;

  // Loads `url` and returns once the page has loaded.
  absl::Status Navigate(const std::string& url);
  absl::StatusOr<std::string> CurrentUrl();
  absl::StatusOr<std::string> Title();
  absl::StatusOr<std::string> PageSource();

  // The first element matching the CSS selector (NotFound when none).
  absl::StatusOr<Element> Find(const std::string& css);
  // Every matching element (empty when none).
  absl::StatusOr<std::vector<Element>> FindAll(const std::string& css);
  // Within `parent`.
  absl::StatusOr<std::vector<Element>> FindAllIn(const Element& parent,
                                                 const std::string& css);
  // Polls until an element matches `css` (DeadlineExceeded after
  // `timeout`).
  absl::StatusOr<Element> WaitFor(const std::string& css,
                                  absl::Duration timeout = absl::Seconds(20));
  // Polls until the current URL contains `part`.
  absl::Status WaitForUrlContaining(const std::string& part,
                                    absl::Duration timeout = absl::Seconds(20));

  absl::Status Click(const Element& e);
  absl::Status Clear(const Element& e);
  absl::Status SendKeys(const Element& e, const std::string& text);
  // The element's rendered text (innerText as WebDriver defines it).
  absl::StatusOr<std::string> Text(const Element& e);
  // The element's attribute; nullopt when it has none.
  absl::StatusOr<std::optional<std::string>> Attribute(const Element& e,
                                                       const std::string& name);
  // The element's DOM property (e.g. "textContent"), as JSON-ish Value.
  absl::StatusOr<google::protobuf::Value> Property(const Element& e,
                                                   const std::string& name);

  // Runs `script` (a function body; `arguments` holds `args`) and returns
  // what it returns. Elements may be passed with ElementArg.
  absl::StatusOr<google::protobuf::Value> Execute(
      const std::string& script,
      const std::vector<google::protobuf::Value>& args = {});
  static google::protobuf::Value ElementArg(const Element& e);

  // Writes a PNG of the viewport to `path`.
  absl::Status Screenshot(const std::string& path);
  // Writes a PNG of the whole page (up to `max_height` pixels tall) to
  // `path`: the window is made as tall as the page for the shot, then
  // given its size back.
  absl::Status ScreenshotFullPage(const std::string& path,
                                  int max_height = 8000);

  const std::string& chromedriver_log() const { return log_path_; }

 private:
  WebDriver() = default;
  // One command: `method` on `path` with a JSON body (empty: none).
  // Returns the "value" of the answer; an error answer becomes a Status.
  absl::StatusOr<google::protobuf::Value> Command(
      const std::string& method, const std::string& path,
      const google::protobuf::Struct* body = nullptr);
  absl::StatusOr<google::protobuf::Value> SessionCommand(
      const std::string& method, const std::string& path,
      const google::protobuf::Struct* body = nullptr);
  void Stop();

  Options options_;
  int port_ = 0;
  pid_t pid_ = -1;
  std::string session_;
  std::string log_path_;
};

}  // namespace lotledger::testing

#endif  // LOTLEDGER_TESTS_SUPPORT_WEBDRIVER_H_
