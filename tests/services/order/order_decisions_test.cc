// The order service's decisions, every transition, with plain values.

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
using test_values::Request;

template <typename Event>
const Event& Emitted(const OrderReaction& reaction, size_t index) {
  return static_cast<const Event&>(*reaction.events.at(index).event);
}

TEST(OrderDecisionsTest, AValidRequestIsPricedAndPending) {
  OrderReaction reaction = OnOrderRequested(Order(), Request(), Catalog::Default(), {}, kNow);
  ASSERT_TRUE(reaction.state.has_value());
  const Order& order = *reaction.state;
  EXPECT_EQ(order.order_id(), OrderIdFor(ids::Username("alice"), "r1").value());
  EXPECT_EQ(order.status(), orders::v1::ORDER_STATUS_PENDING_VALIDATION);
  EXPECT_EQ(order.total().minor_units(), 2 * 1250 + 199);
  EXPECT_EQ(order.total().currency(), "USD");
  EXPECT_EQ(order.items(0).line_total().minor_units(), 2500);
  EXPECT_EQ(order.correlation_id(), "corr-1");
  EXPECT_EQ(order.deadline().seconds(), absl::ToUnixSeconds(kNow + absl::Seconds(30)));
  ASSERT_EQ(order.history_size(), 1);
  EXPECT_EQ(order.history(0).status(), orders::v1::ORDER_STATUS_PENDING_VALIDATION);
  EXPECT_EQ(order.history(0).previous_status(), orders::v1::ORDER_STATUS_UNSPECIFIED);
  // OrderCreated alone announces it: no status event for the creation.
  ASSERT_EQ(reaction.events.size(), 1u);
  EXPECT_EQ(reaction.events[0].topic, topics::kOrdersCreated);
  EXPECT_EQ(reaction.events[0].key, "alice");
  const auto& created = Emitted<orders::v1::OrderCreated>(reaction, 0);
  EXPECT_EQ(created.order_id(), order.order_id());
  EXPECT_EQ(created.request_id(), "r1");
  EXPECT_EQ(created.total().minor_units(), 2699);
}

TEST(OrderDecisionsTest, OrderIdsAreStablePerUserAndRequest) {
  EXPECT_EQ(OrderIdFor(ids::Username("alice"), "r1").value(), OrderIdFor(ids::Username("alice"), "r1").value());
  EXPECT_NE(OrderIdFor(ids::Username("alice"), "r1").value(), OrderIdFor(ids::Username("bob"), "r1").value());
  EXPECT_NE(OrderIdFor(ids::Username("alice"), "r1").value(), OrderIdFor(ids::Username("alice"), "r2").value());
  EXPECT_NE(OrderIdFor(ids::Username("ab"), "c").value(), OrderIdFor(ids::Username("a"), "bc").value());
  EXPECT_THAT(OrderIdFor(ids::Username("alice"), "r1").value(), ::testing::MatchesRegex("ord-[0-9a-f]{32}"));
}

TEST(OrderDecisionsTest, InvalidRequestsAreRejectedWithTheReason) {
  struct Case {
    const char* want;
    void (*breaks)(orders::v1::OrderCreationRequested&);
  } cases[] = {
      {"items: at least one item", [](auto& r) { r.clear_items(); }},
      {"items[0].sku: unknown SKU 'NOPE'", [](auto& r) { r.mutable_items(0)->set_sku("NOPE"); }},
      {"items[1].quantity: must be 1..100, got 0", [](auto& r) { r.mutable_items(1)->set_quantity(0); }},
      {"items[0].quantity: must be 1..100, got 101", [](auto& r) { r.mutable_items(0)->set_quantity(101); }},
      {"items[0].quantity", [](auto& r) { r.mutable_items(0)->set_quantity(-3); }},
      {"delivery_address.recipient: required", [](auto& r) { r.clear_delivery_address(); }},
      {"delivery_address.city: required", [](auto& r) { r.mutable_delivery_address()->set_city("  "); }},
      {"payment_method: unknown", [](auto& r) { r.set_payment_method(orders::v1::PAYMENT_METHOD_UNSPECIFIED); }},
  };
  for (const Case& c : cases) {
    orders::v1::OrderCreationRequested request = Request();
    c.breaks(request);
    OrderReaction reaction = OnOrderRequested(Order(), request, Catalog::Default(), {}, kNow);
    ASSERT_TRUE(reaction.state.has_value()) << c.want;
    EXPECT_EQ(reaction.state->status(), orders::v1::ORDER_STATUS_REJECTED) << c.want;
    EXPECT_THAT(reaction.state->reason(), HasSubstr(c.want));
    ASSERT_EQ(reaction.events.size(), 1u);  // no OrderCreated: billing never hears of it
    EXPECT_EQ(reaction.events[0].topic, topics::kOrdersStatus);
    const auto& status = Emitted<orders::v1::OrderStatusUpdated>(reaction, 0);
    EXPECT_EQ(status.status(), orders::v1::ORDER_STATUS_REJECTED);
    EXPECT_THAT(status.reason(), HasSubstr(c.want));
  }
  OrderPolicy strict;
  strict.max_lines = 1;
  EXPECT_THAT(*RejectionReason(Request(), Catalog::Default(), strict), HasSubstr("at most 1 lines"));
}

TEST(OrderDecisionsTest, ARequestForAnExistingOrderChangesNothing) {
  const Order pending = Pending();
  OrderReaction again = OnOrderRequested(pending, Request(), Catalog::Default(), {}, kNow);
  EXPECT_FALSE(again.state.has_value());
  EXPECT_TRUE(again.events.empty());
}

// A payment of `outcome` as billing of revision 2 writes it.
billing::v1::PaymentProcessed Outcome(billing::v1::PaymentOutcome outcome) {
  billing::v1::PaymentProcessed payment;
  payment.set_order_id("ord-1");
  payment.set_outcome(outcome);
  payment.set_success(outcome == billing::v1::PAYMENT_OUTCOME_CHARGED);
  return payment;
}

TEST(OrderDecisionsTest, PaymentOutcomesEndThePendingOrder) {
  billing::v1::PaymentProcessed payment = Outcome(billing::v1::PAYMENT_OUTCOME_CHARGED);
  payment.set_order_id(Pending().order_id());
  auto paid = OnPaymentProcessed(Pending(), payment, kNow + absl::Seconds(1));
  ASSERT_TRUE(paid.ok());
  EXPECT_EQ(paid->state->status(), orders::v1::ORDER_STATUS_PAID);
  ASSERT_EQ(paid->events.size(), 1u);
  const auto& status = Emitted<orders::v1::OrderStatusUpdated>(*paid, 0);
  EXPECT_EQ(status.status(), orders::v1::ORDER_STATUS_PAID);
  EXPECT_EQ(status.previous_status(), orders::v1::ORDER_STATUS_PENDING_VALIDATION);
  ASSERT_EQ(paid->state->history_size(), 2);
  EXPECT_TRUE(IsValidTransition(paid->state->history(0).previous_status(),
                                paid->state->history(0).status()));
  EXPECT_TRUE(IsValidTransition(paid->state->history(1).previous_status(),
                                paid->state->history(1).status()));

  payment = Outcome(billing::v1::PAYMENT_OUTCOME_INSUFFICIENT_FUNDS);
  payment.set_failure_reason("insufficient funds: balance 1 < total 2699");
  auto short_of_funds = OnPaymentProcessed(Pending(), payment, kNow);
  ASSERT_TRUE(short_of_funds.ok());
  EXPECT_EQ(short_of_funds->state->status(), orders::v1::ORDER_STATUS_INSUFFICIENT_FUNDS);
  EXPECT_EQ(short_of_funds->state->reason(), "insufficient funds: balance 1 < total 2699");

  // Billing refused to charge at all: the order was never payable, not short of funds.
  payment = Outcome(billing::v1::PAYMENT_OUTCOME_REFUSED);
  payment.set_failure_reason("order in EUR, account in USD");
  auto refused = OnPaymentProcessed(Pending(), payment, kNow);
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->state->status(), orders::v1::ORDER_STATUS_REJECTED);
  EXPECT_EQ(refused->state->reason(), "payment refused: order in EUR, account in USD");
  EXPECT_TRUE(IsValidTransition(orders::v1::ORDER_STATUS_PENDING_VALIDATION,
                                orders::v1::ORDER_STATUS_REJECTED));

  // No outcome (a revision-2 event without one, or one this service does not know yet): an
  // operator must look.
  EXPECT_EQ(OnPaymentProcessed(Pending(), Outcome(billing::v1::PAYMENT_OUTCOME_UNSPECIFIED), kNow)
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(
      OnPaymentProcessed(Pending(), Outcome(static_cast<billing::v1::PaymentOutcome>(7)), kNow)
          .status()
          .code(),
      absl::StatusCode::kFailedPrecondition);
}

TEST(OrderDecisionsTest, TerminalOrdersIgnoreFurtherOutcomes) {
  billing::v1::PaymentProcessed payment = Outcome(billing::v1::PAYMENT_OUTCOME_CHARGED);
  Order paid = *OnPaymentProcessed(Pending(), payment, kNow)->state;
  payment = Outcome(billing::v1::PAYMENT_OUTCOME_INSUFFICIENT_FUNDS);  // out of order, repeated
  auto again = OnPaymentProcessed(paid, payment, kNow);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->state.has_value());
  EXPECT_TRUE(again->events.empty());
  EXPECT_TRUE(OnDeadlinePassed(paid, {}, kNow + absl::Hours(1)).events.empty());
}

TEST(OrderDecisionsTest, PaymentForAnUnknownOrderIsAPreconditionFailure) {
  billing::v1::PaymentProcessed payment = Outcome(billing::v1::PAYMENT_OUTCOME_CHARGED);
  payment.set_order_id("ord-unknown");
  auto result = OnPaymentProcessed(Order(), payment, kNow);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(OrderDecisionsTest, APendingOrderExpiresOnlyAfterItsDeadline) {
  const Order pending = Pending();
  EXPECT_TRUE(OnDeadlinePassed(pending, {}, kNow + absl::Seconds(29)).events.empty());
  OrderReaction expired = OnDeadlinePassed(pending, {}, kNow + absl::Seconds(30));
  ASSERT_TRUE(expired.state.has_value());
  EXPECT_EQ(expired.state->status(), orders::v1::ORDER_STATUS_EXPIRED);
  const auto& status = Emitted<orders::v1::OrderStatusUpdated>(expired, 0);
  EXPECT_EQ(status.previous_status(), orders::v1::ORDER_STATUS_PENDING_VALIDATION);
  EXPECT_TRUE(OnDeadlinePassed(*expired.state, {}, kNow + absl::Hours(1)).events.empty());
  OrderPolicy quick;
  quick.expiry = absl::Seconds(2);
  Order soon = *OnOrderRequested(Order(), Request(), Catalog::Default(), quick, kNow).state;
  EXPECT_FALSE(OnDeadlinePassed(soon, {}, kNow + absl::Seconds(2)).events.empty());
}

TEST(OrderDecisionsTest, TheScannersClockSaysWhenTheDeadlinePassed) {
  // The scanner saw the deadline pass (its event's time); this instance's clock is behind.
  orders::v1::OrderDeadlinePassed passed;
  *passed.mutable_meta()->mutable_occurred_at() = ToProtoTime(kNow + absl::Seconds(30));
  OrderReaction expired = OnDeadlinePassed(Pending(), passed, kNow + absl::Seconds(25));
  ASSERT_TRUE(expired.state.has_value());
  EXPECT_EQ(expired.state->status(), orders::v1::ORDER_STATUS_EXPIRED);
  // An event from before the deadline changes nothing, whatever this clock says.
  *passed.mutable_meta()->mutable_occurred_at() = ToProtoTime(kNow + absl::Seconds(10));
  EXPECT_TRUE(OnDeadlinePassed(Pending(), passed, kNow + absl::Minutes(5)).events.empty());
}

TEST(OrderDecisionsTest, APaymentAfterExpiryIsRefundedOnce) {
  Order expired = *OnDeadlinePassed(Pending(), {}, kNow + absl::Minutes(1)).state;
  billing::v1::PaymentProcessed late = Outcome(billing::v1::PAYMENT_OUTCOME_CHARGED);
  late.set_order_id(expired.order_id());
  late.mutable_amount()->set_minor_units(2699);
  late.mutable_amount()->set_currency("USD");
  auto refund = OnPaymentProcessed(expired, late, kNow + absl::Minutes(2));
  ASSERT_TRUE(refund.ok());
  ASSERT_TRUE(refund->state.has_value());  // stays EXPIRED, and remembers the refund it asked for
  EXPECT_EQ(refund->state->status(), orders::v1::ORDER_STATUS_EXPIRED);
  EXPECT_TRUE(refund->state->refund_requested());
  EXPECT_TRUE(OnPaymentProcessed(*refund->state, late, kNow)->events.empty());  // asked once
  ASSERT_EQ(refund->events.size(), 1u);
  EXPECT_EQ(refund->events[0].topic, topics::kOrdersRefunds);
  EXPECT_EQ(refund->events[0].key, "alice");
  const auto& request = Emitted<orders::v1::PaymentRefundRequested>(*refund, 0);
  EXPECT_EQ(request.amount().minor_units(), 2699);
  EXPECT_EQ(request.order_id(), expired.order_id());

  // A failed late payment moved no money: nothing to refund.
  late.set_outcome(billing::v1::PAYMENT_OUTCOME_INSUFFICIENT_FUNDS);
  late.set_success(false);
  EXPECT_TRUE(OnPaymentProcessed(expired, late, kNow)->events.empty());

  // Billing confirms; the order remembers, and a repeated late payment asks for nothing more.
  billing::v1::PaymentRefunded refunded;
  auto recorded = OnPaymentRefunded(expired, refunded, kNow + absl::Minutes(3));
  ASSERT_TRUE(recorded.ok());
  ASSERT_TRUE(recorded->state.has_value());
  EXPECT_TRUE(recorded->state->refunded());
  EXPECT_EQ(recorded->state->status(), orders::v1::ORDER_STATUS_EXPIRED);
  late.set_outcome(billing::v1::PAYMENT_OUTCOME_CHARGED);
  late.set_success(true);
  EXPECT_TRUE(OnPaymentProcessed(*recorded->state, late, kNow)->events.empty());
}

TEST(OrderDecisionsTest, EveryChangeGoesOutWholeWithTheNextRevision) {
  OrderReaction created =
      WithSnapshot(Order(), OnOrderRequested(Order(), Request(), Catalog::Default(), {}, kNow));
  ASSERT_TRUE(created.state.has_value());
  EXPECT_EQ(created.state->revision(), 1);
  ASSERT_FALSE(created.events.empty());
  const saga::OutgoingEvent& last = created.events.back();
  EXPECT_EQ(last.topic, topics::kOrdersSnapshots);
  EXPECT_EQ(last.key, created.state->order_id());
  const auto& snapshot = static_cast<const orders::v1::OrderSnapshot&>(*last.event);
  EXPECT_EQ(snapshot.order().SerializeAsString(), created.state->SerializeAsString());
  EXPECT_FALSE(snapshot.order().items(0).name().empty());  // priced: what views show
  // A snapshot: its handled marker keeps it without the order, which the state holds.
  EXPECT_TRUE(last.carries_state);
  for (size_t i = 0; i + 1 < created.events.size(); ++i) {
    EXPECT_FALSE(created.events[i].carries_state);
  }

  billing::v1::PaymentProcessed charged = Outcome(billing::v1::PAYMENT_OUTCOME_CHARGED);
  OrderReaction paid =
      WithSnapshot(*created.state, *OnPaymentProcessed(*created.state, charged, kNow));
  EXPECT_EQ(paid.state->revision(), 2);
  EXPECT_EQ(
      static_cast<const orders::v1::OrderSnapshot&>(*paid.events.back().event).order().status(),
      orders::v1::ORDER_STATUS_PAID);
  // No change, no snapshot.
  OrderReaction again = WithSnapshot(*paid.state, *OnPaymentProcessed(*paid.state, charged, kNow));
  EXPECT_FALSE(again.state.has_value());
  EXPECT_TRUE(again.events.empty());
  // A status announced again without a change (a cancellation decided anew once its
  // de-duplication record expired) comes with the unchanged snapshot, for those who wait on it.
  orders::v1::OrderCancellationRequested cancel;
  cancel.set_order_id(paid.state->order_id());
  cancel.set_username(paid.state->username());
  cancel.set_request_id("c1");
  Order cancelled =
      *WithSnapshot(*paid.state, *OnCancellationRequested(*paid.state, cancel, kNow)).state;
  OrderReaction repeated =
      WithSnapshot(cancelled, *OnCancellationRequested(cancelled, cancel, kNow));
  EXPECT_FALSE(repeated.state.has_value());
  ASSERT_FALSE(repeated.events.empty());
  const auto& resent = static_cast<const orders::v1::OrderSnapshot&>(*repeated.events.back().event);
  EXPECT_EQ(resent.order().SerializeAsString(), cancelled.SerializeAsString());
  EXPECT_TRUE(repeated.events.back().carries_state);
}

TEST(OrderDecisionsTest, TheStateMachineAllowsOnlyItsTransitions) {
  using orders::v1::OrderStatus;
  const OrderStatus all[] = {
      orders::v1::ORDER_STATUS_UNSPECIFIED, orders::v1::ORDER_STATUS_PENDING_VALIDATION,
      orders::v1::ORDER_STATUS_PAID, orders::v1::ORDER_STATUS_INSUFFICIENT_FUNDS,
      orders::v1::ORDER_STATUS_REJECTED, orders::v1::ORDER_STATUS_EXPIRED,
      orders::v1::ORDER_STATUS_CANCELLED, orders::v1::ORDER_STATUS_REFUND_PENDING,
      orders::v1::ORDER_STATUS_REFUNDED};
  int allowed = 0;
  for (OrderStatus from : all) {
    for (OrderStatus to : all) {
      const bool valid = IsValidTransition(from, to);
      allowed += valid;
      // Every transition moves to a later stage: what the gateway's views rely on.
      if (valid) {
        EXPECT_LT(contracts::StatusStage(from), contracts::StatusStage(to));
      }
    }
  }
  EXPECT_EQ(allowed, 9);
  EXPECT_TRUE(IsValidTransition(orders::v1::ORDER_STATUS_PAID, orders::v1::ORDER_STATUS_REFUND_PENDING));
  EXPECT_FALSE(IsValidTransition(orders::v1::ORDER_STATUS_PAID, orders::v1::ORDER_STATUS_CANCELLED));
  EXPECT_TRUE(IsValidTransition(orders::v1::ORDER_STATUS_PENDING_VALIDATION,
                                orders::v1::ORDER_STATUS_REJECTED));  // billing refused the payment
  EXPECT_TRUE(IsTerminal(orders::v1::ORDER_STATUS_PAID));
  EXPECT_FALSE(IsTerminal(orders::v1::ORDER_STATUS_REFUND_PENDING));
  EXPECT_TRUE(IsTerminal(orders::v1::ORDER_STATUS_CANCELLED));
  EXPECT_TRUE(IsTerminal(orders::v1::ORDER_STATUS_REFUNDED));
  EXPECT_FALSE(IsValidTransition(orders::v1::ORDER_STATUS_PAID, orders::v1::ORDER_STATUS_EXPIRED));
  EXPECT_FALSE(IsTerminal(orders::v1::ORDER_STATUS_PENDING_VALIDATION));
  EXPECT_TRUE(IsTerminal(orders::v1::ORDER_STATUS_EXPIRED));
}

TEST(CatalogTest, ParsesAndRejectsBadLines) {
  auto catalog = Catalog::Parse("# sku,name,price\nA-1,Apple,120\nB-2,Box,5,EUR\n");
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  ASSERT_NE(catalog->Find("B-2"), nullptr);
  EXPECT_EQ(catalog->Find("B-2")->unit_price().currency(), "EUR");
  EXPECT_EQ(catalog->Find("A-1")->unit_price().minor_units(), 120);
  EXPECT_EQ(catalog->Find("C-3"), nullptr);
  EXPECT_FALSE(Catalog::Parse("A-1,Apple,-1").ok());
  EXPECT_FALSE(Catalog::Parse("A-1,Apple").ok());
  EXPECT_FALSE(Catalog::Parse("# nothing").ok());
}

}  // namespace
}  // namespace choreo::order
