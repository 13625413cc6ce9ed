#include "libs/eventlog/kafka/conf.h"

#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"

namespace lotledger::eventlog::kafka {

absl::Status Set(rd_kafka_conf_t* conf, const std::string& name,
                 const std::string& value) {
  char errstr[512];
  if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), errstr,
                        sizeof(errstr)) != RD_KAFKA_CONF_OK) {
    // The value may be a secret (sasl.password, ssl.key.password,
    // *.secret*, a JAAS config): never echo it, not even inside
    // librdkafka's reason.
    std::string why = errstr;
    for (size_t at = value.empty() ? std::string::npos : why.find(value);
         at != std::string::npos; at = why.find(value, at + 10)) {
      why.replace(at, value.size(), "<redacted>");
    }
    return absl::InvalidArgumentError(
        absl::StrCat("librdkafka property ", name, ": ", why));
  }
  return absl::OkStatus();
}

// A configuration with the options' common properties, then `specific`,
// then the caller's extra properties.
absl::StatusOr<ConfPtr> MakeConf(
    const KafkaOptions& options,
    const std::map<std::string, std::string>& specific) {
  ConfPtr conf(rd_kafka_conf_new());
  RETURN_IF_ERROR(
      Set(conf.get(), "bootstrap.servers", options.bootstrap_servers));
  RETURN_IF_ERROR(Set(conf.get(), "client.id", options.client_id));
  // Never let a metadata request create a topic: a typo must be NotFound,
  // not a new topic with the cluster's default settings.
  RETURN_IF_ERROR(Set(conf.get(), "allow.auto.create.topics", "false"));
  // A dropped idle connection is routine, not worth a log line.
  RETURN_IF_ERROR(Set(conf.get(), "log.connection.close", "false"));
  // librdkafka asks again who coordinates our transactions (and, for a
  // broker it has lost, who leads its partitions now) only after its next
  // failed reconnect, 500 ms later, and by default backs reconnects off up
  // to 10 s (plus up to 50% jitter). After a broker dies that came on top
  // of Kafka's own election (measured: the new transaction coordinator
  // found 6.8 s after the election). With reconnects at most 0.5 s apart
  // (0.75 s with jitter) a failover costs the election plus about a second;
  // the price is two refused connects a second to a dead broker.
  RETURN_IF_ERROR(Set(conf.get(), "reconnect.backoff.ms", "50"));
  RETURN_IF_ERROR(Set(conf.get(), "reconnect.backoff.max.ms", "500"));
  for (const auto& [name, value] : specific) {
    RETURN_IF_ERROR(Set(conf.get(), name, value));
  }
  for (const auto& [name, value] : options.extra_properties) {
    RETURN_IF_ERROR(Set(conf.get(), name, value));
  }
  return conf;
}

absl::StatusOr<rd_kafka_t*> NewClient(rd_kafka_type_t type, ConfPtr conf) {
  char errstr[512];
  // rd_kafka_new takes the conf only on success.
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), errstr, sizeof(errstr));
  if (rk == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot create Kafka client: ", errstr));
  }
  conf.release();
  return rk;
}

}  // namespace lotledger::eventlog::kafka
