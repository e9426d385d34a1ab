#include "tests/bench/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace choreo::bench {
namespace {

constexpr int kExact = 128;      // values 0..127 have a bucket each
constexpr int kSubBuckets = 64;  // per power of two from 128 on
constexpr int kMaxMagnitude = 42;
constexpr int kBuckets = kExact + (kMaxMagnitude - 7 + 1) * kSubBuckets;

}  // namespace

LatencyHistogram::LatencyHistogram() : counts_(kBuckets, 0) {}

int LatencyHistogram::BucketOf(int64_t micros) {
  if (micros < kExact) return static_cast<int>(std::max<int64_t>(micros, 0));
  const int magnitude = std::min(63 - std::countl_zero(static_cast<uint64_t>(micros)), kMaxMagnitude);
  const int shift = magnitude - 6;
  const int64_t sub = std::min<int64_t>(micros >> shift, 2 * kSubBuckets - 1);  // 64..127
  return kExact + (magnitude - 7) * kSubBuckets + static_cast<int>(sub - kSubBuckets);
}

int64_t LatencyHistogram::LowestOf(int bucket) {
  if (bucket < kExact) return bucket;
  const int magnitude = 7 + (bucket - kExact) / kSubBuckets;
  const int64_t sub = kSubBuckets + (bucket - kExact) % kSubBuckets;
  return sub << (magnitude - 6);
}

void LatencyHistogram::Record(absl::Duration latency) {
  const int64_t micros = std::max<int64_t>(absl::ToInt64Microseconds(latency), 0);
  ++counts_[BucketOf(micros)];
  ++count_;
  max_micros_ = std::max(max_micros_, micros);
  sum_micros_ += static_cast<double>(micros);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  max_micros_ = std::max(max_micros_, other.max_micros_);
  sum_micros_ += other.sum_micros_;
}

absl::Duration LatencyHistogram::Percentile(double p) const {
  if (count_ == 0) return absl::ZeroDuration();
  const int64_t rank = std::max<int64_t>(
      1, static_cast<int64_t>(std::ceil(std::clamp(p, 0.0, 100.0) / 100.0 * count_)));
  if (rank >= count_) return max();
  int64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      // The bucket's lowest value, but never above the true maximum.
      return absl::Microseconds(std::min(LowestOf(static_cast<int>(i)), max_micros_));
    }
  }
  return max();
}

absl::Duration LatencyHistogram::mean() const {
  return count_ == 0 ? absl::ZeroDuration() : absl::Microseconds(sum_micros_ / count_);
}

}  // namespace choreo::bench
