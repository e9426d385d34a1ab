#pragma once

// PoolBatches: items run on a WorkPool's threads in batches, so that work with a batched form
// (one Redis round trip for many calls) pays once per batch when the gateway is busy and waits
// for nothing when it is not.
//
// Promises: every item Add accepts is handed to `run` exactly once, with the others queued at
// that moment (up to `max_batch`, in the order added). No item waits for others to arrive: each
// Add submits one task to the pool, and a task takes every item queued when it starts; a task
// that finds none (an earlier one took its item) ends at once. So at low load a batch is one
// item, and when the pool's threads are busy the next free one takes what queued meanwhile.
// Add returns false, and the item is not run, when the pool refuses the task (its queue is
// full, or it is stopping) and no running task has taken the item yet; true when it will run.
// Thread-safe; `run` runs on the pool's threads, several at once. The pool must be stopped
// before this is destroyed (its queued tasks refer to this).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gateway/work_pool.h"

namespace choreo::gateway {

template <typename T>
class PoolBatches {
 public:
  using Run = std::function<void(std::vector<T>&)>;

  // `pool` must outlive this and be stopped before it is destroyed.
  PoolBatches(WorkPool& pool, size_t max_batch, Run run)
      : pool_(pool), max_batch_(std::max<size_t>(1, max_batch)), run_(std::move(run)) {}

  bool Add(T item) {
    uint64_t id;
    {
      absl::MutexLock lock(&mu_);
      id = next_id_++;
      queued_.emplace_back(id, std::move(item));
    }
    if (pool_.Submit([this] { RunQueued(); })) return true;
    // Refused: take the item back, unless a running task already took it (then it runs).
    absl::MutexLock lock(&mu_);
    auto it =
        std::find_if(queued_.begin(), queued_.end(),
                     [id](const std::pair<uint64_t, T>& queued) { return queued.first == id; });
    if (it == queued_.end()) return true;
    queued_.erase(it);
    return false;
  }

 private:
  void RunQueued() {
    std::vector<T> batch;
    {
      absl::MutexLock lock(&mu_);
      const size_t take = std::min(queued_.size(), max_batch_);
      batch.reserve(take);
      for (size_t i = 0; i < take; ++i) {
        batch.push_back(std::move(queued_.front().second));
        queued_.pop_front();
      }
    }
    if (!batch.empty()) run_(batch);
  }

  WorkPool& pool_;
  const size_t max_batch_;
  const Run run_;
  absl::Mutex mu_;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<std::pair<uint64_t, T>> queued_ ABSL_GUARDED_BY(mu_);  // each with its Add's id
};

}  // namespace choreo::gateway
