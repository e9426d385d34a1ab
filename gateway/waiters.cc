#include "gateway/waiters.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "platform/process/thread_name.h"

namespace choreo::gateway {
namespace {

template <typename Map>
void EraseValue(Map& map, const typename Map::key_type& key, uint64_t id) {
  auto [begin, end] = map.equal_range(key);
  for (auto it = begin; it != end; ++it) {
    if (it->second == id) {
      map.erase(it);
      return;
    }
  }
}

}  // namespace

Waiters::Waiters(size_t capacity)
    : capacity_(capacity), timer_(process::NamedThread("waiter-timer", [this] { TimerLoop(); })) {}

Waiters::~Waiters() { Shutdown(); }

absl::StatusOr<uint64_t> Waiters::AddErased(const std::string& key, std::type_index type,
                                            absl::Time deadline, ErasedOnEvent on_event,
                                            OnTimeout on_timeout) {
  absl::MutexLock lock(&mu_);
  if (shutdown_) return absl::UnavailableError("the gateway is shutting down");
  if (waiters_.size() >= capacity_) {
    return absl::ResourceExhaustedError(
        absl::StrCat("too many calls waiting (", capacity_, "); retry later"));
  }
  const uint64_t id = next_id_++;
  waiters_.emplace(id, Waiter{key, type, deadline, std::move(on_event), std::move(on_timeout)});
  by_key_.emplace(key, id);
  by_deadline_.emplace(deadline, id);
  return id;
}

bool Waiters::Remove(uint64_t id) {
  absl::MutexLock lock(&mu_);
  auto it = waiters_.find(id);
  if (it == waiters_.end()) return false;
  EraseValue(by_key_, it->second.key, id);
  EraseValue(by_deadline_, it->second.deadline, id);
  waiters_.erase(it);
  return true;
}

void Waiters::NotifyErased(const std::string& key, std::type_index type, const void* payload) {
  std::vector<std::pair<uint64_t, ErasedOnEvent>> targets;
  {
    absl::MutexLock lock(&mu_);
    auto [begin, end] = by_key_.equal_range(key);
    for (auto it = begin; it != end; ++it) {
      const Waiter& waiter = waiters_.at(it->second);
      if (waiter.type == type) targets.emplace_back(it->second, waiter.on_event);
    }
  }
  for (auto& [id, on_event] : targets) {
    {
      absl::MutexLock lock(&mu_);
      if (!waiters_.contains(id)) continue;  // timed out or removed meanwhile
    }
    if (!on_event(payload)) continue;
    absl::MutexLock lock(&mu_);
    auto it = waiters_.find(id);
    if (it == waiters_.end()) continue;
    EraseValue(by_key_, it->second.key, id);
    EraseValue(by_deadline_, it->second.deadline, id);
    waiters_.erase(it);
  }
}

void Waiters::TimerLoop() {
  while (true) {
    std::vector<OnTimeout> expired;
    {
      absl::MutexLock lock(&mu_);
      auto due = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return shutdown_ || (!by_deadline_.empty() && by_deadline_.begin()->first <= absl::Now());
      };
      const absl::Time wake =
          by_deadline_.empty() ? absl::Now() + absl::Seconds(1) : by_deadline_.begin()->first;
      mu_.AwaitWithDeadline(absl::Condition(&due), wake);
      const bool stopping = shutdown_;
      while (!by_deadline_.empty() && (stopping || by_deadline_.begin()->first <= absl::Now())) {
        const uint64_t id = by_deadline_.begin()->second;
        by_deadline_.erase(by_deadline_.begin());
        auto it = waiters_.find(id);
        if (it == waiters_.end()) continue;
        EraseValue(by_key_, it->second.key, id);
        expired.push_back(std::move(it->second.on_timeout));
        waiters_.erase(it);
      }
      if (stopping && expired.empty()) return;
    }
    for (OnTimeout& on_timeout : expired) {
      if (on_timeout) on_timeout();
    }
  }
}

void Waiters::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    shutdown_ = true;
  }
  if (timer_.joinable()) timer_.join();
}

bool Waiters::WaitingErased(const std::string& key) const {
  absl::MutexLock lock(&mu_);
  return by_key_.contains(key);
}

size_t Waiters::size() const {
  absl::MutexLock lock(&mu_);
  return waiters_.size();
}

}  // namespace choreo::gateway
