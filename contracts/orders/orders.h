#pragma once

// Facts about orders that more than one party of the saga must compute alike: the order
// service decides with them and the gateway answers clients with them. Pure.

#include <string>

#include "absl/strings/string_view.h"
#include "choreo/orders/v1/order.pb.h"
#include "platform/ids/named_id.h"

namespace choreo::contracts {

// The order id of a client's CreateOrder: the same for every retry and re-delivery of the
// request, so the gateway knows it before the order service has decided anything.
ids::OrderId OrderIdFor(const ids::Username& username, absl::string_view request_id);

// Whether an order's saga has come to rest in `status`: nothing more happens to the order unless
// its user acts. PAID (which a CancelOrder can still move to REFUND_PENDING), and the statuses
// that never change: INSUFFICIENT_FUNDS, REJECTED, EXPIRED, CANCELLED, REFUNDED. A CreateOrder
// or CancelOrder is answered, and a WatchOrder ends, at a terminal status.
bool IsTerminal(orders::v1::OrderStatus status);

// The status's name without its enum prefix: "PAID", "REFUND_PENDING" (for people: reasons,
// metric labels, the command line).
std::string StatusName(orders::v1::OrderStatus status);

// How far along the state machine (services/order/README.md) `status` is: a status an order
// reaches after another always has the larger stage (UNSPECIFIED 0, PENDING_VALIDATION 1, the
// outcomes of the order's payment 2, REFUND_PENDING 3, REFUNDED 4). Two statuses of one stage
// are alternatives: one order never reaches both.
int StatusStage(orders::v1::OrderStatus status);

}  // namespace choreo::contracts
