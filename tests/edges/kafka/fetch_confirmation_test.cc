// Readiness's bookkeeping of assigned partitions: what it waits for through rebalances.

#include "edges/kafka/fetch_confirmation.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace choreo::kafka {
namespace {

constexpr char kBothActive[] = R"({"brokers": {"b/1": {"state": "UP"}}, "topics": {
    "orders.requests": {"partitions": {"0": {"fetch_state": "active"},
                                       "1": {"fetch_state": "active"}}}}})";
const TopicPartition kZero{"orders.requests", 0};
const TopicPartition kOne{"orders.requests", 1};

// Checks what is pending against `statistics` and confirms it if the check passes.
absl::Status CheckAndConfirm(FetchConfirmation& confirmation, absl::string_view statistics) {
  const FetchConfirmation::Pending pending = confirmation.Unconfirmed();
  absl::Status status = FetchConfirmation::Check(pending, statistics);
  if (status.ok()) confirmation.Confirm(pending);
  return status;
}

TEST(FetchConfirmationTest, APartitionWaitsForStatisticsDeliveredAfterItsAssignment) {
  FetchConfirmation confirmation;
  EXPECT_TRUE(CheckAndConfirm(confirmation, "").ok()) << "nothing assigned, nothing to wait for";
  confirmation.StatisticsDelivered();
  confirmation.Assigned({kZero, kOne});
  const absl::Status before = CheckAndConfirm(confirmation, kBothActive);
  EXPECT_EQ(before.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(before.message()), ::testing::HasSubstr("statistics taken after"));
  confirmation.StatisticsDelivered();
  EXPECT_TRUE(CheckAndConfirm(confirmation, kBothActive).ok());
  EXPECT_TRUE(confirmation.Unconfirmed().partitions.empty()) << "confirmed once, parsed no more";
}

TEST(FetchConfirmationTest, APartitionGivenBackWaitsAgainThoughOldStatisticsShowItActive) {
  FetchConfirmation confirmation;
  confirmation.Assigned({kZero, kOne});
  confirmation.StatisticsDelivered();
  ASSERT_TRUE(CheckAndConfirm(confirmation, kBothActive).ok());
  // An eager rebalance: everything revoked, the same partitions given back.
  confirmation.Revoked({kZero, kOne});
  confirmation.Assigned({kZero, kOne});
  EXPECT_EQ(confirmation.Unconfirmed().partitions.size(), 2u);
  EXPECT_FALSE(CheckAndConfirm(confirmation, kBothActive).ok()) << "statistics from before";
  confirmation.StatisticsDelivered();
  EXPECT_TRUE(CheckAndConfirm(confirmation, kBothActive).ok());
}

TEST(FetchConfirmationTest, AnAssignmentDuringACheckIsNotConfirmedByIt) {
  FetchConfirmation confirmation;
  confirmation.Assigned({kZero});
  confirmation.StatisticsDelivered();
  const FetchConfirmation::Pending pending = confirmation.Unconfirmed();
  ASSERT_TRUE(FetchConfirmation::Check(pending, kBothActive).ok());
  confirmation.Assigned({kOne});  // a cooperative rebalance while the check ran
  confirmation.Confirm(pending);
  EXPECT_EQ(confirmation.Unconfirmed().partitions, (std::vector<TopicPartition>{kZero, kOne}));
  EXPECT_FALSE(confirmation.Unconfirmed().statistics_since);
}

TEST(FetchConfirmationTest, ARevokedPartitionIsNoLongerAwaited) {
  FetchConfirmation confirmation;
  confirmation.Assigned({kZero, kOne});
  confirmation.StatisticsDelivered();
  constexpr char kOnlyZero[] = R"({"brokers": {"b/1": {"state": "UP"}}, "topics": {
      "orders.requests": {"partitions": {"0": {"fetch_state": "active"}}}}})";
  EXPECT_FALSE(CheckAndConfirm(confirmation, kOnlyZero).ok());
  confirmation.Revoked({kOne});
  EXPECT_TRUE(CheckAndConfirm(confirmation, kOnlyZero).ok());
}

}  // namespace
}  // namespace choreo::kafka
