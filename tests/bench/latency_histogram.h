#pragma once

// LatencyHistogram: HDR-style recording of latencies from 1 µs to about 50 days with a relative
// error under 0.8%: values below 128 µs are exact, larger ones fall in 64 linear sub-buckets per
// power of two. Fixed memory (a few KiB), O(1) Record. Not thread-safe: one per thread, Merge.

#include <cstdint>
#include <vector>

#include "absl/time/time.h"

namespace choreo::bench {

class LatencyHistogram {
 public:
  LatencyHistogram();

  void Record(absl::Duration latency);
  void Merge(const LatencyHistogram& other);

  int64_t count() const { return count_; }
  // The value at percentile `p` (0..100): the smallest recorded value with at least p% of the
  // values at or below it (within the histogram's precision). Zero when empty.
  absl::Duration Percentile(double p) const;
  absl::Duration max() const { return absl::Microseconds(max_micros_); }
  absl::Duration mean() const;

  // Bucket arithmetic, exposed for tests.
  static int BucketOf(int64_t micros);
  static int64_t LowestOf(int bucket);  // the smallest value of the bucket

 private:
  std::vector<int64_t> counts_;
  int64_t count_ = 0;
  int64_t max_micros_ = 0;
  double sum_micros_ = 0;
};

}  // namespace choreo::bench
