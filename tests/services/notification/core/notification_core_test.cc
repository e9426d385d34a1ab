#include "gtest/gtest.h"
#include "platform/proto_time/proto_time.h"
#include "contracts/topics/topics.h"
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

TEST(NotificationTypes, OnlyTerminalStatusesAreNotified) {
  EXPECT_EQ(NotificationTypeFor(orders::v1::ORDER_STATUS_PAID),
            notifications::v1::NOTIFICATION_TYPE_ORDER_PAID);
  EXPECT_EQ(NotificationTypeFor(orders::v1::ORDER_STATUS_INSUFFICIENT_FUNDS),
            notifications::v1::NOTIFICATION_TYPE_INSUFFICIENT_FUNDS);
  EXPECT_EQ(NotificationTypeFor(orders::v1::ORDER_STATUS_REJECTED),
            notifications::v1::NOTIFICATION_TYPE_ORDER_REJECTED);
  EXPECT_EQ(NotificationTypeFor(orders::v1::ORDER_STATUS_EXPIRED),
            notifications::v1::NOTIFICATION_TYPE_ORDER_EXPIRED);
  EXPECT_EQ(NotificationTypeFor(orders::v1::ORDER_STATUS_CANCELLED),
            notifications::v1::NOTIFICATION_TYPE_ORDER_CANCELLED);
  EXPECT_EQ(NotificationTypeFor(orders::v1::ORDER_STATUS_REFUNDED),
            notifications::v1::NOTIFICATION_TYPE_ORDER_REFUNDED);
  EXPECT_FALSE(NotificationTypeFor(orders::v1::ORDER_STATUS_PENDING_VALIDATION).has_value());
  EXPECT_FALSE(NotificationTypeFor(orders::v1::ORDER_STATUS_REFUND_PENDING).has_value());
  EXPECT_FALSE(NotificationTypeFor(orders::v1::ORDER_STATUS_UNSPECIFIED).has_value());
}

TEST(NotificationFor, ACancelledAndARefundedOrderSayWhatHappenedToTheMoney) {
  const std::optional<NotificationRequested> cancelled =
      NotificationFor(Status(orders::v1::ORDER_STATUS_CANCELLED), FileUser(), kNow);
  ASSERT_TRUE(cancelled.has_value());
  EXPECT_EQ(cancelled->subject(), "Order ord-1 is cancelled");
  const std::optional<NotificationRequested> refunded =
      NotificationFor(Status(orders::v1::ORDER_STATUS_REFUNDED), FileUser(), kNow);
  ASSERT_TRUE(refunded.has_value());
  EXPECT_EQ(refunded->subject(), "Order ord-1 is refunded");
  EXPECT_NE(refunded->body().find("12.34 USD is back in your balance"), std::string::npos)
      << refunded->body();
  EXPECT_NE(refunded->notification_id(), cancelled->notification_id());
}

TEST(NotificationFor, AStableIdPerStatusChangeOnTheFileChannel) {
  const std::optional<NotificationRequested> request =
      NotificationFor(Status(orders::v1::ORDER_STATUS_PAID), FileUser(), kNow);
  ASSERT_TRUE(request.has_value());
  EXPECT_EQ(request->notification_id(), NotificationIdFor("ord-1", orders::v1::ORDER_STATUS_PAID));
  EXPECT_EQ(request->username(), "bob");
  EXPECT_EQ(request->channel(), notifications::v1::CHANNEL_FILE);
  EXPECT_EQ(request->subject(), "Order ord-1 is paid");
  EXPECT_NE(request->body().find("12.34 USD"), std::string::npos) << request->body();
  EXPECT_EQ(FromProtoTime(request->requested_at()), kNow);
  EXPECT_NE(NotificationFor(Status(orders::v1::ORDER_STATUS_EXPIRED), FileUser(), kNow)
                ->notification_id(),
            request->notification_id());
  EXPECT_FALSE(
      NotificationFor(Status(orders::v1::ORDER_STATUS_PENDING_VALIDATION), FileUser(), kNow));
}

TEST(NotificationFor, WebhookWinsOverFileAndMutedOrSilentUsersGetNone) {
  users::v1::Profile profile = FileUser();
  profile.mutable_notification_preferences()->set_webhook_enabled(true);
  profile.mutable_notification_preferences()->set_webhook_url("http://127.0.0.1:9/hook");
  const auto webhook = NotificationFor(Status(orders::v1::ORDER_STATUS_REJECTED), profile, kNow);
  ASSERT_TRUE(webhook.has_value());
  EXPECT_EQ(webhook->channel(), notifications::v1::CHANNEL_WEBHOOK);
  EXPECT_EQ(webhook->destination(), "http://127.0.0.1:9/hook");
  EXPECT_NE(webhook->body().find("unknown SKU NOPE-1"), std::string::npos);

  profile.mutable_notification_preferences()->add_muted_types("ORDER_REJECTED");
  EXPECT_FALSE(NotificationFor(Status(orders::v1::ORDER_STATUS_REJECTED), profile, kNow));

  users::v1::Profile silent;
  silent.set_username("bob");
  EXPECT_FALSE(NotificationFor(Status(orders::v1::ORDER_STATUS_PAID), silent, kNow));
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

NotificationRequested Request(const std::string& id) {
  NotificationRequested request;
  request.set_notification_id(id);
  request.set_username("bob");
  request.set_order_id("ord-1");
  request.set_channel(notifications::v1::CHANNEL_WEBHOOK);
  request.set_subject("Subject " + id);
  request.set_body("Body " + id);
  *request.mutable_requested_at() = ToProtoTime(kNow - absl::Seconds(1));
  request.mutable_meta()->set_correlation_id("corr-1");
  return request;
}

notifications::v1::NotificationSent Sent(const NotificationRequested& request,
                                         const DeliveryResult& result) {
  notifications::v1::NotificationSent sent = SentFor(request, result, kNow);
  *sent.mutable_meta() = request.meta();  // the same saga
  return sent;
}

TEST(Sender, AnOutcomeCarriesItsRequestIntoTheInboxRecord) {
  const notifications::v1::NotificationSent sent =
      Sent(Request("n1"), {.delivered = false, .attempts = 3, .failure_reason = "HTTP 503"});
  EXPECT_EQ(sent.notification_id(), "n1");
  EXPECT_EQ(sent.channel(), notifications::v1::CHANNEL_WEBHOOK);
  EXPECT_FALSE(sent.delivered());
  EXPECT_EQ(sent.attempts(), 3);
  EXPECT_EQ(sent.failure_reason(), "HTTP 503");
  EXPECT_EQ(sent.subject(), "Subject n1");
  EXPECT_EQ(FromProtoTime(sent.sent_at()), kNow);
  EXPECT_EQ(SentEventIdFor("n1"), SentEventIdFor("n1"));
  EXPECT_NE(SentEventIdFor("n1"), SentEventIdFor("n2"));

  const notifications::v1::NotificationRecord record = InboxRecordFor(sent);
  EXPECT_EQ(record.notification_id(), "n1");
  EXPECT_EQ(record.subject(), "Subject n1");
  EXPECT_EQ(record.body(), "Body n1");
  EXPECT_EQ(FromProtoTime(record.requested_at()), kNow - absl::Seconds(1));
  EXPECT_EQ(FromProtoTime(record.sent_at()), kNow);
  EXPECT_EQ(record.correlation_id(), "corr-1");
  EXPECT_EQ(record.failure_reason(), "HTTP 503");
  EXPECT_EQ(record.attempts(), 3);
  EXPECT_FALSE(record.delivered());
}

}  // namespace
}  // namespace choreo::notification
