#pragma once

// NotificationChannel: one way of delivering a NotificationRequested to its recipient (a file,
// a webhook), and the JSON form every channel sends.
//
// Promises of every channel:
// - Deliver() is thread-safe: several threads may deliver through one channel at once.
// - Deliver() never throws; every failure is reported in the DeliveryResult.
// - Deliver() returns within a bound of the channel's own (its retries and timeouts included);
//   each channel documents its bound.

#include <string>

#include "choreo/notifications/v1/events.pb.h"
#include "services/notification/core/notification_decisions.h"  // DeliveryResult

namespace choreo::notification {

class NotificationChannel {
 public:
  virtual ~NotificationChannel();
  virtual DeliveryResult Deliver(const notifications::v1::NotificationRequested& n) = 0;
};

// The proto3 JSON mapping of `n` on one line: lowerCamelCase field names, enums as names,
// fields holding their default value left out, fields in number order. What every channel
// writes or sends. Empty if `n` cannot be encoded (a string field holding invalid UTF-8, a
// time out of Timestamp's range); channels then refuse the notification without an attempt.
// Written field by field: the same text as protobuf's printer
// (google::protobuf::util::MessageToJsonString), which took 9 us per notification here, except
// for characters that printer escapes beyond JSON's rules ('<', '>', DEL, the C1 controls
// U+0080-U+009F and some invisible ones such as U+00AD, U+200B-U+200F, U+2028-U+202E and
// U+FEFF), which pass through unescaped: the same JSON value. A field added to
// NotificationRequested or EventMeta must be added here too (NotificationJsonTest checks the
// field counts).
std::string NotificationJson(const notifications::v1::NotificationRequested& n);

}  // namespace choreo::notification
