// A seeded, reproducible year of a medical-device business, written as the
// services would have written it (issue 9, "generator"): every event sealed
// into its aggregate's hash chain (eventlog::Seal, as CommandRunner does)
// on the topic of the service that owns it, so each service's projector
// replays it and `lotctl audit verify` accepts it.
//
// What it holds:
//   - products on lotledger.lots.v1: raw materials, components and finished
//     devices (GTIN-14 with check digit), each with a shelf-life policy
//     (shelf life, alert thresholds, minimum days to ship, some capped by
//     their components' expiry);
//   - 5 regions x 2 warehouses x 8 bins (LocationCreated), and hospitals
//     across the regions (customers of shipments);
//   - day by day for 365 days: raw-material lots (bought in, received,
//     released); component lots made from 2-3 recent raw lots (fan-in),
//     each raw lot feeding ~5 components (fan-out); finished lots made
//     from 2-4 recent components, each component feeding ~6; incoming /
//     final inspections and releases (quality); receipts into warehouse
//     bins, shipments of 1-3 lines to hospitals of the warehouse's region,
//     transfers between bins, returns a few days after shipping
//     (inventory), stock never negative;
//   - standard unit costs (UnitCostSet, inventory topic) of every product
//     from the first day, raised 5 % from day kGenCostChangeDay;
//     damaged returns are scrapped (SCRAP_REASON_DAMAGED) the day they
//     come back;
//   - a few recalls (recall topic): a raw lot with its forward genealogy
//     (capped at 1,000 lots, one part), closed 30 days later; recalled lots
//     are not shipped again.
// Volumes are scaled so the log holds about `events` events; the same seed
// and target always give the same events (ids and times included).
//
// Thread-safety: Generate is not thread-safe for one log.
#ifndef LOTLEDGER_TOOLS_BENCH_GEN_H_
#define LOTLEDGER_TOOLS_BENCH_GEN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "libs/eventlog/event_log.h"

namespace lotledger::bench {

// The generated year's default first day (every product's first unit cost is
// effective from the first day) and the day of the unit cost change.
absl::CivilDay GenFirstDay();
inline constexpr int kGenCostChangeDay = 182;

struct GenOptions {
  int64_t events = 1000000;  // target; the log holds at least this many
  uint64_t seed = 1;
  int32_t partitions = 3;    // of each topic, as the services' default
  std::string topic_prefix;  // before every topic name (Kafka runs)
  size_t batch = 4096;       // records per append
  // The year's first day; default GenFirstDay(). A test that must act at
  // the real time after the year (signatures) moves it.
  absl::CivilDay first_day = GenFirstDay();
};

struct GenSummary {
  // GenOptions::events as asked; the log holds `events`, which passes it by
  // the few events that finish the day's last step.
  uint64_t requested = 0;
  uint64_t events = 0;
  uint64_t lots[3] = {0, 0, 0};  // raw, component, finished
  uint64_t shipments = 0, returns = 0, transfers = 0, recalls = 0;
  // Up to 1,000 lot ids of each level, spread over the year, for queries.
  std::vector<std::string> sample_lots[3];
  std::vector<std::string> recall_ids;
  // Offsets after the last record per partition: a consistency token.
  eventlog::Offsets end;
};

absl::StatusOr<GenSummary> Generate(eventlog::EventLog& log,
                                    const GenOptions& options);

// Writes / reads the summary beside a generated log (`path`, text).
absl::Status SaveSummary(const GenSummary& s, const std::string& path);
absl::StatusOr<GenSummary> LoadSummary(const std::string& path);

}  // namespace lotledger::bench

#endif  // LOTLEDGER_TOOLS_BENCH_GEN_H_
