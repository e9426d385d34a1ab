// The gateway's contract against the whole system as processes: errors name the field, users
// see only their own orders, request ids make retries safe, paging, streaming, back-pressure,
// dead dependencies, and the refund of a payment that arrives after its order expired.

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "choreo/gateway/v1/gateway.grpc.pb.h"
#include "choreo/orders/v1/events.pb.h"
#include "contracts/topics/topics.h"
#include "edges/redis/redis_connection.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "services/order/core/order_decisions.h"
#include "testing/topic_reader.h"
#include "testing/wait.h"
#include "tests/e2e/system.h"

namespace choreo::e2e {
namespace {

using gateway::v1::Order;
using ::testing::HasSubstr;

class Api {
 public:
  explicit Api(const std::string& gateway)
      : users_(gateway),
        channel_(grpc::CreateChannel(gateway, grpc::InsecureChannelCredentials())),
        orders_(gateway::v1::OrderService::NewStub(channel_)),
        accounts_(gateway::v1::AccountService::NewStub(channel_)) {}

  std::unique_ptr<grpc::ClientContext> Context(const std::string& user,
                                               absl::Duration timeout = absl::Seconds(20)) {
    auto context = std::make_unique<grpc::ClientContext>();
    users_.Authorize(user, *context);
    context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    return context;
  }
  grpc::Status Register(const std::string& user) { return users_.SignUp(user); }
  grpc::Status Deposit(const std::string& user, int64_t cents, const std::string& id,
                       const std::string& currency = "USD") {
    gateway::v1::DepositRequest request;
    request.set_request_id(id);
    request.mutable_amount()->set_minor_units(cents);
    request.mutable_amount()->set_currency(currency);
    gateway::v1::DepositResponse response;
    return accounts_->Deposit(Context(user).get(), request, &response);
  }
  int64_t Balance(const std::string& user) {
    gateway::v1::Balance balance;
    grpc::Status status = accounts_->GetBalance(Context(user).get(), {}, &balance);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return balance.balance().minor_units();
  }
  static gateway::v1::CreateOrderRequest Request(const std::string& id,
                                                 const std::string& sku = "PEN-004", int qty = 1) {
    return OrderRequest(id, sku, qty);
  }
  grpc::Status Create(const std::string& user, const gateway::v1::CreateOrderRequest& request,
                      Order* order, absl::Duration timeout = absl::Seconds(20)) {
    return orders_->CreateOrder(Context(user, timeout).get(), request, order);
  }
  grpc::Status Get(const std::string& user, const std::string& order_id, Order* order) {
    gateway::v1::GetOrderRequest request;
    request.set_order_id(order_id);
    return orders_->GetOrder(Context(user).get(), request, order);
  }
  gateway::v1::OrderService::Stub& orders() { return *orders_; }
  gateway::v1::AccountService::Stub& accounts() { return *accounts_; }
  TestUsers& users() { return users_; }

 private:
  TestUsers users_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<gateway::v1::OrderService::Stub> orders_;
  std::unique_ptr<gateway::v1::AccountService::Stub> accounts_;
};

class GatewayApiTest : public ::testing::Test {
 protected:
  void StartSystem(LocalSystem::Options options = {}) {
    system_ = std::make_unique<LocalSystem>(Binaries::Built(), std::move(options));
    ASSERT_TRUE(system_->Start().ok());
    api_ = std::make_unique<Api>(system_->gateway());
  }
  std::unique_ptr<LocalSystem> system_;
  std::unique_ptr<Api> api_;
};

TEST_F(GatewayApiTest, OrdersFollowTheContract) {
  StartSystem();
  ASSERT_TRUE(api_->Register("ann").ok());
  ASSERT_TRUE(api_->Register("bob").ok());
  ASSERT_TRUE(api_->Deposit("ann", 10000, "d1").ok());

  // Malformed requests name the field; a missing caller is UNAUTHENTICATED.
  Order order;
  gateway::v1::CreateOrderRequest bad = Api::Request("r-bad");
  bad.mutable_items(0)->set_quantity(0);
  grpc::Status status = api_->Create("ann", bad, &order);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("items[0].quantity"));
  bad = Api::Request("");
  EXPECT_THAT(api_->Create("ann", bad, &order).error_message(), HasSubstr("request_id"));
  bad = Api::Request("r-bad2");
  bad.mutable_delivery_address()->clear_city();
  EXPECT_THAT(api_->Create("ann", bad, &order).error_message(), HasSubstr("delivery_address.city"));
  EXPECT_EQ(api_->Create("", Api::Request("r0"), &order).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  // A well-formed order of an unknown SKU is the saga's REJECTED, with the reason.
  ASSERT_TRUE(api_->Create("ann", Api::Request("r-unknown", "NOPE-1"), &order).ok());
  EXPECT_EQ(order.status(), orders::v1::ORDER_STATUS_REJECTED);
  EXPECT_THAT(order.reason(), HasSubstr("unknown SKU 'NOPE-1'"));

  // A retry with the same request id is the same order and the same saga.
  Order first, again;
  ASSERT_TRUE(api_->Create("ann", Api::Request("r1", "MUG-002", 2), &first).ok());
  EXPECT_EQ(first.status(), orders::v1::ORDER_STATUS_PAID);
  EXPECT_EQ(first.total().minor_units(), 2500);
  // The view is the order as the order service priced it (its snapshot), not the request.
  ASSERT_EQ(first.items_size(), 1);
  EXPECT_EQ(first.items(0).name(), "Choreography mug");
  EXPECT_EQ(first.items(0).unit_price().minor_units(), 1250);
  EXPECT_EQ(first.items(0).line_total().minor_units(), 2500);
  EXPECT_EQ(first.revision(), 2);  // taken in, then paid
  ASSERT_TRUE(api_->Create("ann", Api::Request("r1", "MUG-002", 2), &again).ok());
  EXPECT_EQ(again.order_id(), first.order_id());
  EXPECT_EQ(again.correlation_id(), first.correlation_id());
  EXPECT_EQ(api_->Balance("ann"), 10000 - 2500);  // charged once
  status = api_->Create("ann", Api::Request("r1", "MUG-002", 3), &again);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("different request body"));
  auto created = testing::ReadTopicToEnd(system_->kafka(), std::string(topics::kOrdersCreated));
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(created->size(), 1u);  // one saga for r1 (r-unknown never reached billing)

  // Users see only their own orders.
  Order fetched;
  ASSERT_TRUE(api_->Get("ann", first.order_id(), &fetched).ok());
  EXPECT_EQ(fetched.status(), orders::v1::ORDER_STATUS_PAID);
  EXPECT_EQ(fetched.items(0).sku(), "MUG-002");
  EXPECT_EQ(fetched.items(0).name(), "Choreography mug");
  EXPECT_EQ(fetched.SerializeAsString(), first.SerializeAsString());
  EXPECT_EQ(api_->Get("bob", first.order_id(), &fetched).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(api_->Get("ann", "ord-nope", &fetched).error_code(), grpc::StatusCode::NOT_FOUND);

  // ListOrders: newest first, paged.
  for (int i = 2; i <= 5; ++i) {
    ASSERT_TRUE(api_->Create("ann", Api::Request(absl::StrCat("r", i)), &order).ok());
  }
  std::vector<std::string> listed;
  std::string token;
  do {
    gateway::v1::ListOrdersRequest list;
    list.set_page_size(2);
    list.set_page_token(token);
    gateway::v1::ListOrdersResponse page;
    ASSERT_TRUE(api_->orders().ListOrders(api_->Context("ann").get(), list, &page).ok());
    EXPECT_LE(page.orders_size(), 2);
    for (const Order& o : page.orders()) {
      listed.push_back(o.request_id());
      if (o.status() == orders::v1::ORDER_STATUS_PAID) {
        EXPECT_FALSE(o.items(0).name().empty()) << o.order_id();
      }
    }
    token = page.next_page_token();
  } while (!token.empty());
  EXPECT_THAT(listed, ::testing::ElementsAre("r5", "r4", "r3", "r2", "r1", "r-unknown"));
  gateway::v1::ListOrdersRequest too_big;
  too_big.set_page_size(1000);
  gateway::v1::ListOrdersResponse page;
  EXPECT_EQ(api_->orders().ListOrders(api_->Context("ann").get(), too_big, &page).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  // WatchOrder of a finished order: its status, then the end of the stream.
  gateway::v1::WatchOrderRequest watch;
  watch.set_order_id(first.order_id());
  auto context = api_->Context("ann");
  auto reader = api_->orders().WatchOrder(context.get(), watch);
  gateway::v1::OrderStatusChange change;
  std::vector<orders::v1::OrderStatus> seen;
  while (reader->Read(&change)) seen.push_back(change.status());
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_THAT(seen, ::testing::ElementsAre(orders::v1::ORDER_STATUS_PAID));

  // A deposit billing refuses is FAILED_PRECONDITION with billing's reason.
  status = api_->Deposit("ann", 100, "d-eur", "EUR");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("deposit in EUR"));
  EXPECT_EQ(api_->Deposit("ann", -5, "d-neg").error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(GatewayApiTest, TooManyWaitersIsResourceExhaustedAndWatchSeesTheOutcome) {
  StartSystem({.gateway_flags = {"--max-waiting", "3"}});
  ASSERT_TRUE(api_->Register("cat").ok());
  ASSERT_TRUE(api_->Deposit("cat", 5000, "d1").ok());
  ASSERT_TRUE(system_->Kill("order").ok());  // sagas now wait

  // Two CreateOrders and one WatchOrder wait: the gateway's three places.
  auto place = [&](const std::string& id) {
    Order order;
    grpc::Status status = api_->Create("cat", Api::Request(id), &order, absl::Seconds(90));
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(order.status(), orders::v1::ORDER_STATUS_PAID);
  };
  std::thread w1(place, "w1");
  std::thread w2(place, "w2");
  // Both wait once their orders are cached (the gateway registers the waiter first).
  const std::string w1_order = order::OrderIdFor(ids::Username("cat"), "w1").value();
  Order view;
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        return api_->Get("cat", w1_order, &view).ok() &&
               api_->Get("cat", order::OrderIdFor(ids::Username("cat"), "w2").value(), &view).ok();
      },
      absl::Seconds(30)));
  std::vector<orders::v1::OrderStatus> watched;
  std::atomic<int> received{0};
  std::thread watcher([&] {
    gateway::v1::WatchOrderRequest watch;
    watch.set_order_id(w1_order);
    auto context = api_->Context("cat", absl::Seconds(90));
    auto reader = api_->orders().WatchOrder(context.get(), watch);
    gateway::v1::OrderStatusChange change;
    while (reader->Read(&change)) {
      watched.push_back(change.status());
      ++received;
    }
    grpc::Status status = reader->Finish();
    EXPECT_TRUE(status.ok()) << status.error_message();
  });
  // The first message means the watch is listening: the third place is taken.
  ASSERT_TRUE(testing::WaitUntil([&] { return received.load() >= 1; }, absl::Seconds(30)));

  // The fourth waiter is refused at once instead of queueing without bound.
  Order refused;
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        return api_->Create("cat", Api::Request("w4"), &refused, absl::Seconds(5)).error_code() ==
               grpc::StatusCode::RESOURCE_EXHAUSTED;
      },
      absl::Seconds(30)));

  ASSERT_TRUE(system_->Restart("order").ok());
  w1.join();
  w2.join();
  watcher.join();
  ASSERT_FALSE(watched.empty());
  EXPECT_EQ(watched.back(), orders::v1::ORDER_STATUS_PAID);
  EXPECT_THAT(watched, ::testing::Contains(orders::v1::ORDER_STATUS_PENDING_VALIDATION));
}

TEST_F(GatewayApiTest, SeveralGatewaysEachAnswerTheirOwnCallersAndShareTheCache) {
  StartSystem();
  absl::StatusOr<std::string> second = system_->StartGateway("gateway-2");
  ASSERT_TRUE(second.ok()) << second.status();
  // Its start (two consumer groups joined, under a loaded CI machine) is waited for on its own,
  // so that the calls' deadlines below time the calls only.
  const absl::Status ready = system_->WaitReady("gateway-2", absl::Seconds(60));
  ASSERT_TRUE(ready.ok()) << ready;
  Api other(*second);
  const grpc::Status first = api_->Register("fay");
  ASSERT_TRUE(first.ok()) << first.error_code() << " " << first.error_message();
  const grpc::Status again = other.Register("fay");
  ASSERT_TRUE(again.ok()) << "an existing user logs in through the other gateway: "
                          << again.error_code() << " " << again.error_message();
  ASSERT_TRUE(other.Deposit("fay", 10000, "d1").ok());
  std::vector<std::thread> callers;
  std::atomic<int> paid{0};
  for (int i = 0; i < 10; ++i) {
    callers.emplace_back([&, i] {
      Api& through = i % 2 == 0 ? *api_ : other;
      Order order;
      grpc::Status status = through.Create("fay", Api::Request(absl::StrCat("m", i)), &order);
      EXPECT_TRUE(status.ok()) << status.error_message();
      paid += order.status() == orders::v1::ORDER_STATUS_PAID;
    });
  }
  for (std::thread& caller : callers) caller.join();
  EXPECT_EQ(paid, 10);
  // Either instance serves any order from the shared cache.
  Order seen;
  ASSERT_TRUE(other.Get("fay", order::OrderIdFor(ids::Username("fay"), "m0").value(), &seen).ok());
  EXPECT_EQ(seen.status(), orders::v1::ORDER_STATUS_PAID);
  ASSERT_TRUE(api_->Get("fay", order::OrderIdFor(ids::Username("fay"), "m1").value(), &seen).ok());
  EXPECT_EQ(seen.status(), orders::v1::ORDER_STATUS_PAID);
  EXPECT_EQ(api_->Balance("fay"), 10000 - 10 * 199);
}

TEST_F(GatewayApiTest, RedisOrBrokerDownIsUnavailableNotAHang) {
  StartSystem({.gateway_flags = {"--publish-timeout", "5s"}});
  ASSERT_TRUE(api_->Register("dan").ok());
  ASSERT_TRUE(system_->redis_server().Stop().ok());
  Order order;
  absl::Time start = absl::Now();
  grpc::Status status = api_->Create("dan", Api::Request("x1"), &order, absl::Seconds(20));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  ASSERT_TRUE(system_->redis_server().Restart().ok());

  ASSERT_TRUE(system_->KillBroker().ok());
  start = absl::Now();
  // UNAVAILABLE once the broker has not acknowledged for the gateway's --publish-timeout.
  status = api_->Create("dan", Api::Request("x2"), &order, absl::Seconds(20));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_LT(absl::Now() - start, absl::Seconds(15));
}

// A stop always ends: with the broker unreachable (frozen: connections open, nothing answers, as
// in a network partition), SIGTERM ends every process within its --stop-timeout, by itself (not
// by SIGKILL): cleanly, or saying that its stop did not end in time (a consumer's close that no
// group coordinator answers blocks for ever, librdkafka issue 3740).
TEST_F(GatewayApiTest, EveryProcessStopsInTimeOnceTheBrokerIsGone) {
  const std::vector<std::string> stop = {"--stop-timeout", "12s"};
  StartSystem({.order_flags = stop,
               .billing_flags = stop,
               .gateway_flags = stop,
               .notification_flags = stop,
               .users_flags = stop});
  ASSERT_TRUE(api_->Register("stu").ok());
  ASSERT_TRUE(system_->WaitAllReady(absl::Seconds(60)).ok());
  ASSERT_EQ(::kill(system_->kafka_cluster()->pid(0), SIGSTOP), 0);
  for (const std::string process : {"gateway", "order", "billing", "users", "notification"}) {
    const absl::Time start = absl::Now();
    ASSERT_TRUE(system_->Stop(process, absl::Seconds(40)).ok()) << process;
    EXPECT_LT(absl::Now() - start, absl::Seconds(15)) << process;
    std::ifstream log(system_->LogOf(process));
    const std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    EXPECT_TRUE(absl::StrContains(text, R"("msg":"stopped")") ||
                absl::StrContains(text, "the stop did not end within 12s"))
        << process << " was killed, not stopped; its log ends: "
        << text.substr(text.size() > 1500 ? text.size() - 1500 : 0);
  }
}

TEST_F(GatewayApiTest, APaymentAfterExpiryIsRefunded) {
  StartSystem({.order_flags = {"--order-expiry", "2s", "--deadline-scan-interval", "100ms"}});
  ASSERT_TRUE(api_->Register("eve").ok());
  ASSERT_TRUE(api_->Deposit("eve", 5000, "d1").ok());
  ASSERT_TRUE(system_->Kill("billing").ok());  // no payment before the deadline
  Order order;
  ASSERT_TRUE(api_->Create("eve", Api::Request("late", "BOOK-001", 1), &order).ok());
  EXPECT_EQ(order.status(), orders::v1::ORDER_STATUS_EXPIRED);
  EXPECT_THAT(order.reason(), HasSubstr("deadline"));
  // Billing comes back and debits the order it was told about; the order service refunds it.
  ASSERT_TRUE(system_->Restart("billing").ok());
  auto refunded = [&] {
    auto records = testing::ReadTopicToEnd(system_->kafka(), std::string(topics::kBillingPayments));
    int refunds = 0;
    for (const KafkaRecord& record : records.value_or(std::vector<KafkaRecord>{})) {
      refunds += record.Header("ce_type") == "choreo.billing.v1.PaymentRefunded";
    }
    return refunds == 1;
  };
  ASSERT_TRUE(testing::WaitUntil(refunded, absl::Seconds(60)));
  EXPECT_EQ(api_->Balance("eve"), 5000);  // debited 19.99, then given back
  Order fetched;
  ASSERT_TRUE(api_->Get("eve", order.order_id(), &fetched).ok());
  EXPECT_EQ(fetched.status(), orders::v1::ORDER_STATUS_EXPIRED);  // the client's answer stands
}

// A gateway SIGKILLed while sagas run misses their statuses. Restarted, it reports ready only
// once its views have applied what it missed (the shared view projection resumes from its
// committed offsets): GetOrder, ListOrders and WatchOrder then tell the order service's truth at
// once, with no client retry and no wait.
TEST_F(GatewayApiTest, AGatewayKilledMidSagaServesTheTruthOnceReady) {
  StartSystem();
  ASSERT_TRUE(api_->Register("gus").ok());
  ASSERT_TRUE(api_->Deposit("gus", 100000, "d1").ok());
  ASSERT_TRUE(system_->Kill("billing").ok());  // the sagas wait for their payments
  constexpr int kOrders = 20;
  std::vector<std::string> order_ids;
  std::vector<std::thread> clients;
  for (int i = 0; i < kOrders; ++i) {
    const std::string request_id = absl::StrCat("k", i);
    order_ids.push_back(order::OrderIdFor(ids::Username("gus"), request_id).value());
    clients.emplace_back([&, request_id] {
      Order ignored;  // the clients give up before their sagas end
      api_->Create("gus", Api::Request(request_id), &ignored, absl::Seconds(3));
    });
  }
  for (std::thread& client : clients) client.join();
  for (const std::string& id : order_ids) {
    Order view;
    ASSERT_TRUE(testing::WaitUntil([&] { return api_->Get("gus", id, &view).ok(); },
                                   absl::Seconds(30)));
    ASSERT_EQ(view.status(), orders::v1::ORDER_STATUS_PENDING_VALIDATION);
  }
  ASSERT_TRUE(system_->Kill("gateway").ok());
  ASSERT_TRUE(system_->Restart("billing").ok());
  // The sagas end while no gateway runs: every order PAID, and its status on orders.status.
  auto paid_statuses = [&] {
    auto records = testing::ReadTopicToEnd(system_->kafka(), std::string(topics::kOrdersStatus));
    std::set<std::string> paid;
    for (const KafkaRecord& record : records.value_or(std::vector<KafkaRecord>{})) {
      orders::v1::OrderStatusUpdated update;
      if (update.ParseFromString(record.value) &&
          update.status() == orders::v1::ORDER_STATUS_PAID) {
        paid.insert(update.order_id());
      }
    }
    return paid.size();
  };
  ASSERT_TRUE(testing::WaitUntil([&] { return paid_statuses() == size_t{kOrders}; },
                                 absl::Seconds(90)));

  ASSERT_TRUE(system_->Restart("gateway").ok());
  ASSERT_TRUE(system_->WaitReady("gateway", absl::Seconds(60)).ok());
  // Ready: from here on nothing is waited for.
  for (const std::string& id : order_ids) {
    Order view;
    ASSERT_TRUE(api_->Get("gus", id, &view).ok()) << id;
    EXPECT_EQ(view.status(), orders::v1::ORDER_STATUS_PAID) << id;
    ASSERT_EQ(view.history_size(), 2) << id;
    EXPECT_EQ(view.history(0).status(), orders::v1::ORDER_STATUS_PENDING_VALIDATION);
    ASSERT_EQ(view.items_size(), 1);
    EXPECT_EQ(view.items(0).name(), "Idempotent pen") << "the order's snapshot, not the claim";
  }
  gateway::v1::ListOrdersRequest list;
  list.set_page_size(100);
  gateway::v1::ListOrdersResponse listed;
  ASSERT_TRUE(api_->orders().ListOrders(api_->Context("gus").get(), list, &listed).ok());
  ASSERT_EQ(listed.orders_size(), kOrders);
  for (const Order& view : listed.orders()) {
    EXPECT_EQ(view.status(), orders::v1::ORDER_STATUS_PAID) << view.order_id();
  }
  gateway::v1::WatchOrderRequest watch;
  watch.set_order_id(order_ids.front());
  auto context = api_->Context("gus", absl::Seconds(10));
  auto reader = api_->orders().WatchOrder(context.get(), watch);
  gateway::v1::OrderStatusChange change;
  ASSERT_TRUE(reader->Read(&change));
  EXPECT_EQ(change.status(), orders::v1::ORDER_STATUS_PAID);
  EXPECT_TRUE(change.terminal());
  EXPECT_FALSE(reader->Read(&change));
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_EQ(api_->Balance("gus"), 100000 - kOrders * 199);
}

// An order the views do not know is asked of the order service: the view is gone (a Redis key
// lost), or is still a CreateOrder's claim; the order is still served from the service's truth,
// and stays another user's secret.
TEST_F(GatewayApiTest, AnOrderTheViewsDoNotKnowIsAskedOfTheOrderService) {
  StartSystem();
  ASSERT_TRUE(api_->Register("hal").ok());
  ASSERT_TRUE(api_->Register("ivy").ok());
  ASSERT_TRUE(api_->Deposit("hal", 5000, "d1").ok());
  Order order;
  ASSERT_TRUE(api_->Create("hal", Api::Request("v1"), &order).ok());
  ASSERT_EQ(order.status(), orders::v1::ORDER_STATUS_PAID);
  redis::RedisConnection redis({.address = *redis::ParseRedisAddress(system_->redis())});
  ASSERT_TRUE(redis.Command({"DEL", absl::StrCat("gw:order:{hal}:", order.order_id())}).ok());

  Order fetched;
  ASSERT_TRUE(api_->Get("hal", order.order_id(), &fetched).ok());
  EXPECT_EQ(fetched.status(), orders::v1::ORDER_STATUS_PAID);
  EXPECT_EQ(fetched.items_size(), 1);
  EXPECT_EQ(fetched.total().minor_units(), 199);
  EXPECT_EQ(fetched.correlation_id(), order.correlation_id());
  EXPECT_EQ(api_->Get("ivy", order.order_id(), &fetched).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(api_->Get("hal", "no-such-order", &fetched).error_code(), grpc::StatusCode::NOT_FOUND);

  // A CreateOrder's claim (revision 0: written from the request, before the order service took
  // the order in) is completed from the service too.
  Order partial = order;
  partial.clear_items();
  partial.set_revision(0);
  ASSERT_TRUE(redis
                  .Command({"SET", absl::StrCat("gw:order:{hal}:", order.order_id()),
                            partial.SerializeAsString()})
                  .ok());
  ASSERT_TRUE(api_->Get("hal", order.order_id(), &fetched).ok());
  EXPECT_EQ(fetched.items_size(), 1);
  EXPECT_EQ(fetched.status(), orders::v1::ORDER_STATUS_PAID);
}

// A service restarted after an outage is reached within a second of being ready: the gateway's
// channels cap their reconnect backoff (gRPC's default had grown to several seconds, and
// Register answered UNAVAILABLE that long after the user service was back).
TEST_F(GatewayApiTest, AServiceBackFromAnOutageIsReachedWithinASecond) {
  StartSystem();
  ASSERT_TRUE(api_->Register("jay").ok());
  ASSERT_TRUE(system_->Kill("users").ok());
  // Logins during a 12 s outage fail, while the channel's reconnect attempts back off.
  const absl::Time outage_end = absl::Now() + absl::Seconds(12);
  int refused = 0;
  while (absl::Now() < outage_end) refused += !api_->Register("jay").ok();
  EXPECT_GT(refused, 0);
  ASSERT_TRUE(system_->Restart("users").ok());
  ASSERT_TRUE(system_->WaitReady("users", absl::Seconds(30)).ok());
  const absl::Time ready = absl::Now();
  ASSERT_TRUE(testing::WaitUntil([&] { return api_->Register("kim").ok(); }, absl::Seconds(30)));
  // Measured: about 30 ms; with gRPC's default backoff 1.4-2.9 s.
  EXPECT_LT(absl::Now() - ready, absl::Milliseconds(1500));
}

}  // namespace
}  // namespace choreo::e2e

namespace choreo::e2e {
namespace {

// Once every process reports ready, the first orders are as quick as the next: every producer
// learns the mission topics' partitions as it starts (KafkaProducer), so the first saga does not
// wait for librdkafka's once-a-second topic scan at each hop (it took 1.7-1.8 s here, then about 25
// ms), and the readiness checks wait for the producers' ids and the consumers' start offsets.
void CheckTheFirstOrdersAfterStart(LocalSystem& system, Api& api) {
  {
    const absl::Status ready = system.WaitAllReady(absl::Seconds(60));
    ASSERT_TRUE(ready.ok()) << ready;
  }
  ASSERT_TRUE(api.Register("ivy").ok());
  ASSERT_TRUE(api.Deposit("ivy", 100000, "d1").ok());
  std::vector<absl::Duration> took;
  for (int i = 0; i < 4; ++i) {
    Order order;
    const absl::Time sent = absl::Now();
    ASSERT_TRUE(api.Create("ivy", Api::Request(absl::StrCat("first-", i)), &order).ok());
    took.push_back(absl::Now() - sent);
    EXPECT_EQ(order.status(), orders::v1::ORDER_STATUS_PAID);
  }
  std::printf("CreateOrder after start: first %.1f ms, then %.1f, %.1f, %.1f ms\n",
              absl::ToDoubleMilliseconds(took[0]), absl::ToDoubleMilliseconds(took[1]),
              absl::ToDoubleMilliseconds(took[2]), absl::ToDoubleMilliseconds(took[3]));
  // Before producers learnt their topics at start, the first took 1.7-1.8 s and the next about
  // 25 ms. A loaded machine slows all four alike (563 ms, then 507, 282 and 754 ms once, beside
  // another end-to-end test), so the first is held to the next ones' pace, never above 1.5 s.
  const absl::Duration slowest_next = std::max({took[1], took[2], took[3]});
  EXPECT_LT(took[0], std::max(absl::Milliseconds(500), 2 * slowest_next));
  EXPECT_LT(took[0], absl::Milliseconds(1500));
}

TEST_F(GatewayApiTest, TheFirstOrderAfterStartIsAsQuickAsTheNext) {
  StartSystem();
  CheckTheFirstOrdersAfterStart(*system_, *api_);
}

// On three Kafka nodes too (the first orders once took up to 16 s there; measured now: 58 and
// 76 ms).
TEST_F(GatewayApiTest, TheFirstOrderAfterStartOnThreeKafkaNodesIsAsQuickAsTheNext) {
  StartSystem({.kafka_nodes = 3});
  CheckTheFirstOrdersAfterStart(*system_, *api_);
}

}  // namespace
}  // namespace choreo::e2e
