// Sealing events into hash-chained EventRecords, decoding them back, and
// the CloudEvents headers every record carries (docs/design.md, "EventRecord
// and the hash chain"). Pure functions; thread-safe.
#ifndef LOTLEDGER_LIBS_EVENTLOG_RECORD_CODEC_H_
#define LOTLEDGER_LIBS_EVENTLOG_RECORD_CODEC_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/eventlog/event_log.h"
#include "lotledger/v1/events.pb.h"

namespace lotledger::eventlog {

// The last record of one aggregate in one topic. A new aggregate starts at
// seq 0 with 32 zero bytes.
struct ChainHead {
  uint64_t seq = 0;
  std::string hash = std::string(32, '\0');
  friend bool operator==(const ChainHead&, const ChainHead&) = default;
};

// Serializes `event` once and chains it after `head`; advances `head`.
v1::EventRecord Seal(const v1::Event& event, ChainHead& head);

// The outgoing log record for a sealed event: key = aggregate id, value =
// the EventRecord, CloudEvents headers (ce_specversion, ce_id, ce_type,
// ce_source, ce_time, content-type, and ce_traceparent when the event
// carries a trace context).
OutgoingRecord ToOutgoing(const v1::Event& event, const v1::EventRecord& rec,
                          std::string_view source);

// Parses a record value and checks that its hash matches its contents.
// DataLoss (never a crash) for bytes that do not parse, a hash or
// prev_hash that is not 32 bytes, or a hash that does not match.
absl::StatusOr<v1::EventRecord> DecodeRecord(std::string_view value);

// Parses the body of a verified record. DataLoss when it does not parse.
absl::StatusOr<v1::Event> DecodeEvent(const v1::EventRecord& record);

// The CloudEvents type of an event, e.g. "lotledger.v1.LotCreated".
std::string EventType(const v1::Event& event);

// Checks the hash chains of one topic, record by record in offset order per
// partition. Not thread-safe; one verifier per reading thread.
class ChainVerifier {
 public:
  struct Break {
    std::string topic;
    int32_t partition = 0;
    int64_t offset = 0;
    std::string aggregate_id;  // the record key
    std::string what;  // readable: which check failed, expected vs found
  };

  // Returns false (and records the break) at the first record that breaks
  // its chain; later calls keep returning false.
  bool Add(const Record& record);
  const std::optional<Break>& first_break() const { return break_; }
  uint64_t records_checked() const { return checked_; }
  // Heads of every aggregate seen so far, by record key.
  const std::map<std::string, ChainHead>& heads() const { return heads_; }

 private:
  std::map<std::string, ChainHead> heads_;
  std::optional<Break> break_;
  uint64_t checked_ = 0;
};

// Reads every partition of `topic` to its current end and verifies it.
struct VerifyReport {
  uint64_t records = 0;
  std::optional<ChainVerifier::Break> first_break;
};
absl::StatusOr<VerifyReport> VerifyTopic(EventLog& log, std::string_view topic);

}  // namespace lotledger::eventlog

#endif  // LOTLEDGER_LIBS_EVENTLOG_RECORD_CODEC_H_
