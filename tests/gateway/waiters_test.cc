#include "gateway/waiters.h"

#include <atomic>

#include "absl/synchronization/notification.h"
#include "choreo/billing/v1/events.pb.h"
#include "choreo/gateway/v1/gateway.pb.h"
#include "gateway/event_feed.h"
#include "gtest/gtest.h"

namespace choreo::gateway {
namespace {

TEST(WaitersTest, AWaiterGetsItsKeysTypedPayloadOnce) {
  Waiters waiters(10);
  std::atomic<int> events{0};
  std::string seen;
  absl::StatusOr<uint64_t> id = waiters.Add(
      OrderWaitKey(ids::OrderId("o1")), absl::Now() + absl::Minutes(1),
      [&](const gateway::v1::Order& view) {
        seen = view.order_id();
        ++events;
        return true;
      },
      [] { ADD_FAILURE() << "timed out"; });
  ASSERT_TRUE(id.ok());
  gateway::v1::Order view;
  view.set_order_id("o1");
  waiters.Notify(OrderWaitKey(ids::OrderId("o2")), view);  // another key
  EXPECT_EQ(events.load(), 0);
  waiters.Notify(OrderWaitKey(ids::OrderId("o1")), view);
  waiters.Notify(OrderWaitKey(ids::OrderId("o1")), view);  // done: no second call
  EXPECT_EQ(events.load(), 1);
  EXPECT_EQ(seen, "o1");
  EXPECT_EQ(waiters.size(), 0u);
  EXPECT_FALSE(waiters.Remove(*id));
}

TEST(WaitersTest, APayloadOfAnotherTypeNeverReachesAWaiter) {
  Waiters waiters(10);
  std::atomic<int> events{0};
  ASSERT_TRUE(waiters
                  .Add(DepositWaitKey(ids::CorrelationId("c1")), absl::Now() + absl::Minutes(1),
                       [&](const billing::v1::FundsDeposited&) {
                         ++events;
                         return true;
                       },
                       nullptr)
                  .ok());
  // The same name, typed for another payload.
  waiters.Notify(WaitKey<billing::v1::AccountOpened>{"deposit:c1"}, billing::v1::AccountOpened());
  EXPECT_EQ(events.load(), 0);
  waiters.Notify(DepositWaitKey(ids::CorrelationId("c1")), billing::v1::FundsDeposited());
  EXPECT_EQ(events.load(), 1);
}

TEST(WaitersTest, TheDeadlineOrTheCapacityEndsAWait) {
  Waiters waiters(1);
  absl::Notification timed_out;
  ASSERT_TRUE(waiters
                  .Add(RegistrationWaitKey(ids::CorrelationId("c1")), absl::Now() + absl::Milliseconds(20),
                       [](const billing::v1::AccountOpened&) { return true; },
                       [&] { timed_out.Notify(); })
                  .ok());
  EXPECT_TRUE(absl::IsResourceExhausted(
      waiters.Add(RegistrationWaitKey(ids::CorrelationId("c2")), absl::Now() + absl::Minutes(1),
                  [](const billing::v1::AccountOpened&) { return true; }, nullptr)
          .status()));
  EXPECT_TRUE(timed_out.WaitForNotificationWithTimeout(absl::Seconds(10)));
}

}  // namespace
}  // namespace choreo::gateway
