#include "tests/bench/service_metrics.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace choreo::bench {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kBefore[] = R"(
choreo_event_queue_seconds_count{topic="orders.requests"} 10
choreo_event_queue_seconds_sum{topic="orders.requests"} 0.5
choreo_event_handling_seconds_count{topic="orders.requests",type="a.A"} 10
choreo_event_handling_seconds_sum{topic="orders.requests",type="a.A"} 0.1
choreo_redis_command_duration_seconds_count{command="evalsha"} 100
choreo_redis_command_duration_seconds_sum{command="evalsha"} 0.1
choreo_redis_command_duration_seconds_count{command="pipeline"} 50
choreo_redis_command_duration_seconds_sum{command="pipeline"} 0.05
choreo_kafka_requests_total{client="producer",request="Produce"} 100
choreo_kafka_requests_total{client="consumer order",request="Fetch"} 70
choreo_kafka_requests_total{client="producer",request="Fetch"} 2
)";

constexpr char kAfter[] = R"(
choreo_event_queue_seconds_count{topic="orders.requests"} 30
choreo_event_queue_seconds_sum{topic="orders.requests"} 0.54
choreo_event_handling_seconds_count{topic="orders.requests",type="a.A"} 30
choreo_event_handling_seconds_sum{topic="orders.requests",type="a.A"} 0.2
choreo_redis_command_duration_seconds_count{command="evalsha"} 160
choreo_redis_command_duration_seconds_sum{command="evalsha"} 0.16
choreo_redis_command_duration_seconds_count{command="pipeline"} 70
choreo_redis_command_duration_seconds_sum{command="pipeline"} 0.09
choreo_redis_command_duration_seconds_count{command="ping"} 1
choreo_redis_command_duration_seconds_sum{command="ping"} 0.001
choreo_kafka_requests_total{client="producer",request="Produce"} 160
choreo_kafka_requests_total{client="consumer order",request="Fetch"} 100
choreo_kafka_requests_total{client="producer",request="Fetch"} 2
choreo_kafka_requests_total{client="consumer order",request="OffsetCommit"} 1
)";

MetricsByService Phase() {
  return MetricsAdded(
      {{"order", ReadServiceMetrics(kBefore)}},
      {{"order", ReadServiceMetrics(kAfter)}, {"gateway", ReadServiceMetrics(kBefore)}});
}

TEST(ServiceMetricsTest, APhaseIsWhatEachServiceGainedAndANewServiceCountsFromZero) {
  const MetricsByService phase = Phase();
  const ServiceMetrics& order = phase.at("order");
  EXPECT_EQ(order.queued.at("orders.requests").count, 20);
  EXPECT_DOUBLE_EQ(order.handled.at("orders.requests").sum, 0.1);
  EXPECT_EQ(order.redis.at("evalsha").count, 60);
  EXPECT_EQ(order.redis.at("ping").count, 1);
  EXPECT_EQ(phase.at("gateway").redis.at("evalsha").count, 100);
}

TEST(ServiceMetricsTest, RecordTimesAreMeansPerRecord) {
  // 20 records: 40 ms queued and 100 ms handled in all.
  EXPECT_THAT(RecordTimesBreakdown(Phase()),
              HasSubstr("order         orders.requests          n     20  queued    2.0 ms  "
                        "handled    5.0 ms"));
}

TEST(ServiceMetricsTest, RoundTripsArePerOrderByCommandTheMostFrequentFirst) {
  // order: 60 EVALSHA, 20 pipelines and 1 PING in 20 orders, 101 ms in all.
  const std::string lines = RoundTripsBreakdown(Phase(), 20);
  EXPECT_THAT(lines, HasSubstr("order          4.05 per order, mean 1.25 ms (evalsha 3.00, "
                               "pipeline 1.00, ping 0.05)"));
  EXPECT_THAT(lines, HasSubstr("gateway        7.50 per order"));
  // Under 0.01 per order, a command is left out: 1 PING in 200 orders; and a service whose
  // commands are all left out has no list.
  EXPECT_THAT(RoundTripsBreakdown(Phase(), 200), Not(HasSubstr("ping")));
  const MetricsByService two_rare = {
      {"users",
       {.redis = {{"ping", {.count = 1, .sum = 0.001}}, {"set", {.count = 1, .sum = 0.001}}}}}};
  EXPECT_EQ(RoundTripsBreakdown(two_rare, 150),
            "       users          0.01 per order, mean 1.00 ms\n");
  EXPECT_EQ(RoundTripsBreakdown(Phase(), 0), "");
}

TEST(ServiceMetricsTest, KafkaRequestsArePerOrderByTypeOverAllClients) {
  // order: 60 Produce, 30 Fetch (of the consumer: the producer's stayed at 2) and 1 OffsetCommit
  // in 20 orders.
  const MetricsByService phase = Phase();
  EXPECT_EQ(phase.at("order").kafka_requests.at("Fetch"), 30);
  const std::string lines = KafkaRequestsBreakdown(phase, 20);
  EXPECT_THAT(
      lines,
      HasSubstr("order          4.55 per order (Produce 3.00, Fetch 1.50, OffsetCommit 0.05)"));
  EXPECT_THAT(lines, HasSubstr("gateway        8.60 per order (Produce 5.00, Fetch 3.60)"));
  EXPECT_THAT(KafkaRequestsBreakdown(phase, 200), Not(HasSubstr("OffsetCommit")));
  // A client that went takes its counts along: the phase counts nothing below zero.
  const MetricsByService replaced =
      MetricsAdded({{"order", {.kafka_requests = {{"Produce", 50}}}}},
                   {{"order", {.kafka_requests = {{"Produce", 10}}}}});
  EXPECT_EQ(replaced.at("order").kafka_requests.at("Produce"), 0);
  EXPECT_EQ(KafkaRequestsBreakdown(phase, 0), "");
}

}  // namespace
}  // namespace choreo::bench
