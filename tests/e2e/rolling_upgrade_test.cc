// A rolling upgrade of an event's producer on Apache Kafka: PaymentProcessed moves from revision 1
// (success) to 2 (outcome). Billing of revision 1 runs, one of revision 2 joins its group and
// both write side by side, the first is upgraded in place, the extra one leaves; all the while
// clients place orders (paid and short of funds) and the order service (two instances) reads
// both revisions, upcasting revision 1. Every saga invariant holds, and no order short of funds
// is mistaken for a refused one.

#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "choreo/gateway/v1/gateway.grpc.pb.h"
#include "contracts/topics/topics.h"
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

TEST(RollingUpgradeTest, PaymentRevisionsOneAndTwoSideBySideKeepEveryInvariant) {
  LocalSystem system(Binaries::Built(), {.billing_flags = {"--payment-revision", "1"}});
  {
    const absl::Status started = system.Start();
    ASSERT_TRUE(started.ok()) << started;
  }
  ASSERT_TRUE(system.StartInstance("order", "order-2").ok());
  constexpr int kUsers = 6, kClients = 6, kOrders = 180;
  TestUsers users(system.gateway());
  std::map<std::string, int64_t> deposited;
  for (int u = 0; u < kUsers; ++u) {
    // Half the users can pay for a few orders only: the rest are short of funds.
    const std::string user = absl::StrCat("up", u);
    const int64_t funds = u % 2 == 0 ? 1000000 : 199 * 5;
    ASSERT_TRUE(users.SignUpFunded(user, funds).ok()) << user;
    deposited[user] = funds;
  }
  std::vector<chaos::PlacedOrder> placed(kOrders);
  std::vector<grpc::Status> answers(kOrders);
  std::vector<gateway::v1::Order> orders(kOrders);
  std::atomic<int> next{0}, completed{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&] {
      auto stub = gateway::v1::OrderService::NewStub(
          grpc::CreateChannel(system.gateway(), grpc::InsecureChannelCredentials()));
      for (int i = next++; i < kOrders; i = next++) {
        placed[i] = {absl::StrCat("up", i % kUsers), absl::StrCat("o", i)};
        const gateway::v1::CreateOrderRequest request = OrderRequest(placed[i].request_id);
        answers[i] = CallRetrying(users, placed[i].user, [&](grpc::ClientContext& context) {
          return stub->CreateOrder(&context, request, &orders[i]);
        });
        ++completed;
      }
    });
  }
  auto at = [&](int percent) {
    return testing::WaitUntil([&] { return completed.load() >= kOrders * percent / 100; },
                              absl::Seconds(300));
  };
  // The upgrade, step by step, with orders in flight at each (a step that fails is reported
  // and the rest skipped; the clients are always joined).
  const bool upgraded =
      at(20) && system.StartInstance("billing", "billing-new", {"--payment-revision", "2"}).ok() &&
      at(50) && system.Upgrade("billing", {"--payment-revision", "2"}).ok() && at(75) &&
      system.Stop("billing-new").ok();
  EXPECT_TRUE(upgraded) << "the upgrade stopped at " << completed.load() << " orders";
  for (std::thread& client : clients) client.join();
  ASSERT_TRUE(upgraded);

  std::map<orders::v1::OrderStatus, int> statuses;
  for (int i = 0; i < kOrders; ++i) {
    ASSERT_TRUE(answers[i].ok()) << placed[i].request_id << ": " << answers[i].error_message();
    ++statuses[orders[i].status()];
  }
  // Short of funds, whichever revision said so: never mistaken for a refused payment.
  EXPECT_GT(statuses[orders::v1::ORDER_STATUS_PAID], 0);
  EXPECT_GT(statuses[orders::v1::ORDER_STATUS_INSUFFICIENT_FUNDS], 0);
  EXPECT_EQ(statuses[orders::v1::ORDER_STATUS_PAID] +
                statuses[orders::v1::ORDER_STATUS_INSUFFICIENT_FUNDS],
            kOrders);
  // Both revisions were written, and read.
  std::map<std::string, int> revisions;
  auto records = testing::ReadTopicToEnd(system.kafka(), std::string(topics::kBillingPayments));
  ASSERT_TRUE(records.ok()) << records.status();
  for (const KafkaRecord& record : *records) {
    if (record.Header(codec::kHeaderType) == "choreo.billing.v1.PaymentProcessed") {
      ++revisions[std::string(record.Header(codec::kHeaderSchemaVersion).value_or(""))];
    }
  }
  std::printf(
      "rolling upgrade: %d orders, %d PAID, %d INSUFFICIENT_FUNDS; PaymentProcessed "
      "revision 1: %d, revision 2: %d\n",
      kOrders, statuses[orders::v1::ORDER_STATUS_PAID],
      statuses[orders::v1::ORDER_STATUS_INSUFFICIENT_FUNDS], revisions["1"], revisions["2"]);
  EXPECT_GT(revisions["1"], 0);
  EXPECT_GT(revisions["2"], 0);
  ExpectSettledInvariants(system, users, placed, deposited);
}

}  // namespace
}  // namespace choreo::e2e
