#include "services/users/users_process.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "credentials/signing_keys.h"
#include "edges/kafka/kafka_client.h"
#include "saga/publish/publisher.h"
#include "saga/service/service_host.h"
#include "saga/telemetry/telemetry.h"
#include "services/users/user_service.h"
#include "services/users/user_store.h"

namespace choreo::users {

int RunUsers(const UsersConfig& config, process::StopSignals& signals) {
  if (absl::Status applied = config.ApplyClientLogins(); !applied.ok()) {
    return service::StartFailure(kService, applied);
  }
  absl::StatusOr<std::unique_ptr<telemetry::Telemetry>> telemetry =
      telemetry::Telemetry::Start(kService, config.telemetry);
  if (!telemetry.ok()) return service::StartFailure(kService, telemetry.status());
  absl::StatusOr<credentials::SigningKey> key =
      credentials::LoadOrCreateSigningKey(config.jwt_private_key, config.jwt_public_key);
  if (!key.ok()) return service::StartFailure(kService, key.status());
  const credentials::TokenIssuer token_issuer(*std::move(key), config.jwt_issuer,
                                              config.token_lifetime);
  absl::StatusOr<saga::HandlerRegistry> registry = UserRegistry();
  if (!registry.ok()) return service::StartFailure(kService, registry.status());
  // The API's events leave through a publisher of their own (the outbox relays what it missed).
  saga::SagaObserver& saga_metrics = (*telemetry)->saga_metrics();
  absl::StatusOr<std::unique_ptr<publish::KafkaPublisher>> publisher =
      publish::KafkaPublisher::Create(
          kafka::ProducerDefaults(config.kafka_brokers),
          {.service = kService,
           .tracer = &(*telemetry)->tracer(),
           .on_published = [&saga_metrics](const KafkaRecord& record) {
             saga_metrics.OnPublished(record);
           }});
  if (!publisher.ok()) return service::StartFailure(kService, publisher.status());

  UserStore store(*redis::RedisConnection::OptionsFor(config.redis), config.marker_retention,
                  config.MarkerHeaders());
  Outbox outbox(&store, &(*publisher)->publisher(), {});
  UserServiceOptions options = config.ServiceOptions();
  options.publisher = &(*publisher)->publisher();
  UserServiceImpl users(&store, &outbox, &token_issuer, options);

  service::ServiceParts parts;
  parts.name = kService;
  // Profile requests are a bounded, off-critical-path wait (the notification service's): idle
  // fetches may wait longer (Kafka long-polls anyway; the dev broker serves fewer empty ones).
  parts.subscriptions.push_back(
      {.topics = UserTopics(),
       .registry = *std::move(registry),
       .consumer_overrides = {{"fetch.wait.max.ms",
                               absl::StrCat(std::max(config.fetch_wait_max_ms, 100))}}});
  parts.grpc_services = {&users};
  parts.telemetry = telemetry->get();
  parts.on_started = [&outbox] {
    outbox.Start();
    return std::function<void()>([&outbox] { outbox.Stop(); });
  };
  return service::RunService(config, std::move(parts), signals);
}

}  // namespace choreo::users
