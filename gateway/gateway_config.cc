#include "gateway/gateway_config.h"

#include "absl/random/random.h"
#include "platform/ids/trace_context.h"

namespace choreo::gateway {

void GatewayConfig::AddFlags(config::FlagSet& flags) {
  ProcessConfig::AddFlags(flags);
  flags
      .Add("public-tls-cert", &public_tls_cert,
           "PEM certificate (chain) for TLS on the public gRPC and HTTP/JSON ports (plaintext "
           "when empty)")
      .Add("public-tls-key", &public_tls_key, "its private key")
      .Add("http-listen", &http_listen,
           "HTTP/JSON listen address, IPv4 host:port (port 0: any free port)")
      .Add("http-port-file", &http_port_file, "write the bound HTTP port to this file")
      .Add("http-max-connections", &http_max_connections, "HTTP connections at once")
      .Add("http-max-connections-per-client", &http_max_connections_per_client,
           "HTTP connections at once from one client address (more are closed at accept)")
      .Add("http-idle-timeout", &http_idle_timeout,
           "close an HTTP connection idle (or sending slower than this) for this long")
      .Add("http-max-body-bytes", &http_max_body_bytes, "larger HTTP bodies get 413")
      .Add("order-address", &order_address,
           "the order service's gRPC target: host:port, ipv4:a:p,b:p,... (its instances, called "
           "round robin) or dns:///name:port")
      .Add("billing-address", &billing_address, "the billing service's gRPC target (as above)")
      .Add("users-address", &users_address, "the user service's gRPC target (as above)")
      .Add("notification-address", &notification_address,
           "the notification service's gRPC target (as above)")
      .Add("jwt-public-key", &jwt_public_key,
           "the user service's token verifying key (Ed25519 SPKI PEM)")
      .Add("jwt-issuer", &jwt_issuer, "the iss claim tokens must carry")
      .Add("instance-id", &instance_id, "this instance's id (its consumer group); random if empty")
      .Add("fetch-wait-max-ms", &fetch_wait_max_ms,
           "the event feed's consumer fetch.wait.max.ms (the view projector and the timeline fetch "
           "in batches)")
      .Add("max-waiting", &max_waiting, "calls that may wait for a saga at once")
      .Add("work-threads", &work_threads, "threads for blocking work (Redis)")
      .Add("redis-connections", &redis_connections, "Redis connections")
      .Add("max-wait", &max_wait, "the longest CreateOrder waits for its saga")
      .Add("publish-timeout", &publish_timeout,
           "how long a request waits for the broker's acknowledgement before UNAVAILABLE "
           "(longer than a leader failover)")
      .Add("timeline-indexer", &timeline_indexer,
           "index every mission topic for the saga timeline (group choreo-timeline)")
      .Add("timeline-retention", &timeline_retention,
           "how long a saga's timeline is kept after its last event")
      .Add("timeline-max-sagas-per-user", &timeline_max_sagas_per_user,
           "how many of a user's recent sagas are listed")
      .Add("timeline-batch-window", &timeline_batch_window,
           "how long the indexer gathers records into one batch: longer, fewer Redis writes per "
           "saga and a timeline that lags more");
  telemetry.AddFlags(flags);
}

absl::Status GatewayConfig::Validate() const {
  if (absl::Status addresses = ValidateAddresses(); !addresses.ok()) return addresses;
  if (timeline_retention < absl::Minutes(1) || timeline_max_sagas_per_user < 1) {
    return absl::InvalidArgumentError(
        "--timeline-retention must be >= 1m and --timeline-max-sagas-per-user >= 1");
  }
  if (timeline_batch_window < absl::ZeroDuration() || timeline_batch_window > absl::Seconds(10)) {
    return absl::InvalidArgumentError("--timeline-batch-window must be within [0s, 10s]");
  }
  if (public_tls_cert.empty() != public_tls_key.empty()) {
    return absl::InvalidArgumentError("--public-tls-cert and --public-tls-key go together");
  }
  if (max_waiting < 1) return absl::InvalidArgumentError("--max-waiting must be >= 1");
  if (work_threads < 1 || redis_connections < 1) {
    return absl::InvalidArgumentError("--work-threads and --redis-connections must be >= 1");
  }
  if (max_wait <= absl::ZeroDuration()) return absl::InvalidArgumentError("--max-wait must be > 0");
  if (publish_timeout < absl::Seconds(1) || publish_timeout > max_wait) {
    return absl::InvalidArgumentError("--publish-timeout must be >= 1s and <= --max-wait");
  }
  if (http_max_connections < 1 || http_max_connections_per_client < 1 || http_max_body_bytes < 1 ||
      http_idle_timeout < absl::Seconds(1)) {
    return absl::InvalidArgumentError(
        "--http-max-connections, --http-max-connections-per-client and --http-max-body-bytes must "
        "be >= 1, --http-idle-timeout >= 1s");
  }
  return telemetry.Validate();
}

GatewayConfig GatewayConfig::FromFlags(int argc, char** argv) {
  GatewayConfig config = config::ParseConfigOrExit<GatewayConfig>(
      "choreo-gateway", "The public API of choreo (orders, accounts) over gRPC and HTTP/JSON.",
      argc, argv);
  if (config.instance_id.empty()) {
    absl::BitGen random;
    config.instance_id = ids::RandomHex(random, 6);
  }
  return config;
}

}  // namespace choreo::gateway
