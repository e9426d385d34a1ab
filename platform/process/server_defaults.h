#pragma once

// Process-wide settings every choreo server applies first thing in main(), before any thread
// starts.
//
// absl's Mutex checks the order locks are taken in, to report deadlocks, when absl itself was
// built without NDEBUG, as Debian's shared libraries are: every Lock then takes one process-wide
// spin lock and updates a graph of all mutexes. Servers turn the check off here, before any
// thread takes a lock; tests keep it, so a lock-order inversion still fails them. (It was turned
// off in service::ProcessHost::Start, which the order, notification and users services reach
// after starting their telemetry themselves, past that line: the check stayed on there, about
// 1% of the order service's CPU at 400 orders/s in GraphCycles::GetId alone.)

namespace choreo::process {

void ApplyServerDefaults();

}  // namespace choreo::process
