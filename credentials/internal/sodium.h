#pragma once

// libsodium glue private to users_credentials: one-time initialisation and base64 in the two
// variants the credential formats use. Not part of the library's API.

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace choreo::credentials::internal {

// Calls sodium_init() once per process (thread-safe). Aborts if libsodium cannot initialise,
// since no key or hash could then be trusted.
void EnsureSodiumInitialized();

enum class Base64Variant {
  kStandard,      // RFC 4648 section 4 with '=' padding (PEM bodies)
  kUrlNoPadding,  // RFC 4648 section 5 without padding (JWS segments, JWK members)
};

std::string Base64Encode(absl::string_view bytes, Base64Variant variant);

// The decoded bytes, or nullopt unless all of `text` is canonical base64 of `variant`.
// Characters in `ignore` (e.g. line breaks in PEM) are skipped.
std::optional<std::string> Base64Decode(absl::string_view text, Base64Variant variant,
                                        const char* ignore = nullptr);

// Overwrites a buffer that held secret material (sodium_memzero: not optimised away).
void WipeSecret(std::string& secret);

}  // namespace choreo::credentials::internal
