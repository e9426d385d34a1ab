#include "contracts/payments/payments.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace choreo::contracts {

absl::Status UpcastPaymentProcessedFromV1(billing::v1::PaymentProcessed& payment) {
  billing::v1::PaymentOutcome outcome = billing::v1::PAYMENT_OUTCOME_REFUSED;
  if (payment.success()) {
    outcome = billing::v1::PAYMENT_OUTCOME_CHARGED;
  } else if (absl::StartsWith(payment.failure_reason(), kInsufficientFundsReason)) {
    outcome = billing::v1::PAYMENT_OUTCOME_INSUFFICIENT_FUNDS;
  }
  if (payment.outcome() != billing::v1::PAYMENT_OUTCOME_UNSPECIFIED &&
      payment.outcome() != outcome) {
    return absl::InvalidArgumentError(
        absl::StrCat("a revision-1 payment of order ", payment.order_id(), " has outcome ",
                     billing::v1::PaymentOutcome_Name(payment.outcome()), " but success ",
                     payment.success() ? "true" : "false"));
  }
  payment.set_outcome(outcome);
  return absl::OkStatus();
}

}  // namespace choreo::contracts
