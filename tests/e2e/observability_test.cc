// Following one correlation id everywhere, against the whole system as processes: one order is
// one connected trace (exported as OTLP/HTTP JSON to a receiver standing in for a collector)
// spanning the gateway, order, billing and notification; its saga timeline as JSON and as a web
// page rendered in headless Chromium; /metrics, /healthz and /readyz on every process;
// grpc.health.v1 following readiness; JSON log lines carrying the saga's ids.

#include <filesystem>
#include <fstream>
#include <set>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "choreo/gateway/v1/gateway.grpc.pb.h"
#include "choreo/orders/v1/admin.grpc.pb.h"
#include "contracts/topics/topics.h"
#include "edges/kafka/kafka_client.h"
#include "edges/kafka/kafka_producer.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "platform/ids/trace_context.h"
#include "testing/child_process.h"
#include "testing/http_client.h"
#include "testing/http_receiver.h"
#include "testing/otlp_spans.h"
#include "testing/wait.h"
#include "tests/e2e/system.h"

namespace choreo::e2e {
namespace {

using testing::HttpResult;
using testing::ReceivedSpan;
using ::testing::HasSubstr;

const std::vector<std::string> kServices = {"gateway", "order", "billing", "users", "notification"};

class ObservabilityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    collector_ = new testing::HttpReceiver();
    ASSERT_TRUE(collector_->Start().ok());
    system_ = new LocalSystem(Binaries::Built(), {.order_flags = {"--log-level", "debug"},
                                                  .otlp_endpoint = collector_->url("/v1/traces")});
    const absl::Status started = system_->Start();
    ASSERT_TRUE(started.ok()) << started;
    {
      const absl::Status ready = system_->WaitAllReady(absl::Seconds(60));
      ASSERT_TRUE(ready.ok()) << ready;
    }
    users_ = new TestUsers(system_->gateway());
    ASSERT_TRUE(users_->SignUpFunded("olga", 100000).ok());
    ASSERT_TRUE(users_->SignUp("peeper").ok());
    // One order whose trace the client starts.
    absl::BitGen random;
    trace_id_ = ids::RandomHex(random, 16);
    client_span_ = ids::RandomHex(random, 8);
    auto orders = gateway::v1::OrderService::NewStub(
        grpc::CreateChannel(system_->gateway(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    users_->Authorize("olga", context);
    context.AddMetadata("traceparent", absl::StrCat("00-", trace_id_, "-", client_span_, "-01"));
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    order_ = new gateway::v1::Order();
    const grpc::Status created = orders->CreateOrder(&context, OrderRequest("traced-1"), order_);
    ASSERT_TRUE(created.ok()) << created.error_message();
    ASSERT_EQ(order_->status(), orders::v1::ORDER_STATUS_PAID);
  }
  static void TearDownTestSuite() {
    delete users_;
    delete system_;
    delete collector_;
    delete order_;
  }

  // Every span of the order's trace received so far.
  static std::vector<ReceivedSpan> TraceSpans() {
    std::vector<ReceivedSpan> spans;
    for (const auto& request : collector_->requests()) {
      absl::StatusOr<std::vector<ReceivedSpan>> parsed = testing::ParseOtlpSpans(request.body);
      EXPECT_TRUE(parsed.ok()) << request.body;
      if (!parsed.ok()) continue;
      for (ReceivedSpan& span : *parsed) {
        if (span.trace_id == trace_id_) spans.push_back(std::move(span));
      }
    }
    return spans;
  }

  HttpResult Get(const std::string& target, const std::string& user) {
    std::vector<std::string> headers;
    if (!user.empty()) headers.push_back("Authorization: Bearer " + users_->Token(user));
    return http_.Call("GET", system_->gateway_http() + target, "", {.headers = headers});
  }

  static google::protobuf::Struct Json(const std::string& body) {
    google::protobuf::Struct parsed;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(body, &parsed).ok()) << body;
    return parsed;
  }

  // The order's timeline once it holds every hop through NotificationSent.
  gateway::v1::SagaTimeline CompleteTimeline(const std::string& target) {
    gateway::v1::SagaTimeline timeline;
    HttpResult last;
    EXPECT_TRUE(testing::WaitUntil(
        [&] {
          last = Get(target, "olga");
          if (last.status != 200) return false;
          timeline.Clear();
          if (!google::protobuf::util::JsonStringToMessage(last.body, &timeline).ok()) return false;
          for (const auto& hop : timeline.hops()) {
            if (hop.event_type() == "choreo.notifications.v1.NotificationSent") return true;
          }
          return false;
        },
        absl::Seconds(30)))
        << last.status << " " << last.body;
    return timeline;
  }

  static LocalSystem* system_;
  static testing::HttpReceiver* collector_;
  static TestUsers* users_;
  static gateway::v1::Order* order_;
  static std::string trace_id_, client_span_;
  testing::HttpClient http_;
};

LocalSystem* ObservabilityTest::system_ = nullptr;
testing::HttpReceiver* ObservabilityTest::collector_ = nullptr;
TestUsers* ObservabilityTest::users_ = nullptr;
gateway::v1::Order* ObservabilityTest::order_ = nullptr;
std::string ObservabilityTest::trace_id_;
std::string ObservabilityTest::client_span_;

TEST_F(ObservabilityTest, OneOrderIsOneConnectedTraceAcrossTheServices) {
  std::vector<ReceivedSpan> spans;
  auto named = [&](const std::string& service, const std::string& name) -> const ReceivedSpan* {
    for (const ReceivedSpan& span : spans) {
      if (span.service == service && span.name == name) return &span;
    }
    return nullptr;
  };
  // The saga's hops, each "process" a child of the "send" that produced its record.
  const std::vector<std::tuple<std::string, std::string, std::string>> hops = {
      {"gateway", "order", "orders.requests"},
      {"order", "billing", "orders.created"},
      {"billing", "order", "billing.payments"},
      {"order", "notification", "orders.status"},
      {"order", "gateway", "orders.status"},
      {"notification", "notification", "notifications.requested"}};
  // Each process exports its spans in its own batches: wait for every hop's pair and the last.
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        spans = TraceSpans();
        for (const auto& [producer, consumer, topic] : hops) {
          if (named(producer, "send " + topic) == nullptr ||
              named(consumer, "process " + topic) == nullptr) {
            return false;
          }
        }
        return named("notification", "send notifications.sent") != nullptr;
      },
      absl::Seconds(30)))
      << spans.size() << " spans so far";
  // Connected: one root, the gateway's server span, a child of the client's span; every other
  // span's parent is a span of the trace.
  std::set<std::string> ids;
  for (const ReceivedSpan& span : spans) ids.insert(span.span_id);
  std::set<std::string> services;
  int roots = 0;
  for (const ReceivedSpan& span : spans) {
    services.insert(span.service);
    if (span.parent_span_id == client_span_) {
      ++roots;
      EXPECT_EQ(span.service, "gateway");
      EXPECT_EQ(span.name, "choreo.gateway.v1.OrderService/CreateOrder");
      EXPECT_EQ(span.kind, 2);
      EXPECT_EQ(span.attributes.at("rpc.system"), "grpc");
      EXPECT_EQ(span.attributes.at("rpc.grpc.status_code"), "0");
    } else {
      EXPECT_TRUE(ids.contains(span.parent_span_id))
          << span.service << " " << span.name << " has a parent outside the trace";
    }
  }
  EXPECT_EQ(roots, 1);
  EXPECT_THAT(services, ::testing::IsSupersetOf({"gateway", "order", "billing", "notification"}));

  for (const auto& [producer, consumer, topic] : hops) {
    const ReceivedSpan* send = named(producer, "send " + topic);
    const ReceivedSpan* process = named(consumer, "process " + topic);
    ASSERT_NE(send, nullptr) << producer << " send " << topic;
    ASSERT_NE(process, nullptr) << consumer << " process " << topic;
    EXPECT_EQ(send->kind, 4);
    EXPECT_EQ(process->kind, 5);
    EXPECT_EQ(process->parent_span_id, send->span_id) << topic;
    EXPECT_EQ(process->attributes.at("messaging.system"), "kafka");
    EXPECT_EQ(process->attributes.at("messaging.destination.name"), topic);
    EXPECT_EQ(process->attributes.at("messaging.message.conversation_id"), order_->correlation_id());
    EXPECT_EQ(process->attributes.at("messaging.message.id"), send->attributes.at("messaging.message.id"));
    EXPECT_FALSE(process->attributes.at("messaging.destination.partition.id").empty());
    EXPECT_FALSE(process->attributes.at("messaging.kafka.offset").empty());
    EXPECT_FALSE(process->attributes.at("messaging.consumer.group.name").empty());
    EXPECT_FALSE(process->attributes.at("messaging.kafka.message.key").empty());
  }
}

TEST_F(ObservabilityTest, TheSagaTimelineIsServedAsJson) {
  const gateway::v1::SagaTimeline timeline =
      CompleteTimeline("/v1/orders/" + order_->order_id() + "/timeline");
  EXPECT_EQ(timeline.correlation_id(), order_->correlation_id());
  EXPECT_EQ(timeline.order_id(), order_->order_id());
  EXPECT_EQ(timeline.username(), "olga");
  EXPECT_EQ(timeline.status(), orders::v1::ORDER_STATUS_PAID);
  std::vector<std::string> types;
  for (const gateway::v1::SagaHop& hop : timeline.hops()) {
    types.push_back(hop.event_type());
    EXPECT_EQ(hop.trace_id(), trace_id_);
    EXPECT_EQ(hop.status(), "ok");
    EXPECT_FALSE(hop.topic().empty());
    EXPECT_GE(hop.offset(), 0);
    if (!hop.causation_id().empty()) {
      EXPECT_TRUE(hop.has_since_cause()) << hop.event_type();
    }
  }
  EXPECT_THAT(types, ::testing::IsSupersetOf(
                         {"choreo.orders.v1.OrderCreationRequested", "choreo.orders.v1.OrderCreated",
                          "choreo.billing.v1.PaymentProcessed", "choreo.orders.v1.OrderStatusUpdated",
                          "choreo.notifications.v1.NotificationRequested",
                          "choreo.notifications.v1.NotificationSent"}));
  EXPECT_EQ(types.front(), "choreo.orders.v1.OrderCreationRequested");

  // By correlation id: the same saga.
  const HttpResult by_id = Get("/v1/sagas/" + order_->correlation_id(), "olga");
  ASSERT_EQ(by_id.status, 200) << by_id.body;
  EXPECT_THAT(by_id.body, HasSubstr(R"("sinceCause":")"));
  // The user's recent sagas include it.
  const HttpResult mine = Get("/v1/sagas?pageSize=5", "olga");
  ASSERT_EQ(mine.status, 200) << mine.body;
  EXPECT_THAT(mine.body, HasSubstr(order_->correlation_id()));
  // Nobody else sees it; without a token, 401.
  EXPECT_EQ(Get("/v1/sagas/" + order_->correlation_id(), "peeper").status, 404);
  EXPECT_EQ(Get("/v1/orders/" + order_->order_id() + "/timeline", "peeper").status, 404);
  EXPECT_THAT(Get("/v1/sagas", "peeper").body, ::testing::Not(HasSubstr(order_->correlation_id())));
  EXPECT_EQ(Get("/v1/sagas/" + order_->correlation_id(), "").status, 401);
}

TEST_F(ObservabilityTest, ADeadLetteredRecordIsHighlightedOnItsSagasTimeline) {
  // A record of another major version of OrderCreated, in olga's saga: billing cannot read it
  // and dead-letters it.
  absl::StatusOr<std::unique_ptr<kafka::KafkaProducer>> producer =
      kafka::KafkaProducer::Create(kafka::ProducerDefaults(system_->kafka()));
  ASSERT_TRUE(producer.ok());
  KafkaRecord record{.topic = std::string(topics::kOrdersCreated), .key = "olga", .value = "v2 bytes"};
  record.headers = {{"ce_specversion", "1.0"},
                    {"ce_id", "0123456789abcdef0123456789abcdef"},
                    {"ce_type", "choreo.orders.v2.OrderCreated"},
                    {"ce_source", "/choreo/order"},
                    {"ce_time", absl::FormatTime(absl::RFC3339_full, absl::Now(), absl::UTCTimeZone())},
                    {"ce_correlationid", order_->correlation_id()},
                    {"content-type", "application/protobuf"}};
  ASSERT_TRUE((*producer)->ProduceAndWait(record, absl::Seconds(10)).ok());
  gateway::v1::SagaTimeline timeline;
  HttpResult last;
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        last = Get("/v1/sagas/" + order_->correlation_id(), "olga");
        timeline.Clear();
        if (last.status != 200 || !google::protobuf::util::JsonStringToMessage(last.body, &timeline).ok()) {
          return false;
        }
        for (const auto& hop : timeline.hops()) {
          if (hop.status() == "dead_lettered") return true;
        }
        return false;
      },
      absl::Seconds(30)))
      << last.body;
  gateway::v1::SagaHop dead;
  for (const auto& hop : timeline.hops()) {
    if (hop.status() == "dead_lettered") dead = hop;
  }
  EXPECT_EQ(dead.topic(), "dlq.billing");
  EXPECT_EQ(dead.service(), "billing");
  EXPECT_THAT(dead.error(), HasSubstr("unsupported_major_version"));
  EXPECT_EQ(dead.event_id(), "0123456789abcdef0123456789abcdef");
  // And billing counted it.
  EXPECT_TRUE(testing::WaitUntil(
      [&] {
        return absl::StrContains(
            testing::HttpCall("GET", system_->admin("billing") + "/metrics").body,
            R"(choreo_events_dead_lettered_total{reason="unsupported_major_version",topic="orders.created",type="choreo.orders.v2.OrderCreated"} 1)");
      },
      absl::Seconds(10)));
}

TEST_F(ObservabilityTest, EveryProcessServesMetricsHealthAndReadiness) {
  // A health check on each, so every process has served a gRPC call.
  for (const std::string& process : kServices) {
    auto health = grpc::health::v1::Health::NewStub(
        process == "gateway"
            ? grpc::CreateChannel(system_->gateway(), grpc::InsecureChannelCredentials())
            : system_->ChannelTo(process));
    grpc::ClientContext context;
    grpc::health::v1::HealthCheckResponse response;
    ASSERT_TRUE(health->Check(&context, {}, &response).ok()) << process;
    EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING) << process;
  }
  const std::vector<std::string> everywhere = {
      R"(grpc_server_handled_total{grpc_code="OK",grpc_method="Check",grpc_service="grpc.health.v1.Health",grpc_type="unary"})",
      "# TYPE grpc_server_handling_seconds histogram",
      "choreo_redis_command_duration_seconds_bucket{command=",
      "# TYPE choreo_kafka_consumer_lag gauge",
      "choreo_trace_spans_exported_total",
      "choreo_trace_spans_dropped_total 0"};
  const std::map<std::string, std::vector<std::string>> specific = {
      {"gateway",
       {R"(choreo_sagas_completed_total{outcome="paid"})", R"(choreo_saga_duration_seconds_bucket{outcome="paid",le=)",
        R"(grpc_server_handled_total{grpc_code="OK",grpc_method="CreateOrder",grpc_service="choreo.gateway.v1.OrderService",grpc_type="unary"} 1)",
        R"(choreo_timeline_records_total{outcome="indexed",topic="orders.created"})",
        R"(choreo_kafka_consumer_lag{group="choreo-timeline")"}},
      {"order",
       {R"(choreo_events_consumed_total{outcome="handled",topic="orders.requests",type="choreo.orders.v1.OrderCreationRequested"})",
        R"(choreo_events_produced_total{topic="orders.created",type="choreo.orders.v1.OrderCreated"})",
        R"(choreo_event_handling_seconds_bucket{topic="billing.payments",type="choreo.billing.v1.PaymentProcessed",le=)",
        R"(choreo_kafka_consumer_lag{group="choreo-order",topic="orders.requests")"}},
      {"billing",
       {R"(choreo_events_consumed_total{outcome="handled",topic="orders.created",type="choreo.orders.v1.OrderCreated"})",
        R"(choreo_events_produced_total{topic="billing.payments",type="choreo.billing.v1.PaymentProcessed"})",
        "choreo_event_queue_seconds_bucket{topic=\"orders.created\""}},
      {"users", {R"(choreo_events_produced_total{topic="users.registered",type="choreo.users.v1.UserRegistered"})"}},
      {"notification",
       {R"(choreo_events_consumed_total{outcome="handled",topic="orders.status",type="choreo.orders.v1.OrderStatusUpdated"})",
        R"(choreo_events_produced_total{topic="notifications.sent",type="choreo.notifications.v1.NotificationSent"})"}}};
  std::string every_text;
  for (const std::string& process : kServices) {
    std::string text;
    const bool complete = testing::WaitUntil(
        [&] {
          const HttpResult metrics = testing::HttpCall("GET", system_->admin(process) + "/metrics");
          if (metrics.status != 200) return false;
          text = metrics.body;
          for (const auto& wanted : {everywhere, specific.at(process)}) {
            for (const std::string& line : wanted) {
              if (!absl::StrContains(text, line)) return false;
            }
          }
          return true;
        },
        absl::Seconds(15));
    for (const auto& wanted : {everywhere, specific.at(process)}) {
      for (const std::string& line : wanted) {
        EXPECT_TRUE(absl::StrContains(text, line)) << process << " /metrics lacks " << line;
      }
    }
    EXPECT_TRUE(complete) << process;
    every_text += text;
    EXPECT_EQ(testing::HttpCall("GET", system_->admin(process) + "/healthz").status, 200) << process;
    const HttpResult ready = testing::HttpCall("GET", system_->admin(process) + "/readyz");
    EXPECT_EQ(ready.status, 200) << process << ready.body;
    EXPECT_THAT(ready.body, HasSubstr(R"("name":"redis","ok":true)")) << process;
    EXPECT_THAT(ready.body, HasSubstr(R"("name":"consumer choreo-)")) << process;
  }
  // The Grafana dashboard asks only for metrics some process serves.
  std::ifstream dashboard_file(CHOREO_DASHBOARD);
  const std::string dashboard((std::istreambuf_iterator<char>(dashboard_file)),
                              std::istreambuf_iterator<char>());
  std::set<std::string> asked;
  for (absl::string_view rest = dashboard; !rest.empty();) {
    size_t at = std::min(rest.find("choreo_"), rest.find("grpc_server_"));
    if (at == absl::string_view::npos) break;
    size_t end = at;
    while (end < rest.size() && (absl::ascii_isalnum(rest[end]) || rest[end] == '_')) ++end;
    std::string name(rest.substr(at, end - at));
    for (absl::string_view suffix : {"_bucket", "_count", "_sum"}) {
      if (absl::EndsWith(name, suffix)) name.resize(name.size() - suffix.size());
    }
    asked.insert(name);
    rest.remove_prefix(end);
  }
  EXPECT_GE(asked.size(), 12u);
  // prometheus-cpp shows a family once it has a child: nothing has failed or been dead-lettered
  // in this test (MetricsTest checks those families' names).
  asked.erase("choreo_events_failed_total");
  asked.erase("choreo_events_dead_lettered_total");
  for (const std::string& name : asked) {
    EXPECT_TRUE(absl::StrContains(every_text, "# TYPE " + name + " "))
        << "the dashboard asks for " << name << ", which no process serves";
  }
}

TEST_F(ObservabilityTest, LogsAreJsonLinesCarryingTheSagasIds) {
  // The lines about the order, once there are two (--log-level debug: a line per record the order
  // service finished, the request and the payment). The payment's line is written after its
  // effect, which may be after the client got its answer: wait for it.
  std::vector<google::protobuf::Struct> about_the_order;
  int lines = 0;
  auto read = [&] {
    about_the_order.clear();
    lines = 0;
    std::ifstream log(system_->LogOf("order"));
    std::string line;
    while (std::getline(log, line)) {
      if (line.empty()) continue;
      ++lines;
      google::protobuf::Struct parsed = Json(line);
      EXPECT_TRUE(parsed.fields().contains("ts") && parsed.fields().contains("level") &&
                  parsed.fields().contains("msg"))
          << line;
      EXPECT_EQ(parsed.fields().at("service").string_value(), "order") << line;
      auto correlation = parsed.fields().find("correlation_id");
      if (correlation != parsed.fields().end() &&
          correlation->second.string_value() == order_->correlation_id()) {
        about_the_order.push_back(parsed);
      }
    }
    return about_the_order.size() >= 2;
  };
  EXPECT_TRUE(testing::WaitUntil(read, absl::Seconds(10)));
  EXPECT_GT(lines, 3);
  EXPECT_GE(about_the_order.size(), 2u);
  for (const google::protobuf::Struct& parsed : about_the_order) {
    EXPECT_EQ(parsed.fields().at("trace_id").string_value(), trace_id_);
    EXPECT_EQ(parsed.fields().at("event_id").string_value().size(), 32u);
  }
  // The other services log at info: no per-record lines.
  std::ifstream billing(system_->LogOf("billing"));
  std::string all((std::istreambuf_iterator<char>(billing)), std::istreambuf_iterator<char>());
  EXPECT_THAT(all, ::testing::Not(HasSubstr(R"("msg":"record done")")));
}

TEST_F(ObservabilityTest, TheTimelinePageRendersTheSagaInChromium) {
  CompleteTimeline("/v1/sagas/" + order_->correlation_id());
  // Only its own inline script and style run, and never in another site's frame: Chromium below
  // runs the page under this policy, so a script the policy does not name would not load.
  const HttpResult page = testing::HttpCall("GET", system_->gateway_http() + "/timeline");
  EXPECT_THAT(page.Header("content-security-policy"), HasSubstr("script-src 'sha256-"));
  EXPECT_THAT(page.Header("content-security-policy"), HasSubstr("frame-ancestors 'none'"));
  EXPECT_EQ(page.Header("x-frame-options"), "DENY");
  EXPECT_EQ(page.Header("x-content-type-options"), "nosniff");
  const std::string url = absl::StrCat(system_->gateway_http(), "/timeline?order_id=", order_->order_id(),
                                       "#token=", users_->Token("olga"));
  const std::string artifacts = CHOREO_ARTIFACT_DIR;
  std::filesystem::create_directories(artifacts);
  const std::string dom_path = artifacts + "/timeline.dom.html";
  const std::string screenshot = artifacts + "/timeline.png";
  std::filesystem::remove(screenshot);
  const std::vector<std::string> headless = {"chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
                                             "--disable-dev-shm-usage", "--hide-scrollbars",
                                             "--virtual-time-budget=5000", "--window-size=1280,900"};
  auto run = [&](std::vector<std::string> extra, const std::string& output) {
    std::vector<std::string> argv = headless;
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(url);
    absl::StatusOr<testing::ChildProcess> chromium =
        testing::ChildProcess::Start({.argv = argv, .log_path = output});
    ASSERT_TRUE(chromium.ok()) << chromium.status() << " (is Debian's chromium installed?)";
    absl::StatusOr<int> exit = chromium->Wait(absl::Seconds(90));
    ASSERT_TRUE(exit.ok()) << exit.status();
    EXPECT_EQ(*exit, 0) << "see " << output;
  };
  std::filesystem::remove(dom_path);
  run({"--dump-dom"}, dom_path);
  std::ifstream dom_file(dom_path);
  const std::string dom((std::istreambuf_iterator<char>(dom_file)), std::istreambuf_iterator<char>());
  EXPECT_THAT(dom, HasSubstr(R"(data-loaded="true")")) << dom_path;
  EXPECT_THAT(dom, HasSubstr(R"(id="saga-status")"));
  EXPECT_THAT(dom, HasSubstr(R"(data-status="ORDER_STATUS_PAID")"));
  EXPECT_THAT(dom, HasSubstr(order_->correlation_id()));
  for (const char* type : {"choreo.orders.v1.OrderCreationRequested", "choreo.orders.v1.OrderCreated",
                           "choreo.billing.v1.PaymentProcessed", "choreo.orders.v1.OrderStatusUpdated",
                           "choreo.notifications.v1.NotificationSent"}) {
    EXPECT_THAT(dom, HasSubstr(absl::StrCat(R"(data-event-type=")", type, R"(")"))) << type;
  }
  int rows = 0;
  for (size_t at = dom.find(R"(class="hop)"); at != std::string::npos; at = dom.find(R"(class="hop)", at + 1)) ++rows;
  EXPECT_GE(rows, 6) << dom_path;

  run({"--screenshot=" + screenshot}, artifacts + "/chromium.log");
  std::ifstream png(screenshot, std::ios::binary);
  const std::string image((std::istreambuf_iterator<char>(png)), std::istreambuf_iterator<char>());
  ASSERT_GT(image.size(), 10000u) << screenshot;
  EXPECT_EQ(image.substr(1, 3), "PNG");
  std::cerr << "timeline screenshot: " << screenshot << "\n";
}

// Last: it takes Redis away from everyone. The mTLS server's health and the probes' plaintext
// one (--health-listen: Kubernetes' gRPC probes) follow readiness; the probes' "liveness" does not.
TEST_F(ObservabilityTest, ZReadinessFollowsRedis) {
  using Status = grpc::health::v1::HealthCheckResponse;
  auto check = [](grpc::health::v1::Health::Stub& health, const std::string& service) {
    grpc::ClientContext context;
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    grpc::health::v1::HealthCheckResponse response;
    return health.Check(&context, request, &response).ok() ? response.status() : Status::UNKNOWN;
  };
  auto health = grpc::health::v1::Health::NewStub(system_->ChannelTo("order"));
  std::shared_ptr<grpc::Channel> probe_channel =
      grpc::CreateChannel(system_->health("order"), grpc::InsecureChannelCredentials());
  auto probe = grpc::health::v1::Health::NewStub(probe_channel);
  auto status = [&] { return check(*health, ""); };
  auto probe_ready = [&] { return check(*probe, ""); };
  auto probe_alive = [&] { return check(*probe, "liveness"); };
  ASSERT_EQ(status(), Status::SERVING);
  EXPECT_EQ(probe_ready(), Status::SERVING);
  EXPECT_EQ(probe_alive(), Status::SERVING);
  {  // The probes' port serves health alone, to anyone: no admin API without a certificate.
    auto admin = orders::v1::OrderAdmin::NewStub(probe_channel);
    grpc::ClientContext context;
    orders::v1::ListCatalogResponse catalog;
    EXPECT_EQ(admin->ListCatalog(&context, {}, &catalog).error_code(),
              grpc::StatusCode::UNIMPLEMENTED);
  }
  ASSERT_TRUE(system_->redis_server().Stop().ok());
  HttpResult ready;
  EXPECT_TRUE(testing::WaitUntil(
      [&] {
        ready = testing::HttpCall("GET", system_->admin("order") + "/readyz");
        return ready.status == 503;
      },
      absl::Seconds(15)));
  EXPECT_THAT(ready.body, HasSubstr(R"("name":"redis","ok":false)"));
  EXPECT_EQ(testing::HttpCall("GET", system_->admin("order") + "/healthz").status, 200) << "alive";
  EXPECT_TRUE(
      testing::WaitUntil([&] { return status() == Status::NOT_SERVING; }, absl::Seconds(15)));
  EXPECT_TRUE(
      testing::WaitUntil([&] { return probe_ready() == Status::NOT_SERVING; }, absl::Seconds(15)));
  EXPECT_EQ(probe_alive(), Status::SERVING) << "a Redis outage is no reason to restart the process";
  ASSERT_TRUE(system_->redis_server().Restart().ok());
  EXPECT_TRUE(system_->WaitReady("order", absl::Seconds(30)).ok());
  EXPECT_TRUE(testing::WaitUntil([&] { return status() == Status::SERVING; }, absl::Seconds(15)));
  EXPECT_TRUE(
      testing::WaitUntil([&] { return probe_ready() == Status::SERVING; }, absl::Seconds(15)));
}

}  // namespace
}  // namespace choreo::e2e
