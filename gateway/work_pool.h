#pragma once

// WorkPool: a fixed set of threads for the gateway's blocking work (Redis calls), so gRPC
// reactors never block. Submit fails instead of queueing without bound. Thread-safe. Stop (also
// run by the destructor; idempotent) refuses new work, runs what is queued, then joins.

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "platform/process/thread_name.h"

namespace choreo::gateway {

class WorkPool {
 public:
  WorkPool(int threads, size_t max_queued) : max_queued_(max_queued) {
    for (int i = 0; i < threads; ++i) {
      threads_.push_back(process::NamedThread("pool", [this] { Run(); }));
    }
  }
  ~WorkPool() { Stop(); }

  void Stop() noexcept {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    for (std::thread& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }

  // False when the queue is full (the caller answers RESOURCE_EXHAUSTED).
  bool Submit(std::function<void()> work) {
    absl::MutexLock lock(&mu_);
    if (stopping_ || queue_.size() >= max_queued_) return false;
    queue_.push_back(std::move(work));
    return true;
  }

 private:
  void Run() {
    while (true) {
      std::function<void()> work;
      {
        absl::MutexLock lock(&mu_);
        auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return stopping_ || !queue_.empty();
        };
        mu_.Await(absl::Condition(&ready));
        if (queue_.empty()) return;
        work = std::move(queue_.front());
        queue_.pop_front();
      }
      work();
    }
  }

  const size_t max_queued_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_;
};

}  // namespace choreo::gateway
