#include "libs/metrics/tests/exposition.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

namespace lotledger::metrics::testing {
namespace {

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

}  // namespace

Exposition ParseExposition(const std::string& text) {
  ExpositionParser p;
  p.Parse(text);
  return {std::move(p.families), std::move(p.errors)};
}

double SumOf(const Exposition& exposition, const std::string& sample,
             const Labels& match) {
  double sum = 0;
  for (const auto& [family, f] : exposition.families) {
    if (!absl::StartsWith(sample, family)) continue;
    for (const ParsedSample& s : f.samples) {
      if (s.name != sample) continue;
      bool all = true;
      for (const auto& [k, v] : match) {
        auto l = s.labels.find(k);
        all &= l != s.labels.end() && l->second == v;
      }
      if (all) sum += s.value;
    }
  }
  return sum;
}

void CheckHistograms(const Exposition& p) {
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

namespace {

// The raw response.
std::string RawGet(int port, const std::string& path) {
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

}  // namespace

HttpResponse HttpGet(int port, const std::string& path) {
  return ParseHttp(RawGet(port, path));
}

}  // namespace lotledger::metrics::testing
