#include "libs/server/grpc_server.h"

#include <grpc/grpc.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/resource_quota.h>

#include <algorithm>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "libs/server/early_auth.h"

namespace lotledger::server {

GrpcServer::GrpcServer(ServerOptions options)
    : options_(std::move(options)),
      calls_({.log_requests = options_.log_requests,
              .writer_address = options_.writer_address}) {}

GrpcServer::~GrpcServer() {
  if (server_ != nullptr) Shutdown(absl::ZeroDuration());
}

// A sync handler holds its thread while its command waits for the log and
// the projection, so the bound is on calls in flight, not on cores: it
// must stay well above the clients a service really has (the bench runs 32
// concurrent callers per service, the recall reactor adds its own), and
// only stop a flood.
int DefaultMaxThreads() {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  return std::max(256, static_cast<int>(16 * cores));
}

void GrpcServer::AddService(grpc::Service* service, std::string health_name,
                            HealthProbe probe) {
  services_.push_back({service, std::move(health_name), std::move(probe)});
}

void GrpcServer::AddRoleHealth(std::string health_name, HealthProbe probe) {
  roles_.push_back({nullptr, std::move(health_name), std::move(probe)});
}

absl::Status GrpcServer::Start() {
  RouteLibraryLogsToJson();
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  if (options_.credentials == nullptr) {
    return absl::FailedPreconditionError(
        "no transport credentials: TLS, or plaintext with --insecure-dev");
  }
  if (options_.authenticator == nullptr) {
    return absl::FailedPreconditionError(
        "no authenticator: calls could not be authenticated before their "
        "message is read");
  }
  options_.credentials->SetAuthMetadataProcessor(
      std::make_shared<EarlyAuthProcessor>(options_.authenticator));
  // One server per address: with SO_REUSEPORT (gRPC's default) a second
  // server would bind a busy port and the kernel would split calls.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(options_.address, options_.credentials, &port_);
  RequestLimits limits = options_.limits;
  limits.max_message_bytes = static_cast<size_t>(options_.max_message_bytes);
  // Nothing larger than the largest method's own limit is read at all.
  builder.SetMaxReceiveMessageSize(
      static_cast<int>(LargestRequestBytes(limits.max_message_bytes)));
  // Commands block on the log and the projection; more completion queues
  // and pollers keep calls flowing while handlers wait.
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::NUM_CQS,
                              options_.completion_queues);
  builder.SetSyncServerOption(
      grpc::ServerBuilder::SyncServerOption::MAX_POLLERS,
      options_.completion_queues * 2);
  // Bounded threads: beyond them a call is answered RESOURCE_EXHAUSTED.
  grpc::ResourceQuota quota("lotledger-grpc");
  quota.SetMaxThreads(options_.max_threads > 0 ? options_.max_threads
                                               : DefaultMaxThreads());
  builder.SetResourceQuota(quota);
  for (Hosted& h : services_) builder.RegisterService(h.service);
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  interceptors.push_back(calls_.NewInterceptorFactory());
  interceptors.push_back(MakeLimitsInterceptorFactory(limits));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    server_.reset();
    return absl::UnavailableError(absl::StrCat(
        "--listen ", options_.address,
        ": cannot listen there (in use by another process, or not an "
        "address of this machine)"));
  }
  if (!options_.health_address.empty()) {
    // No services of its own: the builder adds only the default health
    // service (and reflection, which lists just that).
    grpc::ServerBuilder health_builder;
    health_builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    health_builder.AddListeningPort(options_.health_address,
                                    grpc::InsecureServerCredentials(),
                                    &health_port_);
    health_server_ = health_builder.BuildAndStart();
    if (health_server_ == nullptr || health_port_ == 0) {
      health_server_.reset();
      return absl::UnavailableError(absl::StrCat(
          "--health-listen ", options_.health_address,
          ": cannot listen there (in use by another process, or not an "
          "address of this machine)"));
    }
  }
  UpdateHealth();
  health_thread_ = std::thread([this] { WatchHealth(); });
  return absl::OkStatus();
}

void GrpcServer::UpdateHealth() {
  bool all = true;
  std::vector<std::pair<std::string, bool>> statuses;
  for (Hosted& h : services_) {
    absl::Status s = h.probe ? h.probe() : absl::OkStatus();
    all &= s.ok();
    statuses.emplace_back(h.health_name, s.ok());
  }
  for (Hosted& h : roles_) statuses.emplace_back(h.health_name, h.probe().ok());
  absl::MutexLock l(&health_mu_);
  if (shutting_down_) return;  // everything stays NOT_SERVING
  for (grpc::Server* server : {server_.get(), health_server_.get()}) {
    if (server == nullptr) continue;
    auto* health = server->GetHealthCheckService();
    for (const auto& [name, serving] : statuses) {
      health->SetServingStatus(name, serving);
    }
    health->SetServingStatus("", all);
    health->SetServingStatus(kLivenessHealthName, true);
  }
}

void GrpcServer::WatchHealth() {
  absl::MutexLock l(&health_mu_);
  while (!shutting_down_) {
    health_mu_.AwaitWithTimeout(absl::Condition(&shutting_down_),
                                options_.health_poll);
    if (shutting_down_) break;
    health_mu_.Unlock();
    UpdateHealth();
    health_mu_.Lock();
  }
}

std::string GrpcServer::target() const {
  const std::string host =
      options_.address.substr(0, options_.address.rfind(':'));
  return absl::StrCat(host, ":", port_);
}

void GrpcServer::Shutdown(absl::Duration grace) {
  if (server_ == nullptr) return;
  const absl::Time deadline = absl::Now() + grace;
  {
    absl::MutexLock l(&health_mu_);
    shutting_down_ = true;
    server_->GetHealthCheckService()->SetServingStatus(false);
    if (health_server_ != nullptr) {
      health_server_->GetHealthCheckService()->SetServingStatus(false);
    }
  }
  if (health_thread_.joinable()) health_thread_.join();
  // grpc::Server::Shutdown stops accepting calls and sends GOAWAY, then
  // waits until every call is done AND every connection is closed, and
  // only at the deadline cancels the rest. A client that keeps an idle
  // channel open (or a health Watch, which never ends) would hold it for
  // the whole deadline. So it runs on its own thread while this one waits
  // for the unary calls in flight; once they are done, cancelling all
  // calls closes the remaining connections and lets Shutdown return.
  absl::Notification stopped;
  std::thread shutdown([this, deadline, &stopped] {
    server_->Shutdown(absl::ToChronoTime(deadline));
    stopped.Notify();
  });
  calls_.AwaitIdle(deadline);
  // Repeated: a connection accepted before Shutdown took effect is closed
  // by the next round.
  while (!stopped.WaitForNotificationWithTimeout(absl::Milliseconds(50))) {
    grpc_server_cancel_all_calls(server_->c_server());
  }
  shutdown.join();
  if (health_server_ != nullptr) {
    // Probes hold no calls worth waiting for.
    health_server_->Shutdown(absl::ToChronoTime(absl::Now()));
    health_server_->Wait();
    health_server_.reset();
  }
}

void GrpcServer::Wait() {
  if (server_ != nullptr) server_->Wait();
}

}  // namespace lotledger::server
