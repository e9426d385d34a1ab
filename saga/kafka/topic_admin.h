#pragma once

// Creating topics through the Kafka Admin API (CreateTopics), for tools that need topics of
// their own (the benchmark's relay chain) on any Kafka-protocol broker.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "saga/kafka/kafka_producer.h"

namespace choreo::kafka {

// Creates each of `topics` with `partitions` partitions (replication factor: the broker's
// default) unless it exists already. Uses `producer`'s connection. UNAVAILABLE when the broker
// does not answer within `timeout`, INTERNAL for other refusals.
absl::Status EnsureTopics(KafkaProducer& producer, const std::vector<std::string>& topics,
                          int partitions, absl::Duration timeout = absl::Seconds(30));

}  // namespace choreo::kafka
