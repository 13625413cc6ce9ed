// Audit benchmarks (issue 6), on the embedded log:
//
//   --scenario=audit  Writes --events sealed events (default 10,000,000)
//     straight to the lots, quality and inventory topics as the services
//     would: --events/20 lots, each with a LotCreated, a release and 18
//     stock movements, interleaved over lots as real traffic is. Starts
//     the audit service alone and lets it index the log (audit_index:
//     events/s including start-up), then measures over --samples random
//     lots (default 200):
//       audit_history  LotHistory of one lot, whole stream, round trip;
//       audit_as_of    AsOf of one lot on the record-time axis;
//     and, with the service stopped, audit_verify: the offline verify of
//     every topic (records/s), as `lotctl audit verify` does it.
#ifndef LOTLEDGER_TOOLS_BENCH_AUDIT_SCENARIOS_H_
#define LOTLEDGER_TOOLS_BENCH_AUDIT_SCENARIOS_H_

#include "tools/bench/harness.h"

namespace lotledger::bench {

void AuditScenario(const Args& a);

}  // namespace lotledger::bench

#endif  // LOTLEDGER_TOOLS_BENCH_AUDIT_SCENARIOS_H_
