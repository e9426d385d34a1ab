#include "edges/kafka/statistics.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "absl/strings/str_cat.h"

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

TEST(ConsumerReadyTest, WaitsForABrokerAndEveryPartitionsStartingOffset) {
  EXPECT_EQ(CheckConsumerReady("").code(), absl::StatusCode::kUnavailable);
  constexpr char kLooking[] = R"({"brokers": {"b/1": {"state": "UP"}}, "topics": {
      "orders.requests": {"partitions": {"0": {"fetch_state": "active"},
                                         "1": {"fetch_state": "offset-query"},
                                         "-1": {"fetch_state": "none"}}}}})";
  const absl::Status looking = CheckConsumerReady(kLooking);
  EXPECT_EQ(looking.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(looking.message()), ::testing::HasSubstr("orders.requests[1]"));
  constexpr char kFetching[] = R"({"brokers": {"b/1": {"state": "UP"}}, "topics": {
      "orders.requests": {"partitions": {"0": {"fetch_state": "active"},
                                         "-1": {"fetch_state": "none"}}}}})";
  EXPECT_TRUE(CheckConsumerReady(kFetching).ok());
  EXPECT_EQ(CheckConsumerReady(R"({"brokers": {"b/1": {"state": "DOWN"}}})").code(),
            absl::StatusCode::kUnavailable);
}

TEST(ProducerReadyTest, WaitsForABrokerAndTheProducerId) {
  constexpr char kUp[] = R"("brokers": {"127.0.0.1:9092/1": {"state": "UP"}})";
  EXPECT_EQ(CheckProducerReady("").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CheckProducerReady(R"({"brokers": {"b/1": {"state": "INIT"}}})").code(),
            absl::StatusCode::kUnavailable);
  const absl::Status waiting = CheckProducerReady(
      absl::StrCat("{", kUp, R"(, "eos": {"idemp_state": "WaitPID", "producer_id": -1}})"));
  EXPECT_EQ(waiting.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(waiting.message()), ::testing::HasSubstr("WaitPID"));
  EXPECT_TRUE(CheckProducerReady(
                  absl::StrCat("{", kUp, R"(, "eos": {"idemp_state": "Assigned"}})"))
                  .ok());
  EXPECT_TRUE(CheckProducerReady(absl::StrCat("{", kUp, "}")).ok());  // not idempotent
  // The text scan alone, on librdkafka's compact JSON.
  EXPECT_TRUE(CheckProducerIdAssigned(R"({"eos":{"idemp_state":"Assigned","txn_state":"Init"}})")
                  .ok());
  EXPECT_EQ(CheckProducerIdAssigned(R"({"eos":{"idemp_state":"RequestPID"}})").code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(CheckProducerIdAssigned("").code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace choreo::kafka
