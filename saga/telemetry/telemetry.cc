#include "saga/telemetry/telemetry.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "edges/kafka/kafka_producer.h"
#include "edges/redis/redis_connection.h"
#include "grpc/support/log.h"
#include "platform/logging/logger.h"
#include "platform/process/files.h"

namespace choreo::telemetry {
namespace {

// gRPC's own log lines as the process's JSON lines.
void GrpcLogToProcessLog(gpr_log_func_args* args) {
  const logging::Level level = args->severity == GPR_LOG_SEVERITY_ERROR ? logging::Level::kError
                               : args->severity == GPR_LOG_SEVERITY_INFO ? logging::Level::kInfo
                                                                         : logging::Level::kDebug;
  if (!logging::Enabled(level)) return;
  logging::Log(level, args->message,
               {{"component", "grpc"}, {"source", absl::StrCat(args->file, ":", args->line)}});
}

http::HttpResponse TextResponse(int status, std::string content_type, std::string body) {
  return {.status = status,
          .headers = {{"Content-Type", std::move(content_type)}, {"Cache-Control", "no-store"}},
          .body = std::move(body)};
}

}  // namespace

void TelemetryConfig::AddFlags(config::FlagSet& flags) {
  flags.Add("log-level", &log_level, "lowest log level written: debug, info, warn or error")
      .Add("otlp-endpoint", &otlp_endpoint,
           "OTLP/HTTP JSON traces URL, e.g. http://127.0.0.1:4318/v1/traces (empty: no export)")
      .Add("otlp-max-queue", &otlp_max_queue,
           "spans waiting for export at most; more are dropped (and counted)")
      .Add("admin-listen", &admin_listen,
           "/metrics, /healthz and /readyz listen address, IPv4 host:port (port 0: any free port)")
      .Add("admin-port-file", &admin_port_file, "write the bound admin HTTP port to this file");
}

absl::Status TelemetryConfig::Validate() const {
  if (absl::Status level = logging::ParseLevel(log_level).status(); !level.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--log-level: ", level.message()));
  }
  if (!otlp_endpoint.empty() && !absl::StartsWith(otlp_endpoint, "http://") &&
      !absl::StartsWith(otlp_endpoint, "https://")) {
    return absl::InvalidArgumentError(
        absl::StrCat("--otlp-endpoint must be an http(s):// URL, got '", otlp_endpoint, "'"));
  }
  if (otlp_max_queue < 1) return absl::InvalidArgumentError("--otlp-max-queue must be >= 1");
  return absl::OkStatus();
}

namespace {

// The process's own metrics: Redis round trips, the span exporter's counts, Kafka producers
// replaced, readiness. `exporter` may be null (no collector); both must outlive every scrape.
void AddProcessMetrics(metrics::Metrics& metrics, tracing::OtlpHttpExporter* exporter,
                       const Readiness& readiness) {
  auto& redis_latency =
      metrics.Histogram("choreo_redis_command_duration_seconds",
                        "Redis round trips (one command or a pipeline), failures included.",
                        {"command"}, metrics::FastLatencyBuckets());
  redis::SetRoundTripObserver([&redis_latency](absl::string_view command, absl::Duration took) {
    redis_latency.With({command}).Observe(metrics::Seconds(took));
  });
  auto exporter_count = [exporter](uint64_t (tracing::OtlpHttpExporter::*count)() const) {
    return [exporter, count] {
      return std::vector<metrics::Sample>{
          {.labels = {}, .value = exporter == nullptr ? 0.0 : static_cast<double>((exporter->*count)())}};
    };
  };
  metrics.CounterCallback("choreo_trace_spans_exported_total", "Spans the collector accepted.",
                          exporter_count(&tracing::OtlpHttpExporter::exported));
  metrics.CounterCallback("choreo_trace_spans_dropped_total",
                          "Spans dropped because the export queue was full.",
                          exporter_count(&tracing::OtlpHttpExporter::dropped));
  metrics.CounterCallback("choreo_trace_spans_failed_total",
                          "Spans in batches the collector did not accept.",
                          exporter_count(&tracing::OtlpHttpExporter::failed));
  metrics.CounterCallback(
      "choreo_kafka_producers_replaced_total",
      "Kafka producers replaced after a fatal error (librdkafka's idempotence state lost); "
      "their unacknowledged records were sent again.",
      [] {
        return std::vector<metrics::Sample>{
            {.labels = {}, .value = static_cast<double>(kafka::ProducersReplacedInProcess())}};
      });
  metrics.GaugeCallback(
      "choreo_ready", "1 while the process is ready (/readyz 200, grpc.health.v1 SERVING), else 0.",
      [&readiness] {
        return std::vector<metrics::Sample>{{.labels = {}, .value = readiness.ready() ? 1.0 : 0.0}};
      });
}

}  // namespace

Telemetry::Telemetry(const std::string& service, const TelemetryConfig& config)
    : exporter_(config.otlp_endpoint.empty()
                    ? nullptr
                    : std::make_unique<tracing::OtlpHttpExporter>(tracing::OtlpExporterOptions{
                          .endpoint = config.otlp_endpoint,
                          .service = service,
                          .max_queue = static_cast<size_t>(config.otlp_max_queue)})),
      tracer_(exporter_.get()) {}

absl::StatusOr<std::unique_ptr<Telemetry>> Telemetry::Start(const std::string& service,
                                                            const TelemetryConfig& config) {
  if (absl::Status valid = config.Validate(); !valid.ok()) return valid;
  logging::Configure(service, *logging::ParseLevel(config.log_level));
  gpr_set_log_function(&GrpcLogToProcessLog);
  std::unique_ptr<Telemetry> telemetry(new Telemetry(service, config));
  Telemetry* self = telemetry.get();

  AddProcessMetrics(self->metrics_, self->exporter_.get(), self->readiness_);

  absl::StatusOr<std::unique_ptr<http::HttpServer>> admin = http::HttpServer::Start(
      {.listen = config.admin_listen,
       .max_connections = 64,
       .max_connections_per_client = 8,  // one client cannot crowd out probes and scrapes
       .max_body_bytes = 4096},
      [self](std::shared_ptr<http::HttpExchange> exchange) {
        const http::HttpRequest& request = exchange->request();
        if (request.method != "GET" && request.method != "HEAD") {
          exchange->Respond(TextResponse(405, "text/plain", "GET only\n"));
        } else if (request.path == "/metrics") {
          exchange->Respond(TextResponse(200, "text/plain; version=0.0.4; charset=utf-8",
                                         self->metrics_.Scrape()));
        } else if (request.path == "/healthz") {
          exchange->Respond(TextResponse(200, "application/json", "{\"status\":\"ok\"}\n"));
        } else if (request.path == "/readyz") {
          const std::vector<CheckResult> results = self->readiness_.Latest();
          exchange->Respond(TextResponse(AllReady(results) ? 200 : 503, "application/json",
                                         ReadinessJson(results) + "\n"));
        } else {
          exchange->Respond(TextResponse(404, "text/plain", "try /metrics, /healthz or /readyz\n"));
        }
      });
  if (!admin.ok()) {
    return absl::Status(admin.status().code(),
                        absl::StrCat("--admin-listen ", config.admin_listen, ": ", admin.status().message()));
  }
  self->admin_ = *std::move(admin);
  if (!config.admin_port_file.empty()) {
    if (absl::Status written = process::WriteFileAtomically(
            config.admin_port_file, absl::StrCat(self->admin_->port(), "\n"));
        !written.ok()) {
      return written;
    }
  }
  self->readiness_.Start();
  return telemetry;
}

Telemetry::~Telemetry() { Stop(); }

void Telemetry::Stop() noexcept {
  readiness_.Stop();
  if (admin_ != nullptr) admin_->Shutdown(absl::Seconds(1));
  redis::SetRoundTripObserver(nullptr);
  if (exporter_ != nullptr) exporter_->Stop();
}

void Telemetry::AddRedisCheck(const std::string& address) {
  absl::StatusOr<redis::RedisConnection::Options> parsed =
      redis::RedisConnection::OptionsFor(address);
  if (!parsed.ok()) {
    readiness_.AddCheck("redis", [status = parsed.status()] { return status; });
    return;
  }
  // The checks run on one thread; the mutex only makes that visible.
  parsed->command_timeout = absl::Seconds(1);
  auto connection = std::make_shared<redis::RedisConnection>(*std::move(parsed));
  auto mu = std::make_shared<absl::Mutex>();
  readiness_.AddCheck("redis", [connection, mu]() -> absl::Status {
    absl::MutexLock lock(mu.get());
    absl::StatusOr<redis::RedisReply> pong = connection->Command({"PING"});
    if (!pong.ok()) return pong.status();
    if (pong->is_error()) return absl::UnavailableError(absl::StrCat("redis: ", pong->str));
    return absl::OkStatus();
  });
}

}  // namespace choreo::telemetry
