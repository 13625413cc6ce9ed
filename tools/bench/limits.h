// The machine's own limits, measured in the same run as the figures they
// bound (issue 9, "physical limits"):
//
//   --scenario=limits  [--seconds=S] [--record-bytes=N] [--noop-clients=1,32]
//                      [--kafka=HOST:PORT | $LOTLEDGER_TEST_KAFKA]
//     limit_rocksdb_unsynced  raw RocksDB WriteBatch puts/s, batches of 32,
//                             WAL on, no fsync (what a replay can reach);
//     limit_rocksdb_synced    the same with an fsync per batch (what a
//                             durable append can reach);
//     limit_kafka_produce     raw librdkafka produce/s to the broker,
//                             acks=all, idempotent, pipelined (skipped,
//                             with a note, without a broker);
//     limit_grpc_noop         no-op unary gRPC calls/s (health Check) at
//                             each --noop-clients count.
//   Records are the size of a sealed LotCreated as the embedded log stores
//   it (key = topic/partition/offset, value = EmbeddedRecord), unless
//   --record-bytes says otherwise.
//
// Save the JSON lines (`lotledger_bench --scenario=limits > limits.json`)
// and pass --limits=limits.json to any other scenario: each throughput
// figure then also carries "limit" and "ratio" (see LimitFor in limits.cc).
//
// Thread-safety: call from main's thread.
#ifndef LOTLEDGER_TOOLS_BENCH_LIMITS_H_
#define LOTLEDGER_TOOLS_BENCH_LIMITS_H_

#include <string>

#include "absl/time/time.h"
#include "tools/bench/harness.h"
#include "tools/bench/stats.h"

namespace lotledger::bench {

void LimitsScenario(const Args& a);

// No-op unary gRPC calls (health Check) from `clients` threads for `run`
// against a fresh host under `dir`; the result is named `scenario`.
Result GrpcNoopRun(const Args& a, const std::string& dir,
                   const std::string& scenario, int clients,
                   absl::Duration run);

// Raw RocksDB batched puts of `record_bytes` values, `batch` per
// WriteBatch, for `run`, under `dir` (wiped first).
Result RawRocksDbPuts(const std::string& dir, bool sync, size_t record_bytes,
                      int batch, absl::Duration run);

// The size of a typical sealed LotCreated as the embedded log stores it.
size_t TypicalRecordBytes();

}  // namespace lotledger::bench

#endif  // LOTLEDGER_TOOLS_BENCH_LIMITS_H_
