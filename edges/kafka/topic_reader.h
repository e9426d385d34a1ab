#pragma once

// ReadTopicToEnd: every record of a topic, from the start of each partition up to its end as of
// the call. No consumer group and nothing committed. Used by the dead-letter replayer and tests.

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "edges/kafka/kafka_client.h"
#include "platform/record/record.h"

namespace choreo::kafka {

// How far a read has come, in offsets of every partition from its start to its end as of the
// read's start (a compacted topic has fewer records than offsets).
struct ReadProgress {
  int64_t offsets_read = 0;
  int64_t offsets_total = 0;
};

// Calls `visit` for each record (in offset order within a partition) and stops at the first
// error it returns; `progress`, if set, after each record. `config` holds at least
// bootstrap.servers. DEADLINE_EXCEEDED if the end is not reached within `timeout`; the broker's
// error for a missing topic, or at once for one the login may not read. A partition whose last offsets hold
// no record (compacted away) ends when the consumer reaches its end; one whose start was deleted
// by retention meanwhile is read from what is left.
absl::Status ReadTopicToEnd(const KafkaConfig& config, const std::string& topic,
                            absl::Duration timeout,
                            const std::function<absl::Status(const KafkaRecord&)>& visit,
                            const std::function<void(const ReadProgress&)>& progress = nullptr);

}  // namespace choreo::kafka
