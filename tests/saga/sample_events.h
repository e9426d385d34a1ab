#pragma once

// Events with every EventMeta field set, for codec and Kafka tests.

#include <string>

#include "choreo/billing/v1/events.pb.h"
#include "choreo/orders/v1/events.pb.h"
#include "choreo/users/v1/events.pb.h"
#include "saga/codec/event_codec.h"

namespace choreo::testing {

inline void FillMeta(google::protobuf::Message& event, const std::string& event_id,
                     const std::string& correlation_id, const std::string& producer) {
  common::v1::EventMeta* meta = codec::MutableMetaOf(&event);
  meta->set_event_id(event_id);
  meta->set_schema_version(codec::CurrentSchemaVersion(*event.GetDescriptor()));
  meta->set_correlation_id(correlation_id);
  meta->set_causation_id("cause-" + event_id);
  meta->set_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  meta->mutable_occurred_at()->set_seconds(1795348800);  // 2026-11-22T12:00:00Z
  meta->mutable_occurred_at()->set_nanos(250000000);
  meta->set_producer(producer);
}

inline orders::v1::OrderCreated SampleOrderCreated(const std::string& event_id,
                                                   const std::string& username = "alice") {
  orders::v1::OrderCreated event;
  FillMeta(event, event_id, "corr-" + event_id, "order");
  event.set_order_id("ord-" + event_id);
  event.set_request_id("req-" + event_id);
  event.set_username(username);
  orders::v1::PricedItem* item = event.add_items();
  item->set_sku("SKU-1");
  item->set_name("Widget");
  item->set_quantity(2);
  item->mutable_unit_price()->set_minor_units(1250);
  item->mutable_unit_price()->set_currency("USD");
  item->mutable_line_total()->set_minor_units(2500);
  item->mutable_line_total()->set_currency("USD");
  event.mutable_total()->set_minor_units(2500);
  event.mutable_total()->set_currency("USD");
  event.mutable_created_at()->set_seconds(1795348800);
  event.set_payment_method(orders::v1::PAYMENT_METHOD_ACCOUNT_BALANCE);
  return event;
}

inline billing::v1::PaymentProcessed SamplePaymentProcessed(const std::string& event_id,
                                                            const std::string& username = "bob") {
  billing::v1::PaymentProcessed event;
  FillMeta(event, event_id, "corr-" + event_id, "billing");
  event.set_order_id("ord-" + event_id);
  event.set_username(username);
  event.mutable_amount()->set_minor_units(900);
  event.mutable_amount()->set_currency("EUR");
  event.set_success(false);
  event.set_outcome(billing::v1::PAYMENT_OUTCOME_INSUFFICIENT_FUNDS);
  event.set_failure_reason("insufficient funds: balance 300 < total 900");
  return event;
}

inline users::v1::UserRegistered SampleUserRegistered(const std::string& event_id,
                                                      const std::string& username = "carol") {
  users::v1::UserRegistered event;
  FillMeta(event, event_id, "corr-" + event_id, "users");
  event.set_username(username);
  event.mutable_profile()->set_username(username);
  event.mutable_profile()->set_email(username + "@example.com");
  event.mutable_profile()->set_display_name("Carol");
  return event;
}

}  // namespace choreo::testing
