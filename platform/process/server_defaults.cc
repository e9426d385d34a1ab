#include "platform/process/server_defaults.h"

#include "absl/synchronization/mutex.h"

namespace choreo::process {

void ApplyServerDefaults() { absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore); }

}  // namespace choreo::process
