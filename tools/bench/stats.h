// Latency samples and the figures the benchmarks report. Not thread-safe:
// each worker keeps its own Samples and they are merged at the end.
#ifndef LOTLEDGER_TOOLS_BENCH_STATS_H_
#define LOTLEDGER_TOOLS_BENCH_STATS_H_

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/time/time.h"

namespace lotledger::bench {

class Samples {
 public:
  void Add(absl::Duration d) {
    micros_.push_back(absl::ToDoubleMicroseconds(d));
  }
  void Merge(const Samples& o) {
    micros_.insert(micros_.end(), o.micros_.begin(), o.micros_.end());
  }
  size_t count() const { return micros_.size(); }
  // Percentile in microseconds (p in [0, 100]); 0 when empty.
  double Percentile(double p) {
    if (micros_.empty()) return 0;
    std::sort(micros_.begin(), micros_.end());
    const size_t i = std::min(micros_.size() - 1,
                              static_cast<size_t>(p / 100.0 * micros_.size()));
    return micros_[i];
  }

 private:
  std::vector<double> micros_;
};

// One result line: printed as JSON on stdout (for tools and
// docs/benchmarks.md) and readable on its own.
struct Result {
  std::string scenario;
  std::string backend;
  int concurrency = 1;
  uint64_t operations = 0;
  double seconds = 0;
  double p50_us = 0, p99_us = 0, p999_us = 0;
  std::string note;
  // Set by Report when --limits names this figure's limit (see
  // harness.h): the limit's scenario and per_second / the limit's.
  std::string limit;
  double ratio = -1;
  // More JSON members, e.g. "\"peak_rss_mib\":312.5" (no leading comma).
  std::string extra;

  std::string Json() const {
    std::string more;
    if (!limit.empty()) {
      more += absl::StrFormat(",\"limit\":\"%s\",\"ratio\":%.3f", limit, ratio);
    }
    if (!extra.empty()) more += "," + extra;
    return absl::StrFormat(
        "{\"scenario\":\"%s\",\"backend\":\"%s\",\"concurrency\":%d,"
        "\"operations\":%d,\"seconds\":%.3f,\"per_second\":%.0f,"
        "\"p50_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,\"note\":\"%s\"%s}",
        scenario, backend, concurrency, operations, seconds,
        seconds > 0 ? operations / seconds : 0.0, p50_us, p99_us, p999_us, note,
        more);
  }
};

inline Result Summarize(std::string scenario, std::string backend,
                        int concurrency, Samples& s, absl::Duration elapsed,
                        std::string note = "") {
  Result r;
  r.scenario = std::move(scenario);
  r.backend = std::move(backend);
  r.concurrency = concurrency;
  r.operations = s.count();
  r.seconds = absl::ToDoubleSeconds(elapsed);
  r.p50_us = s.Percentile(50);
  r.p99_us = s.Percentile(99);
  r.p999_us = s.Percentile(99.9);
  r.note = std::move(note);
  return r;
}

}  // namespace lotledger::bench

#endif  // LOTLEDGER_TOOLS_BENCH_STATS_H_
