// WriterLease: which of a service's replicas is its writer
// (docs/adr/0006-standby-writers.md).
//
// Every replica of a service holds a WriterLease: a librdkafka consumer in
// one consumer group, subscribed to a lease topic of one partition. Kafka's
// group coordinator gives that partition to exactly one live member of the
// group; holding it is holding the lease. Assignment is cooperative-sticky,
// so a replica that joins or leaves does not move the lease away from a
// live holder. A holder that stops heartbeating (killed, paused, cut off
// from the coordinator) loses it `session_timeout` later, and a remaining
// member is given it.
//
// The lease says who should write; it does not stop an old holder by
// itself. The transactional producer does: the new holder takes the writer
// role (KafkaEventLog::TakeWriterRole), which fences the old holder's
// producer ids, so nothing the old holder appends afterwards can land.
//
// The brokers must allow the session timeout: Kafka refuses one below
// group.min.session.timeout.ms (6 s by default; docs/operations.md).
//
// Thread-safety: the callbacks run on the lease's own thread, one at a
// time, in the order the group protocol delivers them; they must return
// quickly (hand longer work to another thread). held() may be called from
// any thread.
#ifndef LOTLEDGER_LIBS_EVENTLOG_KAFKA_WRITER_LEASE_H_
#define LOTLEDGER_LIBS_EVENTLOG_KAFKA_WRITER_LEASE_H_

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/eventlog/kafka/kafka_event_log.h"

namespace lotledger::eventlog::kafka {

class WriterLease {
 public:
  struct Options {
    // Bootstrap servers, client id and extra (security) properties.
    KafkaOptions kafka;
    // The consumer group every replica of the service joins.
    std::string group;
    // The lease topic (full name, one partition); it must exist.
    std::string topic;
    // How long a silent holder keeps the lease.
    absl::Duration session_timeout = absl::Seconds(3);
    absl::Duration heartbeat_interval = absl::Milliseconds(500);
  };
  struct Callbacks {
    // This replica was given the lease.
    std::function<void()> acquired;
    // This replica no longer holds the lease (revoked, or lost because its
    // session expired). Not called when the lease is closed.
    std::function<void()> lost;
  };

  // Joins the group and starts the lease's thread. InvalidArgument for bad
  // options; a broker that is down is not an error (the lease is acquired
  // once the group can form).
  static absl::StatusOr<std::unique_ptr<WriterLease>> Start(
      Options options, Callbacks callbacks);
  // Leaves the group, so that another replica gets the lease at once
  // instead of a session timeout later.
  ~WriterLease();

  WriterLease(const WriterLease&) = delete;
  WriterLease& operator=(const WriterLease&) = delete;

  bool held() const { return held_.load(); }

 private:
  WriterLease(Options options, Callbacks callbacks);
  static void OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                          rd_kafka_topic_partition_list_t* partitions,
                          void* opaque);
  void Run();

  const Options options_;
  const Callbacks callbacks_;
  rd_kafka_t* consumer_ = nullptr;
  std::atomic<bool> held_ = false;
  std::atomic<bool> stop_ = false;
  std::atomic<bool> closing_ = false;
  std::thread thread_;
};

}  // namespace lotledger::eventlog::kafka

#endif  // LOTLEDGER_LIBS_EVENTLOG_KAFKA_WRITER_LEASE_H_
