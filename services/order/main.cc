// choreo-order: the order service. Validates and prices order requests from its catalog,
// follows each order to PAID, INSUFFICIENT_FUNDS, REJECTED or EXPIRED, and serves OrderAdmin.

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "platform/config/flag_set.h"
#include "edges/kafka/kafka_client.h"
#include "platform/logging/logger.h"
#include "saga/publish/publisher.h"
#include "platform/process/stop_signals.h"
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
  auto fail = [](const absl::Status& status) {
    std::fprintf(stderr, "choreo-order: %s\n", std::string(status.message()).c_str());
    return 2;
  };
  absl::StatusOr<std::unique_ptr<choreo::telemetry::Telemetry>> telemetry =
      choreo::telemetry::Telemetry::Start(choreo::order::kService, config.telemetry);
  if (!telemetry.ok()) return fail(telemetry.status());
  const choreo::redis::RedisConnection::Options redis{
      .address = *choreo::redis::ParseRedisAddress(config.redis)};
  choreo::order::OrderPolicy policy;
  policy.expiry = expiry;
  // One connection per runtime lane: each lane writes its orders' deadlines after the commit.
  choreo::order::DeadlineIndex index(redis, config.workers);
  absl::StatusOr<choreo::saga::HandlerRegistry> registry =
      choreo::order::OrderRegistry(catalog, policy, &index);
  if (!registry.ok()) return fail(registry.status());
  choreo::order::OrderAdminService admin(catalog, redis);
  // The scanner's events leave through a Publisher of their own: it runs beside the runtime.
  auto producer = choreo::kafka::KafkaProducer::Create(
      choreo::kafka::ProducerDefaults(config.kafka_brokers));
  if (!producer.ok()) return fail(producer.status());
  choreo::publish::KafkaSink sink(producer->get());
  choreo::publish::Publisher publisher(
      &sink, {.service = choreo::order::kService, .tracer = &(*telemetry)->tracer()});
  choreo::order::DeadlineScanner scanner(
      {.redis = redis, .publisher = &publisher, .interval = scan_interval});

  choreo::service::ServiceParts parts;
  parts.name = choreo::order::kService;
  parts.subscriptions.push_back({.topics = choreo::order::OrderTopics(), .registry = *std::move(registry)});
  parts.grpc_services = {&admin};
  parts.telemetry = telemetry->get();
  parts.on_started = [&scanner]() -> std::function<void()> {
    if (absl::Status started = scanner.Start(); !started.ok()) {
      choreo::logging::Error(absl::StrCat("deadline scanner: ", started.message()));
    }
    return [&scanner] { scanner.Stop(); };
  };
  const int code = choreo::service::RunService(config, std::move(parts), signals);
  static_cast<void>((*producer)->Flush(absl::Seconds(5)));
  return code;
}
