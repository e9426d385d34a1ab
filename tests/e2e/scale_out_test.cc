// Work that is not driven by Kafka's partitions, with several instances of its service: the order
// service's deadline scanner. Three instances of every service, on a Redis Cluster: every
// deadline is published once, not once per instance. (The users' outbox relay, the other such
// work, is checked with several instances in user_store_test.)

#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "choreo/gateway/v1/gateway.grpc.pb.h"
#include "contracts/topics/topics.h"
#include "gtest/gtest.h"
#include "testing/topic_reader.h"
#include "tests/e2e/retrying_call.h"
#include "tests/e2e/system.h"

namespace choreo::e2e {
namespace {

// Events of `type` on `topic`, counted by record key.
std::map<std::string, int> CountByKey(const LocalSystem& system, absl::string_view topic,
                                      absl::string_view type) {
  std::map<std::string, int> counts;
  absl::StatusOr<std::vector<KafkaRecord>> records =
      testing::ReadTopicToEnd(system.kafka(), std::string(topic), absl::Seconds(60));
  EXPECT_TRUE(records.ok()) << records.status();
  for (const KafkaRecord& record : records.value_or(std::vector<KafkaRecord>{})) {
    if (record.Header("ce_type") == type) ++counts[record.key];
  }
  return counts;
}

TEST(ScaleOutTest, SeveralOrderServiceInstancesPublishEachDeadlineOnce) {
  LocalSystem system(Binaries::Built(), {.instances = 3,
                                         .redis_cluster_masters = 3,
                                         .order_flags = {"--order-expiry", "2s",
                                                         "--deadline-scan-interval", "100ms"}});
  {
    const absl::Status started = system.Start();
    ASSERT_TRUE(started.ok()) << started;
  }
  constexpr int kUsers = 12;
  TestUsers users(system.gateway());
  for (int u = 0; u < kUsers; ++u) {  // round robin over the three user service instances
    const grpc::Status signed_up = users.SignUp(absl::StrCat("scale", u));
    ASSERT_TRUE(signed_up.ok()) << signed_up.error_message();
  }
  // No billing: every order waits for a payment until its deadline passes.
  for (const char* billing : {"billing", "billing-2", "billing-3"}) {
    ASSERT_TRUE(system.Kill(billing).ok()) << billing;
  }
  auto channel = grpc::CreateChannel(system.gateway(), grpc::InsecureChannelCredentials());
  auto orders = gateway::v1::OrderService::NewStub(channel);
  std::vector<gateway::v1::Order> answers(kUsers);
  std::vector<grpc::Status> statuses(kUsers);
  std::vector<std::thread> clients;
  for (int u = 0; u < kUsers; ++u) {
    clients.emplace_back([&, u] {
      const std::string user = absl::StrCat("scale", u);
      statuses[u] = CallRetrying(users, user, [&](grpc::ClientContext& context) {
        return orders->CreateOrder(&context, OrderRequest("expiring"), &answers[u]);
      });
    });
  }
  for (std::thread& client : clients) client.join();
  for (int u = 0; u < kUsers; ++u) {
    ASSERT_TRUE(statuses[u].ok()) << statuses[u].error_message();
    EXPECT_EQ(answers[u].status(), orders::v1::ORDER_STATUS_EXPIRED) << answers[u].order_id();
  }

  const std::map<std::string, int> deadlines =
      CountByKey(system, topics::kOrdersDeadlines, "choreo.orders.v1.OrderDeadlinePassed");
  int deadline_events = 0;
  for (const gateway::v1::Order& order : answers) {
    EXPECT_EQ(deadlines.count(order.order_id()) ? deadlines.at(order.order_id()) : 0, 1)
        << order.order_id();
  }
  for (const auto& [order_id, count] : deadlines) deadline_events += count;
  std::printf(
      "scale-out: 3 order service instances published %d OrderDeadlinePassed for %d "
      "expired orders\n",
      deadline_events, kUsers);
}

}  // namespace
}  // namespace choreo::e2e
