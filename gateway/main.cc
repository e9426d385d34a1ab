// choreo-gateway: the public gRPC API of choreo. Turns each call into a saga's first event and
// answers when the saga's outcome arrives.

#include "absl/cleanup/cleanup.h"
#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "gateway/event_feed.h"
#include "gateway/gateway_service.h"
#include "gateway/timeline/timeline_indexer.h"
#include "gateway/timeline/timeline_page.h"
#include "gateway/timeline/timeline_service.h"
#include "grpcpp/grpcpp.h"
#include "saga/config/flag_set.h"
#include "saga/ids/trace_context.h"
#include "saga/process/stop_signals.h"
#include "saga/redis/redis_connection.h"
#include "saga/process/files.h"
#include "saga/logging/logger.h"
#include "saga/service/grpc_server.h"
#include "saga/telemetry/grpc_telemetry.h"
#include "saga/telemetry/saga_metrics.h"
#include "saga/telemetry/telemetry.h"
#include "credentials/signing_keys.h"
#include "transcoding/transcoder.h"

namespace {

struct GatewayConfig {
  std::string kafka_brokers = "127.0.0.1:9092";
  std::string redis = "127.0.0.1:6379";
  std::string grpc_listen = "127.0.0.1:0";
  std::string port_file;
  std::string http_listen = "127.0.0.1:0";
  std::string http_port_file;
  int http_max_connections = 1024;
  absl::Duration http_idle_timeout = absl::Seconds(30);
  int http_max_body_bytes = 1 << 20;
  std::string order_address = "127.0.0.1:50051";
  std::string billing_address = "127.0.0.1:50052";
  std::string users_address = "127.0.0.1:50053";
  std::string notification_address = "127.0.0.1:50054";
  std::string jwt_public_key = "users-signing-key.pub.pem";
  std::string jwt_issuer = "choreo-users";
  std::string instance_id;  // default: random
  int fetch_wait_max_ms = 100;
  int max_waiting = 20000;
  int work_threads = 8;
  int redis_connections = 8;
  absl::Duration max_wait = absl::Seconds(30);
  // How long a request may wait for the broker's acknowledgement before the caller gets
  // UNAVAILABLE: longer than a leader failover (a dead broker is noticed after Kafka's
  // broker.session.timeout.ms, 9 s, then leaders move), shorter than --max-wait.
  absl::Duration publish_timeout = absl::Seconds(20);
  bool timeline_indexer = true;
  absl::Duration timeline_retention = absl::Hours(24 * 7);
  int timeline_max_sagas_per_user = 200;
  choreo::telemetry::TelemetryConfig telemetry;

  absl::Status Validate() const {
    if (timeline_retention < absl::Minutes(1) || timeline_max_sagas_per_user < 1) {
      return absl::InvalidArgumentError(
          "--timeline-retention must be >= 1m and --timeline-max-sagas-per-user >= 1");
    }
    if (absl::Status address = choreo::redis::ParseRedisAddress(redis).status(); !address.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--redis: ", address.message()));
    }
    if (max_waiting < 1) return absl::InvalidArgumentError("--max-waiting must be >= 1");
    if (work_threads < 1 || redis_connections < 1) {
      return absl::InvalidArgumentError("--work-threads and --redis-connections must be >= 1");
    }
    if (max_wait <= absl::ZeroDuration()) return absl::InvalidArgumentError("--max-wait must be > 0");
    if (publish_timeout < absl::Seconds(1) || publish_timeout > max_wait) {
      return absl::InvalidArgumentError("--publish-timeout must be >= 1s and <= --max-wait");
    }
    if (http_max_connections < 1 || http_max_body_bytes < 1 || http_idle_timeout < absl::Seconds(1)) {
      return absl::InvalidArgumentError(
          "--http-max-connections and --http-max-body-bytes must be >= 1, --http-idle-timeout >= 1s");
    }
    return telemetry.Validate();
  }
};

void Log(const std::string& message) { choreo::logging::Info(message); }

}  // namespace

int main(int argc, char** argv) {
  choreo::process::StopSignals signals;  // before any thread starts
  GatewayConfig config;
  choreo::config::FlagSet flags("choreo-gateway",
                                "The public API of choreo (orders, accounts) over gRPC and HTTP/JSON.");
  flags.Add("kafka-brokers", &config.kafka_brokers, "Kafka bootstrap servers")
      .Add("redis", &config.redis, "Redis host:port")
      .Add("grpc-listen", &config.grpc_listen, "gRPC listen address (port 0: any free port)")
      .Add("port-file", &config.port_file, "write the bound gRPC port to this file")
      .Add("http-listen", &config.http_listen,
           "HTTP/JSON listen address, IPv4 host:port (port 0: any free port)")
      .Add("http-port-file", &config.http_port_file, "write the bound HTTP port to this file")
      .Add("http-max-connections", &config.http_max_connections, "HTTP connections at once")
      .Add("http-idle-timeout", &config.http_idle_timeout,
           "close an HTTP connection idle (or sending slower than this) for this long")
      .Add("http-max-body-bytes", &config.http_max_body_bytes, "larger HTTP bodies get 413")
      .Add("order-address", &config.order_address, "the order service's gRPC address")
      .Add("billing-address", &config.billing_address, "the billing service's gRPC address")
      .Add("users-address", &config.users_address, "the user service's gRPC address")
      .Add("notification-address", &config.notification_address,
           "the notification service's gRPC address")
      .Add("jwt-public-key", &config.jwt_public_key,
           "the user service's token verifying key (Ed25519 SPKI PEM)")
      .Add("jwt-issuer", &config.jwt_issuer, "the iss claim tokens must carry")
      .Add("instance-id", &config.instance_id, "this instance's id (its consumer group); random if empty")
      .Add("fetch-wait-max-ms", &config.fetch_wait_max_ms, "consumer fetch.wait.max.ms")
      .Add("max-waiting", &config.max_waiting, "calls that may wait for a saga at once")
      .Add("work-threads", &config.work_threads, "threads for blocking work (Redis)")
      .Add("redis-connections", &config.redis_connections, "Redis connections")
      .Add("max-wait", &config.max_wait, "the longest CreateOrder waits for its saga")
      .Add("publish-timeout", &config.publish_timeout,
           "how long a request waits for the broker's acknowledgement before UNAVAILABLE "
           "(longer than a leader failover)")
      .Add("timeline-indexer", &config.timeline_indexer,
           "index every mission topic for the saga timeline (group choreo-timeline)")
      .Add("timeline-retention", &config.timeline_retention,
           "how long a saga's timeline is kept after its last event")
      .Add("timeline-max-sagas-per-user", &config.timeline_max_sagas_per_user,
           "how many of a user's recent sagas are listed");
  config.telemetry.AddFlags(flags);
  choreo::config::ParseOrExit(flags, argc, argv, [&] { return config.Validate(); });
  if (config.instance_id.empty()) {
    absl::BitGen random;
    config.instance_id = choreo::ids::RandomHex(random, 6);
  }

  absl::StatusOr<std::unique_ptr<choreo::telemetry::Telemetry>> started_telemetry =
      choreo::telemetry::Telemetry::Start("gateway", config.telemetry);
  if (!started_telemetry.ok()) {
    std::fprintf(stderr, "choreo-gateway: %s\n",
                 std::string(started_telemetry.status().message()).c_str());
    return 2;
  }
  choreo::telemetry::Telemetry& telemetry = **started_telemetry;
  choreo::gateway::SagaOutcomeMetrics saga_metrics(telemetry.metrics());

  absl::StatusOr<choreo::credentials::VerifyingKey> key =
      choreo::credentials::LoadVerifyingKey(config.jwt_public_key);
  if (!key.ok()) {
    Log(absl::StrCat("--jwt-public-key: ", key.status().message()));
    return 2;
  }
  const choreo::gateway::Authenticator auth(
      choreo::credentials::TokenVerifier(*std::move(key), config.jwt_issuer));

  choreo::gateway::OrderCache cache({.address = *choreo::redis::ParseRedisAddress(config.redis)},
                                    config.redis_connections);
  choreo::gateway::Waiters waiters(static_cast<size_t>(config.max_waiting));
  choreo::kafka::KafkaConfig producer_config = choreo::kafka::ProducerDefaults(config.kafka_brokers);
  producer_config.emplace_back("message.timeout.ms",
                               absl::StrCat(absl::ToInt64Milliseconds(config.publish_timeout)));
  auto producer = choreo::kafka::KafkaProducer::Create(producer_config);
  if (!producer.ok()) {
    Log(std::string(producer.status().message()));
    return 1;
  }
  choreo::gateway::EventFeed feed({.kafka_brokers = config.kafka_brokers,
                                   .instance_id = config.instance_id,
                                   .fetch_wait_max_ms = config.fetch_wait_max_ms,
                                   .tracer = &telemetry.tracer()},
                                  cache, waiters);
  if (absl::Status started = feed.Start(absl::Seconds(60)); !started.ok()) {
    Log(std::string(started.message()));
    return 1;
  }
  // The saga timeline: indexed from every mission topic, read by TimelineService.
  choreo::redis::RedisPool timeline_redis({.address = *choreo::redis::ParseRedisAddress(config.redis)}, 2);
  choreo::gateway::timeline::TimelineStore timeline_store(
      timeline_redis, {.retention = config.timeline_retention,
                       .max_sagas_per_user = config.timeline_max_sagas_per_user});
  // The timeline is not on any saga's path: its fetches may idle longer (on the dev broker a
  // 1 ms wait over every partition of every mission topic keeps the gateway and the broker busy
  // fetching nothing; Kafka answers as soon as data arrives anyway).
  choreo::gateway::timeline::TimelineIndexer indexer(
      {.kafka_brokers = config.kafka_brokers,
       .fetch_wait_max_ms = std::max(config.fetch_wait_max_ms, 100)},
      timeline_store, telemetry.metrics());
  // Whatever way main returns, telemetry stops (readiness checks, /metrics) before what its
  // checks and callbacks read (the feed, the indexer, the producer) goes.
  absl::Cleanup stop_telemetry = [&telemetry] { telemetry.Stop(); };
  std::vector<choreo::telemetry::ConsumerLagSource> lag_sources = {
      {.group = feed.group_id(), .read = [&feed] { return feed.ConsumerLag(); }}};
  telemetry.readiness().AddCheck("consumer " + feed.group_id(), [&feed] { return feed.Readiness(); });
  if (config.timeline_indexer) {
    if (absl::Status started = indexer.Start(); !started.ok()) {
      Log(std::string(started.message()));
      return 1;
    }
    lag_sources.push_back({.group = indexer.group_id(), .read = [&indexer] { return indexer.ConsumerLag(); }});
    telemetry.readiness().AddCheck("consumer " + indexer.group_id(),
                                   [&indexer] { return indexer.Readiness(); });
  }
  choreo::telemetry::AddConsumerLag(telemetry.metrics(), std::move(lag_sources));
  telemetry.readiness().AddCheck("producer", [producer = producer->get()] {
    return choreo::kafka::CheckBrokersReachable(producer->LatestStatistics());
  });
  telemetry.AddRedisCheck(config.redis);
  auto order_admin = choreo::orders::v1::OrderAdmin::NewStub(
      grpc::CreateChannel(config.order_address, grpc::InsecureChannelCredentials()));
  auto billing_admin = choreo::billing::v1::BillingAdmin::NewStub(
      grpc::CreateChannel(config.billing_address, grpc::InsecureChannelCredentials()));
  auto users = choreo::users::v1::UserService::NewStub(
      grpc::CreateChannel(config.users_address, grpc::InsecureChannelCredentials()));
  auto notifications = choreo::notifications::v1::NotificationAdmin::NewStub(
      grpc::CreateChannel(config.notification_address, grpc::InsecureChannelCredentials()));
  {
    choreo::gateway::WorkPool pool(config.work_threads, static_cast<size_t>(config.max_waiting));
    const choreo::gateway::GatewayDeps deps{.cache = &cache,
                                            .waiters = &waiters,
                                            .pool = &pool,
                                            .producer = producer->get(),
                                            .order_admin = order_admin.get(),
                                            .billing_admin = billing_admin.get(),
                                            .users = users.get(),
                                            .notifications = notifications.get(),
                                            .auth = &auth,
                                            .max_wait = config.max_wait,
                                            .tracer = &telemetry.tracer(),
                                            .saga_metrics = &saga_metrics};
    choreo::gateway::OrderServiceImpl orders(deps);
    choreo::gateway::AccountServiceImpl accounts(deps);
    choreo::gateway::timeline::TimelineServiceImpl timeline(timeline_store, pool, auth);

    choreo::service::InterceptorFactories interceptors;
    interceptors.push_back(
        choreo::telemetry::GrpcServerTelemetry(telemetry.metrics(), telemetry.tracer()));
    absl::StatusOr<choreo::service::RunningServer> server = choreo::service::StartGrpcServer(
        config.grpc_listen, {&orders, &accounts, &timeline}, config.port_file,
        std::move(interceptors));
    if (!server.ok()) {
      Log(std::string(server.status().message()));
      return 1;
    }
    grpc::HealthCheckServiceInterface* health = server->server->GetHealthCheckService();
    telemetry.readiness().OnChange([health](bool ready) { health->SetServingStatus(ready); });
    absl::Cleanup stop_readiness = [&telemetry] { telemetry.readiness().Stop(); };  // before the server goes
    // HTTP/JSON: the same services through the server's in-process channel.
    absl::StatusOr<std::unique_ptr<choreo::transcoding::TranscodingServer>> http =
        choreo::transcoding::TranscodingServer::Start(
            *server->server, server->service_names,
            {.listen = config.http_listen,
             .max_connections = static_cast<unsigned>(config.http_max_connections),
             .idle_timeout = config.http_idle_timeout,
             .max_body_bytes = static_cast<size_t>(config.http_max_body_bytes)},
            {.openapi = {.title = "choreo",
                         .version = "v1",
                         .description = "The order-processing API of choreo (HTTP/JSON transcoding of its gRPC API).",
                         .bearer_auth = true},
             .static_resources = {{.path = "/timeline",
                                   .content_type = "text/html; charset=utf-8",
                                   .body = choreo::gateway::timeline::TimelinePageHtml()}},
             .unary_timeout = config.max_wait + absl::Seconds(10)});
    if (!http.ok()) {
      Log(std::string(http.status().message()));
      return 1;
    }
    if (!config.http_port_file.empty()) {
      if (absl::Status written = choreo::process::WriteFileAtomically(
              config.http_port_file, absl::StrCat((*http)->port(), "\n"));
          !written.ok()) {
        Log(std::string(written.message()));
        return 1;
      }
    }
    Log(absl::StrCat("serving gRPC on port ", server->port, ", HTTP/JSON on port ", (*http)->port(),
                     ", admin HTTP on port ", telemetry.admin_port(), " (instance ",
                     config.instance_id, ")"));
    const int signal_number = signals.Wait();
    Log(absl::StrCat(strsignal(signal_number), ": stopping"));
    // Stop in reverse: no new waiters and every waiting call answered, then HTTP (its calls in
    // flight finish), then the gRPC server, then
    // the producer's pending deliveries (their callbacks reach the services, still alive here).
    telemetry.readiness().Stop();  // NOT_SERVING, /readyz 503
    waiters.Shutdown();
    (*http)->Shutdown(absl::Seconds(5));
    server->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
    static_cast<void>((*producer)->Flush(absl::Seconds(5)));
  }
  indexer.Stop();
  feed.Stop();
  Log("stopped");
  telemetry.Stop();
  return 0;
}
