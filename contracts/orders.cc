#include "contracts/orders.h"

#include "saga/ids/stable_id.h"

namespace choreo::contracts {

std::string OrderIdFor(absl::string_view username, absl::string_view request_id) {
  return "ord-" + ids::StableId("order", {username, request_id});
}

bool IsTerminal(orders::v1::OrderStatus status) {
  return status == orders::v1::ORDER_STATUS_PAID ||
         status == orders::v1::ORDER_STATUS_INSUFFICIENT_FUNDS ||
         status == orders::v1::ORDER_STATUS_REJECTED || status == orders::v1::ORDER_STATUS_EXPIRED;
}

}  // namespace choreo::contracts
