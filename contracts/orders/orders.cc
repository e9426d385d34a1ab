#include "contracts/orders/orders.h"

#include "absl/strings/match.h"
#include "platform/ids/stable_id.h"

namespace choreo::contracts {

ids::OrderId OrderIdFor(const ids::Username& username, absl::string_view request_id) {
  return ids::OrderId("ord-" + ids::StableId("order", {username.value(), request_id}));
}

bool IsTerminal(orders::v1::OrderStatus status) {
  const int stage = StatusStage(status);
  return stage == 2 || stage == 4;
}

std::string StatusName(orders::v1::OrderStatus status) {
  std::string name = orders::v1::OrderStatus_Name(status);
  constexpr absl::string_view kPrefix = "ORDER_STATUS_";
  return absl::StartsWith(name, kPrefix) ? name.substr(kPrefix.size()) : name;
}

int StatusStage(orders::v1::OrderStatus status) {
  switch (status) {
    case orders::v1::ORDER_STATUS_PENDING_VALIDATION:
      return 1;
    case orders::v1::ORDER_STATUS_PAID:
    case orders::v1::ORDER_STATUS_INSUFFICIENT_FUNDS:
    case orders::v1::ORDER_STATUS_REJECTED:
    case orders::v1::ORDER_STATUS_EXPIRED:
    case orders::v1::ORDER_STATUS_CANCELLED:
      return 2;
    case orders::v1::ORDER_STATUS_REFUND_PENDING:
      return 3;
    case orders::v1::ORDER_STATUS_REFUNDED:
      return 4;
    default:
      return 0;
  }
}

}  // namespace choreo::contracts
