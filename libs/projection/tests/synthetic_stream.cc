#include "libs/projection/tests/synthetic_stream.h"

#include <stdlib.h>

#include <filesystem>
#include <optional>
#include <string>
#include <system_error>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/common/check.h"
#include "libs/common/status_macros.h"

namespace lotledger::projection::testing {

uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

eventlog::TopicPartition StreamPartition() {
  return {"lotledger.synthetic.v1", 3};
}

ProjectionStore::Options StreamOptions(const std::string& path) {
  ProjectionStore::Options options;
  options.path = path;
  options.column_families = {kCounters, kLists};
  return options;
}

absl::Status ApplyEvent(uint64_t seed, int64_t i,
                        ProjectionStore::Batch& batch) {
  uint64_t rng = seed * 0x100000001b3ULL + static_cast<uint64_t>(i);
  int touches = 1 + static_cast<int>(SplitMix64(rng) % 3);
  for (int t = 0; t < touches; ++t) {
    uint64_t r = SplitMix64(rng);
    std::string key = absl::StrFormat("k%04d", static_cast<int>(r % 700));

    // Counter: c' = c * 31 + i + 1 (mod 2^61): not idempotent, not
    // commutative, so a replayed or skipped event shows.
    ASSIGN_OR_RETURN(std::optional<std::string> counter,
                     batch.Get(kCounters, key));
    uint64_t c = 0;
    if (counter.has_value() && !absl::SimpleAtoi(*counter, &c)) {
      return absl::DataLossError(absl::StrCat("bad counter ", *counter));
    }
    c = (c * 31 + static_cast<uint64_t>(i) + 1) & ((1ULL << 61) - 1);
    batch.Put(kCounters, key, absl::StrCat(c));

    // List: append the event number; now and then the list is cleared.
    if ((r >> 32) % 40 == 0) {
      batch.Delete(kLists, key);
    } else {
      ASSIGN_OR_RETURN(std::optional<std::string> list, batch.Get(kLists, key));
      batch.Put(kLists, key, absl::StrCat(list.value_or(""), i, ","));
    }
  }
  return absl::OkStatus();
}

absl::Status ApplyStream(ProjectionStore& store, uint64_t seed, int64_t n,
                         const std::function<int()>& batch_size,
                         const std::function<void(int64_t)>& after_commit) {
  const eventlog::TopicPartition tp = StreamPartition();
  eventlog::Offsets offsets = store.Offsets();
  int64_t next = offsets.contains(tp) ? offsets[tp] : 0;
  while (next < n) {
    int size = batch_size();
    CHECK_GE(size, 1);
    ProjectionStore::Batch batch = store.NewBatch();
    int64_t end = std::min<int64_t>(n, next + size);
    for (int64_t i = next; i < end; ++i) {
      RETURN_IF_ERROR(ApplyEvent(seed, i, batch));
    }
    batch.SetOffset(tp, end);
    RETURN_IF_ERROR(store.Commit(std::move(batch)));
    next = end;
    if (after_commit) after_commit(next);
  }
  return absl::OkStatus();
}

std::string MakeTempDir() {
  const char* tmp = getenv("TMPDIR");
  std::string templ = absl::StrCat(
      tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", "/projection_test.XXXXXX");
  CHECK(mkdtemp(templ.data()) != nullptr);
  return templ;
}

ScopedTempDir::~ScopedTempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace lotledger::projection::testing
