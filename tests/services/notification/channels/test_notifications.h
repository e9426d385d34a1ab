#pragma once

// Notifications for the channel tests.

#include <string>

#include "choreo/notifications/v1/events.pb.h"

namespace choreo::notification {

inline notifications::v1::NotificationRequested SampleNotification(const std::string& id) {
  notifications::v1::NotificationRequested n;
  n.mutable_meta()->set_event_id("0123456789abcdef0123456789abcdef");
  n.mutable_meta()->set_correlation_id("saga-" + id);
  n.mutable_meta()->set_traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  n.mutable_meta()->set_producer("notification");
  n.set_notification_id("notification-" + id);
  n.set_username("alice");
  n.set_order_id("order-" + id);
  n.set_type(notifications::v1::NOTIFICATION_TYPE_ORDER_PAID);
  n.set_subject("Your order is paid");
  n.set_body("Order " + id + " is paid.\nThank you.");
  n.mutable_requested_at()->set_seconds(1700000000);
  n.mutable_requested_at()->set_nanos(5000000);
  return n;
}

}  // namespace choreo::notification
