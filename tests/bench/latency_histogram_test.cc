#include "tests/bench/latency_histogram.h"

#include "gtest/gtest.h"

namespace choreo::bench {
namespace {

TEST(LatencyHistogram, SmallValuesAreExactAndLargeOnesWithinOnePercent) {
  for (int64_t v : {0, 1, 57, 127}) EXPECT_EQ(LatencyHistogram::LowestOf(LatencyHistogram::BucketOf(v)), v);
  for (int64_t v : {128LL, 1000LL, 4'321LL, 99'999LL, 1'234'567LL, 987'654'321LL, 3'600'000'000LL}) {
    const int64_t low = LatencyHistogram::LowestOf(LatencyHistogram::BucketOf(v));
    EXPECT_LE(low, v);
    EXPECT_LT(static_cast<double>(v - low) / v, 0.016) << v;
    EXPECT_EQ(LatencyHistogram::BucketOf(low), LatencyHistogram::BucketOf(v));
  }
  EXPECT_LT(LatencyHistogram::BucketOf(128), LatencyHistogram::BucketOf(130));
}

TEST(LatencyHistogram, PercentilesMaxMeanAndMerge) {
  LatencyHistogram h;
  EXPECT_EQ(h.Percentile(99), absl::ZeroDuration());
  for (int ms = 1; ms <= 100; ++ms) h.Record(absl::Milliseconds(ms));
  EXPECT_EQ(h.count(), 100);
  EXPECT_NEAR(absl::ToDoubleMilliseconds(h.Percentile(50)), 50, 0.8);
  EXPECT_NEAR(absl::ToDoubleMilliseconds(h.Percentile(99)), 99, 1.6);
  EXPECT_EQ(h.Percentile(100), absl::Milliseconds(100)) << "never above the true max";
  EXPECT_EQ(h.max(), absl::Milliseconds(100));
  EXPECT_NEAR(absl::ToDoubleMilliseconds(h.mean()), 50.5, 0.01);
  LatencyHistogram slow;
  slow.Record(absl::Seconds(2));
  h.Merge(slow);
  EXPECT_EQ(h.count(), 101);
  EXPECT_EQ(h.max(), absl::Seconds(2));
  EXPECT_EQ(h.Percentile(100), absl::Seconds(2));
  EXPECT_NEAR(absl::ToDoubleMilliseconds(h.Percentile(99.9)), 2000, 32);
}

}  // namespace
}  // namespace choreo::bench
