#include "saga/store/recent_states.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace choreo::store {

std::string RecentStates::Key(const AggregateRef& aggregate) {
  return absl::StrCat(aggregate.type, ":", aggregate.id);
}

const AggregateSnapshot* RecentStates::Find(const AggregateRef& aggregate) const {
  auto it = states_.find(Key(aggregate));
  return it == states_.end() ? nullptr : &it->second;
}

void RecentStates::Remember(const AggregateRef& aggregate, int64_t version, std::string state) {
  if (capacity_ == 0) return;
  std::string key = Key(aggregate);
  if (states_.size() >= capacity_ && !states_.contains(key)) states_.clear();
  AggregateSnapshot& snapshot = states_[std::move(key)];
  snapshot.version = version;
  snapshot.state = std::move(state);
}

void RecentStates::Forget(const AggregateRef& aggregate) { states_.erase(Key(aggregate)); }

}  // namespace choreo::store
