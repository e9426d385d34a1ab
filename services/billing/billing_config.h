#pragma once

// The billing service's configuration: the flags every service shares and its own, validated at
// start-up (a bad flag exits 2 naming it). Each flag is also CHOREO_<NAME> in the environment.

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "platform/config/flag_set.h"
#include "saga/service/service_host.h"
#include "services/billing/billing_service.h"

namespace choreo::billing {

struct BillingConfig : service::ServiceConfig {
  int64_t starting_balance = 0;  // a new account's, in minor units
  std::string currency = "USD";  // the accounts' ISO 4217 currency
  int payment_revision = 2;      // of PaymentProcessed (BillingPolicy::payment_revision)

  void AddFlags(config::FlagSet& flags);
  absl::Status Validate() const;
  BillingPolicy Policy() const;
  // Parses argv (exits on --help or a bad flag).
  static BillingConfig FromFlags(int argc, char** argv);
};

}  // namespace choreo::billing
