// The /metrics endpoint scraped over a real socket, its body parsed by a
// strict parser of the Prometheus text format 0.0.4 written here (not the
// library's): HELP/TYPE once per family and before its samples, escaped
// label values, histogram buckets cumulative with +Inf equal to _count.
#include "libs/server/metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

namespace lotledger::metrics {
namespace {

struct ParsedSample {
  std::string name;
  Labels labels;
  double value = 0;
};

struct ParsedFamily {
  std::string help;
  std::string type;
  std::vector<ParsedSample> samples;
};

// A strict parser: any deviation from the format is a test failure naming
// the line.
class ExpositionParser {
 public:
  std::map<std::string, ParsedFamily> families;
  std::vector<std::string> errors;

  void Parse(const std::string& text) {
    if (!text.empty() && text.back() != '\n') Error(0, "no final newline");
    int n = 0;
    for (absl::string_view line : absl::StrSplit(text, '\n')) {
      ++n;
      if (line.empty()) continue;
      if (absl::StartsWith(line, "# HELP ")) {
        ParseHelp(n, line.substr(7));
      } else if (absl::StartsWith(line, "# TYPE ")) {
        ParseType(n, line.substr(7));
      } else if (line[0] == '#') {
        continue;  // a comment
      } else {
        ParseSample(n, line);
      }
    }
  }

 private:
  void Error(int line, const std::string& what) {
    errors.push_back("line " + std::to_string(line) + ": " + what);
  }

  static bool ValidName(absl::string_view name) {
    if (name.empty()) return false;
    for (size_t i = 0; i < name.size(); ++i) {
      const char c = name[i];
      const bool ok = absl::ascii_isalpha(c) || c == '_' || c == ':' ||
                      (i > 0 && absl::ascii_isdigit(c));
      if (!ok) return false;
    }
    return true;
  }

  void ParseHelp(int n, absl::string_view rest) {
    const size_t sp = rest.find(' ');
    const std::string name(rest.substr(0, sp));
    if (!ValidName(name)) return Error(n, "bad metric name in HELP");
    ParsedFamily& f = families[name];
    if (!f.help.empty() || !f.samples.empty()) {
      return Error(n, "HELP repeated or after samples for " + name);
    }
    f.help =
        sp == absl::string_view::npos ? "" : std::string(rest.substr(sp + 1));
    // HELP escapes only \\ and \n.
    for (size_t i = 0; i < f.help.size(); ++i) {
      if (f.help[i] == '\\') {
        if (i + 1 >= f.help.size() ||
            (f.help[i + 1] != '\\' && f.help[i + 1] != 'n')) {
          return Error(n, "bad escape in HELP of " + name);
        }
        ++i;
      }
    }
    if (f.help.empty()) f.help = " ";  // present, even if empty
  }

  void ParseType(int n, absl::string_view rest) {
    std::vector<std::string> parts = absl::StrSplit(rest, ' ');
    if (parts.size() != 2) return Error(n, "TYPE needs name and type");
    static const std::set<std::string> kTypes = {
        "counter", "gauge", "histogram", "summary", "untyped"};
    if (!kTypes.contains(parts[1])) return Error(n, "unknown type");
    ParsedFamily& f = families[parts[0]];
    if (!f.type.empty() || !f.samples.empty()) {
      return Error(n, "TYPE repeated or after samples for " + parts[0]);
    }
    f.type = parts[1];
  }

  // The family a sample belongs to: histogram and summary samples carry a
  // suffix.
  std::string FamilyOf(const std::string& name) {
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      if (absl::EndsWith(name, suffix)) {
        const std::string base = name.substr(0, name.size() - strlen(suffix));
        auto it = families.find(base);
        if (it != families.end() &&
            (it->second.type == "histogram" || it->second.type == "summary")) {
          return base;
        }
      }
    }
    return name;
  }

  void ParseSample(int n, absl::string_view line) {
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    const std::string name(line.substr(0, i));
    if (!ValidName(name)) return Error(n, "bad sample name");
    ParsedSample s;
    s.name = name;
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (true) {
        if (i >= line.size()) return Error(n, "unterminated labels");
        if (line[i] == '}') {
          ++i;
          break;
        }
        size_t eq = line.find('=', i);
        if (eq == absl::string_view::npos) return Error(n, "label without =");
        const std::string label(line.substr(i, eq - i));
        if (!ValidName(label)) return Error(n, "bad label name " + label);
        i = eq + 1;
        if (i >= line.size() || line[i] != '"') {
          return Error(n, "label value not quoted");
        }
        ++i;
        std::string value;
        while (true) {
          if (i >= line.size()) return Error(n, "unterminated label value");
          const char c = line[i++];
          if (c == '"') break;
          if (c == '\\') {
            if (i >= line.size()) return Error(n, "dangling escape");
            const char e = line[i++];
            if (e == 'n') {
              value += '\n';
            } else if (e == '\\' || e == '"') {
              value += e;
            } else {
              return Error(n, "bad escape in label value");
            }
          } else {
            value += c;
          }
        }
        if (!s.labels.emplace(label, value).second) {
          return Error(n, "label repeated: " + label);
        }
        if (i < line.size() && line[i] == ',') ++i;
      }
    }
    if (i >= line.size() || line[i] != ' ') return Error(n, "no value");
    std::vector<absl::string_view> rest =
        absl::StrSplit(line.substr(i + 1), ' ');
    if (rest.empty() || rest.size() > 2) return Error(n, "bad value/time");
    const std::string v = absl::AsciiStrToLower(rest[0]);
    if (v == "+inf") {
      s.value = INFINITY;
    } else if (v == "-inf") {
      s.value = -INFINITY;
    } else if (v == "nan") {
      s.value = NAN;
    } else if (!absl::SimpleAtod(rest[0], &s.value)) {
      return Error(n, "bad value " + std::string(rest[0]));
    }
    const std::string family = FamilyOf(name);
    auto it = families.find(family);
    if (it == families.end() || it->second.type.empty()) {
      return Error(n, "sample before TYPE: " + name);
    }
    it->second.samples.push_back(std::move(s));
  }
};

// Checks each histogram: per label set, buckets cumulative in le order,
// a +Inf bucket equal to _count, and a _sum.
void CheckHistograms(const ExpositionParser& p) {
  for (const auto& [name, f] : p.families) {
    if (f.type != "histogram") continue;
    struct Series {
      std::map<double, double> buckets;
      std::optional<double> sum, count;
    };
    std::map<Labels, Series> series;
    for (const ParsedSample& s : f.samples) {
      Labels key = s.labels;
      key.erase("le");
      Series& se = series[key];
      if (s.name == name + "_bucket") {
        ASSERT_TRUE(s.labels.contains("le")) << name << " bucket without le";
        double le = 0;
        const std::string& text = s.labels.at("le");
        if (text == "+Inf") {
          le = INFINITY;
        } else {
          ASSERT_TRUE(absl::SimpleAtod(text, &le)) << name << " le=" << text;
        }
        EXPECT_TRUE(se.buckets.emplace(le, s.value).second)
            << name << " le repeated";
      } else if (s.name == name + "_sum") {
        se.sum = s.value;
      } else if (s.name == name + "_count") {
        se.count = s.value;
      } else {
        ADD_FAILURE() << "unexpected sample " << s.name << " in " << name;
      }
    }
    for (const auto& [labels, se] : series) {
      ASSERT_TRUE(se.count.has_value()) << name << " has no _count";
      ASSERT_TRUE(se.sum.has_value()) << name << " has no _sum";
      ASSERT_TRUE(se.buckets.contains(INFINITY)) << name << " has no +Inf";
      EXPECT_EQ(se.buckets.at(INFINITY), *se.count) << name;
      double previous = 0;
      for (const auto& [le, count] : se.buckets) {
        EXPECT_GE(count, previous) << name << " not cumulative at le=" << le;
        previous = count;
      }
    }
  }
}

// GET `path` from 127.0.0.1:port over a fresh TCP connection; the raw
// response.
std::string HttpGet(int port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    ADD_FAILURE() << "cannot connect to port " << port;
    return "";
  }
  const std::string request = "GET " + path +
                              " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                              "Connection: close\r\n\r\n";
  EXPECT_EQ(write(fd, request.data(), request.size()),
            static_cast<ssize_t>(request.size()));
  std::string response;
  char buf[4096];
  ssize_t got;
  while ((got = read(fd, buf, sizeof buf)) > 0) response.append(buf, got);
  close(fd);
  return response;
}

// Splits a response into status line, headers (lower-cased names) and a
// body (de-chunked when chunked).
struct HttpResponse {
  std::string status_line;
  std::map<std::string, std::string> headers;
  std::string body;
};

HttpResponse ParseHttp(const std::string& raw) {
  HttpResponse r;
  const size_t end = raw.find("\r\n\r\n");
  EXPECT_NE(end, std::string::npos) << raw;
  if (end == std::string::npos) return r;
  std::vector<std::string> lines = absl::StrSplit(raw.substr(0, end), "\r\n");
  r.status_line = lines[0];
  for (size_t i = 1; i < lines.size(); ++i) {
    const size_t colon = lines[i].find(':');
    r.headers[absl::AsciiStrToLower(lines[i].substr(0, colon))] =
        std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
  }
  std::string body = raw.substr(end + 4);
  if (r.headers["transfer-encoding"] == "chunked") {
    size_t pos = 0;
    while (true) {
      const size_t eol = body.find("\r\n", pos);
      size_t len =
          std::strtoul(body.substr(pos, eol - pos).c_str(), nullptr, 16);
      if (len == 0) break;
      r.body += body.substr(eol + 2, len);
      pos = eol + 2 + len + 2;
    }
  } else {
    r.body = body;
    if (r.headers.contains("content-length")) {
      EXPECT_EQ(std::to_string(body.size()), r.headers["content-length"]);
    }
  }
  return r;
}

TEST(Metrics, EndpointServesWellFormedExposition) {
  Registry registry;
  CounterFamily commands =
      registry.Counter("test_commands_total", "Commands handled");
  commands.Increment({{"method", "CreateLot"}, {"code", "OK"}});
  commands.Increment({{"method", "CreateLot"}, {"code", "OK"}});
  // A label value needing every escape the format has.
  commands.Increment({{"method", "a\"b\\c\nd"}, {"code", "INTERNAL"}}, 3);
  GaugeFamily queue = registry.Gauge("test_queue_length", "Queued records");
  queue.Set({}, 7);
  HistogramFamily latency =
      registry.Histogram("test_latency_seconds", "Latency", {0.01, 0.1, 1});
  for (double v : {0.005, 0.05, 0.05, 0.5, 5.0}) {
    latency.Observe({{"method", "CreateLot"}}, v);
  }
  latency.Observe({{"method", "GetLot"}}, 0.001);
  CallbackGauge lag_a = registry.AddGaugeCallback(
      "test_lag_records", "Records not yet applied", [] {
        return std::vector<Sample>{{{{"projection", "lots"}}, 4}};
      });
  std::optional<CallbackGauge> lag_b = registry.AddGaugeCallback(
      "test_lag_records", "Records not yet applied", [] {
        return std::vector<Sample>{{{{"projection", "quality"}}, 9}};
      });

  absl::StatusOr<std::unique_ptr<MetricsServer>> server =
      MetricsServer::Start("127.0.0.1:0", &registry);
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_GT((*server)->port(), 0);

  HttpResponse r = ParseHttp(HttpGet((*server)->port(), "/metrics"));
  EXPECT_TRUE(absl::StartsWith(r.status_line, "HTTP/1.1 200")) << r.status_line;
  EXPECT_TRUE(absl::StartsWith(r.headers["content-type"], "text/plain"))
      << r.headers["content-type"];

  ExpositionParser p;
  p.Parse(r.body);
  EXPECT_TRUE(p.errors.empty()) << ::testing::PrintToString(p.errors) << "\n"
                                << r.body;
  CheckHistograms(p);
  for (const auto& [name, f] : p.families) {
    EXPECT_FALSE(f.help.empty()) << name << " has no HELP";
    EXPECT_FALSE(f.type.empty()) << name << " has no TYPE";
  }

  ASSERT_TRUE(p.families.contains("test_commands_total"));
  const ParsedFamily& c = p.families["test_commands_total"];
  EXPECT_EQ(c.type, "counter");
  EXPECT_EQ(c.help, "Commands handled");
  std::map<Labels, double> counted;
  for (const ParsedSample& s : c.samples) counted[s.labels] = s.value;
  EXPECT_EQ((counted[{{"method", "CreateLot"}, {"code", "OK"}}]), 2);
  EXPECT_EQ((counted[{{"method", "a\"b\\c\nd"}, {"code", "INTERNAL"}}]), 3);

  ASSERT_TRUE(p.families.contains("test_latency_seconds"));
  const ParsedFamily& h = p.families["test_latency_seconds"];
  EXPECT_EQ(h.type, "histogram");
  std::map<std::string, double> create;
  for (const ParsedSample& s : h.samples) {
    if (s.labels.contains("method") && s.labels.at("method") == "CreateLot") {
      create[s.name + (s.labels.contains("le") ? s.labels.at("le") : "")] =
          s.value;
    }
  }
  EXPECT_EQ(create["test_latency_seconds_bucket0.01"], 1);
  EXPECT_EQ(create["test_latency_seconds_bucket0.1"], 3);
  EXPECT_EQ(create["test_latency_seconds_bucket1"], 4);
  EXPECT_EQ(create["test_latency_seconds_bucket+Inf"], 5);
  EXPECT_EQ(create["test_latency_seconds_count"], 5);
  EXPECT_DOUBLE_EQ(create["test_latency_seconds_sum"], 5.605);

  ASSERT_TRUE(p.families.contains("test_lag_records"));
  EXPECT_EQ(p.families["test_lag_records"].type, "gauge");
  EXPECT_EQ(p.families["test_lag_records"].samples.size(), 2u);
  ASSERT_TRUE(p.families.contains("test_queue_length"));
  EXPECT_EQ(p.families["test_queue_length"].samples.at(0).value, 7);

  // A removed callback is gone from the next scrape.
  lag_b.reset();
  ExpositionParser again;
  again.Parse(ParseHttp(HttpGet((*server)->port(), "/metrics")).body);
  EXPECT_TRUE(again.errors.empty());
  ASSERT_EQ(again.families["test_lag_records"].samples.size(), 1u);
  EXPECT_EQ(
      again.families["test_lag_records"].samples[0].labels.at("projection"),
      "lots");
}

TEST(Metrics, TextMatchesWhatTheEndpointServes) {
  Registry registry;
  registry.Counter("test_only_total", "One counter").Increment({}, 2);
  ExpositionParser p;
  p.Parse(registry.Text());
  EXPECT_TRUE(p.errors.empty()) << ::testing::PrintToString(p.errors);
  ASSERT_TRUE(p.families.contains("test_only_total"));
  EXPECT_EQ(p.families["test_only_total"].samples.at(0).value, 2);
}

TEST(Metrics, BusyPortIsUnavailable) {
  Registry registry;
  auto first = MetricsServer::Start("127.0.0.1:0", &registry);
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = MetricsServer::Start(
      "127.0.0.1:" + std::to_string((*first)->port()), &registry);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace lotledger::metrics
