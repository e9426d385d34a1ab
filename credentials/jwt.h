#pragma once

// Access tokens: JSON Web Tokens (RFC 7519) signed with Ed25519, JWS alg "EdDSA" (RFC 8037).
//
// TokenIssuer signs; TokenVerifier checks a token and returns its claims. The verifier accepts
// only "EdDSA" with its one key, decided before any signature work, so "alg":"none" and
// algorithm confusion (e.g. an HS256 token keyed with the public key) are refused. Both classes
// are immutable after construction: thread-safe, cheap to call, no I/O; time is passed in.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "credentials/signing_keys.h"

namespace choreo::credentials {

// What a verified token says. Times are JWT NumericDates (whole seconds from TokenIssuer).
struct TokenClaims {
  std::string subject;             // "sub": the username
  std::vector<std::string> roles;  // "roles": empty if absent
  absl::Time issued_at;            // "iat": absl::InfinitePast() if absent
  absl::Time expires_at;           // "exp": always present
  std::string token_id;            // "jti": empty if absent
};

class TokenIssuer {
 public:
  // Tokens carry `issuer` as "iss", the key's KeyId() as "kid", and expire `lifetime` (positive)
  // after they are issued.
  TokenIssuer(SigningKey key, std::string issuer, absl::Duration lifetime);

  struct Issued {
    std::string token;      // compact JWS: header.payload.signature
    absl::Time expires_at;  // the token's "exp"
  };

  // A token for `subject` with "iat" = "nbf" = `now` (rounded down to the second), a random
  // 128-bit "jti" and `roles`.
  Issued Issue(absl::string_view subject, std::vector<std::string> roles, absl::Time now) const;

 private:
  SigningKey key_;
  std::string issuer_;
  absl::Duration lifetime_;
  std::string key_id_;
};

class TokenVerifier {
 public:
  // Accepts tokens from `issuer` signed by `key`; `leeway` absorbs clock skew between the
  // issuing and the verifying host on "exp", "nbf" and "iat".
  TokenVerifier(VerifyingKey key, std::string issuer, absl::Duration leeway = absl::Seconds(30));

  // The claims of `token` at `now`, or UNAUTHENTICATED with a short reason that is safe to show
  // a client ("malformed token", "algorithm not allowed", "bad signature", "token expired",
  // "wrong issuer", ...). Never reveals key material or which byte was wrong.
  absl::StatusOr<TokenClaims> Verify(absl::string_view token, absl::Time now) const;

  absl::Duration leeway() const { return leeway_; }

 private:
  VerifyingKey key_;
  std::string issuer_;
  absl::Duration leeway_;
  std::string key_id_;
};

}  // namespace choreo::credentials
