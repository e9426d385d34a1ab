// The deadline index's rules: which orders it holds, and its members' form (old ones included).

#include "services/order/core/deadline_index.h"

#include "gtest/gtest.h"
#include "platform/proto_time/proto_time.h"

namespace choreo::order {
namespace {

orders::v1::Order Pending() {
  orders::v1::Order order;
  order.set_order_id("ord-1");
  order.set_correlation_id("corr-1");
  order.set_status(orders::v1::ORDER_STATUS_PENDING_VALIDATION);
  *order.mutable_deadline() = ToProtoTime(absl::FromUnixMillis(1795348830123));
  return order;
}

TEST(DeadlineIndexTest, APendingOrderAwaitsItsDeadline) {
  EXPECT_TRUE(AwaitsDeadline(Pending()));
  EXPECT_EQ(DeadlineScore(Pending()), 1795348830123);
}

TEST(DeadlineIndexTest, ASettledOrderOrOneWithoutADeadlineAwaitsNone) {
  for (orders::v1::OrderStatus status :
       {orders::v1::ORDER_STATUS_PAID, orders::v1::ORDER_STATUS_INSUFFICIENT_FUNDS,
        orders::v1::ORDER_STATUS_REJECTED, orders::v1::ORDER_STATUS_EXPIRED,
        orders::v1::ORDER_STATUS_CANCELLED}) {
    orders::v1::Order order = Pending();
    order.set_status(status);
    EXPECT_FALSE(AwaitsDeadline(order)) << status;
  }
  orders::v1::Order no_deadline = Pending();
  no_deadline.clear_deadline();
  EXPECT_FALSE(AwaitsDeadline(no_deadline));
  EXPECT_FALSE(AwaitsDeadline(orders::v1::Order())) << "no order at all";
}

// What the scanner may drop unannounced: an order past PENDING in a status this release knows.
TEST(DeadlineIndexTest, AnOrderHasSettledOnceItLeftPendingForAKnownLaterStatus) {
  for (orders::v1::OrderStatus status :
       {orders::v1::ORDER_STATUS_PAID, orders::v1::ORDER_STATUS_INSUFFICIENT_FUNDS,
        orders::v1::ORDER_STATUS_REJECTED, orders::v1::ORDER_STATUS_EXPIRED,
        orders::v1::ORDER_STATUS_CANCELLED, orders::v1::ORDER_STATUS_REFUND_PENDING,
        orders::v1::ORDER_STATUS_REFUNDED}) {
    orders::v1::Order order = Pending();
    order.set_status(status);
    EXPECT_TRUE(SettledBeforeDeadline(order)) << status;
  }
  EXPECT_FALSE(SettledBeforeDeadline(Pending()));
  orders::v1::Order later = Pending();
  later.set_status(static_cast<orders::v1::OrderStatus>(15));  // reserved for a later release
  EXPECT_FALSE(SettledBeforeDeadline(later));
  orders::v1::Order nameless = Pending();
  nameless.set_status(orders::v1::ORDER_STATUS_PAID);
  nameless.clear_order_id();
  EXPECT_FALSE(SettledBeforeDeadline(nameless));
}

TEST(DeadlineIndexTest, AMemberCarriesTheSagaAndTraceAndOlderMembersStillRead) {
  const std::string traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  const std::string member = EncodeDeadlineMember({"ord-1", "corr-1", traceparent});
  DeadlineEntry entry = ParseDeadlineMember(member);
  EXPECT_EQ(entry.order_id, "ord-1");
  EXPECT_EQ(entry.correlation_id, "corr-1");
  EXPECT_EQ(entry.traceparent, traceparent);

  entry = ParseDeadlineMember("ord-2 corr-2");  // written before traces were kept
  EXPECT_EQ(entry.order_id, "ord-2");
  EXPECT_EQ(entry.correlation_id, "corr-2");
  EXPECT_EQ(entry.traceparent, "");
  entry = ParseDeadlineMember("ord-3 ");  // no correlation id: the order's own id
  EXPECT_EQ(entry.correlation_id, "ord-3");
  EXPECT_EQ(ParseDeadlineMember("ord-4").correlation_id, "ord-4");
}

TEST(DeadlineIndexTest, AnOrdersMemberIsTheSameInEveryStateSoRepeatsAreNoOps) {
  orders::v1::Order order = Pending();
  order.set_correlation_id("corr-9");
  order.set_traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  const std::string pending = DeadlineMember(order);
  order.set_status(orders::v1::ORDER_STATUS_PAID);
  EXPECT_EQ(DeadlineMember(order), pending);
  const DeadlineEntry entry = ParseDeadlineMember(pending);
  EXPECT_EQ(entry.order_id, order.order_id());
  EXPECT_EQ(entry.correlation_id, "corr-9");
  EXPECT_EQ(entry.traceparent, order.traceparent());
}

}  // namespace
}  // namespace choreo::order
