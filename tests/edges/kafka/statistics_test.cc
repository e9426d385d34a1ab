#include "edges/kafka/statistics.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace choreo::kafka {
namespace {

TEST(ConsumerLagTest, ReadsEveryAssignedPartitionsLag) {
  // Trimmed from a real librdkafka 2.0 statistics event.
  constexpr char kJson[] = R"({
    "name": "rdkafka#consumer-1", "type": "consumer", "ts": 1, "unknown_field": [1, 2],
    "topics": {
      "orders.created": {"topic": "orders.created", "partitions": {
        "0": {"partition": 0, "consumer_lag": 12, "hi_offset": 40},
        "1": {"partition": 1, "consumer_lag": 0},
        "-1": {"partition": -1, "consumer_lag": -1}}},
      "billing.payments": {"topic": "billing.payments", "partitions": {
        "3": {"partition": 3, "consumer_lag": -1}}}
    }
  })";
  absl::StatusOr<std::vector<PartitionLag>> lags = ConsumerLagFromStatistics(kJson);
  ASSERT_TRUE(lags.ok()) << lags.status();
  ASSERT_EQ(lags->size(), 2u);
  int64_t lag0 = -1, lag1 = -1;
  for (const PartitionLag& lag : *lags) {
    EXPECT_EQ(lag.topic, "orders.created");
    (lag.partition == 0 ? lag0 : lag1) = lag.lag;
  }
  EXPECT_EQ(lag0, 12);
  EXPECT_EQ(lag1, 0);
}

TEST(ConsumerLagTest, NotJsonIsAnError) {
  EXPECT_EQ(ConsumerLagFromStatistics("{oops").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(ConsumerLagFromStatistics("{}")->empty());
}

}  // namespace
}  // namespace choreo::kafka
