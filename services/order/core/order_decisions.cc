#include "services/order/core/order_decisions.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "platform/ids/stable_id.h"
#include "platform/proto_time/proto_time.h"
#include "contracts/topics/topics.h"

namespace choreo::order {
namespace {

using orders::v1::Order;
using orders::v1::OrderStatus;

bool Blank(const std::string& text) {
  return text.find_first_not_of(" \t\r\n") == std::string::npos;
}

// Moves `order` to `status`, and records the change in its history.
void MoveTo(Order& order, OrderStatus status, const std::string& reason, absl::Time now) {
  orders::v1::StatusChange* change = order.add_history();
  change->set_status(status);
  change->set_previous_status(order.status());
  change->set_reason(reason);
  *change->mutable_changed_at() = ToProtoTime(now);
  order.set_status(status);
  order.set_reason(reason);
  *order.mutable_updated_at() = ToProtoTime(now);
}

// The OrderStatusUpdated that announces `order`'s latest change (the same status, time and
// reason however often it is asked for).
orders::v1::OrderStatusUpdated CurrentStatus(const Order& order) {
  const orders::v1::StatusChange latest =
      order.history().empty() ? orders::v1::StatusChange() : *order.history().rbegin();
  orders::v1::OrderStatusUpdated updated;
  updated.set_order_id(order.order_id());
  updated.set_username(order.username());
  updated.set_status(order.status());
  updated.set_previous_status(latest.previous_status());
  updated.set_reason(order.reason());
  *updated.mutable_updated_at() = latest.changed_at();
  updated.set_request_id(order.request_id());
  *updated.mutable_total() = order.total();
  // Set once a cancellation moved the order; only cancellation statuses follow that.
  updated.set_cancel_request_id(order.cancel_request_id());
  return updated;
}

// Moves `order` to `status` and returns the OrderStatusUpdated that announces it.
orders::v1::OrderStatusUpdated ChangeStatus(Order& order, OrderStatus status,
                                            const std::string& reason, absl::Time now) {
  MoveTo(order, status, reason, now);
  return CurrentStatus(order);
}

// Asks billing to hand `amount` of `order`'s payment back, unless it was asked already; whether
// it asked.
bool RequestRefund(Order& order, const common::v1::Money& amount, absl::string_view reason,
                   absl::Time now, OrderReaction& reaction) {
  if (order.refund_requested() || order.refunded()) return false;
  order.set_refund_requested(true);
  orders::v1::PaymentRefundRequested refund;
  refund.set_order_id(order.order_id());
  refund.set_username(order.username());
  *refund.mutable_amount() = amount;
  refund.set_reason(std::string(reason));
  *refund.mutable_requested_at() = ToProtoTime(now);
  reaction.events.push_back(
      saga::OutgoingEvent::Of(topics::kOrdersRefunds, order.username(), std::move(refund)));
  return true;
}

orders::v1::OrderCancellationRefused Refusal(const Order& order,
                                             const orders::v1::OrderCancellationRequested& cancel,
                                             absl::Time now) {
  orders::v1::OrderCancellationRefused refused;
  refused.set_order_id(order.order_id());
  refused.set_username(order.username());
  refused.set_request_id(cancel.request_id());
  refused.set_status(order.status());
  const std::string status = orders::v1::OrderStatus_Name(order.status());
  refused.set_reason(
      order.cancel_request_id().empty()
          ? absl::StrCat("order ", order.order_id(), " is ", status,
                         ": only a PENDING_VALIDATION or PAID order can be cancelled")
          : absl::StrCat("order ", order.order_id(), " was already cancelled (request_id '",
                         order.cancel_request_id(), "') and is ", status));
  *refused.mutable_refused_at() = ToProtoTime(now);
  return refused;
}

}  // namespace

bool IsValidTransition(OrderStatus from, OrderStatus to) {
  switch (from) {
    case orders::v1::ORDER_STATUS_UNSPECIFIED:
      return to == orders::v1::ORDER_STATUS_PENDING_VALIDATION ||
             to == orders::v1::ORDER_STATUS_REJECTED;
    case orders::v1::ORDER_STATUS_PENDING_VALIDATION:
      return to == orders::v1::ORDER_STATUS_PAID ||
             to == orders::v1::ORDER_STATUS_INSUFFICIENT_FUNDS ||
             to == orders::v1::ORDER_STATUS_REJECTED || to == orders::v1::ORDER_STATUS_EXPIRED ||
             to == orders::v1::ORDER_STATUS_CANCELLED;
    case orders::v1::ORDER_STATUS_PAID:
      return to == orders::v1::ORDER_STATUS_REFUND_PENDING;
    case orders::v1::ORDER_STATUS_REFUND_PENDING:
      return to == orders::v1::ORDER_STATUS_REFUNDED;
    default:
      return false;
  }
}

std::optional<std::string> RejectionReason(const orders::v1::OrderCreationRequested& request,
                                           const Catalog& catalog, const OrderPolicy& policy) {
  if (request.items().empty()) return "items: at least one item is required";
  if (request.items_size() > policy.max_lines) {
    return absl::StrCat("items: at most ", policy.max_lines, " lines");
  }
  std::string currency;
  for (int i = 0; i < request.items_size(); ++i) {
    const orders::v1::OrderItem& item = request.items(i);
    const orders::v1::CatalogItem* product = catalog.Find(item.sku());
    if (product == nullptr) return absl::StrCat("items[", i, "].sku: unknown SKU '", item.sku(), "'");
    if (item.quantity() <= 0 || item.quantity() > policy.max_quantity) {
      return absl::StrCat("items[", i, "].quantity: must be 1..", policy.max_quantity, ", got ",
                          item.quantity());
    }
    if (currency.empty()) currency = product->unit_price().currency();
    if (product->unit_price().currency() != currency) {
      return absl::StrCat("items[", i, "].sku: priced in ", product->unit_price().currency(),
                          ", the order in ", currency);
    }
  }
  const orders::v1::DeliveryAddress& address = request.delivery_address();
  if (Blank(address.recipient())) return "delivery_address.recipient: required";
  if (Blank(address.line1())) return "delivery_address.line1: required";
  if (Blank(address.city())) return "delivery_address.city: required";
  if (Blank(address.country())) return "delivery_address.country: required";
  if (request.payment_method() != orders::v1::PAYMENT_METHOD_ACCOUNT_BALANCE) {
    return "payment_method: unknown payment method";
  }
  return std::nullopt;
}

OrderReaction OnOrderRequested(const Order& state, const orders::v1::OrderCreationRequested& request,
                               const Catalog& catalog, const OrderPolicy& policy, absl::Time now) {
  OrderReaction reaction;
  if (!state.order_id().empty()) return reaction;  // this request already made its order

  Order order;
  order.set_order_id(OrderIdFor(ids::Username(request.username()), request.request_id()).value());
  order.set_request_id(request.request_id());
  order.set_username(request.username());
  *order.mutable_delivery_address() = request.delivery_address();
  order.set_payment_method(request.payment_method());
  order.set_correlation_id(request.meta().correlation_id());
  order.set_traceparent(request.meta().traceparent());
  *order.mutable_created_at() = ToProtoTime(now);

  if (std::optional<std::string> reason = RejectionReason(request, catalog, policy)) {
    orders::v1::OrderStatusUpdated rejected =
        ChangeStatus(order, orders::v1::ORDER_STATUS_REJECTED, *reason, now);
    reaction.events.push_back(
        saga::OutgoingEvent::Of(topics::kOrdersStatus, order.order_id(), std::move(rejected)));
    reaction.state = std::move(order);
    return reaction;
  }

  int64_t total = 0;
  std::string currency;
  for (const orders::v1::OrderItem& item : request.items()) {
    const orders::v1::CatalogItem& product = *catalog.Find(item.sku());
    orders::v1::PricedItem* priced = order.add_items();
    priced->set_sku(item.sku());
    priced->set_name(product.name());
    priced->set_quantity(item.quantity());
    *priced->mutable_unit_price() = product.unit_price();
    priced->mutable_line_total()->set_currency(product.unit_price().currency());
    priced->mutable_line_total()->set_minor_units(product.unit_price().minor_units() *
                                                  item.quantity());
    total += priced->line_total().minor_units();
    currency = product.unit_price().currency();
  }
  order.mutable_total()->set_minor_units(total);
  order.mutable_total()->set_currency(currency);
  *order.mutable_deadline() = ToProtoTime(now + policy.expiry);
  // OrderCreated announces the new order; orders.status carries the changes that follow (and a
  // refusal at creation, above), and orders.snapshots the order at every revision.
  MoveTo(order, orders::v1::ORDER_STATUS_PENDING_VALIDATION, "", now);

  orders::v1::OrderCreated created;
  created.set_order_id(order.order_id());
  created.set_request_id(order.request_id());
  created.set_username(order.username());
  *created.mutable_items() = order.items();
  *created.mutable_total() = order.total();
  *created.mutable_created_at() = order.created_at();
  created.set_payment_method(order.payment_method());
  reaction.events.push_back(
      saga::OutgoingEvent::Of(topics::kOrdersCreated, order.username(), std::move(created)));
  reaction.state = std::move(order);
  return reaction;
}

absl::StatusOr<OrderReaction> OnPaymentProcessed(const Order& state,
                                                 const billing::v1::PaymentProcessed& payment,
                                                 absl::Time now) {
  if (state.order_id().empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("payment for unknown order ", payment.order_id()));
  }
  const billing::v1::PaymentOutcome outcome = payment.outcome();
  if (outcome != billing::v1::PAYMENT_OUTCOME_CHARGED &&
      outcome != billing::v1::PAYMENT_OUTCOME_INSUFFICIENT_FUNDS &&
      outcome != billing::v1::PAYMENT_OUTCOME_REFUSED) {
    return absl::FailedPreconditionError(absl::StrCat(
        "payment of order ", payment.order_id(), " has no outcome this service knows (",
        billing::v1::PaymentOutcome_Name(outcome).empty()
            ? absl::StrCat(static_cast<int>(outcome))
            : billing::v1::PaymentOutcome_Name(outcome),
        ")"));
  }
  OrderReaction reaction;
  if (state.status() == orders::v1::ORDER_STATUS_PENDING_VALIDATION) {
    Order order = state;
    orders::v1::OrderStatusUpdated updated;
    if (outcome == billing::v1::PAYMENT_OUTCOME_CHARGED) {
      updated = ChangeStatus(order, orders::v1::ORDER_STATUS_PAID, "", now);
    } else if (outcome == billing::v1::PAYMENT_OUTCOME_INSUFFICIENT_FUNDS) {
      updated = ChangeStatus(order, orders::v1::ORDER_STATUS_INSUFFICIENT_FUNDS,
                             payment.failure_reason(), now);
    } else {
      updated = ChangeStatus(order, orders::v1::ORDER_STATUS_REJECTED,
                             absl::StrCat("payment refused: ", payment.failure_reason()), now);
    }
    reaction.events.push_back(
        saga::OutgoingEvent::Of(topics::kOrdersStatus, order.order_id(), std::move(updated)));
    reaction.state = std::move(order);
    return reaction;
  }
  const bool ended_unpaid = state.status() == orders::v1::ORDER_STATUS_EXPIRED ||
                           state.status() == orders::v1::ORDER_STATUS_CANCELLED;
  if (ended_unpaid && outcome == billing::v1::PAYMENT_OUTCOME_CHARGED) {
    // Money moved for an order the client was told had expired or was cancelled: hand it back.
    Order order = state;
    if (RequestRefund(order, payment.amount(),
                      absl::StrCat("payment arrived after the order was ",
                                   absl::AsciiStrToLower(contracts::StatusName(state.status()))),
                      now, reaction)) {
      reaction.state = std::move(order);
    }
  }
  return reaction;  // decided already: a late or repeated outcome changes nothing
}

absl::StatusOr<OrderReaction> OnPaymentRefunded(const Order& state,
                                                const billing::v1::PaymentRefunded& refund,
                                                absl::Time now) {
  if (state.order_id().empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("refund for unknown order ", refund.order_id()));
  }
  OrderReaction reaction;
  if (state.refunded()) return reaction;
  Order order = state;
  order.set_refunded(true);
  (*order.mutable_updated_at()) = ToProtoTime(now);
  if (order.status() == orders::v1::ORDER_STATUS_REFUND_PENDING) {
    orders::v1::OrderStatusUpdated refunded = ChangeStatus(
        order, orders::v1::ORDER_STATUS_REFUNDED, order.reason(), now);
    reaction.events.push_back(
        saga::OutgoingEvent::Of(topics::kOrdersStatus, order.order_id(), std::move(refunded)));
  }
  reaction.state = std::move(order);
  return reaction;
}

absl::StatusOr<OrderReaction> OnCancellationRequested(
    const Order& state, const orders::v1::OrderCancellationRequested& cancel, absl::Time now) {
  if (state.order_id().empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("cancellation of unknown order ", cancel.order_id()));
  }
  if (cancel.username() != state.username()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cancellation of order ", state.order_id(), " by '", cancel.username(),
        "', who does not own it"));
  }
  OrderReaction reaction;
  if (!state.cancel_request_id().empty() && state.cancel_request_id() == cancel.request_id()) {
    // This request cancelled the order already, and its first outcome's de-duplication record is
    // gone (the runtime would have re-published that): say where the order is now, so that the
    // retry is answered. Nothing changes.
    reaction.events.push_back(saga::OutgoingEvent::Of(topics::kOrdersStatus, state.order_id(),
                                                      CurrentStatus(state)));
    return reaction;
  }
  const bool pending = state.status() == orders::v1::ORDER_STATUS_PENDING_VALIDATION;
  const bool paid = state.status() == orders::v1::ORDER_STATUS_PAID;
  if (!pending && !paid) {
    reaction.events.push_back(saga::OutgoingEvent::Of(topics::kOrdersStatus, state.order_id(),
                                                      Refusal(state, cancel, now)));
    return reaction;
  }
  Order order = state;
  order.set_cancel_request_id(cancel.request_id());
  order.set_cancel_reason(cancel.reason());
  const std::string reason =
      cancel.reason().empty() ? "cancelled by its user"
                              : absl::StrCat("cancelled by its user: ", cancel.reason());
  orders::v1::OrderStatusUpdated updated = ChangeStatus(
      order, pending ? orders::v1::ORDER_STATUS_CANCELLED : orders::v1::ORDER_STATUS_REFUND_PENDING,
      reason, now);
  if (paid) RequestRefund(order, order.total(), reason, now, reaction);
  reaction.events.push_back(
      saga::OutgoingEvent::Of(topics::kOrdersStatus, order.order_id(), std::move(updated)));
  reaction.state = std::move(order);
  return reaction;
}

OrderReaction OnDeadlinePassed(const Order& state, const orders::v1::OrderDeadlinePassed& passed,
                               absl::Time now) {
  OrderReaction reaction;
  // Whether the deadline passed is the scanner's call (its clock, the event's time): judged by
  // this instance's clock, a skewed instance would drop the event, whose id is stable, and the
  // order would never expire.
  const absl::Time passed_at =
      passed.meta().has_occurred_at() ? FromProtoTime(passed.meta().occurred_at()) : now;
  if (state.status() != orders::v1::ORDER_STATUS_PENDING_VALIDATION ||
      passed_at < FromProtoTime(state.deadline())) {
    return reaction;
  }
  Order order = state;
  orders::v1::OrderStatusUpdated expired = ChangeStatus(
      order, orders::v1::ORDER_STATUS_EXPIRED, "no payment outcome before the deadline", now);
  reaction.events.push_back(
      saga::OutgoingEvent::Of(topics::kOrdersStatus, order.order_id(), std::move(expired)));
  reaction.state = std::move(order);
  return reaction;
}

OrderReaction WithSnapshot(const Order& before, OrderReaction reaction) {
  bool announces = false;
  for (const saga::OutgoingEvent& event : reaction.events) {
    announces =
        announces || event.event->GetDescriptor() == orders::v1::OrderStatusUpdated::descriptor();
  }
  if (!reaction.state.has_value() && !announces) return reaction;
  if (reaction.state.has_value()) reaction.state->set_revision(before.revision() + 1);
  orders::v1::OrderSnapshot snapshot;
  *snapshot.mutable_order() = reaction.state.has_value() ? *reaction.state : before;
  std::string key = snapshot.order().order_id();
  saga::OutgoingEvent event =
      saga::OutgoingEvent::Of(topics::kOrdersSnapshots, std::move(key), std::move(snapshot));
  event.carries_state = true;  // its order is the state; views keep the highest revision
  reaction.events.push_back(std::move(event));
  return reaction;
}

}  // namespace choreo::order
