#pragma once

// ProcessHost: the life of one choreo process, a service's (RunService) or the gateway's:
//   - telemetry (JSON logs, /metrics, spans, /healthz, /readyz), started first;
//   - the process's consumer groups: each one's readiness gates the process's, each one's lag
//     is exported (choreo_kafka_consumer_lag); the requests of every Kafka client it has are
//     too (choreo_kafka_requests_total);
//   - the gRPC server (StartGrpcServer: grpc.health.v1 + reflection, RED metrics and spans),
//     grpc.health.v1 SERVING exactly while ready;
//   - the parts the process starts: the host keeps them alive and runs their stop steps;
//   - a clean stop on SIGTERM/SIGINT, in this order: not ready (NOT_SERVING, /readyz 503), the
//     stop steps in reverse order of registration, the gRPC server (unless a step shut it down
//     earlier), the "stopped" log line, telemetry; then the kept parts are destroyed in reverse
//     order of Keep.
// Whatever way a main returns (an error while starting included), the host's destruction runs
// the same stop, without the log line.
//
// Lifecycle: use from the main thread only, during start-up and at stop. Not copyable.
//
// A main: parse its typed config (ProcessConfig's flags first, its own, telemetry's last), then
// ProcessHost::Start, then start its parts in order (Keep + OnStop each), ServeGrpc, Run.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
#include "platform/config/flag_set.h"
#include "platform/process/stop_signals.h"
#include "saga/service/grpc_server.h"
#include "saga/telemetry/saga_metrics.h"
#include "saga/telemetry/telemetry.h"

namespace choreo::service {

// The grpc.health.v1 service name of liveness on the probes' health server (--health-listen).
inline constexpr char kLivenessService[] = "liveness";

// Flags every choreo process shares (each also CHOREO_<NAME> in the environment).
struct ProcessConfig {
  std::string kafka_brokers = "127.0.0.1:9092";
  // librdkafka properties file: who the process is to Kafka (kafka::SetProcessClientProperties).
  std::string kafka_properties;
  std::string redis = "127.0.0.1:6379";
  // The process's Redis ACL user and the file holding its password (redis::SetProcessLogin);
  // both empty: Redis's default user.
  std::string redis_user;
  std::string redis_password_file;
  std::string grpc_listen = "127.0.0.1:0";  // port 0: any free port (see --port-file)
  std::string port_file;                    // the bound gRPC port is written here
  // Kubernetes' gRPC probes: a plaintext server of grpc.health.v1 (and reflection, which lists
  // only it), no choreo API, where "" is SERVING
  // exactly while the process is ready and "liveness" while it runs (ProcessHost::ServeGrpc).
  // Empty: none. Its bound port goes to health_port_file when one is given.
  std::string health_listen;
  std::string health_port_file;
  // Each client connection is closed (GOAWAY; calls in flight get 30 s more) once this old, so
  // that clients resolve the name again and reach instances added since: a Kubernetes
  // headless Service's new pods. Zero: never (the gateway's default: its clients are outside).
  absl::Duration max_connection_age = absl::Minutes(5);
  // The longest a stop may take (ProcessHost::Run): below Kubernetes' default 30 s grace.
  absl::Duration stop_timeout = absl::Seconds(25);
  TlsFiles tls;                             // mutual TLS with the other processes
  telemetry::TelemetryConfig telemetry;

  // --kafka-brokers, --kafka-properties, --redis, --redis-user, --redis-password-file,
  // --grpc-listen, --port-file, --health-listen, --health-port-file, --tls-*. A main adds
  // its own flags after these and telemetry.AddFlags last: the order --help lists them in.
  void AddFlags(config::FlagSet& flags);
  // The addresses, TLS files and limits; a main validates telemetry last, after its own flags.
  absl::Status ValidateAddresses() const;
  // Who the process is to Kafka and Redis: reads --kafka-properties and --redis-password-file
  // (if set) and makes them every client's. Called before any client is made.
  absl::Status ApplyClientLogins() const;
};

// Who this process is to Kafka and Redis, from the files --kafka-properties and
// --redis-password-file name (either may be empty: no such login): what
// ProcessConfig::ApplyClientLogins does, for a tool that logs in as a process.
absl::Status ApplyClientLogins(const std::string& kafka_properties, const std::string& redis_user,
                               const std::string& redis_password_file);

class ProcessHost {
 public:
  // Starts telemetry for "choreo-<name>", or adopts `adopted` (not owned, but stopped at the
  // host's stop all the same). Null after telling stderr "choreo-<name>: <reason>": exit 2.
  static std::unique_ptr<ProcessHost> Start(const std::string& name,
                                            const telemetry::TelemetryConfig& config,
                                            telemetry::Telemetry* adopted = nullptr);
  ~ProcessHost();  // the stop, if Run did not run it
  ProcessHost(const ProcessHost&) = delete;
  ProcessHost& operator=(const ProcessHost&) = delete;

  telemetry::Telemetry& telemetry() { return telemetry_; }

  // Keeps `part` alive until the host goes: after the stop steps and telemetry's stop, so that
  // nothing a stop step, a readiness check or a scrape reads is gone before them.
  template <typename T>
  T& Keep(std::unique_ptr<T> part) {
    T& kept = *part;
    kept_.push_back(std::shared_ptr<void>(std::move(part)));
    return kept;
  }
  // Runs `stop` at the stop, before every step registered earlier (an empty one is skipped).
  void OnStop(std::function<void()> stop);

  // A consumer group of the process: the readiness check "consumer <group>", and its lag.
  void AddConsumer(telemetry::ConsumerLagSource lag, std::function<absl::Status()> readiness);

  // Serves `services` (not owned; they must outlive the host's stop) on --grpc-listen with `tls`,
  // writes the bound port to --port-file if set, and exports the lag of the consumers added so
  // far. With --health-listen, also the probes' plaintext health server: grpc.health.v1 (and
  // reflection), no choreo API and no client certificate, "" following readiness and "liveness"
  // SERVING until the stop closes it with the main server (readiness is NOT_SERVING from the stop's
  // start).
  absl::StatusOr<const RunningServer*> ServeGrpc(const ProcessConfig& config,
                                                 const std::vector<grpc::Service*>& services,
                                                 const TlsMaterial& tls);
  // Stops the gRPC server and the probes' one (calls in flight get 5 s). Idempotent; for a stop
  // step that must stop serving before later steps run.
  void ShutdownGrpc() noexcept;

  // Waits for SIGTERM/SIGINT, then stops (logging it); returns the exit code, 0. A stop that
  // outlives `stop_timeout` ends the process at once with exit code 1, saying so: a Kafka
  // consumer's close waits for ever for a group coordinator that does not answer (librdkafka
  // issue 3740, open in 2.0.2 and later), and a stop must always end. Nothing is lost by it:
  // what was not committed is read again by the group's next member, and applied once.
  int Run(process::StopSignals& signals, absl::Duration stop_timeout);

 private:
  ProcessHost(std::unique_ptr<telemetry::Telemetry> owned, telemetry::Telemetry& telemetry)
      : owned_telemetry_(std::move(owned)), telemetry_(telemetry) {}
  void Stop(bool log_stopped) noexcept;

  std::unique_ptr<telemetry::Telemetry> owned_telemetry_;
  telemetry::Telemetry& telemetry_;
  std::vector<std::shared_ptr<void>> kept_;
  std::vector<std::function<void()>> stop_steps_;
  std::vector<telemetry::ConsumerLagSource> lag_sources_;
  std::optional<RunningServer> server_;
  std::optional<RunningServer> health_server_;  // --health-listen's
  bool server_shut_down_ = false;
  bool stopped_ = false;
};

}  // namespace choreo::service
