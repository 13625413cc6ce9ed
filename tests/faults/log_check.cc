#include "tests/faults/log_check.h"

#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"
#include "libs/eventlog/record_codec.h"

namespace lotledger::faults {

absl::StatusOr<TopicSummary> SummarizeTopic(eventlog::EventLog& log,
                                            std::string_view topic) {
  TopicSummary summary;
  ASSIGN_OR_RETURN(const int32_t partitions, log.PartitionCount(topic));
  eventlog::ChainVerifier verifier;
  for (int32_t p = 0; p < partitions; ++p) {
    const eventlog::TopicPartition tp{std::string(topic), p};
    ASSIGN_OR_RETURN(const int64_t end, log.EndOffset(topic, p));
    ASSIGN_OR_RETURN(std::unique_ptr<eventlog::LogReader> reader,
                     log.OpenReader({{tp, 0}}));
    int64_t next = 0;
    for (int idle = 0; next < end;) {
      ASSIGN_OR_RETURN(eventlog::PollResult polled,
                       reader->Poll(1024, absl::Milliseconds(500)));
      for (const eventlog::Record& r : polled.records) {
        ++summary.records;
        if (!verifier.Add(r) && summary.chain_break.empty()) {
          const auto& b = *verifier.first_break();
          summary.chain_break = absl::StrCat(
              b.topic, "/", b.partition, " offset ", b.offset, ": ", b.what);
        }
        absl::StatusOr<v1::EventRecord> rec = eventlog::DecodeRecord(r.value);
        if (!rec.ok()) continue;  // reported as a chain break
        absl::StatusOr<v1::Event> event = eventlog::DecodeEvent(*rec);
        if (!event.ok()) continue;
        ++summary.by_request_id[event->request_id()];
        if (event->has_lot_created()) {
          ++summary.lots_created[event->lot_created().lot_id()];
        }
      }
      const int64_t advanced = polled.next_offsets[tp];
      if (advanced == next && ++idle > 60) {
        return absl::UnavailableError(absl::StrCat(
            "reading ", tp.topic, "/", p, " stalled at offset ", next));
      }
      next = advanced;
    }
  }
  return summary;
}

}  // namespace lotledger::faults
