#include "libs/command/service_core.h"

#include <cstdlib>
#include <filesystem>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "libs/command/projection_check.h"
#include "libs/common/json_log.h"
#include "libs/common/status_macros.h"

namespace lotledger::command {

absl::StatusOr<std::unique_ptr<ServiceCore>> ServiceCore::Open(
    eventlog::EventLog* log, const ServiceSpec& spec,
    const std::string& projection_dir, const std::string& topic_prefix,
    std::shared_ptr<projection::MemoryBudget> memory) {
  // A read-only service (empty own_topic) has no topic and no runner.
  const bool writes = !spec.own_topic.empty();
  const std::string own_topic = writes ? topic_prefix + spec.own_topic : "";
  std::vector<std::string> inputs;
  for (const std::string& t : spec.input_topics)
    inputs.push_back(topic_prefix + t);
  // Every topic of a deployment has the same partition count, so a
  // service can create its inputs too when it starts before their writers.
  if (writes) RETURN_IF_ERROR(log->EnsureTopic(own_topic, spec.partitions));
  for (const std::string& topic : inputs) {
    RETURN_IF_ERROR(log->EnsureTopic(topic, spec.partitions));
  }
  std::error_code ec;
  std::filesystem::create_directories(projection_dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create projection directory ", projection_dir,
                     ": ", ec.message()));
  }
  std::unique_ptr<ServiceCore> core(new ServiceCore());
  projection::ProjectionStore::Options store_options;
  store_options.path = projection_dir;
  store_options.column_families = ProjectorColumnFamilies(spec.column_families);
  store_options.uncompressed_column_families =
      spec.uncompressed_column_families;
  store_options.memory = std::move(memory);
  // A damaged projection is moved aside and rebuilt (projection_check.h).
  core->verify_ = ProjectionVerifyFromEnv();
  ASSIGN_OR_RETURN(
      CheckedProjection checked,
      OpenCheckedProjection(spec.name, store_options, core->verify_,
                            spec.projection_format));
  core->store_ = std::move(checked.store);
  // The indexes apply() keeps in memory are charged to the budget the
  // store is under (the process's, or the store's own).
  const std::shared_ptr<projection::MemoryBudget> budget =
      core->store_->options().memory;
  for (const ServiceSpec::InMemoryIndex& index : spec.indexes) {
    core->charges_.push_back(budget->ChargeOutside(
        absl::StrCat(spec.name, "/", index.name), index.bytes));
    // A scrape measures the index through its charge: the metric is what
    // the budget holds back, and the cache follows it.
    core->index_gauges_.push_back(metrics::RegisterIndexMemory(
        spec.name, index.name, [charge = core->charges_.back().get()] {
          return static_cast<double>(charge->Measure());
        }));
  }
  ProjectorOptions po;
  po.service = spec.name;
  po.own_topic = own_topic;
  po.input_topics = inputs;
  if (writes) po.input_topics.push_back(own_topic);
  if (const char* barrier = std::getenv("LOTLEDGER_READ_BARRIER");
      barrier != nullptr && std::string_view(barrier) == "off") {
    po.read_barrier = false;
    LogJson("warn",
            "read barrier off (LOTLEDGER_READ_BARRIER=off): decisions may "
            "miss facts other services acknowledged; for benchmarks only",
            {{"service", spec.name}});
  }
  core->setup_ = {log, po, store_options, spec.apply, spec.projection_format};
  core->projector_ = std::make_unique<Projector>(log, core->store_.get(),
                                                 std::move(po), spec.apply);
  RETURN_IF_ERROR(core->projector_->Start());
  if (!writes) return core;
  // The runner's appends are applied as they commit (projector.h).
  core->projector_->ObserveOwnCommits();
  core->runner_ = std::make_unique<CommandRunner>(
      log, core->store_.get(), core->projector_.get(), own_topic,
      absl::StrCat("lotledger/", spec.name));
  return core;
}

ServiceCore::~ServiceCore() { Stop(); }

void ServiceCore::MeasureIndexes() {
  for (const auto& charge : charges_) charge->Measure();
}

void ServiceCore::Stop() {
  absl::MutexLock l(&lifecycle_mu_);
  stopped_ = true;
  if (projector_ != nullptr) projector_->Stop();
  RecordCleanCloseOnce();
}

void ServiceCore::RecordCleanCloseOnce() {
  // After the projector stopped nothing commits: the digest of this state
  // lets the next Open find damage that checksums miss.
  if (store_ == nullptr || verify_ != ProjectionVerify::kFull ||
      clean_close_recorded_.exchange(true)) {
    return;
  }
  absl::Status s = RecordCleanClose(*store_);
  if (!s.ok()) {
    LogJson("warn",
            "clean close not recorded; the next start checks the projection "
            "with RocksDB only",
            {{"error", std::string(s.message())}});
  }
}

}  // namespace lotledger::command
