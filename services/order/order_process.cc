#include "services/order/order_process.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "edges/kafka/kafka_client.h"
#include "platform/logging/logger.h"
#include "saga/publish/publisher.h"
#include "saga/service/service_host.h"
#include "saga/telemetry/telemetry.h"
#include "services/order/order_service.h"

namespace choreo::order {

int RunOrder(const OrderConfig& config, process::StopSignals& signals) {
  if (absl::Status applied = config.ApplyClientLogins(); !applied.ok()) {
    return service::StartFailure(kService, applied);
  }
  absl::StatusOr<Catalog> catalog = config.LoadCatalog();
  if (!catalog.ok()) return service::StartFailure(kService, catalog.status());
  absl::StatusOr<std::unique_ptr<telemetry::Telemetry>> telemetry =
      telemetry::Telemetry::Start(kService, config.telemetry);
  if (!telemetry.ok()) return service::StartFailure(kService, telemetry.status());
  const redis::RedisConnection::Options redis = *redis::RedisConnection::OptionsFor(config.redis);
  OrderPolicy policy;
  policy.expiry = config.order_expiry;
  // One connection per runtime lane: each lane writes its orders' deadlines after the commit.
  DeadlineIndex index(redis, config.workers);
  absl::StatusOr<saga::HandlerRegistry> registry = OrderRegistry(*catalog, policy, &index);
  if (!registry.ok()) return service::StartFailure(kService, registry.status());
  OrderAdminService admin(*catalog, redis);
  // The scanner's events leave through a publisher of their own: it runs beside the runtime.
  absl::StatusOr<std::unique_ptr<publish::KafkaPublisher>> publisher =
      publish::KafkaPublisher::Create(kafka::ProducerDefaults(config.kafka_brokers),
                                      {.service = kService,
                                       .tracer = &(*telemetry)->tracer(),
                                       .clock = config.Clock()});
  if (!publisher.ok()) return service::StartFailure(kService, publisher.status());
  prometheus::Gauge& overdue =
      (*telemetry)
          ->metrics()
          .Gauge("choreo_order_deadlines_overdue",
                 "Orders past their deadline that this instance's latest deadline scan found and "
                 "did not confirm OrderDeadlinePassed published for (0 when it holds no scan "
                 "lease).",
                 {})
          .With({});
  DeadlineScanner scanner({.redis = redis,
                           .publisher = &(*publisher)->publisher(),
                           .interval = config.deadline_scan_interval,
                           .clock = config.Clock(),
                           .after_pass = [&overdue](int count) { overdue.Set(count); }});

  service::ServiceParts parts;
  parts.name = kService;
  parts.subscriptions.push_back({.topics = OrderTopics(), .registry = *std::move(registry)});
  parts.grpc_services = {&admin};
  parts.telemetry = telemetry->get();
  parts.on_started = [&scanner]() -> std::function<void()> {
    if (absl::Status started = scanner.Start(); !started.ok()) {
      logging::Error(absl::StrCat("deadline scanner: ", started.message()));
    }
    return [&scanner] { scanner.Stop(); };
  };
  return service::RunService(config, std::move(parts), signals);
}

}  // namespace choreo::order
