// RecentWrites: a mark is fresh for one window, with its value only, old marks are dropped, and a
// clock that steps back forgets them.

#include "gateway/timeline/core/recent_writes.h"

#include "gtest/gtest.h"

namespace choreo::gateway::timeline {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'700'000'000);

TEST(RecentWritesTest, AMarkIsFreshForOneWindowWithItsValueOnly) {
  RecentWrites recent(absl::Seconds(5));
  EXPECT_FALSE(recent.Fresh("tl:order:{o1}", "c1", kStart));
  recent.Mark("tl:order:{o1}", "c1", kStart);
  EXPECT_TRUE(recent.Fresh("tl:order:{o1}", "c1", kStart + absl::Seconds(4)));
  EXPECT_FALSE(recent.Fresh("tl:order:{o1}", "c2", kStart + absl::Seconds(4)))
      << "another value is a write to send";
  EXPECT_FALSE(recent.Fresh("tl:order:{o2}", "c1", kStart + absl::Seconds(4)));
  EXPECT_FALSE(recent.Fresh("tl:order:{o1}", "c1", kStart + absl::Seconds(5)))
      << "a window later the write is sent again";
}

TEST(RecentWritesTest, ANewMarkReplacesTheOldOne) {
  RecentWrites recent(absl::Seconds(5));
  recent.Mark("k", "a", kStart);
  recent.Mark("k", "b", kStart + absl::Seconds(6));  // the first mark has aged to the older half
  EXPECT_FALSE(recent.Fresh("k", "a", kStart + absl::Seconds(7)));
  EXPECT_TRUE(recent.Fresh("k", "b", kStart + absl::Seconds(7)));
  EXPECT_EQ(recent.size(), 1u);
}

TEST(RecentWritesTest, MarksOlderThanTwoWindowsAreDropped) {
  RecentWrites recent(absl::Seconds(5));
  for (int i = 0; i < 100; ++i) recent.Mark("old" + std::to_string(i), "", kStart);
  recent.Mark("newer", "", kStart + absl::Seconds(6));
  recent.Mark("newest", "", kStart + absl::Seconds(9));
  EXPECT_EQ(recent.size(), 102u) << "the old marks are one window old: kept a window more";
  EXPECT_TRUE(recent.Fresh("newest", "", kStart + absl::Seconds(12)));
  EXPECT_EQ(recent.size(), 2u) << "two windows after them, the old marks are gone";
}

TEST(RecentWritesTest, AMarkStaysFreshAcrossARotation) {
  RecentWrites recent(absl::Seconds(5));
  recent.Mark("a", "", kStart);
  recent.Mark("b", "", kStart + absl::Milliseconds(4900));
  EXPECT_TRUE(recent.Fresh("b", "", kStart + absl::Milliseconds(5100)));  // rotates here
  EXPECT_FALSE(recent.Fresh("a", "", kStart + absl::Milliseconds(5100)));
  EXPECT_TRUE(recent.Fresh("b", "", kStart + absl::Milliseconds(9800)));
  EXPECT_FALSE(recent.Fresh("b", "", kStart + absl::Milliseconds(9900)));
}

TEST(RecentWritesTest, AClockThatStepsBackForgetsEveryMark) {
  RecentWrites recent(absl::Seconds(5));
  recent.Mark("k", "", kStart + absl::Seconds(10));
  EXPECT_FALSE(recent.Fresh("k", "", kStart + absl::Seconds(9)));
  EXPECT_EQ(recent.size(), 0u);
  EXPECT_FALSE(recent.Fresh("k", "", kStart + absl::Seconds(10)));
}

TEST(RecentWritesTest, ForgetAndAZeroWindowRememberNothing) {
  RecentWrites recent(absl::Seconds(5));
  recent.Mark("k", "", kStart);
  recent.Forget();
  EXPECT_FALSE(recent.Fresh("k", "", kStart));
  EXPECT_EQ(recent.size(), 0u);

  RecentWrites never(absl::ZeroDuration());
  never.Mark("k", "", kStart);
  EXPECT_FALSE(never.Fresh("k", "", kStart));
  EXPECT_EQ(never.size(), 0u);
}

}  // namespace
}  // namespace choreo::gateway::timeline
