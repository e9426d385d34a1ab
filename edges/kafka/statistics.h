#pragma once

// Reads librdkafka's statistics JSON (statistics.interval.ms) for the numbers choreo exports.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace choreo::kafka {

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;

  friend bool operator==(const TopicPartition&, const TopicPartition&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const TopicPartition& tp) {
    return H::combine(std::move(h), tp.topic, tp.partition);
  }
};

struct PartitionLag {
  std::string topic;
  int32_t partition = 0;
  int64_t lag = 0;  // consumer_lag: high watermark minus the committed (or stored) offset
};

// The consumer lag of every assigned partition in `json` (partitions with an unknown lag, -1,
// and librdkafka's internal partition -1 are left out). INVALID_ARGUMENT if it is not JSON.
absl::StatusOr<std::vector<PartitionLag>> ConsumerLagFromStatistics(absl::string_view json);

// OK when `json` shows a broker UP; UNAVAILABLE otherwise (none, or no statistics yet). This
// and CheckConsumerReady scan the text (readiness runs them every second); they parse only to
// name a partition that is not ready.
absl::Status CheckBrokersReachable(absl::string_view json);

// For a consumer's `json`: OK when a broker is UP and no partition is still looking up the
// offset to start from (fetch_state offset-query or offset-wait: a record produced now would wait
// for that); UNAVAILABLE otherwise.
absl::Status CheckConsumerReady(absl::string_view json);

// For a consumer's `json` and some of its assigned partitions: OK when a broker is UP and each
// of them is fetching (fetch_state "active"); UNAVAILABLE naming the first that is missing from
// `json` (statistics older than its assignment) or not fetching yet. Parses `json`.
absl::Status CheckFetching(absl::string_view json, const std::vector<TopicPartition>& partitions);

// For a consumer's `json` and the partitions assigned to it: OK when a broker is UP and each of
// them has been read and handled to the end it had when the statistics were taken (the
// committed or stored offset reaches the last stable offset; an empty partition counts as
// read); UNAVAILABLE naming the first partition behind, or missing from `json` or not fetching
// yet there (statistics older than the assignment prove nothing). For a projection that must
// not serve what it has not caught up with yet.
absl::Status CheckCaughtUp(absl::string_view json, const std::vector<TopicPartition>& assigned);

// For an idempotent producer's `json`: OK when a broker is UP and the producer has its producer
// id ("eos"."idemp_state" is "Assigned"); until then every record it is given waits (a fresh
// broker answers "coordinator load in progress" for its first seconds). UNAVAILABLE otherwise.
absl::Status CheckProducerReady(absl::string_view json);
// Only the producer id part of CheckProducerReady, by a text scan of `json` (no parse: a
// client's statistics are tens of KB of JSON, and readiness is checked every second); for a
// producer whose brokers another check already covers.
absl::Status CheckProducerIdAssigned(absl::string_view json);

// The requests a client sent, by request type ("Produce", "Fetch", "OffsetCommit", ...), summed
// over its brokers (each broker's "req" counters in `json`); types it never sent are left out.
// A text scan, like CheckBrokersReachable: metrics read it at every scrape. Empty for text that
// holds no counters.
std::map<std::string, int64_t> RequestsFromStatistics(absl::string_view json);

// The name of the librdkafka handle `json` describes (its first "name", e.g.
// "rdkafka#producer-3": unique in the process, a new one for a handle that replaces another);
// empty when there is none. A text scan.
std::string HandleNameFromStatistics(absl::string_view json);

}  // namespace choreo::kafka
