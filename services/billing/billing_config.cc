#include "services/billing/billing_config.h"

namespace choreo::billing {

void BillingConfig::AddFlags(config::FlagSet& flags) {
  ServiceConfig::AddFlags(flags);
  flags.Add("starting-balance", &starting_balance, "a new account's balance, in minor units")
      .Add("currency", &currency, "the accounts' ISO 4217 currency")
      .Add("payment-revision", &payment_revision,
           "the PaymentProcessed revision to write: 2, or 1 while order services of revision 1 "
           "still run (a rolling upgrade's first step)");
}

absl::Status BillingConfig::Validate() const {
  if (starting_balance < 0) return absl::InvalidArgumentError("--starting-balance must be >= 0");
  if (currency.size() != 3) return absl::InvalidArgumentError("--currency must be ISO 4217");
  if (payment_revision != 1 && payment_revision != 2) {
    return absl::InvalidArgumentError("--payment-revision must be 1 or 2");
  }
  return ServiceConfig::Validate();
}

BillingPolicy BillingConfig::Policy() const {
  BillingPolicy policy;
  policy.starting_balance.set_minor_units(starting_balance);
  policy.starting_balance.set_currency(currency);
  policy.payment_revision = static_cast<uint32_t>(payment_revision);
  return policy;
}

BillingConfig BillingConfig::FromFlags(int argc, char** argv) {
  return config::ParseConfigOrExit<BillingConfig>(
      "choreo-billing", "The billing service of the choreo saga.", argc, argv);
}

}  // namespace choreo::billing
