#pragma once

// Notifications for the channel tests.

#include <string>

#include "choreo/notifications/v1/events.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

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

// `json` read back by protobuf's proto3 JSON parser; a failure to parse fails the test.
inline notifications::v1::NotificationRequested ParseJson(const std::string& json) {
  notifications::v1::NotificationRequested parsed;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &parsed).ok()) << json;
  return parsed;
}

inline bool SameMessage(const notifications::v1::NotificationRequested& a,
                        const notifications::v1::NotificationRequested& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

}  // namespace choreo::notification
