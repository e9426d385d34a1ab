#pragma once

// Waiters: calls waiting for something to arrive on a topic (an order's status, a deposit's
// outcome), keyed by an id, each with a deadline.
//
// Promises: a waiter is completed exactly once (by Notify returning "done", by its deadline, or
// by Remove/Shutdown) unless it is a stream, which Notify may call many times. Callbacks run
// outside the registry's lock, on the notifying thread or the registry's timer thread; they must
// not block. At most `capacity` waiters exist at once (Add then fails with RESOURCE_EXHAUSTED).
// Thread-safe.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace choreo::gateway {

class Waiters {
 public:
  // Gets what arrived for the key; returns true when the waiter is done (one-shot waiters
  // always are).
  using OnEvent = std::function<bool(const std::string& payload)>;
  // The deadline passed (or the registry shut down) first.
  using OnTimeout = std::function<void()>;

  explicit Waiters(size_t capacity);
  ~Waiters();  // Shutdown()

  absl::StatusOr<uint64_t> Add(const std::string& key, absl::Time deadline, OnEvent on_event,
                               OnTimeout on_timeout);
  // Drops a waiter without calling it; false if it already completed.
  bool Remove(uint64_t id);
  // Hands `payload` to every waiter of `key`.
  void Notify(const std::string& key, const std::string& payload);
  // Times out every waiter and stops the timer thread.
  void Shutdown();
  size_t size() const;

 private:
  struct Waiter {
    std::string key;
    absl::Time deadline;
    OnEvent on_event;
    OnTimeout on_timeout;
  };
  void TimerLoop();

  const size_t capacity_;
  mutable absl::Mutex mu_;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_map<uint64_t, Waiter> waiters_ ABSL_GUARDED_BY(mu_);
  std::multimap<std::string, uint64_t> by_key_ ABSL_GUARDED_BY(mu_);
  std::multimap<absl::Time, uint64_t> by_deadline_ ABSL_GUARDED_BY(mu_);
  std::thread timer_;
};

}  // namespace choreo::gateway
