#pragma once

// The billing service's decisions on the account aggregate: pure functions
// (account, event, now) -> (new account, events). No I/O.
//
// - UserRegistered opens the account once, with the configured starting balance.
// - OrderCreated debits the order's total exactly once (the runtime dedupes by event id and the
//   order service emits one OrderCreated per order), or reports why it could not:
//   PaymentProcessed either way.
// - DepositRequested credits a positive amount (FundsDeposited, success or not).
// - PaymentRefundRequested credits an order's payment back (PaymentRefunded): a cancelled PAID
//   order's total, or a payment that landed after its order expired or was cancelled. The order
//   aggregate asks at most once per order, and the runtime applies each request once.
// Balances never go below zero, and never wrap: a credit that would pass INT64_MAX minor units is
// refused.

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "choreo/billing/v1/admin.pb.h"
#include "choreo/billing/v1/events.pb.h"
#include "choreo/common/v1/event.pb.h"
#include "choreo/orders/v1/events.pb.h"
#include "choreo/users/v1/events.pb.h"
#include "saga/reaction/reaction.h"

namespace choreo::billing {

struct BillingPolicy {
  common::v1::Money starting_balance;  // default: 0 USD (see DefaultPolicy)
  // The revision of PaymentProcessed billing writes: 2 (outcome), or 1 (success and
  // failure_reason alone) while order services that read only revision 1 still run: the first
  // step of a rolling upgrade upgrades the readers (services/billing/README.md).
  uint32_t payment_revision = 2;
};
BillingPolicy DefaultPolicy();

using AccountReaction = saga::Reaction<billing::v1::Account>;

AccountReaction OnUserRegistered(const billing::v1::Account& account,
                                 const users::v1::UserRegistered& registered,
                                 const BillingPolicy& policy, absl::Time now);

// Charges the order's total: PaymentProcessed CHARGED (the account debited), INSUFFICIENT_FUNDS
// or REFUSED (no account, another currency, a negative total), in `payment_revision`.
AccountReaction OnOrderCreated(const billing::v1::Account& account,
                               const orders::v1::OrderCreated& order, absl::Time now,
                               uint32_t payment_revision = 2);

AccountReaction OnDepositRequested(const billing::v1::Account& account,
                                   const billing::v1::DepositRequested& deposit, absl::Time now);

// FAILED_PRECONDITION (dead-lettered: an operator must look) if the account does not exist, the
// amount is not positive or not in the account's currency, or the credit would overflow.
absl::StatusOr<AccountReaction> OnRefundRequested(const billing::v1::Account& account,
                                                  const orders::v1::PaymentRefundRequested& refund,
                                                  absl::Time now);

}  // namespace choreo::billing
