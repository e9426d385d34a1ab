#include "services/notification/channels/channel_router.h"

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/services/notification/channels/test_notifications.h"

namespace choreo::notification {
namespace {

using notifications::v1::NotificationRequested;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Records the notification ids it is given and reports them delivered.
class RecordingChannel : public NotificationChannel {
 public:
  DeliveryResult Deliver(const NotificationRequested& n) override {
    delivered.push_back(n.notification_id());
    return DeliveryResult{.delivered = true, .attempts = 1};
  }
  std::vector<std::string> delivered;
};

NotificationRequested On(notifications::v1::Channel channel, const std::string& id) {
  NotificationRequested n = SampleNotification(id);
  n.set_channel(channel);
  return n;
}

TEST(ChannelRouterTest, ForwardsToTheChannelTheNotificationNames) {
  auto file = std::make_unique<RecordingChannel>();
  auto webhook = std::make_unique<RecordingChannel>();
  RecordingChannel* file_seen = file.get();
  RecordingChannel* webhook_seen = webhook.get();
  ChannelRouter::Channels channels;
  channels[notifications::v1::CHANNEL_FILE] = std::move(file);
  channels[notifications::v1::CHANNEL_WEBHOOK] = std::move(webhook);
  ChannelRouter router(std::move(channels));

  const DeliveryResult to_webhook = router.Deliver(On(notifications::v1::CHANNEL_WEBHOOK, "1"));
  const DeliveryResult to_file = router.Deliver(On(notifications::v1::CHANNEL_FILE, "2"));

  EXPECT_TRUE(to_webhook.delivered);
  EXPECT_EQ(to_webhook.attempts, 1);
  EXPECT_TRUE(to_file.delivered);
  EXPECT_THAT(webhook_seen->delivered, ElementsAre("notification-1"));
  EXPECT_THAT(file_seen->delivered, ElementsAre("notification-2"));
}

TEST(ChannelRouterTest, RejectsUnspecifiedUnknownAndMissingChannels) {
  auto file = std::make_unique<RecordingChannel>();
  RecordingChannel* file_seen = file.get();
  ChannelRouter::Channels channels;
  channels[notifications::v1::CHANNEL_FILE] = std::move(file);
  ChannelRouter router(std::move(channels));

  for (const notifications::v1::Channel channel :
       {notifications::v1::CHANNEL_UNSPECIFIED, notifications::v1::CHANNEL_WEBHOOK,
        static_cast<notifications::v1::Channel>(42)}) {
    const DeliveryResult result = router.Deliver(On(channel, "1"));

    EXPECT_FALSE(result.delivered) << channel;
    EXPECT_EQ(result.attempts, 0) << channel;
    EXPECT_EQ(result.failure_reason, "no such channel") << channel;
  }
  EXPECT_THAT(file_seen->delivered, IsEmpty());
}

}  // namespace
}  // namespace choreo::notification
