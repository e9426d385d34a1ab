#include "services/notification/channels/channel_router.h"

#include <utility>

namespace choreo::notification {

ChannelRouter::ChannelRouter(Channels channels) : channels_(std::move(channels)) {}

DeliveryResult ChannelRouter::Deliver(const notifications::v1::NotificationRequested& n) {
  const auto found = channels_.find(n.channel());
  if (n.channel() == notifications::v1::CHANNEL_UNSPECIFIED || found == channels_.end() ||
      found->second == nullptr) {
    DeliveryResult result;
    result.failure_reason = "no such channel";
    return result;
  }
  return found->second->Deliver(n);
}

}  // namespace choreo::notification
