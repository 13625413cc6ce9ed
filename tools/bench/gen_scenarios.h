// Scenarios over a log made by the generator (gen.h), on the embedded log
// (or the broker's, where said):
//
//   --scenario=gen --events=N [--seed=S] [--gen-dir=PATH]
//       [--backend=kafka]
//     Generates about N events (10^5, 10^6, 10^7) into PATH/log (default
//     --dir/gen-N) and writes PATH/summary.txt (counts, end offsets, sample
//     lot ids). With --backend=kafka the events go to the broker instead,
//     under a topic prefix of their own (printed). Reports events/s.
//
//   --scenario=replay --events=N [--gen-dir=PATH] [--backend=kafka]
//       [--services=lots,quality,inventory,recall,audit]
//       [--memory-budget-mb=512]
//     Generates the log when PATH has none, then for each service starts a
//     child process (this binary, --scenario=replay_one) that opens the
//     service's projection empty, lets its projector fold the whole log
//     (its input topics) and reports replay_<service>: events/s and, in
//     "peak_rss_mib", the child's VmHWM. The projection gets the RocksDB
//     budget a server with --memory-budget-mb gives it (half). With
//     --limits, the ratio to raw unsynced RocksDB puts. With
//     --backend=kafka the log is the broker's (--kafka): PATH is then one
//     generated with --backend=kafka, which holds the topic prefix, and
//     the child reads the topics as a service process does.
//
//   --scenario=growth [--sizes=100000,1000000,10000000] [--samples=N]
//     For each size: the generated log (made when missing), lots and audit
//     hosted on it and caught up, then per-lot queries over gRPC on random
//     sample lots: growth_trace (Trace backward, 5 levels, from a finished
//     lot), growth_history (LotHistory of a finished lot), growth_as_of
//     (AsOf of a finished lot, mid-year). p50/p99 per size show whether
//     per-lot cost grows with total history.
#ifndef LOTLEDGER_TOOLS_BENCH_GEN_SCENARIOS_H_
#define LOTLEDGER_TOOLS_BENCH_GEN_SCENARIOS_H_

#include "tools/bench/harness.h"

namespace lotledger::bench {

void GenScenario(const Args& a);
void ReplayScenario(const Args& a, const char* self);
void ReplayOneScenario(const Args& a);
void GrowthScenario(const Args& a);

}  // namespace lotledger::bench

#endif  // LOTLEDGER_TOOLS_BENCH_GEN_SCENARIOS_H_
