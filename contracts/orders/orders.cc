#include "contracts/orders/orders.h"

#include "platform/ids/stable_id.h"

namespace choreo::contracts {

ids::OrderId OrderIdFor(const ids::Username& username, absl::string_view request_id) {
  return ids::OrderId("ord-" + ids::StableId("order", {username.value(), request_id}));
}

bool IsTerminal(orders::v1::OrderStatus status) {
  return status == orders::v1::ORDER_STATUS_PAID ||
         status == orders::v1::ORDER_STATUS_INSUFFICIENT_FUNDS ||
         status == orders::v1::ORDER_STATUS_REJECTED || status == orders::v1::ORDER_STATUS_EXPIRED;
}

}  // namespace choreo::contracts
