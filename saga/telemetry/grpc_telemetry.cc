#include "saga/telemetry/grpc_telemetry.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "google/protobuf/descriptor.h"
#include "platform/tracing/messaging.h"

namespace choreo::telemetry {
namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::ServerRpcInfo;

constexpr char kTraceparent[] = "traceparent";

const char* TypeLabel(ServerRpcInfo::Type type) {
  switch (type) {
    case ServerRpcInfo::Type::UNARY: return "unary";
    case ServerRpcInfo::Type::CLIENT_STREAMING: return "client_stream";
    case ServerRpcInfo::Type::SERVER_STREAMING: return "server_stream";
    case ServerRpcInfo::Type::BIDI_STREAMING: return "bidi_stream";
  }
  return "unary";
}


// A method of a service compiled into this process (grpc.health.v1 is built in without a
// generated descriptor).
bool IsKnownMethod(const std::string& service, const std::string& method) {
  if (service == "grpc.health.v1.Health") return true;
  const google::protobuf::ServiceDescriptor* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(service);
  return descriptor != nullptr && descriptor->FindMethodByName(method) != nullptr;
}

std::vector<std::string> MethodLabels() { return {"grpc_type", "grpc_service", "grpc_method"}; }

struct Families {
  metrics::Family<prometheus::Counter>& started;
  metrics::Family<prometheus::Counter>& handled;
  metrics::Family<prometheus::Histogram>& handling;
};

class TelemetryInterceptor final : public grpc::experimental::Interceptor {
 public:
  TelemetryInterceptor(const Families& families, const tracing::Tracer& tracer, ServerRpcInfo* info)
      : families_(families), tracer_(tracer), type_(TypeLabel(info->type())) {
    const absl::string_view method = info->method();
    absl::string_view name = method;
    if (!name.empty() && name.front() == '/') name.remove_prefix(1);
    const size_t slash = name.find('/');
    service_ = std::string(name.substr(0, slash));
    method_name_ = slash == absl::string_view::npos ? "" : std::string(name.substr(slash + 1));
    if (!IsKnownMethod(service_, method_name_)) {
      // A path a client made up: one label value for all of them, so clients cannot grow the
      // metrics without bound.
      service_ = method_name_ = "unknown";
      return;
    }
    traced_ = !absl::StartsWith(service_, "grpc.health.") && !absl::StartsWith(service_, "grpc.reflection.");
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      start_ = absl::Now();
      families_.started.With({type_, service_, method_name_}).Increment();
      if (traced_) StartSpan(*methods->GetRecvInitialMetadata());
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      // absl's names are the standard upper-case code names ("OK", "NOT_FOUND", ...).
      const std::string code =
          absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code()));
      families_.handled.With({type_, service_, method_name_, code}).Increment();
      families_.handling.With({type_, service_, method_name_})
          .Observe(metrics::Seconds(absl::Now() - start_));
      span_.SetAttribute("rpc.grpc.status_code", static_cast<int64_t>(status.error_code()));
      if (!status.ok()) span_.SetError(absl::StrCat(code, ": ", status.error_message()));
      span_.End();
    }
    methods->Proceed();
  }

 private:
  void StartSpan(std::multimap<grpc::string_ref, grpc::string_ref>& metadata) {
    std::string parent;
    if (auto it = metadata.find(kTraceparent); it != metadata.end()) {
      parent.assign(it->second.data(), it->second.size());
    }
    span_ = tracer_.StartSpan(absl::StrCat(service_, "/", method_name_), tracing::SpanKind::kServer,
                              parent);
    if (span_.recording()) span_.SetAttributes(tracing::RpcAttributes(service_, method_name_));
    // The handler continues this span: its traceparent replaces the caller's. The strings
    // live as long as the call (this interceptor).
    traceparent_ = span_.traceparent();
    metadata.erase(kTraceparent);
    metadata.emplace(grpc::string_ref(kTraceparent), grpc::string_ref(traceparent_));
  }

  const Families& families_;
  const tracing::Tracer& tracer_;
  const char* const type_;
  std::string service_;
  std::string method_name_;
  bool traced_ = false;
  absl::Time start_ = absl::Now();
  tracing::Span span_;
  std::string traceparent_;
};

class Factory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  Factory(metrics::Metrics& metrics, const tracing::Tracer& tracer)
      : families_{.started = metrics.Counter("grpc_server_started_total",
                                             "RPCs started on the server.", MethodLabels()),
                  .handled = metrics.Counter(
                      "grpc_server_handled_total",
                      "RPCs completed on the server, regardless of success or failure.",
                      {"grpc_type", "grpc_service", "grpc_method", "grpc_code"}),
                  .handling = metrics.Histogram("grpc_server_handling_seconds",
                                                "Response latency of RPCs handled by the server.",
                                                MethodLabels(), metrics::LatencyBuckets())},
        tracer_(tracer) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(ServerRpcInfo* info) override {
    return new TelemetryInterceptor(families_, tracer_, info);
  }

 private:
  const Families families_;
  const tracing::Tracer& tracer_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> GrpcServerTelemetry(
    metrics::Metrics& metrics, const tracing::Tracer& tracer) {
  return std::make_unique<Factory>(metrics, tracer);
}

}  // namespace choreo::telemetry
