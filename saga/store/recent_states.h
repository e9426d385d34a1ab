#pragma once

// RecentStates: what a saga runtime's lanes last loaded or committed for each aggregate, so that
// the next event of that aggregate can be decided without reading the aggregate back from the
// store, whichever lane handles it (an order's payment comes on another key than its request,
// so on another lane).
//
// Only a guess, never trusted for correctness: the commit checks the version, so a stale entry
// (the aggregate changed elsewhere: another instance, a lane that has not remembered its commit
// yet) costs a version conflict and a reload, never a wrong commit. Nor does it know which
// events were handled: a duplicate is found by the commit (kAlreadyHandled). The runtime forgets
// an aggregate on a conflict, a duplicate or a decision that failed on the remembered state, and
// everything whenever its store fails (a Redis restart or failover may have lost writes, so a
// version could come round again with another state). A version older than the one remembered
// (a load that raced another lane's commit) does not replace it.
//
// Bounded: when `capacity` aggregates are remembered, everything is forgotten at once.
// Thread-safe: one per runtime, shared by its lanes.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "saga/store/aggregate_store.h"

namespace choreo::store {

class RecentStates {
 public:
  explicit RecentStates(size_t capacity) : capacity_(capacity) {}

  // The remembered state and version of `aggregate` (handled_outcome is never set), if any.
  std::optional<AggregateSnapshot> Find(const AggregateRef& aggregate) const;
  void Remember(const AggregateRef& aggregate, int64_t version, std::string state);
  void Forget(const AggregateRef& aggregate);
  void Clear();
  size_t size() const;

 private:
  static std::string Key(const AggregateRef& aggregate);

  const size_t capacity_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, AggregateSnapshot> states_ ABSL_GUARDED_BY(mu_);
};

}  // namespace choreo::store
