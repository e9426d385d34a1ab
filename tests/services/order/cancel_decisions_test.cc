// The order aggregate's cancellation and refund decisions, and their races, with plain values.
// A race here is two events in either order on one aggregate: the runtime serialises an order's
// events, so every interleaving is one of these sequences.

#include "platform/proto_time/proto_time.h"
#include "services/order/core/order_decisions.h"
#include "tests/services/order/order_test_values.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "contracts/topics/topics.h"

namespace choreo::order {
namespace {

using orders::v1::Order;
using ::testing::HasSubstr;

using test_values::kNow;
using test_values::Pending;

template <typename Event>
const Event* Find(const OrderReaction& reaction) {
  for (const saga::OutgoingEvent& out : reaction.events) {
    if (const auto* event = dynamic_cast<const Event*>(out.event.get())) return event;
  }
  return nullptr;
}

billing::v1::PaymentProcessed Payment(const Order& order, bool success) {
  billing::v1::PaymentProcessed payment;
  payment.set_order_id(order.order_id());
  payment.set_username(order.username());
  *payment.mutable_amount() = order.total();
  payment.set_success(success);
  payment.set_outcome(success ? billing::v1::PAYMENT_OUTCOME_CHARGED
                              : billing::v1::PAYMENT_OUTCOME_INSUFFICIENT_FUNDS);
  return payment;
}

Order Paid() { return *OnPaymentProcessed(Pending(), Payment(Pending(), true), kNow)->state; }

orders::v1::OrderCancellationRequested Cancel(const Order& order, const std::string& request_id,
                                              const std::string& user = "alice") {
  orders::v1::OrderCancellationRequested cancel;
  cancel.set_order_id(order.order_id());
  cancel.set_username(user);
  cancel.set_request_id(request_id);
  cancel.set_reason("changed my mind");
  return cancel;
}

billing::v1::PaymentRefunded Refunded(const Order& order) {
  billing::v1::PaymentRefunded refunded;
  refunded.set_order_id(order.order_id());
  *refunded.mutable_amount() = order.total();
  return refunded;
}

// Applies a reaction's state, if it has one.
Order After(const Order& state, const OrderReaction& reaction) {
  return reaction.state.value_or(state);
}

int Refunds(const OrderReaction& reaction) {
  int count = 0;
  for (const saga::OutgoingEvent& out : reaction.events) count += out.topic == topics::kOrdersRefunds;
  return count;
}

TEST(CancelDecisionsTest, APendingOrderIsCancelledWithTheUsersReason) {
  absl::StatusOr<OrderReaction> cancelled = OnCancellationRequested(Pending(), Cancel(Pending(), "c1"), kNow);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  ASSERT_TRUE(cancelled->state.has_value());
  EXPECT_EQ(cancelled->state->status(), orders::v1::ORDER_STATUS_CANCELLED);
  EXPECT_EQ(cancelled->state->cancel_request_id(), "c1");
  EXPECT_EQ(cancelled->state->cancel_reason(), "changed my mind");
  ASSERT_EQ(cancelled->events.size(), 1u);  // no refund: nothing was paid
  EXPECT_EQ(cancelled->events[0].topic, topics::kOrdersStatus);
  EXPECT_EQ(cancelled->events[0].key, Pending().order_id());
  const auto* status = Find<orders::v1::OrderStatusUpdated>(*cancelled);
  ASSERT_NE(status, nullptr);
  EXPECT_EQ(status->status(), orders::v1::ORDER_STATUS_CANCELLED);
  EXPECT_EQ(status->previous_status(), orders::v1::ORDER_STATUS_PENDING_VALIDATION);
  EXPECT_EQ(status->cancel_request_id(), "c1");
  EXPECT_THAT(status->reason(), HasSubstr("changed my mind"));
}

TEST(CancelDecisionsTest, APaidOrderIsRefundedItsTotalOnceThenEndsRefunded) {
  const Order paid = Paid();
  absl::StatusOr<OrderReaction> cancelled = OnCancellationRequested(paid, Cancel(paid, "c1"), kNow);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  const Order pending_refund = After(paid, *cancelled);
  EXPECT_EQ(pending_refund.status(), orders::v1::ORDER_STATUS_REFUND_PENDING);
  EXPECT_TRUE(pending_refund.refund_requested());
  const auto* refund = Find<orders::v1::PaymentRefundRequested>(*cancelled);
  ASSERT_NE(refund, nullptr);
  EXPECT_EQ(refund->amount().minor_units(), paid.total().minor_units());
  EXPECT_EQ(refund->amount().currency(), paid.total().currency());
  EXPECT_EQ(Refunds(*cancelled), 1);
  EXPECT_EQ(Find<orders::v1::OrderStatusUpdated>(*cancelled)->status(),
            orders::v1::ORDER_STATUS_REFUND_PENDING);

  absl::StatusOr<OrderReaction> refunded = OnPaymentRefunded(pending_refund, Refunded(paid), kNow);
  ASSERT_TRUE(refunded.ok());
  const Order done = After(pending_refund, *refunded);
  EXPECT_EQ(done.status(), orders::v1::ORDER_STATUS_REFUNDED);
  EXPECT_TRUE(done.refunded());
  const auto* status = Find<orders::v1::OrderStatusUpdated>(*refunded);
  ASSERT_NE(status, nullptr);
  EXPECT_EQ(status->status(), orders::v1::ORDER_STATUS_REFUNDED);
  EXPECT_EQ(status->cancel_request_id(), "c1");  // the waiting CancelOrder's answer
  // A repeated confirmation changes nothing.
  EXPECT_FALSE(OnPaymentRefunded(done, Refunded(paid), kNow)->state.has_value());
}

TEST(CancelDecisionsTest, OrdersInOtherStatusesRefuseNamingTheStatus) {
  const Order failed = *OnPaymentProcessed(Pending(), Payment(Pending(), false), kNow)->state;
  const Order expired = *OnDeadlinePassed(Pending(), {}, kNow + absl::Minutes(1)).state;
  for (const Order& order : {failed, expired}) {
    absl::StatusOr<OrderReaction> refused = OnCancellationRequested(order, Cancel(order, "c1"), kNow);
    ASSERT_TRUE(refused.ok());
    EXPECT_FALSE(refused->state.has_value());
    EXPECT_EQ(Refunds(*refused), 0);
    const auto* refusal = Find<orders::v1::OrderCancellationRefused>(*refused);
    ASSERT_NE(refusal, nullptr);
    EXPECT_EQ(refused->events[0].topic, topics::kOrdersStatus);
    EXPECT_EQ(refusal->request_id(), "c1");
    EXPECT_EQ(refusal->status(), order.status());
    EXPECT_THAT(refusal->reason(), HasSubstr(orders::v1::OrderStatus_Name(order.status())));
  }
}

TEST(CancelDecisionsTest, TwoCancelsWithDifferentIdsHaveOneOutcomeAndOneRefund) {
  const Order paid = Paid();
  const Order first = After(paid, *OnCancellationRequested(paid, Cancel(paid, "c1"), kNow));
  absl::StatusOr<OrderReaction> second = OnCancellationRequested(first, Cancel(paid, "c2"), kNow);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->state.has_value());
  EXPECT_EQ(Refunds(*second), 0);
  const auto* refusal = Find<orders::v1::OrderCancellationRefused>(*second);
  ASSERT_NE(refusal, nullptr);
  EXPECT_THAT(refusal->reason(), HasSubstr("already cancelled"));
  EXPECT_THAT(refusal->reason(), HasSubstr("REFUND_PENDING"));
  // ... and after the refund, too.
  const Order done = After(first, *OnPaymentRefunded(first, Refunded(paid), kNow));
  EXPECT_NE(Find<orders::v1::OrderCancellationRefused>(
                *OnCancellationRequested(done, Cancel(paid, "c3"), kNow)),
            nullptr);
}

TEST(CancelDecisionsTest, TheSameCancelAgainReannouncesTheStatusAndChangesNothing) {
  const Order paid = Paid();
  const Order first =
      After(paid, *OnCancellationRequested(paid, Cancel(paid, "c1"), kNow + absl::Seconds(1)));
  absl::StatusOr<OrderReaction> again =
      OnCancellationRequested(first, Cancel(paid, "c1"), kNow + absl::Hours(200));
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->state.has_value());
  EXPECT_EQ(Refunds(*again), 0);
  ASSERT_EQ(again->events.size(), 1u);
  const auto* status = Find<orders::v1::OrderStatusUpdated>(*again);
  ASSERT_NE(status, nullptr);
  EXPECT_EQ(status->status(), orders::v1::ORDER_STATUS_REFUND_PENDING);
  EXPECT_EQ(status->previous_status(), orders::v1::ORDER_STATUS_PAID);
  EXPECT_EQ(status->cancel_request_id(), "c1");  // answers the retry's waiter
  EXPECT_EQ(FromProtoTime(status->updated_at()), kNow + absl::Seconds(1));  // as it happened
}

TEST(CancelDecisionsTest, ACancelBeforeThePaymentLandsRefundsThePayment) {
  // cancel first, then billing's successful debit: the money goes back, the order stays CANCELLED.
  const Order cancelled = After(Pending(), *OnCancellationRequested(Pending(), Cancel(Pending(), "c1"), kNow));
  absl::StatusOr<OrderReaction> late = OnPaymentProcessed(cancelled, Payment(cancelled, true), kNow);
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(Refunds(*late), 1);
  const auto* refund = Find<orders::v1::PaymentRefundRequested>(*late);
  EXPECT_EQ(refund->amount().minor_units(), cancelled.total().minor_units());
  EXPECT_THAT(refund->reason(), HasSubstr("cancelled"));
  const Order after = After(cancelled, *late);
  EXPECT_EQ(after.status(), orders::v1::ORDER_STATUS_CANCELLED);
  EXPECT_EQ(Refunds(*OnPaymentProcessed(after, Payment(cancelled, true), kNow)), 0);  // once
  const Order refunded = After(after, *OnPaymentRefunded(after, Refunded(cancelled), kNow));
  EXPECT_EQ(refunded.status(), orders::v1::ORDER_STATUS_CANCELLED);
  EXPECT_TRUE(refunded.refunded());
  // A failed payment moved no money: nothing to hand back.
  EXPECT_EQ(Refunds(*OnPaymentProcessed(cancelled, Payment(cancelled, false), kNow)), 0);
}

TEST(CancelDecisionsTest, APaymentBeforeTheCancelMeansARefundOfThePaidOrder) {
  // billing's debit first, then the cancel: the order was PAID, so it is refunded its total.
  const Order paid = Paid();
  absl::StatusOr<OrderReaction> cancelled = OnCancellationRequested(paid, Cancel(paid, "c1"), kNow);
  EXPECT_EQ(Refunds(*cancelled), 1);
  // The deadline passing later changes nothing, whichever status the order is in.
  const Order pending_refund = After(paid, *cancelled);
  EXPECT_FALSE(OnDeadlinePassed(pending_refund, {}, kNow + absl::Minutes(5)).state.has_value());
  const Order cancelled_pending =
      After(Pending(), *OnCancellationRequested(Pending(), Cancel(Pending(), "c1"), kNow));
  EXPECT_FALSE(OnDeadlinePassed(cancelled_pending, {}, kNow + absl::Minutes(5)).state.has_value());
}

TEST(CancelDecisionsTest, UnknownOrdersAndOtherUsersArePreconditionFailures) {
  EXPECT_TRUE(absl::IsFailedPrecondition(
      OnCancellationRequested(Order(), Cancel(Pending(), "c1"), kNow).status()));
  absl::StatusOr<OrderReaction> foreign =
      OnCancellationRequested(Pending(), Cancel(Pending(), "c1", "mallory"), kNow);
  EXPECT_TRUE(absl::IsFailedPrecondition(foreign.status()));
  EXPECT_THAT(foreign.status().message(), HasSubstr("does not own"));
}

}  // namespace
}  // namespace choreo::order
