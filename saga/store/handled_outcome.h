#pragma once

// The bytes a "handled" marker holds (ARCHITECTURE.md §3 step 5): the exact records a reaction
// published, so that a re-delivered event, or an outbox relay, re-publishes them byte for byte
// with the same event ids. A record whose headers are the CloudEvents headers EventCodec derives
// from its value (codec::EventHeaders) may be stored with only its ce_specversion and ce_type
// (MarkerHeaders::kDerived), the rest derived again on reading: the same bytes as long as the
// codec's header rules stay the same.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "platform/record/record.h"

namespace choreo::store {

// Which headers a marker stores of a record whose headers the codec derives from its value.
enum class MarkerHeaders {
  // Only ce_specversion and ce_type, about 340 bytes a record less. A release of before
  // 2026-12-04 cannot derive the rest: re-publishing from such a marker, it would send the record
  // with those two alone (its consumers decode it, but without its ids and trace context in the
  // headers their traces, logs and dead-letter entries lose them).
  kDerived,
  // Every header, as releases of before 2026-12-04 stored them: for a rolling upgrade from such a
  // release and while a rollback to it stays possible (--full-marker-headers).
  kAll,
};

std::string EncodeHandledOutcome(const std::vector<KafkaRecord>& records,
                                 MarkerHeaders headers = MarkerHeaders::kDerived);

// The records EncodeHandledOutcome was given, headers included. DATA_LOSS when `bytes` is not an
// encoded outcome, or a record stored without its headers has a value they cannot be derived
// from.
absl::StatusOr<std::vector<KafkaRecord>> DecodeHandledOutcome(const std::string& bytes);

}  // namespace choreo::store
