#pragma once

// The order service's process: its parts built from the config (catalog, deadline index and
// scanner, OrderAdmin, the order subscription) and run on the service host until a stop signal.
// Returns the exit code: 0 after a clean stop, 2 when a part cannot be built.

#include "platform/process/stop_signals.h"
#include "services/order/order_config.h"

namespace choreo::order {

int RunOrder(const OrderConfig& config, process::StopSignals& signals);

}  // namespace choreo::order
