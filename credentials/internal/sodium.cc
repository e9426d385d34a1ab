#include "credentials/internal/sodium.h"

#include <sodium.h>

#include <cstdio>
#include <cstdlib>

namespace choreo::credentials::internal {
namespace {

int SodiumVariant(Base64Variant variant) {
  switch (variant) {
    case Base64Variant::kStandard:
      return sodium_base64_VARIANT_ORIGINAL;
    case Base64Variant::kUrlNoPadding:
      return sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  }
  return sodium_base64_VARIANT_ORIGINAL;
}

}  // namespace

void EnsureSodiumInitialized() {
  // sodium_init() is itself safe to call concurrently; the static makes it cost nothing after
  // the first call and gives one place to fail.
  static const bool initialized = [] {
    if (sodium_init() < 0) {
      std::fputs("choreo users_credentials: sodium_init() failed\n", stderr);
      std::abort();
    }
    return true;
  }();
  (void)initialized;
}

std::string Base64Encode(absl::string_view bytes, Base64Variant variant) {
  EnsureSodiumInitialized();
  const int sodium_variant = SodiumVariant(variant);
  // sodium_base64_ENCODED_LEN counts the terminating NUL that sodium_bin2base64 writes.
  std::string encoded(sodium_base64_ENCODED_LEN(bytes.size(), sodium_variant), '\0');
  sodium_bin2base64(encoded.data(), encoded.size(),
                    reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                    sodium_variant);
  encoded.resize(encoded.size() - 1);
  return encoded;
}

std::optional<std::string> Base64Decode(absl::string_view text, Base64Variant variant,
                                        const char* ignore) {
  EnsureSodiumInitialized();
  std::string decoded(text.size() / 4 * 3 + 3, '\0');
  size_t decoded_size = 0;
  // A null b64_end makes libsodium fail unless the whole input was consumed.
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(decoded.data()), decoded.size(),
                        text.data(), text.size(), ignore, &decoded_size,
                        /*b64_end=*/nullptr, SodiumVariant(variant)) != 0) {
    return std::nullopt;
  }
  decoded.resize(decoded_size);
  return decoded;
}

void WipeSecret(std::string& secret) { sodium_memzero(secret.data(), secret.size()); }

}  // namespace choreo::credentials::internal
