#pragma once

// RecentWrites: the idempotent writes a writer sent lately, so that it can leave out one that
// would change nothing but a key's expiry by a few seconds. The timeline's store uses it: a
// saga's hops come in two or three batches, and each batch wrote the saga's expiry and its
// order's key again. Pure: the caller gives the time.
//
// Promises:
// - A key marked with a value at `t` is Fresh, with that value, while t <= now < t + window, and
//   not after. A window of zero remembers nothing.
// - Memory: marks are kept in two generations; a call a window or more after the last rotation
//   rotates them, dropping the older one. No mark is dropped while fresh, and with steady calls
//   memory holds about two windows of marks.
// - A clock that steps back forgets every mark (how old they are is no longer known).
// Not thread-safe.

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace choreo::gateway::timeline {

class RecentWrites {
 public:
  explicit RecentWrites(absl::Duration window) : window_(window) {}

  // Whether `key` was marked with `value` within the window before `now`.
  bool Fresh(absl::string_view key, absl::string_view value, absl::Time now);
  void Mark(std::string key, std::string value, absl::Time now);
  // Forgets every mark: after a failed round trip, what the server holds is not known.
  void Forget();
  size_t size() const { return current_.size() + previous_.size(); }

 private:
  struct Written {
    std::string value;
    absl::Time at;
  };
  using Marks = absl::flat_hash_map<std::string, Written>;

  // Moves the marks of the last window to previous_ (dropping what was there) once a window
  // has passed since current_ began: a dropped mark is at least one window old.
  void Age(absl::Time now);

  const absl::Duration window_;
  absl::Time current_since_ = absl::InfinitePast();
  Marks current_;
  Marks previous_;
};

}  // namespace choreo::gateway::timeline
