// choreo-billing: the billing service. Opens accounts, debits each order exactly once (or says
// why not), applies deposits and refunds, and serves BillingAdmin.

#include "platform/process/server_defaults.h"
#include "platform/process/stop_signals.h"
#include "saga/service/service_host.h"
#include "services/billing/billing_config.h"
#include "services/billing/billing_service.h"

int main(int argc, char** argv) {
  using namespace choreo;  // NOLINT(build/namespaces): main only wires
  process::ApplyServerDefaults();
  process::StopSignals signals;  // before any thread starts
  const billing::BillingConfig config = billing::BillingConfig::FromFlags(argc, argv);
  if (absl::Status applied = config.ApplyClientLogins(); !applied.ok()) {
    return service::StartFailure(billing::kService, applied);
  }
  absl::StatusOr<saga::HandlerRegistry> registry = billing::BillingRegistry(config.Policy());
  if (!registry.ok()) return service::StartFailure(billing::kService, registry.status());
  billing::BillingAdminService admin(*redis::RedisConnection::OptionsFor(config.redis));
  service::ServiceParts parts;
  parts.name = billing::kService;
  parts.subscriptions.push_back({.topics = billing::BillingTopics(), .registry = *std::move(registry)});
  parts.grpc_services = {&admin};
  return service::RunService(config, std::move(parts), signals);
}
