#pragma once

// Pure decisions about failures: what to do with a failed reaction, and how long to wait before
// trying again. No I/O, no clock, no randomness of their own (the caller passes a draw).

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace choreo::saga {

enum class FailureAction {
  kRetry,       // transient: pause the partition, back off, try the same record again
  kDeadLetter,  // permanent: copy the record to dlq.<service> and move on
};

// The retry policy follows the status code (STYLE.md):
// - UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, CANCELLED: transient; retried
//   for as long as it takes (nothing is skipped).
// - INVALID_ARGUMENT, FAILED_PRECONDITION, NOT_FOUND, ALREADY_EXISTS, OUT_OF_RANGE,
//   UNIMPLEMENTED, PERMISSION_DENIED, UNAUTHENTICATED, DATA_LOSS: permanent; dead-lettered.
// - Anything else (INTERNAL, UNKNOWN): a bug or an unexpected state; retried up to
//   `max_attempts_unclassified` attempts in all, then dead-lettered, so a partition is never
//   blocked for ever by one record.
FailureAction ClassifyFailure(const absl::Status& status, int attempts,
                              int max_attempts_unclassified);

struct BackoffPolicy {
  absl::Duration initial = absl::Milliseconds(50);
  absl::Duration max = absl::Seconds(5);
  double multiplier = 2.0;
  double jitter = 0.2;  // the delay is spread uniformly over ±20%
};

// The pause before attempt `attempt + 1` after `attempt` failures (attempt >= 1):
// min(max, initial * multiplier^(attempt-1)), spread by ±jitter using `uniform01` in [0, 1).
absl::Duration BackoffDelay(const BackoffPolicy& policy, int attempt, double uniform01);

}  // namespace choreo::saga
