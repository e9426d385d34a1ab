#pragma once

// Telemetry: what every choreo process runs to be observable, in one object:
// - the JSON-lines log (--log-level);
// - metrics (Prometheus) with Redis round-trip latency
//   (choreo_redis_command_duration_seconds{command}) and the span exporter's counts
//   (choreo_trace_spans_exported_total, choreo_trace_spans_dropped_total,
//   choreo_trace_spans_failed_total);
// - tracing: spans exported as OTLP/HTTP JSON to --otlp-endpoint (off when empty);
// - readiness checks;
// - the admin HTTP server on --admin-listen: GET /metrics (Prometheus text format), /healthz
//   (200 while the process runs), /readyz (200 when ready, else 503; JSON naming each check).
//
// Start once in main, before the parts that record; Stop last (after the parts that record),
// in reverse: readiness, admin server, exporter (which sends the spans it holds).

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "edges/http/http_server.h"
#include "platform/config/flag_set.h"
#include "platform/metrics/metrics.h"
#include "saga/telemetry/readiness.h"
#include "saga/telemetry/saga_metrics.h"
#include "platform/tracing/otlp_exporter.h"
#include "platform/tracing/tracer.h"

namespace choreo::telemetry {

struct TelemetryConfig {
  std::string log_level = "info";
  std::string otlp_endpoint;  // e.g. http://127.0.0.1:4318/v1/traces; empty: no export
  int otlp_max_queue = 8192;
  std::string admin_listen = "127.0.0.1:0";  // IPv4 host:port; port 0: any free port
  std::string admin_port_file;

  void AddFlags(config::FlagSet& flags);
  absl::Status Validate() const;
};

class Telemetry {
 public:
  static absl::StatusOr<std::unique_ptr<Telemetry>> Start(const std::string& service,
                                                          const TelemetryConfig& config);
  ~Telemetry();  // Stop()
  void Stop() noexcept;

  metrics::Metrics& metrics() { return metrics_; }
  // The saga event metrics (saga_metrics.h), for the runtime and for code that publishes
  // events outside it (an outbox).
  SagaMetrics& saga_metrics() { return saga_metrics_; }
  const tracing::Tracer& tracer() const { return tracer_; }
  Readiness& readiness() { return readiness_; }
  int admin_port() const { return admin_->port(); }

  // A readiness check that PINGs Redis at `address` (its own connection, 1 s timeouts).
  void AddRedisCheck(const std::string& address);

 private:
  Telemetry(const std::string& service, const TelemetryConfig& config);

  metrics::Metrics metrics_;
  SagaMetrics saga_metrics_{metrics_};
  std::unique_ptr<tracing::OtlpHttpExporter> exporter_;
  tracing::Tracer tracer_;
  Readiness readiness_;
  std::unique_ptr<http::HttpServer> admin_;
};

}  // namespace choreo::telemetry
