#pragma once

// Values the order core's tests share: a well-formed request and the order it makes.

#include <string>

#include "absl/time/time.h"
#include "choreo/orders/v1/events.pb.h"
#include "services/order/core/order_decisions.h"

namespace choreo::order::test_values {

inline const absl::Time kNow = absl::FromUnixSeconds(1795348800);

// alice's request "r1" of the saga "corr-1": two MUG-002 and a PEN-004 (26.99 USD).
inline orders::v1::OrderCreationRequested Request(const std::string& user = "alice",
                                                  const std::string& request_id = "r1") {
  orders::v1::OrderCreationRequested request;
  request.mutable_meta()->set_correlation_id("corr-1");
  request.set_request_id(request_id);
  request.set_username(user);
  auto* item = request.add_items();
  item->set_sku("MUG-002");
  item->set_quantity(2);
  item = request.add_items();
  item->set_sku("PEN-004");
  item->set_quantity(1);
  auto* address = request.mutable_delivery_address();
  address->set_recipient("Alice");
  address->set_line1("1 Main St");
  address->set_city("Springfield");
  address->set_country("US");
  request.set_payment_method(orders::v1::PAYMENT_METHOD_ACCOUNT_BALANCE);
  return request;
}

// The order Request() makes, PENDING_VALIDATION.
inline orders::v1::Order Pending() {
  return *OnOrderRequested(orders::v1::Order(), Request(), Catalog::Default(), {}, kNow).state;
}

}  // namespace choreo::order::test_values
