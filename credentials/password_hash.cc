#include "credentials/password_hash.h"

#include <sodium.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "credentials/internal/sodium.h"

namespace choreo::credentials {
namespace {

// crypto_pwhash_str_* read a NUL-terminated string of at most crypto_pwhash_STRBYTES bytes.
bool FitsEncodedHashBuffer(absl::string_view encoded_hash) {
  return encoded_hash.size() < crypto_pwhash_STRBYTES &&
         encoded_hash.find('\0') == absl::string_view::npos;
}

}  // namespace

absl::StatusOr<std::string> HashPassword(absl::string_view password,
                                         const PasswordHashParams& params) {
  internal::EnsureSodiumInitialized();
  if (params.ops_limit < crypto_pwhash_argon2id_OPSLIMIT_MIN ||
      params.ops_limit > crypto_pwhash_argon2id_OPSLIMIT_MAX) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Argon2id ops_limit ", params.ops_limit, " is outside [",
        crypto_pwhash_argon2id_OPSLIMIT_MIN, ", ", crypto_pwhash_argon2id_OPSLIMIT_MAX, "]"));
  }
  if (params.mem_limit_bytes < crypto_pwhash_argon2id_MEMLIMIT_MIN ||
      params.mem_limit_bytes > crypto_pwhash_argon2id_MEMLIMIT_MAX) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Argon2id mem_limit_bytes ", params.mem_limit_bytes, " is outside [",
        crypto_pwhash_argon2id_MEMLIMIT_MIN, ", ", crypto_pwhash_argon2id_MEMLIMIT_MAX, "]"));
  }
  if (password.size() > crypto_pwhash_argon2id_PASSWD_MAX) {
    return absl::InvalidArgumentError("password is too long to hash");
  }
  char encoded[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(encoded, password.data(), password.size(), params.ops_limit,
                            params.mem_limit_bytes, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return absl::InternalError(absl::StrCat("Argon2id ran out of memory hashing a password (",
                                            params.mem_limit_bytes, " bytes)"));
  }
  return std::string(encoded);
}

bool VerifyPassword(absl::string_view encoded_hash, absl::string_view password) {
  internal::EnsureSodiumInitialized();
  if (!FitsEncodedHashBuffer(encoded_hash)) return false;
  const std::string terminated(encoded_hash);
  return crypto_pwhash_str_verify(terminated.c_str(), password.data(), password.size()) == 0;
}

bool HashNeedsRehash(absl::string_view encoded_hash, const PasswordHashParams& params) {
  internal::EnsureSodiumInitialized();
  if (!FitsEncodedHashBuffer(encoded_hash)) return true;
  const std::string terminated(encoded_hash);
  // 0: Argon2id with these parameters; 1: other parameters; -1: not an Argon2id hash.
  return crypto_pwhash_argon2id_str_needs_rehash(terminated.c_str(), params.ops_limit,
                                                 params.mem_limit_bytes) != 0;
}

}  // namespace choreo::credentials
