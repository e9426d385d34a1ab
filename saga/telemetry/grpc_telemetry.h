#pragma once

// GrpcServerTelemetry: a server interceptor that gives every call of a gRPC server
// - RED metrics with the standard (go-grpc-prometheus) names and labels:
//     grpc_server_started_total{grpc_type,grpc_service,grpc_method}
//     grpc_server_handled_total{grpc_type,grpc_service,grpc_method,grpc_code}
//     grpc_server_handling_seconds{grpc_type,grpc_service,grpc_method}
// - a SERVER span "<service>/<method>" (rpc.system, rpc.service, rpc.method,
//   rpc.grpc.status_code) continuing the caller's traceparent metadata. The call's own
//   `traceparent` metadata is replaced by the span's context, so the handler's events and
//   outgoing calls are children of it. Health checks and reflection get no spans.
// It runs for HTTP/JSON calls too (they are in-process gRPC calls).

#include <memory>

#include "grpcpp/support/server_interceptor.h"
#include "platform/metrics/metrics.h"
#include "platform/tracing/tracer.h"

namespace choreo::telemetry {

// `metrics` and `tracer` must outlive the server.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> GrpcServerTelemetry(
    metrics::Metrics& metrics, const tracing::Tracer& tracer);

}  // namespace choreo::telemetry
