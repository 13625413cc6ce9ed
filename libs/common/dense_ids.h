// DenseIds: string ids (lot ids) interned to dense uint32 ids 0, 1, 2, ...
// in the order first seen, so in-memory indexes keep per-id data in flat
// arrays and hop by integer. The ids' bytes sit back to back in one string;
// a hash set of dense ids, hashed by those bytes, finds an id by its text
// without a second copy of it. Memory: the bytes, 4 bytes of offset and
// ~5 bytes of hash set per id. Ids may total at most 4 GiB.
//
// Thread-safety: none; the owner guards it (the indexes with their lock).
// Not copyable or movable: the hash set refers back to this object.
#ifndef LOTLEDGER_LIBS_COMMON_DENSE_IDS_H_
#define LOTLEDGER_LIBS_COMMON_DENSE_IDS_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"

namespace lotledger {

class DenseIds {
 public:
  DenseIds() : by_bytes_(0, Hash{this}, Eq{this}) { start_.push_back(0); }
  DenseIds(const DenseIds&) = delete;
  DenseIds& operator=(const DenseIds&) = delete;

  // How many ids; the next new id gets this number.
  uint32_t size() const { return static_cast<uint32_t>(start_.size() - 1); }

  // The text of dense id `id` (< size()).
  std::string_view Text(uint32_t id) const {
    return std::string_view(bytes_).substr(start_[id],
                                           start_[id + 1] - start_[id]);
  }

  // The dense id of `text`, nullopt when it was never interned.
  std::optional<uint32_t> Find(std::string_view text) const {
    auto it = by_bytes_.find(text);
    if (it == by_bytes_.end()) return std::nullopt;
    return *it;
  }

  // The dense id of `text`, interning it (as size()) when new; nullopt
  // when the ids would pass 4 GiB.
  std::optional<uint32_t> Intern(std::string_view text) {
    if (auto it = by_bytes_.find(text); it != by_bytes_.end()) return *it;
    if (bytes_.size() + text.size() > std::numeric_limits<uint32_t>::max()) {
      return std::nullopt;
    }
    const uint32_t id = size();
    bytes_.append(text);
    start_.push_back(static_cast<uint32_t>(bytes_.size()));
    by_bytes_.insert(id);
    return id;
  }

  // Bytes held, capacities included.
  size_t bytes() const {
    return bytes_.capacity() + start_.capacity() * sizeof(uint32_t) +
           by_bytes_.capacity() * (sizeof(uint32_t) + 1);
  }

 private:
  struct Hash {
    using is_transparent = void;
    const DenseIds* ids;
    size_t operator()(uint32_t id) const { return (*this)(ids->Text(id)); }
    size_t operator()(std::string_view text) const {
      return absl::Hash<std::string_view>()(text);
    }
  };
  struct Eq {
    using is_transparent = void;
    const DenseIds* ids;
    bool operator()(uint32_t a, uint32_t b) const { return a == b; }
    bool operator()(uint32_t a, std::string_view b) const {
      return ids->Text(a) == b;
    }
    bool operator()(std::string_view a, uint32_t b) const {
      return (*this)(b, a);
    }
  };

  // Id i's text is bytes_[start_[i], start_[i + 1]).
  std::string bytes_;
  std::vector<uint32_t> start_;
  absl::flat_hash_set<uint32_t, Hash, Eq> by_bytes_;
};

}  // namespace lotledger

#endif  // LOTLEDGER_LIBS_COMMON_DENSE_IDS_H_
