#pragma once

// Waiting on a condition with a deadline: how tests wait for things, instead of sleeping a fixed
// time. The condition is re-checked with a short back-off (1 ms growing to 20 ms) until it holds
// or the deadline passes.

#include <functional>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace choreo::testing {

// True as soon as `condition()` is true; false if it is still false after `timeout`.
inline bool WaitUntil(const std::function<bool()>& condition, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::Duration pause = absl::Milliseconds(1);
  while (true) {
    if (condition()) return true;
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(std::min(pause, deadline - absl::Now()));
    pause = std::min(pause * 2, absl::Milliseconds(20));
  }
}

}  // namespace choreo::testing
