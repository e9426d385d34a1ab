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

// Readiness scans the text instead of parsing it: the same verdicts on librdkafka's compact
// JSON, and nothing but a broker's "state" counts as one UP.
TEST(ConsumerReadyTest, TheTextScanReadsOnlyBrokerStates) {
  EXPECT_TRUE(CheckBrokersReachable(R"({"brokers":{"b/1":{"name":"b/1","state":"UP"}}})").ok());
  EXPECT_EQ(
      CheckBrokersReachable(
          R"({"brokers":{"b/1":{"state":"CONNECT"}},"cgrp":{"state":"up","join_state":"steady"},)"
          R"("topics":{"state":{"partitions":{"0":{"fetch_state":"active"}}}}})")
          .code(),
      absl::StatusCode::kUnavailable)
      << "the group's lowercase state and a topic named \"state\" are not brokers";
  EXPECT_EQ(CheckConsumerReady(R"({"brokers":{"b/1":{"state":"UP"}},"topics":{"t":{"partitions":)"
                               R"({"2":{"fetch_state":"offset-wait"}}}}})")
                .code(),
            absl::StatusCode::kUnavailable);
  EXPECT_TRUE(CheckConsumerReady(R"({"brokers":{"b/1":{"state":"UP"}},"topics":{"t":{"partitions":)"
                                 R"({"2":{"fetch_state":"active"}}}}})")
                  .ok());
  EXPECT_EQ(CheckConsumerReady("{oops").code(), absl::StatusCode::kUnavailable);
}

// What a new member's readiness waits for: its partitions in the statistics, fetching. The
// statistics taken just before an assignment show none of them looking up an offset, which
// CheckConsumerReady alone would read as ready.
TEST(ConsumerReadyTest, NewlyAssignedPartitionsMustBeFetching) {
  constexpr char kBeforeTheAssignment[] = R"({"brokers": {"b/1": {"state": "UP"}}, "topics": {
      "orders.requests": {"partitions": {"-1": {"fetch_state": "none"}}}}})";
  const std::vector<TopicPartition> assigned = {{"orders.requests", 0}, {"orders.requests", 1}};
  EXPECT_TRUE(CheckConsumerReady(kBeforeTheAssignment).ok());
  const absl::Status missing = CheckFetching(kBeforeTheAssignment, assigned);
  EXPECT_EQ(missing.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(missing.message()),
              ::testing::HasSubstr("no statistics for orders.requests[0]"));
  constexpr char kLooking[] = R"({"brokers": {"b/1": {"state": "UP"}}, "topics": {
      "orders.requests": {"partitions": {"0": {"fetch_state": "active"},
                                         "1": {"fetch_state": "offset-query"}}}}})";
  const absl::Status looking = CheckFetching(kLooking, assigned);
  EXPECT_EQ(looking.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(looking.message()),
              ::testing::HasSubstr("orders.requests[1] is not fetching yet (offset-query)"));
  constexpr char kFetching[] = R"({"brokers": {"b/1": {"state": "UP"}}, "topics": {
      "orders.requests": {"partitions": {"0": {"fetch_state": "active"},
                                         "1": {"fetch_state": "active"}}}}})";
  EXPECT_TRUE(CheckFetching(kFetching, assigned).ok());
  EXPECT_TRUE(CheckFetching(kFetching, {}).ok());
  EXPECT_EQ(CheckFetching(R"({"brokers": {"b/1": {"state": "DOWN"}}})", {}).code(),
            absl::StatusCode::kUnavailable);
}

TEST(CaughtUpTest, EveryAssignedPartitionMustBeHandledToItsEnd) {
  auto stats = [](const std::string& partitions) {
    return absl::StrCat(R"({"brokers": {"b/1": {"state": "UP"}}, "topics": {"orders.status": )",
                        R"({"partitions": {"-1": {"fetch_state": "none"}, )", partitions, "}}}}");
  };
  const std::vector<TopicPartition> zero_one = {{"orders.status", 0}, {"orders.status", 1}};
  // Handled to the end (stored ahead of the commit), and an empty partition; a partition not
  // assigned here is not looked at.
  constexpr char kCaughtUp[] = R"(
      "0": {"fetch_state": "active", "lo_offset": 0, "hi_offset": 9, "ls_offset": 9,
            "committed_offset": 5, "stored_offset": 9},
      "1": {"fetch_state": "active", "lo_offset": 0, "hi_offset": 0, "ls_offset": 0,
            "committed_offset": -1001, "stored_offset": -1001},
      "2": {"fetch_state": "none", "hi_offset": 70, "committed_offset": -1001})";
  EXPECT_TRUE(CheckCaughtUp(stats(kCaughtUp), zero_one).ok());
  EXPECT_TRUE(CheckCaughtUp(stats(kCaughtUp), {}).ok()) << "nothing assigned: nothing to catch up";
  // Statistics older than the assignment: partition 2 is not fetching there yet, partition 3
  // is not there at all.
  EXPECT_EQ(CheckCaughtUp(stats(kCaughtUp), {{"orders.status", 2}}).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(CheckCaughtUp(stats(kCaughtUp), {{"orders.status", 3}}).code(),
            absl::StatusCode::kUnavailable);
  // Records missed while no one ran: behind until they are handled.
  const absl::Status behind = CheckCaughtUp(stats(R"(
      "0": {"fetch_state": "active", "lo_offset": 0, "hi_offset": 9, "ls_offset": 9,
            "committed_offset": 4, "stored_offset": -1001})"), {{"orders.status", 0}});
  EXPECT_EQ(behind.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(behind.message()), ::testing::HasSubstr("orders.status[0]: 5 records"));
  // A new group on a topic with history: nothing handled yet.
  EXPECT_EQ(CheckCaughtUp(stats(R"(
      "3": {"fetch_state": "active", "lo_offset": 2, "hi_offset": 9, "ls_offset": 9,
            "committed_offset": -1001, "stored_offset": -1001})"), {{"orders.status", 3}}).code(),
            absl::StatusCode::kUnavailable);
  // Still looking up where to start, or no end known yet.
  EXPECT_EQ(CheckCaughtUp(stats(R"("0": {"fetch_state": "offset-query"})"),
                          {{"orders.status", 0}}).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(CheckCaughtUp(stats(R"("0": {"fetch_state": "active", "hi_offset": -1,
                                         "ls_offset": -1})"), {{"orders.status", 0}}).code(),
            absl::StatusCode::kUnavailable);
  // No broker reachable.
  EXPECT_EQ(CheckCaughtUp(R"({"brokers": {"b/1": {"state": "DOWN"}}})", {}).code(),
            absl::StatusCode::kUnavailable);
}

TEST(ProducerReadyTest, WaitsForABrokerAndTheProducerId) {
  constexpr char kUp[] = R"("brokers": {"b/1": {"state": "UP"}})";
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

// Each broker's "req" counters, summed by request type; zeros and other numbers left out.
TEST(RequestsFromStatisticsTest, SumsEachRequestTypeOverTheBrokers) {
  constexpr char kJson[] = R"({"tx": 99, "brokers": {
    "b/bootstrap": {"state": "UP", "tx": 7,
      "req": {"Produce": 0, "Metadata": 2, "ApiVersion": 1}},
    "b/1": {"state": "UP", "tx": 90, "req" : { "Produce" : 40, "Fetch": 45,
      "OffsetCommit": 5, "Heartbeat": 0 }, "toppars": {"t-0": {"partition": 0}}}}})";
  EXPECT_THAT(
      RequestsFromStatistics(kJson),
      ::testing::ElementsAre(::testing::Pair("ApiVersion", 1), ::testing::Pair("Fetch", 45),
                             ::testing::Pair("Metadata", 2), ::testing::Pair("OffsetCommit", 5),
                             ::testing::Pair("Produce", 40)));
  EXPECT_TRUE(RequestsFromStatistics("").empty());
  EXPECT_TRUE(RequestsFromStatistics(R"({"brokers": {"b/1": {"req": "not counters"}}})").empty());
  // A topic named "req": its object holds objects, and is no broker's counters.
  EXPECT_TRUE(RequestsFromStatistics(
                  R"({"topics": {"req": {"topic": "req", "age": 5, "batchsize": {"min": 0}}}})")
                  .empty());
}

TEST(RequestsFromStatisticsTest, TheHandleIsNamedByItsFirstName) {
  EXPECT_EQ(HandleNameFromStatistics(
                R"({"name": "rdkafka#producer-3", "brokers": {"b/1": {"name": "b/1"}}})"),
            "rdkafka#producer-3");
  EXPECT_EQ(HandleNameFromStatistics(""), "");
}

}  // namespace
}  // namespace choreo::kafka
