#pragma once

// The bytes a "handled" marker holds (ARCHITECTURE.md §3 step 5): the exact records a reaction
// published, so that a re-delivered event, or an outbox relay, re-publishes them byte for byte
// with the same event ids. A record whose headers are the CloudEvents headers EventCodec derives
// from its value (codec::EventHeaders) is stored with only its ce_specversion and ce_type, and
// the rest are derived again on reading: the same bytes as long as the codec's header rules stay
// the same. A reader of before this re-publishes such a record with those two headers, which is
// all EventCodec::Decode needs.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "platform/record/record.h"

namespace choreo::store {

std::string EncodeHandledOutcome(const std::vector<KafkaRecord>& records);

// The records EncodeHandledOutcome was given, headers included. DATA_LOSS when `bytes` is not an
// encoded outcome, or a record stored without its headers has a value they cannot be derived
// from.
absl::StatusOr<std::vector<KafkaRecord>> DecodeHandledOutcome(const std::string& bytes);

}  // namespace choreo::store
