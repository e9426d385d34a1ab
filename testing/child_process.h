#pragma once

// ChildProcess: a program started by a test (redis-server, the dev broker, a service).
//
// Promises: the child gets SIGKILL if the test process dies (PR_SET_PDEATHSIG), so no server
// outlives its test; Stop() and the destructor end it (SIGTERM, then SIGKILL after a grace
// period) and reap it. stdout and stderr go to `log_path` (appended), if given.
// Not thread-safe; owned by one test thread (the one that started it: the death signal is tied
// to that thread).

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace choreo::testing {

class ChildProcess {
 public:
  struct Options {
    std::vector<std::string> argv;  // argv[0] is looked up on PATH if it has no '/'
    std::string log_path;           // empty: inherit the test's stdout/stderr
    std::vector<std::string> env;   // extra "NAME=value" entries
  };

  static absl::StatusOr<ChildProcess> Start(const Options& options);
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  bool running();

  // Sends `signal` (no-op once the child has exited).
  void Signal(int signal);

  // Waits until the child exits; its exit code, or 128 + signal if a signal ended it.
  // DEADLINE_EXCEEDED if it is still running after `timeout`.
  absl::StatusOr<int> Wait(absl::Duration timeout);

  // SIGTERM, wait up to `grace`, then SIGKILL; returns the exit status as Wait does.
  absl::StatusOr<int> Stop(absl::Duration grace = absl::Seconds(10)) noexcept;

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  bool Reap(bool block);

  pid_t pid_ = -1;
  std::optional<int> exit_status_;
};

}  // namespace choreo::testing
