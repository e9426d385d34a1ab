#pragma once

// The notification service's process: its parts built from the config (profile lookup, the file
// and webhook channels, NotificationAdmin, the three subscriptions of notification_service.h) and
// run on the service host until a stop signal. Returns the exit code: 0 after a clean stop, 2
// when a part cannot be built.

#include "platform/process/stop_signals.h"
#include "services/notification/notification_config.h"

namespace choreo::notification {

int RunNotification(const NotificationConfig& config, process::StopSignals& signals);

}  // namespace choreo::notification
