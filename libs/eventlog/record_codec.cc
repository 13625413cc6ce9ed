#include "libs/eventlog/record_codec.h"

#include <google/protobuf/util/time_util.h>

#include "absl/strings/str_cat.h"
#include "libs/common/hash.h"
#include "libs/common/status_macros.h"

namespace lotledger::eventlog {

v1::EventRecord Seal(const v1::Event& event, ChainHead& head) {
  v1::EventRecord rec;
  event.SerializeToString(rec.mutable_body());
  rec.set_seq(head.seq + 1);
  rec.set_prev_hash(head.hash);
  rec.set_hash(ChainHash(rec.prev_hash(), rec.seq(), rec.body()));
  head.seq = rec.seq();
  head.hash = rec.hash();
  return rec;
}

std::string EventType(const v1::Event& event) {
  const auto* field =
      event.GetDescriptor()->FindFieldByNumber(event.payload_case());
  if (field == nullptr) return "lotledger.v1.Unknown";
  return absl::StrCat("lotledger.v1.", field->message_type()->name());
}

OutgoingRecord ToOutgoing(const v1::Event& event, const v1::EventRecord& rec,
                          std::string_view source) {
  OutgoingRecord out;
  out.key = event.aggregate_id();
  rec.SerializeToString(&out.value);
  out.headers = {
      {"ce_specversion", "1.0"},
      {"ce_id", event.event_id()},
      {"ce_type", EventType(event)},
      {"ce_source", std::string(source)},
      {"ce_time",
       google::protobuf::util::TimeUtil::ToString(event.recorded_at())},
      {"content-type", "application/protobuf"},
  };
  // The CloudEvents Kafka binding's distributed tracing extension.
  if (!event.traceparent().empty()) {
    out.headers.push_back({"ce_traceparent", event.traceparent()});
  }
  return out;
}

absl::StatusOr<v1::EventRecord> DecodeRecord(std::string_view value) {
  v1::EventRecord rec;
  if (!rec.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return absl::DataLossError("record is not an EventRecord");
  }
  if (rec.hash().size() != kSha256Size ||
      rec.prev_hash().size() != kSha256Size) {
    return absl::DataLossError("record hash or prev_hash is not 32 bytes");
  }
  if (rec.seq() == 0) return absl::DataLossError("record seq is 0");
  const std::string expected =
      ChainHash(rec.prev_hash(), rec.seq(), rec.body());
  if (expected != rec.hash()) {
    return absl::DataLossError(absl::StrCat(
        "record hash does not match its contents: stored ",
        HexEncode(rec.hash()), ", computed ", HexEncode(expected)));
  }
  return rec;
}

absl::StatusOr<v1::Event> DecodeEvent(const v1::EventRecord& record) {
  v1::Event event;
  if (!event.ParseFromString(record.body())) {
    return absl::DataLossError("record body is not an Event");
  }
  return event;
}

bool ChainVerifier::Add(const Record& record) {
  if (break_.has_value()) return false;
  ++checked_;
  auto fail = [&](std::string what) {
    break_ = Break{record.topic, record.partition, record.offset, record.key,
                   std::move(what)};
    return false;
  };
  absl::StatusOr<v1::EventRecord> rec = DecodeRecord(record.value);
  if (!rec.ok()) return fail(std::string(rec.status().message()));
  ChainHead& head = heads_[record.key];
  if (rec->seq() != head.seq + 1) {
    return fail(absl::StrCat("seq ", rec->seq(), " follows seq ", head.seq,
                             "; expected ", head.seq + 1));
  }
  if (rec->prev_hash() != head.hash) {
    return fail(absl::StrCat("prev_hash ", HexEncode(rec->prev_hash()),
                             " does not match the hash of seq ", head.seq, " (",
                             HexEncode(head.hash), ")"));
  }
  absl::StatusOr<v1::Event> event = DecodeEvent(*rec);
  if (!event.ok()) return fail(std::string(event.status().message()));
  if (event->aggregate_id() != record.key) {
    return fail(absl::StrCat("event aggregate ", event->aggregate_id(),
                             " does not match the record key"));
  }
  head.seq = rec->seq();
  head.hash = rec->hash();
  return true;
}

absl::StatusOr<VerifyReport> VerifyTopic(EventLog& log,
                                         std::string_view topic) {
  ASSIGN_OR_RETURN(const int32_t partitions, log.PartitionCount(topic));
  VerifyReport report;
  ChainVerifier verifier;
  for (int32_t p = 0; p < partitions; ++p) {
    const TopicPartition tp{std::string(topic), p};
    ASSIGN_OR_RETURN(const int64_t end, log.EndOffset(topic, p));
    ASSIGN_OR_RETURN(std::unique_ptr<LogReader> reader,
                     log.OpenReader({{tp, 0}}));
    int64_t next = 0;
    int stalls = 0;  // a broker may take a few polls to start fetching
    while (next < end) {
      ASSIGN_OR_RETURN(PollResult polled,
                       reader->Poll(1024, absl::Milliseconds(500)));
      for (const Record& r : polled.records) {
        if (!verifier.Add(r)) {
          report.records = verifier.records_checked();
          report.first_break = verifier.first_break();
          return report;
        }
      }
      const int64_t advanced = polled.next_offsets[tp];
      if (advanced == next && polled.records.empty() && ++stalls > 40) {
        return absl::UnavailableError(absl::StrCat("verify ", Sv(topic), "/", p,
                                                   ": no progress at offset ",
                                                   next, " before end ", end));
      }
      if (advanced != next) stalls = 0;
      next = advanced;
    }
  }
  report.records = verifier.records_checked();
  return report;
}

}  // namespace lotledger::eventlog
