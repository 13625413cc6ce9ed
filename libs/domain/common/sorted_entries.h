// Sorted lists of keyed entries in the views Evolve folds (stock by
// location, balances by customer), shared by the inventory and recall
// views so that a rebuilt view is byte-identical to the live one whatever
// order the entries arrived in.
//
// Header-only and pure; thread-safe.
#ifndef LOTLEDGER_LIBS_DOMAIN_COMMON_SORTED_ENTRIES_H_
#define LOTLEDGER_LIBS_DOMAIN_COMMON_SORTED_ENTRIES_H_

#include <algorithm>
#include <cstdint>
#include <string>

#include "google/protobuf/repeated_ptr_field.h"
#include "lotledger/v1/events.pb.h"

namespace lotledger::domain {

// The entry of `entries` (sorted by key(entry)) whose key is `id`, added in
// its sorted place with set_key(entry, id) when there is none.
template <typename Entry, typename Key, typename SetKey>
Entry& SortedEntry(google::protobuf::RepeatedPtrField<Entry>* entries,
                   const std::string& id, Key key, SetKey set_key) {
  auto it = std::lower_bound(
      entries->begin(), entries->end(), id,
      [&](const Entry& e, const std::string& x) { return key(e) < x; });
  if (it != entries->end() && key(*it) == id) return *it;
  const int index = static_cast<int>(it - entries->begin());
  set_key(*entries->Add(), id);
  // Rotate the new entry from the end into its sorted place.
  for (int i = entries->size() - 1; i > index; --i) {
    entries->SwapElements(i, i - 1);
  }
  return entries->at(index);
}

// Adds `delta` to the stock at `location_id`, keeping `stock` sorted by
// location id. An entry that reaches zero is dropped; one below zero (the
// deciders never allow it, but a log could say so) stays, so a deficit is
// visible. A zero delta at a location without stock adds nothing.
inline void AddLocationStock(
    google::protobuf::RepeatedPtrField<v1::LocationStock>* stock,
    const std::string& location_id, int64_t delta) {
  if (delta == 0) return;
  auto key = [](const v1::LocationStock& s) -> const std::string& {
    return s.location_id();
  };
  v1::LocationStock& entry = SortedEntry(
      stock, location_id, key, [](v1::LocationStock& s, const std::string& id) {
        s.set_location_id(id);
      });
  entry.set_amount(entry.amount() + delta);
  if (entry.amount() != 0) return;
  auto it = std::lower_bound(stock->begin(), stock->end(), location_id,
                             [&](const v1::LocationStock& s,
                                 const std::string& x) { return key(s) < x; });
  stock->erase(it);
}

}  // namespace lotledger::domain

#endif  // LOTLEDGER_LIBS_DOMAIN_COMMON_SORTED_ENTRIES_H_
