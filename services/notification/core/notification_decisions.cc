#include "services/notification/core/notification_decisions.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "platform/ids/stable_id.h"
#include "platform/proto_time/proto_time.h"
#include "contracts/topics/topics.h"

namespace choreo::notification {
namespace {

using notifications::v1::NotificationType;
using orders::v1::OrderStatus;

std::string MoneyText(const common::v1::Money& money) {
  const int64_t units = money.minor_units();
  return absl::StrFormat("%s%d.%02d %s", units < 0 ? "-" : "", std::abs(units) / 100,
                         std::abs(units) % 100, money.currency());
}

void Describe(const orders::v1::OrderStatusUpdated& status, NotificationType type,
              notifications::v1::NotificationRequested& out) {
  const std::string& id = status.order_id();
  switch (type) {
    case notifications::v1::NOTIFICATION_TYPE_ORDER_PAID:
      out.set_subject(absl::StrCat("Order ", id, " is paid"));
      out.set_body(absl::StrCat("We received your payment",
                                status.has_total() ? " of " + MoneyText(status.total()) : "",
                                " for order ", id, ". Thank you!"));
      break;
    case notifications::v1::NOTIFICATION_TYPE_INSUFFICIENT_FUNDS:
      out.set_subject(absl::StrCat("Order ", id, " could not be paid"));
      out.set_body(absl::StrCat("Your balance did not cover order ", id,
                                status.has_total() ? " (" + MoneyText(status.total()) + ")" : "",
                                ". Deposit funds and order again."));
      break;
    case notifications::v1::NOTIFICATION_TYPE_ORDER_REJECTED:
      out.set_subject(absl::StrCat("Order ", id, " was rejected"));
      out.set_body(absl::StrCat("Order ", id, " was rejected: ", status.reason()));
      break;
    case notifications::v1::NOTIFICATION_TYPE_ORDER_EXPIRED:
      out.set_subject(absl::StrCat("Order ", id, " expired"));
      out.set_body(absl::StrCat("Order ", id, " expired before it was paid."));
      break;
    case notifications::v1::NOTIFICATION_TYPE_ORDER_CANCELLED:
      out.set_subject(absl::StrCat("Order ", id, " is cancelled"));
      out.set_body(absl::StrCat("Order ", id, " is cancelled, as you asked. Nothing was charged",
                                " (a payment still on its way is credited back)."));
      break;
    case notifications::v1::NOTIFICATION_TYPE_ORDER_REFUNDED:
      out.set_subject(absl::StrCat("Order ", id, " is refunded"));
      out.set_body(absl::StrCat("Order ", id, " is cancelled and ",
                                status.has_total() ? MoneyText(status.total()) : "its total",
                                " is back in your balance."));
      break;
    default:
      break;
  }
}

bool Newer(const users::v1::Profile& incoming, const users::v1::Profile& current) {
  return FromProtoTime(incoming.updated_at()) >= FromProtoTime(current.updated_at());
}

}  // namespace

std::optional<NotificationType> NotificationTypeFor(OrderStatus status) {
  switch (status) {
    case orders::v1::ORDER_STATUS_PAID:
      return notifications::v1::NOTIFICATION_TYPE_ORDER_PAID;
    case orders::v1::ORDER_STATUS_INSUFFICIENT_FUNDS:
      return notifications::v1::NOTIFICATION_TYPE_INSUFFICIENT_FUNDS;
    case orders::v1::ORDER_STATUS_REJECTED:
      return notifications::v1::NOTIFICATION_TYPE_ORDER_REJECTED;
    case orders::v1::ORDER_STATUS_EXPIRED:
      return notifications::v1::NOTIFICATION_TYPE_ORDER_EXPIRED;
    case orders::v1::ORDER_STATUS_CANCELLED:
      return notifications::v1::NOTIFICATION_TYPE_ORDER_CANCELLED;
    case orders::v1::ORDER_STATUS_REFUNDED:
      return notifications::v1::NOTIFICATION_TYPE_ORDER_REFUNDED;
    default:
      return std::nullopt;
  }
}

std::string NotificationIdFor(absl::string_view order_id, OrderStatus status) {
  return ids::StableId("notification", {order_id, orders::v1::OrderStatus_Name(status)});
}

std::optional<notifications::v1::NotificationRequested> NotificationFor(
    const orders::v1::OrderStatusUpdated& status, const users::v1::Profile& recipient,
    absl::Time now) {
  const std::optional<NotificationType> type = NotificationTypeFor(status.status());
  if (!type) return std::nullopt;
  const users::v1::NotificationPreferences& preferences = recipient.notification_preferences();
  for (const std::string& muted : preferences.muted_types()) {
    if (muted == notifications::v1::NotificationType_Name(*type) ||
        absl::StrCat("NOTIFICATION_TYPE_", muted) == notifications::v1::NotificationType_Name(*type)) {
      return std::nullopt;
    }
  }
  notifications::v1::NotificationRequested request;
  if (preferences.webhook_enabled() && !preferences.webhook_url().empty()) {
    request.set_channel(notifications::v1::CHANNEL_WEBHOOK);
    request.set_destination(preferences.webhook_url());
  } else if (preferences.file_enabled()) {
    request.set_channel(notifications::v1::CHANNEL_FILE);
  } else {
    return std::nullopt;
  }
  request.set_notification_id(NotificationIdFor(status.order_id(), status.status()));
  request.set_username(status.username());
  request.set_order_id(status.order_id());
  request.set_type(*type);
  Describe(status, *type, request);
  *request.mutable_requested_at() = ToProtoTime(now);
  return request;
}

saga::Reaction<notifications::v1::ProfileView> ApplyProfile(
    const notifications::v1::ProfileView& view, const users::v1::Profile& incoming) {
  saga::Reaction<notifications::v1::ProfileView> reaction;
  if (view.known() && !Newer(incoming, view.profile())) return reaction;  // a stale copy
  reaction.state.emplace();
  *reaction.state->mutable_profile() = incoming;
  reaction.state->set_known(true);
  return reaction;
}

saga::Reaction<notifications::v1::ProfileView> ApplyProfileResponse(
    const notifications::v1::ProfileView& view, const users::v1::ProfileResponse& response,
    absl::Time now) {
  if (response.found()) return ApplyProfile(view, response.profile());
  saga::Reaction<notifications::v1::ProfileView> reaction;
  if (view.known()) return reaction;  // registered since the answer was sent
  reaction.state = view;
  *reaction.state->mutable_not_found_at() = ToProtoTime(now);
  return reaction;
}

notifications::v1::NotificationSent SentFor(const notifications::v1::NotificationRequested& request,
                                            const DeliveryResult& result, absl::Time now) {
  notifications::v1::NotificationSent sent;
  sent.set_notification_id(request.notification_id());
  sent.set_username(request.username());
  sent.set_order_id(request.order_id());
  sent.set_type(request.type());
  sent.set_channel(request.channel());
  sent.set_delivered(result.delivered);
  sent.set_attempts(result.attempts);
  sent.set_failure_reason(result.failure_reason);
  *sent.mutable_sent_at() = ToProtoTime(now);
  sent.set_subject(request.subject());
  sent.set_body(request.body());
  *sent.mutable_requested_at() = request.requested_at();
  return sent;
}

std::string SentEventIdFor(absl::string_view notification_id) {
  return ids::StableId("notification-sent", {notification_id});
}

notifications::v1::NotificationRecord InboxRecordFor(
    const notifications::v1::NotificationSent& sent) {
  notifications::v1::NotificationRecord record;
  record.set_notification_id(sent.notification_id());
  record.set_order_id(sent.order_id());
  record.set_type(sent.type());
  record.set_channel(sent.channel());
  record.set_subject(sent.subject());
  record.set_body(sent.body());
  *record.mutable_requested_at() = sent.requested_at();
  record.set_delivered(sent.delivered());
  record.set_attempts(sent.attempts());
  record.set_failure_reason(sent.failure_reason());
  *record.mutable_sent_at() = sent.sent_at();
  record.set_correlation_id(sent.meta().correlation_id());
  return record;
}

}  // namespace choreo::notification
