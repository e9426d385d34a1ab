#pragma once

// Ed25519 key pairs for signing tokens, kept in standard PEM files that openssl and any JWT
// library read: the private key as PKCS#8 ("-----BEGIN PRIVATE KEY-----", RFC 8410) and the
// public key as SubjectPublicKeyInfo ("-----BEGIN PUBLIC KEY-----").
//
// Keys are immutable values; every method is const and thread-safe. A SigningKey wipes its
// secret from memory when destroyed; PrivatePem() hands the secret out, so treat it as such.

#include <array>
#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace choreo::credentials {

// An Ed25519 public key: verifies signatures made by the matching SigningKey.
class VerifyingKey {
 public:
  static constexpr size_t kSize = 32;

  // INVALID_ARGUMENT unless `pem` holds a "PUBLIC KEY" block with an Ed25519 SPKI.
  static absl::StatusOr<VerifyingKey> FromPem(absl::string_view pem);

  // SPKI PEM: one "-----BEGIN PUBLIC KEY-----" block, ending in a newline.
  std::string PublicPem() const;

  // RFC 7638 JWK thumbprint (SHA-256, base64url without padding): the JWS "kid".
  std::string KeyId() const;

  // True iff `signature` is a valid 64-byte Ed25519 signature of `message` by this key.
  bool Verify(absl::string_view message, absl::string_view signature) const;

  const std::array<unsigned char, kSize>& bytes() const { return bytes_; }

  friend bool operator==(const VerifyingKey&, const VerifyingKey&) = default;

 private:
  explicit VerifyingKey(const std::array<unsigned char, kSize>& bytes) : bytes_(bytes) {}
  friend class SigningKey;

  std::array<unsigned char, kSize> bytes_;
};

// An Ed25519 private key (libsodium's 64-byte form: 32-byte seed followed by the public key).
class SigningKey {
 public:
  static constexpr size_t kSignatureSize = 64;

  // INVALID_ARGUMENT unless `pem` holds a "PRIVATE KEY" block with an Ed25519 PKCS#8 key
  // (the 48-byte form openssl writes, without the optional embedded public key).
  static absl::StatusOr<SigningKey> FromPem(absl::string_view pem);

  // A new key from the operating system's random source.
  static SigningKey Generate();

  SigningKey(const SigningKey&) = default;
  SigningKey& operator=(const SigningKey&) = default;
  SigningKey(SigningKey&&) = default;
  SigningKey& operator=(SigningKey&&) = default;
  ~SigningKey();

  // PKCS#8 PEM: one "-----BEGIN PRIVATE KEY-----" block, ending in a newline.
  std::string PrivatePem() const;

  VerifyingKey verifying_key() const;

  // The 64-byte detached Ed25519 signature of `message`.
  std::string Sign(absl::string_view message) const;

 private:
  static constexpr size_t kSecretSize = 64;
  explicit SigningKey(const std::array<unsigned char, kSecretSize>& secret) : secret_(secret) {}

  std::array<unsigned char, kSecretSize> secret_;
};

// The service's signing key. If `private_path` exists it is loaded, and `public_path` is written
// from it if missing; if `public_path` exists but holds another key, FAILED_PRECONDITION (delete
// it to have it rewritten). Otherwise a new key is generated and written: the private file with
// mode 0600, both files atomically (temporary file + rename), the private one never replacing a
// file another process created meanwhile (that key is loaded instead).
// NOT_FOUND if a directory is missing; INVALID_ARGUMENT naming the file if a file is not a key.
absl::StatusOr<SigningKey> LoadOrCreateSigningKey(const std::string& private_path,
                                                  const std::string& public_path);

// The verifying key in `public_path`: NOT_FOUND if there is no such file, INVALID_ARGUMENT
// naming the file if it is not an Ed25519 public key PEM.
absl::StatusOr<VerifyingKey> LoadVerifyingKey(const std::string& public_path);

}  // namespace choreo::credentials
