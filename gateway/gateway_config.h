#pragma once

// GatewayConfig: choreo-gateway's typed configuration: the process's shared flags
// (service::ProcessConfig: --kafka-brokers, --redis, --grpc-listen, --port-file, telemetry's),
// the HTTP/JSON listener, the services' addresses, token checking, the waits and the timeline.
// Each flag is also CHOREO_<NAME> in the environment; --help lists them.

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "platform/config/flag_set.h"
#include "saga/service/process_host.h"

namespace choreo::gateway {

struct GatewayConfig : service::ProcessConfig {
  // Its clients are outside: a load balancer in front spreads their connections.
  GatewayConfig() { max_connection_age = absl::ZeroDuration(); }

  // TLS on the public gRPC port (no client certificates: clients prove who they are with tokens).
  std::string public_tls_cert;
  std::string public_tls_key;
  std::string http_listen = "127.0.0.1:0";
  std::string http_port_file;
  int http_max_connections = 1024;
  int http_max_connections_per_client = 64;
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
  absl::Duration timeline_batch_window = absl::Milliseconds(200);  // TimelineIndexer::Options

  void AddFlags(config::FlagSet& flags);
  absl::Status Validate() const;

  // The configuration from the environment and `argv`, validated, with a random instance id
  // when none is given. Exits (config::ParseOrExit) on --help (0) or a bad flag (2).
  static GatewayConfig FromFlags(int argc, char** argv);
};

}  // namespace choreo::gateway
