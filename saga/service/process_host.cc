#include "saga/service/process_host.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"
#include "edges/kafka/kafka_client.h"
#include "edges/redis/redis_connection.h"
#include "platform/logging/logger.h"
#include "platform/process/thread_name.h"
#include "saga/telemetry/grpc_telemetry.h"

namespace choreo::service {

void ProcessConfig::AddFlags(config::FlagSet& flags) {
  flags.Add("kafka-brokers", &kafka_brokers, "Kafka bootstrap servers")
      .Add("kafka-properties", &kafka_properties,
           "file of librdkafka properties for every Kafka client: security.protocol, sasl.*, ssl.*")
      .Add("redis", &redis,
           "Redis host:port, or host:port,host:port,... of Redis Cluster nodes (any few)")
      .Add("redis-user", &redis_user, "the Redis ACL user this process logs in as")
      .Add("redis-password-file", &redis_password_file,
           "file holding that user's password (one line)")
      .Add("grpc-listen", &grpc_listen, "gRPC listen address (port 0: any free port)")
      .Add("port-file", &port_file, "write the bound gRPC port to this file")
      .Add("health-listen", &health_listen,
           "plaintext gRPC listen address of grpc.health.v1 alone, for Kubernetes' gRPC probes: "
           "service \"\" is readiness, \"liveness\" liveness (empty: none)")
      .Add("health-port-file", &health_port_file, "write the bound health port to this file")
      .Add("max-connection-age", &max_connection_age,
           "close each client connection this old (GOAWAY, 30 s grace) so that clients resolve "
           "the name again and reach new instances; 0: never")
      .Add("stop-timeout", &stop_timeout,
           "the longest a stop may take; then the process exits with code 1");
  tls.AddFlags(flags);
}

absl::Status ProcessConfig::ValidateAddresses() const {
  if (kafka_brokers.empty()) return absl::InvalidArgumentError("--kafka-brokers is empty");
  if (absl::Status redis_ok = redis::RedisConnection::OptionsFor(redis).status(); !redis_ok.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--redis: ", redis_ok.message()));
  }
  if (redis_user.empty() != redis_password_file.empty()) {
    return absl::InvalidArgumentError("--redis-user and --redis-password-file go together");
  }
  if (stop_timeout < absl::Seconds(1))
    return absl::InvalidArgumentError("--stop-timeout must be >= 1s");
  // gRPC takes milliseconds as an int.
  if (max_connection_age < absl::ZeroDuration() || max_connection_age > absl::Hours(24 * 24)) {
    return absl::InvalidArgumentError("--max-connection-age must be between 0 (never) and 576h");
  }
  return tls.Validate();
}

absl::Status ProcessConfig::ApplyClientLogins() const {
  return service::ApplyClientLogins(kafka_properties, redis_user, redis_password_file);
}

absl::Status ApplyClientLogins(const std::string& kafka_properties, const std::string& redis_user,
                               const std::string& redis_password_file) {
  if (absl::Status kafka = kafka::UseClientPropertiesFile(kafka_properties); !kafka.ok()) {
    return kafka;
  }
  if (redis_user.empty()) return absl::OkStatus();
  absl::StatusOr<std::string> password = redis::ReadPasswordFile(redis_password_file);
  if (!password.ok()) {
    return absl::Status(password.status().code(),
                        absl::StrCat("--redis-password-file: ", password.status().message()));
  }
  redis::SetProcessLogin({.user = redis_user, .password = *std::move(password)});
  return absl::OkStatus();
}

std::unique_ptr<ProcessHost> ProcessHost::Start(const std::string& name,
                                                const telemetry::TelemetryConfig& config,
                                                telemetry::Telemetry* adopted) {
  if (adopted != nullptr) return std::unique_ptr<ProcessHost>(new ProcessHost(nullptr, *adopted));
  absl::StatusOr<std::unique_ptr<telemetry::Telemetry>> started =
      telemetry::Telemetry::Start(name, config);
  if (!started.ok()) {
    std::fprintf(stderr, "choreo-%s: %s\n", name.c_str(),
                 std::string(started.status().message()).c_str());
    return nullptr;
  }
  telemetry::Telemetry& telemetry = **started;
  return std::unique_ptr<ProcessHost>(new ProcessHost(*std::move(started), telemetry));
}

ProcessHost::~ProcessHost() {
  Stop(/*log_stopped=*/false);
  server_.reset();  // before the services it served, which may be kept parts
  while (!kept_.empty()) kept_.pop_back();  // in reverse order of Keep
}

void ProcessHost::OnStop(std::function<void()> stop) {
  if (stop) stop_steps_.push_back(std::move(stop));
}

void ProcessHost::AddConsumer(telemetry::ConsumerLagSource lag,
                              std::function<absl::Status()> readiness) {
  telemetry_.readiness().AddCheck(absl::StrCat("consumer ", lag.group), std::move(readiness));
  lag_sources_.push_back(std::move(lag));
}

absl::StatusOr<const RunningServer*> ProcessHost::ServeGrpc(
    const ProcessConfig& config, const std::vector<grpc::Service*>& services,
    const TlsMaterial& tls) {
  telemetry::AddConsumerLag(telemetry_.metrics(), std::move(lag_sources_));
  lag_sources_.clear();
  telemetry::AddKafkaRequests(telemetry_.metrics());
  InterceptorFactories interceptors;
  interceptors.push_back(telemetry::GrpcServerTelemetry(telemetry_.metrics(), telemetry_.tracer()));
  absl::StatusOr<RunningServer> server =
      StartGrpcServer(config.grpc_listen, services, config.port_file, tls,
                      {.max_connection_age = config.max_connection_age}, std::move(interceptors));
  if (!server.ok()) return server.status();
  server_ = *std::move(server);
  std::vector<grpc::HealthCheckServiceInterface*> healths = {
      server_->server->GetHealthCheckService()};
  if (!config.health_listen.empty()) {
    absl::StatusOr<RunningServer> probes =
        StartGrpcServer(config.health_listen, {}, config.health_port_file, TlsMaterial{}, {});
    if (!probes.ok()) {
      return absl::Status(probes.status().code(),
                          absl::StrCat("--health-listen: ", probes.status().message()));
    }
    health_server_ = *std::move(probes);
    grpc::HealthCheckServiceInterface* probe_health =
        health_server_->server->GetHealthCheckService();
    probe_health->SetServingStatus(kLivenessService, true);
    healths.push_back(probe_health);
  }
  telemetry_.readiness().OnChange([healths](bool ready) {
    for (grpc::HealthCheckServiceInterface* health : healths) health->SetServingStatus("", ready);
  });
  return &*server_;
}

void ProcessHost::ShutdownGrpc() noexcept {
  if (!server_.has_value() || server_shut_down_) return;
  server_shut_down_ = true;
  const auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(5);
  server_->server->Shutdown(deadline);
  // A probe's Health/Watch stream would otherwise hold the stop.
  if (health_server_.has_value()) health_server_->server->Shutdown(deadline);
}

int ProcessHost::Run(process::StopSignals& signals, absl::Duration stop_timeout) {
  const int signal_number = signals.Wait();
  logging::Info(absl::StrCat(strsignal(signal_number), ": stopping"));
  absl::Mutex mu;
  bool stopped = false;
  std::thread watchdog = process::NamedThread("stop-watchdog", [&] {
    absl::MutexLock lock(&mu);
    if (!mu.AwaitWithTimeout(absl::Condition(&stopped), stop_timeout)) {
      logging::Error(absl::StrCat("the stop did not end within ",
                                  absl::FormatDuration(stop_timeout),
                                  " (a Kafka client waiting for a broker that does not answer?): "
                                  "exiting now; what was not committed is read again"));
      std::_Exit(1);
    }
  });
  Stop(/*log_stopped=*/true);
  {
    absl::MutexLock lock(&mu);
    stopped = true;
  }
  watchdog.join();
  return 0;
}

void ProcessHost::Stop(bool log_stopped) noexcept {
  if (stopped_) return;
  stopped_ = true;
  telemetry_.readiness().Stop();  // NOT_SERVING, /readyz 503
  for (auto step = stop_steps_.rbegin(); step != stop_steps_.rend(); ++step) (*step)();
  ShutdownGrpc();
  if (log_stopped) logging::Info("stopped");
  telemetry_.Stop();
}

}  // namespace choreo::service
