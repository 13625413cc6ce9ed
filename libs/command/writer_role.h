// WriterRole: whether this replica of a service may write the service's
// topic now, and where the writer is when it may not
// (docs/adr/0006-standby-writers.md).
//
// A service deployed as one process is its writer for life (no role, or
// WriterRole::Writer()). A service deployed as several replicas with a
// writer lease starts as a standby: its projector follows the log and it
// answers queries, but CommandRunner refuses commands with Unavailable
// naming the writer's address (which the gRPC layer also sends as the
// `lotledger-writer` trailing metadata, for clients to follow). The host
// promotes it once it holds the lease and has fenced the previous writer,
// and demotes it when the lease is lost or its appends are fenced.
//
// Thread-safety: every method may be called from any thread.
#ifndef LOTLEDGER_LIBS_COMMAND_WRITER_ROLE_H_
#define LOTLEDGER_LIBS_COMMAND_WRITER_ROLE_H_

#include <atomic>
#include <functional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace lotledger::command {

// The trailing metadata key naming the writer's address on a refusal.
inline constexpr char kWriterMetadata[] = "lotledger-writer";

class WriterRole {
 public:
  // `service` names the service in refusals ("inventory").
  WriterRole(std::string service, bool writing);

  bool writing() const { return writing_.load(); }
  // OK while writing; otherwise Unavailable saying this replica is a
  // standby and where the writer is (when known), so that the client
  // retries there with the same request id.
  absl::Status CheckWriting() const;

  // Commands are taken from now on.
  void Promote();
  // Commands are refused from now on; calls `on_demoted` (once, the first
  // time) when one was set.
  void Demote(const std::string& why);
  void OnDemoted(std::function<void(const std::string&)> on_demoted);

  // The address clients reach the current writer at ("" when unknown).
  void SetWriterAddress(std::string address);
  std::string writer_address() const;

 private:
  const std::string service_;
  std::atomic<bool> writing_;
  mutable absl::Mutex mu_;
  std::string writer_address_ ABSL_GUARDED_BY(mu_);
  std::function<void(const std::string&)> on_demoted_ ABSL_GUARDED_BY(mu_);
  bool demoted_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace lotledger::command

#endif  // LOTLEDGER_LIBS_COMMAND_WRITER_ROLE_H_
