#pragma once

// The order service's decisions: pure functions (state, event, now) -> (new state, events).
// No I/O: unit-tested with plain TEST()s; services/order wires them to the saga runtime.
//
// Transitions (OrderStatus):
//   (new) --valid request--> PENDING_VALIDATION --payment ok--> PAID
//                                               --payment failed--> INSUFFICIENT_FUNDS
//                                               --deadline passed--> EXPIRED
//   (new) --invalid request--> REJECTED
// Terminal statuses never change. A successful payment that arrives for an EXPIRED order is
// refunded: the order stays EXPIRED and PaymentRefundRequested asks billing to credit the money
// back (docs: services/order/README.md).

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "choreo/billing/v1/events.pb.h"
#include "choreo/orders/v1/events.pb.h"
#include "choreo/orders/v1/order.pb.h"
#include "contracts/orders/orders.h"
#include "saga/reaction/reaction.h"
#include "services/order/core/catalog.h"

namespace choreo::order {

struct OrderPolicy {
  absl::Duration expiry = absl::Seconds(30);  // PENDING_VALIDATION longer than this -> EXPIRED
  int max_quantity = 100;                     // per line
  int max_lines = 50;
};

using OrderReaction = saga::Reaction<orders::v1::Order>;

// The order id of a request and the terminal statuses are shared with the gateway.
using contracts::IsTerminal;
using contracts::OrderIdFor;

// Whether `from` -> `to` is a transition of the order state machine above.
bool IsValidTransition(orders::v1::OrderStatus from, orders::v1::OrderStatus to);

// Why `request` cannot become an order, or nullopt if it can.
std::optional<std::string> RejectionReason(const orders::v1::OrderCreationRequested& request,
                                           const Catalog& catalog, const OrderPolicy& policy);

// orders.requests: a new order becomes PENDING_VALIDATION (+OrderCreated, +status) or REJECTED
// (+status). A request for an order that exists already changes nothing.
OrderReaction OnOrderRequested(const orders::v1::Order& state,
                               const orders::v1::OrderCreationRequested& request,
                               const Catalog& catalog, const OrderPolicy& policy, absl::Time now);

// billing.payments: PAID or INSUFFICIENT_FUNDS for a pending order; a refund request for a
// successful payment of an expired order; nothing otherwise. FAILED_PRECONDITION for a payment
// of an order this service never created (dead-lettered).
absl::StatusOr<OrderReaction> OnPaymentProcessed(const orders::v1::Order& state,
                                                 const billing::v1::PaymentProcessed& payment,
                                                 absl::Time now);

// billing.payments: billing gave a late payment back; the order records it.
absl::StatusOr<OrderReaction> OnPaymentRefunded(const orders::v1::Order& state,
                                                const billing::v1::PaymentRefunded& refund,
                                                absl::Time now);

// orders.deadlines: a still-pending order past its deadline becomes EXPIRED.
OrderReaction OnDeadlinePassed(const orders::v1::Order& state,
                               const orders::v1::OrderDeadlinePassed& deadline, absl::Time now);

}  // namespace choreo::order
