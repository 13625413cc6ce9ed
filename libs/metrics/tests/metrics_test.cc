// The /metrics endpoint scraped over a real socket, its body parsed by a
// strict parser of the Prometheus text format 0.0.4 (tests/exposition.h,
// not the library's): HELP/TYPE once per family and before its samples,
// escaped label values, histogram buckets cumulative with +Inf equal to
// _count.
#include "libs/metrics/metrics.h"

#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "libs/metrics/tests/exposition.h"

namespace lotledger::metrics {
namespace {

using testing::CheckHistograms;
using testing::Exposition;
using testing::HttpGet;
using testing::HttpResponse;
using testing::ParsedFamily;
using testing::ParsedSample;
using testing::ParseExposition;

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

  HttpResponse r = HttpGet((*server)->port(), "/metrics");
  EXPECT_TRUE(absl::StartsWith(r.status_line, "HTTP/1.1 200")) << r.status_line;
  EXPECT_TRUE(absl::StartsWith(r.headers["content-type"], "text/plain"))
      << r.headers["content-type"];

  Exposition p = ParseExposition(r.body);
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
  Exposition again =
      ParseExposition(HttpGet((*server)->port(), "/metrics").body);
  EXPECT_TRUE(again.errors.empty());
  ASSERT_EQ(again.families["test_lag_records"].samples.size(), 1u);
  EXPECT_EQ(
      again.families["test_lag_records"].samples[0].labels.at("projection"),
      "lots");
}

TEST(Metrics, TextMatchesWhatTheEndpointServes) {
  Registry registry;
  registry.Counter("test_only_total", "One counter").Increment({}, 2);
  Exposition p = ParseExposition(registry.Text());
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
