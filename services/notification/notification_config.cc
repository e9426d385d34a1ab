#include "services/notification/notification_config.h"

namespace choreo::notification {

void NotificationConfig::AddFlags(config::FlagSet& flags) {
  ServiceConfig::AddFlags(flags);
  flags.Add("notification-file", &notification_file, "the file channel's JSON-lines file")
      .Add("webhook-timeout", &webhook.timeout, "one webhook attempt's time limit")
      .Add("webhook-attempts", &webhook.max_attempts, "webhook attempts before it counts as failed")
      .Add("webhook-backoff", &webhook.initial_backoff, "the first pause between webhook attempts")
      .Add("webhook-max-backoff", &webhook.max_backoff, "the longest pause between attempts")
      .Add("webhook-allow-private", &webhook.allow_private_destinations,
           "let webhooks reach loopback, private and link-local addresses (development only)")
      .Add("profile-wait", &profile_wait,
           "how long a notification waits for a profile it asked the user service for");
}

absl::Status NotificationConfig::Validate() const {
  if (absl::Status valid = ValidateWebhookOptions(webhook); !valid.ok()) return valid;
  if (profile_wait <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--profile-wait must be > 0");
  }
  if (notification_file.empty()) return absl::InvalidArgumentError("--notification-file is empty");
  return ServiceConfig::Validate();
}

NotificationConfig NotificationConfig::FromFlags(int argc, char** argv) {
  return config::ParseConfigOrExit<NotificationConfig>(
      "choreo-notification", "The notification service of the choreo saga.", argc, argv);
}

}  // namespace choreo::notification
