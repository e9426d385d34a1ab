#pragma once

// ReadTopicToEnd: every record of a topic, from the start of each partition up to its end as of
// the call. No consumer group and nothing committed. Used by the dead-letter replayer and tests.

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "edges/kafka/kafka_client.h"
#include "platform/record/record.h"

namespace choreo::kafka {

// Calls `visit` for each record (in offset order within a partition) and stops at the first
// error it returns. `config` holds at least bootstrap.servers. DEADLINE_EXCEEDED if the end is
// not reached within `timeout`; NOT_FOUND-like broker errors for a missing topic.
absl::Status ReadTopicToEnd(const KafkaConfig& config, const std::string& topic,
                            absl::Duration timeout,
                            const std::function<absl::Status(const KafkaRecord&)>& visit);

}  // namespace choreo::kafka
