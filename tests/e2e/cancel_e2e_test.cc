// CancelOrder against the whole system as processes on Apache Kafka: a paid order refunded
// exactly once, a pending order cancelled with its late payment handed back, refusals that name
// the order's status, retries that change nothing; then hundreds of cancellations racing their
// payments while the order and billing services are SIGKILLed, checked against every saga
// invariant (tests/chaos/invariants.h, I7 included).

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "choreo/billing/v1/events.pb.h"
#include "choreo/gateway/v1/gateway.grpc.pb.h"
#include "contracts/orders/orders.h"
#include "contracts/topics/topics.h"
#include "edges/redis/redis_connection.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "saga/codec/event_codec.h"
#include "testing/topic_reader.h"
#include "testing/wait.h"
#include "tests/chaos/facts.h"
#include "tests/chaos/invariants.h"
#include "tests/e2e/retrying_call.h"
#include "tests/e2e/settled_invariants.h"
#include "tests/e2e/system.h"

namespace choreo::e2e {
namespace {

using gateway::v1::Order;
using ::testing::HasSubstr;

std::string OrderId(const std::string& user, const std::string& request_id) {
  return contracts::OrderIdFor(ids::Username(user), request_id).value();
}

std::vector<int> Statuses(const Order& order) {
  std::vector<int> statuses;
  for (const orders::v1::StatusChange& change : order.history()) statuses.push_back(change.status());
  return statuses;
}

// The gateway's API as a test's users see it, on a channel of its own.
class Client {
 public:
  Client(const std::string& gateway, TestUsers& users)
      : users_(users),
        channel_(grpc::CreateChannel(gateway, grpc::InsecureChannelCredentials())),
        orders_(gateway::v1::OrderService::NewStub(channel_)),
        accounts_(gateway::v1::AccountService::NewStub(channel_)) {}

  TestUsers& users() { return users_; }

  grpc::Status Create(const std::string& user, const std::string& request_id, Order* order,
                      const std::string& sku = "PEN-004",
                      absl::Duration timeout = absl::Seconds(30)) {
    const gateway::v1::CreateOrderRequest request = OrderRequest(request_id, sku);
    return CallRetrying(
        users_, user,
        [&](grpc::ClientContext& context) { return orders_->CreateOrder(&context, request, order); },
        {.attempt = timeout, .total = timeout});
  }
  grpc::Status Cancel(const std::string& user, const std::string& order_id,
                      const std::string& request_id, Order* order,
                      const std::string& reason = "changed my mind") {
    gateway::v1::CancelOrderRequest request;
    request.set_order_id(order_id);
    request.set_request_id(request_id);
    request.set_reason(reason);
    return CallRetrying(users_, user, [&](grpc::ClientContext& context) {
      return orders_->CancelOrder(&context, request, order);
    });
  }
  grpc::Status Get(const std::string& user, const std::string& order_id, Order* order) {
    gateway::v1::GetOrderRequest request;
    request.set_order_id(order_id);
    return CallRetrying(users_, user, [&](grpc::ClientContext& context) {
      return orders_->GetOrder(&context, request, order);
    });
  }
  int64_t Balance(const std::string& user) {
    gateway::v1::Balance balance;
    const grpc::Status status = CallRetrying(users_, user, [&](grpc::ClientContext& context) {
      return accounts_->GetBalance(&context, {}, &balance);
    });
    EXPECT_TRUE(status.ok()) << status.error_message();
    return balance.balance().minor_units();
  }

 private:
  TestUsers& users_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<gateway::v1::OrderService::Stub> orders_;
  std::unique_ptr<gateway::v1::AccountService::Stub> accounts_;
};

// The refunds of `order_id` on billing.payments: distinct PaymentRefunded event ids (a re-published
// outcome is the same refund again).
int RefundsOnTopic(const LocalSystem& system, const std::string& order_id) {
  codec::EventCodec codec;
  EXPECT_TRUE(codec.Register<billing::v1::PaymentRefunded>().ok());
  auto records = testing::ReadTopicToEnd(system.kafka(), std::string(topics::kBillingPayments));
  std::set<std::string> refunds;
  for (const KafkaRecord& record : records.value_or(std::vector<KafkaRecord>{})) {
    absl::StatusOr<codec::DecodedEvent> decoded = codec.Decode(record);
    if (!decoded.ok()) continue;  // a PaymentProcessed
    if (static_cast<const billing::v1::PaymentRefunded&>(*decoded->message).order_id() == order_id) {
      refunds.insert(decoded->meta().event_id());
    }
  }
  return static_cast<int>(refunds.size());
}

class CancelOrderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    system_ = new LocalSystem(Binaries::Built(), {});
    const absl::Status started = system_->Start();
    ASSERT_TRUE(started.ok()) << started;
  }
  static void TearDownTestSuite() {
    delete system_;
    system_ = nullptr;
  }
  void SetUp() override {
    users_ = std::make_unique<TestUsers>(system_->gateway());
    client_ = std::make_unique<Client>(system_->gateway(), *users_);
  }

  static LocalSystem* system_;
  std::unique_ptr<TestUsers> users_;
  std::unique_ptr<Client> client_;
};

LocalSystem* CancelOrderTest::system_ = nullptr;

TEST_F(CancelOrderTest, APaidOrderIsRefundedItsTotalExactlyOnce) {
  ASSERT_TRUE(client_->users().SignUpFunded("ann", 10000).ok());
  Order paid;
  ASSERT_TRUE(client_->Create("ann", "o1", &paid).ok());
  ASSERT_EQ(paid.status(), orders::v1::ORDER_STATUS_PAID);
  ASSERT_EQ(client_->Balance("ann"), 10000 - paid.total().minor_units());

  Order refunded;
  grpc::Status status = client_->Cancel("ann", paid.order_id(), "c1", &refunded);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(refunded.status(), orders::v1::ORDER_STATUS_REFUNDED);
  EXPECT_THAT(refunded.reason(), HasSubstr("changed my mind"));
  EXPECT_THAT(Statuses(refunded),
              ::testing::ElementsAre(orders::v1::ORDER_STATUS_PENDING_VALIDATION,
                                     orders::v1::ORDER_STATUS_PAID,
                                     orders::v1::ORDER_STATUS_REFUND_PENDING,
                                     orders::v1::ORDER_STATUS_REFUNDED));
  EXPECT_EQ(client_->Balance("ann"), 10000);

  // The same request again: the same answer, and no second refund.
  Order again;
  status = client_->Cancel("ann", paid.order_id(), "c1", &again);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(again.status(), orders::v1::ORDER_STATUS_REFUNDED);
  // Another request: refused, naming why.
  status = client_->Cancel("ann", paid.order_id(), "c2", &again);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("already cancelled"));
  // The same request id for something else.
  status = client_->Cancel("ann", paid.order_id(), "c1", &again, "another reason");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();

  EXPECT_EQ(client_->Balance("ann"), 10000);
  EXPECT_EQ(RefundsOnTopic(*system_, paid.order_id()), 1);
  Order fetched;
  ASSERT_TRUE(client_->Get("ann", paid.order_id(), &fetched).ok());
  EXPECT_EQ(fetched.status(), orders::v1::ORDER_STATUS_REFUNDED);
  // The compensation's hops are in the order's saga timeline, after the order's own.
  auto timeline = gateway::v1::TimelineService::NewStub(
      grpc::CreateChannel(system_->gateway(), grpc::InsecureChannelCredentials()));
  std::vector<std::string> types;
  EXPECT_TRUE(testing::WaitUntil(
      [&] {
        gateway::v1::GetOrderTimelineRequest request;
        request.set_order_id(paid.order_id());
        gateway::v1::SagaTimeline saga;
        grpc::ClientContext context;
        client_->users().Authorize("ann", context);
        if (!timeline->GetOrderTimeline(&context, request, &saga).ok()) return false;
        // A hop per record: the retries' re-publications are there too, with their first ids.
        types.clear();
        std::map<std::string, std::set<std::string>> ids;  // event type -> distinct event ids
        for (const gateway::v1::SagaHop& hop : saga.hops()) {
          types.push_back(hop.event_type());
          ids[hop.event_type()].insert(hop.event_id());
        }
        return ids["choreo.billing.v1.PaymentRefunded"].size() == 1 &&
               // PAID, REFUND_PENDING, REFUNDED (OrderCreated announced the order)
               ids["choreo.orders.v1.OrderStatusUpdated"].size() == 3 &&
               ids["choreo.orders.v1.OrderCancellationRefused"].size() == 1;  // c2's
      },
      absl::Seconds(20)))
      << ::testing::PrintToString(types);
  EXPECT_THAT(types, ::testing::IsSupersetOf({"choreo.orders.v1.OrderCancellationRequested",
                                              "choreo.orders.v1.PaymentRefundRequested",
                                              "choreo.orders.v1.OrderCancellationRefused"}));
  // Notified for PAID and for REFUNDED, once each (I6), and every other invariant.
  ExpectSettledInvariants(*system_, client_->users(), {{"ann", "o1"}}, {{"ann", 10000}});
}

TEST_F(CancelOrderTest, APendingOrderIsCancelledAndAPaymentThatLandsLaterIsHandedBack) {
  ASSERT_TRUE(client_->users().SignUpFunded("bea", 10000).ok());
  // Billing frozen: the order waits for its payment.
  ASSERT_TRUE(system_->Signal("billing", SIGSTOP).ok());
  struct Thaw {
    ~Thaw() { static_cast<void>(system->Signal("billing", SIGCONT)); }
    LocalSystem* system;
  } thaw{system_};
  Order order;
  grpc::Status status = client_->Create("bea", "o1", &order, "PEN-004", absl::Seconds(2));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << status.error_message();
  const std::string order_id = OrderId("bea", "o1");
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        return client_->Get("bea", order_id, &order).ok() &&
               order.status() == orders::v1::ORDER_STATUS_PENDING_VALIDATION;
      },
      absl::Seconds(20)));

  Order cancelled;
  status = client_->Cancel("bea", order_id, "c1", &cancelled);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(cancelled.status(), orders::v1::ORDER_STATUS_CANCELLED);
  EXPECT_THAT(Statuses(cancelled), ::testing::ElementsAre(orders::v1::ORDER_STATUS_PENDING_VALIDATION,
                                                          orders::v1::ORDER_STATUS_CANCELLED));
  // The CreateOrder retried answers with the outcome.
  ASSERT_TRUE(client_->Create("bea", "o1", &order).ok());
  EXPECT_EQ(order.status(), orders::v1::ORDER_STATUS_CANCELLED);

  // Billing thaws and debits the order it was told about; the order service hands it back.
  ASSERT_TRUE(system_->Signal("billing", SIGCONT).ok());
  ASSERT_TRUE(testing::WaitUntil([&] { return RefundsOnTopic(*system_, order_id) == 1; },
                                 absl::Seconds(60)));
  EXPECT_EQ(client_->Balance("bea"), 10000);
  ASSERT_TRUE(client_->Get("bea", order_id, &order).ok());
  EXPECT_EQ(order.status(), orders::v1::ORDER_STATUS_CANCELLED);  // the client's answer stands
  ExpectSettledInvariants(*system_, client_->users(), {{"bea", "o1"}}, {{"bea", 10000}});
}

TEST_F(CancelOrderTest, OnlyAPendingOrPaidOrderOfTheCallersOwnCanBeCancelled) {
  const grpc::Status funded = client_->users().SignUpFunded("cyd", 100);  // 1.00 USD: too little
  ASSERT_TRUE(funded.ok()) << funded.error_message();
  ASSERT_TRUE(client_->users().SignUp("dee").ok());
  Order unpaid;
  ASSERT_TRUE(client_->Create("cyd", "o1", &unpaid, "BOOK-001").ok());
  ASSERT_EQ(unpaid.status(), orders::v1::ORDER_STATUS_INSUFFICIENT_FUNDS);
  Order answer;
  grpc::Status status = client_->Cancel("cyd", unpaid.order_id(), "c1", &answer);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("INSUFFICIENT_FUNDS"));
  // Another user's order is as unknown as a missing one.
  status = client_->Cancel("dee", unpaid.order_id(), "c1", &answer);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << status.error_message();
  status = client_->Cancel("cyd", "ord-nope", "c2", &answer);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << status.error_message();
  status = client_->Cancel("cyd", unpaid.order_id(), "", &answer);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("request_id"));
  status = client_->Cancel("cyd", unpaid.order_id(), "c3", &answer, std::string(501, 'x'));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("reason"));
  ExpectSettledInvariants(*system_, client_->users(), {{"cyd", "o1"}}, {{"cyd", 100}});
}

// A retry that comes after the order service's de-duplication record of the first one expired
// is decided again: the order re-announces where it is, so the call is answered, and no money
// moves. The records live a second here (production: 7 days, as long as the gateway's claim).
TEST(CancelRetryTest, ARetryAfterItsDeduplicationRecordExpiredIsAnsweredAndMovesNoMoney) {
  LocalSystem system(Binaries::Built(), {.order_flags = {"--marker-retention", "1s"}});
  {
    const absl::Status started = system.Start();
    ASSERT_TRUE(started.ok()) << started;
  }
  TestUsers users(system.gateway());
  Client client(system.gateway(), users);
  ASSERT_TRUE(users.SignUpFunded("eva", 10000).ok());
  Order paid, refunded;
  ASSERT_TRUE(client.Create("eva", "o1", &paid).ok());
  ASSERT_EQ(paid.status(), orders::v1::ORDER_STATUS_PAID);
  ASSERT_TRUE(client.Cancel("eva", paid.order_id(), "c1", &refunded).ok());
  ASSERT_EQ(refunded.status(), orders::v1::ORDER_STATUS_REFUNDED);

  // Every de-duplication record of the order service's for the order is gone.
  redis::RedisConnection redis({.address = *redis::ParseRedisAddress(system.redis())});
  std::vector<std::string> left;
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        absl::StatusOr<redis::RedisReply> keys =
            redis.Command({"KEYS", absl::StrCat("done:{order.order:", paid.order_id(), "}:*")});
        if (!keys.ok()) return false;
        left.clear();
        for (const redis::RedisReply& key : keys->elements) left.push_back(key.str);
        return left.empty();
      },
      absl::Seconds(30)))
      << ::testing::PrintToString(left);
  Order again;
  const grpc::Status status = client.Cancel("eva", paid.order_id(), "c1", &again);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(again.status(), orders::v1::ORDER_STATUS_REFUNDED);
  EXPECT_EQ(client.Balance("eva"), 10000);
  EXPECT_EQ(RefundsOnTopic(system, paid.order_id()), 1);
}

// One order and the cancellation that races its payment, as a client sees them.
struct Race {
  std::string user;
  std::string request_id;
  grpc::Status created;
  Order order;  // CreateOrder's answer
  grpc::Status cancelled;
  Order after;  // CancelOrder's answer
  absl::Duration cancel_took;  // the CancelOrder that was answered (retries included)
};

// Places an order and, as soon as the gateway knows it, cancels it: the cancellation reaches the
// order service about when the payment does, on either side of it.
void RunRace(Client& client, Race& race) {
  std::thread create([&] {
    race.created = client.Create(race.user, race.request_id, &race.order, "PEN-004",
                                 absl::Seconds(240));
  });
  const std::string order_id = OrderId(race.user, race.request_id);
  // FAILED_PRECONDITION "no status yet" until the order service has the order: ask again.
  testing::WaitUntil(
      [&] {
        const absl::Time sent = absl::Now();
        race.cancelled = client.Cancel(race.user, order_id, "cancel-" + race.request_id, &race.after);
        race.cancel_took = absl::Now() - sent;
        return !(race.cancelled.error_code() == grpc::StatusCode::NOT_FOUND ||
                 (race.cancelled.error_code() == grpc::StatusCode::FAILED_PRECONDITION &&
                  absl::StrContains(race.cancelled.error_message(), "no status yet")));
      },
      absl::Seconds(120));
  create.join();
}

TEST(CancelRaceTest, CancellationsRacingPaymentsWhileOrderAndBillingAreKilledKeepEveryInvariant) {
  LocalSystem system(Binaries::Built(), {});
  {
    const absl::Status started = system.Start();
    ASSERT_TRUE(started.ok()) << started;
  }
  constexpr int kUsers = 10, kClients = 8, kOrders = 240;
  TestUsers users(system.gateway());
  std::map<std::string, int64_t> deposited;
  for (int u = 0; u < kUsers; ++u) {
    const std::string user = absl::StrCat("racer", u);
    ASSERT_TRUE(users.SignUpFunded(user, 1000000).ok()) << user;
    deposited[user] = 1000000;
  }
  std::vector<Race> races(kOrders);
  std::atomic<int> next{0}, completed{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      Client client(system.gateway(), users);
      std::mt19937 random(2000 + c);
      for (int i = next++; i < kOrders; i = next++) {
        races[i].user = absl::StrCat("racer", random() % kUsers);
        races[i].request_id = absl::StrCat("race-", i);
        RunRace(client, races[i]);
        ++completed;
      }
    });
  }
  // Four times, at a random point of the run (a seed printed, CHOREO_CANCEL_RACE_SEED replays
  // it), SIGKILL and restart order or billing, whichever the seed picks: each time with
  // creations, payments, cancellations and refunds in flight.
  const char* seed_text = std::getenv("CHOREO_CANCEL_RACE_SEED");
  const uint32_t seed = seed_text != nullptr ? static_cast<uint32_t>(std::strtoul(seed_text, nullptr, 10))
                                             : static_cast<uint32_t>(absl::ToUnixNanos(absl::Now()));
  std::mt19937 chaos(seed);
  std::vector<int> percents;
  for (int round = 0; round < 4; ++round) percents.push_back(5 + static_cast<int>(chaos() % 80));
  std::sort(percents.begin(), percents.end());
  int kills = 0;
  std::string schedule;
  for (int percent : percents) {
    if (!testing::WaitUntil([&] { return completed.load() >= kOrders * percent / 100; },
                            absl::Seconds(600))) {
      ADD_FAILURE() << "no progress to " << percent << "%";
      break;
    }
    const std::string victim = chaos() % 2 == 0 ? "billing" : "order";
    ASSERT_TRUE(system.Kill(victim).ok()) << victim;
    ASSERT_TRUE(system.Restart(victim).ok()) << victim;
    absl::StrAppend(&schedule, schedule.empty() ? "" : ", ", victim, " at ", percent, "%");
    ++kills;
  }
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(kills, 4);

  std::map<int, std::vector<double>> took_ms;  // CancelOrder's latency by outcome
  std::map<int, int> outcomes;  // the cancellation's answer: its status, or -code on refusal
  std::vector<chaos::PlacedOrder> placed;
  for (const Race& race : races) {
    placed.push_back({race.user, race.request_id});
    ASSERT_TRUE(race.created.ok()) << race.request_id << ": " << race.created.error_message();
    if (race.cancelled.ok()) {
      ++outcomes[race.after.status()];
      took_ms[race.after.status()].push_back(absl::ToDoubleMilliseconds(race.cancel_took));
      // A CreateOrder answered before the cancellation saw PAID, after it the cancelled order.
      if (race.after.status() == orders::v1::ORDER_STATUS_CANCELLED) {
        EXPECT_EQ(race.order.status(), orders::v1::ORDER_STATUS_CANCELLED) << race.request_id;
      } else {
        EXPECT_EQ(race.after.status(), orders::v1::ORDER_STATUS_REFUNDED) << race.request_id;
        EXPECT_THAT(race.order.status(), ::testing::AnyOf(orders::v1::ORDER_STATUS_PAID,
                                                          orders::v1::ORDER_STATUS_REFUNDED));
      }
    } else {
      ++outcomes[-race.cancelled.error_code()];
      ADD_FAILURE() << race.request_id << ": " << race.cancelled.error_code() << " "
                    << race.cancelled.error_message();
    }
  }
  std::printf("cancel race (CHOREO_CANCEL_RACE_SEED=%u): %d orders, SIGKILL %s: %d CANCELLED, "
              "%d REFUNDED, %d other\n",
              seed, kOrders, schedule.c_str(), outcomes[orders::v1::ORDER_STATUS_CANCELLED],
              outcomes[orders::v1::ORDER_STATUS_REFUNDED],
              kOrders - outcomes[orders::v1::ORDER_STATUS_CANCELLED] -
                  outcomes[orders::v1::ORDER_STATUS_REFUNDED]);
  for (auto& [status, ms] : took_ms) {
    std::sort(ms.begin(), ms.end());
    std::printf("cancel race: CancelOrder answered %s in p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
                orders::v1::OrderStatus_Name(static_cast<orders::v1::OrderStatus>(status)).c_str(),
                ms[ms.size() / 2], ms[static_cast<size_t>(0.99 * (ms.size() - 1))], ms.back());
  }
  // Both sides of the race happened: cancelled before the payment, and after it.
  EXPECT_GT(outcomes[orders::v1::ORDER_STATUS_CANCELLED], 0);
  EXPECT_GT(outcomes[orders::v1::ORDER_STATUS_REFUNDED], 0);
  ExpectSettledInvariants(system, users, placed, deposited);
}

}  // namespace
}  // namespace choreo::e2e
