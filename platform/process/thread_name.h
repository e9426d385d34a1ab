#pragma once

// Names the calling thread after what it does ("lane3", "poll", "kafka-acks"), so that top -H,
// ps -L, perf's --sort comm and /proc/<pid>/task/<tid>/comm tell a process's threads apart.
// Linux keeps a name's first 15 bytes. Best effort: a name that cannot be set leaves the thread
// as it was. Threads that choreo does not start (librdkafka's "rdk:*", gRPC's) are named by
// their libraries.

#include <string>
#include <thread>
#include <utility>

#include "absl/strings/string_view.h"

namespace choreo::process {

void NameThisThread(absl::string_view name);

// A thread that names itself `name` (NameThisThread) and then runs `body`: how choreo starts
// each thread of its own.
template <typename Body>
std::thread NamedThread(std::string name, Body body) {
  return std::thread([name = std::move(name), body = std::move(body)]() mutable {
    NameThisThread(name);
    body();
  });
}

}  // namespace choreo::process
