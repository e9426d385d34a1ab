#pragma once

// Reads a whole topic, from the start of each partition to its end as of the call, without a
// consumer group: what a test checks after the work it waited for is done.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "platform/record/record.h"

namespace choreo::testing {

// Every record of `topic` at the time of the call (kafka::ReadTopicToEnd, collected).
absl::StatusOr<std::vector<KafkaRecord>> ReadTopicToEnd(const std::string& bootstrap_servers,
                                                        const std::string& topic,
                                                        absl::Duration timeout = absl::Seconds(30));

}  // namespace choreo::testing
