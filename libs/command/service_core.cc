#include "libs/command/service_core.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"

namespace lotledger::command {

absl::StatusOr<std::unique_ptr<ServiceCore>> ServiceCore::Open(
    eventlog::EventLog* log, const ServiceSpec& spec,
    const std::string& projection_dir, const std::string& topic_prefix) {
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
  ASSIGN_OR_RETURN(core->store_,
                   projection::ProjectionStore::Open(store_options));
  ProjectorOptions po;
  po.service = spec.name;
  po.own_topic = own_topic;
  po.input_topics = inputs;
  if (writes) po.input_topics.push_back(own_topic);
  core->projector_ = std::make_unique<Projector>(log, core->store_.get(),
                                                 std::move(po), spec.apply);
  RETURN_IF_ERROR(core->projector_->Start());
  if (!writes) return core;
  core->runner_ = std::make_unique<CommandRunner>(
      log, core->store_.get(), core->projector_.get(), own_topic,
      absl::StrCat("lotledger/", spec.name));
  return core;
}

ServiceCore::~ServiceCore() { Stop(); }

void ServiceCore::Stop() {
  if (projector_ != nullptr) projector_->Stop();
}

}  // namespace lotledger::command
