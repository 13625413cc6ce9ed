// Consistency tokens as a client that talks to several services keeps
// them: the union of every answer's token, the largest offset per
// partition. Header-only (protobuf messages and Abseil), so any test
// binary can use it.
#ifndef LOTLEDGER_TESTS_SUPPORT_TOKENS_H_
#define LOTLEDGER_TESTS_SUPPORT_TOKENS_H_

#include <algorithm>

#include "absl/synchronization/mutex.h"
#include "lotledger/v1/common.pb.h"

namespace lotledger::testing {

// Merges `from` into `into`: an entry for a partition `into` lacks is
// added; one it has keeps the larger offset.
inline void MergeToken(const v1::ConsistencyToken& from,
                       v1::ConsistencyToken* into) {
  for (const auto& o : from.offsets()) {
    bool found = false;
    for (auto& mine : *into->mutable_offsets()) {
      if (mine.topic() == o.topic() && mine.partition() == o.partition()) {
        mine.set_offset(std::max(mine.offset(), o.offset()));
        found = true;
      }
    }
    if (!found) *into->add_offsets() = o;
  }
}

// MergeToken for client threads sharing one token. Thread-safe.
class TokenSet {
 public:
  void Add(const v1::ConsistencyToken& t) {
    absl::MutexLock l(&mu_);
    MergeToken(t, &token_);
  }
  v1::ConsistencyToken Get() const {
    absl::MutexLock l(&mu_);
    return token_;
  }

 private:
  mutable absl::Mutex mu_;
  v1::ConsistencyToken token_ ABSL_GUARDED_BY(mu_);
};

}  // namespace lotledger::testing

#endif  // LOTLEDGER_TESTS_SUPPORT_TOKENS_H_
