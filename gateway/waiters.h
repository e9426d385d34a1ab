#pragma once

// Waiters: calls waiting for something to arrive on a topic (an order's status, a deposit's
// outcome), keyed by an id, each with a deadline. A key is typed by what arrives for it
// (WaitKey<gateway::v1::Order>, ...): a waiter gets that message, never bytes to parse, and
// Notify hands a key's waiters only a payload of the key's type.
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
#include <type_traits>
#include <typeindex>
#include <typeinfo>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace choreo::gateway {

// What waiters wait on: `name` identifies it, `Payload` is the type of what arrives for it.
template <typename Payload>
struct WaitKey {
  std::string name;
};

class Waiters {
 public:
  // Gets what arrived for the key; returns true when the waiter is done (one-shot waiters
  // always are).
  template <typename Payload>
  using OnEvent = std::function<bool(const Payload& payload)>;
  // The deadline passed (or the registry shut down) first.
  using OnTimeout = std::function<void()>;

  explicit Waiters(size_t capacity);
  ~Waiters();  // Shutdown()

  template <typename Payload>
  absl::StatusOr<uint64_t> Add(const WaitKey<Payload>& key, absl::Time deadline,
                               std::type_identity_t<OnEvent<Payload>> on_event,
                               OnTimeout on_timeout) {
    return AddErased(key.name, typeid(Payload), deadline,
                     [on_event = std::move(on_event)](const void* payload) {
                       return on_event(*static_cast<const Payload*>(payload));
                     },
                     std::move(on_timeout));
  }
  // Drops a waiter without calling it; false if it already completed.
  bool Remove(uint64_t id);
  // Hands `payload` to every waiter of `key`.
  template <typename Payload>
  void Notify(const WaitKey<Payload>& key, const Payload& payload) {
    NotifyErased(key.name, typeid(Payload), &payload);
  }
  // Whether any waiter waits on `key` now.
  template <typename Payload>
  bool Waiting(const WaitKey<Payload>& key) const {
    return WaitingErased(key.name);
  }
  // Times out every waiter and stops the timer thread.
  void Shutdown();
  size_t size() const;

 private:
  // The payload's type erased: `payload` points to a value of type `type`, which Notify checks
  // against the waiter's before the call.
  using ErasedOnEvent = std::function<bool(const void* payload)>;
  struct Waiter {
    std::string key;
    std::type_index type;
    absl::Time deadline;
    ErasedOnEvent on_event;
    OnTimeout on_timeout;
  };
  absl::StatusOr<uint64_t> AddErased(const std::string& key, std::type_index type,
                                     absl::Time deadline, ErasedOnEvent on_event,
                                     OnTimeout on_timeout);
  void NotifyErased(const std::string& key, std::type_index type, const void* payload);
  bool WaitingErased(const std::string& key) const;
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
