// choreo-order: the order service. Validates and prices order requests from its catalog,
// follows each order to PAID, INSUFFICIENT_FUNDS, REJECTED or EXPIRED, and serves OrderAdmin.

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "saga/config/flag_set.h"
#include "saga/logging/logger.h"
#include "saga/process/stop_signals.h"
#include "saga/service/service_host.h"
#include "services/order/order_service.h"

int main(int argc, char** argv) {
  choreo::process::StopSignals signals;  // before any thread starts
  choreo::service::ServiceConfig config;
  std::string catalog_file;
  absl::Duration expiry = absl::Seconds(30);
  absl::Duration scan_interval = absl::Milliseconds(250);
  choreo::config::FlagSet flags("choreo-order", "The order service of the choreo saga.");
  config.AddFlags(flags);
  flags.Add("catalog-file", &catalog_file, "catalog CSV (SKU,name,price[,currency]); built-in if empty")
      .Add("order-expiry", &expiry, "how long an order may wait for its payment before EXPIRED")
      .Add("deadline-scan-interval", &scan_interval, "how often overdue orders are looked for");
  choreo::config::ParseOrExit(flags, argc, argv, [&]() -> absl::Status {
    if (expiry <= absl::ZeroDuration()) return absl::InvalidArgumentError("--order-expiry must be > 0");
    return config.Validate();
  });

  choreo::order::Catalog catalog = choreo::order::Catalog::Default();
  if (!catalog_file.empty()) {
    std::stringstream text;
    text << std::ifstream(catalog_file).rdbuf();
    absl::StatusOr<choreo::order::Catalog> parsed = choreo::order::Catalog::Parse(text.str());
    if (!parsed.ok()) {
      std::fprintf(stderr, "choreo-order: %s: %s\n", catalog_file.c_str(),
                   std::string(parsed.status().message()).c_str());
      return 2;
    }
    catalog = *std::move(parsed);
  }
  choreo::order::OrderPolicy policy;
  policy.expiry = expiry;
  absl::StatusOr<choreo::saga::HandlerRegistry> registry =
      choreo::order::OrderRegistry(catalog, policy);
  if (!registry.ok()) {
    std::fprintf(stderr, "choreo-order: %s\n", std::string(registry.status().message()).c_str());
    return 2;
  }
  const choreo::redis::RedisConnection::Options redis{
      .address = *choreo::redis::ParseRedisAddress(config.redis)};
  choreo::order::OrderAdminService admin(catalog, redis);
  choreo::order::DeadlineScanner scanner(
      {.redis = redis, .kafka_brokers = config.kafka_brokers, .expiry = expiry,
       .interval = scan_interval});

  choreo::service::ServiceParts parts;
  parts.name = choreo::order::kService;
  parts.subscriptions.push_back({.topics = choreo::order::OrderTopics(), .registry = *std::move(registry)});
  parts.grpc_services = {&admin};
  parts.observer = &scanner;
  parts.on_started = [&scanner]() -> std::function<void()> {
    if (absl::Status started = scanner.Start(); !started.ok()) {
      choreo::logging::Error(absl::StrCat("deadline scanner: ", started.message()));
    }
    return [&scanner] { scanner.Stop(); };
  };
  return choreo::service::RunService(config, std::move(parts), signals);
}
