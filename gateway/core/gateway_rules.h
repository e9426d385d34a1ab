#pragma once

// The gateway's pure rules: what a well-formed request is, which ids a request maps to, and how
// an order's cached view follows its status events. No I/O.

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "choreo/gateway/v1/gateway.pb.h"
#include "choreo/orders/v1/events.pb.h"
#include "choreo/orders/v1/order.pb.h"
#include "contracts/orders/orders.h"

namespace choreo::gateway {

// INVALID_ARGUMENT naming the first malformed field, or OK. Business rules (known SKUs, prices,
// limits) belong to the order service, which REJECTs such orders with a reason.
absl::Status ValidateRequestId(absl::string_view request_id);
absl::Status ValidateCreateOrder(const gateway::v1::CreateOrderRequest& request);
absl::Status ValidateDeposit(const gateway::v1::DepositRequest& request);
inline constexpr size_t kMaxCancelReasonBytes = 500;
// What one request may carry (ARCHITECTURE.md §7: request fields have sizes): a bad client's
// request is INVALID_ARGUMENT here, before it costs a Redis write or a Kafka record.
inline constexpr int kMaxOrderLines = 100;
inline constexpr int kMaxQuantity = 10'000;
inline constexpr size_t kMaxSkuBytes = 64;
inline constexpr size_t kMaxAddressFieldBytes = 200;
// The most one deposit may add: 10,000,000.00 in a currency of two decimals. Billing refuses a
// sum past INT64_MAX whatever comes (services/billing).
inline constexpr int64_t kMaxDepositMinorUnits = 1'000'000'000;
absl::Status ValidateCancelOrder(const gateway::v1::CancelOrderRequest& request);

// The token of an `authorization` metadata value "Bearer <token>" (scheme case-insensitive, RFC
// 6750), or UNAUTHENTICATED saying what is missing.
absl::StatusOr<absl::string_view> BearerToken(absl::string_view authorization);

// The ids one client request maps to. Every retry of the same (user, request id) maps to the same
// ids, so a re-published command is deduplicated downstream and joins the same saga.
template <typename AggregateId>
struct SagaIds {
  AggregateId aggregate_id;           // the order id (orders) or the username (deposits)
  ids::CorrelationId correlation_id;  // the saga's id
  ids::EventId event_id;              // the command event's id
  std::string fingerprint;  // of the request body, to refuse a reused id with another body
};
SagaIds<ids::OrderId> OrderSagaIds(const ids::Username& username,
                                   const gateway::v1::CreateOrderRequest& request);
// A CancelOrder joins the saga of the order it cancels: its correlation id is the order's.
SagaIds<ids::OrderId> CancelSagaIds(const ids::Username& username,
                                    const gateway::v1::CancelOrderRequest& request,
                                    const ids::CorrelationId& order_correlation);
SagaIds<ids::Username> DepositSagaIds(const ids::Username& username,
                                      const gateway::v1::DepositRequest& request);
SagaIds<ids::Username> RegistrationSagaIds(const ids::Username& username);

// The cached view of an order after its snapshot `order` (OrderSnapshot.order): the order's
// view if `order` is newer than what `view` holds (a higher revision), and whether it was.
// Snapshots re-published after a crash, or read by several writers in any order, never move a
// view back.
// kReproject also projects a snapshot of the view's own revision again (a rebuild: the
// projection may have changed since the view was written); never an older one.
enum class SnapshotRule { kNewer, kReproject };
bool ApplySnapshot(const orders::v1::Order& order, gateway::v1::Order& view,
                   SnapshotRule rule = SnapshotRule::kNewer);

// The gateway's view of an order as the order service holds it (its snapshot, or its admin
// API's answer for an order the cached views do not know).
gateway::v1::Order ViewOfOrder(const orders::v1::Order& order);

using contracts::IsTerminal;

// The change a WatchOrder stream sends for the view's latest status.
gateway::v1::OrderStatusChange LatestChange(const gateway::v1::Order& view);

}  // namespace choreo::gateway
