// PaymentProcessed's move from revision 1 (success) to 2 (outcome), for a rolling upgrade: the
// order service reads revision 1 through its upcaster; a reader of revision 1 (an order service
// not yet upgraded) still reads revision 2 right, by its own schema.

#include <memory>
#include <tuple>

#include "choreo/billing/v1/events.pb.h"
#include "contracts/payments/payments.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/dynamic_message.h"
#include "gtest/gtest.h"
#include "saga/codec/event_codec.h"
#include "services/billing/core/billing_decisions.h"
#include "services/order/order_service.h"

namespace choreo::order {
namespace {

using billing::v1::PaymentProcessed;

// A payment as billing of revision 1 wrote it: no outcome, stamped revision 1.
PaymentProcessed RevisionOne(bool success, const std::string& reason) {
  PaymentProcessed payment;
  common::v1::EventMeta& meta = *payment.mutable_meta();
  meta.set_event_id("e-" + reason);
  meta.set_schema_version(1);
  meta.set_correlation_id("corr");
  meta.set_producer("billing");
  meta.mutable_occurred_at()->set_seconds(1796000000);
  payment.set_order_id("ord-1");
  payment.set_success(success);
  payment.set_failure_reason(reason);
  return payment;
}

TEST(PaymentRevisionsTest, RevisionOneIsReadAsTheOutcomeItMeant) {
  struct Case {
    bool success;
    std::string reason;
    billing::v1::PaymentOutcome outcome;
  } cases[] = {
      {true, "", billing::v1::PAYMENT_OUTCOME_CHARGED},
      {false, "insufficient funds: balance 300 < total 2699",
       billing::v1::PAYMENT_OUTCOME_INSUFFICIENT_FUNDS},
      {false, "no account for user 'alice'", billing::v1::PAYMENT_OUTCOME_REFUSED},
      {false, "order in EUR, account in USD", billing::v1::PAYMENT_OUTCOME_REFUSED},
      {false, "negative order total", billing::v1::PAYMENT_OUTCOME_REFUSED},
  };
  absl::StatusOr<saga::HandlerRegistry> registry = OrderRegistry(Catalog::Default(), {}, nullptr);
  ASSERT_TRUE(registry.ok()) << registry.status();
  for (const Case& c : cases) {
    PaymentProcessed payment = RevisionOne(c.success, c.reason);
    ASSERT_TRUE(contracts::UpcastPaymentProcessedFromV1(payment).ok());
    EXPECT_EQ(payment.outcome(), c.outcome) << c.reason;
    // The same through the order service's own registry, from the record on the topic.
    absl::StatusOr<KafkaRecord> record =
        registry->codec().Encode(RevisionOne(c.success, c.reason), "billing.payments", "ord-1");
    ASSERT_TRUE(record.ok()) << record.status();
    absl::StatusOr<saga::HandlerRegistry::Dispatch> dispatch = registry->Decode(*record);
    ASSERT_TRUE(dispatch.ok()) << dispatch.status();
    EXPECT_EQ(dispatch->event.schema_version, 1u);
    EXPECT_EQ(static_cast<const PaymentProcessed&>(*dispatch->event.message).outcome(), c.outcome)
        << c.reason;
  }
  // An outcome that contradicts success is no revision-1 event: refused (dead-lettered).
  PaymentProcessed contradictory = RevisionOne(true, "");
  contradictory.set_outcome(billing::v1::PAYMENT_OUTCOME_INSUFFICIENT_FUNDS);
  EXPECT_EQ(contracts::UpcastPaymentProcessedFromV1(contradictory).code(),
            absl::StatusCode::kInvalidArgument);
  // Revision 2 is not upcast: its outcome stands.
  PaymentProcessed current = RevisionOne(false, "no account for user 'bob'");
  current.mutable_meta()->set_schema_version(2);
  current.set_outcome(billing::v1::PAYMENT_OUTCOME_REFUSED);
  absl::StatusOr<KafkaRecord> record = registry->codec().Encode(current, "billing.payments", "o");
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(
      static_cast<const PaymentProcessed&>(*registry->Decode(*record)->event.message).outcome(),
      billing::v1::PAYMENT_OUTCOME_REFUSED);
}

TEST(PaymentRevisionsTest, AReaderOfRevisionOneReadsRevisionTwoRight) {
  // The schema an order service of revision 1 was built with: PaymentProcessed without outcome.
  google::protobuf::FileDescriptorProto file;
  billing::v1::PaymentProcessed::descriptor()->file()->CopyTo(&file);
  google::protobuf::DescriptorPool pool(google::protobuf::DescriptorPool::generated_pool());
  file.set_name("revision1/" + file.name());
  file.set_package("revision1");
  for (google::protobuf::DescriptorProto& message : *file.mutable_message_type()) {
    if (message.name() != "PaymentProcessed") continue;
    auto* fields = message.mutable_field();
    for (int i = fields->size() - 1; i >= 0; --i) {
      if (fields->Get(i).name() == "outcome") fields->DeleteSubrange(i, 1);
    }
  }
  for (auto& message : *file.mutable_message_type()) {
    for (auto& field : *message.mutable_field()) {
      if (field.type_name().rfind(".choreo.billing.v1.", 0) == 0) {
        field.set_type_name(".revision1." + field.type_name().substr(19));
      }
    }
  }
  const google::protobuf::FileDescriptor* old = pool.BuildFile(file);
  ASSERT_NE(old, nullptr);
  const google::protobuf::Descriptor* type = old->FindMessageTypeByName("PaymentProcessed");
  ASSERT_NE(type, nullptr);
  ASSERT_EQ(type->FindFieldByName("outcome"), nullptr);
  google::protobuf::DynamicMessageFactory factory(&pool);
  // Payments as billing of revision 2 decides them: charged, short of funds, refused.
  billing::v1::Account open;
  open.set_open(true);
  open.mutable_balance()->set_currency("USD");
  open.mutable_balance()->set_minor_units(5000);
  orders::v1::OrderCreated order;
  order.set_order_id("ord-1");
  order.set_username("alice");
  order.mutable_total()->set_currency("USD");
  for (const auto& [account, total, outcome] :
       {std::tuple{open, 2699, billing::v1::PAYMENT_OUTCOME_CHARGED},
        std::tuple{open, 9999, billing::v1::PAYMENT_OUTCOME_INSUFFICIENT_FUNDS},
        std::tuple{billing::v1::Account(), 1, billing::v1::PAYMENT_OUTCOME_REFUSED}}) {
    order.mutable_total()->set_minor_units(total);
    billing::AccountReaction decided = billing::OnOrderCreated(account, order, absl::Now());
    ASSERT_EQ(decided.events.size(), 1u);
    const auto& payment = static_cast<const PaymentProcessed&>(*decided.events[0].event);
    ASSERT_EQ(payment.outcome(), outcome);
    const bool success = decided.state.has_value();  // the account was debited
    std::unique_ptr<google::protobuf::Message> read(factory.GetPrototype(type)->New());
    ASSERT_TRUE(read->ParseFromString(payment.SerializeAsString()));
    const google::protobuf::FieldDescriptor* field = type->FindFieldByName("success");
    EXPECT_EQ(read->GetReflection()->GetBool(*read, field), success)
        << "a revision-1 reader marks the order paid exactly when billing charged it";
    EXPECT_EQ(payment.failure_reason().empty(), success);
  }
}

}  // namespace
}  // namespace choreo::order
