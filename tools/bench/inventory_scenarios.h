// Inventory benchmarks (issue 4), against a ServerHost running the lots,
// quality and inventory services, over real gRPC:
//
//   --scenario=ship  ShipStock throughput and latency. Sets up --lots lots
//     (default 1000) of one device, released and received into 50 bins,
//     then each of --clients (comma list, default 1,32) threads ships for
//     --seconds: shipments of --lines (comma list, default 1,3) lines of
//     distinct random lots, 1 unit each, each with its own request id.
//     One result line per (lines, clients). With --serials-per-line=N the
//     device is tracked by serial: each lot gets --lot-serials serials
//     (default 1000) in the lots service's register and is received by
//     that range, and each line ships the lot's next N serials, named one
//     by one as a scanner reads them (issue 19: N=10 within 0.7 of the
//     lot-level rate).
//   --scenario=fefo  AllocateFefo latency over --lots lots (default
//     100000) of --items items (default 1: every lot is a candidate) in
//     --locations bins (default 50) under 5 regions; --samples calls
//     (default 20000) from --clients threads (default 1), each for a
//     random item and quantity (about three lots' worth), half of them
//     limited to a region, a third with a customer minimum shelf life.
//     The data is set up through the command path (CreateLot, inspection,
//     release, ReceiveStock) by --setup-clients threads (default 64);
//     --reuse=1 keeps it in --dir between runs (embedded log only);
//     --warmup calls (default 100) are not measured.
//
//   --scenario=commands  Sustained command throughput: sets up --lots lots
//     (default 1000) as ship does, then for each of --clients (comma
//     list, default 1,8,32,128) threads, each runs for --seconds the
//     cycle CreateLot, RecordInspection, ChangeDisposition(RELEASED),
//     ReceiveStock (the new lot), ShipStock (3 lines of seeded lots),
//     TransferStock (a seeded lot), each command durable before its
//     answer. Reports `commands` (all commands: per_second, p50/p99/p999)
//     and one `commands_<step>` line per step.
//
//   --scenario=replica_reads  Read replicas (standby writers, issue 18), on
//     Kafka only: lots and quality in one host, and --replicas (comma
//     list, default 1,3; the largest is started) inventory hosts with the
//     writer election, one of which becomes the writer. Seeds as ship does
//     (--lots, default 1000), then for each count, --clients threads
//     (default 32) read GetLotInventory of random lots for --seconds,
//     client t from replica t mod count. One result line per count.
//
// All accept --backend=embedded|kafka and --channels like the others.
#ifndef LOTLEDGER_TOOLS_BENCH_INVENTORY_SCENARIOS_H_
#define LOTLEDGER_TOOLS_BENCH_INVENTORY_SCENARIOS_H_

#include "tools/bench/harness.h"

namespace lotledger::bench {

void ShipScenario(const Args& a);
void FefoScenario(const Args& a);
void CommandsScenario(const Args& a);
void ReplicaReadsScenario(const Args& a);

}  // namespace lotledger::bench

#endif  // LOTLEDGER_TOOLS_BENCH_INVENTORY_SCENARIOS_H_
