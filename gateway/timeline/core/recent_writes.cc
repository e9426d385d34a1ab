#include "gateway/timeline/core/recent_writes.h"

#include <utility>

namespace choreo::gateway::timeline {

bool RecentWrites::Fresh(absl::string_view key, absl::string_view value, absl::Time now) {
  Age(now);
  for (const Marks* marks : {&current_, &previous_}) {
    auto it = marks->find(key);
    if (it != marks->end()) {
      return it->second.value == value && it->second.at <= now && now < it->second.at + window_;
    }
  }
  return false;
}

void RecentWrites::Mark(std::string key, std::string value, absl::Time now) {
  if (window_ <= absl::ZeroDuration()) return;
  Age(now);
  previous_.erase(key);  // the newest mark of a key lives in current_ only
  current_.insert_or_assign(std::move(key), Written{std::move(value), now});
}

void RecentWrites::Forget() {
  current_.clear();
  previous_.clear();
  current_since_ = absl::InfinitePast();
}

void RecentWrites::Age(absl::Time now) {
  if (now < current_since_) {  // the clock stepped back: how old a mark is is not known
    Forget();
    return;
  }
  if (now < current_since_ + window_) return;
  previous_ = std::move(current_);
  current_.clear();
  current_since_ = now;
}

}  // namespace choreo::gateway::timeline
