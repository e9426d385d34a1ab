#pragma once

// StopSignals: how a choreo process learns it should stop. Construct it first thing in main(),
// before any thread starts: it blocks SIGTERM and SIGINT in the calling thread, so every thread
// created afterwards inherits the block and only Wait() receives them.
// Not copyable; one per process.

namespace choreo::process {

class StopSignals {
 public:
  StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // Blocks until SIGTERM or SIGINT arrives; returns the signal number.
  int Wait();
};

}  // namespace choreo::process
