#include "saga/runtime/retry_policy.h"

#include <algorithm>
#include <cmath>

namespace choreo::saga {

FailureAction ClassifyFailure(const absl::Status& status, int attempts,
                              int max_attempts_unclassified) {
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kCancelled:
      return FailureAction::kRetry;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kUnimplemented:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kDataLoss:
      return FailureAction::kDeadLetter;
    default:
      return attempts >= max_attempts_unclassified ? FailureAction::kDeadLetter
                                                   : FailureAction::kRetry;
  }
}

absl::Duration BackoffDelay(const BackoffPolicy& policy, int attempt, double uniform01) {
  const double exponent = std::max(0, attempt - 1);
  const double base_seconds =
      std::min(absl::ToDoubleSeconds(policy.max),
               absl::ToDoubleSeconds(policy.initial) * std::pow(policy.multiplier, exponent));
  const double spread = 1.0 - policy.jitter + 2.0 * policy.jitter * std::clamp(uniform01, 0.0, 1.0);
  return absl::Seconds(base_seconds * spread);
}

}  // namespace choreo::saga
