#include "saga/store/recent_states.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace choreo::store {

std::string RecentStates::Key(const AggregateRef& aggregate) {
  return absl::StrCat(aggregate.type, ":", aggregate.id);
}

std::optional<AggregateSnapshot> RecentStates::Find(const AggregateRef& aggregate) const {
  const std::string key = Key(aggregate);
  absl::MutexLock lock(&mu_);
  auto it = states_.find(key);
  if (it == states_.end()) return std::nullopt;
  return it->second;
}

void RecentStates::Remember(const AggregateRef& aggregate, int64_t version, std::string state) {
  if (capacity_ == 0) return;
  std::string key = Key(aggregate);
  absl::MutexLock lock(&mu_);
  auto it = states_.find(key);
  if (it == states_.end()) {
    if (states_.size() >= capacity_) states_.clear();
    it = states_.emplace(std::move(key), AggregateSnapshot{}).first;
  } else if (version < it->second.version) {
    return;  // another lane already remembered a later one
  }
  it->second.version = version;
  it->second.state = std::move(state);
}

void RecentStates::Forget(const AggregateRef& aggregate) {
  const std::string key = Key(aggregate);
  absl::MutexLock lock(&mu_);
  states_.erase(key);
}

void RecentStates::Clear() {
  absl::MutexLock lock(&mu_);
  states_.clear();
}

size_t RecentStates::size() const {
  absl::MutexLock lock(&mu_);
  return states_.size();
}

}  // namespace choreo::store
