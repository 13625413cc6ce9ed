// ServiceCore: what every service process holds for one service: its
// RocksDB projection, the projector that feeds it, and the command runner
// that writes its topic. Services build one with Open, then serve queries
// from store() and commands through runner().
//
// Thread-safety: store(), projector() and runner() are safe from any
// thread once Open returned.
#ifndef LOTLEDGER_LIBS_COMMAND_SERVICE_CORE_H_
#define LOTLEDGER_LIBS_COMMAND_SERVICE_CORE_H_

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "libs/command/command_runner.h"
#include "libs/command/projection_check.h"
#include "libs/command/projector.h"
#include "libs/eventlog/event_log.h"
#include "libs/metrics/metrics.h"
#include "libs/projection/memory_budget.h"
#include "libs/projection/projection_store.h"

namespace lotledger::command {

struct ServiceSpec {
  std::string name;  // "lots": names the ce_source and data dir
  // The topic it writes; empty for a read-only service (audit), which then
  // has no CommandRunner (runner() must not be called).
  std::string own_topic;
  int32_t partitions = 1;
  std::vector<std::string> input_topics;  // besides own_topic
  std::vector<std::string> column_families;
  // Of those, the ones to keep uncompressed (see ProjectionStore::Options).
  std::set<std::string> uncompressed_column_families;
  ApplyFn apply;
  // The layout apply() writes. Bump it when that changes: a projection of
  // another format is rebuilt from the log at start (projection_check.h).
  int projection_format = 1;
  // Memory the service holds outside RocksDB that grows with the data (an
  // in-memory index apply() keeps current): its name and the heap it
  // holds. The core charges it to the process's memory budget
  // (MemoryBudget::ChargeOutside) and reports it as
  // lotledger_index_memory_bytes{service,index}.
  struct InMemoryIndex {
    std::string name;
    std::function<size_t()> bytes;
  };
  std::vector<InMemoryIndex> indexes;
};

class ServiceCore {
 public:
  // Ensures the topics exist (with spec.partitions), opens the projection
  // under `projection_dir`, and starts the projector. `topic_prefix` is put
  // before every topic name (empty in production; tests and shared
  // staging clusters use it to keep deployments apart). `memory` is the
  // process's RocksDB budget, shared by every service it hosts
  // (memory_budget.h); null: the projection gets one of its own.
  static absl::StatusOr<std::unique_ptr<ServiceCore>> Open(
      eventlog::EventLog* log, const ServiceSpec& spec,
      const std::string& projection_dir, const std::string& topic_prefix = "",
      std::shared_ptr<projection::MemoryBudget> memory = nullptr);
  ~ServiceCore();

  projection::ProjectionStore& store() { return *store_; }
  Projector& projector() { return *projector_; }
  CommandRunner& runner() { return *runner_; }
  // Stops the projector (commands then fail); the store stays readable.
  // The first Stop records the projection's digest for the next Open
  // (projection_check.h); Open checks the projection as env
  // LOTLEDGER_VERIFY_PROJECTION says (off, quick, full; default full) and
  // rebuilds a damaged one from the log.
  void Stop();

  // Measures the spec's in-memory indexes now and gives the memory budget
  // what they hold (e.g. right after a service loaded one, rather than at
  // the budget's next period).
  void MeasureIndexes();

  // What Open was given, kept for a rebuild of the projection (rebuild.h).
  struct Setup {
    eventlog::EventLog* log = nullptr;
    ProjectorOptions projector;  // topic names with the prefix
    projection::ProjectionStore::Options store;
    ApplyFn apply;
    int projection_format = 0;
  };
  const Setup& setup() const { return setup_; }
  // Stop holds it, and so does a rebuild while it stops the projector,
  // switches databases and starts it again: a stopped core's projector is
  // never started again.
  absl::Mutex& lifecycle_mu() { return lifecycle_mu_; }
  bool stopped() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(lifecycle_mu_) {
    return stopped_;
  }

 private:
  ServiceCore() = default;
  void RecordCleanCloseOnce();
  ProjectionVerify verify_ = ProjectionVerify::kFull;
  std::atomic<bool> clean_close_recorded_ = false;
  Setup setup_;
  absl::Mutex lifecycle_mu_;
  bool stopped_ ABSL_GUARDED_BY(lifecycle_mu_) = false;
  std::unique_ptr<projection::ProjectionStore> store_;
  std::unique_ptr<Projector> projector_;
  std::unique_ptr<CommandRunner> runner_;
  std::vector<std::unique_ptr<projection::MemoryBudget::Charge>> charges_;
  // Each measures its charge: declared after charges_, so destroyed first.
  std::vector<metrics::CallbackGauge> index_gauges_;
};

}  // namespace lotledger::command

#endif  // LOTLEDGER_LIBS_COMMAND_SERVICE_CORE_H_
