#include "libs/metrics/metrics.h"

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <exception>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "libs/common/check.h"

namespace lotledger::metrics {

struct Registry::Impl final : prometheus::Collectable {
  struct Callback {
    std::vector<GaugeSpec> specs;
    GaugesCallback fn;
  };

  std::shared_ptr<prometheus::Registry> registry =
      std::make_shared<prometheus::Registry>();
  // Held while callbacks run, so removing one waits for a scrape.
  mutable absl::Mutex mu;
  uint64_t next_id ABSL_GUARDED_BY(mu) = 1;
  std::map<uint64_t, Callback> callbacks ABSL_GUARDED_BY(mu);

  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<prometheus::MetricFamily> families = registry->Collect();
    absl::MutexLock l(&mu);
    // Callbacks of one name become one family, in first-registered order.
    std::map<std::string, size_t> index;
    for (const auto& [id, cb] : callbacks) {
      const std::vector<std::vector<Sample>> values = cb.fn();
      for (size_t i = 0; i < cb.specs.size(); ++i) {
        auto [it, added] = index.try_emplace(cb.specs[i].name, families.size());
        if (added) {
          prometheus::MetricFamily f;
          f.name = cb.specs[i].name;
          f.help = cb.specs[i].help;
          f.type = prometheus::MetricType::Gauge;
          families.push_back(std::move(f));
        }
        if (i >= values.size()) continue;
        for (const Sample& s : values[i]) {
          prometheus::ClientMetric m;
          for (const auto& [k, v] : s.labels) m.label.push_back({k, v});
          m.gauge.value = s.value;
          families[it->second].metric.push_back(std::move(m));
        }
      }
    }
    return families;
  }
};

namespace {

void CheckHelp(const std::string& help) {
  // prometheus-cpp 1.0 writes HELP unescaped.
  CHECK(help.find_first_of("\\\n") == std::string::npos);
}

}  // namespace

void CounterFamily::Increment(const Labels& labels, double by) const {
  family_->Add(labels).Increment(by);
}

void GaugeFamily::Set(const Labels& labels, double value) const {
  family_->Add(labels).Set(value);
}

void GaugeFamily::Add(const Labels& labels, double delta) const {
  family_->Add(labels).Increment(delta);
}

void HistogramFamily::Observe(const Labels& labels, double value) const {
  family_->Add(labels, buckets_).Observe(value);
}

CallbackGauge::CallbackGauge(CallbackGauge&& other) noexcept
    : registry_(other.registry_), id_(other.id_) {
  other.registry_ = nullptr;
}

CallbackGauge& CallbackGauge::operator=(CallbackGauge&& other) noexcept {
  if (this != &other) {
    if (registry_ != nullptr) registry_->RemoveCallback(id_);
    registry_ = other.registry_;
    id_ = other.id_;
    other.registry_ = nullptr;
  }
  return *this;
}

CallbackGauge::~CallbackGauge() {
  if (registry_ != nullptr) registry_->RemoveCallback(id_);
}

const std::vector<double>& LatencyBuckets() {
  static const auto* buckets =
      new std::vector<double>{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                              0.25,  0.5,    1,     2.5,  5,     10,   30};
  return *buckets;
}

Registry::Registry() : impl_(std::make_shared<Impl>()) {}
Registry::~Registry() = default;

CounterFamily Registry::Counter(const std::string& name,
                                const std::string& help) {
  CheckHelp(help);
  return CounterFamily(
      &prometheus::BuildCounter().Name(name).Help(help).Register(
          *impl_->registry));
}

GaugeFamily Registry::Gauge(const std::string& name, const std::string& help) {
  CheckHelp(help);
  return GaugeFamily(&prometheus::BuildGauge().Name(name).Help(help).Register(
      *impl_->registry));
}

HistogramFamily Registry::Histogram(const std::string& name,
                                    const std::string& help,
                                    std::vector<double> buckets) {
  CheckHelp(help);
  return HistogramFamily(
      &prometheus::BuildHistogram().Name(name).Help(help).Register(
          *impl_->registry),
      std::move(buckets));
}

CallbackGauge Registry::AddGaugeCallback(const std::string& name,
                                         const std::string& help,
                                         GaugeCallback fn) {
  return AddGaugeCallbacks({{name, help}}, [fn = std::move(fn)] {
    return std::vector<std::vector<Sample>>{fn()};
  });
}

CallbackGauge Registry::AddGaugeCallbacks(std::vector<GaugeSpec> specs,
                                          GaugesCallback fn) {
  for (const GaugeSpec& spec : specs) CheckHelp(spec.help);
  absl::MutexLock l(&impl_->mu);
  const uint64_t id = impl_->next_id++;
  impl_->callbacks[id] = {std::move(specs), std::move(fn)};
  return CallbackGauge(this, id);
}

void Registry::RemoveCallback(uint64_t id) {
  absl::MutexLock l(&impl_->mu);
  impl_->callbacks.erase(id);
}

std::string Registry::Text() const {
  return prometheus::TextSerializer().Serialize(impl_->Collect());
}

Registry& Default() {
  static auto* registry = new Registry();
  return *registry;
}

CallbackGauge RegisterIndexMemory(const std::string& service,
                                  const std::string& index,
                                  std::function<double()> bytes) {
  return Default().AddGaugeCallback(
      "lotledger_index_memory_bytes",
      "Heap held by a service's in-memory index, taken from the RocksDB "
      "cache's share of the memory budget",
      [service, index, bytes = std::move(bytes)] {
        return std::vector<Sample>{
            {{{"service", service}, {"index", index}}, bytes()}};
      });
}

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    const std::string& address, Registry* registry) {
  std::unique_ptr<MetricsServer> server(new MetricsServer());
  try {
    server->exposer_ =
        std::make_unique<prometheus::Exposer>(address, /*num_threads=*/2);
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("metrics: cannot listen on ", address, ": ", e.what()));
  }
  server->exposer_->RegisterCollectable(
      std::weak_ptr<prometheus::Collectable>(registry->impl_));
  const std::vector<int> ports = server->exposer_->GetListeningPorts();
  if (ports.empty()) {
    return absl::UnavailableError(
        absl::StrCat("metrics: cannot listen on ", address));
  }
  server->port_ = ports.front();
  return server;
}

MetricsServer::~MetricsServer() = default;

}  // namespace lotledger::metrics
