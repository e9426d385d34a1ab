// The tools operators and clients bring, for real, against one running system on Apache Kafka:
// - grpcurl (from the Go module proxy) lists, describes and calls every process through server
//   reflection: the gateway's public port, each service over mutual TLS as "operator", and the
//   probes' plaintext health port (--health-listen) that Kubernetes' gRPC probes call;
// - a Python grpcio client, its stubs generated from proto/, registers, deposits and orders;
// - Jaeger v2, an OpenTelemetry Collector distribution, receives one order's spans from every
//   process on its path over OTLP/HTTP and serves them as one connected trace;
// - Prometheus (Debian's) scrapes every process, evaluates deploy/prometheus/rules.yml, and
//   every query of the Grafana dashboard and every recording rule returns data; every alert
//   rule evaluates without error.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <set>

#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "choreo/gateway/v1/gateway.grpc.pb.h"
#include "contracts/topics/topics.h"
#include "edges/kafka/kafka_producer.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "platform/ids/trace_context.h"
#include "testing/child_process.h"
#include "testing/http_client.h"
#include "testing/jaeger.h"
#include "testing/prometheus.h"
#include "testing/temp_dir.h"
#include "testing/wait.h"
#include "tests/e2e/system.h"

namespace choreo::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::vector<std::string> kProcesses = {"gateway", "order", "billing", "users",
                                             "notification"};
// The processes every order passes through, as they name themselves to the tracing backend.
// The users service joins an order's trace only when the notification service has not yet
// seen the user's profile on users.snapshots and asks for it on users.profile.
const std::set<std::string> kSagaProcesses = {"gateway", "order", "billing", "notification"};

struct Ran {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs `argv` to its end (at most 120 s): its exit code and output.
Ran RunCommand(const std::vector<std::string>& argv) {
  absl::StatusOr<testing::TempDir> dir = testing::TempDir::Create("choreo-run-");
  if (!dir.ok()) return {.output = std::string(dir.status().message())};
  absl::StatusOr<testing::ChildProcess> child =
      testing::ChildProcess::Start({.argv = argv, .log_path = dir->File("out")});
  if (!child.ok()) return {.output = std::string(child.status().message())};
  absl::StatusOr<int> exit = child->Wait(absl::Seconds(120));
  std::ifstream log(dir->File("out"));
  Ran ran{
      .exit_code = exit.ok() ? *exit : -1,
      .output = std::string(std::istreambuf_iterator<char>(log), std::istreambuf_iterator<char>())};
  return ran;
}

std::string Strip(std::string address) {
  absl::string_view view = address;
  absl::ConsumePrefix(&view, "http://");
  return std::string(view);
}

// An operator's flag out of its range stops the gateway at start with the flag named (exit 2),
// before it connects to anything.
TEST(GatewayFlagsTest, ATimelineBatchWindowOutsideZeroToTenSecondsIsRefusedAtStart) {
  const std::string gateway = Binaries::Built().gateway;
  for (const char* window : {"-1s", "11s"}) {
    const Ran ran = RunCommand({gateway, "--kafka-brokers", "127.0.0.1:1", "--redis", "127.0.0.1:1",
                                absl::StrCat("--timeline-batch-window=", window)});
    EXPECT_EQ(ran.exit_code, 2) << window << ": " << ran.output;
    EXPECT_THAT(ran.output, HasSubstr("--timeline-batch-window must be within [0s, 10s]"))
        << window;
  }
}

class OperatorToolsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<testing::Jaeger>> jaeger = testing::Jaeger::Start();
    ASSERT_TRUE(jaeger.ok()) << jaeger.status();
    jaeger_ = jaeger->release();
    system_ = new LocalSystem(Binaries::Built(), {.otlp_endpoint = jaeger_->otlp_traces_url()});
    const absl::Status started = system_->Start();
    ASSERT_TRUE(started.ok()) << started;
    const absl::Status ready = system_->WaitAllReady(absl::Seconds(60));
    ASSERT_TRUE(ready.ok()) << ready;
    users_ = new TestUsers(system_->gateway());
    ASSERT_TRUE(users_->SignUpFunded("olga", 100000).ok());

    testing::Prometheus::Options scrape{.rule_files = {CHOREO_PROMETHEUS_RULES}};
    for (const std::string& process : kProcesses) {
      scrape.jobs["choreo-" + process] = {Strip(system_->admin(process))};
    }
    absl::StatusOr<std::unique_ptr<testing::Prometheus>> prometheus =
        testing::Prometheus::Start(scrape);
    ASSERT_TRUE(prometheus.ok()) << prometheus.status();
    prometheus_ = prometheus->release();
  }
  static void TearDownTestSuite() {
    delete prometheus_;
    delete users_;
    delete system_;
    delete jaeger_;
  }

  // grpcurl against `process`: the gateway's public port in plaintext, a service over mutual
  // TLS with the operator's certificate, expecting the service's name in its certificate.
  static Ran Grpcurl(const std::string& process, std::vector<std::string> args) {
    std::vector<std::string> argv = {CHOREO_GRPCURL};
    std::string address;
    if (process == "gateway") {
      argv.push_back("-plaintext");
      address = system_->gateway();
    } else {
      const testing::LocalPki& pki = system_->pki();
      argv.insert(argv.end(), {"-cacert", pki.ca(), "-cert", pki.cert("operator"), "-key",
                               pki.key("operator"), "-authority", process});
      address = process == "order"     ? system_->order()
                : process == "billing" ? system_->billing()
                : process == "users"   ? system_->users()
                                       : system_->notification();
    }
    // Options first, then the address, then the verb or method and its arguments.
    std::vector<std::string> options, rest;
    for (size_t i = 0; i < args.size(); ++i) {
      if (args[i] == "-d" || args[i] == "-H") {
        options.insert(options.end(), {args[i], args[i + 1]});
        ++i;
      } else {
        rest.push_back(args[i]);
      }
    }
    argv.insert(argv.end(), options.begin(), options.end());
    argv.push_back(address);
    argv.insert(argv.end(), rest.begin(), rest.end());
    return RunCommand(argv);
  }

  // Runs `check` (a grpc.health.v1.Health/Check) until it answers SERVING, for at most 30 s, as
  // a probe with a failure threshold does: readiness follows Redis, Kafka and each consumer
  // group's rebalances, so a single answer may be NOT_SERVING for a second. The last answer,
  // and the process's /readyz (which names the failing check) when it never was SERVING.
  static Ran CheckUntilServing(const std::string& process, const std::function<Ran()>& check) {
    Ran last;
    if (!testing::WaitUntil(
            [&] {
              last = check();
              return last.exit_code == 0 &&
                     absl::StrContains(last.output, R"("status": "SERVING")");
            },
            absl::Seconds(30))) {
      absl::StrAppend(&last.output, "\n/readyz: ",
                      testing::HttpCall("GET", system_->admin(process) + "/readyz").body);
    }
    return last;
  }

  static LocalSystem* system_;
  static TestUsers* users_;
  static testing::Jaeger* jaeger_;
  static testing::Prometheus* prometheus_;
};

LocalSystem* OperatorToolsTest::system_ = nullptr;
TestUsers* OperatorToolsTest::users_ = nullptr;
testing::Jaeger* OperatorToolsTest::jaeger_ = nullptr;
testing::Prometheus* OperatorToolsTest::prometheus_ = nullptr;

TEST_F(OperatorToolsTest, GrpcurlListsDescribesAndCallsEveryProcess) {
  const std::map<std::string, std::vector<std::string>> services = {
      {"gateway",
       {"choreo.gateway.v1.OrderService", "choreo.gateway.v1.AccountService",
        "choreo.gateway.v1.TimelineService"}},
      {"order", {"choreo.orders.v1.OrderAdmin"}},
      {"billing", {"choreo.billing.v1.BillingAdmin"}},
      {"users", {"choreo.users.v1.UserService"}},
      {"notification", {"choreo.notifications.v1.NotificationAdmin"}}};
  for (const auto& [process, names] : services) {
    const Ran listed = Grpcurl(process, {"list"});
    ASSERT_EQ(listed.exit_code, 0) << process << ": " << listed.output;
    EXPECT_THAT(listed.output, HasSubstr("grpc.health.v1.Health")) << process;
    for (const std::string& name : names) {
      EXPECT_THAT(listed.output, HasSubstr(name)) << process;
      const Ran described = Grpcurl(process, {"describe", name});
      EXPECT_EQ(described.exit_code, 0) << process << ": " << described.output;
      EXPECT_THAT(described.output, HasSubstr(" is a service:")) << described.output;
      EXPECT_THAT(described.output, HasSubstr("rpc ")) << described.output;
    }
    const Ran health = CheckUntilServing(
        process, [&] { return Grpcurl(process, {"grpc.health.v1.Health/Check"}); });
    EXPECT_EQ(health.exit_code, 0) << process << ": " << health.output;
    EXPECT_THAT(health.output, HasSubstr(R"("status": "SERVING")"))
        << process << ": " << health.output;
  }

  // Calls: a client's with its token through the gateway, an operator's on each admin API.
  const Ran balance = Grpcurl("gateway", {"-H", "authorization: Bearer " + users_->Token("olga"),
                                          "choreo.gateway.v1.AccountService/GetBalance"});
  EXPECT_EQ(balance.exit_code, 0) << balance.output;
  EXPECT_THAT(balance.output, HasSubstr(R"("username": "olga")"));
  const Ran catalog = Grpcurl("order", {"choreo.orders.v1.OrderAdmin/ListCatalog"});
  EXPECT_EQ(catalog.exit_code, 0) << catalog.output;
  EXPECT_THAT(catalog.output, HasSubstr("PEN-004"));
  const Ran account = Grpcurl(
      "billing", {"-d", R"({"username":"olga"})", "choreo.billing.v1.BillingAdmin/GetBalance"});
  EXPECT_EQ(account.exit_code, 0) << account.output;
  EXPECT_THAT(account.output, HasSubstr(R"("minor_units": "100000")"));
  const Ran inbox =
      Grpcurl("notification", {"-d", R"({"username":"olga"})",
                               "choreo.notifications.v1.NotificationAdmin/ListNotifications"});
  EXPECT_EQ(inbox.exit_code, 0) << inbox.output;
  // The operator may read, never act as a user: the users service takes identities only from
  // the gateway.
  const Ran profile =
      Grpcurl("users", {"-d", R"({"username":"olga"})", "choreo.users.v1.UserService/GetProfile"});
  EXPECT_NE(profile.exit_code, 0);
  EXPECT_THAT(profile.output, HasSubstr("Unauthenticated")) << profile.output;
  EXPECT_THAT(profile.output, HasSubstr("only from the gateway")) << profile.output;
  // Reflection answers any TLS client; an admin API needs a certificate.
  const Ran anonymous = RunCommand(
      {CHOREO_GRPCURL, "-insecure", system_->order(), "choreo.orders.v1.OrderAdmin/ListCatalog"});
  EXPECT_NE(anonymous.exit_code, 0) << anonymous.output;
  EXPECT_THAT(anonymous.output, HasSubstr("Unauthenticated")) << anonymous.output;

  // The probes' port: plaintext, health alone, readiness and liveness.
  for (const std::string& process : kProcesses) {
    const std::string probe = system_->health(process);
    const Ran listed = RunCommand({CHOREO_GRPCURL, "-plaintext", probe, "list"});
    EXPECT_EQ(listed.exit_code, 0) << process << ": " << listed.output;
    EXPECT_THAT(listed.output, HasSubstr("grpc.health.v1.Health"));
    EXPECT_THAT(listed.output, Not(HasSubstr("choreo."))) << process << " serves only health there";
    for (const std::string service : {"", "liveness"}) {
      auto check = [&] {
        return RunCommand({CHOREO_GRPCURL, "-plaintext", "-d",
                           absl::StrCat(R"({"service":")", service, R"("})"), probe,
                           "grpc.health.v1.Health/Check"});
      };
      // Liveness never follows a dependency: one answer must say SERVING.
      const Ran checked = service == "liveness" ? check() : CheckUntilServing(process, check);
      EXPECT_EQ(checked.exit_code, 0) << process << " " << service << ": " << checked.output;
      EXPECT_THAT(checked.output, HasSubstr(R"("status": "SERVING")")) << process << " " << service;
    }
  }
}

TEST_F(OperatorToolsTest, APythonGrpcioClientRegistersDepositsAndOrders) {
  const Ran ran = RunCommand({CHOREO_PYTHON, CHOREO_PYTHON_CLIENT, "--gateway", system_->gateway(),
                              "--proto-dir", CHOREO_PROTO_DIR, "--user", "pythonista", "--password",
                              TestUsers::kPassword});
  ASSERT_EQ(ran.exit_code, 0) << ran.output;
  // Its last line is its JSON report (protoc's warnings come before it).
  const std::string report = std::string(absl::StripAsciiWhitespace(
      ran.output.substr(ran.output.rfind('{') == std::string::npos ? 0 : ran.output.rfind('{'))));
  google::protobuf::Struct parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(report, &parsed).ok()) << ran.output;
  const auto& fields = parsed.fields();
  EXPECT_EQ(fields.at("status").string_value(), "ORDER_STATUS_PAID") << report;
  EXPECT_EQ(fields.at("total_minor_units").number_value(), 2 * 199) << report;
  EXPECT_EQ(fields.at("balance_before").number_value(), 5000) << report;
  EXPECT_EQ(fields.at("balance_after").number_value(), 5000 - 2 * 199) << report;

  // The order it placed is the user's, as the C++ client sees it.
  ASSERT_TRUE(users_->SignUp("pythonista").ok());
  auto orders = gateway::v1::OrderService::NewStub(
      grpc::CreateChannel(system_->gateway(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  users_->Authorize("pythonista", context);
  gateway::v1::GetOrderRequest request;
  request.set_order_id(fields.at("order_id").string_value());
  gateway::v1::Order order;
  const grpc::Status got = orders->GetOrder(&context, request, &order);
  ASSERT_TRUE(got.ok()) << got.error_message();
  EXPECT_EQ(order.status(), orders::v1::ORDER_STATUS_PAID);
  EXPECT_EQ(order.items(0).sku(), "PEN-004");
}

// What Jaeger's answer to /api/traces/<id> holds: {"data": [{"traceID", "spans": [{"spanID",
// "references": [{"spanID"}]}], "processes": {"p1": {"serviceName"}}}]}.
struct TraceShape {
  std::set<std::string> services;
  size_t traces = 0;
  size_t spans = 0;
  int roots = 0;  // spans without their parent in the trace
  std::string trace_id;
};

TraceShape Shape(const google::protobuf::Struct& body) {
  TraceShape shape;
  const auto& traces = body.fields().at("data").list_value().values();
  shape.traces = static_cast<size_t>(traces.size());
  for (const auto& trace_value : traces) {
    const auto& trace = trace_value.struct_value().fields();
    shape.trace_id = trace.at("traceID").string_value();
    for (const auto& [id, process] : trace.at("processes").struct_value().fields()) {
      shape.services.insert(process.struct_value().fields().at("serviceName").string_value());
    }
    std::set<std::string> span_ids;
    for (const auto& span : trace.at("spans").list_value().values()) {
      span_ids.insert(span.struct_value().fields().at("spanID").string_value());
    }
    shape.spans += span_ids.size();
    for (const auto& span : trace.at("spans").list_value().values()) {
      bool has_parent = false;
      for (const auto& reference :
           span.struct_value().fields().at("references").list_value().values()) {
        has_parent |=
            span_ids.contains(reference.struct_value().fields().at("spanID").string_value());
      }
      if (!has_parent) ++shape.roots;
    }
  }
  return shape;
}

TEST_F(OperatorToolsTest, JaegerReceivesOneOrdersSpansFromEveryProcessOnItsPathAsOneTrace) {
  absl::BitGen random;
  const std::string trace_id = ids::RandomHex(random, 16);
  auto orders = gateway::v1::OrderService::NewStub(
      grpc::CreateChannel(system_->gateway(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  users_->Authorize("olga", context);
  context.AddMetadata("traceparent",
                      absl::StrCat("00-", trace_id, "-", ids::RandomHex(random, 8), "-01"));
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  gateway::v1::Order order;
  const grpc::Status created = orders->CreateOrder(&context, OrderRequest("jaeger-1"), &order);
  ASSERT_TRUE(created.ok()) << created.error_message();

  // Each process exports its spans in batches of its own, so the trace is complete, and
  // connected, only once every batch arrived: wait for that.
  TraceShape seen;
  testing::HttpResult last;
  const bool complete = testing::WaitUntil(
      [&] {
        last = testing::HttpCall("GET", jaeger_->query_url() + "/api/traces/" + trace_id);
        google::protobuf::Struct body;
        if (last.status != 200 ||
            !google::protobuf::util::JsonStringToMessage(last.body, &body).ok()) {
          return false;
        }
        seen = Shape(body);
        const bool only_choreo = std::ranges::all_of(seen.services, [](const std::string& name) {
          return std::ranges::find(kProcesses, name) != kProcesses.end();
        });
        return std::ranges::includes(seen.services, kSagaProcesses) && only_choreo &&
               seen.traces == 1 && seen.roots == 1;
      },
      absl::Seconds(30));
  const std::string found =
      absl::StrCat("services: ", absl::StrJoin(seen.services, ", "), "; traces: ", seen.traces,
                   "; spans: ", seen.spans, "; roots: ", seen.roots, "\n", last.status, " ",
                   last.body.substr(0, 2000));
  // Connected: every span but the gateway's server span (a child of the client's, which is
  // not in Jaeger) has its parent in the trace.
  EXPECT_TRUE(complete) << "want every process on the order's path in one trace with one root; "
                        << found;
  EXPECT_EQ(seen.trace_id, trace_id);
}

// Prometheus's result of `expr`, once it has at least one series (within `timeout`).
::testing::AssertionResult ReturnsData(const testing::Prometheus& prometheus,
                                       const std::string& expr, absl::Duration timeout) {
  std::string last;
  const bool data = testing::WaitUntil(
      [&] {
        absl::StatusOr<google::protobuf::Struct> result = prometheus.Query(expr);
        if (!result.ok()) {
          last = std::string(result.status().message());
          return false;
        }
        const auto& fields = result->fields();
        last = fields.contains("result") ? fields.at("result").DebugString() : "";
        return fields.contains("result") && fields.at("result").list_value().values_size() > 0;
      },
      timeout);
  if (data) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << expr << " returned no data: " << last;
}

TEST_F(OperatorToolsTest, PrometheusScrapesEveryProcessAndEveryDashboardQueryAndRuleReturnsData) {
  // Traffic for every panel: orders, and one dead letter (another major version of an event).
  auto orders = gateway::v1::OrderService::NewStub(
      grpc::CreateChannel(system_->gateway(), grpc::InsecureChannelCredentials()));
  for (int i = 0; i < 3; ++i) {
    grpc::ClientContext context;
    users_->Authorize("olga", context);
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    gateway::v1::Order order;
    const grpc::Status created =
        orders->CreateOrder(&context, OrderRequest(absl::StrCat("scraped-", i)), &order);
    ASSERT_TRUE(created.ok()) << created.error_message();
  }
  absl::StatusOr<std::unique_ptr<kafka::KafkaProducer>> producer =
      kafka::KafkaProducer::Create(kafka::ProducerDefaults(system_->kafka()));
  ASSERT_TRUE(producer.ok());
  KafkaRecord record{.topic = std::string(topics::kOrdersCreated), .key = "olga", .value = "v2"};
  record.headers = {
      {"ce_specversion", "1.0"},
      {"ce_id", "fedcba9876543210fedcba9876543210"},
      {"ce_type", "choreo.orders.v2.OrderCreated"},
      {"ce_source", "/choreo/order"},
      {"ce_time", absl::FormatTime(absl::RFC3339_full, absl::Now(), absl::UTCTimeZone())},
      {"ce_correlationid", "scraped-dead-letter"},
      {"content-type", "application/protobuf"}};
  ASSERT_TRUE((*producer)->ProduceAndWait(record, absl::Seconds(10)).ok());

  // Every process is a target that is up.
  for (const std::string& process : kProcesses) {
    EXPECT_TRUE(ReturnsData(*prometheus_, absl::StrCat(R"(up{job="choreo-)", process, R"("} == 1)"),
                            absl::Seconds(30)));
  }

  // Every query of the Grafana dashboard, its variables given what Grafana would.
  std::ifstream file(CHOREO_DASHBOARD);
  const std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  google::protobuf::Struct dashboard;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(text, &dashboard).ok());
  int queries = 0;
  for (const auto& panel : dashboard.fields().at("panels").list_value().values()) {
    const auto& fields = panel.struct_value().fields();
    if (!fields.contains("targets")) continue;
    for (const auto& target : fields.at("targets").list_value().values()) {
      const std::string expr =
          absl::StrReplaceAll(target.struct_value().fields().at("expr").string_value(),
                              {{"$__rate_interval", "1m"}, {"$__range", "5m"}, {"$job", ".*"}});
      ++queries;
      // Retried attempts exist only once a handler failed transiently (a Redis or Kafka outage,
      // which the fault matrix makes): on this healthy system the query must be valid, and
      // MetricsTest checks the family's name and labels.
      if (absl::StrContains(expr, "choreo_events_failed_total")) {
        EXPECT_TRUE(prometheus_->Query(expr).ok()) << expr;
        continue;
      }
      EXPECT_TRUE(ReturnsData(*prometheus_, expr, absl::Seconds(30)))
          << "panel " << fields.at("title").string_value();
    }
  }
  EXPECT_GE(queries, 20);

  // Every rule: recording rules return data, alert rules evaluate without error.
  absl::StatusOr<google::protobuf::Struct> rules = prometheus_->Api("/api/v1/rules");
  ASSERT_TRUE(rules.ok()) << rules.status();
  int recording = 0, alerting = 0;
  for (const auto& group : rules->fields().at("groups").list_value().values()) {
    for (const auto& rule : group.struct_value().fields().at("rules").list_value().values()) {
      const auto& fields = rule.struct_value().fields();
      const std::string name = fields.at("name").string_value();
      if (fields.at("type").string_value() == "recording") {
        ++recording;
        EXPECT_TRUE(ReturnsData(*prometheus_, name, absl::Seconds(45)));
      } else {
        ++alerting;
      }
    }
  }
  EXPECT_EQ(recording, 7);
  EXPECT_EQ(alerting, 8);
  // Health is known once a group has been evaluated: poll until every rule has been, then none
  // may be in error.
  std::string unhealthy;
  EXPECT_TRUE(testing::WaitUntil(
      [&] {
        rules = prometheus_->Api("/api/v1/rules");
        if (!rules.ok()) return false;
        unhealthy.clear();
        for (const auto& group : rules->fields().at("groups").list_value().values()) {
          for (const auto& rule : group.struct_value().fields().at("rules").list_value().values()) {
            const auto& fields = rule.struct_value().fields();
            if (fields.at("health").string_value() != "ok") {
              absl::StrAppend(&unhealthy, fields.at("name").string_value(), " (",
                              fields.at("health").string_value(), ") ");
            }
          }
        }
        return unhealthy.empty();
      },
      absl::Seconds(45)))
      << unhealthy;
  // The dead letter made on purpose fires its alert (its counter's series was born at 1), and
  // nothing else fires on this healthy system.
  std::set<std::string> firing;
  EXPECT_TRUE(testing::WaitUntil(
      [&] {
        absl::StatusOr<google::protobuf::Struct> alerts = prometheus_->Api("/api/v1/alerts");
        if (!alerts.ok()) return false;
        firing.clear();
        for (const auto& alert : alerts->fields().at("alerts").list_value().values()) {
          const auto& fields = alert.struct_value().fields();
          firing.insert(absl::StrCat(
              fields.at("labels").struct_value().fields().at("alertname").string_value(), " ",
              fields.at("state").string_value()));
        }
        return firing.contains("ChoreoDeadLetters firing");
      },
      absl::Seconds(45)))
      << absl::StrJoin(firing, ", ");
  EXPECT_EQ(firing, std::set<std::string>{"ChoreoDeadLetters firing"});
}

}  // namespace
}  // namespace choreo::e2e
