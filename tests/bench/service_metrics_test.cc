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

}  // namespace
}  // namespace choreo::bench
