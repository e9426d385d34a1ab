// choreo-users: the user service. Registers users (Argon2id password hashes), logs them in with
// EdDSA-signed JWTs, keeps their profiles, publishes UserRegistered / ProfileUpdated, and answers
// ProfileRequested over Kafka.

#include "absl/strings/str_cat.h"
#include "platform/config/flag_set.h"
#include "edges/kafka/kafka_client.h"
#include "platform/process/stop_signals.h"
#include "saga/service/service_host.h"
#include "credentials/signing_keys.h"
#include "services/users/user_service.h"

int main(int argc, char** argv) {
  choreo::process::StopSignals signals;  // before any thread starts
  choreo::service::ServiceConfig config;
  std::string private_key = "users-signing-key.pem";
  std::string public_key = "users-signing-key.pub.pem";
  std::string issuer = "choreo-users";
  absl::Duration token_lifetime = absl::Hours(1);
  choreo::users::UserServiceOptions options;
  int64_t hash_ops = static_cast<int64_t>(options.password_hash.ops_limit);
  int hash_mem_mib = static_cast<int>(options.password_hash.mem_limit_bytes >> 20);
  choreo::config::FlagSet flags("choreo-users", "The user service of the choreo saga.");
  config.AddFlags(flags);
  flags
      .Add("jwt-private-key", &private_key,
           "Ed25519 PKCS#8 PEM signing key; created (with --jwt-public-key) when missing")
      .Add("jwt-public-key", &public_key, "where the matching public key (SPKI PEM) is written")
      .Add("jwt-issuer", &issuer, "the tokens' iss claim (the gateway checks it)")
      .Add("token-lifetime", &token_lifetime, "how long an access token is valid")
      .Add("login-attempts", &options.login_limit.max_attempts,
           "login attempts allowed per username per --login-window")
      .Add("login-window", &options.login_limit.window, "the login rate limit's window")
      .Add("password-hash-ops", &hash_ops, "Argon2id iterations (opslimit)")
      .Add("password-hash-mib", &hash_mem_mib, "Argon2id memory per hash, in MiB");
  choreo::config::ParseOrExit(flags, argc, argv, [&]() -> absl::Status {
    if (token_lifetime < absl::Minutes(1) || token_lifetime > absl::Hours(24)) {
      return absl::InvalidArgumentError("--token-lifetime must be 1m..24h");
    }
    if (options.login_limit.max_attempts < 1 || options.login_limit.window <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError("--login-attempts must be >= 1 and --login-window > 0");
    }
    if (hash_ops < 1 || hash_mem_mib < 8 || hash_mem_mib > 4096) {
      return absl::InvalidArgumentError("--password-hash-ops must be >= 1, --password-hash-mib 8..4096");
    }
    if (issuer.empty()) return absl::InvalidArgumentError("--jwt-issuer is empty");
    return config.Validate();
  });
  options.password_hash.ops_limit = static_cast<uint64_t>(hash_ops);
  options.password_hash.mem_limit_bytes = static_cast<size_t>(hash_mem_mib) << 20;

  auto fail = [](const absl::Status& status) {
    std::fprintf(stderr, "choreo-users: %s\n", std::string(status.message()).c_str());
    return 2;
  };
  absl::StatusOr<std::unique_ptr<choreo::telemetry::Telemetry>> telemetry =
      choreo::telemetry::Telemetry::Start(choreo::users::kService, config.telemetry);
  if (!telemetry.ok()) return fail(telemetry.status());
  absl::StatusOr<choreo::credentials::SigningKey> key =
      choreo::credentials::LoadOrCreateSigningKey(private_key, public_key);
  if (!key.ok()) return fail(key.status());
  const choreo::credentials::TokenIssuer token_issuer(*std::move(key), issuer, token_lifetime);
  absl::StatusOr<choreo::saga::HandlerRegistry> registry = choreo::users::UserRegistry();
  if (!registry.ok()) return fail(registry.status());
  auto producer = choreo::kafka::KafkaProducer::Create(
      choreo::kafka::ProducerDefaults(config.kafka_brokers));
  if (!producer.ok()) return fail(producer.status());

  choreo::users::UserStore store({.address = *choreo::redis::ParseRedisAddress(config.redis)},
                                 config.marker_retention);
  choreo::publish::KafkaSink sink(producer->get());
  choreo::saga::SagaObserver& saga_metrics = (*telemetry)->saga_metrics();
  const choreo::publish::Publisher publisher(
      &sink, {.service = choreo::users::kService,
              .tracer = &(*telemetry)->tracer(),
              .on_published = [&saga_metrics](const choreo::KafkaRecord& record) {
                saga_metrics.OnPublished(record);
              }});
  options.publisher = &publisher;
  choreo::users::Outbox outbox(&store, &publisher, {});
  choreo::users::UserServiceImpl users(&store, &outbox, &token_issuer, options);

  choreo::service::ServiceParts parts;
  parts.name = choreo::users::kService;
  // Profile requests are a bounded, off-critical-path wait (the notification service's): idle
  // fetches may wait longer (Kafka long-polls anyway; the dev broker serves fewer empty ones).
  parts.subscriptions.push_back(
      {.topics = choreo::users::UserTopics(),
       .registry = *std::move(registry),
       .consumer_overrides = {{"fetch.wait.max.ms",
                               absl::StrCat(std::max(config.fetch_wait_max_ms, 100))}}});
  parts.grpc_services = {&users};
  parts.telemetry = telemetry->get();
  parts.on_started = [&outbox] {
    outbox.Start();
    return std::function<void()>([&outbox] { outbox.Stop(); });
  };
  const int code = choreo::service::RunService(config, std::move(parts), signals);
  static_cast<void>((*producer)->Flush(absl::Seconds(5)));
  return code;
}
