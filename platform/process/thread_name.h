#pragma once

// Names the calling thread after what it does ("lane3", "poll", "kafka-acks"), so that top -H,
// ps -L, perf's --sort comm and /proc/<pid>/task/<tid>/comm tell a process's threads apart.
// Linux keeps a name's first 15 bytes. Best effort: a name that cannot be set leaves the thread
// as it was. Threads that choreo does not start (librdkafka's "rdk:*", gRPC's) are named by
// their libraries.

#include "absl/strings/string_view.h"

namespace choreo::process {

void NameThisThread(absl::string_view name);

}  // namespace choreo::process
