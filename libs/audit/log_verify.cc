#include "libs/audit/log_verify.h"

#include <deque>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/audit/topics.h"
#include "libs/common/hash.h"
#include "libs/common/status_macros.h"

namespace lotledger::audit {
namespace {

using Break = eventlog::ChainVerifier::Break;

// The state of a partition after one record.
struct Mark {
  int64_t offset;
  uint64_t records;
  std::string digest;
};

class PartitionCheck {
 public:
  PartitionCheck(const std::string& topic, int32_t partition,
                 const VerifyOptions& options, TopicVerification& out)
      : topic_(topic), partition_(partition), options_(options), out_(out) {
    for (const Anchor& a : options.anchors) {
      if (a.topic == topic && a.partition == partition) anchors_.push_back(a);
    }
  }

  // A record that passed the chain check. Returns the break, if any.
  std::optional<Break> Add(const eventlog::Record& r,
                           const v1::EventRecord& rec, const v1::Event& ev) {
    if (ev.has_chain_checkpoint()) return Checkpoint(r, ev.chain_checkpoint());
    digest_ = AdvanceDigest(digest_, rec.hash());
    ++records_;
    ++uncovered_;
    marks_.push_back({r.offset, records_, digest_});
    for (const Anchor& a : anchors_) {
      if (a.records == records_ && a.digest != digest_) {
        return Fail(
            r, absl::StrCat("the first ", a.records,
                            " records differ from those the kept checkpoint "
                            "(up to offset ",
                            a.end_offset, ") covered: rewritten"));
      }
    }
    return std::nullopt;
  }

  // At the end of the partition.
  std::optional<Break> Finish(int64_t end_offset) {
    out_.uncovered += uncovered_;
    if (latest_.has_value()) out_.latest.push_back(*latest_);
    for (const Anchor& a : anchors_) {
      if (records_ < a.records) {
        Break b{topic_, partition_, end_offset, "", ""};
        b.what = absl::StrCat(
            "the partition ends at offset ", end_offset, " with ", records_,
            " records, but the kept checkpoint covers ", a.records,
            " records up to offset ", a.end_offset, ": its tail was removed");
        return b;
      }
    }
    return std::nullopt;
  }

 private:
  std::optional<Break> Fail(const eventlog::Record& r, std::string what) {
    Break b{topic_, partition_, r.offset, r.key, std::move(what)};
    return b;
  }

  std::optional<Break> Checkpoint(const eventlog::Record& r,
                                  const v1::ChainCheckpoint& cp) {
    ++out_.checkpoints;
    v1::CheckpointStatement st;
    if (!st.ParseFromString(cp.statement())) {
      return Fail(r, "checkpoint statement does not decode");
    }
    if (options_.keys != nullptr) {
      absl::Status s =
          options_.keys->Verify(cp.key_id(), cp.statement(), cp.signature());
      if (!s.ok()) {
        return Fail(r, absl::StrCat("checkpoint ", s.message()));
      }
      ++out_.signatures_checked;
    }
    if (st.topic() != topic_ || st.partition() != partition_) {
      return Fail(r, absl::StrCat("checkpoint is for ", st.topic(), "/",
                                  st.partition(), ", not this partition"));
    }
    // The state after the first st.records() records. By count, not by
    // end_offset: a copy made by MirrorMaker 2 (docs/backup.md) holds the
    // same records in the same order under other offsets (no transaction
    // markers, no aborted records), and the digest alone says whether they
    // are the records the checkpoint covered.
    while (!marks_.empty() && marks_.front().records <= st.records()) {
      covered_ = std::move(marks_.front());
      marks_.pop_front();
    }
    const uint64_t records = covered_.records;
    const std::string& digest = covered_.digest;
    if (records != st.records() || digest != st.digest()) {
      return Fail(r, absl::StrCat("checkpoint covers ", st.records(),
                                  " records below offset ", st.end_offset(),
                                  " (digest ", HexEncode(st.digest()),
                                  ") but the log holds ", records, " (digest ",
                                  HexEncode(digest),
                                  "): records were removed or "
                                  "rewritten"));
    }
    uncovered_ = records_ - records;
    latest_ =
        Anchor{topic_, partition_, st.end_offset(), st.records(), st.digest()};
    return std::nullopt;
  }

  const std::string topic_;
  const int32_t partition_;
  const VerifyOptions& options_;
  TopicVerification& out_;
  std::vector<Anchor> anchors_;
  std::string digest_ = InitialDigest();
  uint64_t records_ = 0;
  uint64_t uncovered_ = 0;
  std::deque<Mark> marks_;
  Mark covered_{-1, 0, InitialDigest()};
  std::optional<Anchor> latest_;
};

absl::Status VerifyTopic(eventlog::EventLog& log, const std::string& prefix,
                         const VerifyOptions& options, TopicVerification& tv) {
  const std::string full = prefix + tv.topic;
  ASSIGN_OR_RETURN(const int32_t partitions, log.PartitionCount(full));
  eventlog::ChainVerifier chain;
  for (int32_t p = 0; p < partitions; ++p) {
    PartitionCheck check(tv.topic, p, options, tv);
    const eventlog::TopicPartition tp{full, p};
    ASSIGN_OR_RETURN(const int64_t end, log.EndOffset(full, p));
    ASSIGN_OR_RETURN(std::unique_ptr<eventlog::LogReader> reader,
                     log.OpenReader({{tp, 0}}));
    int64_t next = 0;
    int stalls = 0;  // a broker may take a few polls to start fetching
    while (next < end) {
      absl::StatusOr<eventlog::PollResult> poll =
          reader->Poll(1024, absl::Milliseconds(500));
      if (poll.status().code() == absl::StatusCode::kDataLoss) {
        // The backend itself found the log damaged (e.g. an offset gap in
        // an embedded log): that is a break here, not a failure to read.
        tv.first_break =
            Break{tv.topic, p, next, "", std::string(poll.status().message())};
        return absl::OkStatus();
      }
      RETURN_IF_ERROR(poll.status());
      eventlog::PollResult& polled = *poll;
      for (const eventlog::Record& r : polled.records) {
        ++tv.records;
        if (!chain.Add(r)) {
          tv.first_break = chain.first_break();
          tv.first_break->topic = tv.topic;
          return absl::OkStatus();
        }
        // Add() parsed and hash-checked it already: parse only.
        v1::EventRecord rec;
        v1::Event ev;
        rec.ParseFromString(r.value);
        ev.ParseFromString(rec.body());
        if (std::optional<Break> b = check.Add(r, rec, ev)) {
          tv.first_break = std::move(b);
          return absl::OkStatus();
        }
      }
      const int64_t advanced = polled.next_offsets[tp];
      if (advanced == next && polled.records.empty() && ++stalls > 40) {
        return absl::UnavailableError(absl::StrCat("verify ", full, "/", p,
                                                   ": no progress at offset ",
                                                   next, " before end ", end));
      }
      if (advanced != next) stalls = 0;
      next = advanced;
    }
    if (std::optional<Break> b = check.Finish(end)) {
      tv.first_break = std::move(b);
      return absl::OkStatus();
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string FormatAnchors(const std::vector<Anchor>& anchors) {
  std::string out;
  for (const Anchor& a : anchors) {
    absl::StrAppend(&out, a.topic, " ", a.partition, " ", a.end_offset, " ",
                    a.records, " ", HexEncode(a.digest), "\n");
  }
  return out;
}

absl::StatusOr<std::vector<Anchor>> ParseAnchors(const std::string& text) {
  std::vector<Anchor> out;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    if (line.empty()) continue;
    std::vector<std::string> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
    Anchor a;
    std::string digest;
    if (f.size() != 5 || !absl::SimpleAtoi(f[1], &a.partition) ||
        !absl::SimpleAtoi(f[2], &a.end_offset) ||
        !absl::SimpleAtoi(f[3], &a.records) || f[4].size() != 64) {
      return absl::InvalidArgumentError(absl::StrCat(
          "checkpoints file, line ", line_no,
          ": expected \"<topic> <partition> <end offset> <records> "
          "<digest hex>\""));
    }
    a.topic = f[0];
    a.digest = absl::HexStringToBytes(f[4]);
    out.push_back(std::move(a));
  }
  return out;
}

bool LogVerification::ok() const {
  for (const TopicVerification& t : topics) {
    if (t.first_break.has_value()) return false;
  }
  return true;
}

uint64_t LogVerification::records() const {
  uint64_t n = 0;
  for (const TopicVerification& t : topics) n += t.records;
  return n;
}

std::vector<Anchor> LogVerification::anchors() const {
  std::vector<Anchor> out;
  for (const TopicVerification& t : topics) {
    out.insert(out.end(), t.latest.begin(), t.latest.end());
  }
  return out;
}

absl::StatusOr<LogVerification> VerifyLog(eventlog::EventLog& log,
                                          const std::string& prefix,
                                          const VerifyOptions& options) {
  std::vector<std::string> topics = options.topics;
  if (topics.empty()) topics = AuditedTopics();
  LogVerification out;
  for (const std::string& topic : topics) {
    TopicVerification tv;
    tv.topic = topic;
    absl::StatusOr<int32_t> parts = log.PartitionCount(prefix + topic);
    if (parts.status().code() == absl::StatusCode::kNotFound) {
      tv.present = false;
      // A topic the auditor holds checkpoints for must exist.
      for (const Anchor& a : options.anchors) {
        if (a.topic == topic) {
          tv.first_break = Break{topic, a.partition, 0, "",
                                 "the topic is gone, but a kept checkpoint "
                                 "covers it"};
          break;
        }
      }
      out.topics.push_back(std::move(tv));
      continue;
    }
    RETURN_IF_ERROR(parts.status());
    RETURN_IF_ERROR(VerifyTopic(log, prefix, options, tv));
    out.topics.push_back(std::move(tv));
  }
  return out;
}

}  // namespace lotledger::audit
