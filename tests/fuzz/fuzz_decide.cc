// libFuzzer target: the request validators and business rules, i.e. the
// pure Decide(state, command) of the lots, quality and inventory domains
// (libs/domain/*), with any command and any loaded state. Input layout:
//   byte 0        domain: 0 lots, 1 quality, 2 inventory (mod 3)
//   varint L      length of the state
//   L bytes       serialized LotsDecisionState / QualityDecisionState /
//                 InventoryDecisionState
//   the rest      serialized LotsCommand / QualityCommand / InventoryCommand
// (tests/fuzz/make_corpus writes seeds in this layout from text protos).
// Properties: a refusal is InvalidArgument or FailedPrecondition, nothing
// else; Decide is deterministic; every event names its aggregate and
// carries a payload; Evolve folds the events (and the command bytes read
// as an event) without failing.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "google/protobuf/stubs/logging.h"
#include "libs/domain/inventory/decider.h"
#include "libs/domain/lots/decider.h"
#include "libs/domain/quality/decider.h"
#include "tests/fuzz/fuzz_check.h"

namespace lotledger {
namespace {

void CheckDecision(const absl::StatusOr<std::vector<v1::Event>>& first,
                   const absl::StatusOr<std::vector<v1::Event>>& second) {
  FUZZ_CHECK(first.status() == second.status(),
             "not deterministic: ", first.status().ToString(), " then ",
             second.status().ToString());
  if (!first.ok()) {
    FUZZ_CHECK(absl::IsInvalidArgument(first.status()) ||
                   absl::IsFailedPrecondition(first.status()),
               "refused with another code: ", first.status().ToString());
    FUZZ_CHECK(!first.status().message().empty(), "refusal without reason");
    return;
  }
  FUZZ_CHECK(first->size() == second->size(), "not deterministic");
  for (size_t i = 0; i < first->size(); ++i) {
    const v1::Event& e = (*first)[i];
    FUZZ_CHECK(e.SerializeAsString() == (*second)[i].SerializeAsString(),
               "not deterministic: event ", i);
    FUZZ_CHECK(!e.aggregate_id().empty(), "event ", i,
               " without aggregate: ", e.ShortDebugString());
    FUZZ_CHECK(e.payload_case() != v1::Event::PAYLOAD_NOT_SET, "event ", i,
               " without payload");
  }
}

template <typename State, typename Command, typename DecideFn,
          typename EvolveFn>
void FuzzDomain(std::string_view state_bytes, std::string_view command_bytes,
                DecideFn decide, EvolveFn evolve) {
  State state;
  Command cmd;
  if (!state.ParseFromArray(state_bytes.data(),
                            static_cast<int>(state_bytes.size())) ||
      !cmd.ParseFromArray(command_bytes.data(),
                          static_cast<int>(command_bytes.size()))) {
    return;
  }
  const absl::StatusOr<std::vector<v1::Event>> events = decide(state, cmd);
  CheckDecision(events, decide(state, cmd));
  if (events.ok()) {
    for (const v1::Event& e : *events) evolve(state, e);
  }
  v1::Event any;
  if (any.ParseFromArray(command_bytes.data(),
                         static_cast<int>(command_bytes.size()))) {
    evolve(state, any);
  }
}

void FuzzOne(const uint8_t* data, size_t size) {
  if (size < 2) return;
  const int domain = data[0] % 3;
  size_t pos = 1;
  uint64_t len = 0;
  for (int shift = 0; pos < size && shift < 35; shift += 7) {
    const uint8_t b = data[pos++];
    len |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) break;
  }
  if (len > size - pos) return;
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  const std::string_view state = all.substr(pos, len);
  const std::string_view command = all.substr(pos + len);

  switch (domain) {
    case 0:
      FuzzDomain<v1::LotsDecisionState, v1::LotsCommand>(
          state, command,
          [](const auto& s, const auto& c) { return lots::Decide(s, c); },
          [](v1::LotsDecisionState& s, const v1::Event& e) {
            lots::Evolve(*s.mutable_lot(), e);
            lots::EvolveProduct(*s.mutable_product(), e);
            for (auto& [id, lot] : *s.mutable_inputs()) lots::Evolve(lot, e);
          });
      break;
    case 1:
      FuzzDomain<v1::QualityDecisionState, v1::QualityCommand>(
          state, command,
          [](const auto& s, const auto& c) { return quality::Decide(s, c); },
          [](v1::QualityDecisionState& s, const v1::Event& e) {
            quality::Evolve(*s.mutable_lot(), e);
            if (e.has_product_defined()) {
              quality::EvolvePolicy(*s.mutable_lot(),
                                    e.product_defined().product());
            }
          });
      break;
    default:
      FuzzDomain<v1::InventoryDecisionState, v1::InventoryCommand>(
          state, command,
          [](const auto& s, const auto& c) { return inventory::Decide(s, c); },
          [](v1::InventoryDecisionState& s, const v1::Event& e) {
            inventory::Evolve(s, e);
          });
      break;
  }
}

}  // namespace
}  // namespace lotledger

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);  // invalid UTF-8 is expected
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  lotledger::FuzzOne(data, size);
  return 0;
}
