#pragma once

// Open-loop load: request i is due at start + i/rate whatever happened to earlier ones, and its
// latency counts from when it was due (so a slow answer cannot hide the queueing it causes).
// Phase holds one run's numbers; Recorder collects completions from any thread; RunOpenLoop
// paces the schedule and reads every process's CPU before and after.

#include <cstdio>
#include <map>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "testing/wait.h"
#include "tests/bench/latency_histogram.h"
#include "tests/bench/process_usage.h"

namespace choreo::bench {

// One open-loop run's numbers.
struct Phase {
  std::string name;
  int offered_rate = 0;
  absl::Duration duration;
  int64_t sent = 0;
  int64_t ok = 0;
  absl::Duration span;  // from the first due time to the last answer
  LatencyHistogram latency;
  std::map<std::string, int64_t> outcomes;
  std::map<std::string, int64_t> errors;
  std::map<std::string, ProcessUsage> usage;  // CPU: during the phase; RSS: peak so far
  absl::Duration usage_window;                // the wall time `usage` covers
  // The saga's phases: Redis's stalls during the phase as its latency monitor recorded them
  // (see RedisStalls in saga_bench.cc), or why they are unknown. Empty: not looked at.
  std::string redis_stalls;
  std::string redis_stalls_json;  // the same as a JSON value; empty: not looked at
  double achieved() const {
    return span > absl::ZeroDuration() ? static_cast<double>(ok) / absl::ToDoubleSeconds(span) : 0;
  }
  int64_t error_count() const {
    int64_t n = 0;
    for (const auto& [code, count] : errors) n += count;
    return n;
  }
};

inline double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

// Collects completions from any thread.
class Recorder {
 public:
  explicit Recorder(absl::Time start) : start_(start) {}
  void Done(absl::Time due, const std::string& outcome, bool ok) {
    if (due < start_) return;  // a late arrival of an earlier phase (the floor's sink outlives it)
    const absl::Time now = absl::Now();
    absl::MutexLock lock(&mu_);
    if (ok) {
      latency_.Record(now - due);
      ++outcomes_[outcome];
      ++ok_;
    } else {
      ++errors_[outcome];
    }
    ++completed_;
    last_ = std::max(last_, now);
  }
  int64_t completed() const {
    absl::MutexLock lock(&mu_);
    return completed_;
  }
  absl::Duration p99() const {
    absl::MutexLock lock(&mu_);
    return latency_.Percentile(99);
  }
  void Into(Phase& phase, absl::Time start) const {
    absl::MutexLock lock(&mu_);
    phase.latency = latency_;
    phase.outcomes = outcomes_;
    phase.errors = errors_;
    phase.ok = ok_;
    phase.span = last_ - start;
  }

 private:
  const absl::Time start_;
  mutable absl::Mutex mu_;
  LatencyHistogram latency_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int64_t> outcomes_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int64_t> errors_ ABSL_GUARDED_BY(mu_);
  int64_t ok_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t completed_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time last_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

inline std::map<std::string, ProcessUsage> Usage(const std::map<std::string, pid_t>& pids) {
  std::map<std::string, ProcessUsage> usage;
  for (const auto& [name, pid] : pids) {
    if (absl::StatusOr<ProcessUsage> u = ReadProcessUsage(pid); u.ok()) usage[name] = *u;
  }
  return usage;
}

// Issues `rate` requests per second for `duration` on this thread's schedule; issue(i, due, rec)
// must not block. Waits (bounded) for the answers, printing progress every second.
template <typename Issue>
Phase RunOpenLoop(const std::string& name, int rate, absl::Duration duration,
                  const std::map<std::string, pid_t>& pids, Issue issue) {
  Phase phase;
  phase.name = name;
  phase.offered_rate = rate;
  phase.duration = duration;
  const std::map<std::string, ProcessUsage> before = Usage(pids);
  const absl::Time usage_start = absl::Now();
  const int64_t total = static_cast<int64_t>(rate * absl::ToDoubleSeconds(duration));
  const absl::Duration interval = absl::Seconds(1) / rate;
  // Whole microseconds: the floor carries due times through Kafka as microseconds.
  const absl::Time start =
      absl::FromUnixMicros(absl::ToUnixMicros(absl::Now() + absl::Milliseconds(20)));
  Recorder recorder(start);
  absl::Time next_progress = start + absl::Seconds(1);
  auto progress = [&](int64_t sent) {
    std::fprintf(stderr, "  [%s %d/s] %5.1fs sent %lld answered %lld p99 %.1f ms\n", name.c_str(),
                 rate, absl::ToDoubleSeconds(absl::Now() - start), static_cast<long long>(sent),
                 static_cast<long long>(recorder.completed()), Ms(recorder.p99()));
  };
  for (int64_t i = 0; i < total; ++i) {
    const absl::Time due = start + interval * i;
    const absl::Time now = absl::Now();
    if (due > now) absl::SleepFor(due - now);  // pacing the schedule, not waiting for a result
    issue(i, due, recorder);
    if (absl::Now() >= next_progress) {
      progress(i + 1);
      next_progress += absl::Seconds(1);
    }
  }
  phase.sent = total;
  const absl::Time give_up = absl::Now() + absl::Seconds(40);
  while (recorder.completed() < total && absl::Now() < give_up) {
    testing::WaitUntil([&] { return recorder.completed() >= total; }, absl::Seconds(1));
    progress(total);
  }
  recorder.Into(phase, start);
  if (const int64_t missing = total - recorder.completed(); missing > 0) {
    phase.errors["NO_ANSWER"] = missing;
  }
  const std::map<std::string, ProcessUsage> after = Usage(pids);
  phase.usage_window = absl::Now() - usage_start;
  for (const auto& [process, usage] : after) {
    auto it = before.find(process);
    phase.usage[process] = it != before.end() ? UsageBetween(it->second, usage) : usage;
  }
  return phase;
}

}  // namespace choreo::bench
