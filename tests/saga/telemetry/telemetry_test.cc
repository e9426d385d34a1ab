#include "saga/telemetry/telemetry.h"

#include <atomic>

#include "absl/synchronization/notification.h"
#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/support/byte_buffer.h"
#include "gtest/gtest.h"
#include "choreo/orders/v1/admin.pb.h"
#include "platform/ids/trace_context.h"
#include "saga/service/grpc_server.h"
#include "saga/telemetry/grpc_telemetry.h"
#include "saga/telemetry/readiness.h"
#include "testing/http_client.h"
#include "testing/http_receiver.h"
#include "testing/otlp_spans.h"
#include "testing/wait.h"

namespace choreo::telemetry {
namespace {

constexpr char kParent[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(ReadinessTest, ReadyOnlyWhenEveryCheckPasses) {
  EXPECT_FALSE(AllReady({})) << "no checks: nothing says it is ready";
  const std::vector<CheckResult> results = {{"kafka", absl::OkStatus()},
                                            {"redis", absl::UnavailableError("connection \"refused\"")}};
  EXPECT_FALSE(AllReady(results));
  EXPECT_EQ(ReadinessJson(results),
            R"({"ready":false,"checks":[{"name":"kafka","ok":true},{"name":"redis","ok":false,"error":"connection \"refused\""}]})");
  EXPECT_TRUE(AllReady({{"kafka", absl::OkStatus()}}));
}

TEST(ReadinessTest, ChangesAreReportedAndStopMeansNotReady) {
  Readiness readiness(absl::Hours(1));  // rounds only when the test asks
  std::atomic<bool> redis_up{false};
  readiness.AddCheck("redis", [&] {
    return redis_up.load() ? absl::OkStatus() : absl::UnavailableError("down");
  });
  std::vector<bool> changes;
  readiness.CheckNow();
  readiness.OnChange([&](bool ready) { changes.push_back(ready); });
  EXPECT_EQ(changes, std::vector<bool>({false})) << "told the current state at once";
  redis_up = true;
  readiness.CheckNow();
  readiness.CheckNow();  // no change, no call
  EXPECT_TRUE(readiness.ready());
  redis_up = false;
  readiness.CheckNow();
  redis_up = true;
  readiness.CheckNow();
  readiness.Stop();
  EXPECT_EQ(changes, std::vector<bool>({false, true, false, true, false}));
  EXPECT_FALSE(readiness.ready());
  EXPECT_FALSE(AllReady(readiness.Latest())) << "/readyz says 503 while the process drains";
}

TEST(TelemetryTest, AdminServerServesMetricsHealthAndReadiness) {
  absl::StatusOr<std::unique_ptr<Telemetry>> telemetry = Telemetry::Start("test", {});
  ASSERT_TRUE(telemetry.ok()) << telemetry.status();
  std::atomic<bool> ready{false};
  (*telemetry)->readiness().AddCheck("dependency", [&] {
    return ready.load() ? absl::OkStatus() : absl::UnavailableError("not yet");
  });
  (*telemetry)->readiness().CheckNow();
  (*telemetry)->metrics().Counter("choreo_test_total", "Test.", {}).With({}).Increment();
  const std::string base = absl::StrCat("http://127.0.0.1:", (*telemetry)->admin_port());

  testing::HttpResult metrics = testing::HttpCall("GET", base + "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.Header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(metrics.body.find("choreo_test_total 1"), std::string::npos) << metrics.body;
  EXPECT_NE(metrics.body.find("choreo_trace_spans_dropped_total 0"), std::string::npos);

  EXPECT_EQ(testing::HttpCall("GET", base + "/healthz").status, 200);
  testing::HttpResult not_ready = testing::HttpCall("GET", base + "/readyz");
  EXPECT_EQ(not_ready.status, 503);
  EXPECT_NE(not_ready.body.find(R"("name":"dependency","ok":false,"error":"not yet")"), std::string::npos)
      << not_ready.body;
  ready = true;
  (*telemetry)->readiness().CheckNow();
  EXPECT_EQ(testing::HttpCall("GET", base + "/readyz").status, 200);
  EXPECT_EQ(testing::HttpCall("GET", base + "/nope").status, 404);
  EXPECT_EQ(testing::HttpCall("POST", base + "/metrics", "{}").status, 405);
}

TEST(TelemetryTest, BadFlagsAreRefusedNamingTheFlag) {
  TelemetryConfig config;
  config.log_level = "loud";
  EXPECT_NE(config.Validate().message().find("--log-level"), std::string::npos);
  config = {};
  config.otlp_endpoint = "collector:4318";
  EXPECT_NE(config.Validate().message().find("--otlp-endpoint"), std::string::npos);
  config = {};
  config.admin_listen = "not an address";
  absl::StatusOr<std::unique_ptr<Telemetry>> telemetry = Telemetry::Start("test", config);
  ASSERT_FALSE(telemetry.ok());
  EXPECT_NE(telemetry.status().message().find("--admin-listen"), std::string::npos);
}

// A generic gRPC method that answers with the traceparent its handler sees.
class EchoTraceparent final : public grpc::CallbackGenericService {
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* context) override {
    class Reactor final : public grpc::ServerGenericBidiReactor {
     public:
      explicit Reactor(grpc::GenericCallbackServerContext* context) {
        std::string seen;
        for (const auto& [key, value] : context->client_metadata()) {
          if (key == "traceparent") seen.assign(value.data(), value.size());
        }
        if (context->method() == "/choreo.orders.v1.OrderAdmin/ListCatalog") {
          Finish(grpc::Status(grpc::StatusCode::NOT_FOUND, "nothing"));
          return;
        }
        grpc::Slice slice(seen);
        reply_ = grpc::ByteBuffer(&slice, 1);
        StartRead(&request_);
      }
      void OnReadDone(bool) override { StartWriteAndFinish(&reply_, {}, grpc::Status::OK); }
      void OnDone() override { delete this; }

     private:
      grpc::ByteBuffer request_, reply_;
    };
    return new Reactor(context);
  }
};

grpc::Status CallEcho(grpc::GenericStub& stub, const std::string& method,
                      const std::string& traceparent, std::string* answer) {
  grpc::ClientContext context;
  context.AddMetadata("traceparent", traceparent);
  grpc::ByteBuffer request, response;
  grpc::Slice empty("");
  request = grpc::ByteBuffer(&empty, 1);
  absl::Notification done;
  grpc::Status status;
  stub.UnaryCall(&context, method, grpc::StubOptions(), &request, &response, [&](grpc::Status s) {
    status = std::move(s);
    done.Notify();
  });
  done.WaitForNotification();
  std::vector<grpc::Slice> slices;
  if (status.ok() && response.Dump(&slices).ok()) {
    for (const grpc::Slice& slice : slices) answer->append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return status;
}

TEST(GrpcTelemetryTest, EveryCallIsCountedTimedAndTracedAsAChildOfTheCaller) {
  testing::HttpReceiver collector;
  ASSERT_TRUE(collector.Start().ok());
  absl::StatusOr<std::unique_ptr<Telemetry>> telemetry =
      Telemetry::Start("echo", {.otlp_endpoint = collector.url("/v1/traces")});
  ASSERT_TRUE(telemetry.ok()) << telemetry.status();
  EchoTraceparent echo;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterCallbackGenericService(&echo);
  service::InterceptorFactories interceptors;
  interceptors.push_back(GrpcServerTelemetry((*telemetry)->metrics(), (*telemetry)->tracer()));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  grpc::GenericStub stub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                             grpc::InsecureChannelCredentials()));

  // The generic echo serves methods of a service compiled in (OrderAdmin's), and a made-up one.
  ASSERT_NE(orders::v1::GetOrderRequest::descriptor(), nullptr);  // links OrderAdmin's descriptor
  std::string seen;
  ASSERT_TRUE(CallEcho(stub, "/choreo.orders.v1.OrderAdmin/GetOrder", kParent, &seen).ok());
  // The handler sees the server span's context, not the caller's: its work is a child.
  ASSERT_TRUE(ids::IsValidTraceparent(seen)) << seen;
  EXPECT_EQ(ids::TraceIdOf(seen), ids::TraceIdOf(kParent));
  EXPECT_NE(ids::SpanIdOf(seen), ids::SpanIdOf(kParent));
  std::string ignored;
  EXPECT_EQ(CallEcho(stub, "/choreo.orders.v1.OrderAdmin/ListCatalog", kParent, &ignored).error_code(),
            grpc::StatusCode::NOT_FOUND);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(CallEcho(stub, absl::StrCat("/made.up.Service", i, "/Method"), kParent, &ignored).ok());
  }

  const std::string text = (*telemetry)->metrics().Scrape();
  auto has = [&text](const char* line) { return text.find(line) != std::string::npos; };
  EXPECT_TRUE(has(R"(grpc_server_handled_total{grpc_code="OK",grpc_method="GetOrder",grpc_service="choreo.orders.v1.OrderAdmin",grpc_type="bidi_stream"} 1)")) << text;
  EXPECT_TRUE(has(R"(grpc_server_handled_total{grpc_code="NOT_FOUND",grpc_method="ListCatalog",grpc_service="choreo.orders.v1.OrderAdmin",grpc_type="bidi_stream"} 1)")) << text;
  EXPECT_TRUE(has(R"(grpc_server_handling_seconds_count{grpc_method="GetOrder",grpc_service="choreo.orders.v1.OrderAdmin",grpc_type="bidi_stream"} 1)")) << text;
  EXPECT_TRUE(has(R"(grpc_server_started_total{grpc_method="GetOrder",grpc_service="choreo.orders.v1.OrderAdmin",grpc_type="bidi_stream"} 1)")) << text;
  // Made-up paths share one label value: clients cannot grow the metrics.
  EXPECT_TRUE(has(R"(grpc_server_handled_total{grpc_code="OK",grpc_method="unknown",grpc_service="unknown",grpc_type="bidi_stream"} 3)")) << text;
  EXPECT_FALSE(has("made.up")) << text;

  server->Shutdown();
  (*telemetry)->Stop();  // exports what it holds
  std::vector<testing::ReceivedSpan> spans;
  for (const auto& request : collector.requests()) {
    absl::StatusOr<std::vector<testing::ReceivedSpan>> parsed = testing::ParseOtlpSpans(request.body);
    ASSERT_TRUE(parsed.ok());
    spans.insert(spans.end(), parsed->begin(), parsed->end());
  }
  ASSERT_EQ(spans.size(), 2u) << "made-up methods get no spans";
  const bool first = spans[0].name == "choreo.orders.v1.OrderAdmin/GetOrder";
  const testing::ReceivedSpan& call = first ? spans[0] : spans[1];
  const testing::ReceivedSpan& fail = first ? spans[1] : spans[0];
  EXPECT_EQ(call.service, "echo");
  EXPECT_EQ(call.kind, 2);
  EXPECT_EQ(call.parent_span_id, ids::SpanIdOf(kParent));
  EXPECT_EQ(call.span_id, ids::SpanIdOf(seen));
  EXPECT_EQ(call.attributes.at("rpc.system"), "grpc");
  EXPECT_EQ(call.attributes.at("rpc.service"), "choreo.orders.v1.OrderAdmin");
  EXPECT_EQ(call.attributes.at("rpc.method"), "GetOrder");
  EXPECT_EQ(call.attributes.at("rpc.grpc.status_code"), "0");
  EXPECT_EQ(fail.status_code, 2);
  EXPECT_EQ(fail.attributes.at("rpc.grpc.status_code"), "5");
}

}  // namespace
}  // namespace choreo::telemetry
