#pragma once

// The saga timeline's pure rules: what one Kafka record of a saga contributes to its timeline
// (IndexRecord), how the indexed records become the timeline a client sees (BuildTimeline), and
// who may see it (MaySee). No I/O.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "choreo/gateway/v1/gateway.pb.h"
#include "choreo/gateway/v1/timeline_index.pb.h"
#include "platform/record/record.h"

namespace choreo::gateway::timeline {

// The hop of `record` (any mission topic, dead-letter topics included): routing facts from
// its headers (CloudEvents, traceparent, dlq_*), causation and time from its EventMeta, and the
// saga facts (order id, user, order status; a business failure) from the event itself, read by
// field name from the generated type its ce_type names. A value that cannot be decoded still
// gives a hop (from the headers). NOT_FOUND when the record belongs to no saga (no correlation
// id).
absl::StatusOr<v1::IndexedHop> IndexRecord(const KafkaRecord& record);

// Where a hop is stored within its saga: unique per record ("<topic>/<partition>/<offset>"), so
// indexing a record twice changes nothing.
std::string HopField(const v1::SagaHop& hop);

// The timeline of one saga from its indexed hops (any order): hops in time order with each
// one's latency from its cause (a dead-lettered record: from the original record), the saga's
// start and last update, its order id and user, and the order's latest status.
v1::SagaTimeline BuildTimeline(absl::string_view correlation_id, std::vector<v1::IndexedHop> hops);

// A user sees the sagas they started; the "operator" role sees every saga.
bool MaySee(absl::string_view username, const std::vector<std::string>& roles,
            const v1::SagaTimeline& timeline);

inline constexpr absl::string_view kOperatorRole = "operator";

}  // namespace choreo::gateway::timeline
