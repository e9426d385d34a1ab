#include "saga/service/service_host.h"

#include <cstdio>
#include <memory>

#include "absl/strings/str_cat.h"
#include "platform/logging/logger.h"
#include "saga/telemetry/saga_metrics.h"

namespace choreo::service {

void ServiceConfig::AddFlags(config::FlagSet& flags) {
  ProcessConfig::AddFlags(flags);
  flags.Add("workers", &workers, "parallel workers (records of one key stay in order)")
      .Add("fetch-wait-max-ms", &fetch_wait_max_ms,
           "consumer fetch.wait.max.ms (1 for the dev broker, larger for Kafka)")
      .Add("session-timeout-ms", &session_timeout_ms,
           "consumer session.timeout.ms: how soon a dead member's partitions move")
      .Add("max-poll-interval-ms", &max_poll_interval_ms,
           "consumer max.poll.interval.ms: also how long a rebalance waits for members")
      .Add("drain-timeout", &drain_timeout, "how long a stop may take to finish in-flight work")
      .Add("marker-retention", &marker_retention, "how long handled-event markers are kept")
      .Add("full-marker-headers", &full_marker_headers,
           "keep every header of each record in handled markers, as releases before 2026-12-04 "
           "did: while instances of such a release run beside this one (a rolling upgrade) or "
           "a rollback to one is possible")
      .Add("full-marker-snapshots", &full_marker_snapshots,
           "keep each snapshot's state in handled markers, as releases before 2026-12-05 did: "
           "while instances of such a release run beside this one (a rolling upgrade) or a "
           "rollback to one is possible")
      .Add("clock-offset", &clock_offset,
           "fault drills only: run this instance's clock this far ahead (negative: behind)");
  telemetry.AddFlags(flags);
}

absl::Status ServiceConfig::Validate() const {
  if (absl::Status addresses = ValidateAddresses(); !addresses.ok()) return addresses;
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
  if (absl::AbsDuration(clock_offset) > absl::Hours(24)) {
    return absl::InvalidArgumentError("--clock-offset must be within 24h either way");
  }
  return telemetry.Validate();
}

store::MarkerHeaders ServiceConfig::MarkerHeaders() const {
  return full_marker_headers ? store::MarkerHeaders::kAll : store::MarkerHeaders::kDerived;
}

std::function<absl::Time()> ServiceConfig::Clock() const {
  if (clock_offset == absl::ZeroDuration()) return [] { return absl::Now(); };
  return [offset = clock_offset] { return absl::Now() + offset; };
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
  options.marker_headers = MarkerHeaders();
  options.marker_snapshots =
      full_marker_snapshots ? store::MarkerSnapshots::kWhole : store::MarkerSnapshots::kByState;
  options.clock = Clock();
  options.consumer_overrides = {
      {"fetch.wait.max.ms", absl::StrCat(fetch_wait_max_ms)},
      {"session.timeout.ms", absl::StrCat(session_timeout_ms)},
      {"heartbeat.interval.ms", absl::StrCat(std::max(100, session_timeout_ms / 10))},
      {"max.poll.interval.ms", absl::StrCat(max_poll_interval_ms)}};
  return options;
}

saga::SagaRuntimeOptions SubscriptionRuntimeOptions(const ServiceConfig& config,
                                                    const std::string& service,
                                                    const Subscription& subscription) {
  saga::SagaRuntimeOptions options = config.RuntimeOptions(service, subscription.topics);
  if (!subscription.group_suffix.empty()) {
    options.group_id = absl::StrCat("choreo-", service, "-", subscription.group_suffix);
  }
  options.consumer_overrides =
      kafka::Merged(options.consumer_overrides, subscription.consumer_overrides);
  options.producer_overrides = subscription.producer_overrides;
  options.ready_once_caught_up = subscription.ready_once_caught_up;
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

// One runtime per subscription, observed by `observer`, spans to the process's tracer.
absl::StatusOr<std::unique_ptr<saga::SagaRuntime>> CreateRuntime(const ServiceConfig& config,
                                                                 const std::string& service,
                                                                 Subscription& subscription,
                                                                 saga::SagaObserver& observer,
                                                                 const tracing::Tracer& tracer) {
  saga::SagaRuntimeOptions options = SubscriptionRuntimeOptions(config, service, subscription);
  options.observer = &observer;
  options.tracer = &tracer;
  return saga::SagaRuntime::Create(std::move(options), std::move(subscription.registry));
}

}  // namespace

int RunService(const ServiceConfig& config, ServiceParts parts, process::StopSignals& signals) {
  std::unique_ptr<ProcessHost> host =
      ProcessHost::Start(parts.name, config.telemetry, parts.telemetry);
  if (host == nullptr) return 2;
  telemetry::Telemetry& telemetry = host->telemetry();
  auto& observer = host->Keep(
      std::make_unique<FanOutObserver>(
          std::vector<saga::SagaObserver*>{&telemetry.saga_metrics(), parts.observer}));
  auto log = [](const std::string& message) { logging::Info(message); };
  size_t topics = 0;
  for (Subscription& subscription : parts.subscriptions) {
    topics += subscription.topics.size();
    absl::StatusOr<std::unique_ptr<saga::SagaRuntime>> runtime =
        CreateRuntime(config, parts.name, subscription, observer, telemetry.tracer());
    if (!runtime.ok()) {
      log(std::string(runtime.status().message()));
      return 2;  // the host stops the runtimes already started
    }
    if (absl::Status started = (*runtime)->Start(); !started.ok()) {
      log(std::string(started.message()));
      return 1;
    }
    saga::SagaRuntime& running = host->Keep(*std::move(runtime));
    host->OnStop([&running] { running.Stop(); });
    host->AddConsumer(telemetry::LagOf(running), [&running] { return running.Readiness(); });
  }
  telemetry.AddRedisCheck(config.redis);
  absl::StatusOr<TlsMaterial> tls = TlsMaterial::Load(config.tls);
  if (!tls.ok()) {
    log(std::string(tls.status().message()));
    return 2;
  }
  // The server stops after every stop step: it keeps answering health (NOT_SERVING) while the
  // runtimes drain.
  absl::StatusOr<const RunningServer*> server = host->ServeGrpc(config, parts.grpc_services, *tls);
  if (!server.ok()) {
    log(std::string(server.status().message()));
    return 1;
  }
  if (parts.on_started) host->OnStop(parts.on_started());
  log(absl::StrCat("serving gRPC on port ", (*server)->port, ", admin HTTP on port ",
                   telemetry.admin_port(), ", consuming ", topics, " topics in ",
                   parts.subscriptions.size(), " group(s)"));
  return host->Run(signals, config.stop_timeout);
}

int StartFailure(absl::string_view service, const absl::Status& status) {
  std::fprintf(stderr, "choreo-%s: %s\n", std::string(service).c_str(),
               std::string(status.message()).c_str());
  return 2;
}

}  // namespace choreo::service
