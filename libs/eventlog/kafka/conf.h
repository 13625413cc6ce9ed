// The librdkafka client configuration every client of the Kafka backend
// starts from (bootstrap, client id, reconnect backoff, the caller's extra
// properties), and owning handles for configurations and clients. Shared by
// KafkaEventLog and WriterLease so that both talk to the cluster the same
// way.
//
// Thread-safety: pure helpers; a Handle is owned by one holder.
#ifndef LOTLEDGER_LIBS_EVENTLOG_KAFKA_CONF_H_
#define LOTLEDGER_LIBS_EVENTLOG_KAFKA_CONF_H_

#include <librdkafka/rdkafka.h>

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "libs/eventlog/kafka/kafka_event_log.h"

namespace lotledger::eventlog::kafka {

struct ConfDeleter {
  void operator()(rd_kafka_conf_t* c) const { rd_kafka_conf_destroy(c); }
};
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;

// Sets one property; InvalidArgument naming it (never echoing its value,
// which may be a secret) when librdkafka refuses it.
absl::Status Set(rd_kafka_conf_t* conf, const std::string& name,
                 const std::string& value);

// A configuration with the options' common properties, then `specific`,
// then the caller's extra properties.
absl::StatusOr<ConfPtr> MakeConf(
    const KafkaOptions& options,
    const std::map<std::string, std::string>& specific);

// A librdkafka client, destroyed with its holder.
struct Handle {
  rd_kafka_t* rk = nullptr;
  Handle() = default;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() {
    if (rk != nullptr) rd_kafka_destroy(rk);
  }
};

// A client of `type` made from `conf` (taken on success).
absl::StatusOr<rd_kafka_t*> NewClient(rd_kafka_type_t type, ConfPtr conf);

}  // namespace lotledger::eventlog::kafka

#endif  // LOTLEDGER_LIBS_EVENTLOG_KAFKA_CONF_H_
