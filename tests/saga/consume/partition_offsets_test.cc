#include "saga/consume/partition_offsets.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace choreo::consume {
namespace {

using ::testing::Optional;

TEST(PartitionOffsetsTest, NeverCommitsPastAnUnfinishedRecord) {
  PartitionOffsets offsets;
  for (int64_t o = 10; o < 15; ++o) offsets.Started(o);
  // 10 and 11 still run: the committable offset is 10 itself (nothing before it is owed).
  EXPECT_THAT(offsets.Finished(12), Optional(10));
  EXPECT_EQ(offsets.Finished(11), std::nullopt);
  EXPECT_THAT(offsets.Finished(10), Optional(13));  // 12 and 11 were done: next is 13
  EXPECT_EQ(offsets.Finished(10), std::nullopt);    // twice is a no-op
  EXPECT_THAT(offsets.Finished(14), std::nullopt);
  EXPECT_THAT(offsets.Finished(13), Optional(15));
  EXPECT_EQ(offsets.in_flight(), 0u);
  offsets.Started(15);
  EXPECT_THAT(offsets.Finished(15), Optional(16));
  EXPECT_EQ(offsets.committable(), 16);
}

TEST(PartitionOffsetsTest, AnAbandonedRecordHoldsTheOffsetBack) {
  PartitionOffsets offsets;
  offsets.Started(0);
  offsets.Started(1);
  offsets.Started(2);
  EXPECT_THAT(offsets.Finished(1), Optional(0));
  EXPECT_EQ(offsets.Finished(2), std::nullopt);
  EXPECT_EQ(offsets.committable(), 0);  // 0 never finished: a restart re-delivers 0, 1, 2
}

}  // namespace
}  // namespace choreo::consume
