// WriterElection: one replica of a service among several, on Kafka
// (docs/adr/0006-standby-writers.md). It
//   - starts as a standby: the service's projector follows the log (its
//     read barrier covering the service's own topic too), queries are
//     answered, commands are refused naming the writer (WriterRole);
//   - joins the service's writer lease (eventlog::kafka::WriterLease);
//   - when given the lease, takes the writer role on the log (which fences
//     the previous writer), catches the projection up to the end of the
//     service's topic, then takes commands, announces its address on the
//     lease topic and calls `promoted` (the host starts its checkpoint
//     publisher there);
//   - follows the lease topic, so a standby can tell clients where the
//     writer is;
//   - once it loses the lease or finds its appends fenced, refuses
//     commands again and calls `demoted`: a writer never becomes a standby
//     again in the same process (its producers are fenced for good); the
//     host stops, and the orchestrator starts it again as a standby.
//
// Thread-safety: Start and the destructor from one controlling thread;
// role() from any thread. The callbacks run on the election's threads.
#ifndef LOTLEDGER_SERVICES_HOST_WRITER_ELECTION_H_
#define LOTLEDGER_SERVICES_HOST_WRITER_ELECTION_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "libs/command/service_core.h"
#include "libs/command/writer_role.h"
#include "libs/eventlog/kafka/writer_lease.h"
#include "libs/server/process.h"

namespace lotledger {

class WriterElection {
 public:
  struct Options {
    std::string service;    // "inventory"
    std::string advertise;  // the address clients reach this replica at
    // After this replica took the writer role and caught up.
    std::function<absl::Status()> promoted;
    // Once, when the role is lost (the reason).
    std::function<void(const std::string&)> demoted;
  };

  // `log` must be the standby Kafka log the process opened (config has
  // writer_election), `core` the service's core on it; both outlive the
  // election.
  static absl::StatusOr<std::unique_ptr<WriterElection>> Start(
      const server::ProcessConfig& config, eventlog::EventLog* log,
      command::ServiceCore* core, Options options);
  // Stops the threads: no promotion starts or goes on after it. The lease
  // is still held (a writer writes its final checkpoint after it).
  void StopPromoting();
  // StopPromoting, then leaves the lease (another replica takes over at
  // once).
  ~WriterElection();

  command::WriterRole& role() { return role_; }

 private:
  WriterElection(eventlog::EventLog* log, command::ServiceCore* core,
                 Options options, std::string lease_topic);
  void Acquired();
  void Promote();
  void FollowLeaseTopic();
  bool Stopping() const;

  eventlog::EventLog* const log_;
  command::ServiceCore* const core_;
  const Options options_;
  const std::string lease_topic_;
  command::WriterRole role_;
  std::unique_ptr<eventlog::LogReader> lease_reader_;
  std::unique_ptr<eventlog::kafka::WriterLease> lease_;

  mutable absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool acquired_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time acquired_at_ ABSL_GUARDED_BY(mu_);
  std::thread promoter_;
  std::thread follower_;
};

}  // namespace lotledger

#endif  // LOTLEDGER_SERVICES_HOST_WRITER_ELECTION_H_
