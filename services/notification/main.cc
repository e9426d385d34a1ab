// choreo-notification: the notification service. Keeps a local view of user profiles, turns
// each terminal order status into exactly one NotificationRequested, delivers it through the
// file or webhook channel, publishes and records the outcome (NotificationSent), and serves
// NotificationAdmin.ListNotifications.

#include "platform/process/server_defaults.h"
#include "platform/process/stop_signals.h"
#include "services/notification/notification_config.h"
#include "services/notification/notification_process.h"

int main(int argc, char** argv) {
  choreo::process::ApplyServerDefaults();
  choreo::process::StopSignals signals;  // before any thread starts
  return choreo::notification::RunNotification(
      choreo::notification::NotificationConfig::FromFlags(argc, argv), signals);
}
