#include "gateway/core/gateway_rules.h"

#include "platform/proto_time/proto_time.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "platform/ids/stable_id.h"
#include "contracts/orders/orders.h"

namespace choreo::gateway {
namespace {

bool Blank(const std::string& text) {
  return text.find_first_not_of(" \t\r\n") == std::string::npos;
}

bool AllowedIdChar(char c) {
  return absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == ':';
}

}  // namespace

absl::StatusOr<absl::string_view> BearerToken(absl::string_view authorization) {
  if (authorization.empty()) {
    return absl::UnauthenticatedError("a bearer token is required (authorization: Bearer <token>)");
  }
  constexpr absl::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size() ||
      !absl::EqualsIgnoreCase(authorization.substr(0, kScheme.size()), kScheme)) {
    return absl::UnauthenticatedError("authorization: only the Bearer scheme is accepted");
  }
  absl::string_view token = absl::StripAsciiWhitespace(authorization.substr(kScheme.size()));
  if (token.empty()) return absl::UnauthenticatedError("authorization: the bearer token is empty");
  return token;
}

absl::Status ValidateRequestId(absl::string_view request_id) {
  if (request_id.empty()) return absl::InvalidArgumentError("request_id: required");
  if (request_id.size() > 128) return absl::InvalidArgumentError("request_id: at most 128 characters");
  for (char c : request_id) {
    if (!AllowedIdChar(c)) {
      return absl::InvalidArgumentError("request_id: only A-Z, a-z, 0-9 and . _ : - are allowed");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateCreateOrder(const gateway::v1::CreateOrderRequest& request) {
  if (absl::Status id = ValidateRequestId(request.request_id()); !id.ok()) return id;
  if (request.items().empty()) return absl::InvalidArgumentError("items: at least one is required");
  if (request.items_size() > kMaxOrderLines) {
    return absl::InvalidArgumentError(absl::StrCat("items: at most ", kMaxOrderLines, " lines"));
  }
  for (int i = 0; i < request.items_size(); ++i) {
    if (Blank(request.items(i).sku())) {
      return absl::InvalidArgumentError(absl::StrCat("items[", i, "].sku: required"));
    }
    if (request.items(i).sku().size() > kMaxSkuBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("items[", i, "].sku: at most ", kMaxSkuBytes, " bytes"));
    }
    if (request.items(i).quantity() <= 0 || request.items(i).quantity() > kMaxQuantity) {
      return absl::InvalidArgumentError(
          absl::StrCat("items[", i, "].quantity: must be 1..", kMaxQuantity));
    }
  }
  const orders::v1::DeliveryAddress& address = request.delivery_address();
  if (!request.has_delivery_address()) return absl::InvalidArgumentError("delivery_address: required");
  if (Blank(address.recipient())) return absl::InvalidArgumentError("delivery_address.recipient: required");
  if (Blank(address.line1())) return absl::InvalidArgumentError("delivery_address.line1: required");
  if (Blank(address.city())) return absl::InvalidArgumentError("delivery_address.city: required");
  if (Blank(address.country())) return absl::InvalidArgumentError("delivery_address.country: required");
  for (const auto& [name, value] :
       {std::pair<const char*, const std::string&>{"recipient", address.recipient()},
        {"line1", address.line1()},
        {"line2", address.line2()},
        {"city", address.city()},
        {"postal_code", address.postal_code()},
        {"country", address.country()}}) {
    if (value.size() > kMaxAddressFieldBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("delivery_address.", name, ": at most ", kMaxAddressFieldBytes, " bytes"));
    }
  }
  if (request.payment_method() == orders::v1::PAYMENT_METHOD_UNSPECIFIED) {
    return absl::InvalidArgumentError("payment_method: required");
  }
  return absl::OkStatus();
}

absl::Status ValidateDeposit(const gateway::v1::DepositRequest& request) {
  if (absl::Status id = ValidateRequestId(request.request_id()); !id.ok()) return id;
  if (request.amount().minor_units() <= 0) {
    return absl::InvalidArgumentError("amount.minor_units: must be positive");
  }
  if (request.amount().minor_units() > kMaxDepositMinorUnits) {
    return absl::InvalidArgumentError(
        absl::StrCat("amount.minor_units: at most ", kMaxDepositMinorUnits, " in one deposit"));
  }
  if (request.amount().currency().size() != 3) {
    return absl::InvalidArgumentError("amount.currency: an ISO 4217 code is required");
  }
  return absl::OkStatus();
}

absl::Status ValidateCancelOrder(const gateway::v1::CancelOrderRequest& request) {
  if (request.order_id().empty()) return absl::InvalidArgumentError("order_id: required");
  if (request.order_id().size() > 128) {
    return absl::InvalidArgumentError("order_id: at most 128 characters");
  }
  if (absl::Status id = ValidateRequestId(request.request_id()); !id.ok()) return id;
  if (request.reason().size() > kMaxCancelReasonBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("reason: at most ", kMaxCancelReasonBytes, " bytes"));
  }
  return absl::OkStatus();
}

SagaIds<ids::OrderId> OrderSagaIds(const ids::Username& username,
                                   const gateway::v1::CreateOrderRequest& request) {
  gateway::v1::CreateOrderRequest body = request;
  body.clear_request_id();
  std::string bytes;
  body.SerializePartialToString(&bytes);  // proto3 without maps: deterministic enough here
  return {contracts::OrderIdFor(username, request.request_id()),
          ids::CorrelationId(ids::StableId("saga/order", {username.value(), request.request_id()})),
          ids::EventId(ids::StableId("event/order-request", {username.value(), request.request_id()})),
          ids::StableId("body/order", {bytes})};
}

SagaIds<ids::OrderId> CancelSagaIds(const ids::Username& username,
                                    const gateway::v1::CancelOrderRequest& request,
                                    const ids::CorrelationId& order_correlation) {
  return {ids::OrderId(request.order_id()), order_correlation,
          ids::EventId(ids::StableId("event/order-cancel", {username.value(), request.request_id()})),
          ids::StableId("body/order-cancel", {request.order_id(), request.reason()})};
}

SagaIds<ids::Username> DepositSagaIds(const ids::Username& username,
                                      const gateway::v1::DepositRequest& request) {
  return {username,
          ids::CorrelationId(ids::StableId("saga/deposit", {username.value(), request.request_id()})),
          ids::EventId(ids::StableId("event/deposit", {username.value(), request.request_id()})),
          ids::StableId("body/deposit", {request.amount().SerializeAsString()})};
}

SagaIds<ids::Username> RegistrationSagaIds(const ids::Username& username) {
  return {username, ids::CorrelationId(ids::StableId("saga/register", {username.value()})),
          ids::EventId(ids::StableId("event/register", {username.value()})), ""};
}

bool ApplySnapshot(const orders::v1::Order& order, gateway::v1::Order& view, SnapshotRule rule) {
  // A view of revision 0 is a CreateOrder's claim, written from the request alone.
  if (view.revision() > 0 && order.revision() < view.revision()) return false;
  if (view.revision() > 0 && order.revision() == view.revision()) {
    if (rule == SnapshotRule::kNewer) return false;
    gateway::v1::Order projected = ViewOfOrder(order);
    if (projected.SerializeAsString() == view.SerializeAsString()) return false;
    view = std::move(projected);
    return true;
  }
  view = ViewOfOrder(order);
  return true;
}

gateway::v1::Order ViewOfOrder(const orders::v1::Order& order) {
  gateway::v1::Order view;
  view.set_order_id(order.order_id());
  view.set_request_id(order.request_id());
  view.set_status(order.status());
  view.set_reason(order.reason());
  *view.mutable_items() = order.items();
  if (order.has_total()) *view.mutable_total() = order.total();
  if (order.has_delivery_address()) *view.mutable_delivery_address() = order.delivery_address();
  view.set_payment_method(order.payment_method());
  view.set_correlation_id(order.correlation_id());
  if (order.has_created_at()) *view.mutable_created_at() = order.created_at();
  if (order.has_updated_at()) *view.mutable_updated_at() = order.updated_at();
  *view.mutable_history() = order.history();
  view.set_revision(order.revision());
  return view;
}

gateway::v1::OrderStatusChange LatestChange(const gateway::v1::Order& view) {
  gateway::v1::OrderStatusChange change;
  change.set_order_id(view.order_id());
  change.set_status(view.status());
  change.set_reason(view.reason());
  change.set_correlation_id(view.correlation_id());
  *change.mutable_changed_at() = view.updated_at();
  if (!view.history().empty()) {
    change.set_previous_status(view.history(view.history_size() - 1).previous_status());
  }
  change.set_terminal(IsTerminal(view.status()));
  return change;
}

}  // namespace choreo::gateway
