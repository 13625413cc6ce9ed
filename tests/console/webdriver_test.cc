// The WebDriver client (tests/support/webdriver.h) against real headless
// Chromium, on pages of its own (data: URLs), so the console's browser
// test can trust what the client reports: finding, typing, clicking,
// text and attributes as the DOM has them (markup in text stays text),
// scripts, screenshots, and a clear refusal when the browser is missing.
// Fails (never skips) without chromium or chromedriver.
#include "tests/support/webdriver.h"

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"

#ifndef CONSOLE_SCREENSHOT_DIR
#error "CONSOLE_SCREENSHOT_DIR must be defined (tests/console/CMakeLists.txt)"
#endif

namespace lotledger::testing {
namespace {

// `html` as a data: URL (every byte but letters and digits encoded).
std::string DataUrl(const std::string& html) {
  std::string url = "data:text/html;charset=utf-8,";
  for (unsigned char c : html) {
    if (std::isalnum(c)) {
      url += static_cast<char>(c);
    } else {
      absl::StrAppendFormat(&url, "%%%02X", c);
    }
  }
  return url;
}

// Width and height of a PNG file (from its IHDR chunk); {0, 0} when the
// file is no PNG.
std::pair<int, int> PngSize(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string head(24, '\0');
  in.read(head.data(), 24);
  if (!in || head.substr(0, 8) != "\x89PNG\r\n\x1a\n") return {0, 0};
  auto be32 = [&](size_t at) {
    return (static_cast<unsigned char>(head[at]) << 24) |
           (static_cast<unsigned char>(head[at + 1]) << 16) |
           (static_cast<unsigned char>(head[at + 2]) << 8) |
           static_cast<unsigned char>(head[at + 3]);
  };
  return {be32(16), be32(20)};
}

WebDriver::Options Opts(const std::string& name) {
  WebDriver::Options o;
  o.work_dir =
      absl::StrCat(::testing::TempDir(), "/webdriver-", name, "-", getpid());
  return o;
}

// Removes the browser's profile and chromedriver's log unless the test
// failed.
class WebDriverTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (HasFailure()) return;
    for (const char* name : {"drive", "missing"}) {
      std::error_code ec;
      std::filesystem::remove_all(Opts(name).work_dir, ec);
    }
  }
};

constexpr char kPage[] = R"(<!doctype html>
<html lang="en"><head><title>WebDriver check</title></head><body>
<h1 id="heading">Lot &lt;img src=x onerror=window.__pwned=1&gt;</h1>
<form id="f"><label for="token">Token</label><input id="token" name="token">
<button type="button" id="go">Go</button></form>
<ol id="list"><li class="event" data-type="a">one</li>
<li class="event" data-type="b">two</li></ol>
<p id="out"></p>
<script>
document.getElementById('go').addEventListener('click', function() {
  document.getElementById('out').textContent =
      'typed: ' + document.getElementById('token').value;
});
</script></body></html>)";

TEST_F(WebDriverTest, DrivesHeadlessChromium) {
  absl::StatusOr<std::unique_ptr<WebDriver>> started =
      WebDriver::Start(Opts("drive"));
  ASSERT_TRUE(started.ok()) << started.status();
  WebDriver& wd = **started;

  ASSERT_TRUE(wd.Navigate(DataUrl(kPage)).ok());
  absl::StatusOr<std::string> title = wd.Title();
  ASSERT_TRUE(title.ok()) << title.status();
  EXPECT_EQ(*title, "WebDriver check");

  // Escaped markup is text, and the client reports it as the DOM has it.
  absl::StatusOr<WebDriver::Element> heading = wd.Find("#heading");
  ASSERT_TRUE(heading.ok()) << heading.status();
  absl::StatusOr<std::string> text = wd.Text(*heading);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, "Lot <img src=x onerror=window.__pwned=1>");
  absl::StatusOr<google::protobuf::Value> imgs = wd.Execute(
      "return document.querySelectorAll('img').length + "
      "(window.__pwned === undefined ? 0 : 100);");
  ASSERT_TRUE(imgs.ok()) << imgs.status();
  EXPECT_EQ(imgs->number_value(), 0);

  // Typing and clicking run the page's script.
  absl::StatusOr<WebDriver::Element> token = wd.Find("#token");
  ASSERT_TRUE(token.ok()) << token.status();
  ASSERT_TRUE(wd.SendKeys(*token, "dev-auditor-token").ok());
  absl::StatusOr<WebDriver::Element> go = wd.Find("#go");
  ASSERT_TRUE(go.ok());
  ASSERT_TRUE(wd.Click(*go).ok());
  absl::StatusOr<WebDriver::Element> out = wd.Find("#out");
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*wd.Text(*out), "typed: dev-auditor-token");

  // Lists, attributes, scoped finds, element arguments.
  absl::StatusOr<std::vector<WebDriver::Element>> events =
      wd.FindAll("#list li.event");
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ(*wd.Attribute((*events)[1], "data-type"), "b");
  EXPECT_EQ(*wd.Attribute((*events)[1], "data-missing"), std::nullopt);
  absl::StatusOr<WebDriver::Element> list = wd.Find("#list");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(wd.FindAllIn(*list, "li")->size(), 2u);
  absl::StatusOr<google::protobuf::Value> tag = wd.Execute(
      "return arguments[0].tagName;", {WebDriver::ElementArg(*list)});
  ASSERT_TRUE(tag.ok()) << tag.status();
  EXPECT_EQ(tag->string_value(), "OL");

  // Missing elements are NotFound, and a wait gives up.
  EXPECT_EQ(wd.Find("#nothing").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(wd.WaitFor("#nothing", absl::Milliseconds(300)).status().code(),
            absl::StatusCode::kDeadlineExceeded);

  const std::string png =
      std::string(CONSOLE_SCREENSHOT_DIR) + "/webdriver-check.png";
  ASSERT_TRUE(wd.Screenshot(png).ok());
  // The whole page: a page taller than the window gives a taller PNG.
  const std::string full =
      std::string(CONSOLE_SCREENSHOT_DIR) + "/webdriver-check-full.png";
  ASSERT_TRUE(wd.Execute("document.body.style.height = '3000px';").ok());
  ASSERT_TRUE(wd.ScreenshotFullPage(full).ok());
  EXPECT_EQ(PngSize(png).first, 1280);
  EXPECT_LT(PngSize(png).second, 3000);
  EXPECT_GT(PngSize(full).second, 3000);
  // And the window has its size back.
  EXPECT_EQ(wd.Execute("return window.outerHeight;")->number_value(), 1024);
}

TEST_F(WebDriverTest, MissingBrowserSaysHowToInstallIt) {
  WebDriver::Options o = Opts("missing");
  o.chromium = "/nonexistent/chromium";
  absl::StatusOr<std::unique_ptr<WebDriver>> started = WebDriver::Start(o);
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(started.status().message().find(
                "chromium is not installed (no executable "
                "/nonexistent/chromium); run `tools/bootstrap test`"),
            std::string::npos)
      << started.status();
}

}  // namespace
}  // namespace lotledger::testing
