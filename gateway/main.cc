// choreo-gateway: the public gRPC API of choreo. Turns each call into a saga's first event and
// answers when the saga's outcome arrives.

#include "absl/strings/str_cat.h"
#include "credentials/signing_keys.h"
#include "edges/redis/redis_connection.h"
#include "gateway/event_feed.h"
#include "gateway/gateway_config.h"
#include "gateway/gateway_service.h"
#include "gateway/timeline/timeline_indexer.h"
#include "gateway/timeline/timeline_page.h"
#include "gateway/timeline/timeline_service.h"
#include "gateway/view_projector.h"
#include "grpcpp/grpcpp.h"
#include "platform/logging/logger.h"
#include "platform/process/files.h"
#include "platform/process/server_defaults.h"
#include "platform/process/stop_signals.h"
#include "saga/publish/publisher.h"
#include "saga/service/grpc_tls.h"
#include "saga/service/process_host.h"
#include "saga/service/service_host.h"
#include "transcoding/transcoder.h"

namespace choreo::gateway {
namespace {

void Log(absl::string_view message) { logging::Info(std::string(message)); }

redis::RedisConnection::Options RedisOptions(const GatewayConfig& config) {
  return *redis::RedisConnection::OptionsFor(config.redis);  // validated with the flags
}

// A stub for the service named `peer`, over mutual TLS (service::ChannelTo).
template <typename Service>
std::unique_ptr<typename Service::Stub> StubOf(const std::string& address, const std::string& peer,
                                               const service::TlsMaterial& tls) {
  return Service::NewStub(service::ChannelTo(address, peer, tls));
}

// The gateway's commands leave through a publisher of its own; a command the broker has not
// taken within --publish-timeout fails (its caller gets UNAVAILABLE).
absl::StatusOr<std::unique_ptr<publish::KafkaPublisher>> CreatePublisher(
    const GatewayConfig& config, const tracing::Tracer& tracer) {
  kafka::KafkaConfig producer_config = kafka::ProducerDefaults(config.kafka_brokers);
  producer_config.emplace_back("message.timeout.ms",
                               absl::StrCat(absl::ToInt64Milliseconds(config.publish_timeout)));
  return publish::KafkaPublisher::Create(producer_config,
                                         {.service = "gateway", .tracer = &tracer});
}

// The gateway's parts, built in the order they depend on each other (members are destroyed in
// reverse), and started by Start in the order of their stop steps' reverse. Kept by the process
// host, which stops them before destroying them.
class Gateway {
 public:
  Gateway(const GatewayConfig& config, service::ProcessHost& host, credentials::VerifyingKey key,
          std::unique_ptr<publish::KafkaPublisher> publisher,
          const service::TlsMaterial& internal_tls, service::TlsMaterial public_tls);

  // Starts the event feed, the timeline indexer, gRPC and HTTP/JSON, registering each one's stop
  // with the host. On error the host's stop undoes what started.
  absl::Status Start();

 private:
  absl::Status StartEventFeeds();
  absl::Status ServeGrpcAndHttp();
  absl::Status ServeHttp(const service::RunningServer& server);

  const GatewayConfig& config_;
  service::ProcessHost& host_;
  const service::TlsMaterial public_tls_;
  telemetry::Telemetry& telemetry_;
  SagaOutcomeMetrics saga_metrics_;
  const Authenticator auth_;
  OrderCache cache_;
  Waiters waiters_;
  std::unique_ptr<publish::KafkaPublisher> publisher_;
  EventFeed feed_;
  // Every order view converges to the saga's statuses, whichever instance is alive.
  ViewProjector views_;
  // The saga timeline: indexed from every mission topic, read by TimelineService.
  redis::RedisPool timeline_redis_;
  timeline::TimelineStore timeline_store_;
  timeline::TimelineIndexer indexer_;
  std::unique_ptr<orders::v1::OrderAdmin::Stub> order_admin_;
  std::unique_ptr<billing::v1::BillingAdmin::Stub> billing_admin_;
  std::unique_ptr<users::v1::UserService::Stub> users_;
  std::unique_ptr<notifications::v1::NotificationAdmin::Stub> notifications_;
  WorkPool pool_;
  CreateOrderFlow create_order_;
  WatchOrderFlow watch_order_;
  OrderQueries order_queries_;
  CancelOrderFlow cancel_order_;
  Accounts accounts_;
  DepositFlow deposit_;
  OrderServiceImpl order_service_;
  AccountServiceImpl account_service_;
  timeline::TimelineServiceImpl timeline_service_;
  std::unique_ptr<transcoding::TranscodingServer> http_;
};

Gateway::Gateway(const GatewayConfig& config, service::ProcessHost& host,
                 credentials::VerifyingKey key, std::unique_ptr<publish::KafkaPublisher> publisher,
                 const service::TlsMaterial& internal_tls, service::TlsMaterial public_tls)
    : config_(config),
      host_(host),
      public_tls_(std::move(public_tls)),
      telemetry_(host.telemetry()),
      saga_metrics_(telemetry_.metrics()),
      auth_(credentials::TokenVerifier(std::move(key), config.jwt_issuer)),
      cache_(RedisOptions(config), config.redis_connections),
      waiters_(static_cast<size_t>(config.max_waiting)),
      publisher_(std::move(publisher)),
      feed_({.kafka_brokers = config.kafka_brokers,
             .instance_id = config.instance_id,
             .fetch_wait_max_ms = config.fetch_wait_max_ms,
             .tracer = &telemetry_.tracer()},
            cache_, waiters_),
      views_({.kafka_brokers = config.kafka_brokers}, cache_, waiters_),
      timeline_redis_(RedisOptions(config), 2),
      timeline_store_(timeline_redis_, {.retention = config.timeline_retention,
                                        .max_sagas_per_user = config.timeline_max_sagas_per_user}),
      // The timeline is on no saga's path: its fetches gather records (TimelineIndexer::Options).
      indexer_(
          {.kafka_brokers = config.kafka_brokers, .batch_window = config.timeline_batch_window},
          timeline_store_, telemetry_.metrics()),
      order_admin_(StubOf<orders::v1::OrderAdmin>(config.order_address, "order", internal_tls)),
      billing_admin_(
          StubOf<billing::v1::BillingAdmin>(config.billing_address, "billing", internal_tls)),
      users_(StubOf<users::v1::UserService>(config.users_address, "users", internal_tls)),
      notifications_(StubOf<notifications::v1::NotificationAdmin>(config.notification_address,
                                                                  "notification", internal_tls)),
      pool_(config.work_threads, static_cast<size_t>(config.max_waiting)),
      create_order_({.cache = cache_,
                     .waiters = waiters_,
                     .pool = pool_,
                     .publisher = publisher_->publisher(),
                     .saga_metrics = &saga_metrics_,
                     .max_wait = config.max_wait}),
      watch_order_({.cache = cache_, .waiters = waiters_, .pool = pool_}),
      order_queries_({.cache = cache_, .pool = pool_, .order_admin = *order_admin_}),
      cancel_order_({.cache = cache_,
                     .queries = order_queries_,
                     .waiters = waiters_,
                     .pool = pool_,
                     .publisher = publisher_->publisher(),
                     .max_wait = config.max_wait}),
      accounts_({.users = *users_,
                 .billing_admin = *billing_admin_,
                 .notifications = *notifications_,
                 .waiters = waiters_,
                 .max_wait = config.max_wait}),
      deposit_({.cache = cache_,
                .waiters = waiters_,
                .pool = pool_,
                .publisher = publisher_->publisher(),
                .max_wait = config.max_wait}),
      order_service_(auth_, create_order_, cancel_order_, watch_order_, order_queries_),
      account_service_(auth_, accounts_, deposit_),
      timeline_service_(timeline_store_, pool_, auth_) {}

absl::Status Gateway::Start() {
  if (absl::Status started = StartEventFeeds(); !started.ok()) return started;
  telemetry_.readiness().AddCheck("producer", [producer = &publisher_->producer()] {
    return kafka::CheckProducerReady(producer->LatestStatistics());
  });
  telemetry_.AddRedisCheck(config_.redis);
  // At stop, after gRPC: the producer's pending deliveries (their callbacks reach the flows,
  // alive until the host goes), then the pool's queued work.
  host_.OnStop([this] { pool_.Stop(); });
  host_.OnStop([this] { static_cast<void>(publisher_->producer().Flush(absl::Seconds(5))); });
  return ServeGrpcAndHttp();
}

// This instance's reading of orders.status (its waiters' answers), the order views' projection
// (shared by every instance) and, unless turned off, the timeline's indexing of every mission
// topic.
absl::Status Gateway::StartEventFeeds() {
  if (absl::Status started = feed_.Start(absl::Seconds(60)); !started.ok()) return started;
  host_.OnStop([this] { feed_.Stop(); });
  host_.AddConsumer({.group = feed_.group_id(), .read = [this] { return feed_.ConsumerLag(); }},
                    [this] { return feed_.Readiness(); });
  host_.AddConsumer(
      {.group = feed_.refusals_group_id(), .read = [this] { return feed_.RefusalsLag(); }},
      [this] { return feed_.RefusalsReadiness(); });
  if (absl::Status started = views_.Start(); !started.ok()) return started;
  host_.OnStop([this] { views_.Stop(); });
  host_.AddConsumer({.group = views_.group_id(), .read = [this] { return views_.ConsumerLag(); }},
                    [this] { return views_.Readiness(); });
  host_.OnStop([this] { indexer_.Stop(); });
  if (!config_.timeline_indexer) return absl::OkStatus();
  if (absl::Status started = indexer_.Start(); !started.ok()) return started;
  host_.AddConsumer(
      {.group = indexer_.group_id(), .read = [this] { return indexer_.ConsumerLag(); }},
      [this] { return indexer_.Readiness(); });
  return absl::OkStatus();
}

absl::Status Gateway::ServeGrpcAndHttp() {
  absl::StatusOr<const service::RunningServer*> server = host_.ServeGrpc(
      config_, {&order_service_, &account_service_, &timeline_service_}, public_tls_);
  if (!server.ok()) return server.status();
  host_.OnStop([this] { host_.ShutdownGrpc(); });
  if (absl::Status serving = ServeHttp(**server); !serving.ok()) return serving;
  // At stop, first: no new waiters and every waiting call answered, then HTTP (its calls in
  // flight finish), then gRPC.
  host_.OnStop([this] { waiters_.Shutdown(); });
  Log(absl::StrCat("serving gRPC on port ", (*server)->port, ", HTTP/JSON on port ",
                   http_->port(), ", admin HTTP on port ", telemetry_.admin_port(), " (instance ",
                   config_.instance_id, ")"));
  return absl::OkStatus();
}

// HTTP/JSON: the same services through the gRPC server's in-process channel.
absl::Status Gateway::ServeHttp(const service::RunningServer& server) {
  absl::StatusOr<std::unique_ptr<transcoding::TranscodingServer>> http =
      transcoding::TranscodingServer::Start(
          *server.server, server.service_names,
          {.listen = config_.http_listen,
           .max_connections = static_cast<unsigned>(config_.http_max_connections),
           .max_connections_per_client =
               static_cast<unsigned>(config_.http_max_connections_per_client),
           .tls = public_tls_.enabled()
                      ? std::optional<http::HttpTls>({.certificate_chain_pem = public_tls_.cert_pem,
                                                      .private_key_pem = public_tls_.key_pem})
                      : std::nullopt,
           .idle_timeout = config_.http_idle_timeout,
           .max_body_bytes = static_cast<size_t>(config_.http_max_body_bytes)},
          {.openapi = {.title = "choreo",
                       .version = "v1",
                       .description = "The order-processing API of choreo (HTTP/JSON "
                                      "transcoding of its gRPC API).",
                       .bearer_auth = true},
           .static_resources = {{.path = "/timeline",
                                 .content_type = "text/html; charset=utf-8",
                                 .body = timeline::TimelinePageHtml(),
                                 .content_security_policy = timeline::TimelinePageCsp()}},
           .unary_timeout = config_.max_wait + absl::Seconds(10)});
  if (!http.ok()) return http.status();
  http_ = *std::move(http);
  host_.OnStop([this] { http_->Shutdown(absl::Seconds(5)); });
  if (config_.http_port_file.empty()) return absl::OkStatus();
  return process::WriteFileAtomically(config_.http_port_file, absl::StrCat(http_->port(), "\n"));
}

}  // namespace
}  // namespace choreo::gateway

int main(int argc, char** argv) {
  using namespace choreo;  // NOLINT(build/namespaces): main only wires
  process::ApplyServerDefaults();
  process::StopSignals signals;  // before any thread starts
  const gateway::GatewayConfig config = gateway::GatewayConfig::FromFlags(argc, argv);
  if (absl::Status applied = config.ApplyClientLogins(); !applied.ok()) {
    return service::StartFailure("gateway", applied);
  }
  std::unique_ptr<service::ProcessHost> host = service::ProcessHost::Start("gateway", config.telemetry);
  if (host == nullptr) return 2;
  absl::StatusOr<credentials::VerifyingKey> key = credentials::LoadVerifyingKey(config.jwt_public_key);
  if (!key.ok()) {
    gateway::Log(absl::StrCat("--jwt-public-key: ", key.status().message()));
    return 2;
  }
  absl::StatusOr<service::TlsMaterial> internal_tls = service::TlsMaterial::Load(config.tls);
  // The public port: the gateway's own certificate, no client certificates (no CA).
  absl::StatusOr<service::TlsMaterial> public_tls = service::TlsMaterial::Load(
      {.cert = config.public_tls_cert, .key = config.public_tls_key}, "public-tls");
  for (const absl::Status& loaded : {internal_tls.status(), public_tls.status()}) {
    if (!loaded.ok()) {
      gateway::Log(loaded.message());
      return 2;
    }
  }
  absl::StatusOr<std::unique_ptr<publish::KafkaPublisher>> publisher =
      gateway::CreatePublisher(config, host->telemetry().tracer());
  if (!publisher.ok()) {
    gateway::Log(publisher.status().message());
    return 1;
  }
  gateway::Gateway& gateway = host->Keep(
      std::make_unique<gateway::Gateway>(config, *host, *std::move(key), *std::move(publisher),
                                         *internal_tls, *std::move(public_tls)));
  if (absl::Status started = gateway.Start(); !started.ok()) {
    gateway::Log(started.message());
    return 1;
  }
  return host->Run(signals, config.stop_timeout);
}
