#pragma once

// RecentStates: what one saga lane last loaded or committed for each aggregate, so that the next
// event of that aggregate can be decided without reading the aggregate back from the store.
//
// Only a guess, never trusted for correctness: the commit checks the version, so a stale entry
// (the aggregate changed elsewhere: another instance, another lane) costs a version conflict and
// a reload, never a wrong commit. Nor does it know which events were handled: a duplicate is
// found by the commit (kAlreadyHandled). The runtime forgets an aggregate on a conflict, a
// duplicate or a decision that failed on the remembered state, and everything whenever its store
// fails (a Redis restart or failover may have lost writes, so a version could come round again
// with another state).
//
// Bounded: when `capacity` aggregates are remembered, everything is forgotten at once.
// Not thread-safe: one per lane.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "saga/store/aggregate_store.h"

namespace choreo::store {

class RecentStates {
 public:
  explicit RecentStates(size_t capacity) : capacity_(capacity) {}

  // The remembered state and version of `aggregate` (handled_outcome is never set), or null.
  const AggregateSnapshot* Find(const AggregateRef& aggregate) const;
  void Remember(const AggregateRef& aggregate, int64_t version, std::string state);
  void Forget(const AggregateRef& aggregate);
  void Clear() { states_.clear(); }
  size_t size() const { return states_.size(); }

 private:
  static std::string Key(const AggregateRef& aggregate);

  const size_t capacity_;
  absl::flat_hash_map<std::string, AggregateSnapshot> states_;
};

}  // namespace choreo::store
