#include "tests/faults/own_cluster.h"

#include <librdkafka/rdkafka.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

#ifndef LOTLEDGER_SOURCE_DIR
#error "LOTLEDGER_SOURCE_DIR must name the source tree (for tools/kafka)"
#endif

namespace lotledger::faults {

// ---- OwnCluster
// ---------------------------------------------------------------

OwnCluster::OwnCluster(std::string run_dir) : run_dir_(std::move(run_dir)) {}

OwnCluster::~OwnCluster() {
  if (started_) Run("stop-cluster");
}

// Runs tools/kafka/<command>; returns its last stdout line ("" on failure,
// with a test failure). The scripts' messages go to <run dir>.tools.log.
std::string OwnCluster::Run(const std::string& command) {
  const std::string cmd = absl::StrCat(
      "LOTLEDGER_KAFKA_RUN_DIR='", run_dir_,
      "' LOTLEDGER_KAFKA_OWNER_PID=", getpid(), " ", LOTLEDGER_SOURCE_DIR,
      "/tools/kafka/", command, " 2>>'", run_dir_, ".tools.log'");
  FILE* out = popen(cmd.c_str(), "r");
  if (out == nullptr) {
    ADD_FAILURE() << "cannot run tools/kafka/" << command;
    return "";
  }
  std::string last;
  char line[1024];
  while (std::fgets(line, sizeof line, out) != nullptr) last = line;
  const int status = pclose(out);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    ADD_FAILURE() << "tools/kafka/" << command << " failed; see " << run_dir_
                  << ".tools.log and the node logs in " << run_dir_;
    return "";
  }
  last = std::string(absl::StripAsciiWhitespace(last));
  return last.empty() ? "ok" : last;
}

std::string OwnCluster::Start() {
  started_ = true;
  const std::string out = Run("start-cluster");
  bootstrap_ = out == "ok" ? "" : out;
  return bootstrap_;
}

bool OwnCluster::KillNode(int node) {
  return !Run(absl::StrCat("node kill ", node)).empty();
}

bool OwnCluster::StartNode(int node) {
  return !Run(absl::StrCat("node start ", node)).empty();
}

// ---- ClusterMetadata
// ----------------------------------------------------------

struct ClusterMetadata::Handles {
  rd_kafka_t* rk = nullptr;
  std::map<std::string, rd_kafka_topic_t*> topics;
  ~Handles() {
    for (auto& [name, rkt] : topics) rd_kafka_topic_destroy(rkt);
    if (rk != nullptr) rd_kafka_destroy(rk);
  }
};

ClusterMetadata::ClusterMetadata(std::unique_ptr<Handles> handles)
    : handles_(std::move(handles)) {}

ClusterMetadata::~ClusterMetadata() = default;

absl::StatusOr<std::unique_ptr<ClusterMetadata>> ClusterMetadata::Connect(
    const std::string& bootstrap) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  for (const auto& [key, value] :
       std::vector<std::pair<const char*, std::string>>{
           {"bootstrap.servers", bootstrap},
           {"client.id", "lotledger-failover-test-metadata"},
           // A restarted node is asked again soon.
           {"reconnect.backoff.ms", "100"},
           {"reconnect.backoff.max.ms", "1000"},
       }) {
    if (rd_kafka_conf_set(conf, key, value.c_str(), err, sizeof err) !=
        RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return absl::InvalidArgumentError(absl::StrCat(key, ": ", err));
    }
  }
  // A killed node is expected: its connection errors are not news.
  rd_kafka_conf_set_log_cb(
      conf, [](const rd_kafka_t*, int, const char*, const char*) {});
  rd_kafka_conf_set_error_cb(conf, [](rd_kafka_t*, int, const char*, void*) {});
  auto handles = std::make_unique<Handles>();
  handles->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (handles->rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return absl::InternalError(absl::StrCat("rd_kafka_new: ", err));
  }
  return std::unique_ptr<ClusterMetadata>(
      new ClusterMetadata(std::move(handles)));
}

absl::StatusOr<MetadataSnapshot> ClusterMetadata::Describe(
    const std::string& topic, absl::Duration timeout) {
  rd_kafka_topic_t* rkt = nullptr;
  if (!topic.empty()) {
    rd_kafka_topic_t*& t = handles_->topics[topic];
    if (t == nullptr)
      t = rd_kafka_topic_new(handles_->rk, topic.c_str(), nullptr);
    rkt = t;
  }
  const rd_kafka_metadata_t* md = nullptr;
  const rd_kafka_resp_err_t e =
      rd_kafka_metadata(handles_->rk, rkt == nullptr ? 1 : 0, rkt, &md,
                        static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::UnavailableError(
        absl::StrCat("metadata request: ", rd_kafka_err2str(e)));
  }
  MetadataSnapshot out;
  for (int b = 0; b < md->broker_cnt; ++b) {
    out.brokers.push_back(md->brokers[b].id);
  }
  absl::Status status;
  for (int t = 0; t < md->topic_cnt; ++t) {
    const rd_kafka_metadata_topic_t& mt = md->topics[t];
    if (mt.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (mt.topic == topic) {
        status = absl::NotFoundError(
            absl::StrCat("topic ", topic, ": ", rd_kafka_err2str(mt.err)));
      }
      continue;
    }
    auto& partitions = out.topics[mt.topic];
    for (int p = 0; p < mt.partition_cnt; ++p) {
      const rd_kafka_metadata_partition_t& mp = mt.partitions[p];
      PartitionState& s = partitions[mp.id];
      s.leader = mp.leader;
      s.replicas.assign(mp.replicas, mp.replicas + mp.replica_cnt);
      s.isr.assign(mp.isrs, mp.isrs + mp.isr_cnt);
    }
  }
  rd_kafka_metadata_destroy(md);
  if (!status.ok()) return status;
  if (!topic.empty() && !out.topics.contains(topic)) {
    return absl::NotFoundError(absl::StrCat("topic ", topic, ": not listed"));
  }
  return out;
}

bool FullyReplicated(const MetadataSnapshot& snapshot, int brokers) {
  if (static_cast<int>(snapshot.brokers.size()) != brokers) return false;
  for (const auto& [topic, partitions] : snapshot.topics) {
    for (const auto& [p, s] : partitions) {
      if (s.leader < 0 || s.isr.size() != s.replicas.size()) return false;
    }
  }
  return true;
}

}  // namespace lotledger::faults
