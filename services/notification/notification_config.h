#pragma once

// The notification service's configuration: the flags every service shares and its own,
// validated at start-up (a bad flag exits 2 naming it). Each flag is also CHOREO_<NAME> in the
// environment.

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "platform/config/flag_set.h"
#include "saga/service/service_host.h"
#include "services/notification/channels/webhook_channel.h"

namespace choreo::notification {

struct NotificationConfig : service::ServiceConfig {
  std::string notification_file = "notifications.jsonl";  // the file channel's JSON lines
  WebhookOptions webhook;
  absl::Duration profile_wait = absl::Seconds(2);

  void AddFlags(config::FlagSet& flags);
  absl::Status Validate() const;
  // Parses argv (exits on --help or a bad flag).
  static NotificationConfig FromFlags(int argc, char** argv);
};

}  // namespace choreo::notification
