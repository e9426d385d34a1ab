// choreo-notification: the notification service. Keeps a local view of user profiles, turns
// each terminal order status into exactly one NotificationRequested, delivers it through the
// file or webhook channel, publishes and records the outcome (NotificationSent), and serves
// NotificationAdmin.ListNotifications.

#include "absl/strings/str_cat.h"
#include "platform/config/flag_set.h"
#include "edges/kafka/kafka_client.h"
#include "platform/process/stop_signals.h"
#include "saga/service/service_host.h"
#include "services/notification/channels/channel_router.h"
#include "services/notification/channels/file_channel.h"
#include "services/notification/channels/webhook_channel.h"
#include "services/notification/notification_service.h"

int main(int argc, char** argv) {
  choreo::process::StopSignals signals;  // before any thread starts
  choreo::service::ServiceConfig config;
  std::string notification_file = "notifications.jsonl";
  choreo::notification::WebhookOptions webhook;
  absl::Duration profile_wait = absl::Seconds(2);
  choreo::config::FlagSet flags("choreo-notification",
                                "The notification service of the choreo saga.");
  config.AddFlags(flags);
  flags.Add("notification-file", &notification_file, "the file channel's JSON-lines file")
      .Add("webhook-timeout", &webhook.timeout, "one webhook attempt's time limit")
      .Add("webhook-attempts", &webhook.max_attempts, "webhook attempts before it counts as failed")
      .Add("webhook-backoff", &webhook.initial_backoff, "the first pause between webhook attempts")
      .Add("webhook-max-backoff", &webhook.max_backoff, "the longest pause between attempts")
      .Add("webhook-allow-private", &webhook.allow_private_destinations,
           "let webhooks reach loopback, private and link-local addresses (development only)")
      .Add("profile-wait", &profile_wait,
           "how long a notification waits for a profile it asked the user service for");
  choreo::config::ParseOrExit(flags, argc, argv, [&]() -> absl::Status {
    if (absl::Status valid = choreo::notification::ValidateWebhookOptions(webhook); !valid.ok()) {
      return valid;
    }
    if (profile_wait <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError("--profile-wait must be > 0");
    }
    if (notification_file.empty()) return absl::InvalidArgumentError("--notification-file is empty");
    return config.Validate();
  });

  auto fail = [](const absl::Status& status) {
    std::fprintf(stderr, "choreo-notification: %s\n", std::string(status.message()).c_str());
    return 2;
  };
  absl::StatusOr<std::unique_ptr<choreo::telemetry::Telemetry>> telemetry =
      choreo::telemetry::Telemetry::Start(choreo::notification::kService, config.telemetry);
  if (!telemetry.ok()) return fail(telemetry.status());
  const choreo::redis::RedisConnection::Options redis{
      .address = *choreo::redis::ParseRedisAddress(config.redis)};

  choreo::notification::ProfileLookup lookup({.redis = redis, .wait = profile_wait});
  choreo::notification::ChannelRouter::Channels channels;
  channels[choreo::notifications::v1::CHANNEL_FILE] =
      std::make_unique<choreo::notification::FileChannel>(notification_file);
  channels[choreo::notifications::v1::CHANNEL_WEBHOOK] =
      std::make_unique<choreo::notification::WebhookChannel>(webhook);
  choreo::notification::ChannelRouter router(std::move(channels));

  absl::StatusOr<choreo::saga::HandlerRegistry> view =
      choreo::notification::ProfileViewRegistry();
  if (!view.ok()) return fail(view.status());
  absl::StatusOr<choreo::saga::HandlerRegistry> statuses =
      choreo::notification::StatusRegistry(&lookup);
  if (!statuses.ok()) return fail(statuses.status());
  absl::StatusOr<choreo::saga::HandlerRegistry> sender =
      choreo::notification::SenderRegistry(&router);
  if (!sender.ok()) return fail(sender.status());
  choreo::notification::NotificationAdminService admin(redis);

  // Notifications are not on the order's critical path: idle fetches may wait longer (Kafka
  // long-polls anyway; the dev broker then serves far fewer empty fetches). A notification
  // goes out at most about 0.2 s later on the dev broker.
  const choreo::kafka::KafkaConfig relaxed = {
      {"fetch.wait.max.ms", absl::StrCat(std::max(config.fetch_wait_max_ms, 100))}};
  choreo::service::ServiceParts parts;
  parts.name = choreo::notification::kService;
  // Users registered before this group first started are learnt on demand (users.profile).
  parts.subscriptions.push_back({.group_suffix = "profiles",
                                 .topics = choreo::notification::ProfileViewTopics(),
                                 .registry = *std::move(view),
                                 .consumer_overrides = choreo::kafka::Merged(
                                     relaxed, {{"auto.offset.reset", "latest"}})});
  parts.subscriptions.push_back({.topics = choreo::notification::StatusTopics(),
                                 .registry = *std::move(statuses),
                                 .consumer_overrides = relaxed});
  parts.subscriptions.push_back({.group_suffix = "sender",
                                 .topics = choreo::notification::SenderTopics(),
                                 .registry = *std::move(sender),
                                 .consumer_overrides = relaxed});
  parts.grpc_services = {&admin};
  parts.observer = &lookup;
  parts.telemetry = telemetry->get();
  return choreo::service::RunService(config, std::move(parts), signals);
}
