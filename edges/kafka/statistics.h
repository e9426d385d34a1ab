#pragma once

// Reads librdkafka's statistics JSON (statistics.interval.ms) for the numbers choreo exports.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace choreo::kafka {

struct PartitionLag {
  std::string topic;
  int32_t partition = 0;
  int64_t lag = 0;  // consumer_lag: high watermark minus the committed (or stored) offset
};

// The consumer lag of every assigned partition in `json` (partitions with an unknown lag, -1,
// and librdkafka's internal partition -1 are left out). INVALID_ARGUMENT if it is not JSON.
absl::StatusOr<std::vector<PartitionLag>> ConsumerLagFromStatistics(absl::string_view json);

// How many brokers the client is connected to (state "UP") in `json`: 0 means Kafka is not
// reachable from this client. INVALID_ARGUMENT if it is not JSON.
absl::StatusOr<int> BrokersUpInStatistics(absl::string_view json);
// OK when `json` shows a broker UP; UNAVAILABLE otherwise (none, or no statistics yet).
absl::Status CheckBrokersReachable(absl::string_view json);

}  // namespace choreo::kafka
