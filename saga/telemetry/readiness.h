#pragma once

// Readiness: whether this process can do its work now, from named checks ("kafka",
// "redis", "consumer:choreo-billing", ...) run every `interval` on one thread.
//
// - /readyz and grpc.health.v1 report the latest result (a check never runs on a scrape or a
//   health call, so a hung dependency cannot hang them).
// - `on_change(ready)` runs on the checking thread when readiness flips (the gRPC health
//   status follows it).
// - A check must return within a few seconds (its own timeouts) and may block that long.
// Thread-safe. Stop() is idempotent; after it the process reports not ready ("process":
// shutting down).

#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace choreo::telemetry {

struct CheckResult {
  std::string name;
  absl::Status status;
};

// Pure: ready when every check passed and there is at least one; the JSON body of /readyz:
// {"ready":false,"checks":[{"name":"redis","ok":false,"error":"..."}...]}
bool AllReady(const std::vector<CheckResult>& results);
std::string ReadinessJson(const std::vector<CheckResult>& results);

class Readiness {
 public:
  using Check = std::function<absl::Status()>;

  explicit Readiness(absl::Duration interval = absl::Seconds(1));
  ~Readiness();  // Stop()

  // Checks may be added while running; the next round runs them.
  void AddCheck(std::string name, Check check);
  // Also runs `on_change` once at once with the current readiness.
  void OnChange(std::function<void(bool ready)> on_change);
  void Start();
  void Stop() noexcept;

  // Runs every check now (on the calling thread) and publishes the result; what a test or
  // start-up calls instead of waiting for the next round.
  void CheckNow();

  bool ready() const;
  std::vector<CheckResult> Latest() const;

 private:
  void Run();

  const absl::Duration interval_;
  mutable absl::Mutex mu_;
  std::vector<std::pair<std::string, Check>> checks_ ABSL_GUARDED_BY(mu_);
  std::vector<CheckResult> latest_ ABSL_GUARDED_BY(mu_);
  bool ready_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::function<void(bool)> on_change_ ABSL_GUARDED_BY(mu_);
  absl::Mutex check_mu_;  // one round at a time
  std::thread thread_;
};

}  // namespace choreo::telemetry
