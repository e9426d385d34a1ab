#include "services/notification/notification_process.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "edges/kafka/kafka_client.h"
#include "edges/redis/redis_pool.h"
#include "saga/service/service_host.h"
#include "saga/telemetry/telemetry.h"
#include "services/notification/channels/channel_router.h"
#include "services/notification/channels/file_channel.h"
#include "services/notification/channels/webhook_channel.h"
#include "services/notification/notification_service.h"

namespace choreo::notification {
namespace {

// Counts every delivery `channel` makes, by channel and outcome
// (choreo_notification_deliveries_total: the webhook failure alert's source). The series of the
// file and webhook channels exist from the start, at 0, so that a rate sees their first failure.
class CountedChannel final : public NotificationChannel {
 public:
  CountedChannel(NotificationChannel& channel, metrics::Metrics& metrics)
      : channel_(channel),
        deliveries_(metrics.Counter("choreo_notification_deliveries_total",
                                    "Notifications handed to a channel, by channel and outcome "
                                    "(delivered, failed: every attempt failed or none was made).",
                                    {"channel", "outcome"})) {
    for (const auto kind : {notifications::v1::CHANNEL_FILE, notifications::v1::CHANNEL_WEBHOOK}) {
      for (const bool delivered : {true, false}) Series(kind, delivered);
    }
  }

  DeliveryResult Deliver(const notifications::v1::NotificationRequested& n) override {
    DeliveryResult result = channel_.Deliver(n);
    Series(n.channel(), result.delivered).Increment();
    return result;
  }

 private:
  prometheus::Counter& Series(notifications::v1::Channel kind, bool delivered) {
    std::string channel = absl::AsciiStrToLower(notifications::v1::Channel_Name(kind));
    if (absl::StartsWith(channel, "channel_")) channel.erase(0, 8);
    return deliveries_.With({channel, delivered ? "delivered" : "failed"});
  }

  NotificationChannel& channel_;
  metrics::Family<prometheus::Counter>& deliveries_;
};

}  // namespace

int RunNotification(const NotificationConfig& config, process::StopSignals& signals) {
  if (absl::Status applied = config.ApplyClientLogins(); !applied.ok()) {
    return service::StartFailure(kService, applied);
  }
  absl::StatusOr<std::unique_ptr<telemetry::Telemetry>> telemetry =
      telemetry::Telemetry::Start(kService, config.telemetry);
  if (!telemetry.ok()) return service::StartFailure(kService, telemetry.status());
  const redis::RedisConnection::Options redis = *redis::RedisConnection::OptionsFor(config.redis);
  ProfileLookup lookup({.redis = redis, .wait = config.profile_wait});
  ChannelRouter::Channels channels;
  channels[notifications::v1::CHANNEL_FILE] = std::make_unique<FileChannel>(config.notification_file);
  channels[notifications::v1::CHANNEL_WEBHOOK] = std::make_unique<WebhookChannel>(config.webhook);
  ChannelRouter router(std::move(channels));
  CountedChannel counted(router, (*telemetry)->metrics());

  absl::StatusOr<saga::HandlerRegistry> view = ProfileViewRegistry();
  if (!view.ok()) return service::StartFailure(kService, view.status());
  absl::StatusOr<saga::HandlerRegistry> statuses = StatusRegistry(&lookup);
  if (!statuses.ok()) return service::StartFailure(kService, statuses.status());
  // The inbox: the sender's lanes and the admin API share a few connections.
  redis::RedisPool inbox_pool(redis, std::max(2, config.workers));
  InboxStore inbox(inbox_pool, {.marker_retention = config.marker_retention});
  absl::StatusOr<saga::HandlerRegistry> sender = SenderRegistry(&counted, &inbox);
  if (!sender.ok()) return service::StartFailure(kService, sender.status());
  NotificationAdminService admin(inbox);

  // Notifications are not on the order's critical path: fetches gather records for up to 250 ms
  // (kafka::BatchedFetch), so the runtime gets them in batches and the broker answers far fewer
  // fetches. Each of a notification's hops (status, request, sent) may wait that long.
  const kafka::KafkaConfig relaxed = kafka::BatchedFetch(
      std::max(absl::Milliseconds(config.fetch_wait_max_ms), absl::Milliseconds(250)));
  service::ServiceParts parts;
  parts.name = kService;
  // The profile view is a projection of users.snapshots: a new group backfills it from the
  // topic's start (every user's latest profile), and the service is ready only once it caught
  // up. A user registered a moment ago and not projected yet is asked for (users.profile).
  parts.subscriptions.push_back(
      {.group_suffix = "profiles",
       .topics = ProfileViewTopics(),
       .registry = *std::move(view),
       .consumer_overrides = kafka::Merged(relaxed, {{"auto.offset.reset", "earliest"}}),
       .ready_once_caught_up = true});
  // Their producers, likewise, let a record wait up to 5 ms for others to its partition: a
  // batch's requests or outcomes go out in a few Produce requests instead of one per handful.
  const kafka::KafkaConfig gathered = kafka::BatchedProduce(absl::Milliseconds(5));
  parts.subscriptions.push_back({.topics = StatusTopics(),
                                 .registry = *std::move(statuses),
                                 .consumer_overrides = relaxed,
                                 .producer_overrides = gathered});
  parts.subscriptions.push_back({.group_suffix = "sender",
                                 .topics = SenderTopics(),
                                 .registry = *std::move(sender),
                                 .consumer_overrides = relaxed,
                                 .producer_overrides = gathered});
  parts.grpc_services = {&admin};
  parts.observer = &lookup;
  parts.telemetry = telemetry->get();
  return service::RunService(config, std::move(parts), signals);
}

}  // namespace choreo::notification
