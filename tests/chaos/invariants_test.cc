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
constexpr int kCancelled = orders::v1::ORDER_STATUS_CANCELLED;
constexpr int kRefundPending = orders::v1::ORDER_STATUS_REFUND_PENDING;
constexpr int kRefunded = orders::v1::ORDER_STATUS_REFUNDED;

OrderFacts Healthy(const std::string& user, int status, int64_t total) {
  OrderFacts order;
  order.user = user;
  order.accepted = true;
  order.truth_status = status;
  order.truth_history = {kPending, status};
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
  // A paid order cancelled and refunded: notified twice, PAID and REFUNDED.
  OrderFacts& o4 = facts.orders["o4"] = Healthy("bob", kPaid, 200);
  o4.truth_status = o4.view_status = kRefunded;
  o4.truth_history = {kPending, kPaid, kRefundPending, kRefunded};
  o4.view_history = {{0, kPending}, {kPending, kPaid}, {kPaid, kRefundPending},
                     {kRefundPending, kRefunded}};
  o4.statuses_on_topic = o4.truth_history;
  o4.cancel_on_topic = true;
  o4.refunds = 1;
  o4.refunded = 200;
  o4.notifications_requested[kRefunded] = {"n-o4-refunded"};
  o4.notifications_sent.insert("n-o4-refunded");
  // A pending order cancelled, whose payment landed afterwards and was handed back.
  OrderFacts& o5 = facts.orders["o5"] = Healthy("bob", kCancelled, 100);
  o5.cancel_on_topic = true;
  o5.successful_debits = o5.refunds = 1;
  o5.debited = o5.refunded = 100;
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
  facts.orders["o2"].truth_history = {kPending};
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

  facts = HealthyRun();
  facts.orders["o4"].notifications_requested.erase(kPaid);  // I6: PAID passed through, never told
  EXPECT_THAT(Broken(facts), ::testing::UnorderedElementsAre("I6 o4"));
}

TEST(InvariantsTest, CompensationCatchesEveryWrongRefund) {
  RunFacts facts = HealthyRun();
  facts.orders["o4"].refunds = 2;  // I7 three times: two refunds, more than debited, REFUNDED
  facts.orders["o4"].refunded = 400;  // twice its total; and I3: the extra refund kept
  facts.balances["bob"] = 1200;
  EXPECT_THAT(Broken(facts), ::testing::UnorderedElementsAre("I7 o4", "I7 o4", "I7 o4", "I3 o4",
                                                             "I3 bob"));

  facts = HealthyRun();
  facts.orders["o4"].truth_status = facts.orders["o4"].view_status = kRefundPending;
  facts.orders["o4"].view_history.pop_back();     // I1: stuck waiting for billing's refund
  facts.orders["o4"].truth_history.erase(kRefunded);
  facts.orders["o4"].notifications_requested.erase(kRefunded);
  EXPECT_THAT(Broken(facts), ::testing::Contains("I1 o4"));

  facts = HealthyRun();
  facts.orders["o5"].cancel_on_topic = false;     // I7: cancelled by nobody
  facts.orders["o1"].refunds = 1;                 // I7 (and I4): a PAID order refunded
  facts.orders["o1"].refunded = 500;
  facts.balances["ann"] = 1000;
  EXPECT_THAT(Broken(facts),
              ::testing::UnorderedElementsAre("I7 o5", "I7 o1", "I4 o1", "I3 ann"));

  facts = HealthyRun();
  facts.orders["o3"].successful_debits = 0;       // I7: a refund with no debit (and I3)
  facts.orders["o3"].debited = 0;
  facts.balances["bob"] = 1300;
  EXPECT_THAT(Broken(facts), ::testing::UnorderedElementsAre("I7 o3", "I3 o3", "I3 bob"));
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
