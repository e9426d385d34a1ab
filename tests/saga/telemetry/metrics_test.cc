#include "platform/metrics/metrics.h"

#include "gtest/gtest.h"
#include "saga/dlq/dead_letter.h"
#include "saga/telemetry/saga_metrics.h"

namespace choreo::telemetry {
namespace {

bool Has(const std::string& text, const std::string& line) {
  return text.find(line) != std::string::npos;
}

TEST(MetricsTest, AFamilyAddsEachChildOnce) {
  prometheus::Registry registry;
  auto& counters =
      prometheus::BuildCounter().Name("choreo_calls_total").Help("Calls.").Register(registry);
  int adds = 0;
  metrics::Family<prometheus::Counter> family(
      {"method", "code"}, [&](const prometheus::Labels& labels) -> prometheus::Counter& {
        ++adds;
        return counters.Add(labels);
      });
  prometheus::Counter& first = family.With({"Get", "OK"});
  EXPECT_EQ(&family.With({"Get", "OK"}), &first);
  EXPECT_EQ(adds, 1);  // found again, not built again
  EXPECT_NE(&family.With({"Get", "NOT_FOUND"}), &first);
  EXPECT_EQ(adds, 2);
  // Values are told apart by their lengths too: ("ab", "c") is not ("a", "bc").
  EXPECT_NE(&family.With({"ab", "c"}), &family.With({"a", "bc"}));
  EXPECT_EQ(adds, 4);
}

TEST(MetricsTest, AFamilysChildrenAreScrapedWithTheirLabels) {
  metrics::Metrics metrics;
  auto& family = metrics.Counter("choreo_calls_total", "Calls.", {"method", "code"});
  prometheus::Counter& first = family.With({"Get", "OK"});
  static_cast<void>(family.With({"Get", "NOT_FOUND"}));
  first.Increment(2);
  family.With({"Get", "OK"}).Increment();
  const std::string text = metrics.Scrape();
  EXPECT_TRUE(Has(text, "choreo_calls_total{code=\"OK\",method=\"Get\"} 3")) << text;
  EXPECT_TRUE(Has(text, "choreo_calls_total{code=\"NOT_FOUND\",method=\"Get\"} 0")) << text;
}

TEST(MetricsTest, ScrapeIsThePrometheusTextFormat) {
  metrics::Metrics metrics;
  metrics.Counter("choreo_things_total", "Things.", {"kind"}).With({"a"}).Increment(3);
  metrics.Histogram("choreo_wait_seconds", "Waits.", {}, metrics::LatencyBuckets())
      .With({})
      .Observe(0.003);
  metrics.GaugeCallback("choreo_depth", "Depth.", [] {
    return std::vector<metrics::Sample>{{.labels = {{"queue", "q1"}}, .value = 7}};
  });
  const std::string text = metrics.Scrape();
  EXPECT_TRUE(Has(text, "# TYPE choreo_things_total counter")) << text;
  EXPECT_TRUE(Has(text, "choreo_things_total{kind=\"a\"} 3")) << text;
  EXPECT_TRUE(Has(text, "# TYPE choreo_wait_seconds histogram")) << text;
  EXPECT_TRUE(Has(text, "choreo_wait_seconds_bucket{le=\"0.0025\"} 0")) << text;
  EXPECT_TRUE(Has(text, "choreo_wait_seconds_bucket{le=\"0.005\"} 1")) << text;
  EXPECT_TRUE(Has(text, "choreo_wait_seconds_count 1")) << text;
  EXPECT_TRUE(Has(text, "# TYPE choreo_depth gauge")) << text;
  EXPECT_TRUE(Has(text, "choreo_depth{queue=\"q1\"} 7")) << text;
}

TEST(MetricsTest, SagaMetricsCountByTopicTypeAndOutcome) {
  metrics::Metrics metrics;
  SagaMetrics saga(metrics);
  KafkaRecord record{.topic = "orders.created", .partition = 0, .offset = 1, .key = "alice"};
  record.headers = {{"ce_type", "choreo.orders.v1.OrderCreated"}};
  saga.OnRecordDone(record, "choreo.orders.v1.OrderCreated", saga::SagaObserver::Outcome::kHandled,
                    absl::Milliseconds(3), absl::Microseconds(200));
  saga.OnRecordDone(record, "choreo.orders.v1.OrderCreated", saga::SagaObserver::Outcome::kDuplicate,
                    absl::Milliseconds(1), absl::ZeroDuration());
  saga.OnRetry(record, absl::UnavailableError("redis down"), 1);
  KafkaRecord produced{.topic = "billing.payments"};
  produced.headers = {{"ce_type", "choreo.billing.v1.PaymentProcessed"}};
  saga.OnPublished(produced);
  KafkaRecord dead = record;
  dead.topic = "dlq.billing";
  dead.headers.push_back({std::string(dlq::kOriginalTopic), "orders.created"});
  dead.headers.push_back({std::string(dlq::kErrorKind), "undecodable"});
  saga.OnPublished(dead);
  const std::string text = metrics.Scrape();
  EXPECT_TRUE(Has(text, R"(choreo_events_consumed_total{outcome="handled",topic="orders.created",type="choreo.orders.v1.OrderCreated"} 1)")) << text;
  EXPECT_TRUE(Has(text, R"(choreo_events_consumed_total{outcome="duplicate",topic="orders.created",type="choreo.orders.v1.OrderCreated"} 1)")) << text;
  EXPECT_TRUE(Has(text, R"(choreo_events_failed_total{code="UNAVAILABLE",topic="orders.created",type="choreo.orders.v1.OrderCreated"} 1)")) << text;
  EXPECT_TRUE(Has(text, R"(choreo_events_produced_total{topic="billing.payments",type="choreo.billing.v1.PaymentProcessed"} 1)")) << text;
  EXPECT_TRUE(Has(text, R"(choreo_events_dead_lettered_total{reason="undecodable",topic="orders.created",type="choreo.orders.v1.OrderCreated"} 1)")) << text;
  EXPECT_TRUE(Has(text, R"(choreo_event_handling_seconds_count{topic="orders.created",type="choreo.orders.v1.OrderCreated"} 2)")) << text;
  EXPECT_TRUE(Has(text, R"(choreo_event_queue_seconds_bucket{topic="orders.created",le="0.0005"} 2)")) << text;
}

TEST(MetricsTest, ConsumerLagIsReadAtScrapeTime) {
  metrics::Metrics metrics;
  int64_t lag = 5;
  AddConsumerLag(metrics, {{.group = "choreo-billing", .read = [&lag] {
                              return std::vector<kafka::PartitionLag>{
                                  {.topic = "orders.created", .partition = 3, .lag = lag}};
                            }}});
  EXPECT_TRUE(Has(metrics.Scrape(), R"(choreo_kafka_consumer_lag{group="choreo-billing",topic="orders.created",partition="3"} 5)"));
  lag = 0;
  EXPECT_TRUE(Has(metrics.Scrape(), R"(choreo_kafka_consumer_lag{group="choreo-billing",topic="orders.created",partition="3"} 0)"));
}

}  // namespace
}  // namespace choreo::telemetry
