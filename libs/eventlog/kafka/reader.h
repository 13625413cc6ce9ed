// KafkaLogReader: a LogReader on a librdkafka consumer (kafka_event_log.h,
// "Reads"): read_committed, explicitly assigned partitions, nothing ever
// committed to the broker.
#ifndef LOTLEDGER_LIBS_EVENTLOG_KAFKA_READER_H_
#define LOTLEDGER_LIBS_EVENTLOG_KAFKA_READER_H_

#include <librdkafka/rdkafka.h>

#include <memory>

#include "libs/eventlog/event_log.h"

namespace lotledger::eventlog::kafka {

// Takes ownership of `consumer`, whose partitions are already assigned from
// `start` and whose events are redirected to its consumer queue.
std::unique_ptr<LogReader> NewKafkaLogReader(rd_kafka_t* consumer,
                                             Offsets start);

}  // namespace lotledger::eventlog::kafka

#endif  // LOTLEDGER_LIBS_EVENTLOG_KAFKA_READER_H_
