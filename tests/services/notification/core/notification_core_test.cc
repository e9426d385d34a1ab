#include "gtest/gtest.h"
#include "saga/proto_time/proto_time.h"
#include "saga/topics/topics.h"
#include "services/notification/core/notification_decisions.h"

namespace choreo::notification {
namespace {

using notifications::v1::NotificationRequested;
using orders::v1::OrderStatus;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

orders::v1::OrderStatusUpdated Status(OrderStatus status) {
  orders::v1::OrderStatusUpdated event;
  event.set_order_id("ord-1");
  event.set_username("bob");
  event.set_status(status);
  event.mutable_total()->set_minor_units(1234);
  event.mutable_total()->set_currency("USD");
  event.set_reason("unknown SKU NOPE-1");
  return event;
}

users::v1::Profile FileUser() {
  users::v1::Profile profile;
  profile.set_username("bob");
  profile.mutable_notification_preferences()->set_file_enabled(true);
  return profile;
}

const NotificationRequested& Requested(const saga::Reaction<notifications::v1::NotifiedOrder>& r) {
  return static_cast<const NotificationRequested&>(*r.events.at(0).event);
}

TEST(NotificationTypes, OnlyTerminalStatusesAreNotified) {
  EXPECT_EQ(NotificationTypeFor(orders::v1::ORDER_STATUS_PAID),
            notifications::v1::NOTIFICATION_TYPE_ORDER_PAID);
  EXPECT_EQ(NotificationTypeFor(orders::v1::ORDER_STATUS_INSUFFICIENT_FUNDS),
            notifications::v1::NOTIFICATION_TYPE_INSUFFICIENT_FUNDS);
  EXPECT_EQ(NotificationTypeFor(orders::v1::ORDER_STATUS_REJECTED),
            notifications::v1::NOTIFICATION_TYPE_ORDER_REJECTED);
  EXPECT_EQ(NotificationTypeFor(orders::v1::ORDER_STATUS_EXPIRED),
            notifications::v1::NOTIFICATION_TYPE_ORDER_EXPIRED);
  EXPECT_FALSE(NotificationTypeFor(orders::v1::ORDER_STATUS_PENDING_VALIDATION).has_value());
  EXPECT_FALSE(NotificationTypeFor(orders::v1::ORDER_STATUS_UNSPECIFIED).has_value());
}

TEST(DecideNotification, OnePerStatusChangeWithAStableId) {
  const auto first = DecideNotification({}, Status(orders::v1::ORDER_STATUS_PAID), FileUser(), kNow);
  ASSERT_EQ(first.events.size(), 1u);
  EXPECT_EQ(first.events[0].topic, topics::kNotificationsRequested);
  EXPECT_EQ(first.events[0].key, "bob");
  const NotificationRequested& request = Requested(first);
  EXPECT_EQ(request.notification_id(), NotificationIdFor("ord-1", orders::v1::ORDER_STATUS_PAID));
  EXPECT_EQ(request.channel(), notifications::v1::CHANNEL_FILE);
  EXPECT_EQ(request.subject(), "Order ord-1 is paid");
  EXPECT_NE(request.body().find("12.34 USD"), std::string::npos) << request.body();
  EXPECT_EQ(FromProtoTime(request.requested_at()), kNow);

  // The same change again (another event carrying it): nothing more.
  const auto again =
      DecideNotification(*first.state, Status(orders::v1::ORDER_STATUS_PAID), FileUser(), kNow);
  EXPECT_TRUE(again.events.empty());
  EXPECT_FALSE(again.state.has_value());
  // A later, different status of the same order is its own change.
  const auto expired =
      DecideNotification(*first.state, Status(orders::v1::ORDER_STATUS_EXPIRED), FileUser(), kNow);
  ASSERT_EQ(expired.events.size(), 1u);
  EXPECT_NE(Requested(expired).notification_id(), request.notification_id());
}

TEST(DecideNotification, NonTerminalStatusesChangeNothing) {
  const auto pending = DecideNotification(
      {}, Status(orders::v1::ORDER_STATUS_PENDING_VALIDATION), FileUser(), kNow);
  EXPECT_TRUE(pending.events.empty());
  EXPECT_FALSE(pending.state.has_value());
}

TEST(DecideNotification, WebhookWinsOverFileAndMutedOrSilentUsersGetNone) {
  users::v1::Profile profile = FileUser();
  profile.mutable_notification_preferences()->set_webhook_enabled(true);
  profile.mutable_notification_preferences()->set_webhook_url("http://127.0.0.1:9/hook");
  const auto webhook =
      DecideNotification({}, Status(orders::v1::ORDER_STATUS_REJECTED), profile, kNow);
  EXPECT_EQ(Requested(webhook).channel(), notifications::v1::CHANNEL_WEBHOOK);
  EXPECT_EQ(Requested(webhook).destination(), "http://127.0.0.1:9/hook");
  EXPECT_NE(Requested(webhook).body().find("unknown SKU NOPE-1"), std::string::npos);

  profile.mutable_notification_preferences()->add_muted_types("ORDER_REJECTED");
  const auto muted = DecideNotification({}, Status(orders::v1::ORDER_STATUS_REJECTED), profile, kNow);
  EXPECT_TRUE(muted.events.empty());
  ASSERT_TRUE(muted.state.has_value()) << "the change is done even when muted";
  EXPECT_EQ(muted.state->notified_size(), 1);

  users::v1::Profile silent;
  silent.set_username("bob");
  EXPECT_TRUE(
      DecideNotification({}, Status(orders::v1::ORDER_STATUS_PAID), silent, kNow).events.empty());
}

TEST(ProfileView, NewestProfileWinsAndNotFoundIsRemembered) {
  users::v1::Profile older = FileUser();
  *older.mutable_updated_at() = ToProtoTime(kNow);
  users::v1::Profile newer = older;
  newer.set_display_name("Bobby");
  *newer.mutable_updated_at() = ToProtoTime(kNow + absl::Seconds(1));

  auto view = ApplyProfile({}, older);
  ASSERT_TRUE(view.state.has_value());
  EXPECT_TRUE(view.state->known());
  auto updated = ApplyProfile(*view.state, newer);
  ASSERT_TRUE(updated.state.has_value());
  EXPECT_EQ(updated.state->profile().display_name(), "Bobby");
  EXPECT_FALSE(ApplyProfile(*updated.state, older).state.has_value()) << "stale copy ignored";

  users::v1::ProfileResponse response;
  response.set_username("bob");
  response.set_found(false);
  auto unknown = ApplyProfileResponse({}, response, kNow);
  ASSERT_TRUE(unknown.state.has_value());
  EXPECT_FALSE(unknown.state->known());
  EXPECT_EQ(FromProtoTime(unknown.state->not_found_at()), kNow);
  EXPECT_FALSE(ApplyProfileResponse(*updated.state, response, kNow).state.has_value());
  response.set_found(true);
  *response.mutable_profile() = newer;
  EXPECT_TRUE(ApplyProfileResponse(*unknown.state, response, kNow).state->known());
}

TEST(RecordDelivery, NewestFirstCappedAndEmitsNotificationSent) {
  NotificationRequested sent;
  sent.set_notification_id("n1");
  sent.set_username("bob");
  sent.set_order_id("ord-1");
  sent.set_channel(notifications::v1::CHANNEL_WEBHOOK);
  sent.mutable_meta()->set_correlation_id("corr-1");
  auto first = RecordDelivery({}, sent, {.delivered = false, .attempts = 3,
                                         .failure_reason = "HTTP 503"}, kNow, 2);
  ASSERT_EQ(first.events.size(), 1u);
  EXPECT_EQ(first.events[0].topic, topics::kNotificationsSent);
  const auto& event = static_cast<const notifications::v1::NotificationSent&>(*first.events[0].event);
  EXPECT_FALSE(event.delivered());
  EXPECT_EQ(event.attempts(), 3);
  EXPECT_EQ(event.failure_reason(), "HTTP 503");
  EXPECT_EQ(first.state->records(0).correlation_id(), "corr-1");
  EXPECT_TRUE(AlreadyRecorded(*first.state, "n1"));
  EXPECT_FALSE(AlreadyRecorded(*first.state, "n2"));

  notifications::v1::Inbox inbox = *first.state;
  for (const char* id : {"n2", "n3"}) {
    sent.set_notification_id(id);
    inbox = *RecordDelivery(inbox, sent, {.delivered = true, .attempts = 1}, kNow, 2).state;
  }
  ASSERT_EQ(inbox.records_size(), 2);
  EXPECT_EQ(inbox.records(0).notification_id(), "n3");
  EXPECT_EQ(inbox.records(1).notification_id(), "n2");
}

}  // namespace
}  // namespace choreo::notification
