// How librdkafka's errors become the absl::Status codes event_log.h
// promises, and the millisecond arithmetic every librdkafka call needs.
// Pure helpers shared by the Kafka backend's writer, reader and offsets.
#ifndef LOTLEDGER_LIBS_EVENTLOG_KAFKA_ERRORS_H_
#define LOTLEDGER_LIBS_EVENTLOG_KAFKA_ERRORS_H_

#include <librdkafka/rdkafka.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace lotledger::eventlog::kafka {

// Unavailable for what a retry may cure (timeouts, leader changes, brokers
// down), FailedPrecondition for a fenced producer, DataLoss for offsets
// outside the log, InvalidArgument for what no retry cures.
absl::StatusCode CodeFor(rd_kafka_resp_err_t err);

// "<what>: <ERR_NAME> (<detail or librdkafka's text>)" with CodeFor's code.
absl::Status KafkaError(rd_kafka_resp_err_t err, absl::string_view what,
                        absl::string_view detail = {});
// Takes ownership of `error`.
absl::Status KafkaError(rd_kafka_error_t* error, absl::string_view what);

// Milliseconds for librdkafka's int timeouts, clamped to [0, INT32_MAX].
int ToMillis(absl::Duration d);
int RemainingMs(absl::Time deadline);

}  // namespace lotledger::eventlog::kafka

#endif  // LOTLEDGER_LIBS_EVENTLOG_KAFKA_ERRORS_H_
