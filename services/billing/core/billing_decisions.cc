#include "services/billing/core/billing_decisions.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "contracts/payments/payments.h"
#include "contracts/topics/topics.h"
#include "platform/proto_time/proto_time.h"

namespace choreo::billing {
namespace {

using billing::v1::Account;

common::v1::Money Usd(int64_t cents) {
  common::v1::Money money;
  money.set_minor_units(cents);
  money.set_currency("USD");
  return money;
}

// `balance` + `amount`, or nullopt where the sum would not fit in int64 (money never wraps).
std::optional<int64_t> CheckedSum(int64_t balance, int64_t amount) {
  int64_t sum = 0;
  if (__builtin_add_overflow(balance, amount, &sum)) return std::nullopt;
  return sum;
}

}  // namespace

BillingPolicy DefaultPolicy() { return BillingPolicy{Usd(0)}; }

AccountReaction OnUserRegistered(const Account& account, const users::v1::UserRegistered& registered,
                                 const BillingPolicy& policy, absl::Time now) {
  AccountReaction reaction;
  if (account.open()) return reaction;
  Account opened;
  opened.set_username(registered.username());
  opened.set_open(true);
  *opened.mutable_balance() = policy.starting_balance;
  billing::v1::AccountOpened event;
  event.set_username(registered.username());
  *event.mutable_initial_balance() = policy.starting_balance;
  *event.mutable_opened_at() = ToProtoTime(now);
  reaction.events.push_back(
      saga::OutgoingEvent::Of(topics::kBillingAccounts, registered.username(), std::move(event)));
  reaction.state = std::move(opened);
  return reaction;
}

AccountReaction OnOrderCreated(const Account& account, const orders::v1::OrderCreated& order,
                               absl::Time now, uint32_t payment_revision) {
  AccountReaction reaction;
  billing::v1::PaymentProcessed payment;
  payment.set_order_id(order.order_id());
  payment.set_username(order.username());
  *payment.mutable_amount() = order.total();
  *payment.mutable_processed_at() = ToProtoTime(now);
  *payment.mutable_balance_after() = account.balance();
  if (!account.open()) {
    payment.set_outcome(billing::v1::PAYMENT_OUTCOME_REFUSED);
    payment.set_failure_reason(absl::StrCat("no account for user '", order.username(), "'"));
  } else if (order.total().currency() != account.balance().currency()) {
    payment.set_outcome(billing::v1::PAYMENT_OUTCOME_REFUSED);
    payment.set_failure_reason(absl::StrCat("order in ", order.total().currency(),
                                            ", account in ", account.balance().currency()));
  } else if (order.total().minor_units() < 0) {
    payment.set_outcome(billing::v1::PAYMENT_OUTCOME_REFUSED);
    payment.set_failure_reason("negative order total");
  } else if (account.balance().minor_units() < order.total().minor_units()) {
    payment.set_outcome(billing::v1::PAYMENT_OUTCOME_INSUFFICIENT_FUNDS);
    payment.set_failure_reason(absl::StrCat(contracts::kInsufficientFundsReason, "balance ",
                                            account.balance().minor_units(), " < total ",
                                            order.total().minor_units()));
  } else {
    Account debited = account;
    debited.mutable_balance()->set_minor_units(account.balance().minor_units() -
                                               order.total().minor_units());
    debited.set_debits(account.debits() + 1);
    payment.set_outcome(billing::v1::PAYMENT_OUTCOME_CHARGED);
    *payment.mutable_balance_after() = debited.balance();
    reaction.state = std::move(debited);
  }
  payment.set_success(payment.outcome() == billing::v1::PAYMENT_OUTCOME_CHARGED);
  if (payment_revision == 1) {  // for readers of revision 1: its fields alone
    payment.clear_outcome();
    payment.mutable_meta()->set_schema_version(1);
  }
  reaction.events.push_back(
      saga::OutgoingEvent::Of(topics::kBillingPayments, order.order_id(), std::move(payment)));
  return reaction;
}

AccountReaction OnDepositRequested(const Account& account,
                                   const billing::v1::DepositRequested& deposit, absl::Time now) {
  AccountReaction reaction;
  billing::v1::FundsDeposited result;
  result.set_request_id(deposit.request_id());
  result.set_username(deposit.username());
  *result.mutable_amount() = deposit.amount();
  *result.mutable_deposited_at() = ToProtoTime(now);
  *result.mutable_balance_after() = account.balance();
  const std::optional<int64_t> balance =
      CheckedSum(account.balance().minor_units(), deposit.amount().minor_units());
  if (!account.open()) {
    result.set_failure_reason(absl::StrCat("no account for user '", deposit.username(), "'"));
  } else if (deposit.amount().minor_units() <= 0) {
    result.set_failure_reason("amount must be positive");
  } else if (deposit.amount().currency() != account.balance().currency()) {
    result.set_failure_reason(absl::StrCat("deposit in ", deposit.amount().currency(),
                                           ", account in ", account.balance().currency()));
  } else if (!balance) {
    result.set_failure_reason("the balance would exceed the largest amount an account can hold");
  } else {
    Account credited = account;
    credited.mutable_balance()->set_minor_units(*balance);
    credited.set_deposits(account.deposits() + 1);
    result.set_success(true);
    *result.mutable_balance_after() = credited.balance();
    reaction.state = std::move(credited);
  }
  reaction.events.push_back(
      saga::OutgoingEvent::Of(topics::kBillingAccounts, deposit.username(), std::move(result)));
  return reaction;
}

absl::StatusOr<AccountReaction> OnRefundRequested(const Account& account,
                                                  const orders::v1::PaymentRefundRequested& refund,
                                                  absl::Time now) {
  if (!account.open()) {
    return absl::FailedPreconditionError(
        absl::StrCat("refund of order ", refund.order_id(), " for unknown account '",
                     refund.username(), "'"));
  }
  if (refund.amount().minor_units() <= 0 ||
      refund.amount().currency() != account.balance().currency()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "refund of order ", refund.order_id(), ": amount ", refund.amount().minor_units(), " ",
        refund.amount().currency(), " is not a positive amount in the account's currency (",
        account.balance().currency(), ")"));
  }
  const std::optional<int64_t> balance =
      CheckedSum(account.balance().minor_units(), refund.amount().minor_units());
  if (!balance) {
    return absl::FailedPreconditionError(absl::StrCat(
        "refund of order ", refund.order_id(), " would overflow the balance of '",
        refund.username(), "'"));
  }
  AccountReaction reaction;
  Account credited = account;
  credited.mutable_balance()->set_minor_units(*balance);
  credited.set_refunds(account.refunds() + 1);
  billing::v1::PaymentRefunded refunded;
  refunded.set_order_id(refund.order_id());
  refunded.set_username(refund.username());
  *refunded.mutable_amount() = refund.amount();
  *refunded.mutable_balance_after() = credited.balance();
  *refunded.mutable_refunded_at() = ToProtoTime(now);
  reaction.events.push_back(
      saga::OutgoingEvent::Of(topics::kBillingPayments, refund.order_id(), std::move(refunded)));
  reaction.state = std::move(credited);
  return reaction;
}

}  // namespace choreo::billing
