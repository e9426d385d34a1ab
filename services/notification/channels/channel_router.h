#pragma once

// ChannelRouter: a NotificationChannel that hands each notification to the channel named by
// n.channel() (CHANNEL_FILE, CHANNEL_WEBHOOK, ...).
//
// Promises: the set of channels is fixed at construction, so Deliver() is as thread-safe as the
// channels it forwards to, and its time bound is theirs. A notification whose channel is
// CHANNEL_UNSPECIFIED, unknown, or not given to the router fails with attempts 0 and reason
// "no such channel".

#include <map>
#include <memory>

#include "services/notification/channels/notification_channel.h"

namespace choreo::notification {

class ChannelRouter : public NotificationChannel {
 public:
  using Channels =
      std::map<notifications::v1::Channel, std::unique_ptr<NotificationChannel>>;

  // Null entries are ignored (as if absent).
  explicit ChannelRouter(Channels channels);

  DeliveryResult Deliver(const notifications::v1::NotificationRequested& n) override;

 private:
  const Channels channels_;
};

}  // namespace choreo::notification
