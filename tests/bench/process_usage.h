#pragma once

// CPU time and memory of a running process, read from /proc (Linux).

#include <sys/types.h>

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace choreo::bench {

struct ProcessUsage {
  absl::Duration cpu;       // user + system, since the process started
  int64_t peak_rss_kib = 0;  // VmHWM: the resident set's high-water mark
  int64_t rss_kib = 0;       // VmRSS now
};

absl::StatusOr<ProcessUsage> ReadProcessUsage(pid_t pid);

}  // namespace choreo::bench
