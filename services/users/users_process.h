#pragma once

// The user service's process: its parts built from the config (signing key, store, outbox,
// publisher, gRPC API, the ProfileRequested subscription) and run on the service host until a
// stop signal. Returns the exit code: 0 after a clean stop, 2 when a part cannot be built.

#include "platform/process/stop_signals.h"
#include "services/users/users_config.h"

namespace choreo::users {

int RunUsers(const UsersConfig& config, process::StopSignals& signals);

}  // namespace choreo::users
