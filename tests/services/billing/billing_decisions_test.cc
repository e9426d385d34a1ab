// The billing service's decisions on accounts, with plain values.

#include "services/billing/core/billing_decisions.h"

#include <limits>
#include <tuple>

#include "contracts/topics/topics.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace choreo::billing {
namespace {

using billing::v1::Account;
using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1795348800);

common::v1::Money Usd(int64_t cents) {
  common::v1::Money money;
  money.set_minor_units(cents);
  money.set_currency("USD");
  return money;
}

Account Open(int64_t cents) {
  users::v1::UserRegistered registered;
  registered.set_username("alice");
  return *OnUserRegistered(Account(), registered, BillingPolicy{Usd(cents)}, kNow).state;
}

orders::v1::OrderCreated Order(int64_t total, const std::string& id = "ord-1") {
  orders::v1::OrderCreated order;
  order.set_order_id(id);
  order.set_username("alice");
  *order.mutable_total() = Usd(total);
  return order;
}

template <typename Event>
const Event& Emitted(const AccountReaction& reaction, size_t index = 0) {
  return static_cast<const Event&>(*reaction.events.at(index).event);
}

TEST(BillingDecisionsTest, RegistrationOpensTheAccountOnce) {
  users::v1::UserRegistered registered;
  registered.set_username("alice");
  AccountReaction opened = OnUserRegistered(Account(), registered, DefaultPolicy(), kNow);
  ASSERT_TRUE(opened.state.has_value());
  EXPECT_TRUE(opened.state->open());
  EXPECT_EQ(opened.state->balance().minor_units(), 0);
  EXPECT_EQ(opened.state->balance().currency(), "USD");
  ASSERT_EQ(opened.events.size(), 1u);
  EXPECT_EQ(opened.events[0].topic, topics::kBillingAccounts);
  EXPECT_EQ(opened.events[0].key, "alice");
  EXPECT_EQ(Emitted<billing::v1::AccountOpened>(opened).username(), "alice");

  AccountReaction again = OnUserRegistered(*opened.state, registered, BillingPolicy{Usd(500)}, kNow);
  EXPECT_FALSE(again.state.has_value());
  EXPECT_TRUE(again.events.empty());
  EXPECT_EQ(Open(500).balance().minor_units(), 500);
}

TEST(BillingDecisionsTest, AnOrderIsDebitedWhenTheBalanceCoversIt) {
  AccountReaction paid = OnOrderCreated(Open(3000), Order(2699), kNow);
  ASSERT_TRUE(paid.state.has_value());
  EXPECT_EQ(paid.state->balance().minor_units(), 301);
  EXPECT_EQ(paid.state->debits(), 1);
  ASSERT_EQ(paid.events.size(), 1u);
  EXPECT_EQ(paid.events[0].topic, topics::kBillingPayments);
  EXPECT_EQ(paid.events[0].key, "ord-1");
  const auto& payment = Emitted<billing::v1::PaymentProcessed>(paid);
  EXPECT_TRUE(payment.success());
  EXPECT_EQ(payment.outcome(), billing::v1::PAYMENT_OUTCOME_CHARGED);
  EXPECT_EQ(payment.meta().schema_version(), 0u) << "the runtime stamps the current revision";
  EXPECT_EQ(payment.amount().minor_units(), 2699);
  EXPECT_EQ(payment.balance_after().minor_units(), 301);

  // Exactly the balance is enough.
  EXPECT_TRUE(Emitted<billing::v1::PaymentProcessed>(OnOrderCreated(Open(2699), Order(2699), kNow))
                  .success());
}

TEST(BillingDecisionsTest, AnOrderBeyondTheBalanceIsRefusedAndNothingMoves) {
  AccountReaction refused = OnOrderCreated(Open(300), Order(2699), kNow);
  EXPECT_FALSE(refused.state.has_value());
  const auto& payment = Emitted<billing::v1::PaymentProcessed>(refused);
  EXPECT_FALSE(payment.success());
  EXPECT_EQ(payment.outcome(), billing::v1::PAYMENT_OUTCOME_INSUFFICIENT_FUNDS);
  EXPECT_EQ(payment.failure_reason(), "insufficient funds: balance 300 < total 2699");
  EXPECT_EQ(payment.balance_after().minor_units(), 300);
}

TEST(BillingDecisionsTest, NoAccountOrAnotherCurrencyIsARefusedPayment) {
  auto none = OnOrderCreated(Account(), Order(1), kNow);
  EXPECT_FALSE(none.state.has_value());
  EXPECT_EQ(Emitted<billing::v1::PaymentProcessed>(none).outcome(),
            billing::v1::PAYMENT_OUTCOME_REFUSED);
  EXPECT_FALSE(Emitted<billing::v1::PaymentProcessed>(none).success());
  EXPECT_THAT(Emitted<billing::v1::PaymentProcessed>(none).failure_reason(),
              HasSubstr("no account for user 'alice'"));
  orders::v1::OrderCreated euros = Order(1);
  euros.mutable_total()->set_currency("EUR");
  auto mismatch = OnOrderCreated(Open(100), euros, kNow);
  EXPECT_FALSE(mismatch.state.has_value());
  EXPECT_THAT(Emitted<billing::v1::PaymentProcessed>(mismatch).failure_reason(),
              HasSubstr("order in EUR, account in USD"));
  EXPECT_EQ(Emitted<billing::v1::PaymentProcessed>(mismatch).outcome(),
            billing::v1::PAYMENT_OUTCOME_REFUSED);
}

TEST(BillingDecisionsTest, RevisionOneIsWrittenForReadersNotYetUpgraded) {
  // --payment-revision 1: revision 1's fields alone, stamped revision 1 (StampMeta keeps it).
  for (const auto& [account, total, success] :
       {std::tuple{Open(3000), 2699, true}, std::tuple{Open(300), 2699, false},
        std::tuple{Account(), 1, false}}) {
    AccountReaction reaction = OnOrderCreated(account, Order(total), kNow, 1);
    const auto& payment = Emitted<billing::v1::PaymentProcessed>(reaction);
    EXPECT_EQ(payment.meta().schema_version(), 1u);
    EXPECT_EQ(payment.outcome(), billing::v1::PAYMENT_OUTCOME_UNSPECIFIED);
    EXPECT_EQ(payment.success(), success);
    EXPECT_EQ(reaction.state.has_value(), success) << "the money moves the same in both revisions";
  }
}

TEST(BillingDecisionsTest, DepositsCreditPositiveAmountsOnly) {
  billing::v1::DepositRequested deposit;
  deposit.set_request_id("d1");
  deposit.set_username("alice");
  *deposit.mutable_amount() = Usd(1000);
  AccountReaction credited = OnDepositRequested(Open(5), deposit, kNow);
  ASSERT_TRUE(credited.state.has_value());
  EXPECT_EQ(credited.state->balance().minor_units(), 1005);
  EXPECT_EQ(credited.state->deposits(), 1);
  const auto& result = Emitted<billing::v1::FundsDeposited>(credited);
  EXPECT_TRUE(result.success());
  EXPECT_EQ(result.request_id(), "d1");
  EXPECT_EQ(result.balance_after().minor_units(), 1005);
  EXPECT_EQ(credited.events[0].topic, topics::kBillingAccounts);

  *deposit.mutable_amount() = Usd(0);
  AccountReaction zero = OnDepositRequested(Open(5), deposit, kNow);
  EXPECT_FALSE(zero.state.has_value());
  EXPECT_FALSE(Emitted<billing::v1::FundsDeposited>(zero).success());
  EXPECT_EQ(Emitted<billing::v1::FundsDeposited>(zero).failure_reason(), "amount must be positive");
  *deposit.mutable_amount() = Usd(10);
  EXPECT_THAT(Emitted<billing::v1::FundsDeposited>(OnDepositRequested(Account(), deposit, kNow))
                  .failure_reason(),
              HasSubstr("no account"));
}

TEST(BillingDecisionsTest, ARefundCreditsTheLatePaymentBack) {
  Account debited = *OnOrderCreated(Open(3000), Order(2699), kNow).state;
  orders::v1::PaymentRefundRequested refund;
  refund.set_order_id("ord-1");
  refund.set_username("alice");
  *refund.mutable_amount() = Usd(2699);
  auto refunded = OnRefundRequested(debited, refund, kNow);
  ASSERT_TRUE(refunded.ok());
  EXPECT_EQ(refunded->state->balance().minor_units(), 3000);
  EXPECT_EQ(refunded->state->refunds(), 1);
  EXPECT_EQ(refunded->events[0].topic, topics::kBillingPayments);
  EXPECT_EQ(refunded->events[0].key, "ord-1");
  EXPECT_EQ(Emitted<billing::v1::PaymentRefunded>(*refunded).balance_after().minor_units(), 3000);
  EXPECT_EQ(OnRefundRequested(Account(), refund, kNow).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(BillingDecisionsTest, ARefundThatIsNotAPositiveAmountOfTheAccountsCurrencyIsRefused) {
  orders::v1::PaymentRefundRequested refund;
  refund.set_order_id("ord-1");
  refund.set_username("alice");
  *refund.mutable_amount() = Usd(-5);
  EXPECT_TRUE(absl::IsFailedPrecondition(OnRefundRequested(Open(10), refund, kNow).status()));
  *refund.mutable_amount() = Usd(0);
  EXPECT_TRUE(absl::IsFailedPrecondition(OnRefundRequested(Open(10), refund, kNow).status()));
  refund.mutable_amount()->set_minor_units(5);
  refund.mutable_amount()->set_currency("EUR");
  EXPECT_TRUE(absl::IsFailedPrecondition(OnRefundRequested(Open(10), refund, kNow).status()));
}

TEST(BillingDecisionsTest, CreditsNeverWrapTheBalance) {
  const int64_t max = std::numeric_limits<int64_t>::max();
  orders::v1::PaymentRefundRequested refund;
  refund.set_order_id("ord-1");
  refund.set_username("alice");
  *refund.mutable_amount() = Usd(1);
  absl::StatusOr<AccountReaction> refused = OnRefundRequested(Open(max), refund, kNow);
  EXPECT_TRUE(absl::IsFailedPrecondition(refused.status()));
  EXPECT_THAT(refused.status().message(), HasSubstr("overflow"));

  billing::v1::DepositRequested deposit;
  deposit.set_request_id("d1");
  deposit.set_username("alice");
  *deposit.mutable_amount() = Usd(1);
  AccountReaction too_much = OnDepositRequested(Open(max), deposit, kNow);
  EXPECT_FALSE(too_much.state.has_value());
  EXPECT_FALSE(Emitted<billing::v1::FundsDeposited>(too_much).success());
  EXPECT_THAT(Emitted<billing::v1::FundsDeposited>(too_much).failure_reason(), HasSubstr("exceed"));
  *deposit.mutable_amount() = Usd(max - 10);
  EXPECT_EQ(OnDepositRequested(Open(10), deposit, kNow).state->balance().minor_units(), max);
}

}  // namespace
}  // namespace choreo::billing
