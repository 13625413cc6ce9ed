// Recall benchmark (issue 5), against a ServerHost running the recall
// service alone, over real gRPC:
//
//   --scenario=recall_drill  A genealogy of --lots lots (default
//     1,000,000: tools/bench/genealogy.h's five levels) that also holds
//     one raw-material lot whose forward genealogy reaches --scope-lots
//     lots (default 16,000: 500 components, 1,500 sub-assemblies, 4,000
//     assemblies and 10,000 finished devices, each also made from a random
//     unrelated lot of the level below). Every finished lot of that tree is
//     received and shipped to --shipments-per-lot (default 2) of
//     --customers customers (default 2,000). Lot and stock events are
//     written straight to the lots and inventory topics (sealed as the
//     services would); the recall projector replays them. Then --samples
//     drills (default 20) of the raw-material lot with include_derived:
//     each computes the full scope and impact (every derived lot, every
//     customer with quantities). Prints the service's own timing of that
//     computation (the drill's elapsed_us and cpu_us) and the client's
//     round trip. Then initiates a recall of that lot (once; --reuse=1
//     finds it) and times --samples AnalyzeImpact round trips (the full
//     impact sent back), then as many of the summary view and of a first
//     page of lot rows (1,000) and of customers (100). Last, with the host
//     closed, loads the recall index (services/recall/recall_index.h) from the
//     projection as a restart does (time, bytes) and times the drill's scope
//     and impact computed by it in process, and the recall's summary view.
//
// Embedded log only (the figure is the projection's, not the broker's).
#ifndef LOTLEDGER_TOOLS_BENCH_RECALL_SCENARIOS_H_
#define LOTLEDGER_TOOLS_BENCH_RECALL_SCENARIOS_H_

#include "tools/bench/harness.h"

namespace lotledger::bench {

void RecallDrillScenario(const Args& a);

}  // namespace lotledger::bench

#endif  // LOTLEDGER_TOOLS_BENCH_RECALL_SCENARIOS_H_
