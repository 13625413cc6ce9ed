// libFuzzer target: EventRecord decoding and hash-chain verification
// (libs/eventlog/record_codec.h), the code that reads every record of the
// log back. Two parts per input:
//  1. The raw bytes as a record value: DecodeRecord gives a record whose
//     hash checks, or DataLoss; never a crash.
//  2. Events taken from the input are sealed into chains (up to three
//     aggregates), then at most one record is tampered with as the input
//     says: a byte flipped, a record dropped, two records swapped. The
//     verifier must accept the untampered log, and must stop at or before
//     a tampered record unless the tampering is undetectable by design (a
//     chain's last record dropped, a flip that decodes to the same record,
//     a swap of records of different aggregates).
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "google/protobuf/stubs/logging.h"
#include "libs/common/hash.h"
#include "libs/eventlog/record_codec.h"
#include "tests/fuzz/fuzz_check.h"

namespace lotledger::eventlog {
namespace {

bool SameRecord(const v1::EventRecord& a, const v1::EventRecord& b) {
  return a.body() == b.body() && a.seq() == b.seq() &&
         a.prev_hash() == b.prev_hash() && a.hash() == b.hash();
}

void FuzzRaw(std::string_view value) {
  absl::StatusOr<v1::EventRecord> rec = DecodeRecord(value);
  if (!rec.ok()) {
    FUZZ_CHECK(absl::IsDataLoss(rec.status()), rec.status().ToString());
    return;
  }
  FUZZ_CHECK(
      rec->hash() == ChainHash(rec->prev_hash(), rec->seq(), rec->body()),
      "accepted a record whose hash does not match");
  absl::StatusOr<v1::Event> event = DecodeEvent(*rec);
  if (!event.ok()) {
    FUZZ_CHECK(absl::IsDataLoss(event.status()), event.status().ToString());
  } else {
    (void)EventType(*event);
  }
}

void FuzzChain(FuzzedDataProvider& in) {
  static const char* const kKeys[] = {"09506000134352:A17", "RM-100:L7",
                                      "C-1:X"};
  std::map<std::string, ChainHead> heads;
  std::vector<Record> log;
  std::vector<v1::EventRecord> sealed;
  const int n = in.ConsumeIntegralInRange<int>(1, 12);
  for (int i = 0; i < n && in.remaining_bytes() > 0; ++i) {
    const std::string key = kKeys[in.ConsumeIntegralInRange<int>(0, 2)];
    v1::Event event;
    const std::string body = in.ConsumeRandomLengthString(256);
    // Events reach Seal from parsed requests, so they are valid messages
    // (proto3 strings are UTF-8); bytes that do not parse give an empty one.
    if (!event.ParseFromString(body)) event.Clear();
    event.set_aggregate_id(key);
    v1::EventRecord rec = Seal(event, heads[key]);
    Record r;
    r.topic = "lotledger.lots.v1";
    r.offset = static_cast<int64_t>(log.size());
    r.key = key;
    rec.SerializeToString(&r.value);
    (void)ToOutgoing(event, rec, "fuzz");  // headers of any event
    log.push_back(std::move(r));
    sealed.push_back(std::move(rec));
  }

  // The untampered log verifies.
  {
    ChainVerifier verifier;
    for (const Record& r : log) {
      FUZZ_CHECK(verifier.Add(r), "untampered record at offset ", r.offset,
                 " refused: ", verifier.first_break()->what);
    }
  }

  const int how = in.ConsumeIntegralInRange<int>(0, 3);
  const size_t at = in.ConsumeIntegralInRange<size_t>(0, log.size() - 1);
  size_t must_stop_by = log.size();  // none: nothing detectable was done
  std::vector<Record> tampered = log;
  if (how == 1) {  // flip one byte of one record
    std::string& value = tampered[at].value;
    if (value.empty()) return;
    const size_t pos = in.ConsumeIntegralInRange<size_t>(0, value.size() - 1);
    value[pos] = static_cast<char>(value[pos] ^
                                   in.ConsumeIntegralInRange<uint8_t>(1, 255));
    v1::EventRecord parsed;
    if (!parsed.ParseFromString(value) || !SameRecord(parsed, sealed[at])) {
      must_stop_by = at;
    }
  } else if (how == 2) {  // drop one record
    const std::string key = tampered[at].key;
    tampered.erase(tampered.begin() + at);
    for (size_t j = at; j < tampered.size(); ++j) {
      if (tampered[j].key == key) {  // a later record of that chain
        must_stop_by = j;
        break;
      }
    }
  } else if (how == 3) {  // swap two records
    const size_t other = in.ConsumeIntegralInRange<size_t>(0, log.size() - 1);
    if (other == at || log[at].key != log[other].key) return;
    std::swap(tampered[at].value, tampered[other].value);
    must_stop_by = std::min(at, other);
  }

  ChainVerifier verifier;
  size_t accepted = 0;
  while (accepted < tampered.size() && verifier.Add(tampered[accepted])) {
    ++accepted;
  }
  FUZZ_CHECK(accepted <= must_stop_by, "tampering (kind ", how, ") at record ",
             at, " not detected by record ", must_stop_by,
             "; verifier accepted ", accepted, " of ", tampered.size());
  if (accepted < tampered.size()) {
    const auto& b = verifier.first_break();
    FUZZ_CHECK(b.has_value() && b->offset == tampered[accepted].offset &&
                   !b->what.empty(),
               "break does not name the record");
  }
}

}  // namespace
}  // namespace lotledger::eventlog

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);  // invalid UTF-8 is expected
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  lotledger::eventlog::FuzzRaw(
      std::string_view(reinterpret_cast<const char*>(data), size));
  FuzzedDataProvider in(data, size);
  lotledger::eventlog::FuzzChain(in);
  return 0;
}
