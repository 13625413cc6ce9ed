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
// `topic`, in batches. With `serials_per_device` > 0 the finished device
// is tracked by serial and each of its lots gets that many serials
// (SerialsAssigned right after its LotCreated): DeviceSerial(i, n) for
// n = 1..serials_per_device.
absl::StatusOr<Genealogy> WriteGenealogy(eventlog::EventLog& log,
                                         const std::string& topic, int64_t lots,
                                         uint64_t seed,
                                         int serials_per_device = 0);

// The finished device's item code, and the n-th serial (1-based) of its
// i-th lot (lot_ids.back()[i]).
std::string DeviceItem();
std::string DeviceSerial(int64_t lot_index, int n);

}  // namespace lotledger::bench

#endif  // LOTLEDGER_TOOLS_BENCH_GENEALOGY_H_
