#include "gtest/gtest.h"
#include "platform/ids/trace_context.h"
#include "testing/http_receiver.h"
#include "testing/otlp_spans.h"
#include "platform/tracing/messaging.h"
#include "platform/tracing/otlp_exporter.h"
#include "platform/tracing/otlp_json.h"
#include "platform/tracing/tracer.h"

namespace choreo::tracing {
namespace {

constexpr char kParent[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

// Every span the receiver got, across its requests.
std::vector<testing::ReceivedSpan> AllSpans(const testing::HttpReceiver& receiver) {
  std::vector<testing::ReceivedSpan> spans;
  for (const auto& request : receiver.requests()) {
    EXPECT_EQ(request.method, "POST");
    EXPECT_EQ(request.path, "/v1/traces");
    EXPECT_EQ(request.headers.at("content-type"), "application/json");
    absl::StatusOr<std::vector<testing::ReceivedSpan>> parsed = testing::ParseOtlpSpans(request.body);
    EXPECT_TRUE(parsed.ok()) << request.body;
    if (parsed.ok()) spans.insert(spans.end(), parsed->begin(), parsed->end());
  }
  return spans;
}

TEST(TracingTest, OtlpJsonFollowsTheProtocolsJsonMapping) {
  SpanData span{.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736",
                .span_id = "00f067aa0ba902b7",
                .parent_span_id = "1111111111111111",
                .name = "process orders.created",
                .kind = SpanKind::kConsumer,
                .start = absl::FromUnixNanos(1795348800000000001),
                .end = absl::FromUnixNanos(1795348800005000001),
                .attributes = {{"messaging.system", std::string("kafka")},
                               {"messaging.kafka.offset", int64_t{42}},
                               {"choreo.dead_lettered", true},
                               {"text", std::string("quote \" and \\")}},
                .error = true,
                .status_message = "boom"};
  const std::string json = OtlpTracesJson("billing", {span});
  EXPECT_NE(json.find(R"("startTimeUnixNano":"1795348800000000001")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("intValue":"42")"), std::string::npos) << "int64 as a string";
  EXPECT_NE(json.find(R"("kind":5)"), std::string::npos);
  EXPECT_NE(json.find(R"("status":{"code":2,"message":"boom"})"), std::string::npos);
  absl::StatusOr<std::vector<testing::ReceivedSpan>> parsed = testing::ParseOtlpSpans(json);
  ASSERT_TRUE(parsed.ok()) << json;
  ASSERT_EQ(parsed->size(), 1u);
  const testing::ReceivedSpan& got = parsed->front();
  EXPECT_EQ(got.service, "billing");
  EXPECT_EQ(got.trace_id, span.trace_id);
  EXPECT_EQ(got.span_id, span.span_id);
  EXPECT_EQ(got.parent_span_id, span.parent_span_id);
  EXPECT_EQ(got.attributes.at("choreo.dead_lettered"), "true");
  EXPECT_EQ(got.attributes.at("text"), "quote \" and \\");
  EXPECT_EQ(got.status_code, 2);
}

TEST(TracingTest, ASpanContinuesItsParentsTraceAndIsExported) {
  testing::HttpReceiver collector;
  ASSERT_TRUE(collector.Start().ok());
  OtlpHttpExporter exporter({.endpoint = collector.url("/v1/traces"), .service = "order"});
  Tracer tracer(&exporter);
  std::string child_context;
  {
    Span span = tracer.StartSpan("send orders.created", SpanKind::kProducer, kParent,
                                 {{"messaging.system", std::string("kafka")}});
    child_context = span.traceparent();
    EXPECT_TRUE(ids::IsValidTraceparent(child_context));
    EXPECT_EQ(ids::TraceIdOf(child_context), ids::TraceIdOf(kParent));
    EXPECT_NE(ids::SpanIdOf(child_context), ids::SpanIdOf(kParent));
    Span root = tracer.StartSpan("root", SpanKind::kInternal, "not a traceparent");
    EXPECT_NE(root.trace_id(), ids::TraceIdOf(kParent)) << "a malformed parent starts a new trace";
  }  // both end here
  exporter.Stop();
  const std::vector<testing::ReceivedSpan> spans = AllSpans(collector);
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(exporter.exported(), 2u);
  const testing::ReceivedSpan& send = spans[0].name == "send orders.created" ? spans[0] : spans[1];
  EXPECT_EQ(send.service, "order");
  EXPECT_EQ(send.kind, static_cast<int>(SpanKind::kProducer));
  EXPECT_EQ(send.trace_id, ids::TraceIdOf(kParent));
  EXPECT_EQ(send.parent_span_id, ids::SpanIdOf(kParent));
  EXPECT_EQ(send.span_id, ids::SpanIdOf(child_context));
  EXPECT_EQ(send.attributes.at("messaging.system"), "kafka");
}

TEST(TracingTest, AnUnsampledTraceIsPropagatedButNotRecorded) {
  testing::HttpReceiver collector;
  ASSERT_TRUE(collector.Start().ok());
  OtlpHttpExporter exporter({.endpoint = collector.url("/v1/traces"), .service = "order"});
  Tracer tracer(&exporter);
  const std::string unsampled = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";
  {
    Span span = tracer.StartSpan("process x", SpanKind::kConsumer, unsampled);
    EXPECT_EQ(span.trace_id(), ids::TraceIdOf(unsampled));
    EXPECT_FALSE(ids::IsSampled(span.traceparent()));
  }
  exporter.Stop();
  EXPECT_EQ(exporter.exported(), 0u);
  EXPECT_TRUE(collector.requests().empty());
  // Without an exporter, context still propagates.
  Span span = NoopTracer().StartSpan("x", SpanKind::kInternal, kParent);
  EXPECT_EQ(span.trace_id(), ids::TraceIdOf(kParent));
}

TEST(TracingTest, AFullQueueDropsAndCountsInsteadOfBlocking) {
  testing::HttpReceiver collector;
  ASSERT_TRUE(collector.Start().ok());
  // A long interval and a large batch: nothing leaves the queue until Stop.
  OtlpHttpExporter exporter({.endpoint = collector.url("/v1/traces"),
                             .service = "order",
                             .max_queue = 3,
                             .max_batch = 100,
                             .interval = absl::Seconds(60)});
  Tracer tracer(&exporter);
  const absl::Time start = absl::Now();
  for (int i = 0; i < 10; ++i) tracer.StartSpan("s", SpanKind::kInternal, kParent).End();
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  EXPECT_EQ(exporter.dropped(), 7u);
  exporter.Stop();  // sends what it holds
  EXPECT_EQ(exporter.exported(), 3u);
  EXPECT_EQ(AllSpans(collector).size(), 3u);
}

TEST(TracingTest, BatchesOfAFullQueueLeaveWithoutWaitingForTheInterval) {
  testing::HttpReceiver collector;
  ASSERT_TRUE(collector.Start().ok());
  OtlpHttpExporter exporter({.endpoint = collector.url("/v1/traces"),
                             .service = "order",
                             .max_batch = 4,
                             .interval = absl::Seconds(60)});
  Tracer tracer(&exporter);
  for (int i = 0; i < 8; ++i) tracer.StartSpan("s", SpanKind::kInternal, kParent).End();
  ASSERT_TRUE(collector.WaitForRequests(2, absl::Seconds(10)));
  EXPECT_EQ(AllSpans(collector).size(), 8u);
  exporter.Stop();
}

TEST(TracingTest, ARefusingCollectorCountsFailedSpans) {
  testing::HttpReceiver collector;
  ASSERT_TRUE(collector.Start().ok());
  collector.RespondWith({503});
  OtlpHttpExporter exporter({.endpoint = collector.url("/v1/traces"), .service = "order"});
  Tracer tracer(&exporter);
  tracer.StartSpan("s", SpanKind::kInternal, kParent).End();
  tracer.StartSpan("s", SpanKind::kInternal, kParent).End();
  exporter.Stop();
  EXPECT_EQ(exporter.failed() + exporter.exported(), 2u);
  EXPECT_GE(exporter.failed(), 1u);
}

TEST(TracingTest, MessagingAttributesFollowTheConventions) {
  KafkaRecord record{.topic = "orders.created", .partition = 2, .offset = 7, .key = "alice"};
  record.headers = {{"ce_id", "e-1"}, {"ce_correlationid", "c-1"}, {"ce_type", "choreo.orders.v1.OrderCreated"}};
  std::map<std::string, std::string> attributes;
  for (const auto& [key, value] : ProcessAttributes(record, "choreo-billing")) {
    attributes[key] = std::holds_alternative<std::string>(value)
                          ? std::get<std::string>(value)
                          : std::to_string(std::get<int64_t>(value));
  }
  EXPECT_EQ(attributes["messaging.system"], "kafka");
  EXPECT_EQ(attributes["messaging.destination.name"], "orders.created");
  EXPECT_EQ(attributes["messaging.destination.partition.id"], "2");
  EXPECT_EQ(attributes["messaging.kafka.offset"], "7");
  EXPECT_EQ(attributes["messaging.kafka.message.key"], "alice");
  EXPECT_EQ(attributes["messaging.consumer.group.name"], "choreo-billing");
  EXPECT_EQ(attributes["messaging.message.id"], "e-1");
  EXPECT_EQ(attributes["messaging.message.conversation_id"], "c-1");
  const Attributes rpc = RpcAttributes("choreo.orders.v1.OrderAdmin", "GetOrder");
  EXPECT_EQ(std::get<std::string>(rpc[1].second), "choreo.orders.v1.OrderAdmin");
  EXPECT_EQ(std::get<std::string>(rpc[2].second), "GetOrder");
}

}  // namespace
}  // namespace choreo::tracing
