// Users, authentication and notifications against the whole system as processes:
// - register -> login -> order -> exactly one NotificationSent carrying the order's correlation
//   id, delivered to a webhook, and still exactly one after the status is delivered again;
// - a notification service started after its user registered learns the profile by asking
//   the user service over Kafka (users.profile -> users.profile.response);
// - over gRPC: no token, a forged token, an alg=none token are refused; one user can never read
//   or change another's orders, balance or profile, whatever metadata they send; sign-up and
//   login rules (the limits per client address: trust_boundary_test).

#include <fstream>
#include <map>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "choreo/gateway/v1/gateway.grpc.pb.h"
#include "choreo/notifications/v1/events.pb.h"
#include "choreo/orders/v1/events.pb.h"
#include "choreo/users/v1/events.pb.h"
#include "choreo/users/v1/user_service.grpc.pb.h"
#include "contracts/topics/topics.h"
#include "credentials/jwt.h"
#include "credentials/signing_keys.h"
#include "edges/kafka/kafka_client.h"
#include "edges/kafka/kafka_producer.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "saga/codec/event_codec.h"
#include "testing/http_client.h"
#include "testing/http_receiver.h"
#include "testing/topic_reader.h"
#include "testing/wait.h"
#include "tests/e2e/system.h"

namespace choreo::e2e {
namespace {

using ::testing::HasSubstr;

class Client {
 public:
  Client(const std::string& gateway, TestUsers* users)
      : users_(users),
        channel_(grpc::CreateChannel(gateway, grpc::InsecureChannelCredentials())),
        orders_(gateway::v1::OrderService::NewStub(channel_)),
        accounts_(gateway::v1::AccountService::NewStub(channel_)) {}

  // A call as `user` (their token), or with `authorization` as given when it is set.
  std::unique_ptr<grpc::ClientContext> As(const std::string& user,
                                          const std::string& authorization = "") {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    if (!authorization.empty()) {
      context->AddMetadata("authorization", authorization);
    } else if (!user.empty()) {
      users_->Authorize(user, *context);
    }
    return context;
  }
  grpc::Status Deposit(const std::string& user, int64_t cents) {
    gateway::v1::DepositRequest request;
    request.set_request_id("deposit-" + user);
    request.mutable_amount()->set_minor_units(cents);
    request.mutable_amount()->set_currency("USD");
    gateway::v1::DepositResponse response;
    return accounts_->Deposit(As(user).get(), request, &response);
  }
  grpc::Status Order(const std::string& user, const std::string& request_id,
                     gateway::v1::Order* order, const std::string& authorization = "") {
    const gateway::v1::CreateOrderRequest request = OrderRequest(request_id);
    return orders_->CreateOrder(As(user, authorization).get(), request, order);
  }
  std::vector<gateway::v1::Notification> Notifications(const std::string& user) {
    gateway::v1::ListNotificationsResponse response;
    grpc::Status status = accounts_->ListNotifications(As(user).get(), {}, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {response.notifications().begin(), response.notifications().end()};
  }
  gateway::v1::OrderService::Stub& orders() { return *orders_; }
  gateway::v1::AccountService::Stub& accounts() { return *accounts_; }

 private:
  TestUsers* users_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<gateway::v1::OrderService::Stub> orders_;
  std::unique_ptr<gateway::v1::AccountService::Stub> accounts_;
};

// The events of `Event` on `topic`, decoded.
template <typename Event>
std::vector<Event> EventsOn(const std::string& kafka, absl::string_view topic) {
  codec::EventCodec codec;
  EXPECT_TRUE(codec.Register<Event>().ok());
  absl::StatusOr<std::vector<KafkaRecord>> records =
      testing::ReadTopicToEnd(kafka, std::string(topic));
  EXPECT_TRUE(records.ok()) << records.status();
  std::vector<Event> events;
  for (const KafkaRecord& record : records.value_or(std::vector<KafkaRecord>{})) {
    absl::StatusOr<codec::DecodedEvent> decoded = codec.Decode(record);
    if (decoded.ok()) events.push_back(static_cast<const Event&>(*decoded->message));
  }
  return events;
}

TEST(UsersAndNotificationsTest, OneWebhookNotificationPerStatusChangeEvenWhenRedelivered) {
  LocalSystem system(Binaries::Built(), {});
  {
    const absl::Status started = system.Start();
    ASSERT_TRUE(started.ok()) << started;
  }
  // Ready, as an operator waits before traffic (the notification service's profile view is
  // ready once it has caught up with users.snapshots).
  ASSERT_TRUE(system.WaitAllReady(absl::Seconds(60)).ok());
  testing::HttpReceiver hook;
  ASSERT_TRUE(hook.Start().ok());
  TestUsers users(system.gateway());
  Client client(system.gateway(), &users);

  ASSERT_TRUE(users.SignUp("wendy", "wendy@example.com").ok());
  gateway::v1::UpdateProfileRequest update;
  update.mutable_profile()->mutable_notification_preferences()->set_webhook_enabled(true);
  update.mutable_profile()->mutable_notification_preferences()->set_webhook_url(hook.url("/hook"));
  update.mutable_update_mask()->add_paths("notification_preferences.webhook_enabled");
  update.mutable_update_mask()->add_paths("notification_preferences.webhook_url");
  users::v1::Profile profile;
  ASSERT_TRUE(client.accounts().UpdateProfile(client.As("wendy").get(), update, &profile).ok());
  EXPECT_EQ(profile.email(), "wendy@example.com") << "fields outside the mask are kept";
  // The notification service learns the webhook from users.snapshots (the registration's
  // snapshot, then the update's), on a group of its own that batches its fetches (up to 250 ms):
  // an order paid sooner is notified by file, its view being eventually consistent. So the order
  // waits until the update is in the view.
  std::string metrics;
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        metrics = testing::HttpCall("GET", system.admin("notification") + "/metrics").body;
        return absl::StrContains(
            metrics,
            R"(choreo_events_consumed_total{outcome="handled",topic="users.snapshots",type="choreo.users.v1.ProfileSnapshot"} 2)");
      },
      absl::Seconds(30)))
      << metrics;
  ASSERT_TRUE(client.Deposit("wendy", 1000).ok());

  gateway::v1::Order order;
  ASSERT_TRUE(client.Order("wendy", "w1", &order).ok());
  ASSERT_EQ(order.status(), orders::v1::ORDER_STATUS_PAID);
  ASSERT_TRUE(hook.WaitForRequests(1, absl::Seconds(30)));
  const testing::HttpReceiver::Request delivered = hook.requests()[0];
  EXPECT_EQ(delivered.path, "/hook");
  EXPECT_EQ(delivered.headers.at("x-correlation-id"), order.correlation_id());
  notifications::v1::NotificationRequested body;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(delivered.body, &body).ok());
  EXPECT_EQ(body.order_id(), order.order_id());
  EXPECT_EQ(body.type(), notifications::v1::NOTIFICATION_TYPE_ORDER_PAID);
  EXPECT_EQ(delivered.headers.at("idempotency-key"), body.notification_id());

  // The status record delivered again, and the same change under a new event id: no new
  // notification. A later status of the same order (same partition, so handled after them)
  // is notified, which shows the duplicates were seen and dropped.
  absl::StatusOr<std::vector<KafkaRecord>> statuses =
      testing::ReadTopicToEnd(system.kafka(), std::string(topics::kOrdersStatus));
  ASSERT_TRUE(statuses.ok());
  codec::EventCodec codec;
  ASSERT_TRUE(codec.Register<orders::v1::OrderStatusUpdated>().ok());
  std::optional<KafkaRecord> paid_record;
  orders::v1::OrderStatusUpdated paid;
  for (const KafkaRecord& record : *statuses) {
    auto decoded = codec.Decode(record);
    ASSERT_TRUE(decoded.ok());
    const auto& status = static_cast<const orders::v1::OrderStatusUpdated&>(*decoded->message);
    if (status.order_id() == order.order_id() && status.status() == orders::v1::ORDER_STATUS_PAID) {
      paid_record = record;
      paid = status;
    }
  }
  ASSERT_TRUE(paid_record.has_value());
  auto producer = kafka::KafkaProducer::Create(kafka::ProducerDefaults(system.kafka()));
  ASSERT_TRUE(producer.ok());
  KafkaRecord again = *paid_record;
  again.partition = -1;
  ASSERT_TRUE((*producer)->ProduceAndWait(again, absl::Seconds(10)).ok());
  orders::v1::OrderStatusUpdated copy = paid;
  copy.mutable_meta()->set_event_id("a-new-id-for-the-same-change");
  ASSERT_TRUE(
      (*producer)->ProduceAndWait(*codec.Encode(copy, topics::kOrdersStatus, order.order_id()),
                                  absl::Seconds(10)).ok());
  orders::v1::OrderStatusUpdated later = paid;
  later.mutable_meta()->set_event_id("a-later-change");
  later.set_previous_status(orders::v1::ORDER_STATUS_PAID);
  later.set_status(orders::v1::ORDER_STATUS_EXPIRED);
  ASSERT_TRUE(
      (*producer)->ProduceAndWait(*codec.Encode(later, topics::kOrdersStatus, order.order_id()),
                                  absl::Seconds(10)).ok());
  ASSERT_TRUE(hook.WaitForRequests(2, absl::Seconds(30)));

  const std::vector<testing::HttpReceiver::Request> requests = hook.requests();
  ASSERT_EQ(requests.size(), 2u);
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(requests[1].body, &body).ok());
  EXPECT_EQ(body.type(), notifications::v1::NOTIFICATION_TYPE_ORDER_EXPIRED);
  // Exactly one NotificationSent per change, with the order's correlation id. A record delivered
  // again re-publishes its reaction's events byte for byte (same event ids, ARCHITECTURE.md
  // section 3), so the count is of distinct events.
  std::map<int, std::set<std::string>> sent_ids;  // by type
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        sent_ids.clear();
        for (const auto& sent : EventsOn<notifications::v1::NotificationSent>(
                 system.kafka(), topics::kNotificationsSent)) {
          EXPECT_TRUE(sent.delivered());
          EXPECT_EQ(sent.channel(), notifications::v1::CHANNEL_WEBHOOK);
          EXPECT_EQ(sent.meta().correlation_id(), order.correlation_id());
          sent_ids[sent.type()].insert(sent.meta().event_id());
        }
        return sent_ids.size() == 2;
      },
      absl::Seconds(30)));
  EXPECT_EQ(sent_ids[notifications::v1::NOTIFICATION_TYPE_ORDER_PAID].size(), 1u);
  EXPECT_EQ(sent_ids[notifications::v1::NOTIFICATION_TYPE_ORDER_EXPIRED].size(), 1u);
  // And the user sees both in their list, newest first (the inbox records each outcome from
  // notifications.sent: a view, which may lag the topic by a moment).
  std::vector<gateway::v1::Notification> listed;
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        listed = client.Notifications("wendy");
        return listed.size() >= 2;
      },
      absl::Seconds(30)));
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].type(), notifications::v1::NOTIFICATION_TYPE_ORDER_EXPIRED);
  EXPECT_EQ(listed[1].correlation_id(), order.correlation_id());
  EXPECT_TRUE(listed[1].delivered());
}

TEST(UsersAndNotificationsTest, ALateNotificationServiceBackfillsItsProfileViewFromTheSnapshots) {
  LocalSystem system(Binaries::Built(), {.deferred = {"notification"}});
  {
    const absl::Status started = system.Start();
    ASSERT_TRUE(started.ok()) << started;
  }
  TestUsers users(system.gateway());
  Client client(system.gateway(), &users);
  testing::HttpReceiver hook;
  ASSERT_TRUE(hook.Start().ok());
  // Registered and changed before the notification service ever ran: its new profile group
  // starts at the beginning of the compacted users.snapshots, so it knows lena's webhook once
  // it is ready, without asking anyone.
  ASSERT_TRUE(users.SignUp("lena").ok());
  gateway::v1::UpdateProfileRequest update;
  update.mutable_profile()->mutable_notification_preferences()->set_webhook_enabled(true);
  update.mutable_profile()->mutable_notification_preferences()->set_webhook_url(hook.url("/lena"));
  update.mutable_update_mask()->add_paths("notification_preferences");
  users::v1::Profile profile;
  ASSERT_TRUE(client.accounts().UpdateProfile(client.As("lena").get(), update, &profile).ok());
  ASSERT_TRUE(client.Deposit("lena", 1000).ok());
  ASSERT_TRUE(system.StartService("notification").ok());
  ASSERT_TRUE(system.WaitAllReady(absl::Seconds(60)).ok());
  gateway::v1::Order order;
  ASSERT_TRUE(client.Order("lena", "l1", &order).ok());
  ASSERT_EQ(order.status(), orders::v1::ORDER_STATUS_PAID);

  ASSERT_TRUE(hook.WaitForRequests(1, absl::Seconds(30)));
  EXPECT_EQ(hook.requests()[0].path, "/lena") << "the webhook set before the service started";
  std::vector<gateway::v1::Notification> listed;
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        listed = client.Notifications("lena");
        return !listed.empty() && listed[0].delivered();
      },
      absl::Seconds(30)));
  EXPECT_EQ(listed[0].order_id(), order.order_id());
  EXPECT_EQ(listed[0].channel(), notifications::v1::CHANNEL_WEBHOOK);
  // Nobody had to ask the user service.
  EXPECT_TRUE(EventsOn<users::v1::ProfileRequested>(system.kafka(), topics::kUsersProfile).empty());
}

TEST(UsersAndNotificationsTest, TokensAreRequiredAndUsersStayInTheirOwnLane) {
  LocalSystem system(Binaries::Built(), {});
  {
    const absl::Status started = system.Start();
    ASSERT_TRUE(started.ok()) << started;
  }
  TestUsers users(system.gateway());
  Client client(system.gateway(), &users);
  for (const char* user : {"ann", "bob"}) {
    const grpc::Status signed_up = users.SignUp(user);
    ASSERT_TRUE(signed_up.ok()) << user << ": " << signed_up.error_code() << " "
                                << signed_up.error_message();
  }
  ASSERT_TRUE(client.Deposit("ann", 1000).ok());
  gateway::v1::Order anns;
  ASSERT_TRUE(client.Order("ann", "a1", &anns).ok());

  // Without a token, or with a forged one, every order and account call is UNAUTHENTICATED.
  credentials::SigningKey other_key = credentials::SigningKey::Generate();
  const std::string forged =
      credentials::TokenIssuer(other_key, "choreo-users", absl::Hours(1)).Issue("ann", {"user"}, absl::Now()).token;
  const std::string claims = absl::WebSafeBase64Escape(
      absl::StrCat(R"({"iss":"choreo-users","sub":"ann","exp":)",
                   absl::ToUnixSeconds(absl::Now()) + 3600, "}"));
  const std::string alg_none =
      absl::WebSafeBase64Escape(R"({"alg":"none","typ":"JWT"})") + "." + claims + ".";
  const std::string real = users.Token("ann");
  const std::string tampered =
      real.substr(0, real.find('.') + 1) + claims + real.substr(real.rfind('.'));
  const std::vector<std::string> refused = {"Bearer", "Bearer " + forged, "Bearer " + alg_none,
                                            "Bearer " + tampered, "Basic YW5uOnB3", "garbage"};
  for (const std::string& authorization : refused) {
    gateway::v1::Order order;
    EXPECT_EQ(client.Order("", "x1", &order, authorization).error_code(),
              grpc::StatusCode::UNAUTHENTICATED)
        << authorization;
    gateway::v1::Balance balance;
    EXPECT_EQ(client.accounts().GetBalance(client.As("", authorization).get(), {}, &balance)
                  .error_code(),
              grpc::StatusCode::UNAUTHENTICATED)
        << authorization;
  }
  auto anonymous = [&] { return client.As(""); };
  gateway::v1::Order order;
  gateway::v1::GetOrderRequest get;
  get.set_order_id(anns.order_id());
  gateway::v1::ListOrdersResponse list;
  users::v1::Profile profile;
  gateway::v1::ListNotificationsResponse notes;
  gateway::v1::DepositResponse deposited;
  for (const grpc::Status& status :
       {client.orders().GetOrder(anonymous().get(), get, &order),
        client.orders().ListOrders(anonymous().get(), {}, &list),
        client.accounts().GetProfile(anonymous().get(), {}, &profile),
        client.accounts().UpdateProfile(anonymous().get(), {}, &profile),
        client.accounts().ListNotifications(anonymous().get(), {}, &notes),
        client.accounts().Deposit(anonymous().get(), {}, &deposited)}) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << status.error_message();
  }

  // Bob cannot see Ann's order (NOT_FOUND, as if it did not exist), nor become Ann by sending
  // x-username: the gateway takes identity from the token alone.
  EXPECT_EQ(client.orders().GetOrder(client.As("bob").get(), get, &order).error_code(),
            grpc::StatusCode::NOT_FOUND);
  auto spoof = client.As("bob");
  spoof->AddMetadata("x-username", "ann");
  spoof->AddMetadata("x-roles", "admin");
  gateway::v1::Balance balance;
  ASSERT_TRUE(client.accounts().GetBalance(spoof.get(), {}, &balance).ok());
  EXPECT_EQ(balance.username(), "bob");
  ASSERT_TRUE(client.accounts().GetProfile(client.As("bob").get(), {}, &profile).ok());
  EXPECT_EQ(profile.username(), "bob");
  gateway::v1::UpdateProfileRequest as_ann;
  as_ann.mutable_profile()->set_username("ann");
  as_ann.mutable_profile()->set_display_name("Not Ann");
  as_ann.mutable_update_mask()->add_paths("display_name");
  EXPECT_EQ(client.accounts().UpdateProfile(client.As("bob").get(), as_ann, &profile).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(client.accounts().GetProfile(client.As("ann").get(), {}, &profile).ok());
  EXPECT_EQ(profile.display_name(), "");
  EXPECT_TRUE(client.Notifications("bob").empty());
  // The user service itself refuses profile calls that carry no gateway-verified caller
  // (trust_boundary_test.cc has the rest).
  auto user_service = users::v1::UserService::NewStub(system.ChannelTo("users"));
  users::v1::GetProfileRequest direct;
  direct.set_username("ann");
  grpc::ClientContext no_caller;
  EXPECT_EQ(user_service->GetProfile(&no_caller, direct, &profile).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  // Sign-up and login rules.
  gateway::v1::RegisterRequest again;
  again.set_username("ann");
  again.set_password("another long passphrase");
  grpc::ClientContext c1;
  EXPECT_EQ(client.accounts().Register(&c1, again, &profile).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
  again.set_username("carl");
  again.set_password("short");
  grpc::ClientContext c2;
  grpc::Status weak = client.accounts().Register(&c2, again, &profile);
  EXPECT_EQ(weak.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(weak.error_message(), HasSubstr("password"));
  gateway::v1::LoginRequest login;
  login.set_username("bob");
  login.set_password("not bob's password");
  grpc::ClientContext c3;
  gateway::v1::LoginResponse token;
  EXPECT_EQ(client.accounts().Login(&c3, login, &token).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  login.set_username("nobody");
  grpc::ClientContext c4;
  EXPECT_EQ(client.accounts().Login(&c4, login, &token).error_code(),
            grpc::StatusCode::UNAUTHENTICATED)
      << "an unknown user gets the wrong-password answer";
}

}  // namespace
}  // namespace choreo::e2e
