// A seeded, reproducible genealogy for benchmarks: five levels (raw
// material -> component -> sub-assembly -> assembly -> finished device),
// each lot above raw material made from two lots of the level below, picked
// at random. Written straight to the lots topic as sealed events, the way
// the lots service would have written them, so the service's projector
// replays them.
#ifndef LOTLEDGER_TOOLS_BENCH_GENEALOGY_H_
#define LOTLEDGER_TOOLS_BENCH_GENEALOGY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/eventlog/event_log.h"

namespace lotledger::bench {

struct Genealogy {
  int levels = 5;
  std::vector<std::vector<std::string>> lot_ids;  // by level, 0 = raw
  uint64_t events = 0;
  // The offsets after the last record of each partition: pass them as a
  // consistency token to wait until a projection has applied everything.
  eventlog::Offsets end;
};

// Appends ~`lots` LotCreated events (plus one ProductDefined per level) to
// `topic`, in batches.
absl::StatusOr<Genealogy> WriteGenealogy(eventlog::EventLog& log,
                                         const std::string& topic, int64_t lots,
                                         uint64_t seed);

}  // namespace lotledger::bench

#endif  // LOTLEDGER_TOOLS_BENCH_GENEALOGY_H_
