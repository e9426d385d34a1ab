// The invariant checker on made-up facts: a healthy run passes, and each invariant catches the
// failure it is there for (the negative controls: a checker that cannot fail proves nothing).

#include "tests/chaos/invariants.h"

#include "choreo/orders/v1/order.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace choreo::chaos {
namespace {

constexpr int kPending = orders::v1::ORDER_STATUS_PENDING_VALIDATION;
constexpr int kPaid = orders::v1::ORDER_STATUS_PAID;
constexpr int kRefused = orders::v1::ORDER_STATUS_INSUFFICIENT_FUNDS;
constexpr int kExpired = orders::v1::ORDER_STATUS_EXPIRED;

OrderFacts Healthy(const std::string& user, int status, int64_t total) {
  OrderFacts order;
  order.user = user;
  order.accepted = true;
  order.truth_status = status;
  order.view_status = status;
  order.view_history = {{0, kPending}, {kPending, status}};
  order.total = total;
  if (status == kPaid) {
    order.successful_debits = 1;
    order.debited = total;
  }
  order.requested_on_topic = true;
  order.created_on_topic = true;
  order.statuses_on_topic = {kPending, status};
  order.notifications_requested[status] = {"n-" + user + std::to_string(status)};
  order.notifications_sent = {"n-" + user + std::to_string(status)};
  return order;
}

RunFacts HealthyRun() {
  RunFacts facts;
  facts.orders["o1"] = Healthy("ann", kPaid, 500);
  facts.orders["o2"] = Healthy("ann", kRefused, 9000);
  facts.orders["o3"] = Healthy("bob", kExpired, 300);
  // A payment after expiry, handed back.
  facts.orders["o3"].successful_debits = 1;
  facts.orders["o3"].debited = 300;
  facts.orders["o3"].refunds = 1;
  facts.orders["o3"].refunded = 300;
  facts.deposited = {{"ann", 1000}, {"bob", 1000}};
  facts.balances = {{"ann", 500}, {"bob", 1000}};
  return facts;
}

std::vector<std::string> Broken(const RunFacts& facts) {
  std::vector<std::string> found;
  for (const Violation& v : CheckInvariants(facts)) found.push_back(v.invariant + " " + v.subject);
  return found;
}

TEST(InvariantsTest, AHealthyRunHasNoViolation) {
  EXPECT_THAT(Broken(HealthyRun()), ::testing::IsEmpty());
}

TEST(InvariantsTest, EachInvariantCatchesItsFailureAndEveryViolationIsReported) {
  RunFacts facts = HealthyRun();
  facts.orders["o1"].view_status = kPending;      // I1: a stale view
  facts.orders["o1"].view_history = {{0, kPending}};
  facts.orders["o2"].truth_status = kPending;     // I1: stuck (I6: notified for a status
  facts.orders["o2"].view_status = kPending;      // it does not hold)
  facts.orders["o2"].view_history = {{0, kPending}};
  EXPECT_THAT(Broken(facts), ::testing::UnorderedElementsAre("I1 o1", "I1 o2", "I6 o2"));

  facts = HealthyRun();
  facts.orders["o1"].view_history = {{0, kPaid}};  // I1: a history that skips a step
  facts.orders["o2"].view_history.pop_back();      // I1: one that ends elsewhere
  EXPECT_THAT(Broken(facts), ::testing::UnorderedElementsAre("I1 o1", "I1 o2"));

  facts = HealthyRun();
  facts.orders["o1"].successful_debits = 2;       // I2 (and I4: debited twice the total)
  facts.orders["o1"].debited = 1000;
  facts.balances["ann"] = 0;                      // I3: the second debit shows in the balance
  EXPECT_THAT(Broken(facts), ::testing::UnorderedElementsAre("I2 o1", "I4 o1", "I3 ann"));

  facts = HealthyRun();
  facts.orders["o3"].refunds = 0;                 // I3: a late payment kept
  facts.orders["o3"].refunded = 0;
  facts.balances["bob"] = 700;
  EXPECT_THAT(Broken(facts), ::testing::UnorderedElementsAre("I3 o3", "I3 bob"));

  facts = HealthyRun();
  facts.orders["o1"].successful_debits = 0;       // I4: PAID for free
  facts.orders["o1"].debited = 0;
  EXPECT_THAT(Broken(facts), ::testing::UnorderedElementsAre("I4 o1"));

  facts = HealthyRun();
  facts.orders["o1"].statuses_on_topic = {kPending};  // I5: the terminal status lost
  facts.orders["o2"].requested_on_topic = false;      // I5: the request lost
  EXPECT_THAT(Broken(facts), ::testing::UnorderedElementsAre("I5 o1", "I5 o2"));

  facts = HealthyRun();
  facts.orders["o1"].notifications_requested[kPaid].insert("n-other");  // I6: two
  facts.orders["o2"].notifications_sent.clear();                        // I6: no outcome
  facts.orders["o3"].notifications_requested[kPaid] = {"n-x"};          // I6: wrong status
  EXPECT_THAT(Broken(facts), ::testing::UnorderedElementsAre("I6 o1", "I6 o2", "I6 o3"));
}

TEST(InvariantsTest, AnOrderThatNeverReachedTheOrderServiceIsNotJudged) {
  RunFacts facts = HealthyRun();
  OrderFacts lost;
  lost.user = "ann";
  facts.orders["o9"] = lost;  // its client's call failed before the order service had it
  EXPECT_THAT(Broken(facts), ::testing::IsEmpty());
}

}  // namespace
}  // namespace choreo::chaos
