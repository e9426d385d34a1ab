#pragma once

// Password hashing with Argon2id (libsodium crypto_pwhash).
//
// Hashes are self-describing PHC strings ("$argon2id$v=19$m=...,t=...,p=1$salt$hash") with a
// fresh random salt each, so they are stored as they are and verified without any other state.
// All functions are thread-safe. Hashing and verifying deliberately take tens of milliseconds
// and `mem_limit_bytes` of memory: call them off any gRPC reactor or poll loop.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace choreo::credentials {

// Argon2id cost. The defaults are OWASP's minimum recommendation for Argon2id (Password Storage
// Cheat Sheet: m = 19 MiB, t = 2, p = 1); raise them, never lower them, in production.
struct PasswordHashParams {
  uint64_t ops_limit = 2;                     // t: passes over memory
  size_t mem_limit_bytes = 19 * 1024 * 1024;  // m: bytes of memory per hash
};

// The encoded "$argon2id$..." string for `password` with a new random salt.
// INVALID_ARGUMENT if `params` are below libsodium's minimum or the password is absurdly long;
// INTERNAL if the memory could not be allocated.
absl::StatusOr<std::string> HashPassword(absl::string_view password,
                                         const PasswordHashParams& params);

// True iff `encoded_hash` (from HashPassword) is a hash of `password`. False for any malformed
// hash. Constant-time in the password comparison.
bool VerifyPassword(absl::string_view encoded_hash, absl::string_view password);

// True if `encoded_hash` is not an Argon2id hash made with exactly `params` (including when it
// is malformed): after a successful VerifyPassword, hash the password again and store the result.
bool HashNeedsRehash(absl::string_view encoded_hash, const PasswordHashParams& params);

}  // namespace choreo::credentials
