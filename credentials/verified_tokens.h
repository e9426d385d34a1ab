#pragma once

// VerifiedTokens: a TokenVerifier that remembers the tokens it accepted, so that a client calling
// many times with one token pays for one signature check and one JSON parse, not one per call.
//
// Promises:
// - A token is remembered by its exact text (header, payload and signature), only after the
//   verifier accepted it; a refused token is checked in full every time.
// - A remembered token is still checked against `now` on every call: past its expiry (with the
//   verifier's leeway) it is refused as "token expired" and forgotten. (Not-before and issued-at
//   only get truer as time passes.)
// - At most `capacity` tokens are remembered; when full, everything is forgotten at once (a flood
//   of distinct valid tokens then costs what no cache costs, never more memory).
// Thread-safe.

#include <cstddef>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "credentials/jwt.h"

namespace choreo::credentials {

class VerifiedTokens {
 public:
  explicit VerifiedTokens(TokenVerifier verifier, size_t capacity = 10000);

  // As TokenVerifier::Verify.
  absl::StatusOr<TokenClaims> Verify(absl::string_view token, absl::Time now) const;

 private:
  const TokenVerifier verifier_;
  const size_t capacity_;
  mutable absl::Mutex mu_;
  mutable absl::flat_hash_map<std::string, TokenClaims> accepted_ ABSL_GUARDED_BY(mu_);
};

}  // namespace choreo::credentials
