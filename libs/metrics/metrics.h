// Metrics: the Prometheus metrics of a lotledger process, and the HTTP
// endpoint (GET /metrics, text exposition format 0.0.4) that serves them.
//
// Built on prometheus-cpp (Debian's prometheus-cpp-dev): its registry keeps
// counters, gauges and fixed-bucket histograms per label set, its text
// serializer writes HELP/TYPE lines, escapes label values and writes
// histograms as cumulative `_bucket{le=...}` (with "+Inf"), `_sum` and
// `_count`; its Exposer (civetweb) serves them. This file adds what the
// library lacks: gauges whose value a callback computes at scrape time
// (projection lag, RocksDB size, queue lengths, open recalls), merged into
// one family when several parts of a process report the same name.
//
// Every library of the process records into Default(); a metric is
// registered where it is counted (commands in rpc.cc, events in
// CommandRunner and Projector, the producer in the Kafka log) and each name
// is listed in docs/operations.md.
//
// HELP texts must not contain a backslash or a newline (prometheus-cpp
// 1.0 writes HELP unescaped); registration CHECKs that.
//
// Thread-safety: every method of Registry and of the family handles may be
// called from any thread. A gauge callback runs on a scrape thread while
// the registry holds its callback lock: it must not register or remove
// callbacks. Destroying a CallbackGauge waits for a scrape in progress, so
// after its destructor the callback never runs again.
#ifndef LOTLEDGER_LIBS_METRICS_METRICS_H_
#define LOTLEDGER_LIBS_METRICS_METRICS_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace prometheus {
class Counter;
class Exposer;
class Gauge;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus

namespace lotledger::metrics {

// Label name -> value.
using Labels = std::map<std::string, std::string>;

class Registry;

class CounterFamily {
 public:
  void Increment(const Labels& labels, double by = 1) const;

 private:
  friend class Registry;
  explicit CounterFamily(prometheus::Family<prometheus::Counter>* family)
      : family_(family) {}
  prometheus::Family<prometheus::Counter>* family_;
};

class GaugeFamily {
 public:
  void Set(const Labels& labels, double value) const;
  void Add(const Labels& labels, double delta) const;

 private:
  friend class Registry;
  explicit GaugeFamily(prometheus::Family<prometheus::Gauge>* family)
      : family_(family) {}
  prometheus::Family<prometheus::Gauge>* family_;
};

class HistogramFamily {
 public:
  void Observe(const Labels& labels, double value) const;

 private:
  friend class Registry;
  HistogramFamily(prometheus::Family<prometheus::Histogram>* family,
                  std::vector<double> buckets)
      : family_(family), buckets_(std::move(buckets)) {}
  prometheus::Family<prometheus::Histogram>* family_;
  std::vector<double> buckets_;
};

// One value of a callback gauge.
struct Sample {
  Labels labels;
  double value = 0;
};
using GaugeCallback = std::function<std::vector<Sample>()>;
// Several gauges computed together (one pass over shared inputs): one
// vector of samples per GaugeSpec, in order.
struct GaugeSpec {
  std::string name;
  std::string help;
};
using GaugesCallback = std::function<std::vector<std::vector<Sample>>()>;

// Keeps a gauge callback registered; removing it on destruction.
class CallbackGauge {
 public:
  CallbackGauge() = default;
  CallbackGauge(CallbackGauge&& other) noexcept;
  CallbackGauge& operator=(CallbackGauge&& other) noexcept;
  ~CallbackGauge();

 private:
  friend class Registry;
  CallbackGauge(Registry* registry, uint64_t id)
      : registry_(registry), id_(id) {}
  Registry* registry_ = nullptr;
  uint64_t id_ = 0;
};

// Latency buckets (seconds) for command and query handling: 1 ms .. 30 s.
const std::vector<double>& LatencyBuckets();

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Registering a name twice with the same type returns the same family.
  CounterFamily Counter(const std::string& name, const std::string& help);
  GaugeFamily Gauge(const std::string& name, const std::string& help);
  HistogramFamily Histogram(const std::string& name, const std::string& help,
                            std::vector<double> buckets);
  // `fn` is called at every scrape; several callbacks may share a name (each
  // with its own label sets) and are written as one family.
  [[nodiscard]] CallbackGauge AddGaugeCallback(const std::string& name,
                                               const std::string& help,
                                               GaugeCallback fn);
  [[nodiscard]] CallbackGauge AddGaugeCallbacks(std::vector<GaugeSpec> specs,
                                                GaugesCallback fn);

  // The exposition text of every metric (what GET /metrics answers).
  std::string Text() const;

 private:
  friend class CallbackGauge;
  friend class MetricsServer;
  struct Impl;
  void RemoveCallback(uint64_t id);
  std::shared_ptr<Impl> impl_;
};

// The registry every part of the process records into.
Registry& Default();

// lotledger_index_memory_bytes{service, index}: the heap an in-memory index
// holds (the lots service's genealogy, the recall service's scope and
// impact index), which the process's memory budget takes from its RocksDB
// cache (docs/operations.md, "Memory"). `bytes` is called at each scrape.
[[nodiscard]] CallbackGauge RegisterIndexMemory(const std::string& service,
                                                const std::string& index,
                                                std::function<double()> bytes);

// Serves GET /metrics over HTTP/1.1 for `registry`.
class MetricsServer {
 public:
  // `address` is host:port ("127.0.0.1:9090", "0.0.0.0:9090"; port 0
  // picks a free one). Unavailable when it cannot listen there.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(
      const std::string& address, Registry* registry);
  ~MetricsServer();  // stops serving (takes up to ~2 s: civetweb's poll)

  int port() const { return port_; }

 private:
  MetricsServer() = default;
  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_ = 0;
};

}  // namespace lotledger::metrics

#endif  // LOTLEDGER_LIBS_METRICS_METRICS_H_
