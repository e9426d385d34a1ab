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

// Whether an order in `status` can change no more (PAID, INSUFFICIENT_FUNDS, REJECTED, EXPIRED).
bool IsTerminal(orders::v1::OrderStatus status);

}  // namespace choreo::contracts
