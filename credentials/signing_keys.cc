#include "credentials/signing_keys.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "credentials/internal/sodium.h"

namespace choreo::credentials {
namespace {

using internal::Base64Variant;

// DER of PKCS#8 OneAsymmetricKey v1 for id-Ed25519 (OID 1.3.101.112, RFC 8410 section 7),
// followed by the 32-byte seed.
constexpr unsigned char kPkcs8Prefix[] = {0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
                                          0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20};
// DER of SubjectPublicKeyInfo for id-Ed25519, followed by the 32-byte public key.
constexpr unsigned char kSpkiPrefix[] = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03,
                                         0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};
constexpr size_t kSeedSize = crypto_sign_SEEDBYTES;
static_assert(kSeedSize == 32 && VerifyingKey::kSize == crypto_sign_PUBLICKEYBYTES);
static_assert(SigningKey::kSignatureSize == crypto_sign_BYTES);

constexpr absl::string_view kPrivateLabel = "PRIVATE KEY";
constexpr absl::string_view kPublicLabel = "PUBLIC KEY";
constexpr size_t kMaxKeyFileBytes = 64 * 1024;

absl::string_view AsChars(const unsigned char* data, size_t size) {
  return absl::string_view(reinterpret_cast<const char*>(data), size);
}

std::string EncodePem(absl::string_view label, absl::string_view der) {
  const std::string body = internal::Base64Encode(der, Base64Variant::kStandard);
  std::string pem = absl::StrCat("-----BEGIN ", label, "-----\n");
  for (size_t at = 0; at < body.size(); at += 64) {
    absl::StrAppend(&pem, absl::string_view(body).substr(at, 64), "\n");
  }
  absl::StrAppend(&pem, "-----END ", label, "-----\n");
  return pem;
}

// The DER bytes of the first `label` block in `pem`. Text around the block is ignored, as
// openssl does.
absl::StatusOr<std::string> DecodePem(absl::string_view pem, absl::string_view label) {
  const std::string begin = absl::StrCat("-----BEGIN ", label, "-----");
  const std::string end = absl::StrCat("-----END ", label, "-----");
  const size_t begin_at = pem.find(begin);
  if (begin_at == absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("no \"", begin, "\" line"));
  }
  const size_t body_at = begin_at + begin.size();
  const size_t end_at = pem.find(end, body_at);
  if (end_at == absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("no \"", end, "\" line"));
  }
  std::optional<std::string> der = internal::Base64Decode(pem.substr(body_at, end_at - body_at),
                                                          Base64Variant::kStandard, " \t\r\n");
  if (!der.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(label, " block is not valid base64"));
  }
  return *std::move(der);
}

bool HasPrefix(absl::string_view der, const unsigned char* prefix, size_t prefix_size) {
  return der.size() >= prefix_size && std::memcmp(der.data(), prefix, prefix_size) == 0;
}

absl::Status WithPath(const absl::Status& status, absl::string_view what, absl::string_view path) {
  return absl::Status(status.code(), absl::StrCat(what, " ", path, ": ", status.message()));
}

absl::Status ErrnoError(int error, absl::string_view action, absl::string_view path) {
  return absl::ErrnoToStatus(error, absl::StrCat("cannot ", action, " ", path));
}

// The whole of a small file. NOT_FOUND if it does not exist.
absl::StatusOr<std::string> ReadKeyFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError(errno, "open", path);
  std::string contents;
  char buffer[4096];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      return ErrnoError(error, "read", path);
    }
    if (n == 0) break;
    contents.append(buffer, static_cast<size_t>(n));
    if (contents.size() > kMaxKeyFileBytes) {
      ::close(fd);
      return absl::InvalidArgumentError(
          absl::StrCat(path, " is larger than ", kMaxKeyFileBytes, " bytes: not a key file"));
    }
  }
  ::close(fd);
  return contents;
}

enum class Replace { kYes, kNo };

// Writes `contents` to a temporary file beside `path` with `mode`, syncs it, then moves it to
// `path` in one step, so readers see either no file or the whole file. With Replace::kNo an
// existing `path` is left alone and ALREADY_EXISTS returned.
absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents, mode_t mode,
                                 Replace replace) {
  std::string temp_path = absl::StrCat(path, ".tmp-XXXXXX");
  const int fd = ::mkstemp(temp_path.data());  // created with mode 0600
  if (fd < 0) return ErrnoError(errno, "create a temporary file for", path);
  auto fail = [&](int error, absl::string_view action) {
    ::close(fd);
    ::unlink(temp_path.c_str());
    return ErrnoError(error, action, temp_path);
  };
  if (::fchmod(fd, mode) != 0) return fail(errno, "chmod");
  for (size_t written = 0; written < contents.size();) {
    const ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(errno, "write");
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return fail(errno, "fsync");
  if (::close(fd) != 0) {
    const int error = errno;
    ::unlink(temp_path.c_str());
    return ErrnoError(error, "close", temp_path);
  }
  // link() fails with EEXIST instead of replacing; rename() replaces.
  const int moved = replace == Replace::kYes ? ::rename(temp_path.c_str(), path.c_str())
                                             : ::link(temp_path.c_str(), path.c_str());
  const int error = errno;
  if (moved != 0 || replace == Replace::kNo) ::unlink(temp_path.c_str());
  if (moved != 0 && error == EEXIST) {
    return absl::AlreadyExistsError(absl::StrCat(path, " was created by someone else"));
  }
  if (moved != 0) return ErrnoError(error, "move a temporary file to", path);
  return absl::OkStatus();
}

absl::StatusOr<SigningKey> LoadSigningKeyFile(const std::string& path) {
  absl::StatusOr<std::string> pem = ReadKeyFile(path);
  if (!pem.ok()) return pem.status();
  absl::StatusOr<SigningKey> key = SigningKey::FromPem(*pem);
  internal::WipeSecret(*pem);
  if (!key.ok()) return WithPath(key.status(), "signing key file", path);
  return key;
}

// Writes the public half of `key` to `public_path` if there is no such file; checks that an
// existing file holds the same key.
absl::Status EnsurePublicKeyFile(const SigningKey& key, const std::string& private_path,
                                 const std::string& public_path) {
  const VerifyingKey expected = key.verifying_key();
  absl::StatusOr<VerifyingKey> existing = LoadVerifyingKey(public_path);
  if (absl::IsNotFound(existing.status())) {
    return WriteFileAtomically(public_path, expected.PublicPem(), 0644, Replace::kYes);
  }
  if (!existing.ok()) return existing.status();
  if (!(*existing == expected)) {
    return absl::FailedPreconditionError(
        absl::StrCat("verifying key file ", public_path, " does not match signing key file ",
                     private_path, " (delete it to have it rewritten)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<VerifyingKey> VerifyingKey::FromPem(absl::string_view pem) {
  absl::StatusOr<std::string> der = DecodePem(pem, kPublicLabel);
  if (!der.ok()) return der.status();
  if (der->size() != sizeof kSpkiPrefix + kSize ||
      !HasPrefix(*der, kSpkiPrefix, sizeof kSpkiPrefix)) {
    return absl::InvalidArgumentError("not an Ed25519 SubjectPublicKeyInfo public key");
  }
  std::array<unsigned char, kSize> bytes;
  std::memcpy(bytes.data(), der->data() + sizeof kSpkiPrefix, kSize);
  return VerifyingKey(bytes);
}

std::string VerifyingKey::PublicPem() const {
  return EncodePem(kPublicLabel, absl::StrCat(AsChars(kSpkiPrefix, sizeof kSpkiPrefix),
                                              AsChars(bytes_.data(), bytes_.size())));
}

std::string VerifyingKey::KeyId() const {
  // RFC 7638: the required members of the JWK (RFC 8037 OKP), in lexicographic order, no
  // whitespace.
  const std::string jwk = absl::StrCat(
      R"({"crv":"Ed25519","kty":"OKP","x":")",
      internal::Base64Encode(AsChars(bytes_.data(), bytes_.size()), Base64Variant::kUrlNoPadding),
      R"("})");
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(jwk.data()), jwk.size());
  return internal::Base64Encode(AsChars(digest, sizeof digest), Base64Variant::kUrlNoPadding);
}

bool VerifyingKey::Verify(absl::string_view message, absl::string_view signature) const {
  internal::EnsureSodiumInitialized();
  if (signature.size() != crypto_sign_BYTES) return false;
  return crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature.data()),
                                     reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(), bytes_.data()) == 0;
}

absl::StatusOr<SigningKey> SigningKey::FromPem(absl::string_view pem) {
  internal::EnsureSodiumInitialized();
  absl::StatusOr<std::string> der = DecodePem(pem, kPrivateLabel);
  if (!der.ok()) return der.status();
  if (der->size() != sizeof kPkcs8Prefix + kSeedSize ||
      !HasPrefix(*der, kPkcs8Prefix, sizeof kPkcs8Prefix)) {
    internal::WipeSecret(*der);
    return absl::InvalidArgumentError("not an Ed25519 PKCS#8 private key");
  }
  std::array<unsigned char, crypto_sign_PUBLICKEYBYTES> public_key;
  std::array<unsigned char, kSecretSize> secret;
  crypto_sign_seed_keypair(
      public_key.data(), secret.data(),
      reinterpret_cast<const unsigned char*>(der->data()) + sizeof kPkcs8Prefix);
  internal::WipeSecret(*der);
  SigningKey key(secret);
  sodium_memzero(secret.data(), secret.size());
  return key;
}

SigningKey SigningKey::Generate() {
  internal::EnsureSodiumInitialized();
  std::array<unsigned char, crypto_sign_PUBLICKEYBYTES> public_key;
  std::array<unsigned char, kSecretSize> secret;
  crypto_sign_keypair(public_key.data(), secret.data());
  SigningKey key(secret);
  sodium_memzero(secret.data(), secret.size());
  return key;
}

SigningKey::~SigningKey() { sodium_memzero(secret_.data(), secret_.size()); }

std::string SigningKey::PrivatePem() const {
  std::array<unsigned char, kSeedSize> seed;
  crypto_sign_ed25519_sk_to_seed(seed.data(), secret_.data());
  std::string der =
      absl::StrCat(AsChars(kPkcs8Prefix, sizeof kPkcs8Prefix), AsChars(seed.data(), seed.size()));
  sodium_memzero(seed.data(), seed.size());
  std::string pem = EncodePem(kPrivateLabel, der);
  internal::WipeSecret(der);
  return pem;
}

VerifyingKey SigningKey::verifying_key() const {
  std::array<unsigned char, VerifyingKey::kSize> public_key;
  crypto_sign_ed25519_sk_to_pk(public_key.data(), secret_.data());
  return VerifyingKey(public_key);
}

std::string SigningKey::Sign(absl::string_view message) const {
  std::string signature(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(signature.data()), nullptr,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                       secret_.data());
  return signature;
}

absl::StatusOr<SigningKey> LoadOrCreateSigningKey(const std::string& private_path,
                                                  const std::string& public_path) {
  absl::StatusOr<SigningKey> key = LoadSigningKeyFile(private_path);
  if (absl::IsNotFound(key.status())) {
    SigningKey generated = SigningKey::Generate();
    std::string pem = generated.PrivatePem();
    const absl::Status written = WriteFileAtomically(private_path, pem, 0600, Replace::kNo);
    internal::WipeSecret(pem);
    if (absl::IsAlreadyExists(written)) {
      key = LoadSigningKeyFile(private_path);  // another process won the race: use its key
    } else if (!written.ok()) {
      return written;
    } else {
      key = std::move(generated);
    }
  }
  if (!key.ok()) return key.status();
  if (absl::Status status = EnsurePublicKeyFile(*key, private_path, public_path); !status.ok()) {
    return status;
  }
  return key;
}

absl::StatusOr<VerifyingKey> LoadVerifyingKey(const std::string& public_path) {
  absl::StatusOr<std::string> pem = ReadKeyFile(public_path);
  if (!pem.ok()) return pem.status();
  absl::StatusOr<VerifyingKey> key = VerifyingKey::FromPem(*pem);
  if (!key.ok()) return WithPath(key.status(), "verifying key file", public_path);
  return key;
}

}  // namespace choreo::credentials
