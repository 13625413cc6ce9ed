#include "libs/command/service_core.h"

#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"

namespace lotledger::command {

absl::StatusOr<std::unique_ptr<ServiceCore>> ServiceCore::Open(
    eventlog::EventLog* log, const ServiceSpec& spec,
    const std::string& projection_dir) {
  // Every topic of a deployment has the same partition count, so a
  // service can create its inputs too when it starts before their writers.
  RETURN_IF_ERROR(log->EnsureTopic(spec.own_topic, spec.partitions));
  for (const std::string& topic : spec.input_topics) {
    RETURN_IF_ERROR(log->EnsureTopic(topic, spec.partitions));
  }
  std::unique_ptr<ServiceCore> core(new ServiceCore());
  ASSIGN_OR_RETURN(core->store_,
                   projection::ProjectionStore::Open(
                       {.path = projection_dir,
                        .column_families =
                            ProjectorColumnFamilies(spec.column_families)}));
  ProjectorOptions po;
  po.own_topic = spec.own_topic;
  po.input_topics = spec.input_topics;
  po.input_topics.push_back(spec.own_topic);
  core->projector_ = std::make_unique<Projector>(log, core->store_.get(),
                                                 std::move(po), spec.apply);
  RETURN_IF_ERROR(core->projector_->Start());
  core->runner_ = std::make_unique<CommandRunner>(
      log, core->store_.get(), core->projector_.get(), spec.own_topic,
      absl::StrCat("lotledger/", spec.name));
  return core;
}

ServiceCore::~ServiceCore() { Stop(); }

void ServiceCore::Stop() {
  if (projector_ != nullptr) projector_->Stop();
}

}  // namespace lotledger::command
