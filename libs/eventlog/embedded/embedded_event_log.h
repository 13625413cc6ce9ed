// EmbeddedEventLog: the EventLog on a local RocksDB database, for a single
// machine (lotledgerd) with no broker. Same topics, partitions and offsets
// as Kafka; offsets are contiguous here.
//
// Durability: Append returns only after its records are in the RocksDB WAL
// and the WAL is fsynced. Concurrent appenders share one fsync (group
// commit): the first waiting appender becomes the leader, writes every
// queued append in one WriteBatch, syncs once, and wakes the others.
//
// Thread-safety: all methods may be called from any thread. Readers must be
// destroyed before the log.
#ifndef LOTLEDGER_LIBS_EVENTLOG_EMBEDDED_EMBEDDED_EVENT_LOG_H_
#define LOTLEDGER_LIBS_EVENTLOG_EMBEDDED_EMBEDDED_EVENT_LOG_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "libs/eventlog/event_log.h"

namespace lotledger::eventlog {

struct EmbeddedOptions {
  std::string path;  // directory of the database; created when missing
  // Sync the WAL before an append returns. Only tests of throughput limits
  // turn this off.
  bool sync = true;
};

absl::StatusOr<std::unique_ptr<EventLog>> OpenEmbeddedEventLog(
    const EmbeddedOptions& options);

}  // namespace lotledger::eventlog

#endif  // LOTLEDGER_LIBS_EVENTLOG_EMBEDDED_EMBEDDED_EVENT_LOG_H_
