#include "libs/eventlog/kafka/writer_lease.h"

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/common/json_log.h"
#include "libs/common/status_macros.h"
#include "libs/eventlog/kafka/conf.h"
#include "libs/eventlog/kafka/errors.h"

namespace lotledger::eventlog::kafka {
namespace {

// How long one poll of the group protocol lasts before the thread checks
// its stop flag.
constexpr int kPollSliceMs = 100;

void OnError(rd_kafka_t*, int err, const char* reason, void*) {
  // The group cannot form (e.g. a session timeout the brokers refuse):
  // worth a line, since no replica becomes the writer until it is fixed.
  if (err == RD_KAFKA_RESP_ERR_INVALID_SESSION_TIMEOUT ||
      err == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED ||
      err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) {
    LogJson(
        "error", "writer lease: the group cannot form",
        {{"error", rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err))},
         {"reason", reason}});
  }
}

}  // namespace

WriterLease::WriterLease(Options options, Callbacks callbacks)
    : options_(std::move(options)), callbacks_(std::move(callbacks)) {}

absl::StatusOr<std::unique_ptr<WriterLease>> WriterLease::Start(
    Options options, Callbacks callbacks) {
  if (options.group.empty() || options.topic.empty()) {
    return absl::InvalidArgumentError("writer lease: group and topic required");
  }
  std::unique_ptr<WriterLease> lease(
      new WriterLease(std::move(options), std::move(callbacks)));
  const Options& o = lease->options_;
  ASSIGN_OR_RETURN(
      ConfPtr conf,
      MakeConf(o.kafka,
               {
                   {"group.id", o.group},
                   {"session.timeout.ms",
                    std::to_string(ToMillis(o.session_timeout))},
                   {"heartbeat.interval.ms",
                    std::to_string(ToMillis(o.heartbeat_interval))},
                   // The lease stays with a live holder when members come
                   // and go.
                   {"partition.assignment.strategy", "cooperative-sticky"},
                   // Nothing is consumed for real: no offsets to keep.
                   {"enable.auto.commit", "false"},
                   {"enable.auto.offset.store", "false"},
                   {"auto.offset.reset", "latest"},
               }));
  rd_kafka_conf_set_rebalance_cb(conf.get(), &WriterLease::OnRebalance);
  rd_kafka_conf_set_error_cb(conf.get(), OnError);
  rd_kafka_conf_set_opaque(conf.get(), lease.get());
  ASSIGN_OR_RETURN(lease->consumer_,
                   NewClient(RD_KAFKA_CONSUMER, std::move(conf)));
  rd_kafka_poll_set_consumer(lease->consumer_);
  rd_kafka_topic_partition_list_t* topics =
      rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, o.topic.c_str(),
                                    RD_KAFKA_PARTITION_UA);
  const rd_kafka_resp_err_t err = rd_kafka_subscribe(lease->consumer_, topics);
  rd_kafka_topic_partition_list_destroy(topics);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_destroy(lease->consumer_);
    lease->consumer_ = nullptr;
    return KafkaError(err,
                      absl::StrCat("writer lease: subscribe to ", o.topic));
  }
  lease->thread_ = std::thread([l = lease.get()] { l->Run(); });
  return lease;
}

WriterLease::~WriterLease() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  if (consumer_ != nullptr) {
    // Leaves the group: the coordinator hands the lease on at once.
    closing_.store(true);
    rd_kafka_consumer_close(consumer_);
    rd_kafka_destroy(consumer_);
  }
}

void WriterLease::Run() {
  while (!stop_.load()) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer_, kPollSliceMs);
    if (m != nullptr) rd_kafka_message_destroy(m);
  }
}

void WriterLease::OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                              rd_kafka_topic_partition_list_t* partitions,
                              void* opaque) {
  auto* self = static_cast<WriterLease*>(opaque);
  const bool cooperative =
      std::strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    if (cooperative) {
      if (rd_kafka_error_t* e = rd_kafka_incremental_assign(rk, partitions)) {
        rd_kafka_error_destroy(e);
      }
    } else {
      rd_kafka_assign(rk, partitions);
    }
    if (partitions->cnt > 0 && !self->held_.exchange(true) &&
        self->callbacks_.acquired) {
      self->callbacks_.acquired();
    }
    return;
  }
  // Revoked, or lost (the session expired while this member was silent).
  if (cooperative) {
    if (rd_kafka_error_t* e = rd_kafka_incremental_unassign(rk, partitions)) {
      rd_kafka_error_destroy(e);
    }
  } else {
    rd_kafka_assign(rk, nullptr);
  }
  if (partitions->cnt > 0 && self->held_.exchange(false) &&
      !self->closing_.load() && self->callbacks_.lost) {
    self->callbacks_.lost();
  }
}

}  // namespace lotledger::eventlog::kafka
