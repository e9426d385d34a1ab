// choreo-billing: the billing service. Opens accounts, debits each order exactly once (or says
// why not), applies deposits and refunds, and serves BillingAdmin.

#include "absl/strings/str_cat.h"
#include "platform/config/flag_set.h"
#include "platform/process/stop_signals.h"
#include "saga/service/service_host.h"
#include "services/billing/billing_service.h"

int main(int argc, char** argv) {
  choreo::process::StopSignals signals;  // before any thread starts
  choreo::service::ServiceConfig config;
  int64_t starting_balance = 0;
  std::string currency = "USD";
  choreo::config::FlagSet flags("choreo-billing", "The billing service of the choreo saga.");
  config.AddFlags(flags);
  flags.Add("starting-balance", &starting_balance, "a new account's balance, in minor units")
      .Add("currency", &currency, "the accounts' ISO 4217 currency");
  choreo::config::ParseOrExit(flags, argc, argv, [&]() -> absl::Status {
    if (starting_balance < 0) return absl::InvalidArgumentError("--starting-balance must be >= 0");
    if (currency.size() != 3) return absl::InvalidArgumentError("--currency must be ISO 4217");
    return config.Validate();
  });

  choreo::billing::BillingPolicy policy;
  policy.starting_balance.set_minor_units(starting_balance);
  policy.starting_balance.set_currency(currency);
  absl::StatusOr<choreo::saga::HandlerRegistry> registry = choreo::billing::BillingRegistry(policy);
  if (!registry.ok()) {
    std::fprintf(stderr, "choreo-billing: %s\n", std::string(registry.status().message()).c_str());
    return 2;
  }
  choreo::billing::BillingAdminService admin(
      {.address = *choreo::redis::ParseRedisAddress(config.redis)});
  choreo::service::ServiceParts parts;
  parts.name = choreo::billing::kService;
  parts.subscriptions.push_back({.topics = choreo::billing::BillingTopics(), .registry = *std::move(registry)});
  parts.grpc_services = {&admin};
  return choreo::service::RunService(config, std::move(parts), signals);
}
