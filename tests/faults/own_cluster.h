// OwnCluster: a 3-node Kafka cluster of the test's own
// (tools/kafka/start-cluster with LOTLEDGER_KAFKA_RUN_DIR under the test's
// temp dir), never the shared broker, whose nodes the test kills with
// SIGKILL and starts again on their ports and data (tools/kafka/node).
// Stopped and deleted on destruction; when the test process dies without
// that (a ctest timeout), the scripts' watcher stops it once the process
// is gone (LOTLEDGER_KAFKA_OWNER_PID).
//
// ClusterMetadata: what the cluster's own metadata says, through
// librdkafka Metadata requests to any live node: the live brokers, and
// per partition the leader, replicas and in-sync replicas.
//
// Thread-safety: OwnCluster has one controlling thread; a ClusterMetadata
// may be used from one thread at a time.
#ifndef LOTLEDGER_TESTS_FAULTS_OWN_CLUSTER_H_
#define LOTLEDGER_TESTS_FAULTS_OWN_CLUSTER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace lotledger::faults {

class OwnCluster {
 public:
  static constexpr int kNodes = 3;

  explicit OwnCluster(std::string run_dir);
  ~OwnCluster();

  // Starts a fresh cluster; returns its bootstrap list
  // ("127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3"), or "" (and the test
  // fails) when it does not come up with all nodes.
  std::string Start();
  // SIGKILL node `node` (1..kNodes), as a crashed machine; returns once
  // the process is gone.
  bool KillNode(int node);
  // Starts the killed node again on its ports and data; returns once it
  // is ready.
  bool StartNode(int node);

  const std::string& bootstrap() const { return bootstrap_; }
  const std::string& run_dir() const { return run_dir_; }

 private:
  std::string Run(const std::string& command);
  std::string run_dir_;
  std::string bootstrap_;
  bool started_ = false;
};

struct PartitionState {
  int32_t leader = -1;  // -1: no leader
  std::vector<int32_t> replicas;
  std::vector<int32_t> isr;
};

struct MetadataSnapshot {
  std::vector<int32_t> brokers;  // live (registered, unfenced) brokers
  // Topic -> partition -> state; the asked topic, or every topic.
  std::map<std::string, std::map<int32_t, PartitionState>> topics;
};

class ClusterMetadata {
 public:
  static absl::StatusOr<std::unique_ptr<ClusterMetadata>> Connect(
      const std::string& bootstrap);
  ~ClusterMetadata();
  ClusterMetadata(const ClusterMetadata&) = delete;
  ClusterMetadata& operator=(const ClusterMetadata&) = delete;

  // One Metadata request, answered by any live node within `timeout`.
  // `topic` empty: every topic, the internal ones included. NotFound when
  // the topic does not exist.
  absl::StatusOr<MetadataSnapshot> Describe(const std::string& topic,
                                            absl::Duration timeout);

 private:
  struct Handles;
  explicit ClusterMetadata(std::unique_ptr<Handles> handles);
  std::unique_ptr<Handles> handles_;
};

// True when `brokers` brokers are live and every partition of every topic
// in `snapshot` has a leader and all its replicas in sync: the cluster
// survives losing any one node again.
bool FullyReplicated(const MetadataSnapshot& snapshot, int brokers);

}  // namespace lotledger::faults

#endif  // LOTLEDGER_TESTS_FAULTS_OWN_CLUSTER_H_
