#include "credentials/verified_tokens.h"

#include <string>
#include <utility>

namespace choreo::credentials {

VerifiedTokens::VerifiedTokens(TokenVerifier verifier, size_t capacity)
    : verifier_(std::move(verifier)), capacity_(capacity) {}

absl::StatusOr<TokenClaims> VerifiedTokens::Verify(absl::string_view token, absl::Time now) const {
  {
    absl::MutexLock lock(&mu_);
    if (auto it = accepted_.find(token); it != accepted_.end()) {
      if (now < it->second.expires_at + verifier_.leeway()) return it->second;
      accepted_.erase(it);
      return absl::UnauthenticatedError("token expired");
    }
  }
  absl::StatusOr<TokenClaims> claims = verifier_.Verify(token, now);
  if (!claims.ok()) return claims;
  absl::MutexLock lock(&mu_);
  if (accepted_.size() >= capacity_) accepted_.clear();
  accepted_.emplace(std::string(token), *claims);
  return claims;
}

}  // namespace choreo::credentials
