#pragma once

// ServiceHost: what every choreo service process runs besides its decisions: the saga runtime
// on a ProcessHost (process_host.h: a gRPC server with grpc.health.v1 + reflection + the
// service's own APIs; telemetry: JSON logs, /metrics, spans, /healthz and /readyz;
// grpc.health.v1 SERVING exactly while ready: every consumer assigned, Kafka reachable, Redis
// answering), and a clean stop on SIGTERM/SIGINT (not ready, the service's background work,
// drain and commit the runtimes, leave the groups, stop serving).
//
// A service main: declare ServiceConfig flags next to its own, build its HandlerRegistry and
// gRPC services, then return RunService(...).

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "platform/config/flag_set.h"
#include "platform/process/stop_signals.h"
#include "saga/runtime/saga_runtime.h"
#include "saga/service/process_host.h"
#include "saga/store/handled_outcome.h"
#include "saga/telemetry/telemetry.h"

namespace choreo::service {

// Flags every service shares (each also CHOREO_<NAME> in the environment): the process's
// (ProcessConfig) and the saga runtime's.
struct ServiceConfig : ProcessConfig {
  // Per-key lanes. A lane handles what is queued for it as one batch (one Redis round trip each
  // way, one wait for the broker's acks: saga/README.md), so fewer lanes make larger batches: on
  // Apache Kafka at 1,000 orders/s offered, 4 lanes passed 967/s (p50 340 ms, 1.29 ms of CPU
  // per order) where 16 passed 769/s (p50 2.3 s, 1.62 ms); at 200/s, 16 had the lower p50
  // (18 against 28-32 ms). tests/bench/README.md, "A batched hot path". One Redis connection each.
  int workers = 4;
  // Kafka long-polls, so a large wait is free there; the dev broker (librdkafka's mock) holds
  // empty fetches for the whole value, so the local stack passes 1.
  int fetch_wait_max_ms = 100;
  // How soon the group notices a member that died without leaving (SIGKILL, a lost node): its
  // partitions stall this long. librdkafka's 45 s is longer than a client waits for a saga
  // (the gateway's --max-wait, 30 s); 10 s with a heartbeat a second costs nothing.
  int session_timeout_ms = 10000;
  // max.poll.interval.ms, which is also how long a rebalance waits for members to rejoin. The
  // runtime's poll thread polls every 100 ms whatever the workers do, so this can be short.
  int max_poll_interval_ms = 30000;
  absl::Duration drain_timeout = absl::Seconds(10);
  absl::Duration marker_retention = absl::Hours(24 * 7);
  // Handled markers keep every header of each record (store::MarkerHeaders::kAll) instead of
  // deriving most of them: set during a rolling upgrade from a release before 2026-12-04 and
  // while a rollback to one stays possible (a marker_retention), since such a release would
  // re-publish records from the newer markers without their ids and trace context.
  bool full_marker_headers = false;
  // Handled markers keep each snapshot's state (store::MarkerSnapshots::kWhole) instead of
  // leaving it to the aggregate's stored state: set during a rolling upgrade from a release
  // before 2026-12-05 and while a rollback to one stays possible (a marker_retention), since
  // such a release would re-publish snapshots from the newer markers without their state.
  bool full_marker_snapshots = false;
  // For fault drills only (tests/chaos): this instance's wall clock, as its decisions, event
  // times and deadlines see it, runs this far ahead of the host's (negative: behind). A clock
  // skew between instances, without touching the host's clock. 0 in production.
  absl::Duration clock_offset = absl::ZeroDuration();

  void AddFlags(config::FlagSet& flags);
  absl::Status Validate() const;
  // Which headers handled markers keep (full_marker_headers).
  store::MarkerHeaders MarkerHeaders() const;
  // The instance's wall clock: the host's, plus clock_offset.
  std::function<absl::Time()> Clock() const;
  saga::SagaRuntimeOptions RuntimeOptions(const std::string& service,
                                          std::vector<std::string> topics) const;
};

// One consumer group of a service: the topics it reads and the handlers for them. Most services
// have one; a service with parts that must progress independently (or start from a different
// offset) has several.
struct Subscription {
  // Empty: the group is choreo-<service>; else choreo-<service>-<group_suffix>.
  std::string group_suffix;
  std::vector<std::string> topics;
  saga::HandlerRegistry registry;
  kafka::KafkaConfig consumer_overrides;  // over the service's own (e.g. auto.offset.reset)
  kafka::KafkaConfig producer_overrides;  // over kafka::ProducerDefaults (e.g. BatchedProduce)
  // A group that builds a view: the service is not ready until it caught up once.
  bool ready_once_caught_up = false;
};

struct ServiceParts {
  std::string name;  // "order": dlq.<name>, meta.producer, aggregates "<name>.<type>"
  std::vector<Subscription> subscriptions;
  std::vector<grpc::Service*> grpc_services;  // not owned; must outlive RunService
  saga::SagaObserver* observer = nullptr;
  // Runs once the runtimes and server are up, and returns a function run at stop, before the
  // runtime stops (for a service's own background work). Optional.
  std::function<std::function<void()>()> on_started;
  // The process's telemetry, when main started it itself (to hand its tracer or metrics to its
  // own parts); else RunService starts it from the config. Not owned.
  telemetry::Telemetry* telemetry = nullptr;
};

// The options of the runtime that runs `subscription` of `service` under `config` (no observer
// or tracer yet): its group, and its consumer and producer overrides over the service's own.
saga::SagaRuntimeOptions SubscriptionRuntimeOptions(const ServiceConfig& config,
                                                    const std::string& service,
                                                    const Subscription& subscription);

// Prints "choreo-<service>: <message>" on stderr and returns 2, the exit code of a process whose
// parts could not be built.
int StartFailure(absl::string_view service, const absl::Status& status);

// Starts one saga runtime per subscription, then the gRPC server; runs until a stop signal, then
// stops in reverse order. Returns the process exit code (0 after a clean stop).
int RunService(const ServiceConfig& config, ServiceParts parts, process::StopSignals& signals);

}  // namespace choreo::service
