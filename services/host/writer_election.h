// WriterElection: one replica of a service among several, on Kafka
// (docs/adr/0006-standby-writers.md). The replica
//   - starts as a standby (StandBy, before it serves): the service's
//     projector follows the log (its read barrier covering the service's
//     own topic too), queries are answered, commands are refused naming
//     the writer (WriterRole);
// and its election
//   - joins the service's writer lease (eventlog::kafka::WriterLease);
//   - when given the lease, takes the writer role on the log (which fences
//     the previous writer), catches the projection up to the end of the
//     service's topic, then takes commands, announces its address on the
//     lease topic and calls `promoted` (the host starts its checkpoint
//     publisher there);
//   - follows the lease topic, so a standby can tell clients where the
//     writer is;
//   - once it loses the lease, demotes the role (as CommandRunner does when
//     an append finds the replica fenced): a writer never becomes a standby
//     again in the same process (its producers are fenced for good); the
//     host stops on the role's demotion, and the orchestrator starts it
//     again as a standby.
//
// Thread-safety: StandBy, Start and the destructor from one controlling
// thread. `promoted` runs on the election's thread.
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

// Makes `core` a standby's: its commands refused while `role` is not
// writing, its read barrier over the service's own topic too. Call before
// the replica serves; `role` outlives `core`'s use.
void StandBy(command::ServiceCore& core, command::WriterRole& role);

class WriterElection {
 public:
  struct Options {
    std::string service;    // "inventory"
    std::string advertise;  // the address clients reach this replica at
    // The role StandBy gave the core; promoted and demoted here.
    command::WriterRole* role = nullptr;
    // After this replica took the writer role and caught up.
    std::function<absl::Status()> promoted;
  };

  // `log` must be the standby Kafka log the process opened (config has
  // writer_election), `core` the service's core on it, made a standby's
  // with StandBy; they and options.role outlive the election.
  static absl::StatusOr<std::unique_ptr<WriterElection>> Start(
      const server::ProcessConfig& config, eventlog::EventLog* log,
      command::ServiceCore* core, Options options);
  // Stops the threads: no promotion starts or goes on after it. The lease
  // is still held (a writer writes its final checkpoint after it).
  void StopPromoting();
  // StopPromoting, then leaves the lease (another replica takes over at
  // once).
  ~WriterElection();

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
  command::WriterRole& role_;
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
