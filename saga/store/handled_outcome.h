#pragma once

// The bytes a "handled" marker holds (ARCHITECTURE.md §3 step 5): the exact records a reaction
// published, so that a re-delivered event, or an outbox relay, re-publishes them byte for byte
// with the same event ids.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "platform/record/record.h"

namespace choreo::store {

std::string EncodeHandledOutcome(const std::vector<KafkaRecord>& records);

// DATA_LOSS when `bytes` is not an encoded outcome.
absl::StatusOr<std::vector<KafkaRecord>> DecodeHandledOutcome(const std::string& bytes);

}  // namespace choreo::store
