#include "saga/runtime/run_planner.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace choreo::saga {

size_t RunPlanner::Place(absl::string_view key, absl::string_view aggregate,
                         absl::string_view event_id, const AfterCommitStep* effect) {
  const std::string names[] = {absl::StrCat("k:", key), absl::StrCat("a:", aggregate)};
  size_t run = 0;
  for (const std::string& name : names) {
    if (auto it = latest_.find(name); it != latest_.end()) {
      const bool shares = effect != nullptr && it->second.effect == effect;
      run = std::max(run, shares ? it->second.run : it->second.run + 1);
    }
  }
  std::string event;
  if (effect != nullptr) {
    event = absl::StrCat(aggregate, "\n", event_id);
    if (auto it = events_.find(event); it != events_.end()) run = std::max(run, it->second + 1);
  }
  for (const std::string& name : names) latest_[name] = Latest{run, effect};
  if (effect != nullptr) events_[std::move(event)] = run;
  return run;
}

}  // namespace choreo::saga
