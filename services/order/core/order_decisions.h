#pragma once

// The order service's decisions: pure functions (state, event, now) -> (new state, events).
// No I/O: unit-tested with plain TEST()s; services/order wires them to the saga runtime.
//
// Transitions (OrderStatus):
//   (new) --valid request--> PENDING_VALIDATION --payment ok--> PAID --cancel--> REFUND_PENDING
//                                               --payment failed--> INSUFFICIENT_FUNDS    |
//                                               --payment refused--> REJECTED             |
//                                               --deadline passed--> EXPIRED        refunded
//                                               --cancel--> CANCELLED                     v
//   (new) --invalid request--> REJECTED                                              REFUNDED
// No other status changes. A successful payment that arrives for an EXPIRED or CANCELLED order
// is refunded: the order keeps its status and PaymentRefundRequested asks billing to credit the
// money back. An order asks for at most one refund (docs: services/order/README.md).

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

// orders.requests: a new order becomes PENDING_VALIDATION (+OrderCreated, which announces it: no
// status event) or REJECTED (+status). A request for an order that exists already changes nothing.
OrderReaction OnOrderRequested(const orders::v1::Order& state,
                               const orders::v1::OrderCreationRequested& request,
                               const Catalog& catalog, const OrderPolicy& policy, absl::Time now);

// billing.payments: PAID, INSUFFICIENT_FUNDS, or REJECTED (billing refused to charge it: "payment
// refused: <why>") for a pending order, by payment.outcome (revision 1 is upcast first:
// contracts::UpcastPaymentProcessedFromV1); a refund request for a charged payment of an
// expired or cancelled order; nothing otherwise. FAILED_PRECONDITION for a payment of an order
// this service never created, or one without an outcome it knows (dead-lettered).
absl::StatusOr<OrderReaction> OnPaymentProcessed(const orders::v1::Order& state,
                                                 const billing::v1::PaymentProcessed& payment,
                                                 absl::Time now);

// orders.cancellations: the order's owner asked to cancel it. PENDING_VALIDATION -> CANCELLED;
// PAID -> REFUND_PENDING (+PaymentRefundRequested of its total); any other status, or a second
// cancellation, -> OrderCancellationRefused naming the status; the same request again (decided
// anew once its de-duplication record expired) re-announces the current status, changing nothing. FAILED_PRECONDITION (dead-lettered) for an order this service never created or a
// requester who does not own it: the gateway checks both before it publishes.
absl::StatusOr<OrderReaction> OnCancellationRequested(
    const orders::v1::Order& state, const orders::v1::OrderCancellationRequested& cancel,
    absl::Time now);

// billing.payments: billing gave a payment back; the order records it (REFUND_PENDING ->
// REFUNDED; a late payment's refund leaves the status as it is).
absl::StatusOr<OrderReaction> OnPaymentRefunded(const orders::v1::Order& state,
                                                const billing::v1::PaymentRefunded& refund,
                                                absl::Time now);

// orders.deadlines: a still-pending order past its deadline becomes EXPIRED.
OrderReaction OnDeadlinePassed(const orders::v1::Order& state,
                               const orders::v1::OrderDeadlinePassed& deadline, absl::Time now);

// Every change of an order goes out whole: gives the reaction's new state the revision after
// `before`'s and adds its OrderSnapshot (orders.snapshots, key order id) to the reaction's
// events, so that the snapshot commits and publishes with the change. A reaction that changes
// nothing but announces the order's status again (a repeated cancellation decided anew)
// re-publishes `before`'s snapshot, same revision: who waits on snapshots (the gateway's
// CancelOrder) hears the answer too, and no view moves. Any other reaction that changes nothing
// is returned as it is. The order service applies it to every decision above.
OrderReaction WithSnapshot(const orders::v1::Order& before, OrderReaction reaction);

}  // namespace choreo::order
