#include "gateway/core/gateway_rules.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/order/core/order_decisions.h"

namespace choreo::gateway {
namespace {

using ::testing::HasSubstr;

gateway::v1::CreateOrderRequest Valid() {
  gateway::v1::CreateOrderRequest request;
  request.set_request_id("req-1");
  auto* item = request.add_items();
  item->set_sku("MUG-002");
  item->set_quantity(1);
  auto* address = request.mutable_delivery_address();
  address->set_recipient("A");
  address->set_line1("1 Way");
  address->set_city("Town");
  address->set_country("US");
  request.set_payment_method(orders::v1::PAYMENT_METHOD_ACCOUNT_BALANCE);
  return request;
}

TEST(GatewayRulesTest, MalformedRequestsNameTheField) {
  EXPECT_TRUE(ValidateCreateOrder(Valid()).ok());
  struct Case {
    const char* field;
    void (*breaks)(gateway::v1::CreateOrderRequest&);
  } cases[] = {
      {"request_id: required", [](auto& r) { r.clear_request_id(); }},
      {"request_id: only", [](auto& r) { r.set_request_id("has space"); }},
      {"request_id: at most 128", [](auto& r) { r.set_request_id(std::string(129, 'a')); }},
      {"items: at least one", [](auto& r) { r.clear_items(); }},
      {"items[0].sku: required", [](auto& r) { r.mutable_items(0)->set_sku(" "); }},
      {"items[0].quantity: must be 1..10000",
       [](auto& r) { r.mutable_items(0)->set_quantity(-1); }},
      {"items[0].quantity: must be 1..10000",
       [](auto& r) { r.mutable_items(0)->set_quantity(10'001); }},
      {"items[0].sku: at most 64 bytes",
       [](auto& r) { r.mutable_items(0)->set_sku(std::string(1 << 20, 'A')); }},
      {"items: at most 100 lines",
       [](auto& r) {
         for (int i = 0; i < 100; ++i) *r.add_items() = r.items(0);
       }},
      {"delivery_address.line2: at most 200 bytes",
       [](auto& r) { r.mutable_delivery_address()->set_line2(std::string(201, 'x')); }},
      {"delivery_address.recipient: at most 200 bytes",
       [](auto& r) { r.mutable_delivery_address()->set_recipient(std::string(201, 'x')); }},
      {"delivery_address: required", [](auto& r) { r.clear_delivery_address(); }},
      {"delivery_address.country: required",
       [](auto& r) { r.mutable_delivery_address()->clear_country(); }},
      {"payment_method: required", [](auto& r) { r.clear_payment_method(); }},
  };
  for (const Case& c : cases) {
    gateway::v1::CreateOrderRequest request = Valid();
    c.breaks(request);
    absl::Status status = ValidateCreateOrder(request);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_THAT(std::string(status.message()), HasSubstr(c.field));
  }
  gateway::v1::DepositRequest deposit;
  deposit.set_request_id("d");
  deposit.mutable_amount()->set_currency("USD");
  EXPECT_THAT(std::string(ValidateDeposit(deposit).message()), HasSubstr("amount.minor_units"));
  deposit.mutable_amount()->set_minor_units(5);
  EXPECT_TRUE(ValidateDeposit(deposit).ok());
  deposit.mutable_amount()->set_minor_units(kMaxDepositMinorUnits);
  EXPECT_TRUE(ValidateDeposit(deposit).ok());
  deposit.mutable_amount()->set_minor_units(kMaxDepositMinorUnits + 1);
  EXPECT_THAT(std::string(ValidateDeposit(deposit).message()),
              HasSubstr("amount.minor_units: at most 1000000000 in one deposit"));
  deposit.mutable_amount()->set_minor_units(INT64_MAX);
  EXPECT_EQ(ValidateDeposit(deposit).code(), absl::StatusCode::kInvalidArgument);
  deposit.mutable_amount()->set_minor_units(5);
  deposit.mutable_amount()->set_currency("dollars");
  EXPECT_THAT(std::string(ValidateDeposit(deposit).message()), HasSubstr("amount.currency"));
}

TEST(GatewayRulesTest, BearerTokensComeFromTheAuthorizationValue) {
  EXPECT_EQ(*BearerToken("Bearer abc.def.ghi"), "abc.def.ghi");
  EXPECT_EQ(*BearerToken("bearer  abc "), "abc");
  for (const char* bad : {"", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "abc.def.ghi", "Bearer   "}) {
    EXPECT_EQ(BearerToken(bad).status().code(), absl::StatusCode::kUnauthenticated) << bad;
  }
}

TEST(GatewayRulesTest, RetriesMapToTheSameSagaAndOtherBodiesDiffer) {
  const SagaIds<ids::OrderId> first = OrderSagaIds(ids::Username("alice"), Valid());
  const SagaIds<ids::OrderId> retry = OrderSagaIds(ids::Username("alice"), Valid());
  EXPECT_EQ(first.aggregate_id, contracts::OrderIdFor(ids::Username("alice"), "req-1"));
  EXPECT_EQ(retry.aggregate_id, first.aggregate_id);
  EXPECT_EQ(retry.correlation_id, first.correlation_id);
  EXPECT_EQ(retry.event_id, first.event_id);
  EXPECT_EQ(retry.fingerprint, first.fingerprint);
  gateway::v1::CreateOrderRequest more = Valid();
  more.mutable_items(0)->set_quantity(2);
  EXPECT_NE(OrderSagaIds(ids::Username("alice"), more).fingerprint, first.fingerprint);
  EXPECT_EQ(OrderSagaIds(ids::Username("alice"), more).aggregate_id, first.aggregate_id);
  EXPECT_NE(OrderSagaIds(ids::Username("bob"), Valid()).correlation_id, first.correlation_id);
  EXPECT_NE(first.correlation_id.value(), first.event_id.value());
}

namespace {

// The order service's snapshot of order ord-1 at `revision`, in `status` (history: every
// status so far).
orders::v1::Order Snapshot(int64_t revision, std::vector<orders::v1::OrderStatus> statuses) {
  orders::v1::Order order;
  order.set_order_id("ord-1");
  order.set_request_id("req-1");
  order.set_username("alice");
  order.set_correlation_id("corr");
  orders::v1::PricedItem* item = order.add_items();
  item->set_sku("PEN-004");
  item->set_name("Fountain pen");
  item->set_quantity(2);
  item->mutable_unit_price()->set_minor_units(625);
  order.mutable_total()->set_minor_units(1250);
  order.mutable_created_at()->set_seconds(100);
  orders::v1::OrderStatus previous = orders::v1::ORDER_STATUS_UNSPECIFIED;
  for (size_t i = 0; i < statuses.size(); ++i) {
    orders::v1::StatusChange* change = order.add_history();
    change->set_status(statuses[i]);
    change->set_previous_status(previous);
    change->mutable_changed_at()->set_seconds(100 + static_cast<int64_t>(i));
    previous = statuses[i];
  }
  order.set_status(previous);
  order.mutable_updated_at()->set_seconds(100 + static_cast<int64_t>(statuses.size()));
  order.set_revision(revision);
  return order;
}

constexpr orders::v1::OrderStatus kPending = orders::v1::ORDER_STATUS_PENDING_VALIDATION;
constexpr orders::v1::OrderStatus kPaid = orders::v1::ORDER_STATUS_PAID;

}  // namespace

TEST(GatewayRulesTest, TheViewIsTheOrdersSnapshotOfTheHighestRevision) {
  gateway::v1::Order view;
  EXPECT_TRUE(ApplySnapshot(Snapshot(1, {kPending}), view));
  EXPECT_FALSE(ApplySnapshot(Snapshot(1, {kPending}), view));  // re-delivered
  EXPECT_TRUE(ApplySnapshot(Snapshot(2, {kPending, kPaid}), view));
  EXPECT_FALSE(ApplySnapshot(Snapshot(1, {kPending}), view));  // re-published after a crash
  EXPECT_EQ(view.status(), kPaid);
  EXPECT_EQ(view.revision(), 2);
  EXPECT_EQ(view.correlation_id(), "corr");
  EXPECT_EQ(view.total().minor_units(), 1250);
  ASSERT_EQ(view.items_size(), 1);
  EXPECT_EQ(view.items(0).name(), "Fountain pen");  // priced by the order service
  EXPECT_EQ(view.items(0).unit_price().minor_units(), 625);
  ASSERT_EQ(view.history_size(), 2);
  EXPECT_EQ(view.history(1).previous_status(), kPending);
  gateway::v1::OrderStatusChange change = LatestChange(view);
  EXPECT_TRUE(change.terminal());
  EXPECT_EQ(change.previous_status(), kPending);
}

TEST(GatewayRulesTest, ARebuildProjectsTheViewsOwnRevisionAgainButNeverAnOlderOne) {
  gateway::v1::Order view;
  ASSERT_TRUE(ApplySnapshot(Snapshot(2, {kPending, kPaid}), view));
  // The projection changed since the view was written (here: a field it lacked).
  gateway::v1::Order stale = view;
  stale.clear_items();
  EXPECT_FALSE(
      ApplySnapshot(Snapshot(2, {kPending, kPaid}), stale));  // live writers: same revision
  EXPECT_TRUE(ApplySnapshot(Snapshot(2, {kPending, kPaid}), stale, SnapshotRule::kReproject));
  EXPECT_EQ(stale.SerializeAsString(), view.SerializeAsString());
  // Equal already: nothing to write. Older: never.
  EXPECT_FALSE(ApplySnapshot(Snapshot(2, {kPending, kPaid}), view, SnapshotRule::kReproject));
  EXPECT_FALSE(ApplySnapshot(Snapshot(1, {kPending}), view, SnapshotRule::kReproject));
  EXPECT_EQ(view.status(), kPaid);
}

TEST(GatewayRulesTest, AClaimedViewGivesWayToTheFirstSnapshot) {
  gateway::v1::Order claimed;  // written by CreateOrder from the request: no names, revision 0
  claimed.set_order_id("ord-1");
  claimed.add_items()->set_sku("PEN-004");
  EXPECT_TRUE(ApplySnapshot(Snapshot(1, {kPending}), claimed));
  EXPECT_EQ(claimed.items(0).name(), "Fountain pen");
  EXPECT_EQ(claimed.revision(), 1);
}

TEST(GatewayRulesTest, SnapshotsInAnyOrderOfArrivalEndInTheNewestOrder) {
  const std::vector<orders::v1::Order> steps = {
      Snapshot(1, {kPending}), Snapshot(2, {kPending, kPaid}),
      Snapshot(3, {kPending, kPaid, orders::v1::ORDER_STATUS_REFUND_PENDING}),
      Snapshot(4, {kPending, kPaid, orders::v1::ORDER_STATUS_REFUND_PENDING,
                   orders::v1::ORDER_STATUS_REFUNDED})};
  gateway::v1::Order in_order;
  for (const orders::v1::Order& step : steps) EXPECT_TRUE(ApplySnapshot(step, in_order));
  gateway::v1::Order reversed;
  for (int i : {3, 1, 2, 0, 1}) EXPECT_EQ(ApplySnapshot(steps[i], reversed), i == 3);
  EXPECT_EQ(reversed.SerializeAsString(), in_order.SerializeAsString());
  EXPECT_EQ(reversed.status(), orders::v1::ORDER_STATUS_REFUNDED);
  EXPECT_TRUE(LatestChange(reversed).terminal());
}

TEST(GatewayRulesTest, ACancelJoinsItsOrdersSagaAndItsRetriesMapToOneEvent) {
  gateway::v1::CancelOrderRequest cancel;
  cancel.set_order_id("ord-1");
  cancel.set_request_id("c-1");
  EXPECT_TRUE(ValidateCancelOrder(cancel).ok());
  const auto ids = CancelSagaIds(ids::Username("alice"), cancel, ids::CorrelationId("order-saga"));
  EXPECT_EQ(ids.correlation_id.value(), "order-saga");
  EXPECT_EQ(ids.aggregate_id.value(), "ord-1");
  EXPECT_EQ(ids.event_id, CancelSagaIds(ids::Username("alice"), cancel, ids.correlation_id).event_id);
  EXPECT_NE(ids.event_id, CancelSagaIds(ids::Username("bob"), cancel, ids.correlation_id).event_id);
  gateway::v1::CancelOrderRequest other = cancel;
  other.set_order_id("ord-2");
  EXPECT_NE(ids.fingerprint, CancelSagaIds(ids::Username("alice"), other, ids.correlation_id).fingerprint);

  gateway::v1::CancelOrderRequest bad = cancel;
  bad.clear_order_id();
  EXPECT_THAT(ValidateCancelOrder(bad).message(), HasSubstr("order_id"));
  bad = cancel;
  bad.set_request_id("");
  EXPECT_THAT(ValidateCancelOrder(bad).message(), HasSubstr("request_id"));
  bad = cancel;
  bad.set_reason(std::string(kMaxCancelReasonBytes + 1, 'x'));
  EXPECT_THAT(ValidateCancelOrder(bad).message(), HasSubstr("reason"));
}

TEST(GatewayRulesTest, AViewOfAnOrderCarriesEverythingAClientSees) {
  orders::v1::Order order;
  order.set_order_id("o-1");
  order.set_request_id("r-1");
  order.set_username("ann");
  order.set_status(orders::v1::ORDER_STATUS_PAID);
  order.set_reason("");
  order.add_items()->set_sku("PEN-004");
  order.mutable_total()->set_minor_units(199);
  order.mutable_delivery_address()->set_city("Springfield");
  order.set_payment_method(orders::v1::PAYMENT_METHOD_ACCOUNT_BALANCE);
  order.set_correlation_id("c-1");
  order.mutable_created_at()->set_seconds(10);
  order.mutable_updated_at()->set_seconds(11);
  order.add_history()->set_status(orders::v1::ORDER_STATUS_PENDING_VALIDATION);
  order.add_history()->set_status(orders::v1::ORDER_STATUS_PAID);
  order.set_traceparent("00-abc-def-01");  // internal: not in the view

  const gateway::v1::Order view = ViewOfOrder(order);
  EXPECT_EQ(view.order_id(), "o-1");
  EXPECT_EQ(view.request_id(), "r-1");
  EXPECT_EQ(view.status(), orders::v1::ORDER_STATUS_PAID);
  ASSERT_EQ(view.items_size(), 1);
  EXPECT_EQ(view.items(0).sku(), "PEN-004");
  EXPECT_EQ(view.total().minor_units(), 199);
  EXPECT_EQ(view.delivery_address().city(), "Springfield");
  EXPECT_EQ(view.payment_method(), orders::v1::PAYMENT_METHOD_ACCOUNT_BALANCE);
  EXPECT_EQ(view.correlation_id(), "c-1");
  EXPECT_EQ(view.created_at().seconds(), 10);
  EXPECT_EQ(view.updated_at().seconds(), 11);
  ASSERT_EQ(view.history_size(), 2);
  EXPECT_EQ(LatestChange(view).status(), orders::v1::ORDER_STATUS_PAID);
}

}  // namespace
}  // namespace choreo::gateway
