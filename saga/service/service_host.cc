#include "saga/service/service_host.h"

#include <cstdio>
#include <cstring>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "saga/redis/redis_connection.h"
#include "saga/logging/logger.h"
#include "saga/service/grpc_server.h"
#include "saga/telemetry/grpc_telemetry.h"
#include "saga/telemetry/saga_metrics.h"

namespace choreo::service {

void ServiceConfig::AddFlags(config::FlagSet& flags) {
  flags.Add("kafka-brokers", &kafka_brokers, "Kafka bootstrap servers")
      .Add("redis", &redis, "Redis host:port")
      .Add("grpc-listen", &grpc_listen, "gRPC listen address (port 0: any free port)")
      .Add("port-file", &port_file, "write the bound gRPC port to this file")
      .Add("workers", &workers, "parallel workers (records of one key stay in order)")
      .Add("fetch-wait-max-ms", &fetch_wait_max_ms,
           "consumer fetch.wait.max.ms (1 for the dev broker, larger for Kafka)")
      .Add("session-timeout-ms", &session_timeout_ms,
           "consumer session.timeout.ms: how soon a dead member's partitions move")
      .Add("max-poll-interval-ms", &max_poll_interval_ms,
           "consumer max.poll.interval.ms: also how long a rebalance waits for members")
      .Add("drain-timeout", &drain_timeout, "how long a stop may take to finish in-flight work")
      .Add("marker-retention", &marker_retention, "how long handled-event markers are kept");
  telemetry.AddFlags(flags);
}

absl::Status ServiceConfig::Validate() const {
  if (kafka_brokers.empty()) return absl::InvalidArgumentError("--kafka-brokers is empty");
  if (absl::Status redis_ok = redis::ParseRedisAddress(redis).status(); !redis_ok.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--redis: ", redis_ok.message()));
  }
  if (workers < 1 || workers > 256) {
    return absl::InvalidArgumentError(absl::StrCat("--workers must be 1..256, got ", workers));
  }
  if (session_timeout_ms < 1000 || session_timeout_ms > 300000) {
    return absl::InvalidArgumentError("--session-timeout-ms must be 1000..300000");
  }
  if (max_poll_interval_ms < session_timeout_ms) {
    return absl::InvalidArgumentError("--max-poll-interval-ms must be >= --session-timeout-ms");
  }
  if (fetch_wait_max_ms < 0 || fetch_wait_max_ms > 10000) {
    return absl::InvalidArgumentError("--fetch-wait-max-ms must be 0..10000");
  }
  return telemetry.Validate();
}

saga::SagaRuntimeOptions ServiceConfig::RuntimeOptions(const std::string& service,
                                                       std::vector<std::string> topics) const {
  saga::SagaRuntimeOptions options;
  options.service = service;
  options.kafka_brokers = kafka_brokers;
  options.topics = std::move(topics);
  options.redis_address = redis;
  options.workers = workers;
  options.drain_timeout = drain_timeout;
  options.marker_retention = marker_retention;
  options.consumer_overrides = {
      {"fetch.wait.max.ms", absl::StrCat(fetch_wait_max_ms)},
      {"session.timeout.ms", absl::StrCat(session_timeout_ms)},
      {"heartbeat.interval.ms", absl::StrCat(std::max(100, session_timeout_ms / 10))},
      {"max.poll.interval.ms", absl::StrCat(max_poll_interval_ms)}};
  return options;
}

namespace {

// Hands every runtime event to several observers (metrics, and the service's own, if any).
class FanOutObserver final : public saga::SagaObserver {
 public:
  explicit FanOutObserver(std::vector<saga::SagaObserver*> observers) {
    for (saga::SagaObserver* observer : observers) {
      if (observer != nullptr) observers_.push_back(observer);
    }
  }
  void OnRecordDone(const KafkaRecord& record, absl::string_view event_type, Outcome outcome,
                    absl::Duration handling, absl::Duration queued) override {
    for (auto* observer : observers_) {
      observer->OnRecordDone(record, event_type, outcome, handling, queued);
    }
  }
  void OnRetry(const KafkaRecord& record, const absl::Status& error, int attempt) override {
    for (auto* observer : observers_) observer->OnRetry(record, error, attempt);
  }
  void OnPublished(const KafkaRecord& record) override {
    for (auto* observer : observers_) observer->OnPublished(record);
  }

 private:
  std::vector<saga::SagaObserver*> observers_;
};

}  // namespace

int RunService(const ServiceConfig& config, ServiceParts parts, process::StopSignals& signals) {
  std::unique_ptr<telemetry::Telemetry> own_telemetry;
  if (parts.telemetry == nullptr) {
    absl::StatusOr<std::unique_ptr<telemetry::Telemetry>> started =
        telemetry::Telemetry::Start(parts.name, config.telemetry);
    if (!started.ok()) {
      std::fprintf(stderr, "choreo-%s: %s\n", parts.name.c_str(),
                   std::string(started.status().message()).c_str());
      return 2;
    }
    own_telemetry = *std::move(started);
  }
  telemetry::Telemetry& telemetry = parts.telemetry != nullptr ? *parts.telemetry : *own_telemetry;
  FanOutObserver observer({&telemetry.saga_metrics(), parts.observer});
  auto log = [](const std::string& message) { logging::Info(message); };
  std::vector<std::unique_ptr<saga::SagaRuntime>> runtimes;
  // Whatever way this returns, telemetry stops (readiness checks, /metrics) before what its
  // checks and callbacks read (the runtimes) goes.
  absl::Cleanup stop_telemetry = [&telemetry] { telemetry.Stop(); };
  auto stop_runtimes = [&runtimes] {
    for (auto it = runtimes.rbegin(); it != runtimes.rend(); ++it) (*it)->Stop();
  };
  size_t topics = 0;
  for (Subscription& subscription : parts.subscriptions) {
    topics += subscription.topics.size();
    saga::SagaRuntimeOptions options = config.RuntimeOptions(parts.name, subscription.topics);
    options.observer = &observer;
    options.tracer = &telemetry.tracer();
    if (!subscription.group_suffix.empty()) {
      options.group_id = absl::StrCat("choreo-", parts.name, "-", subscription.group_suffix);
    }
    options.consumer_overrides =
        kafka::Merged(options.consumer_overrides, subscription.consumer_overrides);
    absl::StatusOr<std::unique_ptr<saga::SagaRuntime>> runtime =
        saga::SagaRuntime::Create(std::move(options), std::move(subscription.registry));
    if (!runtime.ok()) {
      log(std::string(runtime.status().message()));
      stop_runtimes();
      return 2;
    }
    if (absl::Status started = (*runtime)->Start(); !started.ok()) {
      log(std::string(started.message()));
      stop_runtimes();
      return 1;
    }
    runtimes.push_back(*std::move(runtime));
  }
  std::vector<telemetry::ConsumerLagSource> lag_sources;
  for (const auto& runtime : runtimes) {
    lag_sources.push_back(telemetry::LagOf(*runtime));
    telemetry.readiness().AddCheck(
        absl::StrCat("consumer ", runtime->group_id()),
        [runtime = runtime.get()] { return runtime->Readiness(); });
  }
  telemetry::AddConsumerLag(telemetry.metrics(), std::move(lag_sources));
  telemetry.AddRedisCheck(config.redis);
  InterceptorFactories interceptors;
  interceptors.push_back(telemetry::GrpcServerTelemetry(telemetry.metrics(), telemetry.tracer()));
  absl::StatusOr<RunningServer> server = StartGrpcServer(config.grpc_listen, parts.grpc_services,
                                                         config.port_file, std::move(interceptors));
  if (!server.ok()) {
    log(std::string(server.status().message()));
    stop_runtimes();
    return 1;
  }
  grpc::HealthCheckServiceInterface* health = server->server->GetHealthCheckService();
  telemetry.readiness().OnChange([health](bool ready) { health->SetServingStatus(ready); });
  std::function<void()> stop_background;
  if (parts.on_started) stop_background = parts.on_started();
  log(absl::StrCat("serving gRPC on port ", server->port, ", admin HTTP on port ",
                   telemetry.admin_port(), ", consuming ", topics, " topics in ", runtimes.size(),
                   " group(s)"));

  const int signal_number = signals.Wait();
  log(absl::StrCat(strsignal(signal_number), ": stopping"));
  telemetry.readiness().Stop();  // NOT_SERVING, /readyz 503
  if (stop_background) stop_background();
  stop_runtimes();
  server->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  log("stopped");
  telemetry.Stop();
  return 0;
}

}  // namespace choreo::service
