// Views from the log, against the whole system as processes on Apache Kafka: the views' Redis keys
// are wiped and choreo-views rebuilds them from the compacted snapshot topics and the saga topics
// while the API keeps answering and new orders keep coming; the rebuilt views equal the ones
// before.

#include <atomic>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "choreo/gateway/v1/gateway.grpc.pb.h"
#include "edges/redis/redis_connection.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "testing/wait.h"
#include "tests/e2e/retrying_call.h"
#include "tests/e2e/system.h"

namespace choreo::e2e {
namespace {

using gateway::v1::Order;
using ::testing::HasSubstr;

// The gateway's API as the test's users see it.
class Client {
 public:
  Client(const std::string& gateway, TestUsers& users)
      : users_(users),
        channel_(grpc::CreateChannel(gateway, grpc::InsecureChannelCredentials())),
        orders_(gateway::v1::OrderService::NewStub(channel_)),
        timeline_(gateway::v1::TimelineService::NewStub(channel_)) {}

  grpc::Status Create(const std::string& user, const std::string& request_id, Order* order,
                      const std::string& sku = "PEN-004") {
    const gateway::v1::CreateOrderRequest request = OrderRequest(request_id, sku);
    return CallRetrying(users_, user, [&](grpc::ClientContext& context) {
      return orders_->CreateOrder(&context, request, order);
    });
  }
  grpc::Status Cancel(const std::string& user, const std::string& order_id, Order* order) {
    gateway::v1::CancelOrderRequest request;
    request.set_order_id(order_id);
    request.set_request_id("cancel-" + order_id);
    return CallRetrying(users_, user, [&](grpc::ClientContext& context) {
      return orders_->CancelOrder(&context, request, order);
    });
  }
  // One attempt, as a client reading its order would.
  grpc::Status Get(const std::string& user, const std::string& order_id, Order* order) {
    gateway::v1::GetOrderRequest request;
    request.set_order_id(order_id);
    grpc::ClientContext context;
    users_.Authorize(user, context);
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    return orders_->GetOrder(&context, request, order);
  }
  // Every order of the user's ListOrders, by order id.
  std::map<std::string, Order> List(const std::string& user) {
    gateway::v1::ListOrdersRequest request;
    request.set_page_size(100);
    gateway::v1::ListOrdersResponse page;
    const grpc::Status status = CallRetrying(users_, user, [&](grpc::ClientContext& context) {
      return orders_->ListOrders(&context, request, &page);
    });
    EXPECT_TRUE(status.ok()) << status.error_message();
    std::map<std::string, Order> listed;
    for (const Order& order : page.orders()) listed[order.order_id()] = order;
    return listed;
  }
  // The order's saga timeline: its audit trail.
  std::optional<gateway::v1::SagaTimeline> Audit(const std::string& user,
                                                 const std::string& order_id) {
    gateway::v1::GetOrderTimelineRequest request;
    request.set_order_id(order_id);
    gateway::v1::SagaTimeline saga;
    grpc::ClientContext context;
    users_.Authorize(user, context);
    if (!timeline_->GetOrderTimeline(&context, request, &saga).ok()) return std::nullopt;
    return saga;
  }
  // The event ids of the order's saga timeline, and its status; nullopt while it is unknown.
  std::optional<std::pair<std::set<std::string>, int>> Timeline(const std::string& user,
                                                                const std::string& order_id) {
    std::optional<gateway::v1::SagaTimeline> saga = Audit(user, order_id);
    if (!saga.has_value()) return std::nullopt;
    std::set<std::string> hops;
    for (const gateway::v1::SagaHop& hop : saga->hops()) {
      hops.insert(
          absl::StrCat(hop.topic(), "/", hop.partition(), "/", hop.offset(), " ", hop.event_id()));
    }
    return std::make_pair(hops, static_cast<int>(saga->status()));
  }

 private:
  TestUsers& users_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<gateway::v1::OrderService::Stub> orders_;
  std::unique_ptr<gateway::v1::TimelineService::Stub> timeline_;
};

// Deletes every key matching one of `patterns` (as the test's admin login); how many.
int64_t Wipe(redis::RedisConnection& redis, const std::vector<std::string>& patterns) {
  int64_t deleted = 0;
  for (const std::string& pattern : patterns) {
    absl::StatusOr<redis::RedisReply> keys = redis.Command({"KEYS", pattern});
    EXPECT_TRUE(keys.ok()) << keys.status();
    if (!keys.ok()) continue;
    for (const redis::RedisReply& key : keys->elements) {
      absl::StatusOr<redis::RedisReply> gone = redis.Command({"DEL", key.str});
      deleted += gone.ok() ? gone->integer : 0;
    }
  }
  return deleted;
}

std::string ProfileViewOf(redis::RedisConnection& redis, const std::string& user) {
  absl::StatusOr<redis::RedisReply> view =
      redis.Command({"HGET", absl::StrCat("state:{notification.profile:", user, "}"), "s"});
  return view.ok() ? view->str : "";
}

TEST(ViewsFromTheLogTest, WipedViewsAreRebuiltFromTheLogWhileTheApiAnswers) {
  LocalSystem system(Binaries::Built(), {});
  {
    const absl::Status started = system.Start();
    ASSERT_TRUE(started.ok()) << started;
  }
  ASSERT_TRUE(system.WaitAllReady(absl::Seconds(60)).ok());
  TestUsers users(system.gateway());
  Client client(system.gateway(), users);
  ASSERT_TRUE(users.SignUpFunded("vera", 100000).ok());
  ASSERT_TRUE(users.SignUpFunded("walt", 500).ok());
  // xena places no order while the views are rebuilt: nothing but the rebuild brings her profile
  // back into the notification service's view (an order would have it asked for).
  ASSERT_TRUE(users.SignUp("xena").ok());
  // Orders in every resting status: PAID, REJECTED, INSUFFICIENT_FUNDS, REFUNDED.
  std::map<std::string, std::string> owner;  // order id -> user
  for (int i = 0; i < 8; ++i) {
    Order order;
    ASSERT_TRUE(client.Create("vera", absl::StrCat("v", i), &order).ok());
    ASSERT_EQ(order.status(), orders::v1::ORDER_STATUS_PAID);
    owner[order.order_id()] = "vera";
  }
  Order order;
  ASSERT_TRUE(client.Create("vera", "v-bad", &order, "NOPE-1").ok());
  ASSERT_EQ(order.status(), orders::v1::ORDER_STATUS_REJECTED);
  owner[order.order_id()] = "vera";
  const std::string cancelled = owner.begin()->first;  // one of vera's paid orders
  ASSERT_TRUE(client.Cancel("vera", cancelled, &order).ok());
  ASSERT_EQ(order.status(), orders::v1::ORDER_STATUS_REFUNDED);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client.Create("walt", absl::StrCat("w", i), &order, "MUG-002").ok());
    ASSERT_EQ(order.status(), orders::v1::ORDER_STATUS_INSUFFICIENT_FUNDS);
    owner[order.order_id()] = "walt";
  }
  std::map<std::string, Order> before = client.List("vera");
  before.merge(client.List("walt"));
  ASSERT_EQ(before.size(), owner.size());
  for (const auto& [id, view] : before) {
    EXPECT_GT(view.revision(), 0) << id;
    if (view.status() == orders::v1::ORDER_STATUS_PAID) {
      EXPECT_EQ(view.items(0).name(), "Idempotent pen") << id;  // priced by the order service
    }
  }
  redis::RedisConnection redis({.address = *redis::ParseRedisAddress(system.redis())});
  std::map<std::string, std::string> profiles;
  for (const char* user : {"vera", "walt", "xena"}) {
    ASSERT_TRUE(
        testing::WaitUntil([&] { return !ProfileViewOf(redis, user).empty(); }, absl::Seconds(30)));
    profiles[user] = ProfileViewOf(redis, user);
  }
  std::map<std::string, std::pair<std::set<std::string>, int>> timelines;
  for (const auto& [id, user] : owner) {
    ASSERT_TRUE(testing::WaitUntil(
        [&, id = id, user = user] {
          auto timeline = client.Timeline(user, id);
          if (timeline.has_value()) timelines[id] = *timeline;
          return timeline.has_value() && timeline->second == before.at(id).status();
        },
        absl::Seconds(30)))
        << id;
  }

  // Redis loses every view: the order views and their indexes, the timelines, the profile view
  // (its de-duplication records with it).
  ASSERT_GT(Wipe(redis, {"gw:order:*", "gw:orders:*", "tl:*", "*notification.profile:*"}),
            static_cast<int64_t>(owner.size()));
  EXPECT_TRUE(client.List("vera").empty());

  // The API keeps answering while the views are rebuilt: every order is read again and again
  // (the order service answers for a view not rebuilt yet), and new orders are placed.
  std::atomic<bool> rebuilding{true};
  std::atomic<int> reads{0};
  std::vector<std::string> wrong;
  std::thread reader([&] {
    while (rebuilding.load()) {
      for (const auto& [id, user] : owner) {
        Order read;
        const grpc::Status status = client.Get(user, id, &read);
        // From the view, or from the order service while the view is gone: the same order.
        if (!status.ok() || read.SerializeAsString() != before.at(id).SerializeAsString()) {
          wrong.push_back(absl::StrCat(id, ": ", status.error_message(), " ", read.status()));
        }
        ++reads;
      }
    }
  });
  std::vector<std::string> placed;
  std::thread writer([&] {
    for (int i = 0; i < 5; ++i) {
      Order created;
      const grpc::Status status = client.Create("vera", absl::StrCat("during", i), &created);
      EXPECT_TRUE(status.ok()) << status.error_message();
      EXPECT_EQ(created.status(), orders::v1::ORDER_STATUS_PAID);
      placed.push_back(created.order_id());
    }
  });
  std::map<std::string, std::string> outputs;
  for (const auto& [view, as] : std::vector<std::pair<std::string, std::string>>{
           {"orders", "gateway"}, {"timeline", "gateway"}, {"profiles", "notification"}}) {
    absl::StatusOr<int> exit = system.RunTool(system.binaries().views, {"--view", view}, as,
                                              absl::Minutes(3), &outputs[view]);
    EXPECT_TRUE(exit.ok() && *exit == 0) << exit.status() << " " << outputs[view];
    EXPECT_THAT(outputs[view], HasSubstr("rebuilt " + view)) << outputs[view];
  }
  writer.join();
  rebuilding.store(false);
  reader.join();
  EXPECT_GT(reads.load(), 0);
  EXPECT_THAT(wrong, ::testing::IsEmpty());
  // Progress to the end, and every wiped view written again (those placed meanwhile may have
  // been written by the live projector first).
  EXPECT_THAT(outputs["orders"], HasSubstr("(100%)"));
  int64_t written = 0;
  const size_t at = outputs["orders"].find("rebuilt orders: ");
  ASSERT_NE(at, std::string::npos);
  ASSERT_TRUE(absl::SimpleAtoi(
      outputs["orders"].substr(at + 16, outputs["orders"].find(' ', at + 16) - at - 16), &written));
  EXPECT_GE(written, static_cast<int64_t>(before.size()));
  EXPECT_THAT(outputs["timeline"], HasSubstr("(100%)"));
  // Only the view's owner may rebuild it: billing's login may not read orders.snapshots.
  std::string refused;
  absl::StatusOr<int> exit = system.RunTool(system.binaries().views, {"--view", "orders"},
                                            "billing", absl::Minutes(1), &refused);
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_EQ(*exit, 1) << refused;
  EXPECT_THAT(refused, HasSubstr("uthorization")) << refused;

  // The rebuilt views are the views before, byte for byte; the orders placed meanwhile are
  // there too, as their sagas left them.
  std::map<std::string, Order> after = client.List("vera");
  after.merge(client.List("walt"));
  for (const auto& [id, view] : before) {
    ASSERT_TRUE(after.contains(id)) << id;
    EXPECT_EQ(after[id].SerializeAsString(), view.SerializeAsString()) << id;
  }
  for (const std::string& id : placed) {
    ASSERT_TRUE(after.contains(id)) << id;
    EXPECT_EQ(after[id].status(), orders::v1::ORDER_STATUS_PAID);
    EXPECT_EQ(after[id].items(0).name(), "Idempotent pen");
  }
  for (const auto& [user, view] : profiles) EXPECT_EQ(ProfileViewOf(redis, user), view) << user;
  for (const auto& [id, user] : owner) {
    auto timeline = client.Timeline(user, id);
    ASSERT_TRUE(timeline.has_value()) << id;
    EXPECT_EQ(timeline->second, timelines[id].second) << id;
    for (const std::string& hop : timelines[id].first) {
      EXPECT_TRUE(timeline->first.contains(hop)) << id << " lost " << hop;
    }
  }

  // The audit trail of the cancelled order, rebuilt: every event of its saga in order, each with
  // its producer, time and cause.
  std::optional<gateway::v1::SagaTimeline> audit = client.Audit("vera", cancelled);
  ASSERT_TRUE(audit.has_value());
  std::set<std::string> seen_ids, types;
  absl::Time previous = absl::InfinitePast();
  for (const gateway::v1::SagaHop& hop : audit->hops()) {
    EXPECT_FALSE(hop.service().empty()) << hop.event_type();
    const absl::Time at = absl::FromUnixSeconds(hop.occurred_at().seconds()) +
                          absl::Nanoseconds(hop.occurred_at().nanos());
    EXPECT_GE(at, previous) << hop.event_type() << " out of order";
    previous = at;
    if (!hop.causation_id().empty()) {
      EXPECT_TRUE(seen_ids.contains(hop.causation_id())) << hop.event_type() << ": cause unseen";
    }
    seen_ids.insert(hop.event_id());
    types.insert(hop.event_type());
  }
  for (const char* type :
       {"choreo.orders.v1.OrderCreationRequested", "choreo.orders.v1.OrderCreated",
        "choreo.billing.v1.PaymentProcessed", "choreo.orders.v1.OrderStatusUpdated",
        "choreo.orders.v1.OrderCancellationRequested", "choreo.orders.v1.PaymentRefundRequested",
        "choreo.billing.v1.PaymentRefunded", "choreo.notifications.v1.NotificationSent"}) {
    EXPECT_TRUE(types.contains(type)) << type;
  }
  EXPECT_EQ(audit->status(), orders::v1::ORDER_STATUS_REFUNDED);
}

}  // namespace
}  // namespace choreo::e2e
