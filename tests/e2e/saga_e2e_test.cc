// The whole system as processes on Apache Kafka: 1,000 orders from 20 concurrent clients across
// 50 users with known balances, some of whom run out of money; then the saga's invariants. The
// same again while the order and billing services are SIGKILLed and restarted during the run,
// while more instances of them join and leave their consumer groups, while one broker of a
// three-node Kafka cluster is killed and restarted, and on a Redis Cluster whose master is killed
// and replaced by its replica.

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "choreo/billing/v1/events.pb.h"
#include "choreo/gateway/v1/gateway.grpc.pb.h"
#include "choreo/orders/v1/events.pb.h"
#include "contracts/topics/topics.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "saga/codec/event_codec.h"
#include "services/order/core/catalog.h"
#include "services/order/core/order_decisions.h"
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

constexpr int kUsers = 50;
constexpr int kClients = 20;
constexpr int kOrders = 1000;

std::string User(int i) { return absl::StrCat("user", i); }

struct Placed {
  std::string user;
  std::string request_id;
  Order order;  // the final answer
  int attempts = 0;
  std::string first_error;  // of the first attempt that failed, if any
  absl::Duration latency;  // from the first attempt to the answer
};

class Client {
 public:
  Client(const std::string& gateway, const TestUsers* users)
      : users_(users),
        channel_(grpc::CreateChannel(gateway, grpc::InsecureChannelCredentials())),
        orders_(gateway::v1::OrderService::NewStub(channel_)),
        accounts_(gateway::v1::AccountService::NewStub(channel_)) {}

  // Each attempt's deadline: the gateway's own limit on waiting for a saga.
  static constexpr absl::Duration kAttemptDeadline = absl::Seconds(30);

  // The call, retried while UNAVAILABLE or DEADLINE_EXCEEDED (CallRetrying).
  template <typename Call>
  grpc::Status Retrying(const std::string& user, Call call, int* attempts = nullptr,
                        std::string* first_error = nullptr) {
    return CallRetrying(*users_, user, std::move(call),
                        {.attempt = kAttemptDeadline, .attempts = attempts,
                         .first_error = first_error});
  }

  gateway::v1::OrderService::Stub& orders() { return *orders_; }
  gateway::v1::AccountService::Stub& accounts() { return *accounts_; }

 private:
  const TestUsers* users_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<gateway::v1::OrderService::Stub> orders_;
  std::unique_ptr<gateway::v1::AccountService::Stub> accounts_;
};

// What a run saw, beyond the invariants.
struct RunSummary {
  int retried = 0;  // orders whose CreateOrder needed more than one call
  absl::Duration max_latency;
};

// Places the orders (while `chaos`, if given, runs on this thread beside the client threads,
// seeing how many orders have completed: processes it restarts must be started by a thread that
// lives as long as they do) and checks every invariant. Client c calls gateways[c % size], or the
// system's gateway. Failures are reported through gtest.
void RunSagaAndCheckInvariants(LocalSystem& system,
                               const std::function<void(const std::atomic<int>&)>& chaos,
                               RunSummary* summary = nullptr,
                               std::vector<std::string> gateways = {}) {
  if (gateways.empty()) gateways.push_back(system.gateway());
  const order::Catalog catalog = order::Catalog::Default();
  TestUsers users(system.gateway());
  Client setup(system.gateway(), &users);

  // 50 users with known deposits, 100.00 to 3,040.00 USD; each places ~20 orders of ~130 USD
  // on average, so the poorer half runs out of money part way.
  std::map<std::string, int64_t> deposited;
  for (int u = 0; u < kUsers; ++u) {
    const std::string user = User(u);
    const grpc::Status signed_up = users.SignUp(user);
    ASSERT_TRUE(signed_up.ok()) << user << ": " << signed_up.error_message();
    gateway::v1::DepositRequest deposit;
    deposit.set_request_id(absl::StrCat("deposit-", user));
    deposit.mutable_amount()->set_minor_units(10000 + 6000 * u);
    deposit.mutable_amount()->set_currency("USD");
    gateway::v1::DepositResponse response;
    grpc::Status status = setup.Retrying(user, [&](grpc::ClientContext& c) {
      return setup.accounts().Deposit(&c, deposit, &response);
    });
    ASSERT_TRUE(status.ok()) << user << ": " << status.error_message();
    deposited[user] = deposit.amount().minor_units();
  }

  std::atomic<int> completed{0};
  std::vector<Placed> placed(kOrders);
  std::atomic<int> next{0};
  std::atomic<int> failures{0};
  const absl::Time started = absl::Now();
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      Client client(gateways[c % gateways.size()], &users);
      std::mt19937 random(1000 + c);
      for (int i = next++; i < kOrders; i = next++) {
        Placed& p = placed[i];
        p.user = User(random() % kUsers);
        p.request_id = absl::StrCat("order-", i);
        gateway::v1::CreateOrderRequest request = OrderRequest(p.request_id, "");
        const int lines = 1 + random() % 3;
        for (int l = 0; l < lines; ++l) {
          const auto& product = catalog.items()[random() % catalog.items().size()];
          orders::v1::OrderItem* item = request.add_items();
          item->set_sku(product.sku());
          item->set_quantity(1 + random() % 2);
        }
        const absl::Time sent = absl::Now();
        grpc::Status status = client.Retrying(
            p.user,
            [&](grpc::ClientContext& context) {
              return client.orders().CreateOrder(&context, request, &p.order);
            },
            &p.attempts, &p.first_error);
        p.latency = absl::Now() - sent;
        ++completed;
        if (!status.ok()) {
          ++failures;
          ADD_FAILURE() << p.request_id << ": " << status.error_code() << " "
                        << status.error_message();
        }
      }
    });
  }
  if (chaos) chaos(completed);
  for (std::thread& t : clients) t.join();
  const absl::Duration elapsed = absl::Now() - started;
  ASSERT_EQ(failures, 0);

  // Every answer is terminal and none refused as invalid.
  int paid = 0, refused = 0, retried = 0;
  std::vector<chaos::PlacedOrder> to_check;
  std::map<std::string, std::string> correlation_of;  // order id -> correlation id
  for (const Placed& p : placed) {
    const Order& order = p.order;
    if (p.attempts > 1 && retried++ < 5) {
      std::printf("e2e: %s needed %d calls; first failure: %s\n", p.request_id.c_str(), p.attempts,
                  p.first_error.c_str());
    }
    EXPECT_TRUE(order::IsTerminal(order.status())) << p.request_id;
    EXPECT_EQ(order.order_id(), order::OrderIdFor(ids::Username(p.user), p.request_id).value());
    EXPECT_NE(order.status(), orders::v1::ORDER_STATUS_REJECTED) << order.reason();
    paid += order.status() == orders::v1::ORDER_STATUS_PAID;
    refused += order.status() == orders::v1::ORDER_STATUS_INSUFFICIENT_FUNDS;
    correlation_of[order.order_id()] = order.correlation_id();
    to_check.push_back({p.user, p.request_id});
  }
  EXPECT_GT(paid, 0);
  EXPECT_GT(refused, 0);  // some users ran out of money

  // The saga's invariants (tests/chaos/invariants.h) over what the system holds once it has
  // settled (notifications follow their sagas): every violation is reported, not only the first.
  ExpectSettledInvariants(system, users, to_check, deposited);

  // Beyond them: every event of one order carries the order's correlation id.
  std::map<std::string, std::set<std::string>> seen;  // order id -> correlation ids
  codec::EventCodec codec;
  ASSERT_TRUE(codec.Register<orders::v1::OrderCreationRequested>().ok());
  ASSERT_TRUE(codec.Register<orders::v1::OrderCreated>().ok());
  ASSERT_TRUE(codec.Register<orders::v1::OrderStatusUpdated>().ok());
  ASSERT_TRUE(codec.Register<billing::v1::PaymentProcessed>().ok());
  for (absl::string_view topic : {topics::kOrdersRequests, topics::kOrdersCreated,
                                  topics::kBillingPayments, topics::kOrdersStatus}) {
    auto records = testing::ReadTopicToEnd(system.kafka(), std::string(topic), absl::Seconds(60));
    ASSERT_TRUE(records.ok()) << records.status();
    for (const KafkaRecord& record : *records) {
      auto decoded = codec.Decode(record);
      ASSERT_TRUE(decoded.ok()) << decoded.status();
      std::string order_id;
      if (auto* e = dynamic_cast<orders::v1::OrderCreationRequested*>(decoded->message.get())) {
        order_id = order::OrderIdFor(ids::Username(e->username()), e->request_id()).value();
      } else if (auto* e = dynamic_cast<orders::v1::OrderCreated*>(decoded->message.get())) {
        order_id = e->order_id();
      } else if (auto* e = dynamic_cast<orders::v1::OrderStatusUpdated*>(decoded->message.get())) {
        order_id = e->order_id();
      } else if (auto* e = dynamic_cast<billing::v1::PaymentProcessed*>(decoded->message.get())) {
        order_id = e->order_id();
      }
      seen[order_id].insert(decoded->meta().correlation_id());
    }
  }
  for (const auto& [order_id, correlation] : correlation_of) {
    EXPECT_THAT(seen[order_id], ::testing::ElementsAre(correlation)) << order_id;
  }
  std::vector<double> latencies;
  for (const Placed& p : placed) latencies.push_back(absl::ToDoubleMilliseconds(p.latency));
  std::sort(latencies.begin(), latencies.end());
  auto at = [&](double q) { return latencies[static_cast<size_t>(q * (latencies.size() - 1))]; };
  std::printf("e2e: %d orders from %d clients over %d users in %.1f s (%.0f orders/s): "
              "%d PAID, %d INSUFFICIENT_FUNDS, %d needed a retry, failures: %d; "
              "CreateOrder latency ms p50 %.1f p90 %.1f p99 %.1f max %.1f\n",
              kOrders, kClients, kUsers, absl::ToDoubleSeconds(elapsed),
              kOrders / absl::ToDoubleSeconds(elapsed), paid, refused, retried, failures.load(),
              at(0.5), at(0.9), at(0.99), latencies.back());
  if (summary != nullptr) {
    summary->retried = retried;
    summary->max_latency = absl::Milliseconds(latencies.back());
  }
}

// Runs `steps` in order, each once `percent` of the orders have completed.
struct ChaosStep {
  int percent;
  std::function<absl::Status()> action;
  std::string what;
};
void RunChaos(const std::atomic<int>& completed, const std::vector<ChaosStep>& steps) {
  for (const ChaosStep& step : steps) {
    if (!testing::WaitUntil([&] { return completed.load() >= kOrders * step.percent / 100; },
                            absl::Seconds(600))) {
      ADD_FAILURE() << "no progress to " << step.percent << "% of the orders";
      return;
    }
    const absl::Status done = step.action();
    ASSERT_TRUE(done.ok()) << step.what << ": " << done;
    std::printf("e2e chaos at %d%%: %s\n", step.percent, step.what.c_str());
  }
}

TEST(SagaEndToEndTest, ThousandOrdersKeepEveryInvariant) {
  LocalSystem system(Binaries::Built(), {});
  {
    const absl::Status started = system.Start();
    ASSERT_TRUE(started.ok()) << started;
  }
  RunSagaAndCheckInvariants(system, nullptr);
}

TEST(SagaEndToEndTest, InvariantsHoldWhileOrderAndBillingAreKilledAndRestarted) {
  LocalSystem system(Binaries::Built(), {});
  {
    const absl::Status started = system.Start();
    ASSERT_TRUE(started.ok()) << started;
  }
  int kills = 0;
  RunSagaAndCheckInvariants(system, [&](const std::atomic<int>& completed) {
    // SIGKILL and restart order, billing, order, billing as 15%, 35%, 55% and 75% of the orders
    // complete: each time with requests, payments and offsets in flight.
    const int at[] = {kOrders * 15 / 100, kOrders * 35 / 100, kOrders * 55 / 100,
                      kOrders * 75 / 100};
    for (int round = 0; round < 4; ++round) {
      if (!testing::WaitUntil([&] { return completed.load() >= at[round]; },
                              absl::Seconds(600))) {
        ADD_FAILURE() << "no progress to " << at[round] << " orders";
        return;
      }
      const std::string victim = round % 2 == 0 ? "order" : "billing";
      ASSERT_TRUE(system.Kill(victim).ok()) << victim;
      ASSERT_TRUE(system.Restart(victim).ok()) << victim;
      ++kills;
    }
  });
  std::printf("e2e chaos: %d SIGKILL + restart cycles\n", kills);
  EXPECT_EQ(kills, 4);
}

TEST(SagaEndToEndTest, InstancesJoiningAndLeavingTheirGroupsKeepEveryInvariant) {
  LocalSystem system(Binaries::Built(), {});
  {
    const absl::Status started = system.Start();
    ASSERT_TRUE(started.ok()) << started;
  }
  auto start = [&](const std::string& service, const std::string& name) {
    return ChaosStep{0, [&system, service, name] { return system.StartInstance(service, name).status(); },
                     "start " + name};
  };
  auto at = [](int percent, ChaosStep step) {
    step.percent = percent;
    return step;
  };
  RunSagaAndCheckInvariants(system, [&](const std::atomic<int>& completed) {
    // Two and then three instances of order and billing share their groups' partitions; then
    // one of each leaves cleanly (SIGTERM: drain, commit, leave) and one dies (SIGKILL: its
    // partitions move when its session times out).
    RunChaos(completed,
             {at(10, start("order", "order-2")), at(10, start("billing", "billing-2")),
              at(25, start("order", "order-3")), at(25, start("billing", "billing-3")),
              {45, [&] { return system.Stop("order-2"); }, "SIGTERM order-2"},
              {45, [&] { return system.Kill("billing-2"); }, "SIGKILL billing-2"},
              {65, [&] { return system.Kill("order-3"); }, "SIGKILL order-3"},
              {65, [&] { return system.Stop("billing-3"); }, "SIGTERM billing-3"}});
  });
}

TEST(SagaEndToEndTest, OneOfThreeKafkaBrokersKilledAndRestartedKeepsEveryInvariant) {
  // RF 3, min.insync.replicas 2: one broker down leaves every partition writable.
  LocalSystem system(Binaries::Built(), {.kafka_nodes = 3});
  {
    const absl::Status started = system.Start();
    ASSERT_TRUE(started.ok()) << started;
  }
  testing::KafkaCluster& kafka = *system.kafka_cluster();
  RunSummary summary;
  RunSagaAndCheckInvariants(
      system,
      [&](const std::atomic<int>& completed) {
        RunChaos(completed, {{30, [&] { return kafka.Kill(1); }, "SIGKILL Kafka node 2"},
                             {60, [&] { return kafka.Restart(1); }, "restart Kafka node 2"}});
      },
      &summary);
  // Every CreateOrder answered within its deadline: a failover pauses the saga, it does not
  // make a client call again.
  EXPECT_EQ(summary.retried, 0);
  EXPECT_LT(summary.max_latency, Client::kAttemptDeadline);
}

TEST(SagaEndToEndTest, EveryServiceAsSeveralInstancesOnARedisClusterKeepsEveryInvariant) {
  // Two instances of every service from the start (the gateway calls them round robin), two
  // gateways sharing the clients, on a three-master Redis Cluster. Mid-run a third instance of
  // each service joins its groups; then instances leave, cleanly or killed.
  LocalSystem system(Binaries::Built(), {.instances = 2, .redis_cluster_masters = 3});
  {
    const absl::Status started = system.Start();
    ASSERT_TRUE(started.ok()) << started;
  }
  absl::StatusOr<std::string> second_gateway = system.StartGateway("gateway-2");
  ASSERT_TRUE(second_gateway.ok()) << second_gateway.status();
  ASSERT_TRUE(system.WaitReady("gateway-2", absl::Seconds(60)).ok());
  auto start = [&](const std::string& service) {
    const std::string name = service + "-3";
    return ChaosStep{
        20, [&system, service, name] { return system.StartInstance(service, name).status(); },
        "start " + name};
  };
  RunSagaAndCheckInvariants(
      system,
      [&](const std::atomic<int>& completed) {
        RunChaos(completed,
                 {start("order"),
                  start("billing"),
                  start("users"),
                  start("notification"),
                  {50, [&] { return system.Stop("order-2"); }, "SIGTERM order-2"},
                  {50, [&] { return system.Kill("billing-2"); }, "SIGKILL billing-2"},
                  {50, [&] { return system.Stop("notification-2"); }, "SIGTERM notification-2"},
                  {70, [&] { return system.Kill("users-2"); }, "SIGKILL users-2"},
                  {70, [&] { return system.Kill("order-3"); }, "SIGKILL order-3"}});
      },
      nullptr, {system.gateway(), *second_gateway});
}

TEST(SagaEndToEndTest, OnARedisClusterAKilledMasterIsReplacedAndEveryInvariantHolds) {
  // Three masters with a replica each, appendfsync always on every node: every process is given
  // the nodes as seeds and routes each key to its master.
  LocalSystem system(Binaries::Built(),
                     {.redis_appendfsync = "always", .redis_cluster_masters = 3});
  {
    const absl::Status started = system.Start();
    ASSERT_TRUE(started.ok()) << started;
  }
  testing::RedisCluster& redis = *system.redis_cluster();
  int victim = -1;
  RunSagaAndCheckInvariants(system, [&](const std::atomic<int>& completed) {
    // The master of some accounts, state and markers dies (SIGKILL) at 30%: its replica takes
    // over. At 60% it comes back, as the new master's replica.
    RunChaos(completed,
             {{30,
               [&]() -> absl::Status {
                 absl::StatusOr<int> master = redis.MasterOf("state:{billing.account:user1}");
                 if (!master.ok()) return master.status();
                 victim = *master;
                 return redis.node(victim).Kill();
               },
               "SIGKILL the Redis master of user1's account"},
              {60, [&] { return redis.node(victim).Restart(); }, "restart that Redis node"}});
  });
  ASSERT_GE(victim, 0);
  absl::StatusOr<int> master = redis.MasterOf("state:{billing.account:user1}");
  ASSERT_TRUE(master.ok()) << master.status();
  EXPECT_NE(*master, victim) << "its replica took over";
}

}  // namespace
}  // namespace choreo::e2e
