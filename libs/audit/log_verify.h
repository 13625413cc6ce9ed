// Offline verification of a whole lotledger log: reads every audited topic
// directly from an EventLog (a Kafka cluster or an embedded data dir; no
// service involved, so the auditor need not trust the services) and checks
//   * every record's hash chain (hash, seq, prev_hash per aggregate);
//   * every signed checkpoint (events.proto ChainCheckpoint): its
//     signature with the trusted public keys, and that the partition holds
//     exactly the records it covers (count and digest);
//   * anchors the auditor kept from an earlier run (the latest checkpoint
//     per partition): the partition must still hold everything the anchor
//     covers, so a tail cut off later, checkpoints and all, is found.
// Each topic stops at its first break.
//
// Thread-safety: one call per EventLog reader thread; no shared state.
#ifndef LOTLEDGER_LIBS_AUDIT_LOG_VERIFY_H_
#define LOTLEDGER_LIBS_AUDIT_LOG_VERIFY_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/audit/checkpoint.h"
#include "libs/eventlog/event_log.h"
#include "libs/eventlog/record_codec.h"

namespace lotledger::audit {

// What a checkpoint covered: kept by the auditor between runs.
struct Anchor {
  std::string topic;  // without the prefix
  int32_t partition = 0;
  int64_t end_offset = 0;
  uint64_t records = 0;
  std::string digest;  // 32 bytes
};

// One anchor per line: "<topic> <partition> <end_offset> <records>
// <digest hex>".
std::string FormatAnchors(const std::vector<Anchor>& anchors);
absl::StatusOr<std::vector<Anchor>> ParseAnchors(const std::string& text);

struct VerifyOptions {
  std::vector<std::string> topics;  // without prefix; empty = all audited
  // Trusted checkpoint keys; null: checkpoint signatures are not checked
  // (their counts and digests still are).
  const PublicKeys* keys = nullptr;
  std::vector<Anchor> anchors;
};

struct TopicVerification {
  std::string topic;     // without the prefix
  bool present = true;   // false: the topic does not exist (nothing to check)
  uint64_t records = 0;  // checkpoints included
  uint64_t checkpoints = 0;
  uint64_t signatures_checked = 0;
  // Records after the latest checkpoint of their partition.
  uint64_t uncovered = 0;
  std::optional<eventlog::ChainVerifier::Break> first_break;
  // The latest checkpoint per partition, to keep as anchors.
  std::vector<Anchor> latest;
};

struct LogVerification {
  std::vector<TopicVerification> topics;
  bool ok() const;
  uint64_t records() const;
  std::vector<Anchor> anchors() const;
};

// Unavailable when the log cannot be read; a break is a result, not an
// error.
absl::StatusOr<LogVerification> VerifyLog(eventlog::EventLog& log,
                                          const std::string& prefix,
                                          const VerifyOptions& options);

}  // namespace lotledger::audit

#endif  // LOTLEDGER_LIBS_AUDIT_LOG_VERIFY_H_
