// choreo-order: the order service. Validates and prices order requests from its catalog,
// follows each order to PAID, INSUFFICIENT_FUNDS, REJECTED or EXPIRED, cancels it (CANCELLED, or
// REFUNDED once paid) when its user asks, and serves OrderAdmin.

#include "platform/process/server_defaults.h"
#include "platform/process/stop_signals.h"
#include "services/order/order_config.h"
#include "services/order/order_process.h"

int main(int argc, char** argv) {
  choreo::process::ApplyServerDefaults();
  choreo::process::StopSignals signals;  // before any thread starts
  return choreo::order::RunOrder(choreo::order::OrderConfig::FromFlags(argc, argv), signals);
}
