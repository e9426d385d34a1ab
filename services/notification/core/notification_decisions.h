#pragma once

// The notification service's pure decisions. No Kafka, Redis, HTTP or clock of their own.
//
// - Status -> notification: each terminal order status (PAID, INSUFFICIENT_FUNDS, REJECTED,
//   EXPIRED, CANCELLED, REFUNDED; not REFUND_PENDING), knowing the recipient, becomes one
//   NotificationRequested (NotificationFor), whose id derives from (order, status), so that
//   every repeat of the change is the same request; on the recipient's preferred channel: the
//   webhook when enabled, else the file channel when enabled. A muted type, or a user with
//   every channel off, gets none (the status still counts as done).
// - Profile view: the newest profile (by updated_at) wins, whichever path brought it.
// - Sender: a request is delivered by an effect alone (once per notification id: its completion
//   record), and the outcome becomes NotificationSent (SentFor, a stable id per notification,
//   carrying the request's subject, body and time); the inbox records that outcome from
//   notifications.sent (InboxRecordFor), once per notification id.

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "choreo/notifications/v1/events.pb.h"
#include "choreo/notifications/v1/state.pb.h"
#include "choreo/orders/v1/events.pb.h"
#include "choreo/users/v1/events.pb.h"
#include "saga/reaction/reaction.h"

namespace choreo::notification {

// How a delivery went: what a channel reports (channels/) and what NotificationSent records.
struct DeliveryResult {
  bool delivered = false;
  // Attempts made to hand the notification over (0 if it was refused before any attempt).
  int attempts = 0;
  // Why the last attempt failed, as the user may read it; empty when delivered.
  std::string failure_reason;
  // The transport's own error, for the operators' log only: shown to the user it would tell
  // someone probing destinations which hosts and ports answer (refused, timed out, TLS).
  std::string detail;
};

// The notification a status calls for; nullopt for statuses that are not notified.
std::optional<notifications::v1::NotificationType> NotificationTypeFor(
    orders::v1::OrderStatus status);

// Stable: the same (order, status) always gives the same id.
std::string NotificationIdFor(absl::string_view order_id, orders::v1::OrderStatus status);

// The notification `status` calls for with `recipient`'s preferences; nullopt for a status that
// is not notified, a muted type, or a recipient with every channel off.
std::optional<notifications::v1::NotificationRequested> NotificationFor(
    const orders::v1::OrderStatusUpdated& status, const users::v1::Profile& recipient,
    absl::Time now);

// Local profile view (aggregate notification.profile:<username>).
saga::Reaction<notifications::v1::ProfileView> ApplyProfile(
    const notifications::v1::ProfileView& view, const users::v1::Profile& incoming);
saga::Reaction<notifications::v1::ProfileView> ApplyProfileResponse(
    const notifications::v1::ProfileView& view, const users::v1::ProfileResponse& response,
    absl::Time now);

// Sender.
// The outcome of delivering `request`, sent at `now`.
notifications::v1::NotificationSent SentFor(const notifications::v1::NotificationRequested& request,
                                            const DeliveryResult& result, absl::Time now);
// Stable: the event id of the NotificationSent of one notification.
std::string SentEventIdFor(absl::string_view notification_id);
// The inbox's record of an outcome (InboxStore keeps it, newest first, once per notification).
notifications::v1::NotificationRecord InboxRecordFor(
    const notifications::v1::NotificationSent& sent);

}  // namespace choreo::notification
