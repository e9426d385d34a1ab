#pragma once

// CPU time and memory of a running process, and its threads' CPU and context switches by kind,
// read from /proc (Linux).

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace choreo::bench {

// What a process's threads of one kind used together.
struct ThreadsUsage {
  absl::Duration cpu;    // user + system
  int64_t switches = 0;  // voluntary context switches: each one a sleep and a wake-up
};

struct ProcessUsage {
  // User + system since the process started, with children_cpu: what a process forks to do its
  // work is its cost too (Redis's AOF rewrites).
  absl::Duration cpu;
  // Of that, the CPU of the children it has waited for (cutime + cstime): a child counts once it
  // has ended and been reaped.
  absl::Duration children_cpu;
  int64_t peak_rss_kib = 0;  // VmHWM: the resident set's high-water mark
  int64_t rss_kib = 0;       // VmRSS now
  // By ThreadKind, summed over the threads alive when read: a thread that has ended is in
  // `cpu` but missing here.
  std::map<std::string, ThreadsUsage> threads;
};

// The kind of a thread by its name (/proc/<pid>/task/<tid>/comm): "librdkafka" (rdk:*), "grpc"
// (gRPC's and its event engine's threads, which also run the services' RPC handlers: a
// synchronous handler, a callback reactor's code), or "choreo" (the rest: the threads the
// process names itself, such as lanes, pollers and pools, and the admin server's).
absl::string_view ThreadKind(absl::string_view comm);

absl::StatusOr<ProcessUsage> ReadProcessUsage(pid_t pid);

// `after` less `before`: CPU and switches spent in between (RSS as in `after`). A kind's share
// never goes below zero, though a thread that ended in between takes its CPU out of its kind.
ProcessUsage UsageBetween(const ProcessUsage& before, const ProcessUsage& after);

}  // namespace choreo::bench
